import pytest

from finetune.adapters import (
    AdapterError,
    RowParseError,
    detect_adapter,
    parse_transcript,
    parse_travel_record,
)
from finetune.config import ColumnMapping

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


def travel_row(data, source="ultrachat", topic="12", bert_topic="12_hotel_stay"):
    row = {name: "" for name in TRAVEL_COLUMNS}
    row.update(data=data, source=source, topic_assignment=topic, bert_topic=bert_topic)
    return row


def test_detects_travel_literal_header():
    adapter = detect_adapter(TRAVEL_COLUMNS)

    assert adapter.shape == "travel_literal"
    assert adapter.data == "data"
    assert adapter.source == "source"
    assert adapter.topics == ("topic_assignment", "bert_topic")
    assert adapter.quality is None


def test_ultrachat_alternates_roles():
    data = repr(["Where should I stay in Kyoto?", "Gion is central.\nTry a ryokan.", "Budget?", "About 150 USD."])

    conversation = detect_adapter(TRAVEL_COLUMNS).convert(travel_row(data), row=4)

    assert conversation.messages == [
        {"role": "user", "content": "Where should I stay in Kyoto?"},
        {"role": "assistant", "content": "Gion is central.\nTry a ryokan."},
        {"role": "user", "content": "Budget?"},
        {"role": "assistant", "content": "About 150 USD."},
    ]
    assert conversation.row == 4
    assert conversation.topics == ("12", "12_hotel_stay")
    assert conversation.source == "ultrachat"


def test_ultrachat_drops_trailing_user_turn():
    messages = parse_travel_record(repr(["q1", "a1", "q2"]), "ultrachat")

    assert [m["role"] for m in messages] == ["user", "assistant"]


def test_dolly_context_joins_user_turn():
    with_context = repr({"category": "open_qa", "instruction": "Summarise this.", "context": "Petra is in Jordan.", "response": "A Jordanian site."})
    without_context = repr({"category": "open_qa", "instruction": "Name a fjord.", "context": "", "response": "Geirangerfjord."})

    first = parse_travel_record(with_context, "dolly")
    second = parse_travel_record(without_context, "dolly")

    assert first == [
        {"role": "user", "content": "Summarise this.\n\nPetra is in Jordan."},
        {"role": "assistant", "content": "A Jordanian site."},
    ]
    assert second[0] == {"role": "user", "content": "Name a fjord."}


def test_reddit_picks_first_usable_comment():
    record = {
        "title": "Two weeks in Vietnam?",
        "selftext": "First trip to Asia.",
        "comments": ["[deleted]", "lol", "[removed]", "Go north to south: Hanoi, Hue, Hoi An, then Saigon.", "Later comment that should be ignored."],
        "score": 12,
        "ups": 12,
        "url": "https://example.invalid/r/travel/1",
        "id": "abc",
    }

    messages = parse_travel_record(repr(record), "reddit")

    assert messages == [
        {"role": "user", "content": "Two weeks in Vietnam?\n\nFirst trip to Asia."},
        {"role": "assistant", "content": "Go north to south: Hanoi, Hue, Hoi An, then Saigon."},
    ]


def test_reddit_deleted_selftext_and_no_comment():
    record = {"title": "Is Iceland worth it in March?", "selftext": "[removed]", "comments": ["[deleted]", "x" * 5000]}

    messages = parse_travel_record(repr(record), "reddit")

    assert messages[0]["content"] == "Is Iceland worth it in March?"
    assert messages[1]["content"] == ""


def test_reddit_comment_dicts_accepted():
    record = {"title": "Cheap eats in Rome?", "selftext": "", "comments": [{"body": "Trastevere has many good trattorie."}]}

    messages = parse_travel_record(repr(record), "reddit")

    assert messages[1]["content"] == "Trastevere has many good trattorie."


def test_json_record_accepted():
    messages = parse_travel_record('{"instruction": "Pack list?", "context": null, "response": "Layers.", "flag": true}', "dolly")

    assert messages[1]["content"] == "Layers."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "data cell is empty"),
        ("['unterminated", "data cell is not a valid Python literal: SyntaxError:"),
        ("__import__('os').system('true')", "data cell is not a valid Python literal: ValueError:"),
        ("['only one turn']", "ultrachat record has 1 turns, expected at least 2"),
        ("['q', 3]", "ultrachat record contains a turn that is not a string"),
        ("{'foo': 1}", "data record of source 'ultrachat' has an unknown structure: dict with keys ['foo']"),
        ("42", "data record of source 'ultrachat' has an unknown structure: int"),
        ("{'title': 't', 'comments': 'not a list'}", "reddit record field 'comments' is str, expected a list"),
        ("{'instruction': 5, 'response': 'r'}", "record field 'instruction' is int, expected a string"),
    ],
)
def test_bad_travel_records_raise(data, message):
    with pytest.raises(RowParseError) as caught:
        parse_travel_record(data, "ultrachat")

    assert str(caught.value).startswith(message)


