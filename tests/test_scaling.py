"""Test-time scaling curves (srmzoo.eval.scaling) and the gold-free selectors best-of-N uses."""

from __future__ import annotations

import math

import pytest

from srmzoo.domain import get_domain
from srmzoo.domains.coding import humaneval_examples
from srmzoo.domains.coding.benchmarks import public_tests
from srmzoo.eval.scaling import EXACT_SUBSETS, curve_ks, scaling_curve


def _record(verdicts, answers, scores=None, tokens=None):
    r = {"verdicts": verdicts, "answers": answers}
    if scores is not None:
        r["select_scores"] = scores
    if tokens is not None:
        r["new_tokens"] = tokens
    return r


def test_best_of_n_follows_the_selector_where_the_vote_follows_the_crowd():
    # two wrong samples agree; the one right sample is the only one the selector passes
    rec = _record(["wrong", "wrong", "correct"], ["a", "a", "b"], scores=[0.0, 0.0, 1.0])
    c = scaling_curve([rec])
    assert c["k"] == [1, 2, 3]
    assert c["majority"] == pytest.approx([1 / 3, 0.0, 0.0])  # a tie goes to the first: never b
    assert c["best_of"] == pytest.approx([1 / 3, 2 / 3, 1.0])  # any subset holding sample 3 picks it
    assert c["pass_at_k"] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert c["tokens_per_item"] is None


def test_items_without_selector_scores_fall_back_to_the_vote():
    scored = _record(["wrong", "correct"], ["1", "2"], scores=[0.0, 1.0])
    unscored = _record(["correct", "correct"], ["5", "5"], scores=[None, None])
    bare = _record(["wrong", "wrong"], ["7", "8"])
    c = scaling_curve([scored, unscored, bare])
    assert c["best_of"] == pytest.approx([(0.5 + 1 + 0) / 3, (1 + 1 + 0) / 3])
    assert scaling_curve([unscored, bare])["best_of"] is None  # no selector anywhere: no curve


def test_large_k_uses_seeded_random_subsets_and_k_equal_n_is_exact():
    k = 16
    assert math.comb(k, 8) > EXACT_SUBSETS
    verdicts = ["correct"] * 5 + ["wrong"] * 11
    answers = ["42"] * 5 + [str(i) for i in range(11)]  # the right answer is the only repeated one
    rec = _record(verdicts, answers, tokens=[10] * k)
    a, b = scaling_curve([rec], seed=3), scaling_curve([rec], seed=3)
    assert a == b and a["k"] == [1, 2, 4, 8, 16]
    assert a["majority"][0] == pytest.approx(5 / 16) and a["majority"][-1] == 1.0
    assert a["tokens_per_item"] == [10.0, 20.0, 40.0, 80.0, 160.0]


def test_bad_records_are_refused():
    with pytest.raises(ValueError, match="no records"):
        scaling_curve([])
    with pytest.raises(ValueError, match="same number of samples"):
        scaling_curve([_record(["correct"], ["1"]), _record(["correct", "wrong"], ["1", "2"])])
    with pytest.raises(ValueError, match="at least 1"):
        curve_ks(0)


def test_humaneval_public_tests_come_from_its_docstrings_and_canonical_code_passes_them():
    coding = get_domain("coding")
    problems = humaneval_examples()
    shown = [public_tests(e) for e in problems]
    assert 40 <= sum(p is not None for p in shown) < len(problems)  # only docstrings with >>> examples
    assert all(p.meta["tests"] != e.meta["tests"] for p, e in zip(shown, problems, strict=True) if p)
    with_tests = [e for e, p in zip(problems, shown, strict=True) if p is not None][:20]
    assert coding.select_scores([e.solution for e in with_tests], with_tests) == [1.0] * 20
    wrong = "```python\ndef has_close_elements(numbers, threshold):\n    return True\n```"
    assert coding.select_scores([wrong], [problems[0]]) == [0.0]


def test_the_selector_never_reads_the_hidden_tests():
    coding = get_domain("coding")
    ex = coding.examples("test", 1, families=["function_synthesis"])[0]
    public = public_tests(ex)
    assert public.meta["tests"].count("assert") == 1 and public.meta["tests"] in ex.meta["tests"]
    # code that passes only the shown call scores 1 here, and is still wrong against the hidden tests
    call, result = public.meta["tests"].removeprefix("assert ").rstrip("\n").split(" == ")
    name = ex.answer
    args = call[len(name) + 1 : -1]
    cheat = f"```python\ndef {name}(*args):\n    if args == ({args},):\n        return {result}\n    return None\n```"
    assert coding.select_scores([cheat], [ex]) == [1.0]
    assert not coding.check(cheat, ex).correct


def test_equivalent_answers_vote_together_when_the_domain_gives_vote_keys():
    # three samples: "19.3", "19.30" (right, same value) and two "21.0" (wrong): by spelling the wrong one
    # wins the vote; keyed at the question's precision the right value has three votes
    hc = get_domain("healthcare")
    ex = hc.examples("test", 1, families=["bmi"])[0]
    answers = ["19.3", "19.30", "21.0", r"19.3\ \text{kg/m}^2", "21.0", None]
    verdicts = ["correct", "correct", "wrong", "correct", "wrong", "unverifiable"]
    from srmzoo.domain import vote_keys

    keys = vote_keys(hc, answers, ex)
    assert keys[:5] == ["19.3", "19.3", "21.0", "19.3", "21.0"] and keys[5] is None
    plain = scaling_curve([_record(verdicts, answers)])
    keyed = scaling_curve([{**_record(verdicts, answers), "vote_keys": keys}])
    assert plain["majority"][-1] == 0.0 and keyed["majority"][-1] == 1.0


@pytest.mark.parametrize("domain", ["math", "coding", "science", "healthcare"])
def test_vote_keys_never_raise_on_hostile_answers(domain):
    from srmzoo.domain import vote_keys

    d = get_domain(domain)
    ex = d.examples("test", 1)[0]
    junk = ["", " ", "\\frac{", "1e999", "((((C", "nan", "\x00", "x" * 5000, "\\boxed{\\boxed{"]
    keys = vote_keys(d, junk, ex)
    assert len(keys) == len(junk) and all(isinstance(k, str) for k in keys)
