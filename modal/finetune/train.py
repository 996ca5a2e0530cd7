"""LoRA training of a GPT-OSS model: Unsloth on CUDA, transformers + PEFT on CPU.

Both back ends share the tokenized data, the transformers `Trainer`, the schedule, the
checkpoints under `<output_dir>/checkpoints/checkpoint-<step>/` and the event callback.
Only model loading and the optimizer differ.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from transformers import TrainerCallback

from .config import StageRequest
from .tokenize import CausalCollator, TokenizedSample

logger = logging.getLogger(__name__)

# The LoRA targets of Unsloth's gpt-oss notebook, passed to Unsloth by module name.
# The transformers GptOss model has no gate/up/down modules because it fuses the experts
# into the parameters `mlp.experts.gate_up_proj` and `mlp.experts.down_proj`. On CPU,
# PEFT adapts those through `target_parameters` instead.
# NOTE: how Unsloth maps the gate/up/down names onto gpt-oss experts was not checked on a GPU.
LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
FUSED_EXPERT_PARAMETERS = {
    "gate_proj": "mlp.experts.gate_up_proj",
    "up_proj": "mlp.experts.gate_up_proj",
    "down_proj": "mlp.experts.down_proj",
}
UNSLOTH_BASE_MODEL = "unsloth/gpt-oss-20b"
# This many non-finite train losses in a row stop the run.
MAX_CONSECUTIVE_NON_FINITE = 3
# Checkpoints kept on disk; older ones are deleted by the Trainer.
CHECKPOINTS_KEPT = 3


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss several steps in a row."""


class TrainingCancelled(Exception):
    """Training stopped at a step boundary because a cancel was requested."""

    def __init__(self, step: int):
        super().__init__(f"training cancelled at step {step}")
        self.step = step


@dataclass
class Schedule:
    """Resolved step counts; max_steps is the contract's only length setting."""

    total_steps: int
    warmup_steps: int
    samples_per_step: int
    epochs: float

    def describe(self) -> str:
        return (
            f"{self.total_steps} optimizer steps of {self.samples_per_step} samples "
            f"({self.epochs:.2f} epochs), {self.warmup_steps} warmup steps"
        )


@dataclass
class TrainOutcome:
    model: Any
    tokenizer: Any
    global_step: int
    final_train_loss: float | None
    resumed_from: str | None
    schedule: Schedule


def resolve_schedule(request: StageRequest, train_rows: int) -> Schedule:
    """Return the effective length of training.

    The request sets max_steps, so training runs exactly that many optimizer steps and
    repeats the data as often as needed. `epochs` reports what that amounts to. Warmup is
    capped below the total so the learning rate reaches its peak.
    """
    training = request.training
    samples_per_step = training.batch_size * training.gradient_accumulation_steps
    total = training.max_steps
    warmup = min(training.warmup_steps, max(total - 1, 0))
    epochs = total * samples_per_step / max(train_rows, 1)
    return Schedule(total, warmup, samples_per_step, epochs)


def use_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def latest_checkpoint(checkpoints_dir: Path) -> Path | None:
    """Return the newest complete checkpoint folder, or None.

    A checkpoint counts as complete when the Trainer wrote its trainer_state.json, which
    it does last; a folder cut short by a crash is skipped.
    """
    if not checkpoints_dir.is_dir():
        return None
    candidates = []
    for folder in checkpoints_dir.glob("checkpoint-*"):
        suffix = folder.name.removeprefix("checkpoint-")
        if suffix.isdigit() and (folder / "trainer_state.json").is_file():
            candidates.append((int(suffix), folder))
    if not candidates:
        return None
    return max(candidates)[1]


def tokenizer_source(request: StageRequest, model_path: str) -> str:
    """Return where the tokenizer comes from: the model Unsloth trains on CUDA, else model_path."""
    if use_cuda() and request.model.name.startswith("openai/"):
        return UNSLOTH_BASE_MODEL
    return model_path


def load_tokenizer(model_path: str, revision: str | None = None):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, revision=revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _lora_targets(model) -> tuple[list[str], list[str]]:
    """Split the recipe's targets into module names and fused expert parameters present."""
    module_names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    parameter_names = {name for name, _ in model.named_parameters()}
    modules = [t for t in LORA_TARGET_MODULES if t in module_names]
    parameters: list[str] = []
    for target in LORA_TARGET_MODULES:
        fused = FUSED_EXPERT_PARAMETERS.get(target)
        if target in module_names or fused is None or fused in parameters:
            continue
        if any(name.endswith(fused) for name in parameter_names):
            parameters.append(fused)
    return modules, parameters


