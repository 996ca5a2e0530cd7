"""Clean conversations, filter them and count what was dropped and why.

`prepare_conversations` runs the whole data path of a dataset run: locate the file,
stream its rows, convert each with the detected row adapter, then normalise, filter and
de-duplicate. `DataReport` collects the counts that become the `data_report` event and
report.json. Tokenization adds `too_long`, `trimmed` and the split sizes later, then
calls `DataReport.publish`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .adapters import Conversation, Message, RowParseError, detect_adapter
from .config import DatasetConfig, StageRequest
from .csv_reader import CsvReader
from .events import EventEmitter
from .loading import load_dataset_file

logger = logging.getLogger(__name__)

DROP_REASONS = (
    "parse_failure",
    "empty_turn",
    "too_short",
    "too_long",
    "duplicate",
    "below_quality",
    "topic_filtered",
)
# Conversations whose messages together have fewer characters than this teach nothing.
MIN_CONVERSATION_CHARS = 16
# Parse failures described one by one in the report's warnings before the rest are counted.
MAX_DETAILED_FAILURES = 10

# C0 and C1 control characters except tab and newline, plus DEL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Horizontal whitespace other than a plain space, which is collapsed to one space.
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class DataReport:
    """Counts of one dataset's processing, in the shape of the data_report event."""

    shape: str | None = None
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    trimmed: int = 0
    train_rows: int | None = None
    validation_rows: int | None = None
    dataset_sha256: str | None = None
    dataset_bytes: int | None = None
    warnings: list[str] = field(default_factory=list)

    def drop(self, reason: str, count: int = 1) -> None:
        """Count dropped rows under one of DROP_REASONS."""
        if reason not in self.dropped:
            raise ValueError(f"unknown drop reason {reason!r}; expected one of {DROP_REASONS}")
        self.dropped[reason] += count

    def to_event_data(self) -> dict[str, Any]:
        """Return the payload of a `data_report` event."""
        return {
            "shape": self.shape,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(self.dropped),
            "trimmed": self.trimmed,
            "train_rows": self.train_rows,
            "validation_rows": self.validation_rows,
            "dataset_sha256": self.dataset_sha256,
            "dataset_bytes": self.dataset_bytes,
            "warnings": list(self.warnings),
        }

    def save(self, path: str | Path) -> Path:
        """Write the report as indented JSON and return its path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_event_data(), indent=2) + "\n", encoding="utf-8")
        return target

    def publish(self, emitter: EventEmitter, output_dir: str | Path) -> Path:
        """Save `<output_dir>/report.json`, then send the data_report and artifact events."""
        path = self.save(Path(output_dir) / "report.json")
        emitter.emit("data_report", self.to_event_data())
        emitter.emit(
            "artifact",
            {
                "kind": "processing_report",
                "path": str(path),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "bytes": path.stat().st_size,
            },
        )
        return path


def normalize_text(text: str) -> str:
    """Normalise one message: NFC, LF line ends, no control characters, single spaces.

    Runs of spaces, tabs and other horizontal whitespace (such as U+00A0) become one
    space, each line loses trailing spaces, and three or more newlines become two.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_CHARS.sub("", text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _EXTRA_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def content_key(messages: list[Message]) -> bytes:
    """Hash a conversation's roles and case-folded text, for de-duplication."""
    canonical = json.dumps(
        [[message["role"], message["content"].casefold()] for message in messages],
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).digest()


class ConversationFilter:
    """Apply quality, topic, empty-turn, length and duplicate filters, counting drops."""

    def __init__(self, dataset: DatasetConfig, report: DataReport, *, use_quality: bool) -> None:
        self._report = report
        self._threshold = dataset.effective_quality_threshold if use_quality else None
        self._include = {topic.strip().casefold() for topic in dataset.topics_include}
        self._exclude = {topic.strip().casefold() for topic in dataset.topics_exclude}
        self._seen: set[bytes] = set()

    def accept(self, conversation: Conversation) -> Conversation | None:
        """Return the cleaned conversation, or None after counting why it was dropped."""
        reason = self._metadata_reason(conversation)
        if reason is None:
            messages = [
                {"role": message["role"], "content": normalize_text(message["content"])}
                for message in conversation.messages
            ]
            reason = self._content_reason(messages)
        if reason is not None:
            self._report.drop(reason)
            return None

        return Conversation(
            messages=messages,
            row=conversation.row,
            topics=conversation.topics,
            quality=conversation.quality,
            source=conversation.source,
        )

    def _metadata_reason(self, conversation: Conversation) -> str | None:
        if (
            self._threshold is not None
            and conversation.quality is not None
            and conversation.quality < self._threshold
        ):
            return "below_quality"
        topics = {topic.casefold() for topic in conversation.topics}
        if self._include and not topics & self._include:
            return "topic_filtered"
        if topics & self._exclude:
            return "topic_filtered"
        return None

    def _content_reason(self, messages: list[Message]) -> str | None:
        if any(not message["content"] for message in messages):
            return "empty_turn"
        if sum(len(message["content"]) for message in messages) < MIN_CONVERSATION_CHARS:
            return "too_short"
        key = content_key(messages)
        if key in self._seen:
            return "duplicate"
        self._seen.add(key)
        return None


def clean_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    columns: list[str],
    dataset: DatasetConfig,
    report: DataReport,
) -> list[list[Message]]:
    """Convert and filter numbered rows; count parse failures and drops into `report`."""
    adapter = detect_adapter(columns, dataset.column_mapping)
    report.shape = adapter.shape
    conversation_filter = ConversationFilter(
        dataset, report, use_quality=adapter.quality is not None
    )
    failures: list[str] = []
    kept: list[list[Message]] = []

    for number, values in rows:
        try:
            conversation = adapter.convert(values, row=number)
        except RowParseError as exc:
            report.drop("parse_failure")
            if len(failures) < MAX_DETAILED_FAILURES:
                failures.append(f"row {number}: {exc}")
            continue
        accepted = conversation_filter.accept(conversation)
        if accepted is not None:
            kept.append(accepted.messages)

    failure_count = report.dropped["parse_failure"]
    if failure_count:
        hidden = failure_count - len(failures)
        noun = "row" if failure_count == 1 else "rows"
        summary = f"{failure_count} {noun} could not be parsed"
        if hidden:
            summary += f" ({hidden} not listed)"
        report.warnings.append(summary + ": " + "; ".join(failures))
    report.rows_kept = len(kept)
    return kept


