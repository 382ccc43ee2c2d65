"""Every shipped recipe validates; schema errors are one clear message naming key, file and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srmzoo.cli import main
from srmzoo.domain import get_domain
from srmzoo.errors import SrmzooError
from srmzoo.recipe import Recipe, find_recipe, load_recipe, recipe_paths

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted(p for p in (ROOT / "recipes").rglob("*.yaml") if p.parent.name != "accelerate")


def test_recipes_are_found_recursively_and_installed():
    assert len(RECIPES) >= 6
    assert [p.name for p in recipe_paths()] == [p.name for p in RECIPES]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_validates_and_is_headed_by_its_command(path):
    recipe = load_recipe(path)
    assert recipe.name == path.stem
    first = path.read_text().splitlines()[0]
    assert first == f"# srmzoo train recipes/{path.parent.name}/{path.name}"
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
