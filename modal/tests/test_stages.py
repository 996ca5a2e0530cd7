"""Dataset-run and merge stages end to end on the tiny model, with events checked."""

import json
from pathlib import Path

import pytest

from finetune.config import StageRequest
from finetune.events import EventEmitter, ListSink
from finetune.stages import run_stage


def run(document):
    request = StageRequest.model_validate(document)
    sink = ListSink()
    result = run_stage(request, EventEmitter(request, sink))
    return result, sink


def statuses(sink):
    return [event["data"]["status"] for event in sink.of_type("status")]


def test_dataset_run_produces_outputs(dataset_request, check_events):
    result, sink = run(dataset_request())
    output_dir = Path(dataset_request()["output_dir"])

    check_events(sink.events)
    assert statuses(sink) == ["DOWNLOADING", "PROCESSING", "TRAINING", "EVALUATING", "SUCCEEDED"]
    assert result["status"] == "SUCCEEDED"
    assert result["metrics"]["total_steps"] == 4
    assert result["metrics"]["train_rows"] + result["metrics"]["validation_rows"] == 24
    assert result["metrics"]["eval_loss"] > 0
    assert sink.events[-1]["type"] == "result"
    assert sink.events[-1]["data"] == result

    report = json.loads((output_dir / "report.json").read_text())
    assert report["rows_read"] == 24
    assert report["validation_rows"] >= 1
    assert sink.of_type("data_report")[0]["data"] == report
    samples = json.loads((output_dir / "eval_samples.json").read_text())
    assert len(samples["samples"]) >= 1
    assert (output_dir / "adapter" / "adapter_config.json").is_file()
    assert [e["data"]["step"] for e in sink.of_type("checkpoint")] == [2, 4]
    kinds = [e["data"]["kind"] for e in sink.of_type("artifact")]
    assert kinds == ["processing_report", "eval_samples", "adapter"]


def test_too_few_rows_fail_before_training(dataset_request, make_qa_csv):
    document = dataset_request()
    document["dataset"]["path"] = str(make_qa_csv("one.csv", 1))

    result, sink = run(document)

    assert result["status"] == "FAILED"
    assert "only 1 sample(s) of 1 rows read" in result["error"]
    assert "TRAINING" not in statuses(sink)
    assert sink.of_type("progress") == []
    assert sink.of_type("data_report")[0]["data"]["train_rows"] == 0


def test_20b_on_cpu_fails_before_download(dataset_request):
    document = dataset_request()
    document["model"]["name"] = "openai/gpt-oss-20b"

    result, sink = run(document)

    assert result["status"] == "FAILED"
    assert "openai/gpt-oss-20b needs a CUDA GPU" in result["error"]
    assert "tunedeck/tiny-gpt-oss" in result["error"]
    assert "DOWNLOADING" not in statuses(sink)[1:]
    assert sink.of_type("data_report") == []


def test_restart_after_success_resumes(dataset_request):
    first, _ = run(dataset_request())

    result, sink = run(dataset_request())

    assert result["status"] == "SUCCEEDED"
    assert result["metrics"]["total_steps"] == 4
    assert result["metrics"]["eval_loss"] == pytest.approx(first["metrics"]["eval_loss"])
    assert sink.of_type("progress") == []
    assert any("resuming from checkpoint" in e["data"]["message"] for e in sink.of_type("log"))


def test_second_run_starts_from_adapter_then_merges(dataset_request, tmp_path, check_events):
    first, _ = run(dataset_request())
    second_document = dataset_request()
    second_document["output_dir"] = str(tmp_path / "run2")
    second_document["init_adapter"] = first["adapter_path"]

    second, sink = run(second_document)

    assert second["status"] == "SUCCEEDED"
    assert any("continuing from adapter" in e["data"]["message"] for e in sink.of_type("log"))

    merge_document = json.loads(json.dumps(dataset_request()))
    merge_document.update(
        stage="merge", run_id=None, dataset=None, adapter=second["adapter_path"],
        output_dir=str(tmp_path / "merge"),
    )
    merged, merge_sink = run(merge_document)

    check_events(merge_sink.events)
    assert merged["status"] == "SUCCEEDED"
    assert merged["merged_path"] == str(tmp_path / "merge" / "merged")
    assert statuses(merge_sink) == ["MERGING", "SUCCEEDED"]
    assert merge_sink.of_type("artifact")[0]["data"]["kind"] == "merged_model"


def test_interrupt_mode_raises_without_result(dataset_request):
    import threading

    from finetune.stages import StageInterrupted

    request = StageRequest.model_validate(dataset_request())
    sink = ListSink()
    interrupted = threading.Event()
    interrupted.set()

    with pytest.raises(StageInterrupted):
        run_stage(request, EventEmitter(request, sink), interrupted, cancel_means_interrupt=True)

    assert sink.of_type("result") == []
    assert "CANCELLED" not in statuses(sink)
