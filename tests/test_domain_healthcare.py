"""Healthcare domain: calculators, verifier traps, determinism, split disjointness, self-consistency,
rewards, the dataset round trip, the medcalc-bench cross-check and the offline medical QA loaders."""

from __future__ import annotations

import json
import random
import re

import pytest

from srmzoo.domain import Example, Verdict, get_domain, get_reward
from srmzoo.domains.healthcare import (
    RESEARCH_DISCLAIMER,
    healthcare_correct,
    healthcare_format,
    load_medical_qa,
)
from srmzoo.domains.healthcare.benchmarks import extract_choice
from srmzoo.domains.healthcare.calculator_tasks import CALCULATORS, SPLIT_BUCKETS, input_bucket
from srmzoo.domains.healthcare.clinical_calculators import (
    cha2ds2_vasc_points,
    curb_65_points,
    glasgow_coma_points,
    has_bled_points,
    maintenance_fluid_rate,
    meld_na,
    wells_pe_points,
)
from srmzoo.domains.healthcare.crosscheck import (
    MELD_DIALYSIS,
    REPORT_PATH,
    convention_gaps,
    crosscheck,
    crosscheck_markdown,
)
from srmzoo.domains.healthcare.patient_notes import (
    CONDITIONS,
    FINDINGS,
    HELD_OUT_STYLES,
    MEDICATIONS,
    SEEN_STYLES,
)
from srmzoo.domains.healthcare.verify import parse_number
from srmzoo.errors import SrmzooError, UnknownNameError

SIZES = {"train": 5000, "test": 500, "ood": 500}


@pytest.fixture(scope="module")
def hc():
    return get_domain("healthcare")


@pytest.fixture(scope="module")
def splits(hc) -> dict[str, list[Example]]:
    """The full-size splits the zoo trains and evaluates on (about 3 s to generate)."""
    return {split: hc.examples(split, n) for split, n in SIZES.items()}


def _example(answer: str, **meta) -> Example:
    return Example("t/0", "x", "q", answer, "", {"answer_kind": "number", **meta})


# ------------------------------------------------------------------------------------------ the domain


def test_domain_is_registered_with_disclaimer_and_at_least_twelve_calculators(hc):
    assert hc.name == "healthcare"
    assert RESEARCH_DISCLAIMER in hc.description
    assert "not for clinical decisions" in RESEARCH_DISCLAIMER
    assert len(hc.families) >= 12 and set(hc.families) == set(CALCULATORS)
    assert "\\boxed{}" in hc.system_prompt


def test_bad_arguments_raise_one_clear_error(hc):
    with pytest.raises(SrmzooError, match="unknown split 'validation'"):
        hc.examples("validation", 3)
    with pytest.raises(UnknownNameError, match="did you mean: bmi"):
        hc.examples("train", 3, families=["bmj"])
    with pytest.raises(SrmzooError, match="non-negative integer"):
        hc.examples("train", -1)


# ------------------------------------------------------------------------------------------ calculators


def test_scores_at_their_thresholds():
    cha = cha2ds2_vasc_points(
        age=75,
        female=True,
        heart_failure=True,
        hypertension=True,
        stroke_or_tia=True,
        vascular_disease=True,
        diabetes=True,
    )
    assert sum(cha.values()) == 9
    assert (
        cha2ds2_vasc_points(
            age=64,
            female=False,
            heart_failure=False,
            hypertension=False,
            stroke_or_tia=False,
            vascular_disease=False,
            diabetes=False,
        )["age"]
        == 0
    )
    bled = dict(renal=False, liver=False, stroke=False, bleeding=False, labile_inr=False, drugs=False)
    assert sum(has_bled_points(systolic=160, age=65, alcohol_per_week=7, **bled).values()) == 0
    assert sum(has_bled_points(systolic=161, age=66, alcohol_per_week=8, **bled).values()) == 3
    curb = dict(confusion=False, respiratory_rate=29, systolic=90, diastolic=61, age=64)
    assert sum(curb_65_points(bun_mg_dl=19, **curb).values()) == 0
    assert curb_65_points(bun_mg_dl=19.5, **{**curb, "diastolic": 60})["blood pressure"] == 1
    wells = wells_pe_points(
        dvt_signs=True,
        pe_most_likely=True,
        heart_rate=101,
        immobilized_or_surgery=True,
        prior_vte=True,
        hemoptysis=True,
        malignancy=True,
    )
    assert sum(wells.values()) == 12.5
    with pytest.raises(ValueError, match="motor"):
        glasgow_coma_points(4, 5, 7)


