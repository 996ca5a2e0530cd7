"""Save adapters, merge an adapter into the base weights and check the merged model.

MXFP4 and the real base model: openai/gpt-oss-20b ships its expert weights quantised to
MXFP4, and a LoRA delta cannot be added to 4-bit blocks. `merge_adapter` therefore loads
the base in bfloat16 with `Mxfp4Config(dequantize=True)` (transformers), which unpacks
MXFP4 to bf16 on load, then merges and saves bf16 safetensors (about 42 GB for 21 B
parameters, so the merge needs that much GPU or CPU memory). Training with Unsloth in 4
bit uses bitsandbytes, not MXFP4, so the merged weights come from the dequantised bf16
base rather than the quantised weights the adapter was trained against. That small
mismatch is the usual QLoRA trade-off. The tiny CPU model is float32 and
has no quantisation.

NOTE: an adapter trained through Unsloth names its expert targets gate_proj, up_proj and
down_proj. Whether PEFT matches those names to the fused experts of the transformers
GptOss model during this merge was not checked on a GPU. If it does not, PEFT loads
the adapter with missing keys, so the merged model gets the attention deltas but not the
expert deltas. Unsloth's `save_pretrained_merged(..., save_method="merged_16bit")` is
then the path to wire in.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# Model names whose published weights are MXFP4-quantised and must be dequantised to merge.
MXFP4_MODELS = ("openai/gpt-oss-20b", "openai/gpt-oss-120b", "unsloth/gpt-oss-20b")


class MergeCheckError(RuntimeError):
    """The merged model did not load, produced non-finite output or equals the base."""


@dataclass
class MergeOutcome:
    path: Path
    changed_tensors: int
    max_abs_difference: float
    bytes: int


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_adapter(model, tokenizer, folder: Path) -> int:
    """Save the LoRA adapter and tokenizer to folder (replacing it); return its size in bytes."""
    staging = folder.with_name(folder.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return folder_bytes(folder)


def _load_base(model_path: str, revision: str | None, model_name: str):
    import torch
    from transformers import AutoModelForCausalLM

    if model_name in MXFP4_MODELS:
        from transformers import Mxfp4Config

        return AutoModelForCausalLM.from_pretrained(
            model_path,
            revision=revision,
            dtype=torch.bfloat16,
            quantization_config=Mxfp4Config(dequantize=True),
            device_map="auto",
        )
    return AutoModelForCausalLM.from_pretrained(model_path, revision=revision, dtype=torch.float32)


def merge_adapter(
    model_path: str,
    model_name: str,
    revision: str | None,
    adapter_dir: Path,
    output_dir: Path,
) -> MergeOutcome:
    """Merge the adapter into the base weights, save to output_dir/merged and check it."""
    from peft import PeftModel

    from .train import load_tokenizer

    if not (adapter_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(
            f"adapter folder {adapter_dir} has no adapter_config.json: pass the adapter "
            "folder written by a finished dataset run"
        )

    base = _load_base(model_path, revision, model_name)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    tokenizer = load_tokenizer(str(adapter_dir))

    target = output_dir / "merged"
    staging = output_dir / "merged.partial"
    if staging.exists():
        shutil.rmtree(staging)
    merged.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    del merged, base

    changed, max_difference = check_merged(target, model_path, revision, model_name)
    return MergeOutcome(target, changed, max_difference, folder_bytes(target))


def check_merged(
    merged_dir: Path, model_path: str, revision: str | None, model_name: str
) -> tuple[int, float]:
    """Load the saved merged model, run it once and compare it with the base weights.

    Returns (tensors that differ, largest absolute difference). Raises MergeCheckError
    when the merged files fail to load, give non-finite logits or equal the base.
    """
    import torch
    from transformers import AutoModelForCausalLM

    # NOTE: for the 20B model the merged and the base weights are loaded at once (about
    # 84 GB in bf16). device_map="auto" puts what does not fit on the GPU in CPU memory.
    big = model_name in MXFP4_MODELS
    try:
        merged = AutoModelForCausalLM.from_pretrained(
            str(merged_dir),
            dtype=torch.bfloat16 if big else torch.float32,
            device_map="auto" if big else None,
        )
    except Exception as exc:  # noqa: BLE001 - any load failure means a broken merge
        raise MergeCheckError(f"merged model in {merged_dir} failed to load: {exc}") from exc

    probe = torch.tensor([[1, 2, 3, 4]], device=next(merged.parameters()).device)
    with torch.no_grad():
        logits = merged(input_ids=probe).logits
    if not torch.isfinite(logits).all():
        raise MergeCheckError(f"merged model in {merged_dir} produces NaN or infinite logits")

    base_state = _load_base(model_path, revision, model_name).state_dict()
    changed = 0
    max_difference = 0.0
    for name, tensor in merged.state_dict().items():
        reference = base_state.get(name)
        if reference is None or reference.shape != tensor.shape:
            continue
        difference = (tensor.float() - reference.float().to(tensor.device)).abs().max().item()
        if difference > 0:
            changed += 1
            max_difference = max(max_difference, difference)

    if changed == 0:
        raise MergeCheckError(
            f"merged weights in {merged_dir} equal the base weights: the adapter had no "
            "effect (was it trained, and is it the adapter of this base model?)"
        )
    logger.info(
        "merge check passed: %d tensors differ from the base, max abs difference %.3g",
        changed,
        max_difference,
    )
    return changed, max_difference
