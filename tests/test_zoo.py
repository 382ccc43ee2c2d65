"""The zoo users touch first: the registry, ``load()`` and its reasoner, model cards, merged export and
``reproduce`` — on the tiny base (fast), and ``load().solve()`` on the real SmolLM2-135M."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import toy_domain  # noqa: E402,F401  (registers "toy-addition")

from srmzoo import load  # noqa: E402
from srmzoo.domain import Example, Verdict, get_domain  # noqa: E402
from srmzoo.errors import SrmzooError, UnknownNameError  # noqa: E402
from srmzoo.reasoner import Reasoner, Solution  # noqa: E402
from srmzoo.recipe import recipe_paths, recipe_root  # noqa: E402
from srmzoo.registry import entries, get_entry  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def adapter(tiny_run, tmp_path) -> Path:
    """The adapter of a private copy of the tiny run (tests may write in it; the run's recipe, metrics and
    loss curve sit one level up, as in a run directory)."""
    return Path(shutil.copytree(tiny_run, tmp_path / "run")) / "adapter"


# -------------------------------------------------------------------------------------------- the registry


HEADLINE = ["coding-135m", "coding-7b", "medical-135m", "medical-7b", "math-135m", "math-7b", "science-135m-tools",
            "science-7b"]


def test_every_recipe_is_an_entry_with_a_status(isolated_cache):
    known = entries()
    assert len(known) == len(recipe_paths())
    assert {"math-135m", "medical-135m", "science-135m", "coding-135m", "medical-7b"} <= set(known)
    for entry in known.values():
        assert entry.status() == "recipe only"  # an empty cache, nothing published
        assert entry.size_label and entry.domain in ("math", "science", "healthcare", "coding")
    assert get_entry("medical-7b").gpu_scale and not get_entry("medical-135m").gpu_scale


def test_headline_entries_and_ablations_are_told_apart_by_their_recipes_folder():
    assert list(entries(include_ablations=False)) == HEADLINE  # per domain folder, by name
    ablations = [name for name, e in entries().items() if e.ablation]
    assert ablations == ["coding-135m-varied",
                         "medical-135m-grounded", "medical-135m-grounded-rft", "medical-135m-tools", "medical-135m-tools-rft",
                         "medical-135m-unhinted", "medical-135m-varied", "medical-135m-varied-general",
                         "math-135m-distill", "math-135m-grpo", "math-135m-plain", "math-135m-rft", "math-135m-tools", "math-135m-varied",
                         "science-135m", "science-135m-grpo", "science-135m-rft", "science-135m-tools-varied"]
    for name in ablations:
        entry = get_entry(name)  # resolves by name like a headline entry
        assert Path(entry.recipe.source).relative_to(recipe_root()).parts == (entry.domain, "ablations", f"{name}.yaml")
        assert f"srmzoo train {entry.recipe.source}" in entry.how_to_obtain()
    # an RFT/GRPO ablation starts from another entry, which resolves by name too
    starts = {e.recipe.model.adapter for e in entries().values() if e.recipe.model.adapter}
    assert starts == {"math-135m-tools", "math-135m-plain", "medical-135m-tools", "medical-135m-grounded", "science-135m"}
    assert all(get_entry(s).ablation for s in starts)


def test_two_recipes_of_one_entry_name_are_an_error(tmp_path, monkeypatch):
    from srmzoo import registry

    for folder in ("math", "math/ablations"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "twin.yaml").write_text("name: twin\ndomain: math\nmodel: {base: smollm2}\n")
    monkeypatch.setattr(registry, "recipe_paths", lambda: sorted(tmp_path.rglob("*.yaml")))
    with pytest.raises(SrmzooError) as err:
        entries()
    assert str(err.value).splitlines()[0] == (f"zoo entry 'twin' is defined twice: {tmp_path}/math/ablations/twin.yaml "
                                              f"and {tmp_path}/math/twin.yaml")


def test_unknown_entry_lists_close_names():
    with pytest.raises(UnknownNameError) as err:
        get_entry("medicl-135m")
    assert "medical-135m" in str(err.value) and "srmzoo list" in str(err.value)


def test_entry_trained_locally_once_in_the_store(tiny_run, isolated_cache):
    from srmzoo.store import install_run

    install_run(tiny_run, "math-135m")
    assert get_entry("math-135m").status() == "trained locally"
    assert get_entry("science-135m").status() == "recipe only"


def test_cli_list_prints_the_headline_entries_and_all_with_the_ablations(capsys, isolated_cache):
    from srmzoo.cli import main

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[2:-2]] == HEADLINE
    assert all("recipe only" in line for line in lines[2:-2])
    assert lines[-2:] == ["", "8 headline entries; `srmzoo list --all` adds the 18 ablations "
                          "(recipes/<domain>/ablations/, docs/ablations.md)."]

    assert main(["list", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["entry", "kind", "domain"]
    kinds = {line.split()[0]: line.split()[1] for line in lines[2:]}
    assert list(kinds) == list(entries())
    assert kinds == {name: "ablation" if e.ablation else "headline" for name, e in entries().items()}
    assert list(kinds.values()).count("ablation") == 18


# ---------------------------------------------------------------------------------------- load + reasoner


def test_load_a_path_gives_a_reasoner_that_solves_and_checks(adapter, tiny_base_dir):
    m = load(adapter, base_path=tiny_base_dir, device="cpu")
    assert isinstance(m, Reasoner) and m.domain.name == "toy-addition" and m.source["kind"] == "path"
    assert m.prompt("What is 1 + 2?").startswith("<|im_start|>system\nAdd the numbers.")
    solution = m.solve("What is 1 + 2?", max_new_tokens=8)
    assert isinstance(solution, Solution) and solution.completions == (solution.completion,)
    assert solution.answer == m.domain.extract_answer(solution.completion)
    assert m.check("3", "3").verdict is Verdict.CORRECT
    assert m.check("4", "3").verdict is Verdict.WRONG
    assert m.check(None, "3").verdict is Verdict.UNVERIFIABLE
    assert m.check("so 1 + 2 = 3, \\boxed{3}", "3").correct  # a whole completion works too


def test_solve_within_a_reasoning_budget_forces_an_answer(adapter, tiny_base_dir):
    m = load(adapter, base_path=tiny_base_dir, device="cpu")
    s = m.solve("What is 2 + 2?", budget=3)  # a random tiny model never answers in 3 tokens
    assert m.domain.answer_cue in s.completion  # so it was made to
    assert s.answer == m.domain.extract_answer(s.completion)
    with pytest.raises(SrmzooError, match="reasoning budget"):
        m.solve("x", budget=0)


def test_solve_with_samples_takes_the_majority_answer(adapter, tiny_base_dir):
    m = load(adapter, base_path=tiny_base_dir, device="cpu")
    s = m.solve("What is 2 + 2?", samples=4, temperature=1.0, max_new_tokens=6)
    assert len(s.completions) == 4
    answers = [m.domain.extract_answer(c) for c in s.completions]
    if any(a is not None for a in answers):
        assert answers.count(s.answer) == max(answers.count(a) for a in answers if a is not None)
    with pytest.raises(SrmzooError, match="samples must be a positive integer"):
        m.solve("x", samples=0)


def test_load_merged_gives_the_same_greedy_outputs(adapter, tiny_base_dir):
    plain = load(adapter, base_path=tiny_base_dir, device="cpu")
    merged = load(adapter, base_path=tiny_base_dir, device="cpu", merge=True)
    problems = ["What is 3 + 4?", "What is 10 + 20?"]
    assert plain.generate(problems, max_new_tokens=12) == merged.generate(problems, max_new_tokens=12)
    assert not hasattr(merged.model, "peft_config")


def test_load_from_the_store_by_entry_name(tiny_run, tiny_base_dir, isolated_cache):
    from srmzoo.store import install_run

    install_run(tiny_run, "math-135m")
    m = load("math-135m", base_path=tiny_base_dir, device="cpu")
    assert m.source["kind"] == "store" and m.name == "toy-tiny"


def test_load_an_untrained_entry_says_how_to_obtain_it(isolated_cache):
    with pytest.raises(SrmzooError) as err:
        load("science-135m")
    assert "srmzoo train" in str(err.value) and "recipes/science/ablations/science-135m.yaml" in str(err.value)
    with pytest.raises(SrmzooError) as err:
        load("medical-7b")
    assert "GPU" in str(err.value) and "srmzoo train" in str(err.value)


def test_load_an_unknown_name_lists_close_names(isolated_cache):
    with pytest.raises(UnknownNameError) as err:
        load("math-153m")
    assert "math-135m" in str(err.value)


def test_load_refuses_a_different_base_unless_allowed(adapter, tiny_base_dir):
    meta_path = adapter / "srmzoo_adapter.json"
    meta = json.loads(meta_path.read_text())
    meta["base"]["sha256"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(SrmzooError, match="sha256"):
        load(adapter, base_path=tiny_base_dir)
    assert load(adapter, base_path=tiny_base_dir, allow_base_mismatch=True).name == "toy-tiny"


def test_load_a_corrupted_adapter_is_one_clear_error(adapter, tiny_base_dir):
    (adapter / "adapter_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(SrmzooError) as err:
        load(adapter, base_path=tiny_base_dir)
    assert "adapter_model.safetensors" in str(err.value)


def _reasoner(domain: str) -> Reasoner:
    return Reasoner(name=f"{domain}-x", model=None, tokenizer=None, prompt_format=None,
                    domain=get_domain(domain), meta={"base": {"name": "b"}})


def test_the_medical_reasoner_says_it_is_not_for_clinical_use():
    medical = _reasoner("healthcare")
    assert "not for clinical decisions" in medical.disclaimer
    assert "not for clinical decisions" in repr(medical)
    assert _reasoner("math").disclaimer is None


@pytest.mark.parametrize(
    ("domain", "answer", "gold", "correct"),
    [
        ("math", "0.5", "1/2", True),
        ("math", "\\frac{1}{3}", "1/3", True),
        ("math", "0.333", "1/3", False),
        ("science", "CCO", "OCC", True),  # the same molecule, another SMILES
        ("science", "C1CC1(", "CCO", False),  # invalid SMILES is wrong, not a crash
    ],
)
def test_reasoner_check_uses_the_domains_verifier(domain, answer, gold, correct):
    m = _reasoner(domain)
    meta = {"kind": "smiles"} if domain == "science" else None
    example = Example(id="x", family="reaction_product", question="", answer=gold, solution="", meta=meta or {})
    check = m.check(answer, example) if domain == "science" else m.check(answer, gold)
    assert check.correct is correct


# --------------------------------------------------------------------------------------- cards and export


def _evaluate(adapter: Path, tiny_base_dir: Path, out: Path) -> dict:
    from srmzoo.eval.run import run_eval

    return run_eval(adapter, split="test", n=6, few_shot=1, max_new_tokens=8, batch_size=6,
                    base_path=tiny_base_dir, out_dir=out, progress=False)


def test_card_is_rendered_from_the_runs_artifacts_and_validates(adapter, tiny_base_dir, tmp_path, hub_defaults):
    from huggingface_hub import ModelCard

    from srmzoo.publish.cards import write_card

    results = _evaluate(adapter, tiny_base_dir, adapter / "eval")
    path = write_card(adapter, out_dir=tmp_path / "card", repo="srmzoo-tester/toy")
    text = path.read_text()
    card = ModelCard(text)
    card.validate()  # the Hub's metadata check (the local server implements it)
    data = card.data.to_dict()
    assert data["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and data["library_name"] == "peft"
    assert {"srmzoo", "lora", "toy-addition"} <= set(data["tags"])
    [result] = data["model-index"][0]["results"]
    adapter_report = next(r for r in results["reports"] if r["prompting"] == "adapter")
    assert result["metrics"][0]["value"] == round(adapter_report["accuracy"], 4)
    assert result["dataset"]["split"] == "test"
    # every figure in the table is the results file's
    for r in results["reports"]:
        assert f"{100 * r['accuracy']:.1f}%" in text
    assert results["settings"]["command"] in text
    assert (tmp_path / "card" / "results_test.json").is_file() and (tmp_path / "card" / "loss_curve.png").is_file()
    assert "not for clinical" not in text


def test_card_skips_results_of_another_adapter(adapter, tiny_base_dir, tmp_path, caplog):
    from srmzoo.publish.cards import load_results

    _evaluate(adapter, tiny_base_dir, adapter / "eval")
    data = json.loads((adapter / "eval" / "results_test.json").read_text())
    data["adapter"]["sha256"] = "f" * 64
    (adapter / "eval" / "results_test.json").write_text(json.dumps(data))
    assert load_results(adapter) == {}
    assert "different adapter" in caplog.text


def test_export_merged_loads_with_plain_transformers_and_agrees(adapter, tiny_base_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.backends.hf import generate
    from srmzoo.publish.export import export_merged

    out = export_merged(adapter, tmp_path / "merged", base_path=tiny_base_dir)
    standalone = AutoModelForCausalLM.from_pretrained(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    m = load(adapter, base_path=tiny_base_dir)
    prompts = [m.prompt("What is 5 + 6?"), m.prompt("What is 40 + 2?")]
    assert generate(standalone, tok, prompts, max_new_tokens=10) == generate(m.model, m.tokenizer, prompts, max_new_tokens=10)
    assert json.loads((out / "srmzoo_export.json").read_text())["merged"] is True
    with pytest.raises(SrmzooError, match="not an empty directory"):
        export_merged(adapter, out, base_path=tiny_base_dir)


# ------------------------------------------------------------------------------------------------ reproduce


def test_reproduce_compares_figure_by_figure():
    from srmzoo.reproduce import ReproduceReport, compare_results

    expected = {"settings": {"split": "test"}, "reports": [
        {"model": "b", "prompting": "zero-shot", "accuracy": 0.1, "ci_low": 0.05, "ci_high": 0.2},
        {"model": "a", "prompting": "adapter", "accuracy": 0.6, "ci_low": 0.55, "ci_high": 0.65}]}
    got = {"settings": {"split": "test"}, "reports": [
        {"model": "b", "prompting": "zero-shot", "accuracy": 0.12, "ci_low": 0.07, "ci_high": 0.2},
        {"model": "a", "prompting": "adapter", "accuracy": 0.4, "ci_low": 0.35, "ci_high": 0.45}]}
    report = ReproduceReport("x", compare_results(expected, got))
    assert [c.inside for c in report.comparisons] == [True, False]
    assert "OUTSIDE" in report.table() and len(report.outside) == 1


def test_reproduce_without_committed_results_says_what_to_run(monkeypatch, tmp_path):
    from srmzoo import registry
    from srmzoo.reproduce import reproduce

    monkeypatch.setattr(registry, "card_dir", lambda entry: tmp_path / entry)
    with pytest.raises(SrmzooError, match="no committed results"):
        reproduce("science-135m")


def test_committed_splits_are_the_greedy_results_files_whatever_the_split(monkeypatch, tmp_path):
    from srmzoo import registry

    monkeypatch.setattr(registry, "card_dir", lambda entry: tmp_path / entry)
    folder = tmp_path / "coding-135m"
    folder.mkdir()
    for stem, settings in {"test": {"split": "test"}, "external-humaneval": {"split": "external:humaneval"},
                           "natural": {"split": "natural"}, "test_k8": {"split": "test", "samples": 8},
                           "test_budget": {"split": "test", "budgets": [64]}}.items():
        (folder / f"results_{stem}.json").write_text(json.dumps({"settings": settings}))
    (folder / "results_broken.json").write_text("{")
    entry = get_entry("coding-135m")
    assert sorted(entry.committed_splits()) == ["external:humaneval", "natural", "test"]
    assert entry.results("external:humaneval") == {"settings": {"split": "external:humaneval"}}


def test_reproduce_an_ablation_finds_its_entry_and_committed_results(isolated_cache):
    from srmzoo.reproduce import reproduce

    assert get_entry("math-135m-rft").results("test")["settings"]["n_requested"] == 400
    with pytest.raises(SrmzooError) as err:  # past the entry and its card: only the adapter is missing
        reproduce("math-135m-rft")
    assert str(err.value).startswith("no adapter for 'math-135m-rft'")


# ------------------------------------------------------------------------------------------- the real model


@pytest.mark.real_model
def test_real_smollm2_adapter_loads_as_a_reasoner_and_matches_plain_peft(real_toy_run):
    """Train a few steps on the real base, then `load()` it: the reasoner's greedy completion is the one
    plain transformers + peft produce, and its answer is parsed and checked by the verifier."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.backends.hf import generate
    from srmzoo.bases import resolve_base

    adapter_dir = real_toy_run / "adapter"
    m = load(adapter_dir)
    s = m.solve("What is 12 + 30?", max_new_tokens=24)
    assert s.answer is not None, s.completion
    assert m.check(s.answer, "42").correct == (s.answer.strip() == "42")

    tok = AutoTokenizer.from_pretrained(adapter_dir)
    plain = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(resolve_base("smollm2-135m-instruct").path), adapter_dir
    ).eval()
    assert generate(plain, tok, [m.prompt("What is 12 + 30?")], max_new_tokens=24)[0][0] == s.completion


