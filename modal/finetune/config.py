"""Typed stage requests and job files.

`StageRequest` mirrors schema/contracts/stage-request.schema.json field for field: the
server writes that JSON, the pipeline reads it here. `JobConfig` is the job file of
`python -m finetune run --config`, which expands into one `dataset_run` request per
dataset plus a final `merge` request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Rows whose quality score is below this are dropped when the dataset has a quality
# column and the request leaves quality_threshold unset (null or absent).
DEFAULT_QUALITY_THRESHOLD = 7.0

ReasoningEffort = Literal["low", "medium", "high"]
Stage = Literal["dataset_run", "merge"]
Shape = Literal["travel_literal", "transcript", "question_answer"]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class ConfigError(ValueError):
    """A request or job file that is missing, unreadable or invalid."""


class _Contract(BaseModel):
    # strict: a string "5" is not an integer here, as in the JSON Schema.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=False)


class ColumnMapping(_Contract):
    """Column names that override the row adapter detected from the CSV header."""

    shape: Shape | None = None
    data: str | None = None
    source: str | None = None
    transcript: str | None = None
    question: str | None = None
    answer: str | None = None
    quality: str | None = None
    topic: str | None = None


class ModelConfig(_Contract):
    """Base model to fine-tune and how to load it."""

    name: NonEmptyStr
    revision: str | None = None
    max_seq_length: int = Field(ge=64, le=131072)
    load_in_4bit: bool = True
    reasoning_effort: ReasoningEffort


class DatasetConfig(_Contract):
    """One CSV file of a job and the filters applied to its rows."""

    index: int = Field(ge=0)
    source: Literal["huggingface", "local"]
    repo: str | None = None
    file: str | None = None
    revision: str | None = None
    path: str | None = None
    format: Literal["csv"] = "csv"
    train_split: float = Field(gt=0, lt=1)
    description: str | None = None
    column_mapping: ColumnMapping | None = None
    # None means DEFAULT_QUALITY_THRESHOLD; it applies only when a quality column exists.
    quality_threshold: float | None = None
    topics_include: list[str] = Field(default_factory=list)
    topics_exclude: list[str] = Field(default_factory=list)
    max_rows: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check_location(self) -> DatasetConfig:
        if self.source == "huggingface":
            if not self.repo:
                raise ValueError(
                    f"dataset.repo is required for source 'huggingface', got {self.repo!r}: "
                    "set it to a Hugging Face dataset id such as 'owner/name'"
                )
            if not self.file:
                raise ValueError(
                    f"dataset.file is required for source 'huggingface', got {self.file!r}: "
                    "set it to a CSV file path inside the dataset repo"
                )
        elif not self.path:
            raise ValueError(
                f"dataset.path is required for source 'local', got {self.path!r}: "
                "set it to the CSV file's absolute path"
            )
        return self

    @property
    def effective_quality_threshold(self) -> float:
        """Threshold for the quality column, with the default filled in."""
        if self.quality_threshold is None:
            return DEFAULT_QUALITY_THRESHOLD
        return self.quality_threshold


class TrainingConfig(_Contract):
    """LoRA and optimizer settings of one stage."""

    max_steps: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    batch_size: int = Field(ge=1)
    gradient_accumulation_steps: int = Field(ge=1)
    lora_rank: int = Field(ge=1)
    lora_alpha: int = Field(ge=1)
    lora_dropout: float = Field(default=0, ge=0, le=1)
    warmup_steps: int = Field(ge=0)
    checkpoint_every: int = Field(ge=1)
    logging_steps: int = Field(default=1, ge=1)
    eval_enabled: bool = True
    seed: int = Field(ge=0)

    @model_validator(mode="after")
    def _check_warmup(self) -> TrainingConfig:
        if self.warmup_steps >= self.max_steps:
            raise ValueError(
                f"training.warmup_steps must be less than training.max_steps "
                f"({self.max_steps}), got {self.warmup_steps}"
            )
        return self


class StageRequest(_Contract):
    """Input of one pipeline stage, as sent by the control plane."""

    v: Literal[1]
    stage: Stage
    job_id: NonEmptyStr
    run_id: str | None
    attempt: int = Field(ge=1)
    model: ModelConfig
    dataset: DatasetConfig | None = None
    training: TrainingConfig
    init_adapter: str | None = None
    adapter: str | None = None
    output_dir: NonEmptyStr
    heartbeat_seconds: float = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _check_stage_fields(self) -> StageRequest:
        if self.stage == "dataset_run":
            if self.dataset is None:
                raise ValueError("dataset is required for stage 'dataset_run', got null")
            if not self.run_id:
                raise ValueError(
                    f"run_id is required for stage 'dataset_run', got {self.run_id!r}"
                )
        elif not self.adapter:
            raise ValueError(
                f"adapter is required for stage 'merge', got {self.adapter!r}: "
                "set it to the adapter folder of the job's last dataset run"
            )
        return self

    @classmethod
    def load(cls, path: str | Path) -> StageRequest:
        """Read and validate a request file, raising ConfigError with every problem."""
        return _load_file(cls, path)


class JobDataset(DatasetConfig):
    """A dataset entry of a job file; its index defaults to its position in the list."""

    index: int | None = Field(default=None, ge=0)


class JobConfig(_Contract):
    """Job file of `python -m finetune run --config`: shared settings plus datasets.

    Each dataset becomes a `dataset_run` stage under `<output_dir>/runs/<run_id>`, trained
    in list order, each starting from the previous run's adapter folder. A final `merge`
    stage writes under `<output_dir>/merged`. Relative paths in the file are resolved
    against the folder that contains the job file.
    """

    v: Literal[1] = 1
    job_id: NonEmptyStr = "local"
    model: ModelConfig
    training: TrainingConfig
    datasets: list[JobDataset] = Field(min_length=1)
    output_dir: NonEmptyStr
    init_adapter: str | None = None
    merge: bool = True
    heartbeat_seconds: float = Field(default=5, gt=0)

    @classmethod
    def load(cls, path: str | Path) -> JobConfig:
        """Read and validate a job file and resolve its relative paths."""
        job = _load_file(cls, path)
        return job.resolve_paths(Path(path).resolve().parent)

    def resolve_paths(self, base_dir: Path) -> JobConfig:
        """Return a copy whose output_dir, local dataset paths and init_adapter are absolute."""

        def absolute(value: str | None) -> str | None:
            if value is None:
                return None
            return str((base_dir / Path(value).expanduser()).resolve())

        datasets = [
            dataset.model_copy(update={"path": absolute(dataset.path)})
            for dataset in self.datasets
        ]
        return self.model_copy(
            update={
                "output_dir": absolute(self.output_dir),
                "init_adapter": absolute(self.init_adapter),
                "datasets": datasets,
            }
        )

    def run_id(self, position: int) -> str:
        """DatasetRun id of the dataset at this position."""
        return f"{self.job_id}_run{position}"

    def stage_requests(self) -> list[StageRequest]:
        """Expand the job into its dataset_run requests, then the merge request."""
        root = Path(self.output_dir)
        requests: list[StageRequest] = []
        previous_adapter = self.init_adapter

        for position, entry in enumerate(self.datasets):
            run_id = self.run_id(position)
            run_dir = root / "runs" / run_id
            fields = entry.model_dump()
            fields["index"] = position if entry.index is None else entry.index
            requests.append(
                StageRequest(
                    v=1,
                    stage="dataset_run",
                    job_id=self.job_id,
                    run_id=run_id,
                    attempt=1,
                    model=self.model,
                    dataset=DatasetConfig.model_validate(fields),
                    training=self.training,
                    init_adapter=previous_adapter,
                    output_dir=str(run_dir),
                    heartbeat_seconds=self.heartbeat_seconds,
                )
            )
            previous_adapter = str(run_dir / "adapter")

        if self.merge:
            requests.append(
                StageRequest(
                    v=1,
                    stage="merge",
                    job_id=self.job_id,
                    run_id=None,
                    attempt=1,
                    model=self.model,
                    training=self.training,
                    adapter=previous_adapter,
                    output_dir=str(root / "merged"),
                    heartbeat_seconds=self.heartbeat_seconds,
                )
            )
        return requests


def format_validation_error(error: ValidationError) -> str:
    """Render each problem as `field: message (got value)`, one per line."""
    lines = []
    for problem in error.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "(request)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            lines.append(f"{field}: field required")
        elif field == "(request)" or problem["type"] == "value_error":
            lines.append(f"{field}: {message}")
        else:
            lines.append(f"{field}: {message} (got {problem.get('input')!r})")
    return "\n".join(lines)


def _load_file(model: type[BaseModel], path: str | Path):
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {file_path}") from exc
    except OSError as exc:
        raise ConfigError(f"failed to read config file {file_path}: {exc}") from exc

    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"config file {file_path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from exc

    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid {model.__name__} in {file_path}:\n{format_validation_error(exc)}"
        ) from exc
