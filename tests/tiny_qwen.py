"""A tiny Qwen2 for fast tests of the Qwen2.5-Coder paths: a byte-level BPE tokenizer split the way Qwen2
splits text (trained here on a few lines, ~400 tokens, ChatML special tokens), a ChatML template with a
default system prompt as Qwen's has, and a 2-layer ``Qwen2Config`` model of hidden size 32 whose q/k/v
biases are non-zero (Qwen2's own init leaves them 0, which would hide a dropped bias)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

# Qwen2.5's template without its tool-calling branches: a system turn (its own or the default), then turns.
CHATML_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (message['role'] == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i * 2)\n",
    "What is 12 + 30? The answer is 42.",
    "Tom has 3 apples and eats one. How many are left? \\boxed{2}",
    "Add the numbers. End with \\boxed{sum}.",
    "Größe: 3,5 m² — naïve café, 東京 and emoji 🙂.",
    "import numpy as np\nx = np.arange(100).reshape(10, 10)\n",
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
] * 4

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Texts a tokenizer test compares llama.cpp and transformers on: code, numbers, unicode, whitespace.
TOKENIZER_TEXTS = [
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "3.14159 * 1234567 = 3878509.9 (about 3.9e6); 2026-12-02",
    "Größe, naïve café, 東京, Привет, emoji 🙂👍",
    "  leading spaces,\ttabs\n\n\nand blank lines  ",
    "x = {'a': [1, 2, 3]}  # it's what they'll say",
]


def tiny_qwen_tokenizer(out: Path):
    """Train the tiny Qwen2-style tokenizer and save it (with the ChatML template) into ``out``."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from srmzoo.publish.export import QWEN2_SPLIT_REGEX

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(out)
    return tokenizer


def tiny_qwen_dir(out: Path, *, tie: bool = True, seed: int = 0) -> Path:
    """A randomly initialised 2-layer Qwen2 (hidden 32) with the tiny tokenizer, saved into ``out``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_qwen_tokenizer(out)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=tie,
        # a wide init spreads the logits, so greedy decoding rarely meets a near-tie that float
        # rounding could break differently in llama.cpp and torch
        initializer_range=0.3,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("q_proj.bias", "k_proj.bias", "v_proj.bias")):
                param.normal_(0.0, 0.5)
    model.save_pretrained(out)
    return out


def write_tiny_qwen_gguf(model_dir: Path, path: Path) -> Path:
    """The tiny Qwen2 as an f32 GGUF, written by srmzoo's own GGUF writer (what an offline part set holds)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.publish.export import _write_gguf

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="float32")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    _write_gguf(model, tokenizer, path, arch="qwen2", quantization="f32", name="tiny-qwen2", base={})
    return path