def test_maintenance_fluids_are_continuous_at_10_and_20_kg():
    assert maintenance_fluid_rate(10) == 40 and maintenance_fluid_rate(10.001) == pytest.approx(40.002)
    assert maintenance_fluid_rate(20) == 60 and maintenance_fluid_rate(20.5) == 60.5


def test_meld_na_follows_unos_bounds_and_dialysis_rule():
    # dialysis overrides the 1.0 floor: creatinine counts as 4.0
    assert meld_na(0.8, 2.0, 1.5, 130, dialysis=True).creatinine == 4.0
    assert meld_na(0.8, 2.0, 1.5, 130, dialysis=False).creatinine == 1.0
    assert meld_na(7.5, 1.0, 1.0, 137, dialysis=False).creatinine == 4.0
    low = meld_na(1.0, 1.0, 1.0, 150, dialysis=False)
    assert (low.sodium, low.meld_i10, low.score) == (137, 6, 6)  # MELD(i) <= 11: no sodium term
    assert meld_na(4.0, 40.0, 6.0, 120, dialysis=True).score == 40  # capped


# ----------------------------------------------------------------------------------------- verifier traps


@pytest.mark.parametrize(
    ("completion", "answer", "meta", "verdict"),
    [
        (r"BMI = 27.46 \boxed{27.46}", "27.5", {"rel_tol": 0.02}, Verdict.CORRECT),
        # the unit's exponent is not a second number
        (r"\boxed{27.5\ \text{kg/m}^2}", "27.5", {"rel_tol": 0.02}, Verdict.CORRECT),
        (r"\boxed{28.0}", "27.5", {"rel_tol": 0.02}, Verdict.CORRECT),  # 1.8% off
        (r"\boxed{28.1}", "27.5", {"rel_tol": 0.02}, Verdict.WRONG),  # 2.2% off
        (r"\boxed{9.39}", "9.30", {"abs_tol": 0.1}, Verdict.CORRECT),
        (r"\boxed{9.41}", "9.30", {"abs_tol": 0.1}, Verdict.WRONG),
        (r"\boxed{5.0}", "5", {}, Verdict.CORRECT),  # exact scores compare as numbers
        (r"\boxed{5.5}", "5", {}, Verdict.WRONG),
        (r"\boxed{4.5}", "4.5", {}, Verdict.CORRECT),
        (r"\boxed{1,234 mL/h}", "1234.0", {"rel_tol": 0.02}, Verdict.CORRECT),
        (r"$\boxed{\approx 12}$", "12", {}, Verdict.CORRECT),
        (r"\boxed{3} first, then \boxed{12}", "12", {}, Verdict.CORRECT),  # the last box counts
        (r"\boxed{12} first, then \boxed{3}", "12", {}, Verdict.WRONG),
        (r"\boxed{-12}", "12", {}, Verdict.WRONG),
        (r"\boxed{12 or 13}", "12", {}, Verdict.UNVERIFIABLE),
        (r"\boxed{1,5}", "1.5", {}, Verdict.UNVERIFIABLE),  # decimal comma is ambiguous
        (r"\boxed{twelve}", "12", {}, Verdict.UNVERIFIABLE),
        (r"\boxed{}", "12", {}, Verdict.UNVERIFIABLE),
        (r"\boxed{12", "12", {}, Verdict.UNVERIFIABLE),  # cut off
        ("The anion gap is 12.", "12", {}, Verdict.UNVERIFIABLE),  # no box
        (r"\boxed{nan}", "12", {}, Verdict.UNVERIFIABLE),
    ],
)
def test_number_verifier_traps(hc, completion, answer, meta, verdict):
    assert hc.check(completion, _example(answer, **meta)).verdict is verdict


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "}" * 50 + "{" * 50,
        "\\boxed{" * 200,
        "\\boxed{{{}}}",
        "\x00\\boxed{\x00}",
        "9" * 5000,
        "\\boxed{1e999}",
    ],
)
def test_verifier_never_raises_on_malformed_output(hc, completion):
    for ex in (_example("12"), Example("t/1", "medqa", "q", "B", "", {"answer_kind": "choice"})):
        assert hc.check(completion, ex).verdict in set(Verdict)
    assert healthcare_format([completion]) in ([0.0], [1.0])


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("The answer is (C).", "C"),
        ("C.", "C"),
        (r"Therefore \boxed{C}", "C"),
        ("Answer: c", "C"),
        ("**Answer:** B", "B"),
        (r"\boxed{\text{(D)}}", "D"),
        ("The answer is (C). On reflection, the answer is D.", "D"),
        ("Reasoning first.\nB", "B"),
        ("A patient with fever is likely infected.", None),  # an article is not an answer
        (r"\boxed{E}", None),  # not an option of a 4-option item
        (r"\boxed{42}", None),
        ("", None),
    ],
)
def test_choice_extractor_traps(completion, expected):
    assert extract_choice(completion, "ABCD") == expected


