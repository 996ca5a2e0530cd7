"""Build the tiny GPT-OSS-architecture test model offline.

`tunedeck/tiny-gpt-oss` names a model with the GPT-OSS architecture (attention sinks,
sliding and full attention layers, a mixture of experts) but only a few small layers and
random weights, plus a byte-level BPE tokenizer trained on a short built-in text. The
tokenizer treats the Harmony control strings as special tokens, and its chat template
renders the same Harmony text as `finetune.harmony`. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

TINY_MODEL_NAME = "tunedeck/tiny-gpt-oss"

# Bump when the architecture, tokenizer or template changes, so cached builds are rebuilt.
BUILD_VERSION = 2
BUILD_MARKER = "tunedeck-tiny-model.json"
SEED = 1234

# The Harmony control tokens of the real o200k_harmony tokenizer. The tiny tokenizer
# gives them small ids of its own, but splits exactly these strings out as special tokens.
HARMONY_SPECIAL_TOKENS = [
    "<|start|>",
    "<|end|>",
    "<|message|>",
    "<|channel|>",
    "<|constrain|>",
    "<|return|>",
    "<|call|>",
]
# The real tokenizer pads with <|endoftext|>; the tiny one does the same.
PAD_TOKEN = "<|endoftext|>"

_TRAINING_TEXT = """
Plan a three day trip to Lisbon with a budget of 600 euros.
Day one: walk through Alfama, take tram 28 and watch the sunset from a viewpoint.
Day two: visit Belem, the tower and the monastery, and try a custard tart.
Day three: take the train to Sintra and see the palaces in the hills.
What is the best time of year to visit Japan? Spring brings cherry blossoms and autumn
brings red maple leaves; summer is hot and humid, and winter is good for skiing.
How do I get from the airport to the city centre? Take the metro, a bus or a taxi.
Pack light, bring comfortable shoes, a rain jacket and a travel adapter.
Is it safe to travel alone in Iceland? Yes, but check the weather and road conditions.
Where should I stay in Rome? Trastevere and Monti are lively areas close to the sights.
The museum opens at nine in the morning and closes at six in the evening on weekdays.
You are ChatGPT, a large language model trained by OpenAI.
Knowledge cutoff: 2024-06
Reasoning: low medium high
# Valid channels: analysis, commentary, final. Channel must be included for every message.
system user assistant developer analysis commentary final
Human: Can you recommend a hotel? Assistant: Sure, here are three options near the beach.
Question: Which train goes to Florence? Answer: The high speed train from Rome takes 90 minutes.
0 1 2 3 4 5 6 7 8 9 10 20 50 100 2024 2025 euros dollars km hours minutes
"""


def model_cache_dir() -> Path:
    """Return the folder that holds built models (env TUNEDECK_MODEL_CACHE)."""
    configured = os.environ.get("TUNEDECK_MODEL_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "tunedeck" / "models"


def default_tiny_model_dir() -> Path:
    return model_cache_dir() / "tiny-gpt-oss"


def is_built(folder: Path) -> bool:
    marker = folder / BUILD_MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("build_version") == BUILD_VERSION
    except (OSError, ValueError):
        return False


# Renders the same text as finetune.harmony.render_segments: the system message with
# today's date and the reasoning effort, an optional developer message made from a first
# system message, then the turns. Assistant turns use the final channel. The last message
# ends with <|return|> unless a generation prompt follows. Every "<|" inside message text
# gets a zero-width joiner after it, as harmony.escape_control_text does, so pasted
# control-token text never becomes a control token.
_CHAT_TEMPLATE = (
    "{%- set effort = reasoning_effort | default('medium') -%}"
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\n"
    "Current date: {{ strftime_now('%Y-%m-%d') }}\n\n"
    "Reasoning: {{ effort }}\n\n"
    "# Valid channels: analysis, commentary, final. "
    "Channel must be included for every message.<|end|>"
    "{%- for message in messages -%}"
    "{%- set content = message['content'] | replace('<|', '<|\u200d') -%}"
    "{%- if message['role'] == 'system' -%}"
    "<|start|>developer<|message|># Instructions\n\n{{ content }}\n\n<|end|>"
    "{%- elif message['role'] == 'assistant' -%}"
    "<|start|>assistant<|channel|>final<|message|>{{ content }}"
    "{%- if loop.last and not add_generation_prompt -%}<|return|>{%- else -%}<|end|>{%- endif -%}"
    "{%- else -%}"
    "<|start|>{{ message['role'] }}<|message|>{{ content }}<|end|>"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|start|>assistant{%- endif -%}"
)


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=[PAD_TOKEN, *HARMONY_SPECIAL_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    lines = [line for line in _TRAINING_TEXT.splitlines() if line.strip()]
    tokenizer.train_from_iterator(lines * 4, trainer=trainer)

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|return|>",
        pad_token=PAD_TOKEN,
        additional_special_tokens=[t for t in HARMONY_SPECIAL_TOKENS if t != "<|return|>"],
    )
    fast.chat_template = _CHAT_TEMPLATE
    fast.model_max_length = 4096
    return fast


def _build_model(tokenizer):
    import torch
    from transformers import GenerationConfig, GptOssConfig, GptOssForCausalLM

    torch.manual_seed(SEED)
    config = GptOssConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        num_local_experts=4,
        num_experts_per_tok=2,
        max_position_embeddings=4096,
        sliding_window=64,
        layer_types=["sliding_attention", "full_attention"],
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|return|>"),
        tie_word_embeddings=False,
    )
    model = GptOssForCausalLM(config)
    stop_ids = tokenizer.convert_tokens_to_ids(["<|return|>", "<|call|>", PAD_TOKEN])
    model.generation_config = GenerationConfig(
        eos_token_id=stop_ids, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    return model


def build_tiny_model(out_dir: str | os.PathLike | None = None, *, force: bool = False) -> Path:
    """Build and save the tiny model and tokenizer, unless a current build is already there.

    The build goes to a temporary sibling folder first and is renamed into place, so a
    crash or a concurrent build never leaves a half-written model behind.
    """
    folder = Path(out_dir) if out_dir is not None else default_tiny_model_dir()
    if is_built(folder) and not force:
        return folder

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-build-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        tokenizer = _train_tokenizer()
        model = _build_model(tokenizer)
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / BUILD_MARKER).write_text(
            json.dumps({"name": TINY_MODEL_NAME, "build_version": BUILD_VERSION, "seed": SEED})
        )
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def resolve_model_path(name: str) -> str:
    """Map a request's model name to what from_pretrained takes, building the tiny model."""
    if name == TINY_MODEL_NAME:
        return str(build_tiny_model())
    return name
