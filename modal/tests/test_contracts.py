"""The Python models and the JSON Schemas describe the same contract."""

import json
from pathlib import Path

import jsonschema
import pytest

from finetune.config import (
    ColumnMapping,
    DatasetConfig,
    ModelConfig,
    StageRequest,
    TrainingConfig,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "schema" / "contracts"
EXAMPLES = CONTRACTS / "examples"


def load_schema(name):
    return json.loads((CONTRACTS / name).read_text())


@pytest.mark.parametrize("name", ["stage-request.dataset-run.json", "stage-request.merge.json"])
def test_example_requests_match_schema(name):
    validator = jsonschema.Draft202012Validator(load_schema("stage-request.schema.json"))
    example = json.loads((EXAMPLES / name).read_text())

    validator.validate(example)
    assert StageRequest.model_validate(example).model_dump(mode="json") == example


def test_example_events_match_schema():
    validator = jsonschema.Draft202012Validator(load_schema("event.schema.json"))
    lines = (EXAMPLES / "events.jsonl").read_text().splitlines()

    for line in lines:
        validator.validate(json.loads(line))
    assert len(lines) == 17


def test_models_have_schema_fields():
    schema = load_schema("stage-request.schema.json")
    sections = {
        StageRequest: schema,
        ModelConfig: schema["properties"]["model"],
        DatasetConfig: schema["properties"]["dataset"],
        TrainingConfig: schema["properties"]["training"],
        ColumnMapping: schema["$defs"]["columnMapping"],
    }

    for model, section in sections.items():
        assert set(model.model_fields) == set(section["properties"]), model.__name__
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        assert required == set(section.get("required", [])), model.__name__


def test_schema_rejects_what_models_reject():
    validator = jsonschema.Draft202012Validator(load_schema("stage-request.schema.json"))
    example = json.loads((EXAMPLES / "stage-request.dataset-run.json").read_text())
    example["training"]["lora_rank"] = 0

    assert not validator.is_valid(example)
    with pytest.raises(ValueError):
        StageRequest.model_validate(example)
