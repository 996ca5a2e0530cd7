import csv
import json
from pathlib import Path

import jsonschema
import pytest

from finetune.adapters import AdapterError
from finetune.cleaning import (
    DataReport,
    content_key,
    normalize_text,
    prepare_conversations,
)
from finetune.config import StageRequest
from finetune.events import EventEmitter, ListSink

CONTRACTS = Path(__file__).resolve().parents[2] / "schema" / "contracts"
TRAVEL_COLUMNS = ["data_type", "source", "filename", "data", "combined", "cause_clean", "bert_summary", "bert_topic", "topic_assignment"]


def write_csv(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_request(tmp_path, csv_path, **dataset_fields):
    payload = json.loads((CONTRACTS / "examples" / "stage-request.dataset-run.json").read_text())
    payload["dataset"]["path"] = str(csv_path)
    payload["dataset"]["quality_threshold"] = None
    payload["dataset"].update(dataset_fields)
    payload["output_dir"] = str(tmp_path / "out")
    return StageRequest.model_validate(payload)


def run_prepare(tmp_path, csv_path, **dataset_fields):
    request = make_request(tmp_path, csv_path, **dataset_fields)
    sink = ListSink()
    emitter = EventEmitter(request, sink)
    conversations, report = prepare_conversations(request, emitter)
    return conversations, report, sink


def travel(source, data, topic="3", bert_topic="3_food_market"):
    return ["train", source, "file.json", repr(data), "", "", "", bert_topic, topic]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Lisbon \t is\u00a0great  ", "Lisbon is great"),
        ("line one  \r\nline two\rline three", "line one\nline two\nline three"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("bell\x07 and nul\x00 and c1\x85 gone", "bell and nul and c1 gone"),
        ("Cafe\u0301", "Caf\u00e9"),
        ("keep\ttab? no", "keep tab? no"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_content_key_ignores_case_not_roles():
    first = [{"role": "user", "content": "Hello Rome"}, {"role": "assistant", "content": "Ciao"}]
    same = [{"role": "user", "content": "hello rome"}, {"role": "assistant", "content": "ciao"}]
    swapped = [{"role": "assistant", "content": "Hello Rome"}, {"role": "user", "content": "Ciao"}]

    assert content_key(first) == content_key(same)
    assert content_key(first) != content_key(swapped)


def test_travel_file_counts_every_reason(tmp_path):
    good = ["How do I get from Narita to Shinjuku?", "Take the Narita Express; it takes about 80 minutes."]
    rows = [
        travel("ultrachat", good),
        travel("ultrachat", [g.upper() for g in good]),
        travel("ultrachat", good[:1]),
        ["train", "ultrachat", "f", "['broken", "", "", "", "x", "1"],
        travel("dolly", {"category": "qa", "instruction": "Best month for Patagonia?", "context": "", "response": "   "}),
        travel("dolly", {"category": "qa", "instruction": "Hi", "context": "", "response": "Yo"}),
        travel("dolly", {"category": "qa", "instruction": "Best month for Patagonia?", "context": "", "response": "December to February, the southern summer."}),
        travel("reddit", {"title": "Tips for Marrakech?", "selftext": "", "comments": ["[deleted]"]}),
        ["train", "reddit", "f"],
    ]
    path = write_csv(tmp_path / "travel.csv", TRAVEL_COLUMNS, rows)

    conversations, report, sink = run_prepare(tmp_path, path)

    assert report.shape == "travel_literal"
    assert report.rows_read == 9
    assert report.rows_kept == 2
    assert len(conversations) == 2
    assert report.dropped == {
        "parse_failure": 3,
        "empty_turn": 2,
        "too_short": 1,
        "too_long": 0,
        "duplicate": 1,
        "below_quality": 0,
        "topic_filtered": 0,
    }
    assert report.warnings == [
        "row 9 (line 10) has 3 cells, expected 9; skipped",
        "2 rows could not be parsed: row 3: ultrachat record has 1 turns, expected at least 2; "
        "row 4: data cell is not a valid Python literal: SyntaxError: unterminated string literal "
        "(detected at line 1)",
    ]
    assert conversations[1][1]["content"] == "December to February, the southern summer."
    assert [e["data"]["status"] for e in sink.of_type("status")] == ["DOWNLOADING", "PROCESSING"]
    assert [e["data"]["message"] for e in sink.of_type("log")] == report.warnings
    assert report.dataset_bytes == path.stat().st_size
    assert len(report.dataset_sha256) == 64


def test_quality_and_topic_filters(tmp_path):
    header = ["question", "answer", "quality_score", "topic"]
    rows = [
        ["Is Porto walkable?", "Yes, but it is hilly; wear good shoes.", "8.5", "city"],
        ["Is Porto cheap?", "Cheaper than Lisbon for food and rooms.", "6.9", "city"],
        ["Ski in Chamonix?", "Yes, December to April is the season.", "9", "ski"],
        ["Visa for Brazil?", "Depends on your passport; check the consulate.", "9.5", "visa"],
        ["Hike in Madeira?", "The PR1 ridge walk is the classic one.", "", "hiking"],
        ["Surf in Ericeira?", "Autumn has the most consistent swell.", "7.0", "Surf"],
    ]
    path = write_csv(tmp_path / "qa.csv", header, rows)

    conversations, report, _ = run_prepare(
        tmp_path, path, topics_include=["city", "hiking", "surf", "visa"], topics_exclude=["visa"]
    )

    assert report.shape == "question_answer"
    assert report.rows_kept == 3
    assert [c[0]["content"] for c in conversations] == ["Is Porto walkable?", "Hike in Madeira?", "Surf in Ericeira?"]
    assert report.dropped["below_quality"] == 1
    assert report.dropped["topic_filtered"] == 2


def test_quality_threshold_override(tmp_path):
    header = ["question", "answer", "quality_score"]
    rows = [
        ["Is Porto walkable?", "Yes, but it is hilly; wear good shoes.", "8.5"],
        ["Is Porto cheap?", "Cheaper than Lisbon for food and rooms.", "6.9"],
    ]
    path = write_csv(tmp_path / "qa.csv", header, rows)

    _, strict, _ = run_prepare(tmp_path, path, quality_threshold=9.0)
    _, lenient, _ = run_prepare(tmp_path, path, quality_threshold=0.0)

    assert strict.rows_kept == 0
    assert strict.dropped["below_quality"] == 2
    assert lenient.rows_kept == 2


def test_no_quality_column_ignores_threshold(tmp_path):
    path = write_csv(tmp_path / "qa.csv", ["question", "answer"], [["Is Porto walkable?", "Yes, it is."]])

    _, report, _ = run_prepare(tmp_path, path, quality_threshold=9.0)

    assert report.rows_kept == 1


def test_transcript_file(tmp_path):
    rows = [
        ["Human: Two days in Bruges?\nAssistant: Day one: Markt and canals.\nDay two: Damme by bike.", "8"],
        ["Assistant: I start\nHuman: wrong order", "9"],
        ["Human: Where to eat in Ghent?\r\nAssistant: Try the Vrijdagmarkt area.", "7"],
    ]
    path = write_csv(tmp_path / "t.csv", ["conversation_text", "quality_score"], rows)

    conversations, report, _ = run_prepare(tmp_path, path)

    assert report.shape == "transcript"
    assert report.rows_kept == 2
    assert report.dropped["parse_failure"] == 1
    assert conversations[0][1]["content"] == "Day one: Markt and canals.\nDay two: Damme by bike."
    assert report.warnings == [
        "1 row could not be parsed: row 2: transcript must start with a 'Human:' turn followed by 'Assistant:'"
    ]


def test_max_rows_limits_reading(tmp_path):
    rows = [[f"Question number {i} about Oslo?", f"Answer number {i} about Oslo."] for i in range(10)]
    path = write_csv(tmp_path / "qa.csv", ["question", "answer"], rows)

    conversations, report, _ = run_prepare(tmp_path, path, max_rows=4)

    assert report.rows_read == 4
    assert len(conversations) == 4


def test_many_failures_summarised(tmp_path):
    rows = [["train", "ultrachat", "f", f"[{i}", "", "", "", "t", "1"] for i in range(15)]
    path = write_csv(tmp_path / "travel.csv", TRAVEL_COLUMNS, rows)

    _, report, _ = run_prepare(tmp_path, path)

    assert report.dropped["parse_failure"] == 15
    assert report.rows_kept == 0
    assert report.warnings[0].startswith("15 rows could not be parsed (5 not listed): row 1: ")
    assert report.warnings[0].count("row ") == 10


def test_unknown_header_raises(tmp_path):
    path = write_csv(tmp_path / "odd.csv", ["id", "body"], [["1", "text"]])

    with pytest.raises(AdapterError) as caught:
        run_prepare(tmp_path, path)

    assert str(caught.value).startswith("no row adapter matches the CSV columns ['id', 'body']")


def test_publish_writes_report_and_events(tmp_path):
    schema = jsonschema.Draft202012Validator(json.loads((CONTRACTS / "event.schema.json").read_text()))
    path = write_csv(tmp_path / "qa.csv", ["question", "answer"], [["Is Porto walkable?", "Yes, it is."]])
    request = make_request(tmp_path, path)
    sink = ListSink()
    emitter = EventEmitter(request, sink)
    _, report = prepare_conversations(request, emitter)
    report.drop("too_long", 0)
    report.train_rows, report.validation_rows = 1, 0

    report_path = report.publish(emitter, request.output_dir)

    saved = json.loads(report_path.read_text())
    data_report = sink.of_type("data_report")[0]["data"]
    artifact = sink.of_type("artifact")[0]["data"]
    assert report_path == tmp_path / "out" / "report.json"
    assert saved == data_report
    assert saved["rows_kept"] == 1
    assert saved["train_rows"] == 1
    assert isinstance(data_report["dataset_bytes"], float)
    assert artifact["kind"] == "processing_report"
    assert artifact["path"] == str(report_path)
    for event in sink.events:
        schema.validate(event)


def test_unknown_drop_reason_rejected():
    with pytest.raises(ValueError) as caught:
        DataReport().drop("too_weird")

    assert str(caught.value).startswith("unknown drop reason 'too_weird'")


SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_committed_samples_match_generator(tmp_path):
    from finetune.samples import write_samples

    written = write_samples(tmp_path)

    for path in written.values():
        assert (SAMPLES / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize(
    ("name", "shape", "rows_read", "rows_kept", "dropped"),
    [
        ("travel_conversations.csv", "travel_literal", 69, 64, {"parse_failure": 3, "empty_turn": 1, "duplicate": 1}),
        ("transcripts.csv", "transcript", 51, 48, {"parse_failure": 3}),
        ("qa_quality.csv", "question_answer", 67, 60, {"empty_turn": 1, "too_short": 1, "below_quality": 5}),
    ],
)
def test_sample_files_prepare(tmp_path, name, shape, rows_read, rows_kept, dropped):
    conversations, report, _ = run_prepare(tmp_path, SAMPLES / name, quality_threshold=7.0)

    assert report.shape == shape
    assert report.rows_read == rows_read
    assert report.rows_kept == rows_kept
    assert {reason: count for reason, count in report.dropped.items() if count} == dropped
    assert len(conversations) == rows_kept
    assert all(conversation[-1]["role"] == "assistant" for conversation in conversations)


def test_sample_job_expands(tmp_path):
    from finetune.config import JobConfig

    requests = JobConfig.load(SAMPLES / "job.json").stage_requests()

    assert [r.stage for r in requests] == ["dataset_run"] * 3 + ["merge"]
    assert requests[0].dataset.path == str(SAMPLES / "travel_conversations.csv")
    assert requests[2].dataset.topics_exclude == ["visa"]
    assert requests[3].adapter.endswith("sample_job_run2/adapter")
