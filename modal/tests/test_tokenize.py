"""Tokenization: assistant-only labels, left trimming, drops and the train/validation split."""

import pytest

from finetune.tokenize import (
    IGNORE_INDEX,
    CausalCollator,
    TooFewSamplesError,
    harmony_segments,
    split_samples,
    tokenize_conversation,
    tokenize_conversations,
)

QUESTION = "Where should I stay in Rome?"
ANSWER = "Trastevere and Monti are lively areas close to the sights."


def conversation(question=QUESTION, answer=ANSWER):
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def labeled_text(tokenizer, sample):
    return tokenizer.decode([t for t in sample.labels if t != IGNORE_INDEX])


def test_segments_match_chat_template(tiny_tokenizer):
    # The tiny tokenizer's chat template must render exactly the pipeline's Harmony text.
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER},
    ]
    joined = "".join(segment.text for segment in harmony_segments(messages, "high"))

    rendered = tiny_tokenizer.apply_chat_template(messages, tokenize=False, reasoning_effort="high")

    assert joined == rendered
    assert "Reasoning: high" in joined
    assert joined.endswith(f"<|start|>assistant<|channel|>final<|message|>{ANSWER}<|return|>")


def test_control_text_in_content_is_not_special(tiny_tokenizer):
    messages = conversation(answer="Type <|end|> to stop.")

    sample, _ = tokenize_conversation(tiny_tokenizer, messages, "low", 512)

    end_id = tiny_tokenizer.convert_tokens_to_ids("<|end|>")
    labeled = [t for t in sample.labels if t != IGNORE_INDEX]
    assert end_id not in labeled
    assert labeled[-1] == tiny_tokenizer.convert_tokens_to_ids("<|return|>")


def test_trailing_user_turn_is_ignored(tiny_tokenizer):
    messages = conversation() + [{"role": "user", "content": "Thanks!"}]

    sample, reason = tokenize_conversation(tiny_tokenizer, messages, "low", 512)

    assert reason is None
    assert labeled_text(tiny_tokenizer, sample) == ANSWER + "<|return|>"


def test_segment_ids_equal_full_text_ids(tiny_tokenizer):
    messages = conversation()
    text = "".join(segment.text for segment in harmony_segments(messages, "low"))

    sample, reason = tokenize_conversation(tiny_tokenizer, messages, "low", 512)

    assert reason is None
    assert sample.input_ids == tiny_tokenizer(text, add_special_tokens=False)["input_ids"]


def test_labels_cover_only_assistant_response(tiny_tokenizer):
    sample, _ = tokenize_conversation(tiny_tokenizer, conversation(), "low", 512)

    assert len(sample.labels) == len(sample.input_ids)
    assert labeled_text(tiny_tokenizer, sample) == ANSWER + "<|return|>"
    assert sample.labels[0] == IGNORE_INDEX
    assert not sample.trimmed


def test_earlier_assistant_turns_are_labeled(tiny_tokenizer):
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER},
    ]

    sample, _ = tokenize_conversation(tiny_tokenizer, messages, "low", 512)

    assert labeled_text(tiny_tokenizer, sample) == "Hello.<|end|>" + ANSWER + "<|return|>"
    assert sample.prompt_messages == messages[:3]
    assert sample.reference == ANSWER


def test_long_prompt_is_trimmed_from_left(tiny_tokenizer):
    long_question = "Tell me about the museum. " * 60
    full, _ = tokenize_conversation(tiny_tokenizer, conversation(long_question), "low", 4096)
    limit = 128
    assert len(full.input_ids) > limit

    sample, reason = tokenize_conversation(tiny_tokenizer, conversation(long_question), "low", limit)

    assert reason is None
    assert sample.trimmed
    assert len(sample.input_ids) == limit
    assert sample.input_ids == full.input_ids[-limit:]
    assert labeled_text(tiny_tokenizer, sample) == ANSWER + "<|return|>"


def test_response_longer_than_limit_is_dropped(tiny_tokenizer):
    long_answer = "Walk along the river and visit the old town. " * 40

    sample, reason = tokenize_conversation(tiny_tokenizer, conversation(answer=long_answer), "low", 64)

    assert sample is None
    assert reason == "too_long"


def test_conversation_without_assistant_is_dropped(tiny_tokenizer):
    sample, reason = tokenize_conversation(
        tiny_tokenizer, [{"role": "user", "content": QUESTION}], "low", 512
    )

    assert sample is None
    assert reason == "empty_turn"


def test_report_counts_trimmed_and_too_long(tiny_tokenizer):
    conversations = [
        conversation(),
        conversation("Tell me about the museum. " * 60),
        conversation(answer="Walk along the river. " * 80),
    ]

    samples, report = tokenize_conversations(tiny_tokenizer, conversations, "low", 128)

    assert len(samples) == 2
    assert report.samples_in == 3
    assert report.kept == 2
    assert report.trimmed == 1
    assert report.dropped == {"too_long": 1}


@pytest.fixture
def samples(tiny_tokenizer):
    conversations = [conversation(f"Question {i}?", f"Answer {i}.") for i in range(20)]
    result, _ = tokenize_conversations(tiny_tokenizer, conversations, "low", 256)
    return result


def references(samples):
    return [sample.reference for sample in samples]


def test_split_is_deterministic_by_seed(samples):
    first = split_samples(samples, 0.8, seed=7, eval_enabled=True)
    again = split_samples(samples, 0.8, seed=7, eval_enabled=True)
    other = split_samples(samples, 0.8, seed=8, eval_enabled=True)

    assert references(first.train) == references(again.train)
    assert references(first.validation) == references(again.validation)
    assert references(first.validation) != references(other.validation)
    assert len(first.validation) == 4
    assert len(first.train) == 16
    assert set(references(first.train)).isdisjoint(references(first.validation))


def test_validation_never_empty_with_eval(samples):
    split = split_samples(samples[:3], 0.99, seed=1, eval_enabled=True)

    assert len(split.validation) == 1
    assert len(split.train) == 2


def test_no_validation_without_eval(samples):
    split = split_samples(samples, 0.5, seed=1, eval_enabled=False)

    assert split.validation == []
    assert len(split.train) == 20


def test_too_few_samples_stop_with_count(samples):
    with pytest.raises(TooFewSamplesError, match=r"only 1 sample\(s\) of 12 rows read"):
        split_samples(samples[:1], 0.9, seed=1, eval_enabled=True, total_rows=12)


def test_collator_pads_right_with_ignored_labels():
    collator = CausalCollator(pad_token_id=0)

    batch = collator(
        [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}]
    )

    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
