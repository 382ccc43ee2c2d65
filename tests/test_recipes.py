"""Every shipped recipe validates; schema errors are one clear message naming key, file and fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from srmzoo.cli import main
from srmzoo.domain import get_domain
from srmzoo.errors import SrmzooError
from srmzoo.recipe import (
    Recipe,
    apply_overrides,
    find_recipe,
    load_recipe,
    load_yaml,
    recipe_paths,
    recipe_root,
)

ROOT = Path(__file__).resolve().parents[1]
# Walked here independently of recipe_paths(), so that a recipe the package would miss fails the count.
RECIPES = sorted(p for p in (ROOT / "recipes").rglob("*.yaml") if p.relative_to(ROOT / "recipes").parts[0] != "accelerate")
ABLATIONS = [p for p in RECIPES if p.parent.name == "ablations"]
HEADLINE = {"math-135m", "coding-135m", "science-135m-tools", "medical-135m",
            "math-7b", "coding-7b", "science-7b", "medical-7b"}
ABLATION_NAMES = {"math-135m-plain", "math-135m-tools", "math-135m-rft", "math-135m-grpo",
                  "medical-135m-grounded", "medical-135m-grounded-rft", "medical-135m-tools", "medical-135m-tools-rft",
                  "science-135m", "science-135m-rft", "science-135m-grpo",
                  "math-135m-varied", "medical-135m-varied", "medical-135m-varied-general", "coding-135m-varied",
                  "science-135m-tools-varied", "medical-135m-unhinted", "math-135m-distill"}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def shipped(name: str) -> str:
    """The entry's recipe as the repo spells it: ``recipes/<domain>/[ablations/]<entry>.yaml``."""
    return f"recipes/{find_recipe(name).relative_to(recipe_root()).as_posix()}"


def test_recipes_are_found_recursively_and_installed():
    assert len(RECIPES) == 26 and len(ABLATIONS) == 18
    assert {p.stem for p in RECIPES if p not in ABLATIONS} == HEADLINE
    assert {p.stem for p in ABLATIONS} == ABLATION_NAMES
    assert len({p.stem for p in RECIPES}) == len(RECIPES)  # an entry name is one file
    # headline entries directly in recipes/<domain>/, ablations one level down in recipes/<domain>/ablations/
    assert all(len(p.relative_to(ROOT / "recipes").parts) == 2 for p in RECIPES if p not in ABLATIONS)
    assert all(len(p.relative_to(ROOT / "recipes").parts) == 3 for p in ABLATIONS)
    assert [p.relative_to(recipe_root()).as_posix() for p in recipe_paths()] == [
        p.relative_to(ROOT / "recipes").as_posix() for p in RECIPES
    ]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_validates_and_is_headed_by_its_command(path):
    recipe = load_recipe(path)
    assert recipe.name == path.stem
    assert find_recipe(recipe.name) == recipe_root() / path.relative_to(ROOT / "recipes")  # by name, from anywhere
    first = path.read_text().splitlines()[0]
    assert first == f"# srmzoo train {rel(path)}"
    assert get_domain(recipe.domain).name == recipe.domain
    assert Recipe.from_dict(recipe.to_dict()) == recipe  # the resolved form round-trips
    if recipe.domain == "healthcare":
        assert "not for clinical decisions" in recipe.description


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


