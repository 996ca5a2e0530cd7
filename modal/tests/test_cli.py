"""The command line as the server's local executor runs it: events on stdout, exit codes."""

import json
import signal
import subprocess
import sys
from pathlib import Path

MODAL_DIR = Path(__file__).resolve().parents[1]
EXAMPLES = MODAL_DIR.parent / "schema" / "contracts" / "examples"


def write(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_stage_writes_only_events(cli, dataset_request, tmp_path, check_events):
    request_file = write(tmp_path / "request.json", dataset_request())

    process, events = cli("stage", "--request", str(request_file))

    assert process.returncode == 0, process.stderr[-2000:]
    check_events(events)
    assert events[-1]["type"] == "result"
    assert events[-1]["data"]["status"] == "SUCCEEDED"
    assert {e["stream"] for e in events} == {events[0]["stream"]}
    assert any(e["type"] == "log" for e in events)


def test_stage_failure_exits_one(cli, dataset_request, tmp_path, check_events):
    document = dataset_request()
    document["dataset"]["path"] = str(tmp_path / "missing.csv")
    request_file = write(tmp_path / "request.json", document)

    process, events = cli("stage", "--request", str(request_file))

    assert process.returncode == 1
    check_events(events)
    assert events[-1]["data"]["status"] == "FAILED"
    assert "missing.csv" in events[-1]["data"]["error"]


def test_invalid_request_exits_one(cli, tmp_path):
    request_file = write(tmp_path / "request.json", {"v": 1, "stage": "dataset_run"})

    process, events = cli("stage", "--request", str(request_file))

    assert process.returncode == 1
    assert events == []
    assert "job_id: field required" in process.stderr


def test_sigterm_cancels_at_step_boundary(dataset_request, tmp_path, check_events):
    request_file = write(
        tmp_path / "request.json", dataset_request(max_steps=400, checkpoint_every=1000)
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "finetune", "stage", "--request", str(request_file)],
        cwd=MODAL_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    lines = []
    signalled = False
    for line in process.stdout:
        lines.append(line)
        if not signalled and json.loads(line)["type"] == "progress":
            process.send_signal(signal.SIGTERM)
            signalled = True
    process.wait(timeout=120)
    events = [json.loads(line) for line in lines if line.strip()]

    assert process.returncode == 130
    check_events(events)
    cancelled = [e for e in events if e["type"] == "status" and e["data"]["status"] == "CANCELLED"]
    assert len(cancelled) == 1
    assert events[-1]["data"]["status"] == "CANCELLED"
    last_step = max(e["data"]["step"] for e in events if e["type"] == "progress")
    assert last_step < 400
    checkpoint = Path(dataset_request()["output_dir"]) / "checkpoints" / f"checkpoint-{last_step}"
    assert checkpoint.is_dir()


def test_run_job_trains_each_dataset_then_merges(cli, make_qa_csv, tmp_path, check_events):
    example = json.loads((EXAMPLES / "stage-request.dataset-run.json").read_text())
    job = {
        "job_id": "job_cli",
        "model": example["model"],
        "training": example["training"] | {"max_steps": 3, "checkpoint_every": 3, "warmup_steps": 0},
        "datasets": [
            {"source": "local", "path": "first.csv", "train_split": 0.8},
            {"source": "local", "path": "second.csv", "train_split": 0.8},
        ],
        "output_dir": "out",
    }
    make_qa_csv("first.csv", 10)
    make_qa_csv("second.csv", 10)
    job_file = write(tmp_path / "job.json", job)

    process, events = cli("run", "--config", str(job_file))

    assert process.returncode == 0, process.stderr[-2000:]
    results = [e for e in events if e["type"] == "result"]
    assert [(e["stage"], e["run_id"]) for e in results] == [
        ("dataset_run", "job_cli_run0"), ("dataset_run", "job_cli_run1"), ("merge", None),
    ]
    assert all(e["data"]["status"] == "SUCCEEDED" for e in results)
    for stream in {e["stream"] for e in events}:
        check_events([e for e in events if e["stream"] == stream])
    assert (tmp_path / "out" / "merged" / "merged" / "model.safetensors").is_file()


def test_validate_request_examples(cli):
    for name in ["stage-request.dataset-run.json", "stage-request.merge.json"]:
        process, _ = cli("validate-request", str(EXAMPLES / name), events=False)
        assert process.returncode == 0, process.stderr


def test_validate_request_reports_problems(cli, tmp_path):
    document = json.loads((EXAMPLES / "stage-request.dataset-run.json").read_text())
    document["training"]["max_steps"] = 0
    document["extra"] = True
    request_file = write(tmp_path / "bad.json", document)

    process, _ = cli("validate-request", str(request_file), events=False)

    assert process.returncode == 1
    assert "training.max_steps" in process.stderr
    assert "extra" in process.stderr


def test_build_tiny_model_is_idempotent(cli, tmp_path):
    first, _ = cli("build-tiny-model", "--out", str(tmp_path / "tiny"), events=False)
    marker = tmp_path / "tiny" / "tunedeck-tiny-model.json"
    built_at = marker.stat().st_mtime_ns
    second, _ = cli("build-tiny-model", "--out", str(tmp_path / "tiny"), events=False)

    assert first.returncode == 0
    assert second.returncode == 0
    assert first.stdout.strip() == str(tmp_path / "tiny")
    assert marker.stat().st_mtime_ns == built_at
    assert (tmp_path / "tiny" / "model.safetensors").is_file()
