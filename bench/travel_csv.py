"""Write full-size synthetic CSV files in the 9-column schema of the travel dataset.

The Hugging Face dataset soniawmeyer/travel-conversations-finetuning has two files that
share the columns `data_type, source, filename, data, combined, cause_clean,
bert_summary, bert_topic, topic_assignment`. Column `data` contains a Python literal:

- conversations (about 680 MB, 30,000-40,300 rows): `ultrachat` rows contain a list of
  strings that alternate user and assistant, and `dolly` rows contain a dict with
  `category`, `instruction`, `context` and `response`;
- travel QA (about 147 MB, 4,434 rows): `reddit` rows contain a dict with `title`,
  `selftext`, `comments` (best first), `score`, `ups`, `url`, `id` and more.

The generated text is random travel vocabulary with quotes, apostrophes, non-ASCII
letters and blank lines, so the CSV writer quotes cells and `repr` escapes them as in the
real files. About 2% of rows carry a truncated literal that cannot be parsed. Output is
deterministic for a given seed and size.

Usage: python bench/travel_csv.py conversations|travel_qa OUT.csv [--mb 680]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from pathlib import Path

COLUMNS = [
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
# Sizes of the real files in bytes. The row sizes below give about 38,000 and 4,100 rows,
# close to the real 30,000-40,300 and 4,434.
KINDS = {
    "conversations": 680 * 10**6,
    "travel_qa": 147 * 10**6,
}
UNPARSABLE_SHARE = 0.02
SEED = 20240601

_WORDS = (
    "the a to and of in for is on with that it you your we can at be this from or are "
    "trip travel hotel hostel flight train bus ferry airport station city town village "
    "beach mountain lake river museum gallery market street square cathedral temple castle "
    "restaurant café breakfast dinner lunch coffee wine beer street-food budget euros "
    "dollars yen pesos ticket pass booking reservation visa passport luggage backpack "
    "itinerary day days night nights week morning evening weekend season summer winter "
    "spring autumn weather rain sun snow crowded quiet cheap expensive safe local tourist "
    "guide tour hike walk drive rent car bike taxi metro tram recommend suggest think "
    "really great amazing beautiful worth visiting staying Lisbon Porto Rome Kyoto Tokyo "
    "Hanoi Bangkok Lima Marrakech Reykjavík São-Paulo Zürich Kraków München Mallorca "
    "don't it's I'm you'll there's can't we've \"best\" \"hidden\" 'gem' (optional) "
    "東京 京都 smørrebrød crème-brûlée jamón 2019 2023 30 45 100 1,200 5km 3h"
).split()


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(6, 22))
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"])


def _paragraph_pool(rng: random.Random, count: int = 3000) -> list[str]:
    # Reusing paragraphs keeps generation fast; every row also gets a unique line, so no
    # two conversations are duplicates.
    pool = []
    for _ in range(count):
        sentences = [_sentence(rng) for _ in range(rng.randint(2, 8))]
        if rng.random() < 0.2:
            sentences.insert(rng.randrange(len(sentences)), "\n- " + _sentence(rng) + "\n- ")
        pool.append(" ".join(sentences))
    return pool


class TextSource:
    """Random multi-line text of a requested length, built from a paragraph pool."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool = _paragraph_pool(rng)
        self.serial = 0

    def text(self, chars: int) -> str:
        self.serial += 1
        parts = [f"Note {self.serial}:"]
        size = 0
        while size < chars:
            paragraph = self.rng.choice(self.pool)
            parts.append(paragraph)
            size += len(paragraph) + 2
        return "\n\n".join(parts)


def _ultrachat(text: TextSource, rng: random.Random) -> list[str]:
    turns = []
    for index in range(rng.choice([2, 4, 4, 6, 6, 8])):
        is_user = index % 2 == 0
        turns.append(text.text(rng.randint(100, 700) if is_user else rng.randint(1000, 4000)))
    return turns


def _dolly(text: TextSource, rng: random.Random) -> dict[str, str]:
    return {
        "instruction": text.text(rng.randint(40, 200)),
        "context": text.text(rng.randint(300, 4500)) if rng.random() < 0.5 else "",
        "response": text.text(rng.randint(300, 2200)),
        "category": rng.choice(["open_qa", "closed_qa", "brainstorming", "summarization"]),
    }


def _reddit(text: TextSource, rng: random.Random) -> dict[str, object]:
    comments = [text.text(rng.randint(30, 900)) for _ in range(rng.randint(6, 32))]
    for index in rng.sample(range(len(comments)), k=min(2, len(comments))):
        comments[index] = rng.choice(["[deleted]", "[removed]", "This!"])
    post_id = f"{rng.randrange(36**6):06x}"
    return {
        "title": text.text(rng.randint(30, 120)),
        "selftext": rng.choice(["", "[removed]", text.text(rng.randint(100, 2500))]),
        "comments": comments,
        "score": rng.randint(0, 5000),
        "ups": rng.randint(0, 5000),
        "num_comments": len(comments),
        "created_utc": 1_500_000_000.0 + rng.randint(0, 10**8),
        "url": f"https://www.reddit.com/r/travel/comments/{post_id}/",
        "id": post_id,
        "over_18": False,
    }


def _flatten(record: object) -> str:
    if isinstance(record, list):
        return "\n".join(record)
    assert isinstance(record, dict)
    parts = []
    for value in record.values():
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(value)
    return "\n".join(parts)


def _row(source: str, record: object, rng: random.Random) -> list[str]:
    literal = repr(record)
    if rng.random() < UNPARSABLE_SHARE:
        # An export cut the cell short: the literal ends inside a string.
        literal = literal[: rng.randint(10, max(11, len(literal) // 2))]
    combined = _flatten(record)
    cleaned = " ".join(word for word in combined.lower().split() if word.isalpha())
    topic = rng.randrange(100)
    return [
        rng.choice(["train", "train", "train", "test"]),
        source,
        f"{source}_{rng.randrange(40):02d}.json",
        literal,
        combined,
        cleaned[: len(cleaned) * 2 // 3],
        combined[: rng.randint(150, 400)].replace("\n", " "),
        f"{topic}_travel_hotel_city_trip",
        str(topic),
    ]


def generate(kind: str, path: Path, target_bytes: int, seed: int = SEED) -> int:
    """Write rows until the file reaches `target_bytes`; return the number of data rows."""
    rng = random.Random(seed)
    text = TextSource(rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    rows = 0
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        while handle.tell() < target_bytes:
            if kind == "travel_qa":
                row = _row("reddit", _reddit(text, rng), rng)
            elif rng.random() < 0.62:
                row = _row("ultrachat", _ultrachat(text, rng), rng)
            else:
                row = _row("dolly", _dolly(text, rng), rng)
            writer.writerow(row)
            rows += 1
    os.replace(partial, path)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("out", type=Path)
    parser.add_argument("--mb", type=float, help="file size in MB (10^6 bytes) (default: the real file's)")
    args = parser.parse_args()
    target = int(args.mb * 10**6) if args.mb else KINDS[args.kind]
    rows = generate(args.kind, args.out, target)
    print(f"wrote {args.out}: {rows} rows, {args.out.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
