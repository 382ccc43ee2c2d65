"""Data manifests: deterministic, honest about overlap, reproducible, and loud when the data changed."""

from __future__ import annotations

import hashlib
import json

import pytest

from srmzoo.cli import main
from srmzoo.domain import domain_names, get_domain
from srmzoo.errors import SrmzooError
from srmzoo.publish.manifests import (
    SCHEMA,
    build_manifest,
    check_manifest,
    manifest_dir,
    manifest_paths,
    split_digest,
    write_manifest,
)
from srmzoo.recipe import Recipe, find_recipe, load_recipe


def small_recipe(domain: str = "math", **data) -> Recipe:
    return Recipe.from_dict({
        "name": f"tiny-{domain}", "domain": domain, "model": {"base": "smollm2"},
        "data": {"train_size": 40, **data}, "eval": {"n": 12, "splits": ["test", "ood"]},
    })


def without_created(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k != "created"}


def test_two_builds_are_identical_but_for_the_timestamp():
    first, second = build_manifest(small_recipe()), build_manifest(small_recipe())
    assert first["schema"] == SCHEMA
    assert without_created(first) == without_created(second)
    assert {s: r["sha256"] for s, r in first["splits"].items()} == {
        s: r["sha256"] for s, r in second["splits"].items()
    }


def test_the_digest_changes_with_the_data_seed():
    a, b = build_manifest(small_recipe()), build_manifest(small_recipe(seed=1))
    assert a["splits"]["train"]["sha256"] != b["splits"]["train"]["sha256"]
    assert a["splits"]["test"]["sha256"] == b["splits"]["test"]["sha256"]  # eval items do not follow data.seed


def test_manifest_records_what_training_and_eval_draw():
    recipe = small_recipe(families=["fractions", "percentages"])
    m = build_manifest(recipe)
    math = get_domain("math")
    train = math.examples("train", 40, seed=0, families=["fractions", "percentages"])
    assert m["splits"]["train"]["sha256"] == split_digest(train)
    assert m["splits"]["train"]["families"] == {"fractions": 20, "percentages": 20}
    assert m["splits"]["ood"]["sha256"] == split_digest(math.examples("ood", 12, seed=0))
    assert m["splits"]["test"]["request"] == {"n": 12, "seed": 0, "families": None}
    assert m["generator"]["domain_class"] == "srmzoo.domains.math.domain.MathDomain"
    assert m["how_splits_are_disjoint"] == math.split_policy


def test_digest_is_the_sha256_of_the_canonical_jsonl(tmp_path):
    examples = get_domain("healthcare").examples("test", 5)
    path = tmp_path / "test.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(e.to_dict(), sort_keys=True, ensure_ascii=False) + "\n")
    assert split_digest(examples) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_math_splits_are_reported_disjoint():
    m = build_manifest(small_recipe(train_size=200))
    for split in ("test", "ood"):
        overlap = m["overlap"][split]
        assert overlap["disjoint"] is True
        assert overlap["exact_duplicate_questions"] == 0
        assert overlap["near_duplicate_threshold"] == 0.9


def test_overlap_detects_a_shared_question():
    from srmzoo.publish.manifests import _overlap

    # a split against itself: every question is an exact duplicate, so the check can fail
    examples = get_domain("math").examples("test", 12)
    leaked = _overlap(examples, examples)
    assert leaked["disjoint"] is False and leaked["exact_duplicate_questions"] == 12


def test_every_domain_states_how_its_splits_are_disjoint():
    shipped = [n for n in domain_names() if type(get_domain(n)).__module__.startswith("srmzoo.domains.")]
    assert {"math", "science", "healthcare", "coding"} <= set(shipped)
    for name in shipped:  # test-only domains (toy-addition) need not say
        assert len(get_domain(name).split_policy) > 40, name


def test_committed_manifests_reproduce():
    paths = manifest_paths()
    assert paths, "no manifests under data_manifests/: run `srmzoo data manifest RECIPE`"
    for path in paths:
        assert check_manifest(path) == [], path.name


def test_committed_manifests_cover_the_135m_entries_and_their_recipes():
    names = {p.stem for p in manifest_paths()}
    assert {"math-135m", "science-135m", "medical-135m", "coding-135m"} <= names
    for name in names:
        recipe = load_recipe(find_recipe(name))
        m = json.loads((manifest_dir() / f"{name}.json").read_text())
        assert m["splits"]["train"]["n"] == recipe.data.train_size
        assert {s: m["splits"][s]["n"] for s in recipe.eval.splits} == dict.fromkeys(recipe.eval.splits, recipe.eval.n)
        assert all(o["disjoint"] for o in m["overlap"].values()), name


def test_tampered_manifest_reports_each_difference(tmp_path):
    path = write_manifest(small_recipe(), tmp_path)
    assert check_manifest(path) == []
    m = json.loads(path.read_text())
    m["splits"]["test"]["sha256"] = "0" * 64
    m["splits"]["ood"]["n"] = 11
    m["generator"]["data_version"] = "0"
    path.write_text(json.dumps(m))
    differences = check_manifest(path)
    assert len(differences) == 3
    assert any(d.startswith("test: sha256 000000000000") for d in differences)
    assert any(d.startswith("ood: n 11 recorded, 12 generated") for d in differences)
    assert any("data_version" in d for d in differences)


def test_stale_manifest_of_a_shipped_entry_reports_the_recipe_change(tmp_path):
    recipe = load_recipe(find_recipe("math-135m"), ["data.train_size=10", "eval.n=4"])
    path = write_manifest(recipe, tmp_path)
    (difference,) = check_manifest(path)
    assert difference.startswith("recipe math-135m now asks for other data")
    assert "srmzoo data manifest recipes/math/math-135m.yaml" in difference


@pytest.mark.parametrize("bad", ["math-13m", "no/such/recipe.yaml"])
def test_unknown_recipe_is_an_srmzoo_error(bad):
    with pytest.raises(SrmzooError):
        build_manifest(bad)


def test_bad_manifest_files_are_srmzoo_errors(tmp_path):
    with pytest.raises(SrmzooError, match="manifest not found"):
        check_manifest(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(SrmzooError, match="not valid JSON"):
        check_manifest(tmp_path / "broken.json")
    (tmp_path / "other.json").write_text('{"schema": "something-else"}')
    with pytest.raises(SrmzooError, match="not a srmzoo.data-manifest/1 manifest"):
        check_manifest(tmp_path / "other.json")


def test_cli_writes_checks_and_fails_on_a_difference(tmp_path, capsys):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(small_recipe().to_yaml())
    assert main(["data", "manifest", str(recipe), "--out-dir", str(tmp_path / "out")]) == 0
    path = tmp_path / "out" / "tiny-math.json"
    assert json.loads(path.read_text())["command"] == f"srmzoo data manifest {recipe}"
    assert main(["data", "check", str(path)]) == 0
    m = json.loads(path.read_text())
    m["splits"]["train"]["sha256"] = "f" * 64
    path.write_text(json.dumps(m))
    capsys.readouterr()
    assert main(["data", "check", str(path)]) == 1
    assert "train: sha256 ffffffffffff" in capsys.readouterr().out
    assert main(["data", "manifest", "math-13m"]) == 2  # unknown entry: one-line error, exit 2
