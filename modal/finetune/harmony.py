"""Render conversations in OpenAI's Harmony format for GPT-OSS, in pure Python.

The output matches what the chat template shipped with openai/gpt-oss-20b renders for
plain conversations without tools (template as published in 2025):

    <|start|>system<|message|>{identity}
    Knowledge cutoff: 2024-06
    Current date: {YYYY-MM-DD}

    Reasoning: {low|medium|high}

    # Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>
    <|start|>developer<|message|># Instructions\\n\\n{system message}\\n\\n<|end|>   (only with one)
    <|start|>user<|message|>{content}<|end|>
    <|start|>assistant<|channel|>final<|message|>{content}<|end|>
    ...
    <|start|>assistant<|channel|>final<|message|>{last assistant content}<|return|>

The real text has no line breaks between messages. The last assistant message of a
training sample ends with `<|return|>`, so the model learns to stop. Every earlier
message ends with `<|end|>`.

Message text is escaped first: a zero-width joiner (U+200D) goes after every `<|`, so
text such as `<|channel|>final<|message|>` pasted into an answer can never be tokenized
as control tokens. `restore_control_text` undoes the escape exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

SPECIAL_TOKENS = {
    "<|start|>": 200006,
    "<|end|>": 200007,
    "<|message|>": 200008,
    "<|channel|>": 200005,
    "<|constrain|>": 200003,
    "<|return|>": 200002,
    "<|call|>": 200012,
}
MODEL_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
KNOWLEDGE_CUTOFF = "2024-06"
REASONING_EFFORTS = ("low", "medium", "high")

_ZERO_WIDTH_JOINER = "\u200d"
_CONTROL_PREFIX = "<|"
_ESCAPED_PREFIX = _CONTROL_PREFIX + _ZERO_WIDTH_JOINER
ASSISTANT_HEADER = "<|start|>assistant<|channel|>final<|message|>"


@dataclass(frozen=True)
class Segment:
    """A piece of rendered text; `trainable` marks assistant content and its end token."""

    text: str
    trainable: bool


@dataclass(frozen=True)
class RenderedConversation:
    """Harmony text of one training sample and where the assistant responses are.

    Each span is a [start, end) character range of `text` covering one assistant
    message's escaped content plus its closing `<|end|>` or `<|return|>`, which is what
    the loss should be computed on. The `<|start|>assistant...<|message|>` header before
    it is prompt, not response.
    """

    text: str
    segments: tuple[Segment, ...]
    assistant_spans: tuple[tuple[int, int], ...]


def escape_control_text(text: str) -> str:
    """Neutralise control-token text by putting a zero-width joiner after every `<|`."""
    return text.replace(_CONTROL_PREFIX, _ESCAPED_PREFIX)


def restore_control_text(text: str) -> str:
    """Undo `escape_control_text` exactly, for display of model input or output."""
    return text.replace(_ESCAPED_PREFIX, _CONTROL_PREFIX)


def system_message(reasoning_effort: str, current_date: date | str | None = None) -> str:
    """Render the Harmony system message with the reasoning effort and dates.

    `current_date` defaults to today's UTC date, as the real template uses the time of
    rendering. Pass a fixed date for reproducible training text.
    """
    if reasoning_effort not in REASONING_EFFORTS:
        raise ValueError(
            f"reasoning_effort must be one of {REASONING_EFFORTS}, got {reasoning_effort!r}"
        )
    return (
        f"<|start|>system<|message|>{MODEL_IDENTITY}\n"
        f"Knowledge cutoff: {KNOWLEDGE_CUTOFF}\n"
        f"Current date: {_format_date(current_date)}\n\n"
        f"Reasoning: {reasoning_effort}\n\n"
        "# Valid channels: analysis, commentary, final. "
        "Channel must be included for every message.<|end|>"
    )


def render_segments(
    messages: Sequence[Mapping[str, str]],
    reasoning_effort: str = "medium",
    *,
    current_date: date | str | None = None,
    add_generation_prompt: bool = False,
) -> list[Segment]:
    """Render messages as Harmony segments whose texts, joined, form the whole sample.

    A first message with role system becomes the developer message. Roles are user and
    assistant after it. Without `add_generation_prompt` the last message must be from the
    assistant and ends with `<|return|>`. With it, the last message must be from the user
    and the text ends with `<|start|>assistant` for generation.
    """
    _check_roles(messages, add_generation_prompt)
    segments = [Segment(system_message(reasoning_effort, current_date), False)]
    body = list(messages)
    if body and body[0]["role"] == "system":
        instructions = escape_control_text(body.pop(0)["content"])
        segments.append(
            Segment(f"<|start|>developer<|message|># Instructions\n\n{instructions}\n\n<|end|>", False)
        )

    for index, message in enumerate(body):
        content = escape_control_text(message["content"])
        if message["role"] == "user":
            segments.append(Segment(f"<|start|>user<|message|>{content}<|end|>", False))
            continue
        is_last = index == len(body) - 1
        closing = "<|return|>" if is_last and not add_generation_prompt else "<|end|>"
        segments.append(Segment(ASSISTANT_HEADER, False))
        segments.append(Segment(content + closing, True))

    if add_generation_prompt:
        segments.append(Segment("<|start|>assistant", False))
    return segments


def render_conversation(
    messages: Sequence[Mapping[str, str]],
    reasoning_effort: str = "medium",
    *,
    current_date: date | str | None = None,
) -> RenderedConversation:
    """Render a training sample: Harmony text plus the character spans to train on."""
    segments = render_segments(messages, reasoning_effort, current_date=current_date)
    spans = []
    position = 0
    for segment in segments:
        if segment.trainable:
            spans.append((position, position + len(segment.text)))
        position += len(segment.text)
    text = "".join(segment.text for segment in segments)
    return RenderedConversation(text=text, segments=tuple(segments), assistant_spans=tuple(spans))


def render_prompt(
    messages: Sequence[Mapping[str, str]],
    reasoning_effort: str = "medium",
    *,
    current_date: date | str | None = None,
) -> str:
    """Render a prompt that ends with `<|start|>assistant`, for generation."""
    segments = render_segments(
        messages, reasoning_effort, current_date=current_date, add_generation_prompt=True
    )
    return "".join(segment.text for segment in segments)


def final_answer(generated: str) -> str:
    """Extract the final-channel text from generated Harmony text, unescaped.

    Takes the text after the last `<|channel|>final<|message|>` up to the first
    `<|return|>`, `<|end|>` or `<|call|>`. Text without a final channel is returned whole,
    up to such a token, because a barely trained model often skips the header.
    """
    marker = "<|channel|>final<|message|>"
    start = generated.rfind(marker)
    answer = generated[start + len(marker) :] if start >= 0 else generated
    for stop in ("<|return|>", "<|end|>", "<|call|>"):
        answer = answer.split(stop, 1)[0]
    return restore_control_text(answer).strip()


def _check_roles(messages: Sequence[Mapping[str, str]], add_generation_prompt: bool) -> None:
    roles = [message["role"] for message in messages]
    dialogue = roles[1:] if roles and roles[0] == "system" else roles
    expected_last = "user" if add_generation_prompt else "assistant"
    if not dialogue or dialogue[-1] != expected_last:
        raise ValueError(
            f"the last message must have role {expected_last!r} "
            f"({'prompt' if add_generation_prompt else 'training sample'}), got roles {roles}"
        )
    unknown = sorted({role for role in dialogue if role not in ("user", "assistant")})
    if unknown:
        raise ValueError(
            f"roles after an optional first system message must be user or assistant, "
            f"got {unknown} in {roles}"
        )


def _format_date(current_date: date | str | None) -> str:
    if current_date is None:
        return datetime.now(timezone.utc).date().isoformat()
    if isinstance(current_date, datetime):
        return current_date.date().isoformat()
    if isinstance(current_date, date):
        return current_date.isoformat()
    return date.fromisoformat(current_date).isoformat()
