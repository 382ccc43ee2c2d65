"""GRPO on verifiable rewards (the ``grpo`` stage, TRL's GRPOTrainer) on the tiny model: rewards by name and
weight, LoRA parameters moving, logs and the reward curve, and recipe checks."""

from __future__ import annotations

import json

import pytest
import torch
import toy_domain  # noqa: F401  (registers "toy-addition")
from safetensors.torch import load_file

from srmzoo.artifacts import ADAPTER_META_FILE
from srmzoo.domain import get_reward, register_reward, reward_names
from srmzoo.errors import SrmzooError
from srmzoo.recipe import Recipe
from srmzoo.train.stages import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@register_reward("toy_even_length")
def toy_even_length(completions, **columns):
    """1.0 for a completion of even length: a reward a random tiny model earns about half the time."""
    return [1.0 if len(c) % 2 == 0 else 0.0 for c in completions]


def grpo_recipe(tiny_base_dir, adapter, **grpo) -> Recipe:
    return Recipe.from_dict({
        "name": "toy-grpo", "domain": "toy-addition",
        "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir), "adapter": str(adapter)},
        "stages": ["grpo"],
        "grpo": {"steps": 2, "problems": 8, "num_generations": 2, "batch_size": 4, "max_completion_length": 8,
                 "temperature": 1.0, "rewards": ["toy_even_length", "brevity"], "reward_weights": [1.0, 0.1],
                 "lr": 1e-2, "warmup_steps": 0, "save_steps": 100,
                 # a random tiny model never ends its turn: every completion is cut off at the budget
                 "mask_truncated_completions": False, **grpo},
    })


def test_domain_rewards_score_strings():
    assert {"math_correct", "math_format", "science_correct", "healthcare_correct", "coding_correct",
            "brevity"} <= set(reward_names())
    assert get_reward("math_correct")(["so \\boxed{3/4}", "\\boxed{1}", "none"], answer=["0.75", "2", "2"]) == [
        1.0, 0.0, None]
    assert get_reward("brevity")(["", "x" * 800]) == [1.0, 0.0]


def test_two_grpo_steps_move_every_lora_parameter_and_log_rewards(tiny_base_dir, tiny_run, tmp_path):
    start = tiny_run / "adapter"
    run = tmp_path / "run"
    result = train(grpo_recipe(tiny_base_dir, start), run, progress=False)
    assert result.adapter_dir == run / "grpo" / "adapter"
    before, after = load_file(start / "adapter_model.safetensors"), load_file(result.adapter_dir / "adapter_model.safetensors")
    assert before.keys() == after.keys()
    moved = [k for k in before if not torch.equal(before[k], after[k])]
    assert len(moved) == len(before), f"LoRA tensors that did not move: {set(before) - set(moved)}"

    rows = [json.loads(x) for x in (run / "grpo" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "reward" in r]
    assert [r["step"] for r in steps] == [1, 2]
    for r in steps:
        assert 0.0 <= r["rewards/toy_even_length/mean"] <= 1.0 and 0.0 <= r["rewards/brevity/mean"] <= 1.0
        weighted = r["rewards/toy_even_length/mean"] + 0.1 * r["rewards/brevity/mean"]
        assert r["reward"] == pytest.approx(weighted, abs=1e-5)
        assert 0 < r["completions/mean_length"] <= 8
    assert (run / "reward_curve.png").stat().st_size > 0 and (run / "grpo" / "reward_curve.png").is_file()
    summary = json.loads((run / "grpo_summary.json").read_text())
    assert summary["steps"] == 2 and summary["completions"] == 8
    assert summary["rewards"] == {"toy_even_length": 1.0, "brevity": 0.1}
    meta = json.loads((result.adapter_dir / ADAPTER_META_FILE).read_text())
    assert [s["stage"] for s in meta["training"]["stages"]] == ["sft", "grpo"]


def test_grpo_recipes_are_checked(tiny_base_dir, tiny_run, tmp_path):
    adapter = tiny_run / "adapter"
    with pytest.raises(SrmzooError, match="name at least one reward"):
        grpo_recipe(tiny_base_dir, adapter, rewards=[])
    with pytest.raises(SrmzooError, match="2 weights for 1 rewards"):
        grpo_recipe(tiny_base_dir, adapter, rewards=["brevity"], reward_weights=[1, 2])
    with pytest.raises(SrmzooError, match="multiple of grpo.num_generations"):
        grpo_recipe(tiny_base_dir, adapter, batch_size=5)
    with pytest.raises(SrmzooError, match=r"grpo.rewards: unknown reward 'math_corect'.*math_correct"):
        train(grpo_recipe(tiny_base_dir, adapter, rewards=["math_corect"], reward_weights=[]), tmp_path / "r",
              progress=False)


def test_a_recipe_model_path_is_where_the_start_adapters_base_loads_from(tiny_base_dir, tiny_run, tmp_path,
                                                                          monkeypatch):
    """Seen on a GPU machine: a base given only as ``model.path`` (no registry source there) must serve the
    stage's checks and the start adapter, not the adapter's recorded origin or the registry."""
    import shutil

    import srmzoo.bases

    start = tmp_path / "moved-adapter"
    shutil.copytree(tiny_run / "adapter", start)
    meta = json.loads((start / ADAPTER_META_FILE).read_text())
    meta["base"]["origin"] = "dir:/no/such/base/any/more"
    (start / ADAPTER_META_FILE).write_text(json.dumps(meta))
    real_resolve = srmzoo.bases.resolve_base

    def resolve_only_explicit_paths(name, *, path=None, revision=None):
        if path is None:
            raise SrmzooError(f"base {name!r} is not available here")
        return real_resolve(name, path=path, revision=revision)

    monkeypatch.setattr(srmzoo.bases, "resolve_base", resolve_only_explicit_paths)
    result = train(grpo_recipe(tiny_base_dir, start, steps=1, problems=4), tmp_path / "run", progress=False)
    assert json.loads((result.adapter_dir / ADAPTER_META_FILE).read_text())["training"]["stages"][-1]["stage"] == "grpo"
