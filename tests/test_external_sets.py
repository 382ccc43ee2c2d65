"""External evaluation sets: GSM-Symbolic (reasoning-gym) in math, medcalc-bench's calculators in healthcare.

Each is offline, deterministic, scored by its domain's verifier, never training data, and recorded in the
data manifests with its size, sha256, source and overlap with the training data.
"""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from srmzoo.contamination import evaluation_sets_block, qa_digest
from srmzoo.domain import SPLITS, domain_names, get_domain, split_slug
from srmzoo.errors import SrmzooError
from srmzoo.publish.manifests import build_manifest, check_manifest, write_manifest
from srmzoo.recipe import Recipe

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gsm_symbolic():
    return get_domain("math").eval_examples("external:gsm-symbolic", 10_000)


@pytest.fixture(scope="module")
def medcalc():
    return get_domain("healthcare").eval_examples("external:medcalc", 10_000)


# ------------------------------------------------------------------------------------------------ GSM-Symbolic


def test_gsm_symbolic_is_a_fixed_set_of_at_least_300_items(gsm_symbolic):
    from srmzoo.domains.math.gsm_symbolic import GSM_SYMBOLIC_SIZE

    assert len(gsm_symbolic) == GSM_SYMBOLIC_SIZE >= 300
    assert len({e.id for e in gsm_symbolic}) == len({e.question for e in gsm_symbolic}) == len(gsm_symbolic)
    assert len({e.meta["template"] for e in gsm_symbolic}) >= 80  # nearly all of reasoning-gym's 85 templates
    again = get_domain("math").benchmark_examples("gsm-symbolic", 300, seed=7)  # seed unused: one fixed draw
    assert qa_digest(again) == qa_digest(gsm_symbolic[:300])


def test_gsm_symbolic_items_are_reasoning_gyms_rows():
    import reasoning_gym

    from srmzoo.domains.math.gsm_symbolic import GSM_SYMBOLIC_SEED, GSM_SYMBOLIC_SIZE

    ours = get_domain("math").eval_examples("external:gsm-symbolic", 40)
    theirs = reasoning_gym.create_dataset("gsm_symbolic", seed=GSM_SYMBOLIC_SEED, size=GSM_SYMBOLIC_SIZE)
    for i, example in enumerate(ours):
        row = theirs[i]
        assert row["question"].startswith(example.question) and row["answer"] == example.answer
        assert theirs.score_answer(example.answer, row) == 1.0


def test_gsm_symbolic_is_scored_by_the_math_verifier(gsm_symbolic):
    math_domain = get_domain("math")
    assert all(math_domain.check(e.solution, e).correct for e in gsm_symbolic)
    example = gsm_symbolic[0]
    wrong = str(int(example.answer) + 1)
    assert math_domain.check(f"The answer is \\boxed{{{wrong}}}.", example).verdict.value == "wrong"
    assert math_domain.check("no final answer", example).verdict.value == "unverifiable"


def test_no_math_training_path_draws_on_gsm_symbolic():
    math_domain = get_domain("math")
    with pytest.raises(SrmzooError, match="evaluation-only set of math, never training data"):
        math_domain.examples("train", 10, families=["gsm-symbolic"])
    recipe = Recipe.from_dict(
        {
            "name": "leak",
            "domain": "math",
            "model": {"base": "smollm2"},
            "data": {"train_size": 5, "families": ["gsm-symbolic"]},
        }
    )
    with pytest.raises(SrmzooError, match="never training data"):
        build_manifest(recipe)
    with pytest.raises(SrmzooError, match="for evaluation only"):
        math_domain.examples("external:gsm-symbolic", 5)
    assert "gsm-symbolic" not in math_domain.families and "external:gsm-symbolic" not in SPLITS