def test_transcript_multiline_turns():
    text = (
        "Human: Plan a day in Porto.\n"
        "I like wine.\n"
        "Assistant: Morning: Ribeira.\n"
        "Afternoon: port cellars in Gaia.\n"
        "\n"
        "Evening: Foz.\n"
        "Human: And dinner?\n"
        "Assistant: Try a francesinha. Note: it is heavy."
    )

    messages = parse_transcript(text)

    assert messages == [
        {"role": "user", "content": "Plan a day in Porto.\nI like wine."},
        {"role": "assistant", "content": "Morning: Ribeira.\nAfternoon: port cellars in Gaia.\n\nEvening: Foz."},
        {"role": "user", "content": "And dinner?"},
        {"role": "assistant", "content": "Try a francesinha. Note: it is heavy."},
    ]


def test_transcript_merges_and_trims():
    text = "System: Be brief.\nUser: Hi\nhuman: Visa for Chile?\nAssistant: Not for EU citizens.\nHuman: Thanks"

    messages = parse_transcript(text)

    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi\n\nVisa for Chile?"},
        {"role": "assistant", "content": "Not for EU citizens."},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just some text", "transcript has no 'Human:' or 'Assistant:' turn markers"),
        ("Intro line\nHuman: q\nAssistant: a", "transcript has text before its first turn marker: 'Intro line'"),
        ("Assistant: hello\nHuman: hi", "transcript must start with a 'Human:' turn followed by 'Assistant:'"),
        ("Human: only a question", "transcript must start with a 'Human:' turn followed by 'Assistant:'"),
        ("Human: q\nSystem: late\nAssistant: a", "transcript has a 'System:' turn after the first turn"),
    ],
)
def test_bad_transcripts_raise(text, message):
    with pytest.raises(RowParseError) as caught:
        parse_transcript(text)

    assert str(caught.value) == message


def test_detects_transcript_with_quality_topic():
    adapter = detect_adapter(["id", "Conversation_Text", "quality_score", "topic"])

    conversation = adapter.convert(
        {"id": "1", "Conversation_Text": "Human: q\nAssistant: a", "quality_score": " 8.5 ", "topic": "food"},
        row=1,
    )

    assert adapter.shape == "transcript"
    assert adapter.transcript == "Conversation_Text"
    assert conversation.quality == 8.5
    assert conversation.topics == ("food",)


def test_detects_question_answer():
    adapter = detect_adapter(["question", "answer", "rating"])

    conversation = adapter.convert({"question": "q", "answer": "a", "rating": ""}, row=3)

    assert adapter.shape == "question_answer"
    assert conversation.messages == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
    ]
    assert conversation.quality is None


def test_quality_not_a_number_raises():
    adapter = detect_adapter(["question", "answer", "quality_score"])

    with pytest.raises(RowParseError) as caught:
        adapter.convert({"question": "q", "answer": "a", "quality_score": "high"}, row=1)

    assert str(caught.value) == "quality column 'quality_score' is not a number: 'high'"


def test_mapping_overrides_detection():
    columns = ["prompt_text", "reply", "stars", "theme", "question", "answer"]
    mapping = ColumnMapping(question="prompt_text", answer="reply", quality="stars", topic="theme")

    adapter = detect_adapter(columns, mapping)

    assert adapter.shape == "question_answer"
    assert adapter.question == "prompt_text"
    assert adapter.answer == "reply"
    assert adapter.quality == "stars"
    assert adapter.topics == ("theme",)


def test_mapping_shape_forces_adapter():
    columns = ["data", "source", "transcript"]

    adapter = detect_adapter(columns, ColumnMapping(shape="transcript"))

    assert adapter.shape == "transcript"
    assert adapter.transcript == "transcript"


def test_mapping_unknown_column_rejected():
    with pytest.raises(AdapterError) as caught:
        detect_adapter(["q", "a"], ColumnMapping(question="question", answer="a"))

    assert str(caught.value) == (
        "column_mapping.question names column 'question', which is not in the CSV header; "
        "columns found: ['q', 'a']"
    )


def test_mapping_shape_without_column_rejected():
    with pytest.raises(AdapterError) as caught:
        detect_adapter(["q", "a"], ColumnMapping(shape="question_answer"))

    assert str(caught.value) == (
        "shape 'question_answer' is missing its question and answer column: no header name "
        "matches and column_mapping sets none; columns found: ['q', 'a']. "
        "Set dataset.column_mapping.question to the column's name."
    )


def test_no_adapter_lists_columns_and_shapes():
    with pytest.raises(AdapterError) as caught:
        detect_adapter(["id", "text_a", "text_b"])

    message = str(caught.value)
    assert message.startswith("no row adapter matches the CSV columns ['id', 'text_a', 'text_b']")
    assert "travel_literal (a column named data" in message
    assert "transcript (a column named conversation_text" in message
    assert "question_answer (a question column named question" in message
    assert message.endswith("Set dataset.column_mapping to name the columns of your file.")