def test_choice_verifier_accepts_an_option_text_and_rejects_the_wrong_letter(hc):
    ex = Example(
        "t/2",
        "pubmedqa",
        "q",
        "C",
        "",
        {"answer_kind": "choice", "letters": "ABC", "options": ["yes", "no", "maybe"]},
    )
    assert hc.check(r"\boxed{maybe}", ex).verdict is Verdict.CORRECT
    assert hc.check("The answer is (A)", ex).verdict is Verdict.WRONG
    assert hc.check("Hard to say.", ex).verdict is Verdict.UNVERIFIABLE


def test_number_parser_reads_units_and_rejects_second_numbers():
    assert parse_number(r"57.3\,\mathrm{mL/min}") == 57.3
    assert parse_number("MAP = 93.3 mmHg") == 93.3
    assert parse_number("60 mL/min/1.73 m^2") is None


# ------------------------------------------------------------------------------------------- generation


def test_examples_are_deterministic_stable_in_n_and_seeded(hc):
    first = hc.examples("test", 40, seed=3)
    assert first == hc.examples("test", 40, seed=3)
    assert first[:17] == hc.examples("test", 17, seed=3)  # ids and contents do not depend on n
    assert [e.question for e in first] != [e.question for e in hc.examples("test", 40, seed=4)]
    assert len({e.id for e in first}) == 40
    assert [e.family for e in first[:17]] == list(hc.families)  # round-robin
    assert re.fullmatch(r"healthcare/test/bmi/00000", first[0].id)


def test_full_splits_cover_every_calculator_evenly(splits, hc):
    for split, examples in splits.items():
        counts = {f: sum(e.family == f for e in examples) for f in hc.families}
        assert max(counts.values()) - min(counts.values()) <= 1, (split, counts)
        assert all(
            e.meta["answer_kind"] == "number" and e.meta["unit"] == CALCULATORS[e.family].unit
            for e in examples
        )
        json.dumps([e.meta for e in examples])  # JSON-serialisable


def test_splits_are_disjoint_by_construction(splits):
    for split, examples in splits.items():
        assert all(input_bucket(e.family, e.meta["inputs"]) in SPLIT_BUCKETS[split] for e in examples), split
    train_inputs = {(e.family, json.dumps(e.meta["inputs"], sort_keys=True)) for e in splits["train"]}
    train_questions = {e.question for e in splits["train"]}
    for split in ("test", "ood"):
        held = splits[split]
        assert not train_inputs & {(e.family, json.dumps(e.meta["inputs"], sort_keys=True)) for e in held}
        assert not train_questions & {e.question for e in held}


def test_ood_notes_use_only_held_out_styles_and_wordings(splits):
    assert {e.meta["note_style"] for e in splits["ood"]} == set(HELD_OUT_STYLES)
    seen_text = "\n".join(e.question for s in ("train", "test") for e in splits[s])
    assert {e.meta["note_style"] for s in ("train", "test") for e in splits[s]} == set(SEEN_STYLES)
    held_out = [p for t in (CONDITIONS, FINDINGS, MEDICATIONS) for w in t.values() for p in w.held_out]
    seen_lower = seen_text.lower()
    # a "{n}" slot in a wording matches any number
    patterns = [r"\d+".join(map(re.escape, re.split(r"\{\w+\}", p.lower()))) for p in held_out]
    leaked = [p for p in patterns if re.search(p, seen_lower)]
    assert not leaked
    held_asks = [a for c in CALCULATORS.values() for a in c.held_out_asks]
    assert not [a for a in held_asks if a in seen_text]
    ood_text = "\n".join(e.question for e in splits["ood"])
    assert not [a for c in CALCULATORS.values() for a in c.asks if a in ood_text]


