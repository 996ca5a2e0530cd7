"""Modal app "tunedeck": LoRA fine-tuning of gpt-oss-20b on Modal GPUs.

The control plane calls these functions by name with Modal's JS SDK
(`functions.fromName("tunedeck", "run_dataset")`, then `spawn([request])`), passing a
stage request dict (schema/contracts/stage-request.schema.json) and reading events from
the Queue "tunedeck-events", partition = job id, one JSON string per event.

Functions:
- `prepare_dataset` (CPU): download a dataset into the dataset Volume and hash it.
- `run_dataset` (GPU): one dataset run: data, training, evaluation, adapter.
- `run_dataset_a100`, `run_dataset_l40s`: the same on other GPU types; the control plane
  picks the function name from the job's GPU setting (see GPU_FUNCTIONS).
- `merge` (GPU): merge the final adapter into the bf16 base weights.

Deploy with `modal deploy app.py` from this folder. This file imports without a GPU, a
network connection or Modal credentials: heavy imports happen inside the functions.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import modal

APP_NAME = "tunedeck"
EVENTS_QUEUE = "tunedeck-events"
MINUTES = 60
HOURS = 60 * MINUTES

# ---------------------------------------------------------------- image
MODAL_DIR = Path(__file__).resolve().parent
REQUIREMENTS = MODAL_DIR / "requirements.txt"

image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("git")
    .uv_pip_install(requirements=[str(REQUIREMENTS)])
    .env(
        {
            "HF_HOME": "/models/hf",
            "HF_HUB_ENABLE_HF_TRANSFER": "1",
            "TUNEDECK_MODEL_CACHE": "/models/tunedeck",
            "TUNEDECK_DATASET_CACHE": "/datasets",
        }
    )
    .add_local_python_source("finetune")
)

# ---------------------------------------------------------------- volumes and secret
MODELS_DIR = "/models"
DATASETS_DIR = "/datasets"
CHECKPOINTS_DIR = "/checkpoints"

models_volume = modal.Volume.from_name("tunedeck-models", create_if_missing=True)
datasets_volume = modal.Volume.from_name("tunedeck-datasets", create_if_missing=True)
checkpoints_volume = modal.Volume.from_name("tunedeck-checkpoints", create_if_missing=True)
VOLUMES = {
    MODELS_DIR: models_volume,
    DATASETS_DIR: datasets_volume,
    CHECKPOINTS_DIR: checkpoints_volume,
}
huggingface_secret = modal.Secret.from_name("huggingface", required_keys=["HF_TOKEN"])

# ---------------------------------------------------------------- hardware
# Function name per GPU type. gpt-oss-20b in 4 bit trains in about 14 GB (Unsloth's
# figure), so every type here fits; they differ in speed and price.
GPU_FUNCTIONS = {
    "H100": "run_dataset",
    "A100-80GB": "run_dataset_a100",
    "L40S": "run_dataset_l40s",
}
# Modal stops a call after this long per attempt; 24 hours is Modal's maximum.
TRAIN_TIMEOUT = 24 * HOURS
MERGE_TIMEOUT = 2 * HOURS
PREPARE_TIMEOUT = 1 * HOURS
# Retries after a crash; preempted inputs are restarted by Modal and resume from the
# newest checkpoint in the checkpoints Volume.
TRAIN_RETRIES = modal.Retries(max_retries=3, backoff_coefficient=2.0, initial_delay=30.0)
# During its check the merge keeps the bf16 base and merged weights (about 42 GB each) in memory.
MERGE_MEMORY_MB = 160 * 1024

# ---------------------------------------------------------------- model
# NOTE: the base model revision is not pinned yet, because the Hub was unreachable when
# this was written. Set it to the commit hash of unsloth/gpt-oss-20b (and send it as
# model.revision in requests); None means the latest revision at download time.
BASE_MODEL = "unsloth/gpt-oss-20b"
BASE_MODEL_REVISION: str | None = None

app = modal.App(APP_NAME, image=image)

with image.imports():
    from finetune.config import StageRequest
    from finetune.events import EventEmitter, ModalQueueSink
    from finetune.stages import StageInterrupted, run_stage


# ---------------------------------------------------------------- helpers
def check_output_dir(output_dir: str) -> None:
    """Reject output folders outside the checkpoints Volume, where nothing would persist."""
    resolved = Path(output_dir).resolve()
    if Path(CHECKPOINTS_DIR) not in resolved.parents:
        raise ValueError(
            f"output_dir must be inside {CHECKPOINTS_DIR} (the checkpoints Volume), got "
            f"{output_dir!r}: use {CHECKPOINTS_DIR}/jobs/<job_id>/runs/<run_id>"
        )


def _with_default_revision(request: dict) -> dict:
    model = dict(request["model"])
    if model.get("revision") is None and model.get("name") == BASE_MODEL:
        model["revision"] = BASE_MODEL_REVISION
    return {**request, "model": model}


def _run(request_dict: dict) -> dict:
    """Run one stage in this container, sending events to the job's Queue partition."""
    request = StageRequest.model_validate(_with_default_revision(request_dict))
    check_output_dir(request.output_dir)
    checkpoints_volume.reload()

    queue = modal.Queue.from_name(EVENTS_QUEUE, create_if_missing=True)
    emitter = EventEmitter(request, ModalQueueSink(queue, request.job_id))

    # Modal sends SIGTERM before preempting or stopping a container. Training then stops
    # at the next step boundary and saves a checkpoint, and the restarted input resumes.
    interrupt = threading.Event()
    previous_handler = None
    try:
        previous_handler = signal.signal(signal.SIGTERM, lambda _signum, _frame: interrupt.set())
    except ValueError:
        pass  # not the main thread: preemption then loses the steps since the last checkpoint

    try:
        result = run_stage(
            request,
            emitter,
            interrupt,
            cancel_means_interrupt=True,
            after_checkpoint=lambda _folder: checkpoints_volume.commit(),
        )
    except modal.exception.InputCancellation:
        # The control plane cancelled this call. Report it, then let Modal finish the cancel.
        emitter.status("CANCELLED", "cancelled by the control plane")
        emitter.emit("result", {"status": "CANCELLED", "error": "cancelled by the control plane"})
        raise
    except StageInterrupted:
        raise
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        checkpoints_volume.commit()
        emitter.close()
    return result