def load_cpu_model(request: StageRequest, model_path: str):
    """Load the base model in float32 with a trainable LoRA adapter (new or init_adapter)."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        model_path, revision=request.model.revision, dtype=torch.float32
    )
    if request.init_adapter:
        logger.info("continuing from adapter %s", request.init_adapter)
        return PeftModel.from_pretrained(model, request.init_adapter, is_trainable=True)

    modules, parameters = _lora_targets(model)
    logger.info("LoRA targets: modules %s, fused expert parameters %s", modules, parameters)
    config = LoraConfig(
        r=request.training.lora_rank,
        lora_alpha=request.training.lora_alpha,
        lora_dropout=request.training.lora_dropout,
        target_modules=modules,
        target_parameters=parameters or None,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def load_unsloth_model(request: StageRequest):
    """Load gpt-oss-20b through Unsloth in 4 bit with LoRA (needs CUDA and unsloth)."""
    from unsloth import FastLanguageModel

    # Passing an adapter folder as model_name makes Unsloth load the base model named in
    # its adapter_config.json and attach the adapter.
    name = request.init_adapter or (
        UNSLOTH_BASE_MODEL if request.model.name.startswith("openai/") else request.model.name
    )
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=name,
        max_seq_length=request.model.max_seq_length,
        load_in_4bit=request.model.load_in_4bit,
        dtype=None,
        full_finetuning=False,
    )
    if request.init_adapter:
        # NOTE: Unsloth loads the adapter frozen by default; this turns LoRA weights on.
        for parameter_name, parameter in model.named_parameters():
            if "lora_" in parameter_name:
                parameter.requires_grad_(True)
        return model, tokenizer

    model = FastLanguageModel.get_peft_model(
        model,
        r=request.training.lora_rank,
        lora_alpha=request.training.lora_alpha,
        lora_dropout=request.training.lora_dropout,
        target_modules=LORA_TARGET_MODULES,
        bias="none",
        use_gradient_checkpointing="unsloth",
        random_state=request.training.seed,
    )
    return model, tokenizer


class _SampleDataset:
    def __init__(self, samples: Sequence[TokenizedSample]):
        self._samples = samples

    def __len__(self) -> int:
        return len(self._samples)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        sample = self._samples[index]
        return {"input_ids": sample.input_ids, "labels": sample.labels}


def training_arguments(request: StageRequest, schedule: Schedule, cuda: bool):
    from transformers import TrainingArguments

    training = request.training
    return TrainingArguments(
        output_dir=str(Path(request.output_dir) / "checkpoints"),
        max_steps=schedule.total_steps,
        per_device_train_batch_size=training.batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps,
        learning_rate=training.learning_rate,
        warmup_steps=schedule.warmup_steps,
        lr_scheduler_type="linear",
        weight_decay=0.01 if cuda else 0.0,
        optim="adamw_8bit" if cuda else "adamw_torch",
        logging_steps=training.logging_steps,
        # NaN/inf losses must reach the callback as they are, not be replaced by an average.
        logging_nan_inf_filter=False,
        save_strategy="steps",
        save_steps=training.checkpoint_every,
        save_total_limit=CHECKPOINTS_KEPT,
        eval_strategy="no",
        seed=training.seed,
        data_seed=training.seed,
        bf16=cuda,
        use_cpu=not cuda,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding",
    )


def gpu_stats() -> tuple[float | None, float | None]:
    """Return (utilization percent, memory used in GB) of GPU 0 from NVML, or (None, None)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        utilization = float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        memory_gb = pynvml.nvmlDeviceGetMemoryInfo(handle).used / 1e9
        return utilization, memory_gb
    except Exception:  # noqa: BLE001 - no NVML library, no driver or no GPU
        return None, None


class EventCallback(TrainerCallback):
    """Sends progress, metric and checkpoint events and stops on cancel or bad losses."""

    def __init__(self, emitter, total_steps, cancel_event, on_checkpoint=None, on_step=None):
        self.emitter = emitter
        self.on_step = on_step
        self.total_steps = total_steps
        self.cancel_event = cancel_event
        self.on_checkpoint = on_checkpoint
        self.last_train_loss: float | None = None
        self.consecutive_non_finite = 0
        self.non_finite_error: str | None = None
        self.cancelled_at: int | None = None
        self._last_log_time = time.monotonic()
        self._last_log_tokens = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self._last_log_time = time.monotonic()
        self._last_log_tokens = float(state.num_input_tokens_seen or 0)

    def on_step_end(self, args, state, control, **kwargs):
        if self.on_step is not None:
            self.on_step(state.global_step)
        self.emitter.emit(
            "progress",
            {
                "step": state.global_step,
                "total_steps": self.total_steps,
                "tokens_seen": float(state.num_input_tokens_seen or 0),
                "epoch": state.epoch,
            },
        )
        if state.global_step >= self.total_steps:
            # The last step is always saved, so a restart after a finished run only reloads.
            control.should_save = True
        elif self.cancel_event.is_set():
            # Save where we stopped so a later attempt can resume from this step.
            self.cancelled_at = state.global_step
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs:
            return control
        loss = float(logs["loss"])
        now = time.monotonic()
        tokens = float(state.num_input_tokens_seen or 0)
        elapsed = now - self._last_log_time
        tokens_per_second = (tokens - self._last_log_tokens) / elapsed if elapsed > 0 else None
        self._last_log_time, self._last_log_tokens = now, tokens
        utilization, memory_gb = gpu_stats()

        self.emitter.emit(
            "metric",
            {
                "step": state.global_step,
                "split": "train",
                "loss": loss,
                "learning_rate": logs.get("learning_rate"),
                "grad_norm": logs.get("grad_norm"),
                "tokens_per_second": tokens_per_second,
                "gpu_utilization": utilization,
                "gpu_memory_gb": memory_gb,
            },
        )
        self.last_train_loss = loss
        if math.isfinite(loss):
            self.consecutive_non_finite = 0
            return control

        self.consecutive_non_finite += 1
        logger.warning("non-finite train loss %s at step %d", loss, state.global_step)
        if self.consecutive_non_finite >= MAX_CONSECUTIVE_NON_FINITE:
            self.non_finite_error = (
                f"train loss was NaN or infinite {self.consecutive_non_finite} logs in a row "
                f"(last at step {state.global_step}); lower the learning rate or check the data"
            )
            control.should_training_stop = True
        return control

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if self.on_checkpoint is not None:
            self.on_checkpoint(state.global_step, folder)
        return control


