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
- `verify_merged` (GPU): the merge verification gate on merged weights in the checkpoints Volume.
- `generate` (GPU): one completion from a base model, for the playground's comparison side.
- `serve_model` (GPU): serve merged weights with vLLM behind a `modal.forward` tunnel and put
  the tunnel URL into the Queue "tunedeck-events", partition `deploy-<deployment_id>`.

Deploy with `modal deploy app.py` from this folder. This file imports without a GPU, a
network connection or Modal credentials: heavy imports happen inside the functions.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
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

# vLLM brings its own torch build, which conflicts with Unsloth's pins above, so serving
# gets an image of its own. Only the standard library part of finetune (serve.vllm_command)
# runs in it.
# NOTE: this image has not been built or run yet (no Modal access where it was written):
# vLLM 0.33.0 on debian_slim relies on the CUDA libraries that its torch wheel pulls in.
VLLM_VERSION = "0.33.0"
vllm_image = (
    modal.Image.debian_slim(python_version="3.12")
    .uv_pip_install(f"vllm=={VLLM_VERSION}")
    .env({"HF_HOME": "/models/hf"})
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
VERIFY_TIMEOUT = 1 * HOURS
GENERATE_TIMEOUT = 30 * MINUTES
# Upper bound for one deployment; the control plane passes the same value with withOptions.
SERVE_TIMEOUT = 24 * HOURS
# Merged gpt-oss-20b weights in bf16 take about 42 GB, so an L40S (48 GB) leaves almost no
# room for the KV cache; H100 is the default and the control plane may override it per call.
SERVE_GPU = "H100"
# Port vLLM listens on inside the container; modal.forward exposes it over TLS.
VLLM_PORT = 8000
VLLM_STARTUP_TIMEOUT = 20 * MINUTES
# Seconds between checks of the vLLM process and its request counters, and between
# health checks while vLLM starts.
SERVE_POLL_SECONDS = 10.0
HEALTH_POLL_SECONDS = 2.0
# Seconds a container that ran generate stays warm for the next playground prompt.
GENERATE_SCALEDOWN_WINDOW = 5 * MINUTES
# NOTE: finetune.verify loads the merged and the base model in float32 on the CPU. For
# gpt-oss-20b that is about 84 GB each (an estimate: 21B parameters x 4 bytes), so the gate
# needs this much memory, and the GPU stays idle until that loader places weights on it.
VERIFY_MEMORY_MB = 192 * 1024

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

# Standard library only, so both images (and a machine without GPU packages) import it.
from finetune.serve import vllm_command  # noqa: E402


# ---------------------------------------------------------------- helpers
def check_output_dir(output_dir: str) -> None:
    """Reject output folders outside the checkpoints Volume, where nothing would persist."""
    resolved = Path(output_dir).resolve()
    if Path(CHECKPOINTS_DIR) not in resolved.parents:
        raise ValueError(
            f"output_dir must be inside {CHECKPOINTS_DIR} (the checkpoints Volume), got "
            f"{output_dir!r}: use {CHECKPOINTS_DIR}/jobs/<job_id>/runs/<run_id>"
        )


def check_merged_path(merged_path: str) -> None:
    """Reject merged model folders outside the checkpoints Volume, which these functions mount."""
    resolved = Path(merged_path).resolve()
    if Path(CHECKPOINTS_DIR) not in resolved.parents:
        raise ValueError(
            f"merged_path must be inside {CHECKPOINTS_DIR} (the checkpoints Volume), got "
            f"{merged_path!r}: pass the merged_path that the merge stage returned"
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


# ---------------------------------------------------------------- deployment helpers
def _verify(request: dict) -> dict:
    """Run the merge verification gate on merged weights in the checkpoints Volume."""
    from finetune.verify import verify

    merged_path = str(request["merged_path"])
    base_model = str(request["base_model"])
    check_merged_path(merged_path)
    # The merge ran in another container; reload to see the weights it committed.
    checkpoints_volume.reload()
    result = verify(merged_path, base_model)
    # Keep the base model download in the model cache Volume for the next call.
    models_volume.commit()
    return json.loads(result.to_json())


# Models loaded by `generate` in this container, by name, so a warm container answers the
# next playground prompt without loading the weights again.
_generation_models: dict[str, tuple] = {}
GENERATE_MAX_NEW_TOKENS = 64


def _load_for_generation(model_name: str):
    """Load a model and tokenizer in bf16 on the GPU, or in float32 on the CPU without one."""
    import torch

    from finetune import completion

    if not torch.cuda.is_available():
        return completion.load(model_name)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune.tiny_model import resolve_model_path

    path = resolve_model_path(model_name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16, device_map="cuda")
    model.eval()
    return model, tokenizer


def _generate(request: dict) -> dict:
    """Answer one prompt with a model by name; return the answer, reasoning and token counts."""
    from finetune import completion, harmony

    model_name = request.get("model")
    prompt = request.get("prompt")
    reasoning_effort = request.get("reasoning_effort", "low")
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(f"model must be a model name or folder, got {model_name!r}")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
    if reasoning_effort not in harmony.REASONING_EFFORTS:
        raise ValueError(f"reasoning_effort must be one of {harmony.REASONING_EFFORTS}, got {reasoning_effort!r}")

    if model_name not in _generation_models:
        _generation_models[model_name] = _load_for_generation(model_name)
        models_volume.commit()
    model, tokenizer = _generation_models[model_name]
    reply = completion.generate(model, tokenizer, prompt, reasoning_effort, GENERATE_MAX_NEW_TOKENS)
    return {
        "answer": reply.answer,
        "reasoning": reply.reasoning,
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
    }


# vLLM's Prometheus metrics that tell whether the server has work: requests running or
# waiting now, and the counter of finished requests, which catches requests that started and
# ended between polls. The gauges are listed in vLLM's metrics design page (v0.12.0 docs) and
# the counter in its older Production Metrics pages. None was checked against 0.33.0, so a
# missing name keeps the server up (see parse_request_counts).
RUNNING_METRIC = "vllm:num_requests_running"
WAITING_METRIC = "vllm:num_requests_waiting"
FINISHED_METRIC = "vllm:request_success_total"
_METRIC_SAMPLE = re.compile(r"^(vllm:[A-Za-z0-9_]+)(?:\{[^}]*\})?\s+(\S+)", re.MULTILINE)


def parse_request_counts(metrics_text: str) -> tuple[int, int] | None:
    """Return (requests in flight, finished requests) from vLLM's /metrics text.

    Samples with different labels (one per engine or finish reason) are summed. Returns
    None when any of the three metrics is missing, so the caller cannot mistake a renamed
    metric for an idle server.
    """
    totals: dict[str, float] = {}
    for name, value in _METRIC_SAMPLE.findall(metrics_text):
        try:
            totals[name] = totals.get(name, 0.0) + float(value)
        except ValueError:
            continue
    if any(name not in totals for name in (RUNNING_METRIC, WAITING_METRIC, FINISHED_METRIC)):
        return None
    return int(totals[RUNNING_METRIC] + totals[WAITING_METRIC]), int(totals[FINISHED_METRIC])


class IdleTracker:
    """Decides when a server has gone idle_timeout seconds without requests.

    Activity is a request in flight or a change in the finished-request counter. Unknown
    counts (None) count as activity, so unreadable metrics never stop a server early.
    """

    def __init__(self, idle_timeout: float, now: float):
        self.idle_timeout = idle_timeout
        self.last_activity = now
        self.finished_total: int | None = None

    def observe(self, counts: tuple[int, int] | None, now: float) -> bool:
        """Record one reading of the counters; return True once the idle timeout has passed."""
        if counts is None:
            self.last_activity = now
            return False
        in_flight, finished_total = counts
        if in_flight > 0 or (self.finished_total is not None and finished_total != self.finished_total):
            self.last_activity = now
        self.finished_total = finished_total
        return now - self.last_activity >= self.idle_timeout


def serve_command(merged_path: str, max_concurrent_requests: int) -> list[str]:
    """Return the vLLM command line for a deployment; --max-num-seqs caps concurrent sequences."""
    return vllm_command(merged_path, port=VLLM_PORT) + ["--max-num-seqs", str(max_concurrent_requests)]


def _http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8", errors="replace")


def _wait_until_healthy(process: subprocess.Popen, base_url: str, timeout: float) -> None:
    """Wait for GET /health to return 200; raise RuntimeError if vLLM exits or times out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise RuntimeError(f"vLLM exited with code {code} before its /health check passed; see this call's logs")
        try:
            if _http_get(f"{base_url}/health", timeout=2.0)[0] == 200:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(HEALTH_POLL_SECONDS)
    raise RuntimeError(f"vLLM did not pass its /health check within {timeout:g} s")


def _read_request_counts(base_url: str) -> tuple[int, int] | None:
    try:
        status, text = _http_get(f"{base_url}/metrics")
    except (urllib.error.URLError, OSError) as exc:
        print(f"reading vLLM metrics failed: {exc}", flush=True)
        return None
    return parse_request_counts(text) if status == 200 else None


def _stop_process(process: subprocess.Popen, grace_seconds: float = 30.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve(request: dict) -> dict:
    """Serve merged weights with vLLM until idle, cancelled, or vLLM exits (which raises)."""
    deployment_id = str(request["deployment_id"])
    merged_path = str(request["merged_path"])
    max_concurrent_requests = int(request["max_concurrent_requests"])
    idle_timeout = float(request["idle_timeout_seconds"])
    if not 1 <= len(f"deploy-{deployment_id}".encode()) <= 64:
        raise ValueError(f"deployment_id must make a Queue partition of 1 to 64 bytes, got {deployment_id!r}")
    if max_concurrent_requests < 1:
        raise ValueError(f"max_concurrent_requests must be at least 1, got {max_concurrent_requests}")
    if idle_timeout <= 0:
        raise ValueError(f"idle_timeout_seconds must be positive, got {idle_timeout:g}")
    check_merged_path(merged_path)
    checkpoints_volume.reload()
    if not (Path(merged_path) / "config.json").is_file():
        raise FileNotFoundError(f"no merged model in {merged_path} (config.json is missing) in the checkpoints Volume")

    base_url = f"http://127.0.0.1:{VLLM_PORT}"
    process = subprocess.Popen(serve_command(merged_path, max_concurrent_requests))
    try:
        _wait_until_healthy(process, base_url, VLLM_STARTUP_TIMEOUT)
        with modal.forward(VLLM_PORT) as tunnel:
            queue = modal.Queue.from_name(EVENTS_QUEUE, create_if_missing=True)
            message = {"deployment_id": deployment_id, "url": tunnel.url}
            queue.put(json.dumps(message), partition=f"deploy-{deployment_id}")
            print(f"deployment {deployment_id} serving {merged_path} at {tunnel.url}", flush=True)

            tracker = IdleTracker(idle_timeout, time.monotonic())
            while True:
                code = process.poll()
                if code is not None:
                    raise RuntimeError(f"vLLM exited with code {code} while serving deployment {deployment_id}; see this call's logs")
                if tracker.observe(_read_request_counts(base_url), time.monotonic()):
                    reason = f"stopped after {idle_timeout:g} s without requests"
                    print(f"deployment {deployment_id} {reason}", flush=True)
                    return {"deployment_id": deployment_id, "stopped": "idle", "message": reason}
                time.sleep(SERVE_POLL_SECONDS)
    finally:
        # Also runs on InputCancellation, when the control plane undeploys.
        _stop_process(process)


# ---------------------------------------------------------------- deployment functions
@app.function(
    gpu="H100",
    volumes=VOLUMES,
    secrets=[huggingface_secret],
    timeout=VERIFY_TIMEOUT,
    memory=VERIFY_MEMORY_MB,
)
def verify_merged(request: dict) -> dict:
    """Run the merge verification gate on {merged_path, base_model}; return the GateResult dict."""
    return _verify(request)


@app.function(
    gpu="H100",
    volumes=VOLUMES,
    secrets=[huggingface_secret],
    timeout=GENERATE_TIMEOUT,
    scaledown_window=GENERATE_SCALEDOWN_WINDOW,
)
def generate(request: dict) -> dict:
    """Answer {model, prompt, reasoning_effort}; return answer, reasoning and token counts."""
    return _generate(request)


# NOTE: one deployment is one function call, so one container and one GPU: nothing scales
# out under load, and the deployment's autoScale setting is not applied on Modal yet.
# Scaling out needs a web server function (@modal.web_server) per model behind Modal's
# autoscaler instead of a tunnel per call.
@app.function(
    image=vllm_image,
    gpu=SERVE_GPU,
    volumes={CHECKPOINTS_DIR: checkpoints_volume, MODELS_DIR: models_volume},
    secrets=[huggingface_secret],
    timeout=SERVE_TIMEOUT,
)
def serve_model(request: dict) -> dict:
    """Serve {deployment_id, merged_path, max_concurrent_requests, idle_timeout_seconds}.

    Starts vLLM on the merged weights, opens a modal.forward tunnel, puts
    {"deployment_id", "url"} as a JSON string into the Queue "tunedeck-events",
    partition deploy-<deployment_id>, and blocks while vLLM serves. Idle time comes from
    vLLM's /metrics (no proxy, so requests take no extra hop). Returns
    {"deployment_id", "stopped": "idle", "message"} after idle_timeout_seconds without
    requests; raises when vLLM exits; ends with InputCancellation when cancelled.
    """
    return _serve(request)


@app.local_entrypoint()
def main(request_file: str) -> None:
    """Run one stage request file on Modal: `modal run app.py --request-file FILE`."""
    import json

    request = json.loads(Path(request_file).read_text())
    function = merge if request["stage"] == "merge" else run_dataset
    print(json.dumps(function.remote(request), indent=2))
