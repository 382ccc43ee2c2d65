"""Reasoning-token budgets (srmzoo.eval.budget): budget forcing in the reasoner and the eval's accuracy-vs-budget curve."""

from __future__ import annotations

import json
import shutil

import pytest

from srmzoo.domain import get_domain
from srmzoo.errors import SrmzooError
from srmzoo.eval import budget
from srmzoo.eval.budget import budget_curve, check_budgets

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base_dir)


def test_each_completion_is_kept_forced_or_cut_by_its_length_at_each_budget(tokenizer, monkeypatch):
    cue = "\n\\boxed{"
    forced_calls = []

    def fake_force(model, tok, prompts, prefixes, cue_, **kw):  # the model always answers 42 when forced
        forced_calls.append(list(prefixes))
        return [p + cue_ + "42}" for p in prefixes], [2] * len(prefixes)

    monkeypatch.setattr(budget, "force_answers", fake_force)
    short_right = "So \\boxed{42}"  # finished early, right
    never_done = " ".join(["step"] * 40)  # used the whole generation budget without answering
    medium_wrong = "one two three four five six seven eight nine ten \\boxed{7}"  # finished, wrong
    lengths = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in (short_right, never_done, medium_wrong)]
    max_new = lengths[1]
    assert lengths[0] <= 8 < lengths[2] <= 16 < max_new
    completions = [short_right, never_done, medium_wrong]

    curve = budget_curve(None, tokenizer, ["p0", "p1", "p2"], completions, max_new, [8, 16, max_new], cue,
                         lambda text, i: text.rstrip().endswith("\\boxed{42}"))

    assert curve["budgets"] == [8, 16, max_new]
    assert curve["forced_items"] == [2, 1, 1]  # the unfinished one is forced even at the full budget
    assert curve["forced"] == pytest.approx([1.0, 2 / 3, 2 / 3])  # forcing turns the cut ones into answers
    assert curve["cut"] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert len(forced_calls[0][0]) < len(never_done)  # the prefix really is cut
    assert curve["tokens_per_item"][0] == round((lengths[0] + 8 + 2 + 8 + 2) / 3, 1)


def test_budgets_are_validated_and_code_cannot_be_forced():
    assert check_budgets([64, 16, 64], 128, "\\boxed{", "math") == [16, 64]
    for bad in ([0], [200], [True], [1.5]):
        with pytest.raises(SrmzooError, match="reasoning budget"):
            check_budgets(bad, 128, "\\boxed{", "math")
    with pytest.raises(SrmzooError, match="no answer cue"):
        check_budgets([16], 128, get_domain("coding").answer_cue, "coding")


def test_run_eval_with_budgets_writes_a_curve_per_row_and_the_card_shows_it(tiny_run, tmp_path):
    from srmzoo.eval.run import run_eval
    from srmzoo.publish.cards import write_card

    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_run / "adapter", adapter)
    results = run_eval(adapter, split="test", n=4, few_shot=0, max_new_tokens=12, batch_size=4, compare=[],
                       device="cpu", progress=False, budgets=[4, 12])
    assert results["settings"]["budgets"] == [4, 12]
    assert "--budgets 4,12" in results["settings"]["command"]
    assert (adapter / "eval" / "results_test_budget.json").is_file()
    assert not (adapter / "eval" / "results_test.json").exists()  # the plain greedy results are left alone
    assert (adapter / "eval" / "budget_test.png").stat().st_size > 1000
    for report in results["reports"]:  # base zero-shot and the adapter
        c = report["budget"]
        assert c["budgets"] == [4, 12] and c["n"] == 4
        assert c["answer_cue"] == get_domain("toy-addition").answer_cue
        assert all(0 <= a <= 1 for a in c["forced"] + c["cut"])
        assert c["forced_items"][0] >= c["forced_items"][1]  # a smaller budget cuts at least as many
        # at the full budget nothing is shortened: forcing only adds answers to unfinished completions
        assert c["forced"][1] >= c["cut"][1] - 1e-9
        assert c["cut"][1] == pytest.approx(report["accuracy"])
    with pytest.raises(SrmzooError, match="greedy"):
        run_eval(adapter, n=2, samples=2, budgets=[4], progress=False)

    card = write_card(adapter, out_dir=tmp_path / "card").read_text()
    assert "reasoning budgets 4, 12 tokens" in card
    assert "| budget B | tokens / item |" in card and "(budget_test.png)" in card
    assert (tmp_path / "card" / "budget_test.png").is_file()
    index = card.split("---")[1]
    assert "n: 4" not in index  # the model-index carries plain greedy evaluations only


def test_the_real_base_answers_when_its_budget_runs_out(real_base_dir):
    """SmolLM2-135M-Instruct (the real base), asked a word problem with a 6-token budget: its reasoning is
    cut, and the forced completion ends in an answer the math verifier can read."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.eval.budget import force_answers
    from srmzoo.prompting import PromptFormat

    domain = get_domain("math")
    tok = AutoTokenizer.from_pretrained(real_base_dir)
    model = AutoModelForCausalLM.from_pretrained(real_base_dir)
    fmt = PromptFormat.for_tokenizer(tok, system_prompt=domain.system_prompt)
    prompt = fmt.render(tok, fmt.messages("Tom has 3 apples and buys 4 more. How many apples does he have?"))
    from srmzoo.backends.hf import generate

    cut = generate(model, tok, [prompt], max_new_tokens=6)[0][0]
    assert domain.extract_answer(cut) is None  # six tokens are not enough to answer
    forced, used = force_answers(model, tok, [prompt], [cut], domain.answer_cue)
    assert forced[0].startswith(cut + domain.answer_cue)
    assert domain.extract_answer(forced[0]) is not None and 1 <= used[0] <= 24
    json.dumps({"forced": forced})  # plain text, recordable
