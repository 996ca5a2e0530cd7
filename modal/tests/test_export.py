"""Adapter merge and the merged-model check."""

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune.export import MergeCheckError, merge_adapter, save_adapter


def make_adapter(model_dir, folder, train_steps):
    """Save a LoRA adapter for the tiny model after a few optimizer steps (0: untrained)."""
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
        target_parameters=["mlp.experts.down_proj"], task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.01)
    batch = torch.randint(10, 200, (2, 16))
    for _ in range(train_steps):
        model(input_ids=batch, labels=batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    save_adapter(model, AutoTokenizer.from_pretrained(model_dir), folder)
    return folder


def test_merge_writes_model_that_differs(tmp_path, tiny_model_dir):
    adapter = make_adapter(tiny_model_dir, tmp_path / "adapter", train_steps=3)

    outcome = merge_adapter(str(tiny_model_dir), "tiny", None, adapter, tmp_path / "out")

    assert outcome.path == tmp_path / "out" / "merged"
    assert (outcome.path / "model.safetensors").is_file()
    assert (outcome.path / "tokenizer.json").is_file()
    assert outcome.changed_tensors == 6  # q_proj, v_proj and experts.down_proj in 2 layers
    assert outcome.max_abs_difference > 0
    assert not (tmp_path / "out" / "merged.partial").exists()
    merged = AutoModelForCausalLM.from_pretrained(outcome.path)
    assert not any("lora" in name for name in merged.state_dict())


def test_merge_of_untrained_adapter_fails(tmp_path, tiny_model_dir):
    # A fresh LoRA adapter has B = 0, so merging it leaves the base weights unchanged.
    adapter = make_adapter(tiny_model_dir, tmp_path / "adapter", train_steps=0)

    with pytest.raises(MergeCheckError, match="equal the base weights"):
        merge_adapter(str(tiny_model_dir), "tiny", None, adapter, tmp_path / "out")


def test_merge_without_adapter_config_fails(tmp_path, tiny_model_dir):
    (tmp_path / "empty").mkdir()

    with pytest.raises(FileNotFoundError, match="no adapter_config.json"):
        merge_adapter(str(tiny_model_dir), "tiny", None, tmp_path / "empty", tmp_path / "out")
