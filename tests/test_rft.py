"""Rejection-sampling fine-tuning (the ``rft`` stage) on the tiny model: filtering by the verifier, the
adapter moving, stages in one recipe, and resuming an interrupted round."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import toy_domain
from safetensors.torch import load_file

from srmzoo.artifacts import ADAPTER_META_FILE
from srmzoo.domain import Check, Verdict, get_domain
from srmzoo.errors import SrmzooError
from srmzoo.recipe import Recipe
from srmzoo.train.estimate import dry_run
from srmzoo.train.rft import KEPT_FILE, SAMPLES_FILE, kept_completions
from srmzoo.train.stages import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def even_length_check(self, completion, example):
    """A verifier a random tiny model passes about half the time: the completion has an even length."""
    return Check(Verdict.CORRECT if len(completion) % 2 == 0 else Verdict.WRONG, predicted=str(len(completion)))


@pytest.fixture
def parity_verifier(monkeypatch):
    monkeypatch.setattr(toy_domain.ToyAddition, "check", even_length_check)
    # A random tiny model never ends its turn, so every sample would count as cut off at the budget
    # (that filter is tested in test_kept_completions_...); here only the verifier filters.
    monkeypatch.setattr("srmzoo.train.rft._cut_off", lambda tokenizer, completion, max_new_tokens: False)


def rft_recipe(tiny_base_dir, *, stages=("sft", "rft"), adapter=None, **rft) -> Recipe:
    return Recipe.from_dict({
        "name": "toy-rft", "domain": "toy-addition",
        "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir), "adapter": adapter},
        "data": {"train_size": 16, "max_length": 128},
        "train": {"batch_size": 4, "max_steps": 2, "save_steps": 100, "logging_steps": 1, "lr": 1e-2},
        "stages": list(stages),
        "rft": {"problems": 8, "samples": 2, "batch_size": 2, "max_new_tokens": 12, "temperature": 1.0,
                "keep_per_problem": 2, "lr": 1e-2, "train_batch_size": 4, **rft},
    })


def lora(adapter_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(adapter_dir / "adapter_model.safetensors")


def test_kept_completions_follow_the_verifier_and_drop_cut_off_and_repeated_ones():
    records = [
        {"id": "p1", "completions": ["a = 1", "a  =  1", "b", "c"], "verdicts": ["correct", "correct", "wrong", "correct"],
         "truncated": [False, False, False, True]},
        {"id": "p2", "completions": ["x", "y", "z"], "verdicts": ["correct", "unverifiable", "correct"],
         "truncated": [False, False, False]},
        {"id": "p3", "completions": ["q"], "verdicts": ["wrong"], "truncated": [False]},
    ]
    assert kept_completions(records, 2) == [
        {"id": "p1", "completion": "a = 1"}, {"id": "p2", "completion": "x"}, {"id": "p2", "completion": "z"},
    ]
    assert [k["completion"] for k in kept_completions(records, 1)] == ["a = 1", "x"]


def test_sft_then_rft_in_one_recipe_trains_on_verified_samples_only(tiny_base_dir, tmp_path, parity_verifier):
    run = tmp_path / "run"
    result = train(rft_recipe(tiny_base_dir), run, progress=False)
    round_dir = run / "rft" / "round-1"
    assert result.adapter_dir == round_dir / "adapter"

    samples = [json.loads(line) for line in (round_dir / SAMPLES_FILE).read_text().splitlines()]
    assert len(samples) == 8 and all(len(s["completions"]) == 2 for s in samples)
    for s in samples:  # every verdict is the verifier's on the saved text
        assert s["verdicts"] == ["correct" if len(c) % 2 == 0 else "wrong" for c in s["completions"]]
    kept = [json.loads(line) for line in (round_dir / KEPT_FILE).read_text().splitlines()]
    assert kept == kept_completions(samples, 2)
    assert kept, "the parity verifier accepts about half of the samples; none kept means the filter is broken"
    assert all(len(k["completion"]) % 2 == 0 for k in kept)

    summary = json.loads((round_dir / "summary.json").read_text())
    assert summary["samples"] == 16 and summary["kept"] == len(kept)
    assert summary["correct_samples"] == sum(v == "correct" for s in samples for v in s["verdicts"])
    assert summary["train"]["examples"] == len(kept) and summary["train"]["steps"] >= 1

    sft, rft = lora(run / "adapter"), lora(result.adapter_dir)
    assert sft.keys() == rft.keys()
    moved = [k for k in sft if not torch.equal(sft[k], rft[k])]
    assert len(moved) == len(sft), "every LoRA tensor should move in the RFT fine-tuning"

    meta = json.loads((result.adapter_dir / ADAPTER_META_FILE).read_text())
    assert [s["stage"] for s in meta["training"]["stages"]] == ["sft", "rft"]
    assert json.loads((run / "stages_summary.json").read_text())["stages"] == ["sft", "rft"]

    # Resuming a finished run redoes nothing.
    again = train(rft_recipe(tiny_base_dir), run, resume=True, progress=False)
    assert again.adapter_dir == result.adapter_dir and torch.equal(
        next(iter(lora(again.adapter_dir).values())), next(iter(rft.values())))


def test_an_interrupted_round_resumes_with_the_same_samples(tiny_base_dir, tiny_run, tmp_path, parity_verifier):
    recipe = rft_recipe(tiny_base_dir, stages=["rft"], adapter=str(tiny_run / "adapter"))
    full = tmp_path / "full"
    train(recipe, full, progress=False)
    lines = (full / "rft" / "round-1" / SAMPLES_FILE).read_text().splitlines()

    # The same run, stopped during sampling: the first chunk (4 problems) saved, the next one torn.
    cut = tmp_path / "cut"
    (cut / "rft" / "round-1").mkdir(parents=True)
    shutil.copy(full / "recipe.yaml", cut / "recipe.yaml")
    (cut / "rft" / "round-1" / SAMPLES_FILE).write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])
    with pytest.raises(SrmzooError, match="not empty"):
        train(recipe, cut, progress=False)
    train(recipe, cut, resume=True, progress=False)
    assert (cut / "rft" / "round-1" / SAMPLES_FILE).read_text().splitlines() == lines


def test_a_finished_run_takes_more_rounds_on_resume_and_nothing_else(tiny_base_dir, tiny_run, tmp_path,
                                                                      parity_verifier):
    adapter = str(tiny_run / "adapter")
    run = tmp_path / "run"
    train(rft_recipe(tiny_base_dir, stages=["rft"], adapter=adapter), run, progress=False)
    round_1 = lora(run / "rft" / "round-1" / "adapter")
    samples_1 = (run / "rft" / "round-1" / SAMPLES_FILE).read_text()

    with pytest.raises(SrmzooError, match="only more rft.rounds may be added"):  # any other change is refused
        train(rft_recipe(tiny_base_dir, stages=["rft"], adapter=adapter, rounds=2, lr=5e-3), run, resume=True,
              progress=False)
    result = train(rft_recipe(tiny_base_dir, stages=["rft"], adapter=adapter, rounds=2), run, resume=True,
                   progress=False)
    assert result.adapter_dir == run / "rft" / "round-2" / "adapter"
    assert (run / "rft" / "round-1" / SAMPLES_FILE).read_text() == samples_1  # round 1 kept, not redone
    assert all(torch.equal(t, lora(run / "rft" / "round-1" / "adapter")[k]) for k, t in round_1.items())
    assert "rounds: 2" in (run / "recipe.yaml").read_text()
    summary = json.loads((run / "rft" / "round-2" / "summary.json").read_text())
    assert summary["samples"] == 16
    with pytest.raises(SrmzooError, match="differs from the one"):  # and no going back to fewer rounds
        train(rft_recipe(tiny_base_dir, stages=["rft"], adapter=adapter, rounds=1), run, resume=True, progress=False)


def test_reference_fallback_trains_unsolved_problems_on_their_reference_solutions(
    tiny_base_dir, tiny_run, tmp_path, monkeypatch
):
    # A verifier that accepts every sample of the round's first two problems and none of the other six.
    solved_ids = {ex.id for ex in get_domain("toy-addition").examples("train", 8, seed=1)[:2]}

    def first_two_only(self, completion, example):
        return Check(Verdict.CORRECT if example.id in solved_ids else Verdict.WRONG, predicted="x")

    monkeypatch.setattr(toy_domain.ToyAddition, "check", first_two_only)
    monkeypatch.setattr("srmzoo.train.rft._cut_off", lambda tokenizer, completion, max_new_tokens: False)
    run = tmp_path / "run"
    recipe = rft_recipe(tiny_base_dir, stages=["rft"], adapter=str(tiny_run / "adapter"), reference_fallback=True)
    result = train(recipe, run, progress=False)
    round_dir = run / "rft" / "round-1"
    samples = [json.loads(line) for line in (round_dir / SAMPLES_FILE).read_text().splitlines()]
    kept = [json.loads(line) for line in (round_dir / KEPT_FILE).read_text().splitlines()]
    sampled = [k for k in kept if "completion" in k]
    references = [k for k in kept if k.get("reference")]
    assert sampled == kept_completions(samples, 2) and {k["id"] for k in sampled} == solved_ids
    assert sorted(k["id"] for k in references) == sorted(s["id"] for s in samples if s["id"] not in solved_ids)
    assert len(references) == 6
    summary = json.loads((round_dir / "summary.json").read_text())
    assert summary["reference_solutions"] == 6
    assert summary["train"]["examples"] == len(sampled) + 6
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()

    # Without the fallback a round that solved nothing has nothing to train on.
    monkeypatch.setattr(toy_domain.ToyAddition, "check", lambda self, c, ex: Check(Verdict.WRONG, predicted="x"))
    with pytest.raises(SrmzooError, match="none of the 16 sampled completions was verified correct"):
        train(rft_recipe(tiny_base_dir, stages=["rft"], adapter=str(tiny_run / "adapter")), tmp_path / "plain",
              progress=False)


def test_rft_recipes_are_checked_before_any_work(tiny_base_dir, tiny_run, tmp_path):
    with pytest.raises(SrmzooError, match="no SFT stage and no model.adapter"):
        rft_recipe(tiny_base_dir, stages=["rft"])
    with pytest.raises(SrmzooError, match="begin with sft"):
        rft_recipe(tiny_base_dir, adapter=str(tiny_run / "adapter"))
    with pytest.raises(SrmzooError, match="rft.samples must be at least 1"):
        rft_recipe(tiny_base_dir, samples=0)
    missing = rft_recipe(tiny_base_dir, stages=["rft"], adapter="no-such-entry")
    with pytest.raises(SrmzooError, match="no adapter for 'no-such-entry'"):
        train(missing, tmp_path / "r", progress=False)
    with pytest.raises(SrmzooError, match="no adapter for 'no-such-entry'"):
        dry_run(missing)
    report = dry_run(rft_recipe(tiny_base_dir, stages=["rft"], adapter=str(tiny_run / "adapter")))
    assert report["stages"] == ["rft"] and "steps" not in report
    assert report["rft"]["sampled_completions_per_round"] == 16 and report["rft"]["max_kept_per_round"] == 16
    wrong_domain = Recipe.from_dict({**rft_recipe(tiny_base_dir, stages=["rft"], adapter=str(tiny_run / "adapter"))
                                     .to_dict(), "domain": "math"})
    with pytest.raises(SrmzooError, match="is a 'toy-addition' adapter, the recipe is 'math'"):
        train(wrong_domain, tmp_path / "w", progress=False)
