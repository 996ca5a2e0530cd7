"""Events the pipeline sends to the control plane.

Every event follows schema/contracts/event.schema.json. `EventEmitter` fills the envelope
(version, ids, stream, sequence number, timestamp) and makes the payload safe for the
server and for Modal's JS SDK. NaN and infinity become null and are listed in
`non_finite`. Numpy and torch scalars become plain numbers. Integers that may exceed
32 bits are sent as floats. A sink delivers each event: stdout JSON lines for the local
executor, a Modal Queue partition on Modal, or a list in tests.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import random
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol, TextIO

EVENT_TYPES = frozenset(
    {
        "status",
        "progress",
        "metric",
        "log",
        "checkpoint",
        "artifact",
        "data_report",
        "heartbeat",
        "error",
        "result",
    }
)
# Types whose payload always carries a non_finite list, empty or not, as the examples do.
_ALWAYS_NON_FINITE = frozenset({"metric", "result"})
# Counters that can pass 2**31 on long runs, so they are always sent as floats.
_FLOAT_KEYS = frozenset({"tokens_seen", "bytes", "dataset_bytes"})
# Modal's JS SDK decodes only integers that fit in a signed 32-bit int.
_INT32_MAX = 2**31 - 1
# Events sent per Queue.put_many call when the buffer is flushed.
_QUEUE_BATCH_SIZE = 100

logger = logging.getLogger(__name__)


class Sink(Protocol):
    """Destination of serialized events."""

    def write(self, event: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class StageIdentity(Protocol):
    job_id: str
    run_id: str | None
    stage: str
    attempt: int
    heartbeat_seconds: float


class StdoutSink:
    """Writes one JSON object per line to stdout (or another text stream) and flushes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def write(self, event: dict[str, Any]) -> None:
        stream = self._stream or sys.stdout
        stream.write(json.dumps(event, ensure_ascii=False, allow_nan=False) + "\n")
        stream.flush()

    def close(self) -> None:
        stream = self._stream or sys.stdout
        stream.flush()


