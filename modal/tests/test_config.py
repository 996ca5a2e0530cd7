import copy
import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from finetune.config import (
    DEFAULT_QUALITY_THRESHOLD,
    ConfigError,
    JobConfig,
    StageRequest,
    format_validation_error,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "schema" / "contracts"
EXAMPLES = CONTRACTS / "examples"


@pytest.fixture(scope="module")
def request_schema():
    schema = json.loads((CONTRACTS / "stage-request.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def dataset_run():
    return json.loads((EXAMPLES / "stage-request.dataset-run.json").read_text())


def errors_of(payload) -> str:
    with pytest.raises(ValidationError) as caught:
        StageRequest.model_validate(payload)
    return format_validation_error(caught.value)


def test_examples_load():
    run = StageRequest.load(EXAMPLES / "stage-request.dataset-run.json")
    merge = StageRequest.load(EXAMPLES / "stage-request.merge.json")

    assert run.stage == "dataset_run"
    assert run.dataset.path == "/tmp/tunedeck/conversations.csv"
    assert run.training.max_steps == 20
    assert merge.stage == "merge"
    assert merge.dataset is None
    assert merge.adapter.endswith("run_example_1/adapter")


def test_dump_matches_json_schema(dataset_run, request_schema):
    request = StageRequest.model_validate(dataset_run)

    dumped = request.model_dump(mode="json")

    request_schema.validate(dumped)
    assert dumped == dataset_run


def test_defaults_fill_optional_fields(dataset_run):
    for key in ("lora_dropout", "logging_steps", "eval_enabled"):
        del dataset_run["training"][key]
    for key in ("format", "quality_threshold", "topics_include", "column_mapping"):
        del dataset_run["dataset"][key]
    del dataset_run["heartbeat_seconds"]
    del dataset_run["model"]["load_in_4bit"]

    request = StageRequest.model_validate(dataset_run)

    assert request.training.lora_dropout == 0
    assert request.training.logging_steps == 1
    assert request.training.eval_enabled is True
    assert request.dataset.format == "csv"
    assert request.dataset.quality_threshold is None
    assert request.dataset.effective_quality_threshold == DEFAULT_QUALITY_THRESHOLD
    assert request.dataset.topics_include == []
    assert request.heartbeat_seconds == 5
    assert request.model.load_in_4bit is True


@pytest.mark.parametrize(
    ("section", "field", "value", "expected"),
    [
        ("training", "max_steps", 0, "training.max_steps: Input should be greater than or equal to 1 (got 0)"),
        ("training", "learning_rate", 0, "training.learning_rate: Input should be greater than 0 (got 0)"),
        ("training", "lora_dropout", 1.5, "training.lora_dropout: Input should be less than or equal to 1 (got 1.5)"),
        ("model", "max_seq_length", 32, "model.max_seq_length: Input should be greater than or equal to 64 (got 32)"),
        ("model", "max_seq_length", 200000, "model.max_seq_length: Input should be less than or equal to 131072 (got 200000)"),
        ("model", "reasoning_effort", "extreme", "model.reasoning_effort: Input should be 'low', 'medium' or 'high' (got 'extreme')"),
        ("dataset", "train_split", 1.0, "dataset.train_split: Input should be less than 1 (got 1.0)"),
        ("dataset", "max_rows", 0, "dataset.max_rows: Input should be greater than or equal to 1 (got 0)"),
    ],
)
def test_out_of_range_names_field_value_range(dataset_run, section, field, value, expected):
    dataset_run[section][field] = value

    assert errors_of(dataset_run) == expected


def test_warmup_not_below_max_steps(dataset_run):
    dataset_run["training"]["warmup_steps"] = 20

    message = errors_of(dataset_run)

    assert message == (
        "training: training.warmup_steps must be less than training.max_steps (20), got 20"
    )


def test_warmup_one_below_max_steps_ok(dataset_run):
    dataset_run["training"]["warmup_steps"] = 19

    assert StageRequest.model_validate(dataset_run).training.warmup_steps == 19


def test_strict_types(dataset_run):
    dataset_run["attempt"] = "2"
    dataset_run["training"]["eval_enabled"] = "yes"

    message = errors_of(dataset_run)

    assert "attempt: Input should be a valid integer (got '2')" in message
    assert "training.eval_enabled: Input should be a valid boolean (got 'yes')" in message


def test_unknown_field_rejected(dataset_run):
    dataset_run["training"]["epochs"] = 3

    assert errors_of(dataset_run) == "training.epochs: Extra inputs are not permitted (got 3)"


def test_missing_field_named(dataset_run):
    del dataset_run["output_dir"]

    assert errors_of(dataset_run) == "output_dir: field required"


def test_stage_specific_requirements(dataset_run):
    without_dataset = copy.deepcopy(dataset_run)
    without_dataset["dataset"] = None
    merge = copy.deepcopy(dataset_run)
    merge["stage"] = "merge"
    hub = copy.deepcopy(dataset_run)
    hub["dataset"]["source"] = "huggingface"
    local = copy.deepcopy(dataset_run)
    local["dataset"]["path"] = None

    assert errors_of(without_dataset) == "(request): dataset is required for stage 'dataset_run', got null"
    assert errors_of(merge) == (
        "(request): adapter is required for stage 'merge', got None: "
        "set it to the adapter folder of the job's last dataset run"
    )
    assert errors_of(hub) == (
        "dataset: dataset.repo is required for source 'huggingface', got None: "
        "set it to a Hugging Face dataset id such as 'owner/name'"
    )
    assert errors_of(local) == (
        "dataset: dataset.path is required for source 'local', got None: "
        "set it to the CSV file's absolute path"
    )


def test_column_mapping_shape_checked(dataset_run):
    dataset_run["dataset"]["column_mapping"] = {"shape": "chat", "question": "q"}

    message = errors_of(dataset_run)

    assert message == (
        "dataset.column_mapping.shape: Input should be 'travel_literal', 'transcript' "
        "or 'question_answer' (got 'chat')"
    )


def test_load_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        StageRequest.load(tmp_path / "absent.json")

    assert str(caught.value) == f"config file not found: {tmp_path / 'absent.json'}"


def test_load_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"v": 1,')

    with pytest.raises(ConfigError) as caught:
        StageRequest.load(path)

    assert str(caught.value).startswith(f"config file {path} is not valid JSON:")


def test_load_reports_every_problem(tmp_path, dataset_run):
    dataset_run["training"]["batch_size"] = 0
    dataset_run["job_id"] = ""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dataset_run))

    with pytest.raises(ConfigError) as caught:
        StageRequest.load(path)

    assert str(caught.value) == (
        f"invalid StageRequest in {path}:\n"
        "job_id: String should have at least 1 character (got '')\n"
        "training.batch_size: Input should be greater than or equal to 1 (got 0)"
    )


def write_job(tmp_path, dataset_run, **overrides):
    job = {
        "job_id": "job_cli",
        "model": dataset_run["model"],
        "training": dataset_run["training"],
        "output_dir": "out",
        "datasets": [
            {"source": "local", "path": "data/first.csv", "train_split": 0.9},
            {
                "source": "huggingface",
                "repo": "owner/travel",
                "file": "qa.csv",
                "revision": "abc123",
                "train_split": 0.8,
                "topics_exclude": ["visa"],
            },
        ],
    }
    job.update(overrides)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    return path


def test_job_expands_to_stage_requests(tmp_path, dataset_run, request_schema):
    job = JobConfig.load(write_job(tmp_path, dataset_run))

    requests = job.stage_requests()

    assert [r.stage for r in requests] == ["dataset_run", "dataset_run", "merge"]
    first, second, merge = requests
    out = tmp_path / "out"
    assert first.run_id == "job_cli_run0"
    assert first.dataset.index == 0
    assert first.dataset.path == str(tmp_path / "data" / "first.csv")
    assert first.init_adapter is None
    assert first.output_dir == str(out / "runs" / "job_cli_run0")
    assert second.dataset.index == 1
    assert second.dataset.repo == "owner/travel"
    assert second.dataset.topics_exclude == ["visa"]
    assert second.init_adapter == str(out / "runs" / "job_cli_run0" / "adapter")
    assert merge.run_id is None
    assert merge.adapter == str(out / "runs" / "job_cli_run1" / "adapter")
    assert merge.output_dir == str(out / "merged")
    for request in requests:
        request_schema.validate(request.model_dump(mode="json"))


def test_job_without_merge_and_with_init_adapter(tmp_path, dataset_run):
    path = write_job(tmp_path, dataset_run, merge=False, init_adapter="/adapters/base")

    requests = JobConfig.load(path).stage_requests()

    assert [r.stage for r in requests] == ["dataset_run", "dataset_run"]
    assert requests[0].init_adapter == "/adapters/base"


def test_job_needs_a_dataset(tmp_path, dataset_run):
    path = write_job(tmp_path, dataset_run, datasets=[])

    with pytest.raises(ConfigError) as caught:
        JobConfig.load(path)

    assert str(caught.value) == (
        f"invalid JobConfig in {path}:\n"
        "datasets: List should have at least 1 item after validation, not 0 (got [])"
    )


def test_job_dataset_errors_name_position(tmp_path, dataset_run):
    path = write_job(
        tmp_path, dataset_run, datasets=[{"source": "local", "path": "a.csv", "train_split": 2}]
    )

    with pytest.raises(ConfigError) as caught:
        JobConfig.load(path)

    assert str(caught.value).endswith(
        "datasets.0.train_split: Input should be less than 1 (got 2)"
    )