def test_load_an_entry_from_the_hub_at_its_pinned_commit(adapter, tiny_base_dir, hub_server, isolated_cache,
                                                        monkeypatch, tmp_path):
    """Empty local store: `load(entry)` downloads the commit the registry pins, not the branch's newest."""
    from conftest_hub import HUB_TOKEN, HUB_USER

    from srmzoo import registry
    from srmzoo.publish.hub import publish

    monkeypatch.setattr(registry, "card_dir", lambda entry: tmp_path / "cards" / entry)
    repo = f"{HUB_USER}/math-135m"
    first = publish(adapter, repo, token=HUB_TOKEN, endpoint=hub_server.url, card="---\nlicense: mit\n---\n")
    registry.record_published(adapter, first)
    (tmp_path / "cards" / "math-135m").mkdir(parents=True)
    (tmp_path / "cards" / "toy-tiny" / "hub.json").rename(tmp_path / "cards" / "math-135m" / "hub.json")
    expected = load(adapter, base_path=tiny_base_dir).generate("What is 7 + 8?", max_new_tokens=10)

    # a newer, different adapter on the same branch must not be what the pinned entry loads
    from safetensors.torch import load_file, save_file

    weights = load_file(adapter / "adapter_model.safetensors")
    save_file({k: v + 0.5 for k, v in weights.items()}, adapter / "adapter_model.safetensors")
    second = publish(adapter, repo, token=HUB_TOKEN, endpoint=hub_server.url, card="---\nlicense: mit\n---\n")
    assert second.commit != first.commit

    m = load("math-135m", base_path=tiny_base_dir, token=HUB_TOKEN, endpoint=hub_server.url,
             cache_dir=tmp_path / "hf-cache")
    assert m.source == {"kind": "hub", "repo": repo, "revision": first.commit, "location": m.source["location"]}
    assert m.generate("What is 7 + 8?", max_new_tokens=10) == expected
    newest = load(repo, revision="main", base_path=tiny_base_dir, token=HUB_TOKEN, endpoint=hub_server.url,
                  cache_dir=tmp_path / "hf-cache")
    assert newest.source["revision"] == "main"