def test_every_solution_verifies_against_its_own_example(splits, hc):
    for examples in splits.values():
        for ex in examples:
            check = hc.check(ex.solution, ex)
            assert check.verdict is Verdict.CORRECT, (ex.id, check.detail, ex.solution)
            assert ex.solution.splitlines()[-1] == f"\\boxed{{{ex.answer}}}"
            assert len(ex.solution.splitlines()) <= 7  # at most 6 steps and the answer
    assert healthcare_format([e.solution for e in splits["test"]]) == [1.0] * SIZES["test"]


def test_a_wrong_number_is_wrong_for_every_calculator(splits, hc):
    rng = random.Random(0)
    for ex in splits["test"][: len(hc.families)]:
        gold = float(ex.answer)
        off = gold * 1.1 + 1 if ex.meta["rel_tol"] or ex.meta["abs_tol"] else gold + rng.choice((-1, 1))
        assert hc.check(f"\\boxed{{{off}}}", ex).verdict is Verdict.WRONG, ex.id


# ----------------------------------------------------------------------------------- rewards and datasets


def test_rewards_are_registered_and_score_dataset_columns(hc):
    assert get_reward("healthcare_correct") is healthcare_correct
    assert get_reward("healthcare_format") is healthcare_format
    ds = hc.dataset("test", 34)
    columns = {name: list(ds[name]) for name in ds.column_names}  # TRL passes plain lists
    assert healthcare_correct(ds["solution"], **columns) == [1.0] * 34
    assert healthcare_format(ds["solution"], **columns) == [1.0] * 34
    wrong = [f"\\boxed{{{float(a) * 3 + 7}}}" for a in ds["answer"]]
    assert healthcare_correct(wrong, **columns) == [0.0] * 34
    chat = [[{"role": "assistant", "content": s}] for s in ds["solution"]]  # TRL's conversational form
    assert healthcare_correct(chat, **columns) == [1.0] * 34
    assert healthcare_correct(["no answer"], answer=["5"]) == [None]
    assert healthcare_format(
        ["\\boxed{5} trailing words", "\\boxed{B}"], meta=[{}, {"answer_kind": "number"}]
    ) == [0.0, 0.0]


def test_dataset_round_trip(hc):
    examples = hc.examples("ood", 20, seed=1)
    ds = hc.dataset("ood", 20, seed=1)
    assert ds.column_names == ["id", "family", "question", "answer", "solution", "meta"]
    rebuilt = [Example.from_dict({**row, "meta": json.loads(row["meta"])}) for row in ds]
    assert rebuilt == examples


# ------------------------------------------------------------------------------------ medcalc cross-check


@pytest.fixture(scope="module")
def agreement():
    return crosscheck(100)


def test_gold_agrees_with_medcalc_wherever_conventions_match(agreement):
    for r in agreement:
        assert r.matching_cases >= 10, r.family  # the agreement claim is never vacuous
        assert r.disagreements == [], (r.family, r.disagreements)
        assert r.agree_where_conventions_match == r.matching_cases, r.family
        assert r.agree_aligned == r.cases, r.family  # with known differences closed, every case agrees
    by_family = {r.family: r for r in agreement}
    assert by_family["cockcroft_gault"].agree < 50  # medcalc's BMI-dependent weight really differs


def test_crosscheck_markdown_is_up_to_date(agreement):
    assert REPORT_PATH.read_text(encoding="utf-8") == crosscheck_markdown(agreement), (
        "CROSSCHECK.md is stale: run .venv/bin/python -m srmzoo.domains.healthcare.crosscheck"
    )


