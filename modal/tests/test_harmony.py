from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from finetune.harmony import (
    SPECIAL_TOKENS,
    escape_control_text,
    final_answer,
    render_conversation,
    render_prompt,
    restore_control_text,
    system_message,
)

GOLDEN = Path(__file__).parent / "golden"
DATE = "2026-12-04"

LISBON = [
    {"role": "user", "content": "Plan three days in Lisbon."},
    {"role": "assistant", "content": "Day 1: Alfama and tram 28.\nDay 2: Belém.\nDay 3: Sintra."},
    {"role": "user", "content": "Budget?"},
    {"role": "assistant", "content": "About 90 euros a day."},
]
PATAGONIA = [
    {"role": "system", "content": "Answer as a travel agent."},
    {"role": "user", "content": "Best month for Patagonia?"},
    {"role": "assistant", "content": "December to February."},
]
PASTED_TOKENS = [
    {"role": "user", "content": "What does <|start|>user mean?"},
    {"role": "assistant", "content": "Text like <|channel|>final<|message|>done<|return|> stays text."},
]


def golden(name):
    return (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "messages", "effort"),
    [
        ("ultrachat_low", LISBON, "low"),
        ("developer_medium", PATAGONIA, "medium"),
        ("escaped_high", PASTED_TOKENS, "high"),
    ],
)
def test_render_matches_golden(name, messages, effort):
    rendered = render_conversation(messages, effort, current_date=DATE)

    assert rendered.text == golden(name)


def test_prompt_matches_golden():
    text = render_prompt([{"role": "user", "content": "Where to eat in Porto?"}], "low", current_date=DATE)

    assert text == golden("prompt_low")
    assert text.endswith("<|end|><|start|>assistant")


def test_return_once_at_end():
    rendered = render_conversation(LISBON, "low", current_date=DATE)

    assert rendered.text.count("<|return|>") == 1
    assert rendered.text.endswith("About 90 euros a day.<|return|>")
    assert rendered.text.count("<|channel|>final<|message|>") == 2


def test_spans_cover_assistant_content():
    rendered = render_conversation(LISBON, "low", current_date=DATE)

    pieces = [rendered.text[start:end] for start, end in rendered.assistant_spans]

    assert pieces == [
        "Day 1: Alfama and tram 28.\nDay 2: Belém.\nDay 3: Sintra.<|end|>",
        "About 90 euros a day.<|return|>",
    ]
    assert "".join(segment.text for segment in rendered.segments) == rendered.text
    assert [s.text for s in rendered.segments if s.trainable] == pieces


def test_spans_point_into_escaped_text():
    rendered = render_conversation(PASTED_TOKENS, "high", current_date=DATE)

    (start, end), = rendered.assistant_spans

    assert rendered.text[start:end] == escape_control_text(PASTED_TOKENS[1]["content"]) + "<|return|>"


def test_escape_removes_control_tokens():
    pasted = "a <|channel|>final<|message|> b <|return|><|end|><|start|><|call|><|constrain|>"

    escaped = escape_control_text(pasted)

    for token in SPECIAL_TOKENS:
        assert token not in escaped
    assert escaped.count("\u200d") == 7
    assert restore_control_text(escaped) == pasted


@pytest.mark.parametrize("text", ["<|\u200dalready", "<<||>>", "<|", "plain", "<|\u200d\u200d|>"])
def test_escape_round_trip(text):
    assert restore_control_text(escape_control_text(text)) == text


def test_rendered_text_has_only_template_tokens():
    rendered = render_conversation(PASTED_TOKENS, "high", current_date=DATE)

    counts = {token: rendered.text.count(token) for token in SPECIAL_TOKENS}

    assert counts == {
        "<|start|>": 3,
        "<|end|>": 2,
        "<|message|>": 3,
        "<|channel|>": 1,
        "<|constrain|>": 0,
        "<|return|>": 1,
        "<|call|>": 0,
    }


def special_ids(tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    special = set(tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS)))
    return [token_id for token_id in ids if token_id in special]


def test_tokenizer_sees_no_extra_special_ids(tiny_tokenizer):
    rendered = render_conversation(PASTED_TOKENS, "high", current_date=DATE)
    unescaped = restore_control_text(rendered.text)

    escaped_ids = special_ids(tiny_tokenizer, rendered.text)
    unescaped_ids = special_ids(tiny_tokenizer, unescaped)

    assert len(escaped_ids) == 10
    assert len(unescaped_ids) == 10 + 4
    assert tiny_tokenizer.decode(tiny_tokenizer(rendered.text, add_special_tokens=False)["input_ids"]) == rendered.text


def test_system_message_defaults_to_today():
    today = datetime.now(timezone.utc).date().isoformat()

    assert f"Current date: {today}\n" in system_message("medium")
    assert "Current date: 2025-01-31\n" in system_message("low", date(2025, 1, 31))
    assert "Current date: 2025-01-31\n" in system_message("low", datetime(2025, 1, 31, 23, 59))


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([{"role": "user", "content": "q"}], "the last message must have role 'assistant' (training sample), got roles ['user']"),
        ([], "the last message must have role 'assistant' (training sample), got roles []"),
        ([{"role": "system", "content": "s"}], "the last message must have role 'assistant' (training sample), got roles ['system']"),
        (
            [{"role": "user", "content": "q"}, {"role": "tool", "content": "x"}, {"role": "assistant", "content": "a"}],
            "roles after an optional first system message must be user or assistant, got ['tool'] in ['user', 'tool', 'assistant']",
        ),
    ],
)
def test_invalid_roles_rejected(messages, message):
    with pytest.raises(ValueError) as caught:
        render_conversation(messages, "low", current_date=DATE)

    assert str(caught.value) == message


def test_prompt_needs_user_last():
    with pytest.raises(ValueError) as caught:
        render_prompt(LISBON, "low", current_date=DATE)

    assert str(caught.value) == (
        "the last message must have role 'user' (prompt), got roles "
        "['user', 'assistant', 'user', 'assistant']"
    )


def test_unknown_effort_rejected():
    with pytest.raises(ValueError) as caught:
        render_conversation(LISBON, "max", current_date=DATE)

    assert str(caught.value) == "reasoning_effort must be one of ('low', 'medium', 'high'), got 'max'"


@pytest.mark.parametrize(
    ("generated", "expected"),
    [
        ("<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>Go to Sintra.<|return|>", "Go to Sintra."),
        ("<|channel|>final<|message|>Use <|\u200dend|> as text<|end|>extra", "Use <|end|> as text"),
        ("Just words without header", "Just words without header"),
        ("partial<|call|>rest", "partial"),
    ],
)
def test_final_answer_extracts_text(generated, expected):
    assert final_answer(generated) == expected


@pytest.mark.parametrize("messages", [LISBON, PATAGONIA, PASTED_TOKENS])
def test_tiny_chat_template_matches_render(tiny_tokenizer, messages):
    # Both use today's date, as the real template does.
    expected = render_conversation(messages, "low").text

    rendered = tiny_tokenizer.apply_chat_template(messages, tokenize=False, reasoning_effort="low")

    assert rendered == expected


def test_tiny_chat_template_prompt_matches(tiny_tokenizer):
    messages = LISBON[:3]

    rendered = tiny_tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, reasoning_effort="medium"
    )

    assert rendered == render_prompt(messages, "medium")
