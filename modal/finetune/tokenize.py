"""Tokenize Harmony conversations for training, with loss on assistant responses only.

Each conversation is rendered as Harmony segments. An assistant message is split into its
header (`<|start|>assistant<|channel|>final<|message|>`, not trained on) and its body
(the content and the closing `<|return|>` or `<|end|>`, trained on). Every segment starts
or ends at a special token, and special tokens are split out before BPE runs, so encoding
the segments one by one gives the same ids as encoding the whole text.

The response is the last assistant message. When prompt and response do not fit in
max_seq_length, the prompt is cut from the left; when the response with its header does
not fit on its own, the sample is dropped as too_long.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

IGNORE_INDEX = -100
# Fewer samples than this after tokenization stops the run before training starts.
MIN_SAMPLES = 2


class TooFewSamplesError(ValueError):
    """Too few samples survived cleaning and tokenization to train on."""


@dataclass
class Segment:
    text: str
    trainable: bool


@dataclass
class TokenizedSample:
    input_ids: list[int]
    labels: list[int]
    # Messages before the last assistant turn, used as a held-out generation prompt.
    prompt_messages: list[dict[str, str]]
    reference: str
    trimmed: bool = False


@dataclass
class TokenizeReport:
    samples_in: int = 0
    kept: int = 0
    trimmed: int = 0
    dropped: Counter = field(default_factory=Counter)
    response_tokens: int = 0


@dataclass
class SplitResult:
    train: list[TokenizedSample]
    validation: list[TokenizedSample]


def messages_of(conversation: Any) -> list[dict[str, str]]:
    """Return the role/content messages of a conversation (a list or an object with .messages)."""
    messages = getattr(conversation, "messages", conversation)
    result = []
    for message in messages:
        if isinstance(message, dict):
            result.append(dict(message))
        else:
            result.append(
                {"role": message.role, "content": message.content}
                | ({"channel": message.channel} if getattr(message, "channel", None) else {})
            )
    return result


def harmony_segments(messages: Sequence[dict[str, str]], reasoning_effort: str) -> list[Segment]:
    """Render a conversation as Harmony segments; their texts joined are the full Harmony text.

    Messages after the last assistant turn have no response to learn and are left out.
    The system message carries today's UTC date, as the gpt-oss chat template does.
    """
    from . import harmony

    last_assistant = max(
        (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1
    )
    rendered = harmony.render_segments(messages[: last_assistant + 1], reasoning_effort)
    return [Segment(segment.text, segment.trainable) for segment in rendered]


def _encode(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def tokenize_conversation(
    tokenizer, messages: Sequence[dict[str, str]], reasoning_effort: str, max_seq_length: int
) -> tuple[TokenizedSample | None, str | None]:
    """Tokenize one conversation; return (sample, None) or (None, drop reason)."""
    last_assistant = max(
        (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None
    )
    if last_assistant is None:
        return None, "empty_turn"

    try:
        segments = harmony_segments(messages, reasoning_effort)
    except ValueError:
        # Roles out of order (for example two system messages): nothing to learn from.
        return None, "parse_failure"
    ids: list[int] = []
    labels: list[int] = []
    for segment in segments:
        piece = _encode(tokenizer, segment.text)
        ids.extend(piece)
        labels.extend(piece if segment.trainable else [IGNORE_INDEX] * len(piece))

    # The last trainable segment is the response body; everything before it is the prompt.
    response_len = len(_encode(tokenizer, segments[-1].text)) if segments[-1].trainable else 0
    if response_len <= 1:
        # Only the closing token is left: the assistant message had no content.
        return None, "empty_turn"
    header_len = len(_encode(tokenizer, segments[-2].text)) if len(segments) > 1 else 0

    trimmed = False
    if len(ids) > max_seq_length:
        if response_len + header_len > max_seq_length:
            return None, "too_long"
        cut = len(ids) - max_seq_length
        ids = ids[cut:]
        labels = labels[cut:]
        trimmed = True

    sample = TokenizedSample(
        input_ids=ids,
        labels=labels,
        prompt_messages=[dict(m) for m in messages[:last_assistant]],
        reference=messages[last_assistant]["content"],
        trimmed=trimmed,
    )
    return sample, None


def tokenize_conversations(
    tokenizer,
    conversations: Iterable[Any],
    reasoning_effort: str,
    max_seq_length: int,
) -> tuple[list[TokenizedSample], TokenizeReport]:
    report = TokenizeReport()
    samples: list[TokenizedSample] = []
    for conversation in conversations:
        report.samples_in += 1
        sample, reason = tokenize_conversation(
            tokenizer, messages_of(conversation), reasoning_effort, max_seq_length
        )
        if sample is None:
            report.dropped[reason] += 1
            continue
        report.kept += 1
        report.trimmed += int(sample.trimmed)
        report.response_tokens += sum(1 for label in sample.labels if label != IGNORE_INDEX)
        samples.append(sample)
    return samples, report


def split_samples(
    samples: Sequence[TokenizedSample],
    train_split: float,
    seed: int,
    eval_enabled: bool,
    total_rows: int | None = None,
) -> SplitResult:
    """Shuffle with the seed and split; with evaluation on, validation is never empty.

    Raises TooFewSamplesError, naming the counts, when fewer than MIN_SAMPLES survive.
    """
    count = len(samples)
    if count < MIN_SAMPLES:
        of_total = f" of {total_rows} rows read" if total_rows is not None else ""
        raise TooFewSamplesError(
            f"only {count} sample(s){of_total} survived cleaning and tokenization; at least "
            f"{MIN_SAMPLES} are needed to train (check the column mapping, filters and "
            "max_seq_length)"
        )

    order = list(range(count))
    random.Random(seed).shuffle(order)
    if eval_enabled:
        validation_count = round(count * (1 - train_split))
        validation_count = min(max(validation_count, 1), count - 1)
    else:
        validation_count = 0

    validation = [samples[i] for i in order[:validation_count]]
    train = [samples[i] for i in order[validation_count:]]
    return SplitResult(train=train, validation=validation)


class CausalCollator:
    """Pad input_ids on the right with the pad token, and labels with -100."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        input_ids, labels, attention = [], [], []
        for feature in features:
            padding = width - len(feature["input_ids"])
            input_ids.append(feature["input_ids"] + [self.pad_token_id] * padding)
            labels.append(feature["labels"] + [IGNORE_INDEX] * padding)
            attention.append([1] * len(feature["input_ids"]) + [0] * padding)
        return {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(attention, dtype=torch.long),
        }