def _code_strings(path: Path) -> list[str]:
    """String constants of a module that are not docstrings (what its code uses, not what it documents)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_only_the_evaluation_loader_names_reasoning_gyms_gsm_symbolic():
    """A future reasoning-gym training generator (issue 27: breadth in math) must never pick gsm_symbolic."""
    users = sorted(
        str(path.relative_to(ROOT))
        for folder in ("zoo", "domains")
        for path in (ROOT / folder).rglob("*.py")
        if any("gsm_symbolic" in s for s in _code_strings(path))
    )
    assert users == ["domains/math/gsm_symbolic.py"]


# ------------------------------------------------------------------------------------------------ medcalc


def test_medcalc_is_a_fixed_set_of_at_least_200_items(medcalc):
    from srmzoo.domains.healthcare.medcalc_vignettes import MEDCALC_SIZE, MEDCALC_TASKS

    assert len(medcalc) == MEDCALC_SIZE >= 200
    assert len({e.id for e in medcalc}) == len({e.question for e in medcalc}) == len(medcalc)
    counts = {name: sum(e.meta["calculator"] == name for e in medcalc) for name in MEDCALC_TASKS}
    assert set(counts.values()) == {MEDCALC_SIZE // len(MEDCALC_TASKS)}
    assert qa_digest(get_domain("healthcare").benchmark_examples("medcalc", 50)) == qa_digest(medcalc[:50])


def test_medcalc_gold_is_medcalc_benchs_answer_for_the_stated_inputs(medcalc):
    import importlib

    for example in medcalc:
        module, function = example.meta["medcalc_function"].rsplit(".", 1)
        inputs = {
            k: tuple(v) if isinstance(v, list) else v for k, v in example.meta["medcalc_inputs"].items()
        }
        answer = getattr(importlib.import_module(module), function)(inputs)["Answer"]
        assert math.isclose(float(example.answer), answer, rel_tol=1e-9, abs_tol=1e-9), example.id


TEXTBOOK = {  # independent formulas on the same inputs: medcalc's gold must agree within 1%
    "qtc_hodges": lambda i: i["qt_interval"][0] + 1.75 * (i["heart_rate"][0] - 60),
    "qtc_rautaharju": lambda i: i["qt_interval"][0] * (120 + i["heart_rate"][0]) / 180,
    "qtc_framingham": lambda i: i["qt_interval"][0] + 154 * (1 - 60 / i["heart_rate"][0]),
    "serum_osmolality": lambda i: 2 * i["sodium"][0] + i["bun"][0] / 2.8 + i["glucose"][0] / 18,
    "ldl_calculated": lambda i: i["total_cholestrol"][0] - i["hdl_cholestrol"][0] - i["triglycerides"][0] / 5,
    "homa_ir": lambda i: i["insulin"][0] * i["glucose"][0] / 405,
    "fena": lambda i: (
        100 * i["creatinine"][0] * i["urine_sodium"][0] / (i["sodium"][0] * i["urine_creatinine"][0])
    ),
    "delta_gap": lambda i: i["sodium"][0] - i["chloride"][0] - i["bicarbonate"][0] - 12,
    "sodium_correction_hyperglycemia": lambda i: i["sodium"][0] + 0.024 * (i["glucose"][0] - 100),
}


def test_medcalc_gold_agrees_with_textbook_formulas(medcalc):
    checked = 0
    for example in medcalc:
        formula = TEXTBOOK.get(example.meta["calculator"])
        if formula:
            expected = formula(example.meta["medcalc_inputs"])
            assert math.isclose(float(example.answer), expected, rel_tol=0.01, abs_tol=0.05), example.id
            checked += 1
    assert checked == 12 * len(TEXTBOOK)


def _stated(value: float) -> list[str]:
    return [f"{value:g}", f"{value:,.0f}" if value >= 1000 else f"{value:g}"]


def test_every_medcalc_note_states_the_inputs_it_is_scored_on(medcalc):
    for example in medcalc:
        for name, value in example.meta["medcalc_inputs"].items():
            if name == "age":
                assert f"{value[0]}-year-old" in example.question, example.id
            elif isinstance(value, list) and len(value) == 4:  # feet and inches
                assert f"{value[0]} ft {value[2]} in" in example.question, example.id
            elif isinstance(value, list):
                assert any(text in example.question for text in _stated(value[0])), (example.id, name)
            elif isinstance(value, float):
                assert f"{value:g}" in example.question, (example.id, name)


def test_medcalc_uses_medcalc_benchs_tolerance(medcalc):
    healthcare = get_domain("healthcare")
    decimal = next(e for e in medcalc if e.meta["calculator"] == "qtc_hodges")
    score = next(e for e in medcalc if e.meta["calculator"] == "child_pugh")
    gold = float(decimal.answer)
    assert healthcare.check(f"\\boxed{{{gold * 1.045:.1f}}}", decimal).correct
    assert not healthcare.check(f"\\boxed{{{gold * 1.06:.1f}}}", decimal).correct
    assert healthcare.check(f"\\boxed{{{score.answer}}}", score).correct
    assert not healthcare.check(f"\\boxed{{{int(score.answer) + 1}}}", score).correct
    assert all(healthcare.check(e.solution, e).correct for e in medcalc)


def test_medcalc_calculators_are_mostly_ones_no_training_family_uses(medcalc):
    from srmzoo.domains.healthcare.calculator_tasks import CALCULATORS
    from srmzoo.domains.healthcare.medcalc_vignettes import MEDCALC_TASKS

    held_out = [t.name for t in MEDCALC_TASKS.values() if not t.in_training]
    assert len(held_out) >= 15 and not set(held_out) & set(CALCULATORS)
    assert {t.name for t in MEDCALC_TASKS.values() if t.in_training} <= set(CALCULATORS)
    assert not {e.family for e in medcalc} & set(get_domain("healthcare").families)
    with pytest.raises(SrmzooError, match="never training data"):
        get_domain("healthcare").examples("train", 5, families=["medcalc"])


def test_external_sets_load_with_no_network():
    """Loaded in a fresh interpreter whose sockets refuse to connect: nothing is fetched at run time."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "from srmzoo.domain import get_domain\n"
        "print(len(get_domain('math').eval_examples('external:gsm-symbolic', 1000)),"
        " len(get_domain('healthcare').eval_examples('external:medcalc', 1000)),"
        " len(get_domain('coding').eval_examples('external:humaneval', 1000)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["500", "252", "164"]