class ListSink:
    """Keeps events in memory, for tests."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def write(self, event: dict[str, Any]) -> None:
        # A JSON round trip proves the event serializes exactly as StdoutSink would.
        self.events.append(json.loads(json.dumps(event, allow_nan=False)))

    def close(self) -> None:
        pass

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """Return the events of one type, in order."""
        return [event for event in self.events if event["type"] == event_type]


class ModalQueueSink:
    """Puts events as JSON strings into one partition of a `modal.Queue`.

    Events are buffered and sent in order, in batches. A failed put never sleeps in the
    caller's thread: the events stay buffered, and the next write after an exponential
    backoff with jitter tries again, so training goes on while the queue is away.
    `close()` is the exception: it retries up to `max_attempts` times, sleeping between
    tries, before it gives up. When the buffer contains `max_buffered` events, the
    oldest is dropped and counted in `dropped`.
    """

    def __init__(
        self,
        queue: Any,
        partition: str,
        *,
        max_attempts: int = 5,
        base_delay_seconds: float = 0.5,
        max_delay_seconds: float = 30.0,
        max_buffered: int = 5000,
        put_timeout_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        size = len(partition.encode("utf-8"))
        if not 1 <= size <= 64:
            raise ValueError(
                f"Modal queue partition must be 1-64 bytes, got {size} bytes: {partition!r}"
            )
        self._queue = queue
        self._partition = partition
        self._max_attempts = max_attempts
        self._base_delay = base_delay_seconds
        self._max_delay = max_delay_seconds
        self._sleep = sleep
        self._clock = clock
        self._buffer: deque[str] = deque()
        self._max_buffered = max_buffered
        self._put_timeout = put_timeout_seconds
        self._lock = threading.RLock()
        self._failures = 0
        self._next_attempt_at = 0.0
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Number of events buffered and not yet delivered."""
        return len(self._buffer)

    def write(self, event: dict[str, Any]) -> None:
        with self._lock:
            if len(self._buffer) >= self._max_buffered:
                self._buffer.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    logger.warning(
                        "event buffer full (%d events): dropped the oldest event, "
                        "%d dropped so far",
                        self._max_buffered,
                        self.dropped,
                    )
            self._buffer.append(json.dumps(event, ensure_ascii=False, allow_nan=False))
            if self._clock() >= self._next_attempt_at:
                self._try_flush()

    def close(self) -> None:
        """Deliver the buffer, retrying with sleeps; log what stays undelivered."""
        with self._lock:
            for attempt in range(1, self._max_attempts + 1):
                if self._try_flush():
                    return
                if attempt < self._max_attempts:
                    self._sleep(max(0.0, self._next_attempt_at - self._clock()))
            logger.error(
                "closing the event sink with %d undelivered events in partition %s",
                len(self._buffer),
                self._partition,
            )

    def _try_flush(self) -> bool:
        while self._buffer:
            items = list(itertools.islice(self._buffer, _QUEUE_BATCH_SIZE))
            try:
                # A timeout turns a full partition (Modal documents 5,000 items) into an
                # error that is retried, instead of blocking the training loop forever.
                self._queue.put_many(
                    items, timeout=self._put_timeout, partition=self._partition
                )
            except Exception as exc:  # noqa: BLE001 - any SDK or network failure is retried
                self._failures += 1
                delay = min(self._max_delay, self._base_delay * 2 ** (self._failures - 1))
                delay *= random.uniform(0.5, 1.0)
                self._next_attempt_at = self._clock() + delay
                logger.warning(
                    "queue put failed (%d in a row), keeping %d events buffered, next try "
                    "in %.2f s: %s",
                    self._failures,
                    len(self._buffer),
                    delay,
                    exc,
                )
                return False
            for _ in items:
                self._buffer.popleft()

        if self._failures:
            logger.info("queue put succeeded after %d failed tries", self._failures)
        self._failures = 0
        self._next_attempt_at = 0.0
        return True


