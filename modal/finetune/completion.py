"""Generate one chat completion with a local model and split its Harmony channels.

Used by `python -m finetune generate` (the playground's base-model side) and by
the merge verification gate's smoke prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import harmony

ANALYSIS_MARKER = "<|channel|>analysis<|message|>"
STOP_TOKENS = ("<|return|>", "<|end|>", "<|call|>")


@dataclass(frozen=True)
class Completion:
    answer: str
    reasoning: str | None
    prompt_tokens: int
    completion_tokens: int
    token_ids: tuple[int, ...]


def analysis_text(generated: str) -> str | None:
    """Return the analysis-channel text of generated Harmony text, or None when it has none.

    A completion with only a final channel (or no channel header at all) has no
    reasoning, so None is returned rather than an empty or guessed string.
    """
    start = generated.find(ANALYSIS_MARKER)
    if start < 0:
        return None
    text = generated[start + len(ANALYSIS_MARKER) :]
    for stop in STOP_TOKENS:
        text = text.split(stop, 1)[0]
    text = harmony.restore_control_text(text).strip()
    return text or None


def generate(model, tokenizer, prompt: str, reasoning_effort: str = "low", max_new_tokens: int = 32) -> Completion:
    """Greedy-decode a reply to one user prompt with a loaded causal LM."""
    import torch

    rendered = harmony.render_prompt([{"role": "user", "content": prompt}], reasoning_effort)
    input_ids = tokenizer(rendered, add_special_tokens=False, return_tensors="pt")["input_ids"]
    input_ids = input_ids.to(next(model.parameters()).device)
    with torch.no_grad():
        output = model.generate(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
    new_tokens = output[0, input_ids.shape[1] :]
    generated = tokenizer.decode(new_tokens, skip_special_tokens=False)
    return Completion(
        answer=harmony.final_answer(generated),
        reasoning=analysis_text(generated),
        prompt_tokens=int(input_ids.shape[1]),
        completion_tokens=int(new_tokens.shape[0]),
        token_ids=tuple(int(token) for token in new_tokens.tolist()),
    )


def load(model_name_or_dir: str):
    """Load a model and tokenizer from a folder or a model name (the tiny model is built if needed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .tiny_model import resolve_model_path

    path = resolve_model_path(model_name_or_dir)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model, tokenizer