def test_solve_best_of_n_votes_among_the_samples_the_domains_gold_free_check_ranks_highest():
    from srmzoo.domain import get_domain
    from srmzoo.prompting import PromptFormat

    coding = get_domain("coding")
    ex = coding.examples("test", 1, families=["function_synthesis"])[0]
    wrong = f"```python\ndef {ex.answer}(*args):\n    return None\n```"
    m = Reasoner("stub", None, None, PromptFormat(chat_template="unused"), coding, {})
    m.generate = lambda question, **kw: [[wrong, wrong, ex.solution]]  # two agree on wrong code
    voted = m.solve(ex.question, samples=3, select=False)
    assert voted.completion == wrong and not coding.check(voted.completion, ex).correct
    for problem in (ex.question, ex):  # a bare question shows its example call too
        best = m.solve(problem, samples=3)
        assert best.completion == ex.solution and coding.check(best.completion, ex).correct
        assert best.completions == (wrong, wrong, ex.solution) and best.problem == ex.question


def test_cli_solve_prints_the_reasoning_the_answer_and_its_check(adapter, tiny_base_dir, capsys):
    from srmzoo.cli import main

    args = ["solve", str(adapter), "What is 1 + 2?", "--base-path", str(tiny_base_dir), "--device", "cpu",
            "--max-new-tokens", "4", "--gold", "3"]
    assert main(args) == 0
    greedy = capsys.readouterr().out
    assert "\nanswer: " in greedy and "check against '3': " in greedy
    assert main([*args, "--samples", "3", "--temperature", "1.0", "--no-select"]) == 0
    assert "check against '3': " in capsys.readouterr().out
    assert main([*args, "--samples", "0"]) == 2  # one clear error, no traceback
    assert "samples must be a positive integer" in capsys.readouterr().err


