"""The math domain: verifier traps, generators, split disjointness, rewards, dataset and Hub loaders."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from itertools import chain

import pytest

from srmzoo.domain import Example, Verdict, get_domain, get_reward
from srmzoo.domains.math import load_benchmark, math_correct, math_format
from srmzoo.domains.math.arithmetic import OOD_TEMPLATES as ARITH_OOD
from srmzoo.domains.math.arithmetic import TEMPLATES as ARITH
from srmzoo.domains.math.fraction_arithmetic import OOD_TEMPLATES as FRAC_OOD
from srmzoo.domains.math.fraction_arithmetic import TEMPLATES as FRAC
from srmzoo.domains.math.linear_equations import OOD_TEMPLATES as LIN_OOD
from srmzoo.domains.math.linear_equations import TEMPLATES as LIN
from srmzoo.domains.math.percentages import OOD_TEMPLATES as PCT_OOD
from srmzoo.domains.math.percentages import TEMPLATES as PCT
from srmzoo.domains.math.verify import check_answer
from srmzoo.domains.math.word_problems import OOD_TEMPLATES as WORD_OOD
from srmzoo.domains.math.word_problems import TEMPLATES as WORD
from srmzoo.errors import SrmzooError, UnknownNameError

NUMBER = {"answer_kind": "number"}
FRACTION = {"answer_kind": "number", "lowest_terms": True}


@pytest.fixture(scope="module")
def math():
    return get_domain("math")


@pytest.fixture(scope="module")
def splits(math):
    return {split: math.examples(split, n) for split, n in (("train", 2000), ("test", 500), ("ood", 500))}


# ------------------------------------------------------------------------------------------ verifier traps

TRAPS = [
    # (completion, gold, meta, verdict)
    (r"first \boxed{3}, then on reflection \boxed{4}", "4", NUMBER, Verdict.CORRECT),
    (r"first \boxed{4}, then on reflection \boxed{3}", "4", NUMBER, Verdict.WRONG),
    (r"\boxed{0.333}", "1/3", NUMBER, Verdict.WRONG),
    (r"\boxed{0.333}", "1/3", {}, Verdict.WRONG),
    (r"\boxed{\frac{1}{2}}", "0.5", NUMBER, Verdict.CORRECT),
    (r"\boxed{0.5}", r"\frac{1}{2}", {}, Verdict.CORRECT),
    (r"\boxed{1,234}", "1234", NUMBER, Verdict.CORRECT),
    (r"\boxed{1234}", "1,234", NUMBER, Verdict.CORRECT),
    (r"\boxed{72.0}", "72", NUMBER, Verdict.CORRECT),
    (r"\boxed{x = 3}", "3", NUMBER, Verdict.CORRECT),
    (r"\boxed{x = 3}", "3", {}, Verdict.CORRECT),
    (r"\boxed{\dfrac{3}{4}}", "3/4", FRACTION, Verdict.CORRECT),
    (r"\boxed{\frac34}", "3/4", FRACTION, Verdict.CORRECT),
    (r"\boxed{-\frac{3}{4}}", "-3/4", FRACTION, Verdict.CORRECT),
    (r"\boxed{3/4}", "-3/4", FRACTION, Verdict.WRONG),
    (r"\boxed{1\frac{3}{4}}", "7/4", FRACTION, Verdict.CORRECT),
    (r"\boxed{6/8}", "3/4", FRACTION, Verdict.WRONG),  # the question asks for lowest terms
    (r"\boxed{6/8}", "3/4", NUMBER, Verdict.CORRECT),
    (r"\boxed{25\%}", "25", NUMBER, Verdict.CORRECT),
    (r"\boxed{25%}", "25", NUMBER, Verdict.CORRECT),
    (r"\boxed{0.25}", "25", NUMBER, Verdict.WRONG),  # percentages are given as the number of percent
    (r"\boxed{\$12.50}", "12.5", NUMBER, Verdict.CORRECT),
    (r"\boxed{12 dollars}", "12", NUMBER, Verdict.CORRECT),
    (r"\boxed{795 \text{ km/h}}", "795", NUMBER, Verdict.CORRECT),
    (r"\boxed{3 \text{ or } 4}", "3", NUMBER, Verdict.WRONG),  # hedging is not a unit
    (r"\boxed{3 \times 14}", "42", NUMBER, Verdict.WRONG),  # copying the question is not answering it
    (r"\boxed{3 \times 14}", "42", {}, Verdict.CORRECT),  # math-verify alone evaluates expressions
    (r"\boxed{3x}", "3", NUMBER, Verdict.WRONG),
    (r"\boxed{-3}", "3", NUMBER, Verdict.WRONG),
    (r"\boxed{\sqrt{2}/2}", r"\frac{\sqrt{2}}{2}", {"answer_kind": "expression"}, Verdict.CORRECT),
    ("", "4", NUMBER, Verdict.UNVERIFIABLE),
    ("The answer is 4.", "4", NUMBER, Verdict.UNVERIFIABLE),
    (r"\boxed{}", "4", NUMBER, Verdict.UNVERIFIABLE),
    (r"so the answer is \boxed{4", "4", NUMBER, Verdict.UNVERIFIABLE),  # cut off mid-answer
    (r"\boxed{" + "9" * 300 + "}", "4", NUMBER, Verdict.UNVERIFIABLE),
]


@pytest.mark.parametrize(("completion", "gold", "meta", "verdict"), TRAPS)
def test_verifier_traps(completion, gold, meta, verdict):
    assert check_answer(completion, gold, meta).verdict is verdict


def test_verifier_gives_the_same_verdicts_off_the_main_thread():
    # math-verify's signal.alarm timeout raises ValueError outside the main thread unless disabled
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(lambda t: check_answer(t[0], t[1], t[2]).verdict, TRAPS))
    assert got == [t[3] for t in TRAPS]


@pytest.mark.parametrize(
    "completion",
    [
        r"\boxed{\frac{}{}}",
        r"\boxed{{{{",
        r"\boxed{1/0}",
        r"\boxed{\sqrt{-1}}",
        r"\boxed{\left(}",
        "\\boxed{\x00}",
    ],
)
def test_verifier_never_raises_on_malformed_output(completion):
    assert check_answer(completion, "4", NUMBER).verdict in (Verdict.WRONG, Verdict.UNVERIFIABLE)
    assert check_answer(completion, "4", {}).verdict in (Verdict.WRONG, Verdict.UNVERIFIABLE)


def test_a_meta_that_is_not_a_mapping_is_the_callers_error():
    with pytest.raises(SrmzooError, match="meta must be a mapping"):
        check_answer(r"\boxed{4}", "4", json.dumps(NUMBER))


def test_check_accepts_chat_messages(math):
    ex = math.examples("test", 1)[0]
    assert math.check([{"role": "assistant", "content": ex.solution}], ex).correct
    assert math.extract_answer([{"role": "assistant", "content": ex.solution}]) == ex.answer


# --------------------------------------------------------------------------------------------- generators


def test_examples_are_deterministic_and_seeded(math):
    assert math.examples("train", 40, seed=3) == math.examples("train", 40, seed=3)
    assert math.examples("train", 40, seed=3) != math.examples("train", 40, seed=4)


def test_a_family_draws_the_same_problems_whatever_else_is_asked_for(math):
    alone = math.examples("test", 3, families=["fractions"])
    mixed = [e for e in math.examples("test", 15) if e.family == "fractions"]
    assert alone == mixed


def test_examples_are_dealt_round_robin_with_unique_ids(math, splits):
    train = splits["train"]
    assert [e.family for e in train[:5]] == list(math.families)
    assert len({e.id for e in train}) == len(train)
    assert train[5].id == "math/train/arithmetic/00001"


def test_every_generated_solution_verifies_against_its_own_answer(math, splits):
    for split in ("train", "test", "ood"):
        for ex in splits[split][:300]:
            assert math.extract_answer(ex.solution) == ex.answer, ex.id
            check = math.check(ex.solution, ex)
            assert check.correct, (ex.id, ex.solution, check)


def test_solutions_are_short_step_by_step_traces(splits):
    for ex in splits["train"]:
        lines = ex.solution.splitlines()
        assert 2 <= len(lines) <= 7, ex.solution
        assert lines[-1] == f"The answer is \\boxed{{{ex.answer}}}.", ex.solution
        assert re.search(r"\d\S* [-+×÷] -?\d\S* = -?\d", ex.solution), (
            ex.solution
        )  # a written-out calculation
        json.dumps(ex.meta)


def test_fraction_answers_are_in_lowest_terms(splits):
    from fractions import Fraction

    for ex in splits["train"]:
        if ex.family == "fractions":
            assert "/" not in ex.answer or str(Fraction(ex.answer)) == ex.answer


# -------------------------------------------------------------------------------------- split disjointness


def test_test_and_ood_never_repeat_a_train_question(math, splits):
    train = {e.question for e in splits["train"]}
    for seed in (0, 1):
        train |= {e.question for e in math.examples("train", 1000, seed=seed + 1)}
    assert not train & {e.question for e in splits["test"]}
    assert not train & {e.question for e in splits["ood"]}
    assert not train & {e.question for e in math.examples("test", 250, seed=7)}


def test_test_problems_are_new_mathematics_not_rewordings(splits):
    # the equation or expression itself, not just the sentence around it, never repeats across train/test
    def maths(split, family, pattern):
        return {re.search(pattern, e.question).group() for e in splits[split] if e.family == family}

    for family, pattern in (
        ("linear_equation", r"-?\d+\(?x[^=]*= -?\d+"),
        ("arithmetic", r"[\d(][^?]*\d\)?"),
    ):
        train, test = maths("train", family, pattern), maths("test", family, pattern)
        assert len(test) > 50 and not train & test, family


def test_ood_uses_held_out_templates_and_longer_problems(splits):
    def phrasings(templates):
        return set(chain.from_iterable(templates.values())) if isinstance(templates, dict) else set(templates)

    pairs = [(ARITH, ARITH_OOD), (FRAC, FRAC_OOD), (LIN, LIN_OOD), (PCT, PCT_OOD), (WORD, WORD_OOD)]
    for train_t, ood_t in pairs:
        assert phrasings(train_t) and phrasings(ood_t) and not phrasings(train_t) & phrasings(ood_t)

    def ops(split):
        return [e.meta["operations"] for e in splits[split] if e.family == "arithmetic"]

    assert max(ops("train")) <= 3 < 4 <= min(ops("ood"))
    words_train = [e.meta["steps"] for e in splits["train"] if e.family == "word_problem"]
    words_ood = [e.meta["steps"] for e in splits["ood"] if e.family == "word_problem"]
    assert max(words_train) <= 4 <= min(words_ood)


# ------------------------------------------------------------------------------------------------ rewards


def test_rewards_are_registered_by_name():
    assert get_reward("math_correct") is math_correct
    assert get_reward("math_format") is math_format


def test_math_correct_applies_the_number_rules_from_the_meta_column():
    meta = json.dumps(NUMBER)
    completions = [r"\boxed{42}", r"\boxed{6 \times 7}", "forty-two"]
    assert math_correct(completions, answer=["42"] * 3, meta=[meta] * 3) == [1.0, 0.0, None]
    assert math_correct([[{"role": "assistant", "content": r"\boxed{42}"}]], answer=["42"]) == [1.0]


def test_math_format_wants_exactly_one_parseable_boxed_answer_at_the_end():
    completions = [
        "6 × 7 = 42.\nThe answer is \\boxed{42}.",
        "\\boxed{42}\n",
        "\\boxed{41} or \\boxed{42}",
        "\\boxed{42} and then some more text",
        "\\boxed{}",
        "\\boxed{42",
        "42",
    ]
    assert math_format(completions) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


# -------------------------------------------------------------------------------------- dataset round trip


def test_dataset_round_trip_and_rewards_over_its_columns(math):
    examples = math.examples("test", 10)
    ds = math.dataset("test", 10)
    assert ds.column_names == ["id", "family", "question", "answer", "solution", "meta"]
    back = [Example.from_dict({**row, "meta": json.loads(row["meta"])}) for row in ds]
    assert back == examples
    columns = ds.to_dict()  # plain lists, as TRL passes them
    assert math_correct(columns["solution"], **columns) == [1.0] * 10
    wrong = [s.replace("\\boxed{", "\\boxed{1") for s in columns["solution"]]
    assert math_correct(wrong, **columns) == [0.0] * 10


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"split": "dev", "n": 1}, SrmzooError),
        ({"split": "train", "n": 1, "families": ["algebra"]}, UnknownNameError),
        ({"split": "train", "n": 1, "families": "arithmetic"}, SrmzooError),
        ({"split": "train", "n": 1, "families": []}, SrmzooError),
        ({"split": "train", "n": -1}, SrmzooError),
        ({"split": "train", "n": 2.5}, SrmzooError),
    ],
)
def test_bad_arguments_get_one_clear_error(math, kwargs, error):
    with pytest.raises(error):
        math.examples(kwargs.pop("split"), kwargs.pop("n"), **kwargs)


# ------------------------------------------------------------------------------------------- Hub loaders


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_gsm8k_rows_become_number_examples(tmp_path, math):
    rows = [
        {
            "question": "Natalia sold clips to 48 friends in April, and half as many in May. How many in all?",
            "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
            "Natalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72",
        },
        {
            "question": "How many cents is $12.34?",
            "answer": "12.34 * 100 = <<12.34*100=1234>>1234\n#### 1,234",
        },
    ]
    examples = load_benchmark("gsm8k", data_files=_write_jsonl(tmp_path / "gsm8k.jsonl", rows))
    assert [e.answer for e in examples] == ["72", "1234"]
    assert examples[0].solution.splitlines() == [
        "Natalia sold 48/2 = 24 clips in May.",
        "Natalia sold 48+24 = 72 clips altogether.",
        "The answer is \\boxed{72}.",
    ]
    assert examples[0].family == "gsm8k" and examples[0].id == "gsm8k/test/00000"
    assert all(math.check(e.solution, e).correct for e in examples)
    assert math.check(r"\boxed{1,234}", examples[1]).correct
    assert len(load_benchmark("gsm8k", n=1, data_files=tmp_path / "gsm8k.jsonl")) == 1


def test_math500_rows_become_expression_examples(tmp_path, math):
    rows = [
        {
            "problem": "Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.",
            "solution": "We have $r = 3$ and $\\theta = \\frac{\\pi}{2}$, so $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.",
            "answer": "\\left( 3, \\frac{\\pi}{2} \\right)",
            "subject": "Precalculus",
            "level": 2,
            "unique_id": "test/precalculus/807.json",
        },
        {
            "problem": "What is $\\sqrt{8}$ in simplest radical form?",
            "solution": "$\\sqrt{8} = \\boxed{2\\sqrt{2}}$",
            "answer": "2\\sqrt{2}",
            "subject": "Prealgebra",
            "level": 1,
            "unique_id": "test/prealgebra/1.json",
        },
    ]
    examples = load_benchmark("math500", data_files=_write_jsonl(tmp_path / "math500.jsonl", rows))
    assert [e.id for e in examples] == ["math500/test/precalculus/807", "math500/test/prealgebra/1"]
    assert examples[0].meta == {
        "answer_kind": "expression",
        "subject": "Precalculus",
        "level": 2,
        "source": "HuggingFaceH4/MATH-500",
    }
    assert all(math.check(e.solution, e).correct for e in examples)
    assert math.check(r"\boxed{\sqrt{8}}", examples[1]).correct
    assert not math.check(r"\boxed{(3, \pi)}", examples[0]).correct


def test_benchmark_loader_errors_name_the_problem(tmp_path):
    with pytest.raises(UnknownNameError, match="gsm8k"):
        load_benchmark("gsm8", data_files=tmp_path / "x.jsonl")
    bad = _write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "solution": "s"}])
    with pytest.raises(SrmzooError, match="lacks the gsm8k column"):
        load_benchmark("gsm8k", data_files=bad)
    no_final = _write_jsonl(tmp_path / "no_final.jsonl", [{"question": "q", "answer": "it is 4"}])
    with pytest.raises(SrmzooError, match="#### <number>"):
        load_benchmark("gsm8k", data_files=no_final)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(SrmzooError, match="unsupported gsm8k file type"):
        load_benchmark("gsm8k", data_files=tmp_path / "x.txt")


# -------------------------------------------------------------------------------------- breadth families

BREADTH = ["averages", "ratio_share", "unit_conversion"]


def test_breadth_families_are_opt_in(math):
    assert set(math.extra_families) == set(BREADTH) and not set(BREADTH) & set(math.families)
    assert {e.family for e in math.examples("train", 50)} == set(math.families)  # the default mix is unchanged
    assert {e.family for e in math.examples("train", 6, families=BREADTH)} == set(BREADTH)
    with pytest.raises(UnknownNameError, match="unit_conversion"):
        math.examples("train", 1, families=["unit_conversoin"])


def test_breadth_splits_are_disjoint_and_their_solutions_verify(math):
    from srmzoo.domains.math.splits import _draw, split_of_key

    drawn = {split: math.examples(split, 300, families=BREADTH) for split in ("train", "test", "ood")}
    for split, examples in drawn.items():
        assert all(math.check(e.solution, e).correct for e in examples), split
        assert len({e.question for e in examples}) >= 0.9 * len(examples), split
    # train and test own opposite sides of the content hash; ood uses other structures and phrasings
    for split in ("train", "test"):
        for family in BREADTH:
            assert all(split_of_key(family, _draw(split, family, 0, i).key) == split for i in range(40))
    questions = {split: {e.question for e in ex} for split, ex in drawn.items()}
    assert not questions["train"] & questions["test"] and not questions["ood"] & (questions["train"] | questions["test"])
    assert {e.meta["kind"] for e in drawn["ood"]} == {"mean", "target", "three_way", "three_unit"}
    assert not {e.meta["kind"] for e in drawn["ood"]} & {"share", "difference", "mixed", "whole"}


def test_breadth_families_never_pose_a_natural_item(math):
    from srmzoo.contamination import verbatim_leaks

    training = [t for e in math.training_examples(3000, families=BREADTH, phrasing="varied") for t in (e.question, e.solution)]
    natural = math.natural_examples(300)
    assert not set(BREADTH) & set(math.natural_families)
    assert verbatim_leaks(training, [e.question for e in natural]) == []