# ------------------------------------------------------------------------------------------------ plumbing


@pytest.mark.parametrize(("domain", "name"), [("math", "gsm-symbolic"), ("healthcare", "medcalc")])
def test_external_split_names(domain, name):
    d = get_domain(domain)
    d.check_split(f"external:{name}", benchmarks=True)
    assert f"external:{name}" in d.evaluation_splits()
    assert split_slug(f"external:{name}") == f"external-{name}"
    assert len(d.eval_examples(name, 3)) == 3  # a bare benchmark name is accepted too
    with pytest.raises(SrmzooError, match="for evaluation only"):
        d.check_split(f"external:{name}")


def test_every_external_set_is_documented_with_its_licence_and_size():
    """docs/evaluation.md lists every registered external set, at the size its licence line states."""
    docs = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    section = docs.split("## External sets", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in section.splitlines()
        if line.startswith("| `external:")
    }
    for name in domain_names():
        domain = get_domain(name)
        if not type(domain).__module__.startswith("srmzoo.domains."):
            continue  # test-only domains
        for benchmark, line in domain.benchmarks.items():
            size = re.search(r"(\d+) [\w ]*?(?:items|problems|vignettes)", line)
            assert size, line  # the licence line states the set's size
            assert f"| {size.group(1)} |" in rows[f"external:{benchmark}"], benchmark
    assert "Science has no external set that works offline" in section


# ------------------------------------------------------------------------------------------------ manifests


