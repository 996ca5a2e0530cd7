"""Training: schedule, checkpoints, resume, cancellation and non-finite losses."""

import math
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from finetune.config import StageRequest
from finetune.events import EventEmitter, ListSink
from finetune.stages import run_stage
from finetune.train import (
    EventCallback,
    NonFiniteLossError,
    TrainingCancelled,
    latest_checkpoint,
    resolve_schedule,
    train,
)
from finetune.tokenize import tokenize_conversations


def make_samples(tokenizer, count=12):
    conversations = [
        [
            {"role": "user", "content": f"What should I pack for trip {i}?"},
            {"role": "assistant", "content": "A rain jacket and comfortable shoes."},
        ]
        for i in range(count)
    ]
    samples, _ = tokenize_conversations(tokenizer, conversations, "low", 256)
    return samples


def test_schedule_uses_max_steps(dataset_request):
    request = StageRequest.model_validate(
        dataset_request(max_steps=30, batch_size=2, gradient_accumulation_steps=3, warmup_steps=5)
    )

    schedule = resolve_schedule(request, train_rows=60)

    assert schedule.total_steps == 30
    assert schedule.samples_per_step == 6
    assert schedule.warmup_steps == 5
    assert schedule.epochs == pytest.approx(3.0)


def test_latest_checkpoint_skips_incomplete(tmp_path):
    for step, complete in [(2, True), (4, True), (6, False)]:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-x").mkdir()

    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert latest_checkpoint(tmp_path / "missing") is None


def fake_state(step):
    return SimpleNamespace(global_step=step, num_input_tokens_seen=100 * step, epoch=0.1 * step)


def callback_with_sink(dataset_request):
    request = StageRequest.model_validate(dataset_request())
    sink = ListSink()
    callback = EventCallback(EventEmitter(request, sink), 10, threading.Event())
    return callback, sink


def test_callback_stops_after_three_non_finite(dataset_request):
    callback, sink = callback_with_sink(dataset_request)
    losses = [2.0, math.nan, math.inf, 1.5, math.nan, math.nan, math.nan]
    stopped_at = None

    for step, loss in enumerate(losses, start=1):
        control = SimpleNamespace(should_training_stop=False)
        callback.on_log(None, fake_state(step), control, logs={"loss": loss, "learning_rate": 0.1})
        if control.should_training_stop:
            stopped_at = step
            break

    assert stopped_at == 7
    assert "3 logs in a row" in callback.non_finite_error
    metrics = sink.of_type("metric")
    assert metrics[1]["data"]["loss"] is None
    assert metrics[1]["data"]["non_finite"] == ["loss"]
    assert metrics[0]["data"]["non_finite"] == []
    assert metrics[0]["data"]["gpu_utilization"] is None


def test_cancel_then_resume_from_checkpoint(dataset_request, tiny_model_dir, tiny_tokenizer):
    request = StageRequest.model_validate(dataset_request(max_steps=5, checkpoint_every=10))
    samples = make_samples(tiny_tokenizer)
    cancel = threading.Event()

    def cancel_after_two(step):
        if step == 2:
            cancel.set()

    first_sink = ListSink()
    with pytest.raises(TrainingCancelled) as stopped:
        train(
            request, str(tiny_model_dir), samples, EventEmitter(request, first_sink), cancel,
            on_step=cancel_after_two,
        )
    assert stopped.value.step == 2
    checkpoints = Path(request.output_dir) / "checkpoints"
    assert latest_checkpoint(checkpoints).name == "checkpoint-2"

    second_sink = ListSink()
    outcome = train(
        request, str(tiny_model_dir), samples, EventEmitter(request, second_sink), threading.Event()
    )

    assert outcome.resumed_from.endswith("checkpoint-2")
    assert outcome.global_step == 5
    assert [e["data"]["step"] for e in second_sink.of_type("progress")] == [3, 4, 5]
    assert latest_checkpoint(checkpoints).name == "checkpoint-5"


def test_training_lowers_loss(dataset_request, tiny_model_dir, tiny_tokenizer):
    request = StageRequest.model_validate(
        dataset_request(max_steps=12, checkpoint_every=50, learning_rate=0.01, warmup_steps=0)
    )
    sink = ListSink()

    outcome = train(
        request, str(tiny_model_dir), make_samples(tiny_tokenizer), EventEmitter(request, sink),
        threading.Event(),
    )

    losses = [e["data"]["loss"] for e in sink.of_type("metric")]
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.1
    assert outcome.final_train_loss == losses[-1]


@pytest.fixture
def poisoned_model_dir(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        model.model.norm.weight.fill_(math.nan)
    folder = tmp_path / "poisoned"
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    return folder


def test_non_finite_loss_fails_stage(dataset_request, poisoned_model_dir, check_events):
    document = dataset_request(max_steps=6, checkpoint_every=10)
    document["model"]["name"] = str(poisoned_model_dir)
    request = StageRequest.model_validate(document)
    sink = ListSink()

    result = run_stage(request, EventEmitter(request, sink))

    check_events(sink.events)
    assert result["status"] == "FAILED"
    assert "NaN or infinite 3 logs in a row" in result["error"]
    assert [e["data"]["step"] for e in sink.of_type("progress")] == [1, 2, 3]
    assert sink.of_type("error")[0]["data"]["error_type"] == NonFiniteLossError.__name__
    assert sink.events[-1]["data"]["status"] == "FAILED"
