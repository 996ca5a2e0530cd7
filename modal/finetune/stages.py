"""Run one stage of a job end to end: a dataset run (data, train, evaluate) or the merge.

`run_stage` sends every event of the stage through the emitter and always ends with a
`result` event, whose data it also returns. Expected failures (bad data, too few rows,
non-finite loss, a failed merge check) become a FAILED result with an `error` event. A
cancel becomes a CANCELLED result.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .config import StageRequest

logger = logging.getLogger(__name__)

# Exceptions that a new attempt could get past (network, disk, preemption).
_RETRYABLE = (ConnectionError, TimeoutError, OSError)


class StageInterrupted(BaseException):
    """The container is shutting down (preemption); the caller should let the platform retry.

    A BaseException so that generic error handling does not turn it into a FAILED result.
    """


# Models too large to fine-tune without a GPU.
GPU_ONLY_MODELS = frozenset({"openai/gpt-oss-20b", "unsloth/gpt-oss-20b", "openai/gpt-oss-120b", "unsloth/gpt-oss-120b"})


def run_dataset_stage(
    request: StageRequest,
    emitter,
    cancel_event: threading.Event,
    on_step=None,
    after_checkpoint=None,
) -> dict:
    from . import evaluate, export, train
    from .cleaning import prepare_conversations
    from .tiny_model import resolve_model_path
    from .tokenize import TooFewSamplesError, split_samples, tokenize_conversations

    output_dir = Path(request.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    assert request.dataset is not None
    # Fail before downloading 13 GB of weights that this machine could not train.
    if request.model.name in GPU_ONLY_MODELS and not train.use_cuda():
        raise RuntimeError(
            f"{request.model.name} needs a CUDA GPU (about 14 GB of GPU memory with 4-bit "
            "loading) and this machine has none. Launch the job on the Modal executor, or use "
            "modelName tunedeck/tiny-gpt-oss for a CPU trial run."
        )

    conversations, report = prepare_conversations(request, emitter)
    model_path = resolve_model_path(request.model.name)
    tokenizer = train.load_tokenizer(train.tokenizer_source(request, model_path), request.model.revision)
    samples, token_report = tokenize_conversations(
        tokenizer, conversations, request.model.reasoning_effort, request.model.max_seq_length
    )
    for reason, count in token_report.dropped.items():
        report.drop(reason, count)
    report.rows_kept = token_report.kept
    report.trimmed = token_report.trimmed

    try:
        split = split_samples(
            samples,
            request.dataset.train_split,
            request.training.seed,
            request.training.eval_enabled,
            total_rows=report.rows_read,
        )
    except TooFewSamplesError:
        report.train_rows = report.validation_rows = 0
        report.publish(emitter, output_dir)
        raise
    report.train_rows = len(split.train)
    report.validation_rows = len(split.validation)
    report.publish(emitter, output_dir)

    if cancel_event.is_set():
        raise train.TrainingCancelled(0)
    emitter.status("TRAINING")

    def on_checkpoint(step: int, folder: Path) -> None:
        size = export.folder_bytes(folder) if folder.exists() else None
        if after_checkpoint is not None:
            after_checkpoint(folder)
        emitter.emit("checkpoint", {"step": step, "path": str(folder), "bytes": size})

    outcome = train.train(
        request,
        model_path,
        split.train,
        emitter,
        cancel_event,
        on_checkpoint=on_checkpoint,
        on_step=on_step,
    )

    eval_loss = perplexity = None
    if request.training.eval_enabled and split.validation:
        emitter.status("EVALUATING")
        result = evaluate.evaluation_loss(outcome.model, split.validation)
        eval_loss, perplexity = result.loss, result.perplexity
        emitter.emit(
            "metric",
            {"step": outcome.global_step, "split": "eval", "loss": eval_loss, "perplexity": perplexity},
        )
        entries = evaluate.generate_samples(
            outcome.model, outcome.tokenizer, split.validation, request.model.reasoning_effort
        )
        samples_path = output_dir / "eval_samples.json"
        evaluate.write_eval_samples(samples_path, entries, result)
        emitter.emit(
            "artifact",
            {
                "kind": "eval_samples",
                "path": str(samples_path),
                "sha256": export.file_sha256(samples_path),
                "bytes": samples_path.stat().st_size,
            },
        )

    adapter_dir = output_dir / "adapter"
    size = export.save_adapter(outcome.model, outcome.tokenizer, adapter_dir)
    emitter.emit("artifact", {"kind": "adapter", "path": str(adapter_dir), "sha256": None, "bytes": size})

    return {
        "status": "SUCCEEDED",
        "adapter_path": str(adapter_dir),
        "merged_path": None,
        "metrics": {
            "final_train_loss": outcome.final_train_loss,
            "eval_loss": eval_loss,
            "perplexity": perplexity,
            "total_steps": outcome.global_step,
            "train_rows": len(split.train),
            "validation_rows": len(split.validation),
        },
        "dataset_sha256": report.dataset_sha256,
        "error": None,
    }


def run_merge_stage(request: StageRequest, emitter) -> dict:
    from . import export
    from .tiny_model import resolve_model_path

    emitter.status("MERGING")
    model_path = resolve_model_path(request.model.name)
    output_dir = Path(request.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    outcome = export.merge_adapter(
        model_path, request.model.name, request.model.revision, Path(request.adapter), output_dir
    )
    emitter.emit(
        "artifact",
        {"kind": "merged_model", "path": str(outcome.path), "sha256": None, "bytes": outcome.bytes},
    )
    return {
        "status": "SUCCEEDED",
        "adapter_path": request.adapter,
        "merged_path": str(outcome.path),
        "metrics": {},
        "dataset_sha256": None,
        "error": None,
    }


def _failed(message: str) -> dict:
    return {
        "status": "FAILED",
        "adapter_path": None,
        "merged_path": None,
        "metrics": {},
        "dataset_sha256": None,
        "error": message,
    }


def run_stage(
    request: StageRequest,
    emitter,
    cancel_event: threading.Event | None = None,
    *,
    cancel_means_interrupt: bool = False,
    after_checkpoint=None,
) -> dict:
    """Run the stage and send its status and result events; return the result data.

    cancel_event stops training at the next step boundary after saving a checkpoint.
    Locally that ends the stage as CANCELLED. With cancel_means_interrupt (on Modal,
    where SIGTERM means the container is being preempted or shut down) no result is sent
    and StageInterrupted is raised, so the platform's retry resumes from the checkpoint.
    after_checkpoint(folder) runs after each checkpoint is written and before its event
    is sent (on Modal it commits the Volume, so the event never names an unsaved folder).
    """
    from .events import EventLogHandler
    from .train import TrainingCancelled

    cancel_event = cancel_event or threading.Event()
    current_step: list[int | None] = [None]

    def record_step(step: int) -> None:
        current_step[0] = step

    # The pipeline's own log records go out as log events; library logs stay on stderr.
    package_logger = logging.getLogger("finetune")
    if package_logger.level == logging.NOTSET:
        package_logger.setLevel(logging.INFO)
    log_handler = EventLogHandler(emitter)
    package_logger.addHandler(log_handler)
    emitter.start_heartbeat(lambda: current_step[0])
    try:
        if request.stage == "merge":
            result = run_merge_stage(request, emitter)
        else:
            result = run_dataset_stage(
                request, emitter, cancel_event, on_step=record_step, after_checkpoint=after_checkpoint
            )
        emitter.status("SUCCEEDED")
    except TrainingCancelled as cancelled:
        if cancel_means_interrupt:
            logger.warning(
                "interrupted at step %d; the checkpoint is kept for the next attempt",
                cancelled.step,
            )
            raise StageInterrupted(f"interrupted at step {cancelled.step}") from cancelled
        message = f"cancelled at step {cancelled.step}; the checkpoint of that step is kept"
        logger.info(message)
        emitter.status("CANCELLED", message)
        result = _failed(message) | {"status": "CANCELLED"}
    except Exception as exc:  # noqa: BLE001 - every failure must end in a result event
        message = str(exc) or type(exc).__name__
        retryable = getattr(exc, "retryable", None)
        if not isinstance(retryable, bool):
            retryable = isinstance(exc, _RETRYABLE) and not isinstance(exc, FileNotFoundError)
        logger.error("stage failed: %s: %s", type(exc).__name__, message, exc_info=exc)
        emitter.emit(
            "error",
            {"message": message, "error_type": type(exc).__name__, "retryable": retryable},
        )
        emitter.status("FAILED", message)
        result = _failed(message)
    finally:
        emitter.stop_heartbeat()
        package_logger.removeHandler(log_handler)

    emitter.emit("result", result)
    return emitter_result(result)


def emitter_result(result: dict) -> dict:
    """Return the result with NaN and infinity replaced by None, as the event carries it."""
    from .events import sanitize

    clean, non_finite = sanitize(result)
    clean["non_finite"] = sorted(non_finite)
    return clean