def test_medcalc_meld_na_dialysis_bug_is_pinned():
    from medcalc.meldna import compute_meldna_explanation

    inputs = {
        "creatinine": [0.8, "mg/dL"],
        "bilirubin": [2.0, "mg/dL"],
        "inr": 1.5,
        "sodium": 130,
        "dialysis": True,
    }
    theirs = compute_meldna_explanation(
        {
            "creatinine": (0.8, "mg/dL"),
            "bilirubin": (2.0, "mg/dL"),
            "inr": 1.5,
            "sodium": (130, "mmol/L"),
            "dialysis_twice": True,
        }
    )["Answer"]
    assert meld_na(0.8, 2.0, 1.5, 130, dialysis=True).score == 30
    assert theirs == meld_na(1.0, 2.0, 1.5, 130, dialysis=False).score != 30  # it used Cr 1.0
    assert convention_gaps("meld_na", inputs) == [MELD_DIALYSIS]


# ------------------------------------------------------------------------------- medical multiple choice

# Two invented rows per schema, for testing the parsers only: not data, not a benchmark.
FIXTURES = {
    "medqa": [
        {
            "question": "Fixture stem one?",
            "answer": "opt C",
            "options": {"A": "opt A", "B": "opt B", "C": "opt C", "D": "opt D"},
            "meta_info": "step1",
            "answer_idx": "C",
            "metamap_phrases": [],
        },
        {
            "question": "Fixture stem two?",
            "answer": "opt A",
            "options": {"A": "opt A", "B": "opt B", "C": "opt C", "D": "opt D"},
            "meta_info": "step2&3",
            "answer_idx": "A",
            "metamap_phrases": [],
        },
    ],
    "medmcqa": [
        {
            "id": "f1",
            "question": "Fixture stem?",
            "opa": "w",
            "opb": "x",
            "opc": "y",
            "opd": "z",
            "cop": 3,
            "choice_type": "single",
            "exp": None,
            "subject_name": "s",
            "topic_name": "t",
        },
        {
            "id": "f2",
            "question": "Fixture stem 2?",
            "opa": "w",
            "opb": "x",
            "opc": "y",
            "opd": "z",
            "cop": 0,
            "choice_type": "single",
            "exp": None,
            "subject_name": "s",
            "topic_name": "t",
        },
    ],
    "pubmedqa": [
        {
            "pubid": 1,
            "question": "Fixture question?",
            "context": {"contexts": ["Para one.", "Para two."], "labels": ["A", "B"], "meshes": ["m"]},
            "long_answer": "la",
            "final_decision": "maybe",
        },
        {
            "pubid": 2,
            "question": "Fixture question 2?",
            "context": {"contexts": ["Para."], "labels": ["A"], "meshes": ["m"]},
            "long_answer": "la",
            "final_decision": "yes",
        },
    ],
}


def _write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("source", "golds"), [("medqa", ["C", "A"]), ("medmcqa", ["D", "A"]), ("pubmedqa", ["C", "A"])]
)
def test_medical_qa_loads_offline_fixture_in_hub_schema(tmp_path, hc, source, golds):
    path = _write_jsonl(tmp_path / f"{source}.jsonl", FIXTURES[source])
    examples = load_medical_qa(source, data_files=path)
    assert [e.answer for e in examples] == golds
    assert all(e.meta["answer_kind"] == "choice" and e.family == source for e in examples)
    assert "\nA. " in examples[0].question and "\\boxed{}" in examples[0].question
    assert [hc.check(e.solution, e).verdict for e in examples] == [Verdict.CORRECT] * 2
    assert healthcare_format([e.solution for e in examples], meta=[e.meta for e in examples]) == [1.0, 1.0]
    assert load_medical_qa(source, data_files=path, n=1)[0] == examples[0]
    if source == "pubmedqa":
        assert "Para one. Para two." in examples[0].question and examples[0].meta["options"][2] == "maybe"


def test_medical_qa_bad_data_gives_one_clear_error(tmp_path):
    unlabelled = {**FIXTURES["medmcqa"][0], "cop": -1}
    with pytest.raises(SrmzooError, match="use split='validation'"):
        load_medical_qa("medmcqa", data_files=_write_jsonl(tmp_path / "t.jsonl", [unlabelled]))
    with pytest.raises(SrmzooError, match="does not follow the schema"):
        load_medical_qa("medqa", data_files=_write_jsonl(tmp_path / "b.jsonl", [{"question": "q"}]))
    with pytest.raises(SrmzooError, match="cannot load medqa"):
        load_medical_qa("medqa", data_files=str(tmp_path / "missing.jsonl"))
    with pytest.raises(UnknownNameError):
        load_medical_qa("usmle")