# ---------------------------------------------------------------- functions
@app.function(
    volumes={DATASETS_DIR: datasets_volume},
    secrets=[huggingface_secret],
    cpu=2.0,
    memory=4096,
    timeout=PREPARE_TIMEOUT,
    retries=modal.Retries(max_retries=2, initial_delay=10.0),
)
def prepare_dataset(request: dict) -> dict:
    """Download the request's dataset into the dataset Volume; return its path, sha256 and size."""
    from finetune.loading import load_dataset_file

    request_model = StageRequest.model_validate(request)
    if request_model.dataset is None:
        raise ValueError("prepare_dataset needs a dataset_run request with a dataset")
    dataset_file = load_dataset_file(request_model.dataset, cache_dir=DATASETS_DIR)
    datasets_volume.commit()
    return {
        "path": str(dataset_file.path),
        "sha256": dataset_file.sha256,
        "bytes": float(dataset_file.bytes),
    }


_TRAIN_OPTIONS = dict(
    volumes=VOLUMES,
    secrets=[huggingface_secret],
    timeout=TRAIN_TIMEOUT,
    retries=TRAIN_RETRIES,
    memory=32 * 1024,
)


@app.function(gpu="H100", **_TRAIN_OPTIONS)
def run_dataset(request: dict) -> dict:
    """Run one dataset run on an H100 and return the result event's data."""
    return _run(request)


@app.function(gpu="A100-80GB", **_TRAIN_OPTIONS)
def run_dataset_a100(request: dict) -> dict:
    """Run one dataset run on an A100 80 GB and return the result event's data."""
    return _run(request)


@app.function(gpu="L40S", **_TRAIN_OPTIONS)
def run_dataset_l40s(request: dict) -> dict:
    """Run one dataset run on an L40S and return the result event's data."""
    return _run(request)


@app.function(
    gpu="H100",
    volumes=VOLUMES,
    secrets=[huggingface_secret],
    timeout=MERGE_TIMEOUT,
    retries=modal.Retries(max_retries=1, initial_delay=30.0),
    memory=MERGE_MEMORY_MB,
)
def merge(request: dict) -> dict:
    """Merge the request's adapter into the bf16 base weights; return the result event's data."""
    return _run(request)


@app.local_entrypoint()
def main(request_file: str) -> None:
    """Run one stage request file on Modal: `modal run app.py --request-file FILE`."""
    import json

    request = json.loads(Path(request_file).read_text())
    function = merge if request["stage"] == "merge" else run_dataset
    print(json.dumps(function.remote(request), indent=2))
