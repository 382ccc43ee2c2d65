"""GRPO with verifiable rewards on the LoRA adapter: the ``grpo`` recipe stage, through TRL's ``GRPOTrainer``.

The stage continues the adapter of the previous stage (SFT, RFT, or ``model.adapter``): for each step,
``grpo.batch_size`` completions are sampled (``grpo.num_generations`` per problem, a group) for
training-split problems rendered exactly as inference renders them, scored by the reward functions the
recipe names (the domains' verifiers, registered as ``<domain>_correct``, ``<domain>_format``, ...) with
their weights, and the LoRA weights take a policy-gradient step on the group-normalised advantages.

What is logged per step (``run_dir/grpo/metrics.jsonl``, drawn as ``reward_curve.png``): the weighted
reward, each reward function's mean, completion lengths, the share of completions cut off at the budget,
and the KL to the reference when ``grpo.beta > 0`` (the reference is the base with the adapter switched
off, as TRL does for PEFT models; ``beta: 0``, TRL's default, needs no reference pass).

Entries whose prompt format calls tools are refused: TRL's generation cannot answer srmzoo's calculator
calls, and training on completions whose calls went unanswered would teach the model to invent results.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..artifacts import (
    GRPO_SUMMARY_FILE,
    LOSS_CURVE_FILE,
    METRICS_FILE,
    REWARD_CURVE_FILE,
    finished_stage,
    read_jsonl,
    write_json,
)
from ..domain import get_reward
from ..errors import SrmzooError, UnknownNameError
from ..plots import figure
from ..recipe import Recipe
from ..user_data import recipe_domain

__all__ = ["GrpoResult", "plot_reward_curve", "run_grpo"]

log = logging.getLogger(__name__)

GRPO_DIR = "grpo"


@dataclass
class GrpoResult:
    adapter_dir: Path
    summary: dict[str, Any]


def reward_functions(names: tuple[str, ...]) -> list[Any]:
    """The registered reward functions, by name; an unknown name lists the close ones."""
    funcs = []
    for name in names:
        try:
            funcs.append(get_reward(name))
        except UnknownNameError as err:
            raise SrmzooError(f"grpo.rewards: {err.message}", hint=err.hint) from None
    return funcs


def plot_reward_curve(grpo_dir: Path) -> Path | None:
    """``reward_curve.png``: the weighted reward and each reward function's mean per step, and the mean
    completion length on a second axis."""
    rows = [r for r in read_jsonl(grpo_dir / METRICS_FILE) if "reward" in r]
    if not rows:
        return None
    steps = [r["step"] for r in rows]
    out = grpo_dir / REWARD_CURVE_FILE
    with figure(out, figsize=(6.5, 3.8)) as (_, ax):
        ax.plot(steps, [r["reward"] for r in rows], color="black", lw=2, label="reward (weighted)")
        for key in sorted(k for k in rows[0] if k.startswith("rewards/") and k.endswith("/mean")):
            ax.plot(steps, [r.get(key) for r in rows], lw=1, label=key.removeprefix("rewards/").removesuffix("/mean"))
        ax.set_xlabel("step")
        ax.set_ylabel("reward")
        ax.grid(alpha=0.3)
        length_key = "completions/mean_length"
        if all(length_key in r for r in rows):
            ax2 = ax.twinx()
            ax2.plot(steps, [r[length_key] for r in rows], color="tab:gray", ls="--", alpha=0.7)
            ax2.set_ylabel("mean completion tokens (dashed)")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title(f"{grpo_dir.parent.name}: GRPO rewards")
    return out


def run_grpo(
    recipe: Recipe,
    run_dir: str | Path,
    start_adapter: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
) -> GrpoResult:
    """Run the recipe's GRPO stage from ``start_adapter``; writes ``run_dir/grpo/`` (checkpoints, metrics,
    reward curve, summary, ``adapter/``). A finished stage is skipped; an interrupted one resumes from its
    newest checkpoint when ``resume`` is set."""
    import torch
    from trl import GRPOConfig, GRPOTrainer

    from ..artifacts import load_adapter, save_adapter, stage_history
    from ..hardware import describe_hardware, use_bf16
    from .sft import continue_training, metrics_callback, plot_loss_curve, tracker_args

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise SrmzooError("the grpo stage runs in one process here", hint="run it without torchrun/accelerate launch")
    cfg = recipe.grpo
    run_dir = Path(run_dir)
    grpo_dir = run_dir / GRPO_DIR
    adapter_dir = grpo_dir / "adapter"
    done = finished_stage(grpo_dir, GRPO_SUMMARY_FILE, adapter_dir, resume=resume, stage="grpo stage")
    if done is not None:
        return GrpoResult(adapter_dir, done)
    checkpoints = grpo_dir / "checkpoints"
    has_checkpoint = any(checkpoints.glob("checkpoint-*"))
    grpo_dir.mkdir(parents=True, exist_ok=True)
    rewards = reward_functions(cfg.rewards)
    started = time.perf_counter()

    model, tokenizer, fmt, meta = load_adapter(start_adapter, base_path=recipe.model.path)
    if fmt.tools:
        raise SrmzooError(
            f"the grpo stage cannot answer tool calls ({', '.join(fmt.tools)}): its completions would carry "
            "unanswered calls",
            hint="use the rft stage for an entry with data.tools, or start grpo from an entry without tools",
        )
    continue_training(model, tokenizer, fmt)
    domain = recipe_domain(recipe)
    dataset = domain.dataset("train", cfg.problems, seed=cfg.seed, families=recipe.data.families,
                             phrasing=recipe.data.phrasing)
    dataset = dataset.map(lambda row: {"prompt": fmt.render(tokenizer, fmt.messages(row["question"]))})

    args = GRPOConfig(
        output_dir=str(checkpoints),
        max_steps=max_steps if max_steps is not None else cfg.steps,
        learning_rate=cfg.lr,
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=cfg.warmup_steps,
        per_device_train_batch_size=cfg.batch_size,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature,
        beta=cfg.beta,
        reward_weights=list(cfg.reward_weights) if cfg.reward_weights else None,
        loss_type=cfg.loss_type,
        mask_truncated_completions=cfg.mask_truncated_completions,
        seed=cfg.seed,
        bf16=use_bf16(recipe.train.bf16),
        use_cpu=not torch.cuda.is_available(),
        logging_steps=1,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        **tracker_args(recipe),
        disable_tqdm=not progress,
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=rewards,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[metrics_callback(grpo_dir)],
    )
    output = trainer.train(resume_from_checkpoint=True if resume and has_checkpoint else None)
    seconds = time.perf_counter() - started
    logs = [r for r in trainer.state.log_history if "reward" in r]
    summary = {
        "stage": "grpo",
        "start_adapter": str(start_adapter),
        "steps": trainer.state.global_step,
        "problems": cfg.problems,
        "num_generations": cfg.num_generations,
        "completions": trainer.state.global_step * cfg.batch_size,
        "rewards": dict(zip(cfg.rewards, cfg.reward_weights or [1.0] * len(cfg.rewards), strict=True)),
        "lr": cfg.lr,
        "beta": cfg.beta,
        "train_loss": output.training_loss,
        "reward_first_steps": _mean([r["reward"] for r in logs[:5]]),
        "reward_last_steps": _mean([r["reward"] for r in logs[-5:]]),
        "mean_completion_tokens": _mean([r.get("completions/mean_length") for r in logs]),
        "seconds": round(seconds, 1),
        "hardware": describe_hardware(),
    }
    stages = stage_history(start_adapter, summary)
    save_adapter(trainer.model, tokenizer, fmt, adapter_dir, recipe=recipe, base_identity=meta["base"],
                 summary={**{k: summary[k] for k in ("steps", "train_loss", "seconds")}, "stages": stages},
                 domain=domain)
    write_json(grpo_dir / GRPO_SUMMARY_FILE, summary)
    curve = plot_reward_curve(grpo_dir)
    loss_curve = plot_loss_curve(grpo_dir, trainer.state.log_history)
    if loss_curve is not None and not (run_dir / LOSS_CURVE_FILE).is_file():  # no SFT or RFT curve: the card's
        (run_dir / LOSS_CURVE_FILE).write_bytes(loss_curve.read_bytes())
    # beside the run's other records, so the store and the model card pick them up
    write_json(run_dir / GRPO_SUMMARY_FILE, summary)
    if curve is not None:
        (run_dir / REWARD_CURVE_FILE).write_bytes(curve.read_bytes())
    return GrpoResult(adapter_dir, summary)


def _mean(values: list[Any]) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None
