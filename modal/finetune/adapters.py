"""Row adapters: turn one CSV row into a conversation of user and assistant messages.

Three row shapes are supported, detected from the CSV header unless the request's
`column_mapping` names the shape or columns:

- travel_literal: the files of the Hugging Face dataset
  soniawmeyer/travel-conversations-finetuning. Column `data` contains a Python literal
  (a single-quoted repr, so it is parsed with `ast.literal_eval`, never `eval`) and
  `source` names the record kind: ultrachat, dolly or reddit.
- transcript: one column with `Human:` / `Assistant:` turns, each possibly multi-line.
- question_answer: a question column and an answer column.

Any shape may also have a numeric quality column and a topic column. A row that cannot
be converted raises `RowParseError`, which the caller counts as a parse failure.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import ColumnMapping

Message = dict[str, str]

# Header names (compared case-insensitively) that identify each column role.
DATA_COLUMNS = ("data",)
SOURCE_COLUMNS = ("source",)
TRANSCRIPT_COLUMNS = ("conversation_text", "transcript", "conversation", "dialogue", "dialog")
QUESTION_COLUMNS = ("question", "prompt", "instruction", "query", "input")
ANSWER_COLUMNS = ("answer", "response", "output", "completion")
QUALITY_COLUMNS = ("quality_score", "quality", "score", "rating")
# travel_literal files carry both; topic_assignment (an integer 0-99) comes first.
TOPIC_COLUMNS = ("topic", "topic_assignment", "bert_topic", "category")

# Reddit answer selection: the first comment, in the file's best-first order, that is not
# deleted or removed and has a length in this range (characters, after stripping).
REDDIT_MIN_COMMENT_CHARS = 20
REDDIT_MAX_COMMENT_CHARS = 4000
REDDIT_DELETED = frozenset({"[deleted]", "[removed]"})

_TRANSCRIPT_MARKER = re.compile(
    r"^[ \t]*(human|user|assistant|system)[ \t]*:[ \t]?", re.IGNORECASE | re.MULTILINE
)
_MARKER_ROLES = {"human": "user", "user": "user", "assistant": "assistant", "system": "system"}


class AdapterError(ValueError):
    """No adapter fits the CSV header or the requested column mapping."""


class RowParseError(ValueError):
    """One row that cannot be turned into a conversation."""


@dataclass
class Conversation:
    """Messages of one row, with the row's number, topics and quality score."""

    messages: list[Message]
    row: int
    topics: tuple[str, ...] = ()
    quality: float | None = None
    source: str | None = None


@dataclass(frozen=True)
class RowAdapter:
    """A shape plus the header names of the columns it reads."""

    shape: str
    data: str | None = None
    source: str | None = None
    transcript: str | None = None
    question: str | None = None
    answer: str | None = None
    quality: str | None = None
    topics: tuple[str, ...] = field(default_factory=tuple)

    def convert(self, values: Mapping[str, str], row: int) -> Conversation:
        """Build the conversation of one row; raise RowParseError when it is unusable."""
        source = None
        if self.shape == "travel_literal":
            source = (values.get(self.source, "") if self.source else "").strip().lower() or None
            messages = parse_travel_record(values[self.data], source)
        elif self.shape == "transcript":
            messages = parse_transcript(values[self.transcript])
        else:
            messages = [
                {"role": "user", "content": values[self.question]},
                {"role": "assistant", "content": values[self.answer]},
            ]

        topics = tuple(
            values[name].strip() for name in self.topics if values.get(name, "").strip()
        )
        return Conversation(
            messages=messages,
            row=row,
            topics=topics,
            quality=self._quality_of(values),
            source=source,
        )

    def _quality_of(self, values: Mapping[str, str]) -> float | None:
        if not self.quality:
            return None
        text = values.get(self.quality, "").strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise RowParseError(
                f"quality column {self.quality!r} is not a number: {text[:40]!r}"
            ) from None