class EventEmitter:
    """Builds contract events for one stage attempt and writes them to a sink.

    Thread-safe: the heartbeat thread and the main thread share one sequence.
    """

    def __init__(
        self,
        request: StageIdentity,
        sink: Sink,
        *,
        stream: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.request = request
        self.sink = sink
        self.stream = stream or uuid.uuid4().hex
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._seq = 0
        # Re-entrant, so a signal handler that emits while the main thread is inside
        # emit() cannot deadlock. The nested event may then be written before the outer.
        self._lock = threading.RLock()
        self._heartbeat_stop: threading.Event | None = None
        self._heartbeat_thread: threading.Thread | None = None

    @property
    def seq(self) -> int:
        """Sequence number of the last event sent; 0 before the first."""
        return self._seq

    def emit(self, event_type: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one event and return it as sent."""
        if event_type not in EVENT_TYPES:
            raise ValueError(
                f"unknown event type {event_type!r}; expected one of {sorted(EVENT_TYPES)}"
            )
        payload, non_finite = sanitize(dict(data or {}))
        if non_finite or event_type in _ALWAYS_NON_FINITE:
            payload["non_finite"] = sorted(set(payload.get("non_finite") or []) | set(non_finite))

        with self._lock:
            self._seq += 1
            event = {
                "v": 1,
                "job_id": self.request.job_id,
                "run_id": self.request.run_id,
                "stage": self.request.stage,
                "attempt": self.request.attempt,
                "stream": self.stream,
                "seq": self._seq,
                "ts": _format_timestamp(self._clock()),
                "type": event_type,
                "data": payload,
            }
            self.sink.write(event)
        return event

    def status(self, status: str, message: str | None = None) -> dict[str, Any]:
        return self.emit("status", {"status": status, "message": message})

    def log(self, level: str, message: str, logger_name: str | None = None) -> dict[str, Any]:
        return self.emit("log", {"level": level, "message": message, "logger": logger_name})

    def start_heartbeat(self, get_step: Callable[[], int | None] | None = None) -> None:
        """Send a heartbeat with the current step every `heartbeat_seconds` until stopped."""
        if self._heartbeat_thread is not None:
            return
        stop = threading.Event()
        interval = float(self.request.heartbeat_seconds)

        def beat() -> None:
            while not stop.wait(interval):
                step = None
                if get_step is not None:
                    try:
                        step = get_step()
                    except Exception:  # noqa: BLE001 - a failing probe must not stop heartbeats
                        logger.exception("heartbeat step callback failed; sending step null")
                try:
                    self.emit("heartbeat", {"step": step})
                except Exception:  # noqa: BLE001 - keep beating while the sink recovers
                    logger.exception("sending a heartbeat failed")

        self._heartbeat_stop = stop
        self._heartbeat_thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        self._heartbeat_thread.start()

    def stop_heartbeat(self) -> None:
        """Stop the heartbeat thread and wait for it; harmless when none runs."""
        if self._heartbeat_thread is None or self._heartbeat_stop is None:
            return
        self._heartbeat_stop.set()
        self._heartbeat_thread.join()
        self._heartbeat_thread = None
        self._heartbeat_stop = None

    def close(self) -> None:
        """Stop the heartbeat and flush the sink."""
        self.stop_heartbeat()
        self.sink.close()


class EventLogHandler(logging.Handler):
    """Forwards log records to the emitter as `log` events.

    Records of this module's logger (the sinks' own delivery warnings) are skipped, so a
    failing sink never feeds its failures back into itself. They still reach the other
    handlers, such as stderr.
    """

    _LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning"}

    def __init__(self, emitter: EventEmitter, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._emitter = emitter
        self._local = threading.local()

    def handle(self, record: logging.LogRecord) -> logging.LogRecord | bool:
        # Unlike logging.Handler.handle, this takes no handler lock. EventEmitter.emit is
        # thread-safe, and a handler lock held around it deadlocks when a sink logs
        # while the emitter's lock is held in another thread.
        result = self.filter(record)
        if isinstance(result, logging.LogRecord):
            record = result
        if result:
            self.emit(record)
        return result

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == __name__:
            return
        # A sink that logs through another logger must not loop back into the sink.
        if getattr(self._local, "active", False):
            return
        self._local.active = True
        try:
            level = self._LEVELS.get(record.levelname, "error")
            self._emitter.log(level, self.format(record), record.name)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
        finally:
            self._local.active = False


def sanitize(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Convert a payload to plain JSON values; return it with the paths of non-finite numbers.

    Paths are dotted for nested objects (`metrics.eval_loss`) and carry the index for
    list items (`values.2`).
    """
    non_finite: list[str] = []

    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            converted, found = sanitize(item, child_path)
            if str(key) in _FLOAT_KEYS and isinstance(converted, int) and not isinstance(
                converted, bool
            ):
                converted = float(converted)
            result[str(key)] = converted
            non_finite.extend(found)
        return result, non_finite

    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            converted, found = sanitize(item, f"{path}.{index}" if path else str(index))
            items.append(converted)
            non_finite.extend(found)
        return items, non_finite

    value = _to_python_scalar(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value, non_finite
    if isinstance(value, int):
        return (float(value) if abs(value) > _INT32_MAX else value), non_finite
    if isinstance(value, float):
        if math.isfinite(value):
            return value, non_finite
        return None, [path]
    raise TypeError(f"event field {path or '(root)'} has unsupported type {type(value).__name__}")


def _to_python_scalar(value: Any) -> Any:
    # numpy scalars and one-element torch tensors both offer item(); checking for it
    # avoids importing either library here.
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError, RuntimeError):
            pass
    return value


def _format_timestamp(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