def prepare_conversations(
    request: StageRequest,
    emitter: EventEmitter | None = None,
    *,
    cache_dir: str | Path | None = None,
) -> tuple[list[list[Message]], DataReport]:
    """Load, read, convert and clean the request's dataset.

    Sends DOWNLOADING and PROCESSING status events and one log event per warning. The
    data_report event is left to the caller, which fills in the tokenization counts and
    then calls `report.publish(emitter, request.output_dir)`. Raises DatasetLoadError,
    CsvFormatError or AdapterError when the dataset cannot be used at all.
    """
    dataset = request.dataset
    if dataset is None:
        raise ValueError(f"stage {request.stage!r} has no dataset to prepare")
    report = DataReport()

    if emitter is not None:
        emitter.status("DOWNLOADING")
    dataset_file = load_dataset_file(dataset, cache_dir=cache_dir)
    report.dataset_sha256 = dataset_file.sha256
    report.dataset_bytes = dataset_file.bytes

    if emitter is not None:
        emitter.status("PROCESSING")
    with CsvReader(dataset_file.path, max_rows=dataset.max_rows) as reader:
        rows = ((row.number, row.values) for row in reader)
        conversations = clean_rows(rows, reader.columns, dataset, report)
        report.rows_read = reader.rows_read
        report.drop("parse_failure", reader.malformed_rows)
        report.warnings[:0] = reader.warnings

    logger.info(
        "dataset %d: read %d rows, kept %d, dropped %s",
        dataset.index,
        report.rows_read,
        report.rows_kept,
        {reason: count for reason, count in report.dropped.items() if count},
    )
    if emitter is not None:
        for warning in report.warnings:
            emitter.log("warning", warning, __name__)
    return conversations, report