def detect_adapter(columns: Sequence[str], mapping: ColumnMapping | None = None) -> RowAdapter:
    """Choose the row adapter for a CSV header, applying the request's column mapping."""
    lookup = {name.strip().lower(): name for name in columns}
    mapping = mapping or ColumnMapping()

    def pick(role: str, candidates: Sequence[str]) -> str | None:
        explicit = getattr(mapping, role)
        if explicit is not None:
            if explicit not in columns:
                raise AdapterError(
                    f"column_mapping.{role} names column {explicit!r}, which is not in the "
                    f"CSV header; columns found: {list(columns)}"
                )
            return explicit
        return next((lookup[name] for name in candidates if name in lookup), None)

    data = pick("data", DATA_COLUMNS)
    source = pick("source", SOURCE_COLUMNS)
    transcript = pick("transcript", TRANSCRIPT_COLUMNS)
    question = pick("question", QUESTION_COLUMNS)
    answer = pick("answer", ANSWER_COLUMNS)
    quality = pick("quality", QUALITY_COLUMNS)
    if mapping.topic is not None:
        topics = (pick("topic", ()),)
    else:
        topics = tuple(lookup[name] for name in TOPIC_COLUMNS if name in lookup)

    shape = mapping.shape or _infer_shape(mapping, data, source, transcript, question, answer)
    if shape is None:
        raise AdapterError(_no_match_message(columns))

    needed = {
        "travel_literal": {"data": data},
        "transcript": {"transcript": transcript},
        "question_answer": {"question": question, "answer": answer},
    }[shape]
    missing = [role for role, column in needed.items() if column is None]
    if missing:
        raise AdapterError(
            f"shape {shape!r} is missing its {' and '.join(missing)} column: no header name "
            f"matches and column_mapping sets none; columns found: {list(columns)}. "
            f"Set dataset.column_mapping.{missing[0]} to the column's name."
        )

    return RowAdapter(
        shape=shape,
        data=data if shape == "travel_literal" else None,
        source=source if shape == "travel_literal" else None,
        transcript=transcript if shape == "transcript" else None,
        question=question if shape == "question_answer" else None,
        answer=answer if shape == "question_answer" else None,
        quality=quality,
        topics=topics,
    )


def _infer_shape(
    mapping: ColumnMapping,
    data: str | None,
    source: str | None,
    transcript: str | None,
    question: str | None,
    answer: str | None,
) -> str | None:
    # Columns named in the mapping decide before names found in the header.
    if mapping.data is not None or mapping.source is not None:
        return "travel_literal"
    if mapping.transcript is not None:
        return "transcript"
    if mapping.question is not None or mapping.answer is not None:
        return "question_answer"
    if data is not None and source is not None:
        return "travel_literal"
    if transcript is not None:
        return "transcript"
    if question is not None and answer is not None:
        return "question_answer"
    return None


def _no_match_message(columns: Sequence[str]) -> str:
    return (
        f"no row adapter matches the CSV columns {list(columns)}. Expected one of: "
        f"travel_literal (a column named {' or '.join(DATA_COLUMNS)} with a Python-literal "
        f"record, plus {' or '.join(SOURCE_COLUMNS)}); "
        f"transcript (a column named {', '.join(TRANSCRIPT_COLUMNS)} with Human:/Assistant: "
        f"turns); question_answer (a question column named {', '.join(QUESTION_COLUMNS)} and "
        f"an answer column named {', '.join(ANSWER_COLUMNS)}). "
        "Set dataset.column_mapping to name the columns of your file."
    )


def parse_travel_record(text: str, source: str | None) -> list[Message]:
    """Convert the `data` cell of a travel_literal row into messages.

    The record's structure decides the conversion, and `source` only improves messages:
    a list is an ultrachat dialogue, a dict with `instruction` a dolly record, and a dict
    with `title` or `comments` a reddit thread.
    """
    record = _parse_literal(text)
    if isinstance(record, list):
        return _ultrachat_messages(record)
    if isinstance(record, dict) and "instruction" in record:
        return _dolly_messages(record)
    if isinstance(record, dict) and ("title" in record or "comments" in record):
        return _reddit_messages(record)
    kind = type(record).__name__
    keys = sorted(map(str, record))[:8] if isinstance(record, dict) else None
    raise RowParseError(
        f"data record of source {source!r} has an unknown structure: {kind}"
        + (f" with keys {keys}" if keys is not None else "")
    )


