"""Measure the data pipeline on one CSV file and print one JSON object on stdout.

Modes (run each in a fresh process, so `peak_rss_bytes` belongs to that mode alone):

- bare: a plain `csv.reader` pass over the file, the baseline.
- pipeline: `finetune.cleaning.prepare_conversations` (SHA-256 of the file, streaming
  CSV reader, row adapters, cleaning and de-duplication), then Harmony rendering of every
  kept conversation with `finetune.tokenize.harmony_segments`, as tokenization does it.
- tokenize: tokenization with the tiny tokenizer of `finetune.tiny_model`, on the first
  conversations of the file until --tokenize-seconds have passed.

Each mode reports wall-clock `seconds` and `cpu_seconds` (process CPU time), because on a
shared machine the wall clock also counts time spent waiting for a core.

Usage: python bench/pipeline.py MODE FILE.csv [--tokenize-seconds 20]
Run it with modal/.venv/bin/python; it puts modal/ on sys.path itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from pathlib import Path

MODAL_DIR = Path(__file__).resolve().parent.parent / "modal"
sys.path.insert(0, str(MODAL_DIR))

from finetune.cleaning import prepare_conversations  # noqa: E402
from finetune.config import StageRequest  # noqa: E402
from finetune.tokenize import harmony_segments, tokenize_conversation  # noqa: E402

REASONING_EFFORT = "medium"
MAX_SEQ_LENGTH = 4096


def peak_rss_bytes() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def stage_request(path: Path, max_rows: int | None = None) -> StageRequest:
    """Build the request a dataset run of a local file would receive."""
    return StageRequest.model_validate(
        {
            "v": 1,
            "stage": "dataset_run",
            "job_id": "bench",
            "run_id": "bench-run",
            "attempt": 1,
            "model": {
                "name": "tunedeck/tiny-gpt-oss",
                "max_seq_length": MAX_SEQ_LENGTH,
                "reasoning_effort": REASONING_EFFORT,
            },
            "dataset": {
                "index": 0,
                "source": "local",
                "path": str(path),
                "train_split": 0.9,
                "max_rows": max_rows,
            },
            "training": {
                "max_steps": 1,
                "learning_rate": 0.0002,
                "batch_size": 1,
                "gradient_accumulation_steps": 1,
                "lora_rank": 8,
                "lora_alpha": 16,
                "warmup_steps": 0,
                "checkpoint_every": 1,
                "seed": 1,
            },
            "output_dir": "/tmp/tunedeck-bench-output",
        }
    )


def measure_bare(path: Path) -> dict:
    csv.field_size_limit(2**31 - 1)
    started = time.perf_counter()
    cpu_started = time.process_time()
    rows = 0
    cells = 0
    with path.open("r", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            rows += 1
            cells += len(row)
    seconds = time.perf_counter() - started
    return {"rows": rows, "cells": cells, "seconds": seconds, "cpu_seconds": time.process_time() - cpu_started}


def measure_pipeline(path: Path) -> dict:
    started = time.perf_counter()
    cpu_started = time.process_time()
    conversations, report = prepare_conversations(stage_request(path))
    prepared = time.perf_counter()

    harmony_chars = 0
    for messages in conversations:
        for segment in harmony_segments(messages, REASONING_EFFORT):
            harmony_chars += len(segment.text)
    rendered = time.perf_counter()
    return {
        "rows": report.rows_read,
        "kept": report.rows_kept,
        "dropped": {reason: count for reason, count in report.dropped.items() if count},
        "prepare_seconds": prepared - started,
        "harmony_seconds": rendered - prepared,
        "seconds": rendered - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "harmony_chars": harmony_chars,
    }


def measure_tokenize(path: Path, budget_seconds: float) -> dict:
    from finetune.tiny_model import build_tiny_model
    from finetune.train import load_tokenizer

    tokenizer = load_tokenizer(str(build_tiny_model()))
    # Read only as many rows as tokenization can use, so this mode stays short.
    conversations, _ = prepare_conversations(stage_request(path, max_rows=3000))
    started = time.perf_counter()
    cpu_started = time.process_time()
    samples = tokens = 0
    for messages in conversations:
        sample, _reason = tokenize_conversation(tokenizer, messages, REASONING_EFFORT, MAX_SEQ_LENGTH)
        samples += 1
        if sample is not None:
            tokens += len(sample.input_ids)
        if time.perf_counter() - started > budget_seconds:
            break
    seconds = time.perf_counter() - started
    chars = sum(len(m["content"]) for messages in conversations[:samples] for m in messages)
    return {
        "conversations": samples,
        "tokens": tokens,
        "content_chars": chars,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure one data-pipeline mode on a CSV file.")
    parser.add_argument("mode", choices=["bare", "pipeline", "tokenize"])
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--tokenize-seconds", type=float, default=20.0, help="time budget of the tokenize mode, in seconds"
    )
    args = parser.parse_args()

    if args.mode == "bare":
        result = measure_bare(args.file)
    elif args.mode == "pipeline":
        result = measure_pipeline(args.file)
    else:
        result = measure_tokenize(args.file, args.tokenize_seconds)
    result.update(
        mode=args.mode,
        file=str(args.file),
        file_bytes=args.file.stat().st_size,
        peak_rss_bytes=peak_rss_bytes(),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
