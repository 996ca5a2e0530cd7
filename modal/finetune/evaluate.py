"""Evaluation on the validation split: loss, perplexity and sample generations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from . import harmony
from .tokenize import IGNORE_INDEX, TokenizedSample

# Held-out prompts whose generations are saved to eval_samples.json.
GENERATION_SAMPLES = 3
MAX_NEW_TOKENS = 48


@dataclass
class EvalResult:
    loss: float | None
    perplexity: float | None
    scored_tokens: int


def evaluation_loss(model, samples: Sequence[TokenizedSample]) -> EvalResult:
    """Return the mean loss per response token over the samples and its perplexity.

    Each sample runs on its own, so padding never changes the result. The loss is weighted
    by the number of response tokens, as a single batched pass would weight it.
    """
    import torch

    model.eval()
    device = next(model.parameters()).device
    total_loss = 0.0
    total_tokens = 0
    with torch.no_grad():
        for sample in samples:
            input_ids = torch.tensor([sample.input_ids], device=device)
            labels = torch.tensor([sample.labels], device=device)
            # The model shifts labels by one, so the first position never counts.
            tokens = int((labels[:, 1:] != IGNORE_INDEX).sum())
            if tokens == 0:
                continue
            loss = model(input_ids=input_ids, labels=labels).loss
            total_loss += float(loss) * tokens
            total_tokens += tokens

    if total_tokens == 0:
        return EvalResult(None, None, 0)
    mean = total_loss / total_tokens
    if not math.isfinite(mean):
        return EvalResult(mean, None, total_tokens)
    try:
        perplexity = math.exp(mean)
    except OverflowError:
        perplexity = math.inf
    return EvalResult(mean, perplexity, total_tokens)


def generate_samples(
    model,
    tokenizer,
    samples: Sequence[TokenizedSample],
    reasoning_effort: str,
    count: int = GENERATION_SAMPLES,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> list[dict[str, Any]]:
    """Generate greedy answers for the first held-out prompts."""
    import torch

    model.eval()
    device = next(model.parameters()).device
    results = []
    for sample in samples[:count]:
        prompt = harmony.render_prompt(sample.prompt_messages, reasoning_effort)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        input_ids = torch.tensor([prompt_ids], device=device)
        with torch.no_grad():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        generated = tokenizer.decode(output[0, input_ids.shape[1]:], skip_special_tokens=False)
        results.append(
            {
                "prompt": sample.prompt_messages,
                "reference": sample.reference,
                "generated": generated,
                "answer": harmony.final_answer(generated),
            }
        )
    return results


def write_eval_samples(path: Path, entries: list[dict[str, Any]], metrics: EvalResult) -> None:
    payload = {
        "eval_loss": metrics.loss if metrics.loss is not None and math.isfinite(metrics.loss) else None,
        "perplexity": (
            metrics.perplexity
            if metrics.perplexity is not None and math.isfinite(metrics.perplexity)
            else None
        ),
        "samples": entries,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