def _parse_literal(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        raise RowParseError("data cell is empty")
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as literal_error:
        # Some exports write JSON (true/false/null) instead of a Python repr.
        try:
            return json.loads(stripped)
        except (ValueError, RecursionError):
            detail = getattr(literal_error, "msg", None) or str(literal_error)
            raise RowParseError(
                f"data cell is not a valid Python literal: {type(literal_error).__name__}: "
                f"{detail[:80]}"
            ) from None


def _ultrachat_messages(turns: list[Any]) -> list[Message]:
    if not all(isinstance(turn, str) for turn in turns):
        raise RowParseError("ultrachat record contains a turn that is not a string")
    # A trailing user turn has no reply to learn from, so it is dropped.
    usable = turns[: len(turns) - len(turns) % 2]
    if not usable:
        raise RowParseError(f"ultrachat record has {len(turns)} turns, expected at least 2")
    roles = ("user", "assistant")
    return [{"role": roles[index % 2], "content": turn} for index, turn in enumerate(usable)]


def _dolly_messages(record: dict[str, Any]) -> list[Message]:
    instruction = _text_field(record, "instruction")
    context = _text_field(record, "context")
    response = _text_field(record, "response")
    prompt = f"{instruction}\n\n{context}" if context.strip() else instruction
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]


def _reddit_messages(record: dict[str, Any]) -> list[Message]:
    title = _text_field(record, "title")
    body = _text_field(record, "selftext")
    question = title
    if body.strip() and body.strip() not in REDDIT_DELETED:
        question = f"{title}\n\n{body}"

    comments = record.get("comments") or []
    if not isinstance(comments, list):
        raise RowParseError(
            f"reddit record field 'comments' is {type(comments).__name__}, expected a list"
        )
    answer = next((text for text in map(_comment_text, comments) if text is not None), "")
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def _comment_text(comment: Any) -> str | None:
    if isinstance(comment, dict):
        comment = comment.get("body")
    if not isinstance(comment, str):
        return None
    text = comment.strip()
    if text in REDDIT_DELETED:
        return None
    if not REDDIT_MIN_COMMENT_CHARS <= len(text) <= REDDIT_MAX_COMMENT_CHARS:
        return None
    return text


def _text_field(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RowParseError(f"record field {key!r} is {type(value).__name__}, expected a string")
    return value


def parse_transcript(text: str) -> list[Message]:
    """Split a `Human:` / `Assistant:` transcript into messages.

    Markers count only at the start of a line (`User:` and `System:` are also accepted).
    A turn runs until the next marker, so it may span lines. Consecutive turns of one role
    are joined with a blank line, and a trailing user turn without a reply is dropped.
    """
    markers = list(_TRANSCRIPT_MARKER.finditer(text))
    if not markers:
        raise RowParseError("transcript has no 'Human:' or 'Assistant:' turn markers")
    preamble = text[: markers[0].start()].strip()
    if preamble:
        raise RowParseError(f"transcript has text before its first turn marker: {preamble[:40]!r}")

    messages: list[Message] = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        role = _MARKER_ROLES[marker.group(1).lower()]
        content = text[marker.end() : end].strip()
        if role == "system" and messages:
            raise RowParseError("transcript has a 'System:' turn after the first turn")
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n\n" + content
        else:
            messages.append({"role": role, "content": content})

    if messages and messages[-1]["role"] == "user":
        messages.pop()
    dialogue = [message for message in messages if message["role"] != "system"]
    if not dialogue or dialogue[0]["role"] != "user":
        raise RowParseError("transcript must start with a 'Human:' turn followed by 'Assistant:'")
    return messages