def _finished_outcome(model, tokenizer, checkpoint: Path, schedule: Schedule) -> TrainOutcome | None:
    """Load a checkpoint that already reached the last step, or return None.

    Resuming such a checkpoint through Trainer.train would run one extra step
    (transformers 5.25), so the adapter weights are loaded directly instead.
    """
    from peft.utils import load_peft_weights, set_peft_model_state_dict

    state = json.loads((checkpoint / "trainer_state.json").read_text())
    step = int(state.get("global_step", 0))
    if step < schedule.total_steps:
        return None
    set_peft_model_state_dict(model, load_peft_weights(str(checkpoint)))
    losses = [entry["loss"] for entry in state.get("log_history", []) if "loss" in entry]
    final_loss = losses[-1] if losses and math.isfinite(losses[-1]) else None
    logger.info("checkpoint %s is at the last step %d: training is already complete", checkpoint, step)
    return TrainOutcome(model, tokenizer, step, final_loss, str(checkpoint), schedule)


def train(
    request: StageRequest,
    model_path: str,
    train_samples: Sequence[TokenizedSample],
    emitter,
    cancel_event: threading.Event,
    *,
    on_checkpoint: Callable[[int, Path], None] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> TrainOutcome:
    """Train for the resolved schedule, resuming from the newest checkpoint if there is one.

    Raises TrainingCancelled when cancel_event is set (after saving a checkpoint at the
    step boundary) and NonFiniteLossError after MAX_CONSECUTIVE_NON_FINITE bad losses.
    """
    from transformers import Trainer, set_seed
    from transformers.trainer_callback import PrinterCallback

    set_seed(request.training.seed)
    cuda = use_cuda()
    if cuda:
        model, tokenizer = load_unsloth_model(request)
    else:
        tokenizer = load_tokenizer(model_path, request.model.revision)
        model = load_cpu_model(request, model_path)

    schedule = resolve_schedule(request, len(train_samples))
    logger.info("training schedule: %s", schedule.describe())

    checkpoints_dir = Path(request.output_dir) / "checkpoints"
    resume_from = latest_checkpoint(checkpoints_dir)
    if resume_from is not None:
        logger.info("resuming from checkpoint %s", resume_from)

    if resume_from is not None:
        finished = _finished_outcome(model, tokenizer, resume_from, schedule)
        if finished is not None:
            return finished

    callback = EventCallback(
        emitter,
        total_steps=schedule.total_steps,
        cancel_event=cancel_event,
        on_checkpoint=on_checkpoint,
        on_step=on_step,
    )
    trainer = Trainer(
        model=model,
        args=training_arguments(request, schedule, cuda),
        train_dataset=_SampleDataset(train_samples),
        data_collator=CausalCollator(tokenizer.pad_token_id),
        callbacks=[callback],
    )
    # PrinterCallback prints every log dict to stdout, which carries only events.
    trainer.remove_callback(PrinterCallback)
    started = time.monotonic()
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    logger.info(
        "training stopped at step %d after %.1f s", trainer.state.global_step,
        time.monotonic() - started,
    )

    if callback.non_finite_error is not None:
        raise NonFiniteLossError(callback.non_finite_error)
    if callback.cancelled_at is not None:
        raise TrainingCancelled(callback.cancelled_at)

    final_loss = callback.last_train_loss
    if final_loss is not None and not math.isfinite(final_loss):
        final_loss = None
    return TrainOutcome(
        model=trainer.model,
        tokenizer=tokenizer,
        global_step=trainer.state.global_step,
        final_train_loss=final_loss,
        resumed_from=str(resume_from) if resume_from else None,
        schedule=schedule,
    )
