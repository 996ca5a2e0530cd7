"""The merge verification gate and channel parsing of completions."""

import json
import shutil

import pytest

from finetune.completion import analysis_text
from finetune.export import merge_adapter
from finetune.verify import verify
from tests.test_export import make_adapter


@pytest.fixture(scope="module")
def merged_dir(tmp_path_factory, tiny_model_dir):
    folder = tmp_path_factory.mktemp("merge")
    adapter = make_adapter(tiny_model_dir, folder / "adapter", train_steps=3)
    return merge_adapter(str(tiny_model_dir), "tiny", None, adapter, folder / "out").path


@pytest.fixture
def copy_of_merged(tmp_path, merged_dir):
    target = tmp_path / "merged"
    shutil.copytree(merged_dir, target)
    return target


def test_gate_passes_trained_merge(merged_dir, tiny_model_dir):
    result = verify(str(merged_dir), str(tiny_model_dir))

    assert result.deployable, result.reason
    assert [check.name for check in result.checks] == ["files", "quantization", "load", "smoke"]
    assert result.smoke["max_logit_difference"] > 0


def test_gate_rejects_corrupted_weights(copy_of_merged, tiny_model_dir):
    (copy_of_merged / "model.safetensors").write_bytes(b"not a safetensors file")

    result = verify(str(copy_of_merged), str(tiny_model_dir))

    assert not result.deployable
    assert "model.safetensors is not a valid safetensors file" in result.reason


def test_gate_rejects_missing_tokenizer(copy_of_merged, tiny_model_dir):
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (copy_of_merged / name).unlink(missing_ok=True)

    result = verify(str(copy_of_merged), str(tiny_model_dir))

    assert not result.deployable
    assert "no tokenizer files" in result.reason


def test_gate_rejects_mxfp4_config_over_float_tensors(copy_of_merged, tiny_model_dir):
    config_path = copy_of_merged / "config.json"
    config = json.loads(config_path.read_text())
    config["quantization_config"] = {"quant_method": "mxfp4"}
    config_path.write_text(json.dumps(config))

    result = verify(str(copy_of_merged), str(tiny_model_dir))

    assert not result.deployable
    assert "declares MXFP4 quantization but the tensors are unquantized" in result.reason


def test_gate_rejects_base_weights(tiny_model_dir, tmp_path):
    target = tmp_path / "same"
    shutil.copytree(tiny_model_dir, target)

    result = verify(str(target), str(tiny_model_dir))

    assert not result.deployable
    assert "adapter had no effect" in result.reason


def test_gate_rejects_missing_folder(tmp_path, tiny_model_dir):
    result = verify(str(tmp_path / "nowhere"), str(tiny_model_dir))

    assert not result.deployable
    assert "does not exist" in result.reason


def test_analysis_channel_is_separate():
    generated = "<|channel|>analysis<|message|>Check the weather.<|end|><|start|>assistant<|channel|>final<|message|>Visit a museum.<|return|>"

    assert analysis_text(generated) == "Check the weather."


def test_final_only_has_no_reasoning():
    assert analysis_text("<|channel|>final<|message|>Visit a museum.<|return|>") is None
    assert analysis_text("Visit a museum.") is None
