"""Merge verification gate: decide whether merged weights may be deployed.

Checks, in order, stopping at the first failure:
1. files: config.json, the weights (one safetensors file or every shard that
   model.safetensors.index.json names) and the tokenizer are present, and every
   safetensors header parses;
2. quantization: config.json agrees with the tensors (an MXFP4
   quantization_config needs packed `_blocks`/`_scales` tensors, and packed
   tensors need that config), because either mismatch loads garbage weights;
3. load: transformers loads the folder;
4. smoke: one prompt gets a non-empty reply, and the merged model's logits for
   it differ from the base model's, so the adapter had an effect.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

SMOKE_PROMPT = "Suggest one thing to do on a rainy day in Lisbon."
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
# A safetensors file starts with an 8-byte little-endian header length; a longer
# header than this is corruption, not a real model.
MAX_HEADER_BYTES = 100 * 1024 * 1024


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class GateResult:
    deployable: bool
    reason: str | None
    checks: list[Check] = field(default_factory=list)
    smoke: dict | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def read_safetensors_header(path: Path) -> dict:
    """Return the JSON header of a safetensors file; raise ValueError when it is not one."""
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ValueError(f"{path.name} is {len(prefix)} bytes long, too short for a safetensors file")
        (length,) = struct.unpack("<Q", prefix)
        if length == 0 or length > MAX_HEADER_BYTES:
            raise ValueError(f"{path.name} is not a valid safetensors file (header length {length})")
        try:
            return json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path.name} is not a valid safetensors file: its header is not JSON ({exc})") from exc


def weight_files(folder: Path) -> list[Path]:
    """List the safetensors files the folder's weights consist of; raise FileNotFoundError for missing ones."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        missing = [shard for shard in shards if not (folder / shard).is_file()]
        if missing:
            raise FileNotFoundError(f"model.safetensors.index.json names shards that are missing: {', '.join(missing)}")
        return [folder / shard for shard in shards]
    single = folder / "model.safetensors"
    if not single.is_file():
        raise FileNotFoundError("no model.safetensors and no model.safetensors.index.json")
    return [single]


def check_files(folder: Path) -> tuple[Check, dict[str, str]]:
    """Check the files and return the dtype of every tensor by name."""
    if not (folder / "config.json").is_file():
        return Check("files", False, "config.json is missing"), {}
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        return Check("files", False, f"no tokenizer files ({' or '.join(TOKENIZER_FILES)})"), {}
    try:
        files = weight_files(folder)
        dtypes: dict[str, str] = {}
        for path in files:
            header = read_safetensors_header(path)
            for name, info in header.items():
                if name != "__metadata__":
                    dtypes[name] = info["dtype"]
    except (FileNotFoundError, ValueError, KeyError) as exc:
        return Check("files", False, str(exc)), {}
    return Check("files", True, f"{len(files)} weight file(s), {len(dtypes)} tensors"), dtypes


def check_quantization(config: dict, dtypes: dict[str, str]) -> Check:
    quantization = config.get("quantization_config") or {}
    method = quantization.get("quant_method")
    packed = [name for name in dtypes if name.endswith(("_blocks", "_scales"))]
    if method == "mxfp4" and not packed:
        return Check(
            "quantization",
            False,
            "config.json declares MXFP4 quantization but the tensors are unquantized "
            f"({sorted(set(dtypes.values()))}); remove quantization_config from config.json "
            "or merge again from the dequantized base",
        )
    if packed and method != "mxfp4":
        return Check(
            "quantization",
            False,
            f"{len(packed)} tensors are MXFP4-packed (for example {packed[0]}) but config.json "
            "has no MXFP4 quantization_config",
        )
    return Check("quantization", True, f"quant_method={method or 'none'}, tensor dtypes {sorted(set(dtypes.values()))}")


def verify(merged_dir: str, base_model: str) -> GateResult:
    """Run every check on a merged model folder against its base model."""
    folder = Path(merged_dir)
    if not folder.is_dir():
        return GateResult(False, f"merged model folder {merged_dir} does not exist")
    files, dtypes = check_files(folder)
    checks = [files]
    if not files.ok:
        return GateResult(False, f"merged files are incomplete or corrupted: {files.detail}", checks)

    config = json.loads((folder / "config.json").read_text())
    quantization = check_quantization(config, dtypes)
    checks.append(quantization)
    if not quantization.ok:
        return GateResult(False, quantization.detail, checks)

    import torch

    from . import completion

    try:
        merged, tokenizer = completion.load(str(folder))
    except Exception as exc:  # noqa: BLE001 - any load failure means the files cannot be served
        checks.append(Check("load", False, f"{type(exc).__name__}: {exc}"))
        return GateResult(False, f"the merged model does not load: {exc}", checks)
    checks.append(Check("load", True, f"{sum(p.numel() for p in merged.parameters()):,} parameters"))

    reply = completion.generate(merged, tokenizer, SMOKE_PROMPT)
    base, base_tokenizer = completion.load(base_model)
    base_reply = completion.generate(base, base_tokenizer, SMOKE_PROMPT)
    rendered = tokenizer(SMOKE_PROMPT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        difference = (merged(input_ids=rendered).logits - base(input_ids=rendered).logits).abs().max().item()
    smoke = {"prompt": SMOKE_PROMPT, "answer": reply.answer, "base_answer": base_reply.answer, "max_logit_difference": difference}
    if reply.completion_tokens == 0:
        checks.append(Check("smoke", False, "the smoke prompt produced no tokens"))
        return GateResult(False, "the merged model produced no tokens for the smoke prompt", checks, smoke)
    if not difference > 0:
        checks.append(Check("smoke", False, "logits equal the base model's"))
        return GateResult(False, "the merged model answers exactly like the base model: the adapter had no effect", checks, smoke)
    checks.append(Check("smoke", True, f"{reply.completion_tokens} tokens; max logit difference from base {difference:.3g}"))
    return GateResult(True, None, checks, smoke)
