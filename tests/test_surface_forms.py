"""Training data v2 (``data.phrasing: varied``): every family's questions in many surface forms, the same
problems and solutions, no evaluation item among them.

The promise: a restyled question is the template question in other words. So its answer and worked
solution do not change and still verify, what the model must copy (a SMILES, a sequence, code, an
arithmetic expression) is untouched, and each family gets at least ten distinct forms.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from srmzoo.domain import get_domain
from srmzoo.domains.healthcare.calculator_tasks import CALCULATORS
from srmzoo.errors import SrmzooError
from srmzoo.phrasing import SurfaceForms, restyle_question
from srmzoo.recipe import Recipe

DOMAINS = ("math", "coding", "science", "healthcare")
PER_FAMILY = 40


def _form(example) -> tuple:
    return tuple(sorted(example.meta["surface"].items()))


@pytest.fixture(scope="module")
def varied() -> dict[str, tuple[list, list]]:
    """domain -> (template examples, the same examples restyled), PER_FAMILY per family."""
    out = {}
    for name in DOMAINS:
        domain = get_domain(name)
        n = PER_FAMILY * len(domain.families)
        out[name] = (
            domain.examples("train", n, seed=3),
            domain.training_examples(n, seed=3, phrasing="varied"),
        )
    return out


@pytest.mark.parametrize("name", DOMAINS)
def test_every_family_gets_at_least_ten_surface_forms(varied, name):
    template, restyled = varied[name]
    for family in get_domain(name).families:
        mine = [(t, v) for t, v in zip(template, restyled) if t.family == family]
        forms = {_form(v) for _, v in mine}
        changed = sum(t.question != v.question for t, v in mine)
        assert len(forms) >= 10, (family, len(forms))
        assert changed >= 0.8 * len(mine), (family, changed, len(mine))
        # more than a wrapper: the ask moves, a distractor appears, in some questions of every family
        assert any(v.meta["surface"]["distractor"] for _, v in mine), family
        assert len({v.question for _, v in mine}) == len(mine), family


@pytest.mark.parametrize("name", DOMAINS)
def test_restyling_keeps_the_problem(varied, name):
    template, restyled = varied[name]
    for t, v in zip(template, restyled):
        assert (v.id, v.family, v.answer, v.solution) == (t.id, t.family, t.answer, t.solution)
        assert {k: x for k, x in v.meta.items() if k != "surface"} == t.meta


@pytest.mark.parametrize("name", ["math", "science", "healthcare"])
def test_the_solution_still_verifies_on_the_restyled_question(varied, name):
    domain = get_domain(name)
    _, restyled = varied[name]
    for v in restyled[::7]:
        assert domain.check(v.solution, v).correct, (v.id, v.question)


def test_coding_solutions_still_pass_their_tests_on_the_restyled_question(varied):
    domain = get_domain("coding")
    _, restyled = varied["coding"]
    sample = restyled[::25]
    checks = domain.check_batch([v.solution for v in sample], sample)
    assert all(c.correct for c in checks), [(v.id, c.detail) for v, c in zip(sample, checks) if not c.correct]


def test_what_a_model_copies_is_never_touched(varied):
    # math: the expression the direct traces put in the calculator call; the trace is the template's
    math = get_domain("math")
    for t, v in zip(*varied["math"]):
        if t.family in ("arithmetic", "fractions"):
            assert math.tool_solution(v, ["calculator"], "direct") == math.tool_solution(
                t, ["calculator"], "direct"
            )
    # science: every SMILES, formula and sequence; coding: every code block and inline code span
    token = re.compile(r"\S*[\d()=#\[\]@+\\/]\S*?(?=[.,;:?!]*(?:\s|$))|\b[ACGTU]{4,}\b")
    for t, v in zip(*varied["science"]):
        for span in token.findall(t.question):
            assert span in v.question, (span, v.question)
    for t, v in zip(*varied["coding"]):
        for span in re.findall(r"```.*?```|`[^`\n]+`", t.question, flags=re.S):
            assert span in v.question, (span, v.question)
    # healthcare: the note's every line (the grounded traces quote it)
    for t, v in zip(*varied["healthcare"]):
        note = t.question.split("\n\n")[0]
        assert note in v.question


def test_a_restyled_set_is_reproducible_and_independent_of_its_size():
    math = get_domain("math")
    ten = math.training_examples(10, seed=5, phrasing="varied")
    assert ten == math.training_examples(10, seed=5, phrasing="varied")
    assert ten == math.training_examples(30, seed=5, phrasing="varied")[:10]
    assert [e.question for e in ten] != [
        e.question for e in math.training_examples(10, seed=6, phrasing="varied")
    ]


def test_template_phrasing_is_the_train_split():
    math = get_domain("math")
    assert math.training_examples(12, seed=1) == math.examples("train", 12, seed=1)
    rows = math.dataset("train", 4, phrasing="varied")
    assert rows["question"] == [e.question for e in math.training_examples(4, phrasing="varied")]


def test_bad_phrasing_requests_get_one_clear_error():
    with pytest.raises(SrmzooError, match="unknown phrasing 'varid'"):
        get_domain("math").training_examples(3, phrasing="varid")
    base = {"name": "x", "model": {"base": "s"}, "eval": {"splits": ["test"]}}
    with pytest.raises(SrmzooError, match="data.dataset is the user's own"):
        Recipe.from_dict(
            {
                **base,
                "domain": "dataset",
                "data": {"phrasing": "varied", "dataset": {"train": {"path": "q.jsonl"}}},
            }
        )


def test_unhinted_questions_lose_their_formula_and_keep_varied_s_wording():
    hc = get_domain("healthcare")
    varied = hc.training_examples(340, seed=0, phrasing="varied")
    unhinted = hc.training_examples(340, seed=0, phrasing="unhinted")
    bare = [u for u in unhinted if u.meta.get("unhinted")]
    assert 0.6 < len(bare) / len(unhinted) < 0.8  # UNHINTED_SHARE = 0.7
    assert {u.family for u in bare} == set(hc.families)  # every calculator, the scores too
    for v, u in zip(varied, unhinted):
        assert (u.id, u.answer, u.solution, u.meta["surface"]) == (v.id, v.answer, v.solution, v.meta["surface"])
        calc = CALCULATORS[u.family]
        if u.meta.get("unhinted"):
            assert calc.convention not in u.question and calc.answer_spec() not in u.question
            assert u.question.replace(f"Answer in {calc.unit}." if calc.unit else "", "").strip()
            assert hc.check(u.solution, u).correct  # the same gold, still reached by the same trace
        else:
            assert u.question == v.question and calc.convention in u.question
    # the hints are what the recipe's system prompt no longer needs to point at: a BMI question asks bare
    bmi = next(u for u in bare if u.family == "bmi")
    assert "Use BMI" not in bmi.question and "Answer in kg/m^2." in bmi.question


@pytest.mark.parametrize("phrasing", ["varied", "unhinted"])
def test_grounded_traces_quote_the_note_whatever_the_wording(phrasing):
    # A restyled question may open with the ask (and a distractor); the quotes still come from the note, so
    # each trace is the template question's. Before the fix 85 of these 1,000 quoted the ask instead
    # ("Sex: male" out of "50 kg (male) or 45.5 kg (female)").
    hc = get_domain("healthcare")
    template = hc.training_examples(1000, seed=0)
    restyled = hc.training_examples(1000, seed=0, phrasing=phrasing)
    moved = [r for r in restyled if r.meta["surface"]["moved"]]
    assert len(moved) > 100
    for t, r in zip(template, restyled):
        assert hc.tool_solution(r, ["calculator"], "grounded") == hc.tool_solution(t, ["calculator"], "grounded"), r.id


def test_unhinted_is_refused_where_no_hint_is_stated():
    with pytest.raises(SrmzooError, match="state no hints") as err:
        get_domain("math").training_examples(3, phrasing="unhinted")
    assert "data.phrasing: varied" in err.value.hint
    hc = get_domain("healthcare")
    ex = hc.examples("train", 1)[0]
    assert hc.unhint(replace(ex, family="medqa")) is None  # not a training calculator
    assert hc.unhint(replace(ex, question="A note.\n\nWhat is the BMI?")) is None  # not the generator's wording


def test_number_words_spare_money_percentages_decimals_and_protected_spans():
    forms = SurfaceForms(
        openers=("",),
        closers=("",),
        number_words=True,
        protect=r"`[^`]+`",
        p_words=1.0,
        p_move=0.0,
        p_distractor=0.0,
    )
    text = "Ava pays $12 for 3 pens, 15% off, 2.5 kg each, at 10:30, for `f(7)` and 4-step 7."
    # every eligible number is spelled with probability 0.8: over seeds, each one at least once
    spelled = [restyle_question(text, random.Random(s), forms)[0] for s in range(20)]
    for kept in ("$12", "15%", "2.5 kg", "10:30", "`f(7)`", "4-step"):
        assert all(kept in s for s in spelled), kept
    assert any("three pens" in s for s in spelled) and any(s.endswith("seven.") for s in spelled)
    code = "What does this print?\n```python\nprint(3)\n```"
    moved = SurfaceForms(openers=("",), closers=(" Thanks!",), p_move=1.0, p_distractor=0.0)
    out, form = restyle_question(code, random.Random(0), moved)
    assert form["moved"] and out == "```python\nprint(3)\n```\nWhat does this print? Thanks!"
    kept = SurfaceForms(openers=("",), closers=(" Thanks!",), p_move=0.0, p_distractor=0.0)
    out, form = restyle_question(code, random.Random(0), kept)  # a closer never sits on the closing fence
    assert not form["moved"] and out == code + "\nThanks!"


def test_varied_training_data_never_contains_an_evaluation_item():
    from srmzoo.contamination import evaluation_sets, verbatim_leaks

    for name in DOMAINS:
        domain = get_domain(name)
        training = [
            text
            for e in domain.training_examples(100 * len(domain.families), phrasing="varied")
            for text in (e.question, e.solution)
        ]
        sets, _ = evaluation_sets(domain, n=300)
        for split, items in sets.items():
            assert verbatim_leaks(training, [e.question for e in items]) == [], (name, split)
