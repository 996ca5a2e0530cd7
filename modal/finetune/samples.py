"""Write small sample CSVs in every supported row shape, for demos and tests.

The text is written for this project from a table of travel facts, so the files are
free to ship. Each file has enough varied rows (50-70) that a tiny model's training loss
falls within a few dozen steps, plus a few rows that the pipeline must drop.

    python -m finetune.samples OUT_DIR

writes travel_conversations.csv (the 9-column schema of the Hugging Face dataset
soniawmeyer/travel-conversations-finetuning), transcripts.csv and qa_quality.csv. The
copies in modal/samples/ were written by this module, and a test checks they still match.
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20261204
TRAVEL_COLUMNS = [
    "data_type",
    "source",
    "filename",
    "data",
    "combined",
    "cause_clean",
    "bert_summary",
    "bert_topic",
    "topic_assignment",
]
TOPICS = {
    "itinerary": (4, "4_itinerary_days_plan"),
    "food": (11, "11_food_eat_restaurant"),
    "transport": (17, "17_train_airport_bus"),
    "budget": (23, "23_budget_cost_cheap"),
    "season": (31, "31_weather_month_season"),
}


@dataclass(frozen=True)
class City:
    name: str
    country: str
    sights: tuple[str, str, str]
    food: tuple[str, str]
    airport: str
    season: str
    budget: int
    area: str
    day_trip: str
    tip: str


CITIES = [
    City("Lisbon", "Portugal", ("the Alfama quarter", "Belem Tower", "the Gulbenkian Museum"), ("pasteis de nata", "grilled sardines"), "the red metro line runs from the airport to the centre in about 25 minutes", "April to June, when it is warm but not crowded", 90, "Baixa or Principe Real", "Sintra", "wear shoes with grip, because the cobbles are slippery"),
    City("Porto", "Portugal", ("the Ribeira waterfront", "Livraria Lello", "the port cellars of Gaia"), ("francesinha", "bacalhau"), "metro line E goes from the airport to Trindade in about 30 minutes", "May to September", 75, "Ribeira or Bolhao", "the Douro Valley", "book a cellar tour in the morning, when groups are smaller"),
    City("Rome", "Italy", ("the Colosseum", "the Pantheon", "the Vatican Museums"), ("cacio e pepe", "supplì"), "the Leonardo Express train reaches Termini in 32 minutes", "April, May, September and October", 120, "Monti or Trastevere", "Tivoli", "book the Vatican Museums online to skip a long queue"),
    City("Florence", "Italy", ("the Duomo", "the Uffizi Gallery", "Piazzale Michelangelo"), ("bistecca alla fiorentina", "lampredotto"), "the T2 tram connects the airport with the station in about 20 minutes", "late April to early June", 110, "Santo Spirito or San Lorenzo", "Siena", "climb the Duomo early, as slots sell out by noon"),
    City("Paris", "France", ("the Louvre", "Montmartre", "the Musee d'Orsay"), ("croissants", "steak frites"), "the RER B train goes from Charles de Gaulle to the centre in about 35 minutes", "May, June and September", 150, "the Marais or the Latin Quarter", "Versailles", "many museums are free on the first Sunday of the month"),
    City("Barcelona", "Spain", ("the Sagrada Familia", "Park Guell", "the Gothic Quarter"), ("patatas bravas", "seafood paella"), "the Aerobus reaches Placa de Catalunya in about 35 minutes", "May, June and late September", 110, "Gracia or El Born", "Montserrat", "keep your phone in a front pocket on Las Ramblas"),
    City("Kyoto", "Japan", ("Fushimi Inari", "Kinkaku-ji", "the Arashiyama bamboo grove"), ("kaiseki", "matcha sweets"), "the Haruka express runs from Kansai airport in about 75 minutes", "late March for blossoms or November for maples", 130, "Higashiyama or near Kyoto Station", "Nara", "visit Fushimi Inari at sunrise, before the tour buses"),
    City("Tokyo", "Japan", ("Senso-ji", "the Meiji Shrine", "the Shibuya crossing"), ("sushi at Tsukiji outer market", "ramen"), "the Keikyu line reaches Shinagawa from Haneda in about 15 minutes", "March to May and October to November", 140, "Shinjuku or Asakusa", "Nikko", "get a Suica card, because it works on almost every train"),
    City("Hanoi", "Vietnam", ("the Old Quarter", "Hoan Kiem Lake", "the Temple of Literature"), ("pho", "bun cha"), "bus 86 runs from Noi Bai airport to the Old Quarter in about 45 minutes", "October to December", 45, "the Old Quarter", "Ha Long Bay", "cross streets at a steady pace so scooters can flow around you"),
    City("Bangkok", "Thailand", ("the Grand Palace", "Wat Arun", "Chatuchak market"), ("pad kra pao", "mango sticky rice"), "the Airport Rail Link reaches Phaya Thai in about 26 minutes", "November to February", 55, "Silom or near the river", "Ayutthaya", "cover shoulders and knees for temple visits"),
    City("Mexico City", "Mexico", ("the Zocalo", "the Frida Kahlo Museum", "Chapultepec Park"), ("tacos al pastor", "mole"), "metro line 5 or an authorised taxi from the airport takes 30 to 45 minutes", "March to May", 70, "Roma Norte or Condesa", "Teotihuacan", "drink bottled water and carry small change for street food"),
    City("Lima", "Peru", ("the Historic Centre", "Barranco", "the Larco Museum"), ("ceviche", "lomo saltado"), "the Airport Express Lima bus runs to Miraflores in about an hour", "December to April, the sunny summer", 65, "Miraflores or Barranco", "the Pachacamac ruins", "eat ceviche at lunch, as locals do, when the fish is freshest"),
    City("Marrakech", "Morocco", ("Jemaa el-Fnaa", "the Bahia Palace", "the Majorelle Garden"), ("tagine", "harira soup"), "the airport bus 19 reaches Jemaa el-Fnaa in about 30 minutes", "March to May and October", 60, "a riad inside the medina", "the Atlas Mountains", "agree on a price before any ride or guided walk"),
    City("Reykjavik", "Iceland", ("Hallgrimskirkja", "the Harpa concert hall", "the Old Harbour"), ("lamb soup", "skyr"), "the Flybus takes about 45 minutes from Keflavik to the city", "June to August for long days, or winter for the northern lights", 170, "the area around Laugavegur", "the Golden Circle", "check road conditions every morning before driving"),
    City("Istanbul", "Turkey", ("the Hagia Sophia", "the Grand Bazaar", "the Bosphorus ferries"), ("simit", "iskender kebab"), "the M11 metro and the Havaist buses run from the new airport in about an hour", "April to May and September to October", 80, "Sultanahmet or Karakoy", "the Princes' Islands", "a ferry across the Bosphorus costs little and beats a tour boat"),
    City("Prague", "Czechia", ("Charles Bridge", "Prague Castle", "the Old Town Square"), ("svickova", "trdelnik"), "bus 119 to Nadrazi Veleslavin, then metro line A, takes about 35 minutes", "May and September", 85, "Mala Strana or Vinohrady", "Kutna Hora", "buy transit tickets before boarding, since inspectors fine on the spot"),
]


def _itinerary(city: City, days: int) -> str:
    plans = [
        f"Day 1: Start with {city.sights[0]}, then have {city.food[0]} for lunch.",
        f"Day 2: See {city.sights[1]} in the morning and spend the evening in {city.area}.",
        f"Day 3: Visit {city.sights[2]} and try {city.food[1]} for dinner.",
        f"Day 4: Take a day trip to {city.day_trip} and return for a late meal.",
    ]
    return "\n".join(plans[:days]) + f"\nTip: {city.tip}."


def _ultrachat(city: City, rng: random.Random) -> list[str]:
    days = rng.choice([2, 3, 4])
    turns = [
        f"I am planning {days} days in {city.name}. Can you suggest an itinerary?",
        f"Here is a {days}-day plan for {city.name}:\n{_itinerary(city, days)}",
        f"What should I eat while I am in {city.name}?",
        f"Try {city.food[0]} and {city.food[1]}. Locals eat them in small places around {city.area}, "
        f"which are cheaper than the restaurants next to {city.sights[0]}.",
    ]
    if rng.random() < 0.5:
        turns += [
            f"How do I get from the airport to the centre of {city.name}?",
            f"The easiest way: {city.airport}.",
        ]
    return turns


def _dolly(city: City, rng: random.Random, kind: str | None = None) -> dict[str, str]:
    kind = kind or rng.choice(["season", "budget", "area"])
    if kind == "food":
        return {
            "category": "summarization",
            "instruction": f"Summarise what a first-time visitor should eat in {city.name}.",
            "context": f"Visitors to {city.name} often ask about {city.food[0]} and "
            f"{city.food[1]}. The best places are small family restaurants in {city.area}.",
            "response": f"Eat {city.food[0]} and {city.food[1]}, ideally in a small family "
            f"restaurant in {city.area}.",
        }
    if kind == "season":
        return {
            "category": "open_qa",
            "instruction": f"When is the best time to visit {city.name}?",
            "context": "",
            "response": f"The best time to visit {city.name} is {city.season}.",
        }
    if kind == "budget":
        return {
            "category": "closed_qa",
            "instruction": f"How much money per day do I need in {city.name}?",
            "context": f"{city.name} is in {city.country}. A mid-range traveller sleeps in a "
            f"guesthouse, eats out twice a day and uses public transport.",
            "response": f"Plan on about {city.budget} US dollars per day in {city.name} for a "
            "mid-range trip, including a room, meals and local transport.",
        }
    return {
        "category": "brainstorming",
        "instruction": f"Which neighbourhood should I stay in when visiting {city.name}?",
        "context": "",
        "response": f"Stay in {city.area}. It is close to {city.sights[0]} and has good food.",
    }


def _reddit(city: City, rng: random.Random) -> dict[str, object]:
    days = rng.choice([3, 5, 7])
    return {
        "title": f"First time in {city.name}, {days} days: what should I not miss?",
        "selftext": rng.choice(["", "[removed]", f"Going next month with a budget of about {city.budget} a day."]),
        "comments": [
            "[deleted]",
            "This!",
            f"Don't miss {city.sights[1]}, and take a day for {city.day_trip}. Also, {city.tip}.",
            f"Seconding {city.sights[2]}.",
        ],
        "score": rng.randint(3, 900),
        "ups": rng.randint(3, 900),
        "url": f"https://www.reddit.com/r/travel/comments/sample{rng.randint(1000, 9999)}/",
        "id": f"s{rng.randint(10000, 99999)}",
    }


def _travel_row(source: str, data: object, topic: str, rng: random.Random) -> list[str]:
    number, label = TOPICS[topic]
    text = repr(data)
    return [
        rng.choice(["train", "train", "train", "test"]),
        source,
        f"{source}_travel.json",
        text,
        text.replace("\n", " ")[:300],
        text.lower().replace("\n", " ")[:200],
        f"{source} record about {topic}",
        label,
        str(number),
    ]


def travel_conversation_rows(seed: int = SEED) -> list[list[str]]:
    """Rows in the 9-column travel schema: ultrachat, dolly and reddit, plus bad rows."""
    rng = random.Random(seed)
    rows = []
    for city in CITIES:
        rows.append(_travel_row("ultrachat", _ultrachat(city, rng), "itinerary", rng))
        rows.append(_travel_row("dolly", _dolly(city, rng), rng.choice(["season", "budget"]), rng))
        rows.append(_travel_row("reddit", _reddit(city, rng), "itinerary", rng))
        rows.append(_travel_row("dolly", _dolly(city, rng, "food"), "food", rng))
    rng.shuffle(rows)

    # Rows the pipeline must drop: two truncated literals, one record of unknown
    # structure, one reddit thread without a usable comment, and one exact duplicate.
    broken = _travel_row("ultrachat", ["Is Oslo expensive?", "Yes"], "budget", rng)
    broken[3] = "['Is Oslo expensive?', 'Yes, plan on"
    truncated = _travel_row("dolly", {"instruction": "x"}, "food", rng)
    truncated[3] = "{'instruction': 'Best bakery in Vienna?', 'response': 'Try"
    unknown = _travel_row("dolly", {"question": "Visa for Chile?", "answer": "Not for EU citizens."}, "season", rng)
    no_comment = _travel_row("reddit", {"title": "Is Iceland worth it?", "selftext": "", "comments": ["[deleted]", "yes"]}, "season", rng)
    rows[7:7] = [broken]
    rows[21:21] = [truncated, unknown]
    rows[40:40] = [no_comment, list(rows[3])]
    return rows


def _transcript(city: City, rng: random.Random) -> str:
    days = rng.choice([2, 3])
    text = (
        f"Human: Can you plan {days} days in {city.name} for me?\n"
        "I like food and walking.\n"
        f"Assistant: Sure. {_itinerary(city, days)}\n"
        f"Human: Is {city.name} expensive?\n"
        f"Assistant: A mid-range day costs about {city.budget} US dollars.\n"
        f"Staying in {city.area} keeps you close to {city.sights[0]}."
    )
    if rng.random() < 0.4:
        text += f"\nHuman: When should I go?\nAssistant: Go {city.season}."
    return text


def transcript_rows(seed: int = SEED) -> list[list[str]]:
    """Rows of `id, conversation_text, topic`, with three malformed transcripts."""
    rng = random.Random(seed + 1)
    texts = [(_transcript(city, rng), "itinerary") for city in CITIES]
    texts += [
        (
            f"Human: How do I get from the airport to central {city.name}?\n"
            f"Assistant: {city.airport[0].upper()}{city.airport[1:]}.\n"
            "Buy the ticket before you board.",
            "transport",
        )
        for city in CITIES
    ]
    texts += [
        (f"Human: What food should I try in {city.name}?\nAssistant: Start with {city.food[0]}, then {city.food[1]}.", "food")
        for city in CITIES
    ]
    rng.shuffle(texts)
    texts[5:5] = [("Assistant: Hello!\nHuman: Hi, where should I go?", "itinerary")]
    texts[18:18] = [("Travel notes without any speaker markers.", "food")]
    texts[30:30] = [("Human: Is Hanoi safe at night?", "transport")]
    return [[str(index + 1), text, topic] for index, (text, topic) in enumerate(texts)]


def qa_rows(seed: int = SEED) -> list[list[str]]:
    """Rows of `question, answer, quality_score, topic`; some are below the 7.0 default."""
    rng = random.Random(seed + 2)
    rows = []
    for city in CITIES:
        rows.append([f"What are the top sights in {city.name}?", f"Start with {city.sights[0]}, {city.sights[1]} and {city.sights[2]}.", "", "itinerary"])
        rows.append([f"What local dishes should I try in {city.name}?", f"Try {city.food[0]} and {city.food[1]}.", "", "food"])
        rows.append([f"How do I get into {city.name} from the airport?", f"{city.airport[0].upper()}{city.airport[1:]}.", "", "transport"])
        rows.append([f"What is a realistic daily budget for {city.name}?", f"About {city.budget} US dollars per day for a mid-range trip.", "", "budget"])
    for row in rows:
        row[2] = f"{rng.uniform(7.0, 10.0):.1f}"
    rng.shuffle(rows)
    for index in (2, 9, 15, 27, 33):
        rows[index][2] = f"{rng.uniform(2.0, 6.9):.1f}"
    rows[40:40] = [
        ["Is tap water safe in Reykjavik?", "NA", "8.0", "safety"],
        ["Do I need a visa for Peru?", "", "9.0", "visa"],
        ["Hi", "Yes", "9.5", "food"],
    ]
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write rows as a UTF-8 CSV with CRLF line ends, quoting cells as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_samples(folder: str | Path) -> dict[str, Path]:
    """Write every sample CSV into `folder` and return their paths by shape."""
    target = Path(folder)
    return {
        "travel_literal": write_csv(target / "travel_conversations.csv", TRAVEL_COLUMNS, travel_conversation_rows()),
        "transcript": write_csv(target / "transcripts.csv", ["id", "conversation_text", "topic"], transcript_rows()),
        "question_answer": write_csv(target / "qa_quality.csv", ["question", "answer", "quality_score", "topic"], qa_rows()),
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m finetune.samples OUT_DIR")
    for shape, written in write_samples(sys.argv[1]).items():
        print(f"{shape}: {written}")
