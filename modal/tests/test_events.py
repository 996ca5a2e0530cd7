import io
import json
import math
import threading
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from finetune.config import StageRequest
from finetune.events import (
    EventEmitter,
    EventLogHandler,
    ListSink,
    ModalQueueSink,
    StdoutSink,
    sanitize,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "schema" / "contracts"
FIXED_TIME = datetime(2026, 12, 4, 10, 0, 1, 234567, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def event_schema():
    schema = json.loads((CONTRACTS / "event.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def request_():
    return StageRequest.load(CONTRACTS / "examples" / "stage-request.dataset-run.json")


def make_emitter(request, sink=None):
    return EventEmitter(request, sink or ListSink(), stream="s1", clock=lambda: FIXED_TIME)


def test_envelope_fields(request_, event_schema):
    sink = ListSink()
    emitter = make_emitter(request_, sink)

    emitter.emit("status", {"status": "DOWNLOADING"})
    emitter.emit("progress", {"step": 1, "total_steps": 20, "tokens_seen": 1024})

    first, second = sink.events
    assert first == {
        "v": 1,
        "job_id": "job_example",
        "run_id": "run_example_0",
        "stage": "dataset_run",
        "attempt": 1,
        "stream": "s1",
        "seq": 1,
        "ts": "2026-12-04T10:00:01.234Z",
        "type": "status",
        "data": {"status": "DOWNLOADING"},
    }
    assert second["seq"] == 2
    assert second["data"]["tokens_seen"] == 1024.0
    assert isinstance(second["data"]["tokens_seen"], float)
    for event in sink.events:
        event_schema.validate(event)


def test_stream_defaults_to_uuid_hex(request_):
    first = EventEmitter(request_, ListSink())
    second = EventEmitter(request_, ListSink())

    assert len(first.stream) == 32
    int(first.stream, 16)
    assert first.stream != second.stream


def test_non_finite_become_null_and_listed(request_, event_schema):
    sink = ListSink()
    emitter = make_emitter(request_, sink)

    emitter.emit("metric", {"step": 2, "split": "train", "loss": float("nan"), "grad_norm": float("inf"), "learning_rate": 2e-4})
    emitter.emit("result", {"status": "FAILED", "metrics": {"eval_loss": -math.inf, "perplexity": 3.0}})
    emitter.emit("metric", {"step": 3, "split": "train", "loss": 1.5})

    metric, result, clean = sink.events
    assert metric["data"]["loss"] is None
    assert metric["data"]["grad_norm"] is None
    assert metric["data"]["learning_rate"] == 2e-4
    assert metric["data"]["non_finite"] == ["grad_norm", "loss"]
    assert result["data"]["metrics"]["eval_loss"] is None
    assert result["data"]["non_finite"] == ["metrics.eval_loss"]
    assert clean["data"]["non_finite"] == []
    for event in sink.events:
        event_schema.validate(event)


def test_non_finite_added_to_other_types_only_when_found(request_):
    sink = ListSink()
    emitter = make_emitter(request_, sink)

    emitter.emit("progress", {"step": 1, "total_steps": 2, "epoch": float("nan")})
    emitter.emit("progress", {"step": 2, "total_steps": 2, "epoch": 1.0})

    assert sink.events[0]["data"]["non_finite"] == ["epoch"]
    assert "non_finite" not in sink.events[1]["data"]


class FakeScalar:
    """Stands in for a numpy or torch scalar: only item() matters."""

    def __init__(self, value):
        self._value = value

    def item(self):
        return self._value


def test_scalars_and_large_ints_converted():
    data, non_finite = sanitize(
        {
            "loss": FakeScalar(0.5),
            "step": FakeScalar(7),
            "bytes": 10,
            "rows": 2**40,
            "small": -(2**31) + 1,
            "flags": (True, None, "x"),
            "nested": {"dataset_bytes": 3, "gpu": FakeScalar(float("nan"))},
        }
    )

    assert data == {
        "loss": 0.5,
        "step": 7,
        "bytes": 10.0,
        "rows": float(2**40),
        "small": -(2**31) + 1,
        "flags": [True, None, "x"],
        "nested": {"dataset_bytes": 3.0, "gpu": None},
    }
    assert isinstance(data["step"], int)
    assert isinstance(data["bytes"], float)
    assert isinstance(data["rows"], float)
    assert isinstance(data["small"], int)
    assert data["flags"][0] is True
    assert non_finite == ["nested.gpu"]


def test_unsupported_value_rejected():
    with pytest.raises(TypeError) as caught:
        sanitize({"when": datetime(2026, 1, 1)})

    assert str(caught.value) == "event field when has unsupported type datetime"


def test_unknown_type_rejected(request_):
    emitter = make_emitter(request_)

    with pytest.raises(ValueError) as caught:
        emitter.emit("started", {})

    assert str(caught.value).startswith("unknown event type 'started'; expected one of")
    assert emitter.seq == 0


def test_stdout_sink_writes_json_lines(request_):
    buffer = io.StringIO()
    emitter = make_emitter(request_, StdoutSink(buffer))

    emitter.emit("log", {"level": "info", "message": "Zürich ✓", "logger": "t"})
    emitter.emit("heartbeat", {"step": None})

    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["data"]["message"] == "Zürich ✓"
    assert json.loads(lines[1])["seq"] == 2


def test_concurrent_emits_keep_sequence(request_):
    sink = ListSink()
    emitter = make_emitter(request_, sink)

    def send():
        for step in range(200):
            emitter.emit("heartbeat", {"step": step})

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [event["seq"] for event in sink.events] == list(range(1, 801))


def test_heartbeat_thread_reports_step(request_):
    request_ = request_.model_copy(update={"heartbeat_seconds": 0.01})
    sink = ListSink()
    emitter = make_emitter(request_, sink)
    enough = threading.Event()
    calls = []

    def get_step():
        calls.append(1)
        if len(calls) >= 3:
            enough.set()
        return 5

    emitter.start_heartbeat(get_step)
    assert enough.wait(10)
    emitter.stop_heartbeat()
    count = len(sink.events)
    emitter.stop_heartbeat()

    assert count >= 3
    assert all(event["type"] == "heartbeat" for event in sink.events)
    assert sink.events[0]["data"] == {"step": 5}
    assert len(sink.events) == count


def test_heartbeat_survives_failing_step(request_):
    request_ = request_.model_copy(update={"heartbeat_seconds": 0.01})
    sink = ListSink()
    emitter = make_emitter(request_, sink)
    beat = threading.Event()

    def get_step():
        beat.set()
        raise RuntimeError("trainer not ready")

    emitter.start_heartbeat(get_step)
    assert beat.wait(10)
    emitter.stop_heartbeat()

    assert sink.events[0]["data"] == {"step": None}


class FakeModalQueue:
    """Fake of modal.Queue.put_many that fails a set number of times first."""

    def __init__(self, failures=0):
        self.failures = failures
        self.partitions: dict[str, list[str]] = {}
        self.calls = 0
        self.timeouts = []

    def put_many(self, items, block=True, timeout=None, *, partition=None):
        self.calls += 1
        self.timeouts.append(timeout)
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("queue unreachable")
        self.partitions.setdefault(partition, []).extend(items)


def test_queue_sink_puts_json_strings(request_, event_schema):
    queue = FakeModalQueue()
    emitter = make_emitter(request_, ModalQueueSink(queue, "job_example"))

    emitter.emit("status", {"status": "TRAINING"})
    emitter.emit("metric", {"step": 1, "split": "train", "loss": float("nan")})

    items = queue.partitions["job_example"]
    assert all(isinstance(item, str) for item in items)
    events = [json.loads(item) for item in items]
    assert [event["seq"] for event in events] == [1, 2]
    for event in events:
        event_schema.validate(event)


class FakeClock:
    """Monotonic clock for the queue sink; sleeping advances it."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_queue_sink(queue, clock, **options):
    return ModalQueueSink(queue, "p", clock=clock, sleep=clock.sleep, **options)


def delivered_seqs(queue):
    return [json.loads(item)["seq"] for item in queue.partitions.get("p", [])]


def test_queue_sink_backs_off_without_sleeping(request_):
    queue = FakeModalQueue(failures=2)
    clock = FakeClock()
    emitter = make_emitter(request_, make_queue_sink(queue, clock, base_delay_seconds=1.0))

    emitter.emit("status", {"status": "TRAINING"})
    emitter.emit("heartbeat", {"step": 1})
    calls_during_backoff = queue.calls
    clock.now += 1.0
    emitter.emit("heartbeat", {"step": 2})
    clock.now += 2.0
    emitter.emit("heartbeat", {"step": 3})

    assert calls_during_backoff == 1
    assert queue.calls == 3
    assert clock.sleeps == []
    assert delivered_seqs(queue) == [1, 2, 3, 4]


def test_queue_sink_close_retries_with_sleeps(request_):
    queue = FakeModalQueue(failures=3)
    clock = FakeClock()
    sink = make_queue_sink(queue, clock, base_delay_seconds=1.0)
    emitter = make_emitter(request_, sink)
    emitter.emit("status", {"status": "TRAINING"})

    sink.close()

    assert delivered_seqs(queue) == [1]
    assert len(clock.sleeps) == 2
    assert 1.0 <= clock.sleeps[0] <= 2.0
    assert 2.0 <= clock.sleeps[1] <= 4.0
    assert sink.pending == 0


def test_queue_sink_close_gives_up(request_):
    queue = FakeModalQueue(failures=100)
    clock = FakeClock()
    sink = make_queue_sink(queue, clock, max_attempts=3)
    make_emitter(request_, sink).emit("status", {"status": "TRAINING"})

    sink.close()

    assert queue.calls == 1 + 3
    assert len(clock.sleeps) == 2
    assert sink.pending == 1


def test_queue_sink_drops_oldest_when_full(request_):
    queue = FakeModalQueue(failures=100)
    clock = FakeClock()
    sink = make_queue_sink(queue, clock, max_buffered=3)
    emitter = make_emitter(request_, sink)
    for step in range(5):
        emitter.emit("heartbeat", {"step": step})
    queue.failures = 0

    sink.close()

    assert delivered_seqs(queue) == [3, 4, 5]
    assert sink.dropped == 2


@pytest.mark.parametrize("partition", ["", "x" * 65])
def test_queue_sink_partition_size_checked(partition):
    with pytest.raises(ValueError) as caught:
        ModalQueueSink(FakeModalQueue(), partition)

    assert "Modal queue partition must be 1-64 bytes" in str(caught.value)


def test_log_handler_forwards_records(request_, event_schema):
    import logging

    sink = ListSink()
    emitter = make_emitter(request_, sink)
    log = logging.getLogger("finetune.test_events")
    log.setLevel(logging.DEBUG)
    handler = EventLogHandler(emitter)
    log.addHandler(handler)
    try:
        log.debug("ignored below INFO")
        log.info("step %d of %d", 2, 20)
        log.error("failed")
    finally:
        log.removeHandler(handler)

    assert [event["data"] for event in sink.events] == [
        {"level": "info", "message": "step 2 of 20", "logger": "finetune.test_events"},
        {"level": "error", "message": "failed", "logger": "finetune.test_events"},
    ]
    for event in sink.events:
        event_schema.validate(event)


class ReentrantSink(ListSink):
    """Emits one nested event from inside write(), as a signal handler on the main thread can."""

    def __init__(self):
        super().__init__()
        self.emitter = None

    def write(self, event):
        if event["type"] == "status" and self.emitter is not None:
            emitter, self.emitter = self.emitter, None
            emitter.emit("log", {"level": "warning", "message": "nested"})
        super().write(event)


def test_nested_emit_does_not_deadlock(request_):
    sink = ReentrantSink()
    emitter = make_emitter(request_, sink)
    sink.emitter = emitter
    worker = threading.Thread(target=emitter.emit, args=("status", {"status": "CANCELLED"}), daemon=True)

    worker.start()
    worker.join(timeout=10)

    assert not worker.is_alive()
    assert [(e["seq"], e["type"]) for e in sink.events] == [(2, "log"), (1, "status")]


def test_queue_sink_flushes_in_batches(request_):
    queue = FakeModalQueue(failures=1)
    clock = FakeClock()
    sink = make_queue_sink(queue, clock, put_timeout_seconds=7)
    emitter = make_emitter(request_, sink)
    for step in range(250):
        emitter.emit("heartbeat", {"step": step})
    assert sink.pending == 250
    queue.calls = 0

    sink.close()

    assert queue.calls == 3
    assert delivered_seqs(queue) == list(range(1, 251))
    assert sink.pending == 0
    assert set(queue.timeouts) == {7}


def test_log_handler_and_logging_sink_no_deadlock(request_):
    import logging

    in_write = threading.Event()
    formatting = threading.Event()
    log = logging.getLogger("finetune.test_events.deadlock")

    class LoggingSink(ListSink):
        """Logs from inside write(), as ModalQueueSink does when a put fails."""

        def write(self, event):
            if event["type"] == "heartbeat":
                in_write.set()
                formatting.wait(5)
                log.warning("queue put failed")
            super().write(event)

    class SignallingFormatter(logging.Formatter):
        def format(self, record):
            formatting.set()
            return super().format(record)

    sink = LoggingSink()
    emitter = make_emitter(request_, sink)
    handler = EventLogHandler(emitter)
    handler.setFormatter(SignallingFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    def log_from_main():
        in_write.wait(5)
        log.info("step done")

    heartbeat = threading.Thread(target=emitter.emit, args=("heartbeat", {"step": 1}), daemon=True)
    main = threading.Thread(target=log_from_main, daemon=True)
    try:
        heartbeat.start()
        main.start()
        heartbeat.join(10)
        main.join(10)
    finally:
        log.removeHandler(handler)

    assert not heartbeat.is_alive()
    assert not main.is_alive()
    assert sorted(e["data"].get("message", "") for e in sink.of_type("log")) == ["queue put failed", "step done"]


def test_log_handler_skips_sink_warnings(request_):
    import logging

    sink = ListSink()
    handler = EventLogHandler(make_emitter(request_, sink))
    events_logger = logging.getLogger("finetune.events")
    events_logger.addHandler(handler)
    try:
        events_logger.warning("queue put failed 5 times")
    finally:
        events_logger.removeHandler(handler)

    assert sink.events == []