def test_the_llama_cpp_backend_generates_what_torch_does_and_answers_tool_calls(adapter, tiny_base_dir, tmp_path,
                                                                                monkeypatch):
    """``load(..., backend="llama.cpp")`` on the f32 GGUF export of the tiny model: greedy completions equal
    the torch reasoner's token for token, the export is made once and reused, and a call the model writes
    is answered. Skipped where llama-cpp-python is not installed (it builds llama.cpp from source; CI does
    not); bench/llama_cpp_speed.py measures the real entry."""
    pytest.importorskip("llama_cpp")
    monkeypatch.setenv("SRMZOO_CACHE", str(tmp_path / "cache"))
    torch_m = load(adapter, base_path=tiny_base_dir, device="cpu")
    fast = load(adapter, base_path=tiny_base_dir, device="cpu", backend="llama.cpp", gguf_quantization="f32")
    problems = ["What is 1 + 2?", "What is 17 + 25?", "What is 40 + 2?"]
    assert fast.generate(problems, max_new_tokens=12) == torch_m.generate(problems, max_new_tokens=12)
    exports = list((tmp_path / "cache" / "gguf").iterdir())
    again = load(adapter, base_path=tiny_base_dir, device="cpu", backend="llama.cpp", gguf_quantization="f32")
    assert list((tmp_path / "cache" / "gguf").iterdir()) == exports and len(exports) == 1  # reused
    # a call the model closes is answered, and llama.cpp goes on from the result: a scripted model writes
    # "<<2 + 3>>", then (asked again, from prompt + call + result) " so 5" and the end of its turn
    tok = again.tokenizer
    script = [tok("<<2 + 3>>", add_special_tokens=False)["input_ids"],
              tok(" so 5", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]]
    asked = []

    def scripted(ids, **kw):
        asked.append(list(ids))
        yield from script[len(asked) - 1]

    monkeypatch.setattr(again.backend.llm, "generate", scripted)
    out = again.backend.generate(["Q"], max_new_tokens=40, tools=["calculator"])[0][0]
    assert out == "<<2 + 3>> = 5 so 5"
    q = tok("Q", add_special_tokens=False)["input_ids"]
    assert asked[1] == q + tok("<<2 + 3>> = 5", add_special_tokens=False)["input_ids"]  # resumed after the result
    monkeypatch.undo()
    sampled = again.generate("What is 1 + 2?", max_new_tokens=6, do_sample=True, num_return_sequences=3)
    assert len(sampled[0]) == 3
    with pytest.raises(SrmzooError, match="unknown backend"):
        load(adapter, base_path=tiny_base_dir, backend="onnx")