def small_recipe(domain: str) -> Recipe:
    return Recipe.from_dict(
        {
            "name": f"tiny-{domain}",
            "domain": domain,
            "model": {"base": "smollm2"},
            "data": {"train_size": 30},
            "eval": {"n": 8, "splits": ["test"]},
        }
    )


@pytest.mark.parametrize(
    ("domain", "split"),
    [("math", "external:gsm-symbolic"), ("healthcare", "external:medcalc"), ("coding", "external:humaneval")],
)
def test_manifests_record_each_external_set(domain, split):
    m = build_manifest(small_recipe(domain))
    record = m["evaluation_sets"][split]
    items = get_domain(domain).eval_examples(split, 8)
    assert (record["n"], record["sha256"], record["kind"]) == (8, qa_digest(items), "external")
    assert record["request"] == {"n": 8, "seed": 0}
    assert record["source"] == get_domain(domain).benchmarks[split.removeprefix("external:")]
    assert record["overlap"]["disjoint"] is True and record["overlap"]["verbatim_in_training"] == 0
    if domain == "coding":
        assert "external:mbpp" in m["evaluation_sets"]["not_checked"]  # Hub only: listed, never waited on


def test_check_manifest_reports_a_changed_or_missing_evaluation_set(tmp_path):
    path = write_manifest(small_recipe("math"), tmp_path)
    assert check_manifest(path) == []
    m = json.loads(path.read_text())
    m["evaluation_sets"]["external:gsm-symbolic"]["sha256"] = "0" * 64
    path.write_text(json.dumps(m))
    assert any(d.startswith("external:gsm-symbolic: sha256 000000000000") for d in check_manifest(path))
    del m["evaluation_sets"]
    path.write_text(json.dumps(m))
    assert any(d.startswith("no evaluation_sets recorded") for d in check_manifest(path))


def test_the_overlap_check_flags_an_evaluation_item_in_training():
    healthcare = get_domain("healthcare")
    leaked = healthcare.eval_examples("external:medcalc", 3)[2]
    training = healthcare.examples("train", 20)
    # the item inside a training text, re-cased and re-spaced: found after normalisation
    training[5] = type(training[5])(
        training[5].id,
        training[5].family,
        training[5].question,
        training[5].answer,
        "Note:\n" + leaked.question.upper().replace(" ", "  "),
    )
    overlap = evaluation_sets_block(healthcare, training, n=3)["external:medcalc"]["overlap"]
    assert overlap["disjoint"] is False and overlap["verbatim_in_training"] == 1
    assert overlap["verbatim_examples"] == [leaked.id]


@pytest.mark.parametrize(
    ("domain", "split"), [("math", "external:gsm-symbolic"), ("healthcare", "external:medcalc")]
)
def test_srmzoo_eval_scores_an_external_split(tmp_path, tiny_base_dir, domain, split):
    from srmzoo.eval.run import run_eval
    from srmzoo.train.stages import train

    recipe = Recipe.from_dict(
        {
            "name": f"{domain}-tiny",
            "domain": domain,
            "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir)},
            "data": {"train_size": 4, "max_length": 384},
            "train": {"batch_size": 4, "max_steps": 1, "save_steps": 100},
        }
    )
    run_dir = tmp_path / recipe.name
    train(recipe, run_dir, progress=False)
    results = run_eval(
        run_dir,
        split=split,
        n=2,
        few_shot=0,
        max_new_tokens=4,
        batch_size=2,
        out_dir=tmp_path / "eval",
        progress=False,
    )
    expected = [e.id for e in get_domain(domain).eval_examples(split, 2)]
    samples = [json.loads(line) for line in Path(results["paths"]["samples"]).read_text().splitlines()]
    assert [s["id"] for s in samples] == expected * 2  # the base zero-shot and the adapter, same items
    assert results["settings"]["split"] == split and f"--split {split}" in results["settings"]["command"]
    assert (tmp_path / "eval" / f"results_{split_slug(split)}.json").is_file()
