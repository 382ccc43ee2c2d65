"""The evaluation harness: statistics, scoring on stub generations, adapter loading, and run_eval end to end
on a tiny Llama with the toy-addition domain (plus one short real eval on SmolLM2-135M)."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import toy_domain  # noqa: E402,F401  (registers "toy-addition")

from srmzoo.artifacts import eval_config_for, load_adapter, sha256_file
from srmzoo.domain import Check, Example, Verdict, get_domain  # noqa: E402
from srmzoo.errors import SrmzooError  # noqa: E402
from srmzoo.eval import harness  # noqa: E402
from srmzoo.eval import run as eval_run  # noqa: E402
from srmzoo.eval.harness import evaluate, few_shot_examples
from srmzoo.eval.run import EvalOptions, GenerationOptions, LoadOptions, RowOptions, run_eval
from srmzoo.eval.scaling import scaling_curve  # noqa: E402
from srmzoo.eval.stats import majority_vote, pass_at_k, wilson_interval
from srmzoo.prompting import PLAIN_CHAT_TEMPLATE, PromptFormat  # noqa: E402
from srmzoo.publish.cards import render_card  # noqa: E402
from srmzoo.recipe import EvalConfig  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------------------------ statistics


@pytest.mark.parametrize(
    ("correct", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (1, 4, 0.0456, 0.6994)],
)
def test_wilson_interval_matches_known_values(correct, n, low, high):
    got = wilson_interval(correct, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(30, 100, z=2.576)  # 99% is wider than 95%
    assert low < wilson_interval(30, 100)[0] and high > wilson_interval(30, 100)[1]
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_pass_at_k_edge_cases():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 6, 5) == 1.0  # only 4 wrong samples: any 5 hold a correct one
    assert pass_at_k(10, 2, 5) == pytest.approx(1 - math.comb(8, 5) / math.comb(10, 5))
    assert pass_at_k(3, 1, 3) == 1.0
    for bad in [(5, 6, 1), (5, 1, 0), (5, 1, 6), (5, -1, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(*bad)


def test_majority_vote_ties_whitespace_and_abstentions():
    assert majority_vote(["1", "2", "2", "1"]) == 0  # tie: first occurrence wins
    assert majority_vote(["2", "1", "1", "2"]) == 0
    assert majority_vote([None, "5", " 6", "6 ", "5", "6"]) == 2
    assert majority_vote(["3 / 4", "7", "3/4"]) == 0
    assert majority_vote([None, None, "9"]) == 2
    assert majority_vote([]) is None


# ---------------------------------------------------------------------------------- scoring on stub outputs


class StubTokenizer:
    """Renders a conversation as plain text; enough for evaluate() when generation is stubbed."""

    def apply_chat_template(self, messages, *, chat_template, tokenize, add_generation_prompt):
        return "".join(f"[{m['role']}] {m['content']}\n" for m in messages) + "[assistant]"

    def __call__(self, texts, *, add_special_tokens):  # one token per character
        return {"input_ids": [list(t) for t in texts]}


def _item(i: int, family: str, a: int, b: int) -> Example:
    return Example(
        id=f"stub/{i}", family=family, question=f"What is {a} + {b}?", answer=str(a + b), solution=""
    )


def _stub_generate(monkeypatch, by_question: dict[str, list[str]], calls: list[dict]) -> None:
    def fake_generate(model, tokenizer, prompts, **kw):
        calls.append({"prompts": list(prompts), **kw})
        out = []
        for prompt in prompts:
            question = prompt.rsplit("[user] ", 1)[1].split("\n", 1)[0]
            out.append(by_question[question][: kw["num_return_sequences"]])
        return out

    monkeypatch.setattr(harness, "generate", fake_generate)


def test_evaluate_scores_samples_votes_and_families_exactly(monkeypatch):
    items = [
        _item(0, "small", 1, 2),
        _item(1, "small", 2, 2),
        _item(2, "large", 20, 30),
        _item(3, "large", 40, 1),
    ]
    completions = {
        # first sample right; the vote (4, 4 vs 3) is wrong
        "What is 1 + 2?": ["\\boxed{3}", "\\boxed{4}", "\\boxed{ 4}"],
        # first sample gives no answer; the vote over the two that answer ties, first occurrence (4) wins
        "What is 2 + 2?": ["no idea", "\\boxed{4}", "\\boxed{5}"],
        # all wrong
        "What is 20 + 30?": ["\\boxed{49}", "\\boxed{51}", "\\boxed{49}"],
        # first wrong, the other two right: vote right
        "What is 40 + 1?": ["\\boxed{14}", "\\boxed{41}", "\\boxed{41}"],
    }
    calls: list[dict] = []
    _stub_generate(monkeypatch, completions, calls)
    fmt = PromptFormat(chat_template="unused", system_prompt="Add.")
    report = evaluate(
        None,
        StubTokenizer(),
        fmt,
        get_domain("toy-addition"),
        items,
        max_new_tokens=8,
        batch_size=6,
        samples=3,
        temperature=0.9,
        progress=False,
    )
    assert calls[0]["do_sample"] is True and calls[0]["temperature"] == 0.9
    assert calls[0]["num_return_sequences"] == 3 and calls[0]["batch_size"] == 2  # 6 sequences = 2 prompts
    assert (report.n, report.correct, report.wrong, report.unverifiable) == (4, 1, 2, 1)
    assert report.accuracy == 0.25
    assert (report.ci_low, report.ci_high) == pytest.approx(wilson_interval(1, 4))
    assert report.pass_at_k == 0.75  # items 0, 1, 3 have a correct sample
    assert report.pass_at_1 == pytest.approx((1 / 3 + 1 / 3 + 0 + 2 / 3) / 4)
    assert report.majority_accuracy == 0.5  # items 1 and 3
    assert report.families["small"].n == 2 and report.families["small"].accuracy == 0.5
    assert report.families["large"].correct == 0
    assert (report.families["large"].ci_low, report.families["large"].ci_high) == pytest.approx(
        wilson_interval(0, 2)
    )
    first = report.records[0]
    assert first["id"] == "stub/0" and first["gold"] == "3" and first["verdict"] == "correct"
    assert first["predicted"] == ["3", "4", "4"] and first["vote"] == {"answer": "4", "verdict": "wrong"}
    assert report.records[1]["vote"] == {"answer": "4", "verdict": "correct"}
    assert [r["id"] for r in report.records] == [e.id for e in items]
    assert "records" not in report.to_dict() and len(report.to_dict(records=True)["records"]) == 4
    assert report.records[1]["answers"] == [None, "4", "5"] and report.records[1]["new_tokens"] == [7, 9, 9]
    assert report.records[1]["vote_keys"] == [None, "4", "5"]  # the default key: the answer without whitespace
    # The scaling curve at k' = k is the report's own vote and pass@k; at k' = 1, its pass@1.
    curve = scaling_curve(report.records)
    assert curve["k"] == [1, 2, 3] and curve["n"] == 4
    assert curve["majority"][-1] == report.majority_accuracy and curve["pass_at_k"][-1] == report.pass_at_k
    assert curve["pass_at_k"][0] == pytest.approx(report.pass_at_1)
    assert curve["majority"][0] == pytest.approx(report.pass_at_1)  # a vote of one is that sample
    assert curve["tokens_per_item"][0] == pytest.approx(sum(len(c) for v in completions.values() for c in v) / 12, abs=0.05)


def test_greedy_evaluation_has_no_sampling_metrics(monkeypatch):
    items = [_item(0, "add", 3, 4), _item(1, "add", 5, 5)]
    calls: list[dict] = []
    _stub_generate(monkeypatch, {"What is 3 + 4?": ["\\boxed{7}"], "What is 5 + 5?": ["\\boxed{11}"]}, calls)
    report = evaluate(
        None,
        StubTokenizer(),
        PromptFormat(chat_template="x"),
        get_domain("toy-addition"),
        items,
        max_new_tokens=8,
        batch_size=4,
        progress=False,
    )
    assert calls[0]["do_sample"] is False and calls[0]["num_return_sequences"] == 1
    assert (report.accuracy, report.correct, report.wrong) == (0.5, 1, 1)
    assert report.pass_at_k is None and report.majority_accuracy is None and report.temperature is None
    assert "vote" not in report.records[0]


def test_plain_format_completion_is_cut_before_an_invented_next_question(monkeypatch):
    items = [_item(0, "add", 2, 3)]
    rambling = " 2 + 3 = 5. \\boxed{5}\n\nQuestion: What is 1 + 1?\nAnswer: \\boxed{2}"
    _stub_generate(monkeypatch, {"What is 2 + 3?": [rambling]}, [])
    report = evaluate(
        None,
        StubTokenizer(),
        PromptFormat(chat_template=PLAIN_CHAT_TEMPLATE),
        get_domain("toy-addition"),
        items,
        max_new_tokens=8,
        batch_size=1,
        progress=False,
    )
    assert report.correct == 1 and report.records[0]["completions"] == [" 2 + 3 = 5. \\boxed{5}\n"]


def test_a_raising_verifier_counts_unverifiable_and_the_run_goes_on(monkeypatch):
    domain = get_domain("toy-addition")

    def fragile_check(completion, example):
        if "boom" in completion:
            raise ZeroDivisionError("parser bug")
        return Check(Verdict.CORRECT, predicted="7")

    monkeypatch.setattr(domain, "check", fragile_check)
    _stub_generate(monkeypatch, {"What is 3 + 4?": ["boom"], "What is 5 + 2?": ["\\boxed{7}"]}, [])
    report = evaluate(
        None,
        StubTokenizer(),
        PromptFormat(chat_template="x"),
        domain,
        [_item(0, "add", 3, 4), _item(1, "add", 5, 2)],
        max_new_tokens=8,
        batch_size=2,
        progress=False,
    )
    assert (report.correct, report.unverifiable, report.verifier_errors) == (1, 1, 1)


def test_evaluate_refuses_bad_settings():
    fmt, domain = PromptFormat(chat_template="x"), get_domain("toy-addition")
    with pytest.raises(SrmzooError, match="no examples"):
        evaluate(None, StubTokenizer(), fmt, domain, [], max_new_tokens=8, batch_size=1)
    with pytest.raises(SrmzooError, match="samples must be a positive integer"):
        evaluate(
            None,
            StubTokenizer(),
            fmt,
            domain,
            [_item(0, "add", 1, 1)],
            max_new_tokens=8,
            batch_size=1,
            samples=0,
        )


def test_few_shot_examples_come_from_train_and_never_show_evaluated_items():
    domain = get_domain("toy-addition")
    shots = few_shot_examples(domain, 3, seed=0)
    assert [e.id for e in shots] == ["toy/train/00000", "toy/train/00001", "toy/train/00002"]
    assert few_shot_examples(domain, 3, seed=0) == shots  # deterministic
    evaluated = domain.examples("train", 5, seed=0)  # evaluating on train itself: skip past those items
    shots = few_shot_examples(domain, 3, seed=0, exclude=evaluated)
    assert {e.id for e in shots}.isdisjoint(e.id for e in evaluated)
    assert all(e.id.startswith("toy/train/") for e in shots) and len(shots) == 3
    assert few_shot_examples(domain, 0) == []


# ------------------------------------------------------------------------------------- adapters on a tiny base


def _adapter_copy(tiny_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_run / "adapter", tmp_path / "adapter"))


def test_load_adapter_attaches_lora_with_the_saved_prompt_format(tiny_run):
    from peft import PeftModel

    model, tokenizer, fmt, meta = load_adapter(tiny_run / "adapter", device="cpu")
    assert isinstance(model, PeftModel) and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    assert fmt == PromptFormat.load(tiny_run / "adapter")
    assert fmt.system_prompt == get_domain("toy-addition").system_prompt
    assert meta["domain"] == "toy-addition" and tokenizer.pad_token is not None
    assert str(next(model.parameters()).dtype) == "torch.float32"


def test_base_identity_mismatch_is_refused_unless_allowed(tiny_run, tmp_path, caplog):
    adapter = _adapter_copy(tiny_run, tmp_path)
    meta_path = adapter / "srmzoo_adapter.json"
    meta = json.loads(meta_path.read_text())
    actual = meta["base"]["sha256"]
    meta["base"]["sha256"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(SrmzooError) as err:
        load_adapter(adapter, device="cpu")
    message = str(err.value)
    assert "0" * 64 in message and actual in message and "allow_base_mismatch" in message
    model, *_ = load_adapter(adapter, device="cpu", allow_base_mismatch=True)
    assert model.peft_config and "loading anyway" in caplog.text


def test_moved_base_is_named_and_base_path_overrides_it(tiny_run, tiny_base_dir, tmp_path):
    adapter = _adapter_copy(tiny_run, tmp_path)
    meta_path = adapter / "srmzoo_adapter.json"
    meta = json.loads(meta_path.read_text())
    meta["base"]["origin"] = f"dir:{tmp_path / 'gone'}"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(SrmzooError, match="no longer exists"):
        load_adapter(adapter, device="cpu")
    assert load_adapter(adapter, device="cpu", base_path=tiny_base_dir).meta["entry"] == "toy-tiny"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("truncate-weights", "corrupted adapter weights .*adapter_model.safetensors"),
        ("delete-weights", "adapter_model.safetensors is missing"),
        ("garble-meta", "corrupted adapter metadata"),
        ("garble-prompt", "corrupted prompt format"),
    ],
)
def test_a_damaged_adapter_gives_one_clear_error(tiny_run, tmp_path, damage, expected):
    adapter = _adapter_copy(tiny_run, tmp_path)
    weights = adapter / "adapter_model.safetensors"
    if damage == "truncate-weights":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif damage == "delete-weights":
        weights.unlink()
    elif damage == "garble-meta":
        (adapter / "srmzoo_adapter.json").write_text("{not json")
    else:
        (adapter / "srmzoo_prompt.json").write_text("[]")
    with pytest.raises(SrmzooError, match=expected) as err:
        load_adapter(adapter, device="cpu")
    assert "hint:" in str(err.value)


def test_eval_config_comes_from_the_run_recipe(tiny_run, tmp_path):
    assert eval_config_for(tiny_run / "adapter").n == 7  # run_dir/recipe.yaml, one level up
    assert eval_config_for(tmp_path).n == 300


# -------------------------------------------------------------------------------------------------- run_eval


def test_run_eval_puts_the_same_items_to_every_model_and_writes_the_schema(
    tiny_run, tiny_base_dir, tmp_path, monkeypatch, capsys
):
    from srmzoo.bases import load_base as real_load_base

    # "compare" names a registered base; here it stands for the tiny base, so no real model runs
    monkeypatch.setattr(
        eval_run, "load_base", lambda name, **kw: real_load_base(name, **{**kw, "path": tiny_base_dir})
    )
    prompts_per_model: list[list[str]] = []
    real_generate = harness.generate

    def spy(model, tokenizer, prompts, **kw):
        prompts_per_model.append(list(prompts))
        return real_generate(model, tokenizer, prompts, **kw)

    monkeypatch.setattr(harness, "generate", spy)
    adapter = _adapter_copy(tiny_run, tmp_path)
    results = run_eval(
        adapter,
        split="test",
        n=5,
        few_shot=2,
        max_new_tokens=4,
        batch_size=4,
        compare=["smollm2-135m-instruct"],
        device="cpu",
        progress=True,
    )

    domain = get_domain("toy-addition")
    items = domain.examples("test", 5, seed=0)
    shots = domain.examples("train", 2, seed=0)
    assert len(prompts_per_model) == 4
    for prompts in prompts_per_model:  # same items, same order, for every model
        assert [p.count(e.question) for p, e in zip(prompts, items, strict=True)] == [1] * 5
    for i in (1, 3):  # the few-shot prompts show train solutions, never a test item
        assert all(shots[0].solution in p and shots[1].solution in p for p in prompts_per_model[i])
    assert not any(s.solution in p for s in shots for p in prompts_per_model[0] + prompts_per_model[2])

    written = json.loads((adapter / "eval" / "results_test.json").read_text())
    assert written == {k: v for k, v in results.items() if k != "paths"}
    assert written["schema"] == "srmzoo.eval/1" and written["domain"] == "toy-addition"
    assert set(written) == {
        "schema",
        "entry",
        "domain",
        "domain_data_version",
        "adapter",
        "base",
        "compare_bases",
        "settings",
        "reports",
        "paired",
        "scaling",
        "environment",
    }
    assert written["scaling"] == {}  # greedy: no test-time scaling curves
    settings = written["settings"]
    assert settings["n"] == 5 and settings["split"] == "test" and settings["decoding"] == "greedy"
    assert settings["few_shot_ids"] == [e.id for e in shots]
    assert settings["command"].startswith(f"srmzoo eval {adapter} --split test --n 5 --seed 0 --few-shot 2")
    assert "--compare smollm2-135m-instruct" in settings["command"]
    assert len(settings["item_ids_sha256"]) == 64 and written["base"]["origin"] == f"dir:{tiny_base_dir}"
    assert written["adapter"]["sha256"] == sha256_file(adapter / "adapter_model.safetensors")
    assert set(written["environment"]) >= {"srmzoo_version", "hardware", "date", "torch", "transformers"}
    assert [(r["model"], r["prompting"]) for r in written["reports"]] == [
        ("smollm2-135m-instruct", "zero-shot"),
        ("smollm2-135m-instruct", "few-shot (k=2)"),
        ("toy-tiny (adapter)", "adapter"),
        ("smollm2-135m-instruct", "few-shot (k=2)"),
    ]
    for report in written["reports"]:
        assert report["n"] == 5 and report["correct"] + report["wrong"] + report["unverifiable"] == 5
        assert report["ci_low"] <= report["accuracy"] <= report["ci_high"]
        assert report["families"]["add"]["n"] == 5 and report["new_tokens"] > 0

    lines = [json.loads(x) for x in (adapter / "eval" / "samples_test.jsonl").read_text().splitlines()]
    assert len(lines) == 4 * 5
    assert [x["id"] for x in lines] == [e.id for e in items] * 4

    # The adapter against every other row, item by item, from those very samples.
    verdicts = {(x["model"], x["prompting"]): [v == "correct" for v in (y["verdicts"][0] for y in lines
                if (y["model"], y["prompting"]) == (x["model"], x["prompting"]))] for x in lines}
    ours = verdicts["toy-tiny (adapter)", "adapter"]
    assert [(d["model"], d["prompting"]) for d in written["paired"]] == [
        (r["model"], r["prompting"]) for r in written["reports"] if r["prompting"] != "adapter"
    ]
    for d in written["paired"]:
        theirs = verdicts[d["model"], d["prompting"]]
        assert d["n"] == 5 and d["difference"] == round((sum(ours) - sum(theirs)) / 5, 4)
        assert d["ci_low"] <= d["difference"] <= d["ci_high"]
        assert d["only_adapter_correct"] == sum(a and not b for a, b in zip(ours, theirs))
    assert set(lines[0]) >= {
        "model",
        "prompting",
        "id",
        "family",
        "question",
        "gold",
        "completions",
        "predicted",
        "verdict",
        "verdicts",
    }
    table = capsys.readouterr().out
    assert "95% CI" in table and "toy-tiny (adapter)" in table and "few-shot (k=2)" in table


def test_run_eval_samples_and_out_dir(tiny_run, tmp_path):
    results = run_eval(
        tiny_run,
        n=3,
        samples=2,
        few_shot=0,
        max_new_tokens=3,
        batch_size=4,
        include_base=False,
        out_dir=tmp_path / "out",
        device="cpu",
        progress=False,
    )
    # named apart from a greedy evaluation of the same split, which it must not replace
    assert (tmp_path / "out" / "results_test_k2.json").is_file() and (
        tmp_path / "out" / "samples_test_k2.jsonl"
    ).is_file()
    [report] = results["reports"]
    assert report["prompting"] == "adapter" and report["samples"] == 2
    assert report["pass_at_k"] is not None and report["majority_accuracy"] is not None
    assert report["pass_at_1"] <= report["pass_at_k"]
    assert results["settings"]["decoding"] == "sampling" and "--no-base" in results["settings"]["command"]
    assert results["paths"]["scaling_plot"] == str(tmp_path / "out" / "scaling_test_k2.png")
    assert (tmp_path / "out" / "scaling_test_k2.png").stat().st_size > 0
    [curve] = json.loads((tmp_path / "out" / "results_test_k2.json").read_text())["scaling"].values()
    assert curve["k"] == [1, 2] and curve["majority"][-1] == report["majority_accuracy"]
    assert curve["pass_at_k"][-1] == pytest.approx(report["pass_at_k"]) and 0 < curve["tokens_per_item"][0] <= 3
    from srmzoo.store import find_adapter

    card = render_card(find_adapter(tiny_run), results_dir=tmp_path / "out")
    assert "2 samples per item at temperature 0.7" in card and "![test-time scaling](scaling_test_k2.png)" in card
    assert "accuracy (sampling" not in card  # the model-index carries greedy accuracy only
    assert f"| toy-tiny (adapter), adapter | 2 | {curve['tokens_per_item'][1]:.0f} |" in card and curve["best_of"] is None
    with pytest.raises(SrmzooError, match="unknown split"):
        run_eval(tiny_run, split="dev", n=3, progress=False)
    with pytest.raises(SrmzooError, match="n must be a positive integer"):
        run_eval(tiny_run, n=0, progress=False)
    with pytest.raises(SrmzooError, match="temperature above 0"):
        run_eval(tiny_run, n=3, samples=4, temperature=0.0, progress=False)
    with pytest.raises(SrmzooError, match="did you mean: gemma-3-270m"):  # refused before any model loads
        run_eval(tiny_run, n=3, compare=["gema-3-270m"], progress=False)


def test_eval_options_default_to_the_recipe_defaults_and_take_flat_overrides():
    assert EvalOptions.from_config(EvalConfig()) == EvalOptions()
    defaults = EvalOptions()
    assert (defaults.split, defaults.n, defaults.seed, defaults.few_shot, defaults.out_dir, defaults.progress) == (
        "test", 300, 0, 3, None, True)
    assert defaults.generation == GenerationOptions(max_new_tokens=256, batch_size=16, samples=1, temperature=0.7,
                                                    budgets=())
    assert defaults.rows == RowOptions(compare=(), compare_adapters=(), include_base=True, tool_ablation=True)
    assert defaults.loading == LoadOptions(device=None, base_path=None, allow_base_mismatch=False)

    recipe = EvalConfig(n=40, few_shot=1, max_new_tokens=64, batch_size=2, compare=("gemma-3-270m",))
    options = EvalOptions.from_config(recipe, n=5, budgets=[32, 16], device="cpu")
    assert (options.n, options.few_shot) == (5, 1)
    assert options.generation == GenerationOptions(max_new_tokens=64, batch_size=2, budgets=(32, 16))
    assert options.rows.compare == ("gemma-3-270m",) and options.loading.device == "cpu"
    # a whole group first, then the flat names over it
    assert defaults.replace(generation=GenerationOptions(batch_size=8), samples=4).generation == GenerationOptions(
        batch_size=8, samples=4)
    with pytest.raises(SrmzooError, match=r"unknown run_eval option 'batchsize'; did you mean: batch_size\?"):
        defaults.replace(batchsize=4)


def test_run_eval_takes_options_or_the_same_keywords_alike(tiny_run, tmp_path):
    flat = dict(split="test", n=3, seed=1, few_shot=0, max_new_tokens=3, batch_size=2, include_base=False,
                tool_ablation=False, device="cpu", progress=False)
    options = EvalOptions(
        split="test", n=3, seed=1, few_shot=0, progress=False,
        generation=GenerationOptions(max_new_tokens=3, batch_size=2),
        rows=RowOptions(include_base=False, tool_ablation=False),
        loading=LoadOptions(device="cpu"),
    )
    assert EvalOptions().replace(**flat) == options
    via_options = run_eval(tiny_run, options, out_dir=tmp_path / "options")
    via_keywords = run_eval(tiny_run, **flat, out_dir=tmp_path / "keywords")
    assert via_options["settings"] == via_keywords["settings"]
    settings = via_options["settings"]
    assert (settings["n_requested"], settings["seed"], settings["max_new_tokens"], settings["batch_size"]) == (3, 1, 3, 2)
    assert settings["include_base"] is False and settings["tool_ablation"] is False
    assert settings["command"] == (f"srmzoo eval {tiny_run} --split test --n 3 --seed 1 --few-shot 0 --max-new-tokens 3 "
                                   "--batch-size 2 --samples 1 --compare --compare-adapter --no-base --no-tool-ablation")
    assert [r["prompting"] for r in via_options["reports"]] == ["adapter"]
    assert via_options["paths"]["results"] == str(tmp_path / "options" / "results_test.json")

    with pytest.raises(SrmzooError, match=r"unknown run_eval option 'temprature'; did you mean: temperature\?"):
        run_eval(tiny_run, n=3, temprature=0.5, progress=False)
    with pytest.raises(SrmzooError, match="options must be an EvalOptions, got str"):
        run_eval(tiny_run, "ood")
    with pytest.raises(SrmzooError, match="compare must be a list, got 'gemma-3-270m'"):
        run_eval(tiny_run, n=3, compare="gemma-3-270m", progress=False)


def test_sampling_repeats_with_its_seed(tiny_base_dir):
    from srmzoo.bases import load_base

    model, tokenizer = load_base("smollm2-135m-instruct", path=tiny_base_dir, device="cpu")
    domain = get_domain("toy-addition")
    items = domain.examples("test", 2, seed=0)
    fmt = PromptFormat.for_tokenizer(tokenizer, system_prompt=domain.system_prompt)

    def completions(seed: int) -> list[list[str]]:
        report = evaluate(
            model,
            tokenizer,
            fmt,
            domain,
            items,
            max_new_tokens=4,
            batch_size=4,
            samples=2,
            seed=seed,
            progress=False,
        )
        return [r["completions"] for r in report.records]

    assert completions(0) == completions(0)
    assert completions(0) != completions(1)


# ------------------------------------------------------------------------------------------- the real model


@pytest.mark.real_model
def test_real_smollm2_base_short_math_eval_is_well_formed():
    from srmzoo.bases import load_base

    domain = get_domain("math")
    items = domain.examples("test", 4, seed=0)
    model, tokenizer = load_base("smollm2-135m-instruct", device="cpu")
    fmt = PromptFormat.for_tokenizer(tokenizer, system_prompt=domain.system_prompt)
    report = evaluate(
        model,
        tokenizer,
        fmt,
        domain,
        items,
        max_new_tokens=48,
        batch_size=4,
        progress=False,
        model_label="smollm2-135m-instruct",
        prompting="zero-shot",
    )
    assert report.n == 4 and report.correct + report.wrong + report.unverifiable == 4
    assert report.ci_low <= report.accuracy <= report.ci_high
    assert sum(f.n for f in report.families.values()) == 4 and set(report.families) <= set(domain.families)
    assert report.new_tokens > 0 and report.tokens_per_second > 0
    assert all(r["completions"][0].strip() for r in report.records)  # the model actually wrote something
    assert [r["id"] for r in report.records] == [e.id for e in items]
    json.dumps(report.to_dict(records=True))


def test_an_interrupted_run_eval_resumes_from_its_finished_rows(tiny_run, tmp_path, monkeypatch):
    adapter = _adapter_copy(tiny_run, tmp_path)
    kwargs = dict(n=3, few_shot=1, max_new_tokens=4, batch_size=4, device="cpu", progress=False)
    real_evaluate = eval_run.evaluate
    calls: list[str] = []

    def interrupted(*args, prompting, **kw):
        if prompting == "adapter":
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the third row
        calls.append(prompting)
        return real_evaluate(*args, prompting=prompting, **kw)

    monkeypatch.setattr(eval_run, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_eval(adapter, **kwargs)
    assert calls == ["zero-shot", "few-shot (k=1)"]
    partial = adapter / "eval" / ".results_test.partial.json"
    assert len(json.loads(partial.read_text())["reports"]) == 2

    def counting(*args, prompting, **kw):
        calls.append(prompting)
        return real_evaluate(*args, prompting=prompting, **kw)

    calls.clear()
    monkeypatch.setattr(eval_run, "evaluate", counting)
    resumed = run_eval(adapter, **kwargs)
    assert calls == ["adapter"]  # the two finished rows were not generated again
    assert not partial.exists()
    # the wall time reported is the whole evaluation's: the resumed rows' time counts
    assert resumed["environment"]["wall_seconds"] >= sum(r["wall_seconds"] for r in resumed["reports"])
    monkeypatch.setattr(eval_run, "evaluate", real_evaluate)
    fresh = run_eval(adapter, **kwargs, out_dir=tmp_path / "fresh")
    strip = lambda res: [{k: v for k, v in r.items() if "seconds" not in k and k != "tokens_per_second"} for r in res["reports"]]  # noqa: E731
    assert strip(resumed) == strip(fresh)

    # other settings: nothing is reused
    calls.clear()
    monkeypatch.setattr(eval_run, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_eval(adapter, **kwargs)
    monkeypatch.setattr(eval_run, "evaluate", counting)
    calls.clear()
    run_eval(adapter, **{**kwargs, "max_new_tokens": 3})
    assert calls == ["zero-shot", "few-shot (k=1)", "adapter"]


def test_compare_adapters_run_on_the_same_items_and_an_identical_copy_differs_by_nothing(tiny_run, tmp_path):
    adapter = _adapter_copy(tiny_run, tmp_path)
    twin = tmp_path / "twin"
    shutil.copytree(adapter, twin)
    meta = json.loads((twin / "srmzoo_adapter.json").read_text())
    (twin / "srmzoo_adapter.json").write_text(json.dumps({**meta, "entry": "toy-tiny-sft"}))
    results = run_eval(adapter, split="test", n=6, few_shot=0, max_new_tokens=6, batch_size=3,
                       compare_adapters=[str(twin)], include_base=False, device="cpu", progress=False)
    assert [(r["model"], r["prompting"]) for r in results["reports"]] == [
        ("toy-tiny (adapter)", "adapter"), ("toy-tiny-sft (adapter)", "adapter")]
    assert results["settings"]["compare_adapters"] == [
        {"name": str(twin), "label": "toy-tiny-sft (adapter)", "path": str(twin), "sha256": results["adapter"]["sha256"]}]
    assert results["settings"]["command"].endswith(f"--compare --compare-adapter {twin} --no-base")
    [paired] = results["paired"]
    assert paired == {"model": "toy-tiny-sft (adapter)", "prompting": "adapter", "n": 6, "difference": 0.0,
                      "ci_low": 0.0, "ci_high": 0.0, "only_adapter_correct": 0, "only_other_correct": 0}
    card = render_card(adapter, results_dir=adapter / "eval")
    assert "| toy-tiny-sft (adapter) | adapter | +0.0 | +0.0 – +0.0 | 0 / 0 |" in card
    assert "**toy-tiny (adapter)**" in card and "**toy-tiny-sft (adapter)**" not in card
    # the first paragraph: this entry beside the others on each split (the base was not scored here)
    own = results["reports"][0]["accuracy"] * 100
    assert f"| test | 6 | {own:.1f}% | not scored | - | toy-tiny-sft {own:.1f}%: +0.0 [+0.0, +0.0] |" in card
    assert card.index("| split | n | this entry |") < card.index("## Use it")

    other_domain = tmp_path / "other"
    shutil.copytree(adapter, other_domain)
    (other_domain / "srmzoo_adapter.json").write_text(json.dumps({**meta, "domain": "math"}))
    with pytest.raises(SrmzooError, match="compare adapters of one domain"):
        run_eval(adapter, n=2, compare_adapters=[str(other_domain)], include_base=False, progress=False)


def test_sampled_coding_items_carry_gold_free_selector_scores_for_best_of_n(monkeypatch):
    coding = get_domain("coding")
    ex = coding.examples("test", 1, families=["function_synthesis"])[0]
    wrong = "```python\ndef f():\n    return None\n```"
    _stub_generate(monkeypatch, {ex.question.split("\n", 1)[0]: [wrong, ex.solution, wrong]}, [])  # first line
    report = evaluate(None, StubTokenizer(), PromptFormat(chat_template="unused"), coding, [ex],
                      max_new_tokens=8, batch_size=3, samples=3, progress=False)
    [record] = report.records
    assert record["select_scores"] == [0.0, 1.0, 0.0] and record["verdicts"] == ["wrong", "correct", "wrong"]
    curve = scaling_curve(report.records)
    assert curve["best_of"] == pytest.approx([1 / 3, 2 / 3, 1.0]) and curve["best_of"][-1] > curve["majority"][-1]


def test_the_eval_command_takes_unset_flags_from_the_recipe_and_set_ones_from_the_command_line(tiny_run, tmp_path):
    from srmzoo.artifacts import eval_config_for
    from srmzoo.cli import main

    adapter = _adapter_copy(tiny_run, tmp_path)
    recipe = eval_config_for(tiny_run / "adapter")  # the run directory keeps recipe.yaml beside the adapter
    (adapter.parent / "recipe.yaml").write_text((tiny_run / "recipe.yaml").read_text())
    out = tmp_path / "out"
    argv = ["-q", "eval", str(adapter), "--split", "test", "--n", "2", "--max-new-tokens", "3", "--few-shot", "0",
            "--no-base", "--no-tool-ablation", "--out-dir", str(out), "--device", "cpu"]
    assert main(argv) == 0
    settings = json.loads((out / "results_test.json").read_text())["settings"]
    assert (settings["n"], settings["max_new_tokens"], settings["few_shot"]) == (2, 3, 0)  # from the command line
    assert settings["batch_size"] == recipe.batch_size and settings["compare"] == list(recipe.compare)  # the recipe's


def test_a_committed_card_gets_its_headline_from_the_results_beside_it(tmp_path):
    from srmzoo.publish.cards import HEADLINE_START, refresh_headline

    card = tmp_path / "coding-135m"
    shutil.copytree(Path(__file__).parents[1] / "model_cards" / "coding-135m", card)
    readme = card / "README.md"
    old = readme.read_text()
    if HEADLINE_START in old:  # start from a card written before headlines
        head, rest = old.split(HEADLINE_START, 1)
        readme.write_text(head + rest.split("<!-- /srmzoo:headline -->\n\n", 1)[1])
    refresh_headline(card)
    text = readme.read_text()
    after_title = text.split("# coding-135m\n\n", 1)[1]
    # the loss to the base on an external set comes first, with its paired CI; the greedy test row, not k=8
    assert after_title.startswith(HEADLINE_START + "\n\n**On humaneval this entry loses to its own base**: 1.2% vs 3.7%")
    assert "| test | 300 | 51.0% | 4.7% (zero-shot) | +46.3 [+40.7, +52.0] | - |" in text
    assert "Not measured for this entry: `natural`, `external:mbpp`." in text
    refresh_headline(card)
    assert readme.read_text() == text  # idempotent: the marked block is replaced, not added again
    with pytest.raises(SrmzooError, match="no model card"):
        refresh_headline(tmp_path / "nothing")