BASE = "name: x\ndomain: math\nmodel:\n  base: smollm2-135m-instruct\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (BASE + "trian:\n  lr: 1\n", "unknown key trian (did you mean train?)"),
        (BASE + "train:\n  lrr: 0.1\n", "unknown key train.lrr (did you mean lr?)"),
        (BASE + "train:\n  lr: fast\n", "train.lr: expected float, got str 'fast'"),
        (BASE + "train:\n  batch_size: 2.5\n", "train.batch_size: expected int, got float 2.5"),
        (BASE + "lora: 3\n", "lora: expected a mapping of keys, got int"),
        ("name: x\ndomain: math\n", "missing required key model"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_schema_errors_name_the_key_and_the_file(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(SrmzooError) as err:
        load_recipe(path)
    assert message in str(err.value)
    assert str(path) in str(err.value) or "YAML" in message


NO_ALIASES = "write each value out in full: a recipe needs no anchors, and an alias can expand a few bytes into gigabytes"
SHALLOW = "a recipe's sections are at most three levels deep (section, key, list)"


@pytest.mark.parametrize(
    "text, message, hint",
    [
        (BASE + "train: &t\n  lr: 1\n", "line 5: YAML anchors and aliases are not allowed (found &t)", NO_ALIASES),
        (BASE + "data:\n  families: *f\n", "line 6: YAML anchors and aliases are not allowed (found *f)", NO_ALIASES),
        (BASE + "a: &" + "x" * 100 + " 1\n",
         f"line 5: YAML anchors and aliases are not allowed (found &{'x' * 40}... (100 characters))", NO_ALIASES),
        (BASE + "description: " + "[" * 40 + "]" * 40 + "\n", "line 5: YAML nested deeper than 32 levels", SHALLOW),
        (BASE + "description: " + "[" * 100_000 + "\n", "line 5: YAML nested deeper than 32 levels", SHALLOW),
    ],
)
def test_unsafe_yaml_is_refused_with_one_exact_message(tmp_path, text, message, hint):
    path = write(tmp_path, text)
    with pytest.raises(SrmzooError) as err:
        load_recipe(path)
    assert str(err.value).splitlines() == [f"{path}: {message}", f"  hint: {hint}"]


def test_32_levels_of_yaml_are_read_and_33_are_not():
    # levels: the document's mapping, then the value's lists, then the string inside them
    value = "x"
    for _ in range(30):
        value = [value]
    assert load_yaml("description: " + "[" * 30 + "x" + "]" * 30, source="r.yaml") == {"description": value}
    with pytest.raises(SrmzooError) as err:
        load_yaml("description: " + "[" * 31 + "x" + "]" * 31, source="r.yaml")
    assert err.value.message == "r.yaml: line 1: YAML nested deeper than 32 levels"


def test_a_recipe_over_1_mib_is_refused_by_its_size_and_one_not_utf8_by_its_encoding(tmp_path):
    path = write(tmp_path, BASE + "#" * (1 << 20))
    with pytest.raises(SrmzooError) as err:
        load_recipe(path)
    assert str(err.value).splitlines() == [
        f"{path}: {len(BASE) + (1 << 20):,} bytes of YAML, more than the 1,048,576 a recipe may have",
        "  hint: a recipe is a few kilobytes; check that this is the right file",
    ]
    path.write_bytes(BASE.encode() + b"description: \xff\n")
    with pytest.raises(SrmzooError) as err:
        load_recipe(path)
    assert str(err.value).splitlines() == [
        f"{path}: not UTF-8 text (invalid start byte at byte {len(BASE) + len('description: ')})",
        "  hint: a recipe is a YAML text file",
    ]


def test_overrides_refuse_aliases_and_data_that_contains_itself(tmp_path):
    with pytest.raises(SrmzooError) as err:
        load_recipe(write(tmp_path, BASE), ["data.families=&f [*f]"])
    assert str(err.value).splitlines() == [
        "<command line>: override data.families: line 1: YAML anchors and aliases are not allowed (found &f)",
        f"  hint: {NO_ALIASES}",
    ]
    data = {"name": "x", "model": {"base": "smollm2-135m"}}
    data["model"]["again"] = data["model"]
    with pytest.raises(SrmzooError) as err:
        apply_overrides(data, ["train.lr=1e-4"])
    assert str(err.value).splitlines() == [
        "<command line>: recipe data nested deeper than 32 levels (a value that contains itself?)",
        f"  hint: {SHALLOW}",
    ]


def test_a_huge_value_is_quoted_in_at_most_120_characters():
    data = {"name": "x", "domain": "math", "model": {"base": "smollm2-135m-instruct"},
            "description": [[["lol" * 40] * 9] * 9] * 9}  # reprlib alone would quote 13,000 characters
    with pytest.raises(SrmzooError) as err:
        Recipe.from_dict(data, source="r.yaml")
    prefix = "r.yaml: description: expected str, got list "
    assert str(err.value).startswith(prefix + "[[['lollollol")
    assert len(str(err.value)) == len(prefix) + 120 and str(err.value).endswith("...")


def test_unknown_key_lists_allowed_keys(tmp_path):
    with pytest.raises(SrmzooError) as err:
        load_recipe(write(tmp_path, BASE + "train:\n  lrr: 0.1\n"))
    assert "allowed keys in train: method, epochs, max_steps, lr" in str(err.value)


def test_dotted_overrides_apply_and_are_validated(tmp_path):
    path = write(tmp_path, BASE)
    recipe = load_recipe(path, ["train.lr=1e-4", "data.families=[fractions]", "lora.r=8"])
    assert (recipe.train.lr, recipe.data.families, recipe.lora.r) == (1e-4, ("fractions",), 8)
    with pytest.raises(SrmzooError, match="unknown key train.epoch "):
        load_recipe(path, ["train.epoch=2"])
    with pytest.raises(SrmzooError, match="not KEY=VALUE"):
        load_recipe(path, ["train.lr"])


def test_missing_recipe_and_unknown_entry(tmp_path):
    with pytest.raises(SrmzooError, match="recipe not found"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(SrmzooError, match="did you mean: math-135m"):
        find_recipe("math-13m")


def test_a_recipes_old_path_names_where_it_moved(capsys):
    with pytest.raises(SrmzooError) as err:
        find_recipe("recipes/math/math-135m-plain.yaml")
    assert str(err.value).splitlines() == [
        "recipe not found: recipes/math/math-135m-plain.yaml",
        "  hint: math-135m-plain's recipe is recipes/math/ablations/math-135m-plain.yaml (from the repository "
        "root); or pass the entry name math-135m-plain",
    ]
    assert main(["train", "recipes/science/science-135m.yaml", "--dry-run"]) == 2
    assert "recipes/science/ablations/science-135m.yaml" in capsys.readouterr().err


RECIPE_PATH = re.compile(r"recipes/[A-Za-z0-9_./-]+\.ya?ml")
MENTIONS = ["README.md", "docs/*.md", "model_cards/*/README.md", "data_manifests/*.json", "bench/*.py",
            "bench/results/*.json", "recipes/**/*.yaml", "zoo/**/*.py", "domains/**/*.py"]


def test_every_recipe_path_the_repo_mentions_exists():
    """Docs, cards, manifests, benchmarks and recipe comments name recipe files by path: none is stale."""
    mentioned: dict[str, set[str]] = {}
    for pattern in MENTIONS:
        for path in ROOT.glob(pattern):
            for found in RECIPE_PATH.findall(path.read_text(encoding="utf-8")):
                mentioned.setdefault(found, set()).add(rel(path))
    assert {rel(p) for p in RECIPES} <= set(mentioned)  # each recipe's first line names it, at least
    stale = {m: sorted(where) for m, where in mentioned.items() if not (ROOT / m).is_file()}
    assert stale == {}


def test_manifests_and_cards_record_their_recipes_path():
    from srmzoo.publish.manifests import manifest_paths

    manifests = manifest_paths()
    assert {p.stem for p in manifests} >= ABLATION_NAMES
    for path in manifests:
        assert json.loads(path.read_text())["command"] == f"srmzoo data manifest {shipped(path.stem)}"
    cards = sorted(ROOT.glob("model_cards/*/README.md"))
    assert {c.parent.name for c in cards} >= ABLATION_NAMES
    for card in cards:
        assert f"Reproduce: `srmzoo train {shipped(card.parent.name)}` — the recipe:" in card.read_text()


def _stub_start_adapter(store: Path, name: str) -> Path:
    """What the dry run checks of a start adapter: its PEFT config exists, its domain and base are the
    recipe's (the weights are only read by a real run)."""
    from srmzoo.registry import get_entry

    start = get_entry(name)  # model.adapter names a shipped entry
    out = store / name
    out.mkdir(parents=True)
    (out / "adapter_config.json").write_text("{}")
    (out / "srmzoo_adapter.json").write_text(json.dumps({"domain": start.domain, "base": {"name": start.base}}))
    return out


@pytest.mark.parametrize("path", ABLATIONS, ids=lambda p: p.stem)
def test_every_ablation_dry_runs_from_its_path(path, tmp_path, monkeypatch, capsys):
    from srmzoo import store

    # an empty store of its own, but the shared cache: an empty one would convert the base again (40 s)
    monkeypatch.setattr(store, "store_dir", lambda: tmp_path / "zoo")
    recipe = load_recipe(path)
    start = _stub_start_adapter(tmp_path / "zoo", recipe.model.adapter) if recipe.model.adapter else None
    assert main(["-q", "train", str(path), "--dry-run"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["entry"], report["recipe"], report["stages"]) == (recipe.name, str(path), list(recipe.stages))
    if "sft" in recipe.stages:
        assert report["data"]["examples"] > 0
    for stage in ("rft", "grpo"):
        if stage in recipe.stages:
            assert report[stage]["start_adapter"] == str(start)


def test_unknown_base_is_caught_by_dry_run(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("smollm2-135m-instruct", "smollm9"))
    assert main(["train", str(path), "--dry-run"]) == 2
    assert "unknown base 'smollm9'" in capsys.readouterr().err


@pytest.mark.parametrize("entry", ["math-7b", "medical-7b", "science-7b", "coding-7b"])
def test_gpu_recipes_dry_run_offline(entry, capsys):
    assert main(["-q", "train", entry, "data.train_size=300", "--dry-run"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["base"]["name"] == "deepseek-r1-distill-qwen-7b"
    assert 10e6 < report["trainable_params"] < 200e6
    assert 3 < report["memory"]["weights_gb"] < 6  # 7.6B parameters in 4-bit NF4
    assert report["data"]["examples"] > 0 and "A100" in report["time_assumption"]
