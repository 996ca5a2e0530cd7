"""Shared fixtures: the tiny model in a per-session cache, sample CSVs, requests and schemas."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

MODAL_DIR = Path(__file__).resolve().parents[1]
CONTRACTS = MODAL_DIR.parent / "schema" / "contracts"
EXAMPLES = CONTRACTS / "examples"

CITIES = ["Lisbon", "Rome", "Paris", "Tokyo", "Oslo", "Lima", "Cairo", "Hanoi"]


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """Point TUNEDECK_MODEL_CACHE at a fresh folder, so tests never touch the user's cache."""
    folder = tmp_path_factory.mktemp("model-cache")
    previous = os.environ.get("TUNEDECK_MODEL_CACHE")
    os.environ["TUNEDECK_MODEL_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("TUNEDECK_MODEL_CACHE", None)
    else:
        os.environ["TUNEDECK_MODEL_CACHE"] = previous


@pytest.fixture(scope="session")
def tiny_model_dir(model_cache):
    from finetune.tiny_model import build_tiny_model

    return build_tiny_model()


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def write_qa_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["question", "answer"])
        writer.writeheader()
        for index in range(rows):
            city = CITIES[index % len(CITIES)]
            writer.writerow(
                {
                    "question": f"What should I see in {city} on day {index % 3 + 1}?",
                    "answer": f"In {city}, visit the old town, then walk by the river.",
                }
            )
    return path


@pytest.fixture
def qa_csv(tmp_path):
    return write_qa_csv(tmp_path / "qa.csv", 24)


@pytest.fixture
def make_qa_csv(tmp_path):
    """Return a function that writes a question/answer CSV with N rows and returns its path."""

    def make(name: str, rows: int) -> Path:
        return write_qa_csv(tmp_path / name, rows)

    return make


def example_request(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture
def dataset_request(tmp_path, qa_csv):
    """Return a function that builds a small dataset_run request dict with overrides."""

    def build(**training) -> dict:
        request = example_request("stage-request.dataset-run.json")
        request["dataset"]["path"] = str(qa_csv)
        request["output_dir"] = str(tmp_path / "run")
        request["heartbeat_seconds"] = 0.5
        request["training"].update(
            {"max_steps": 4, "checkpoint_every": 2, "warmup_steps": 1, "learning_rate": 0.005}
        )
        request["training"].update(training)
        return request

    return build


@pytest.fixture(scope="session")
def event_validator():
    schema = json.loads((CONTRACTS / "event.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def check_events(event_validator):
    """Return a function asserting that events match the contract and count 1, 2, 3 ..."""

    def check(events):
        for event in events:
            errors = [error.message for error in event_validator.iter_errors(event)]
            assert errors == [], (event, errors)
        sequence = [event["seq"] for event in events]
        assert sequence == list(range(1, len(events) + 1))

    return check


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `python -m finetune ARGS` from modal/ and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "finetune", *args],
        cwd=MODAL_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def parse_events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def cli():
    """Return a function that runs the CLI and returns (process, parsed stdout events)."""

    def run(*args: str, timeout: float = 180, events: bool = True):
        process = run_cli(*args, timeout=timeout)
        return process, parse_events(process.stdout) if events else None

    return run
