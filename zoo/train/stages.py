"""A recipe's stages in order (``sft``, ``rft``, ``grpo``) in one run directory, each resumable: a finished
stage is skipped, an unfinished one continues, and a finished run may take more RFT rounds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..artifacts import (
    RECIPE_FILE,
    STAGES_SUMMARY_FILE,
    TRAIN_SUMMARY_FILE,
    finished_stage,
    stage_summaries,
    write_json,
)
from ..errors import SrmzooError
from ..hardware import describe_hardware
from ..recipe import Recipe, load_yaml
from ..user_data import recipe_domain
from .sft import TrainResult, train_sft

log = logging.getLogger(__name__)


def train(
    recipe: Recipe,
    run_dir: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    callbacks: list[Any] | None = None,
    entry_gguf: Callable[[Path], Path] | None = None,
) -> TrainResult:
    """Run a recipe's stages in order (``sft``, ``rft``, ``grpo``) and return the final adapter.

    SFT writes ``run_dir/adapter`` (with checkpoints, metrics and loss curve in ``run_dir``); RFT rounds
    write ``run_dir/rft/round-<r>/``, GRPO ``run_dir/grpo/``; each starts from the previous stage's
    adapter, the first from ``model.adapter`` in a recipe without an SFT stage. With ``resume`` a finished
    stage is skipped and an unfinished one continues.

    Args:
        recipe: a validated recipe.
        run_dir: the run directory.
        resume: continue an interrupted run in ``run_dir``.
        max_steps: stop each stage's fine-tuning after this many optimizer steps (for smoke runs).
        progress: progress bars with ETA and tokens/s.
        callbacks: extra ``transformers.TrainerCallback`` objects (SFT stage).
        entry_gguf: with ``distill.use`` and a zoo entry as the teacher, how the entry becomes a GGUF for
            llama.cpp (:func:`srmzoo.publish.export.gguf_for`, which this layer may not import); without it
            such a teacher runs on torch.

    With ``distill.use`` the teacher's verified traces are distilled first (into ``distill.out``; finished
    traces are reused, unfinished ones continued) and the SFT stage trains on them
    (:mod:`srmzoo.train.distill`).
    """
    recipe_domain(recipe).check_trace_style(recipe.data.traces, recipe.data.tools)  # before any work
    if recipe.stages == ("sft",) and not recipe.distill.use:
        return train_sft(recipe, run_dir, resume=resume, max_steps=max_steps, progress=progress, callbacks=callbacks)
    from ..store import find_adapter
    from .rft import run_rft

    run_dir = Path(run_dir)
    _prepare_staged_run_dir(recipe, run_dir, resume)
    started = time.perf_counter()
    sft_result: TrainResult | None = None
    traces = traces_info = None
    if recipe.distill.use:  # the SFT stage's data: the teacher's verified traces
        from .distill import distilled_traces

        traces, traces_info = distilled_traces(recipe, progress=progress, entry_gguf=entry_gguf)
    if recipe.stages[0] == "sft":
        if finished_stage(run_dir, TRAIN_SUMMARY_FILE, run_dir / "adapter", resume=True, stage="sft stage") is None:
            has_checkpoint = any((run_dir / "checkpoints").glob("checkpoint-*"))
            sft_result = train_sft(recipe, run_dir, resume=resume and has_checkpoint, max_steps=max_steps,
                                   progress=progress, callbacks=callbacks, check_run_dir=False, traces=traces,
                                   traces_info=traces_info)
        start = run_dir / "adapter"
        if recipe.stages == ("sft",):  # distilled traces, then SFT alone
            return sft_result or _finished_sft(run_dir)
    else:
        start = find_adapter(recipe.model.adapter)
        check_start_adapter(recipe, start)
    final, last = start, {"steps": 0, "train_loss": None, "trained_tokens": 0, "dropped_examples": 0}
    if "rft" in recipe.stages:
        rft = run_rft(recipe, run_dir, final, resume=resume, max_steps=max_steps, progress=progress)
        final, last = rft.adapter_dir, rft.rounds[-1]["train"]
    if "grpo" in recipe.stages:
        from .grpo import run_grpo

        grpo = run_grpo(recipe, run_dir, final, resume=resume, max_steps=max_steps, progress=progress)
        final = grpo.adapter_dir
        last = {"steps": grpo.summary["steps"], "train_loss": grpo.summary["train_loss"], "trained_tokens": 0,
                "dropped_examples": 0}
    summary = {"stages": [s["stage"] for s in stage_summaries(final)],
               "steps": last["steps"], "train_loss": last["train_loss"], "trained_tokens": last["trained_tokens"],
               "seconds": round(time.perf_counter() - started, 1), "hardware": describe_hardware()}
    if sft_result is not None:
        summary["sft_seconds"] = sft_result.summary["seconds"]
    write_json(run_dir / STAGES_SUMMARY_FILE, summary)
    return TrainResult(run_dir, final, last["steps"], last["train_loss"], summary["seconds"],
                       last["trained_tokens"], last["dropped_examples"], summary)


def _finished_sft(run_dir: Path) -> TrainResult:
    """The result of an SFT stage that an earlier run of ``run_dir`` finished."""
    import json

    s = json.loads((run_dir / TRAIN_SUMMARY_FILE).read_text())
    return TrainResult(run_dir, run_dir / "adapter", s["steps"], s["train_loss"], s["seconds"], s["trained_tokens"],
                       s["dropped_examples"], s)


def _prepare_staged_run_dir(recipe: Recipe, run_dir: Path, resume: bool) -> None:
    saved = run_dir / RECIPE_FILE
    if resume:
        if not saved.is_file():
            raise SrmzooError(f"nothing to resume in {run_dir}: no recipe.yaml", hint="start the run without --resume")
        old, new = saved.read_text(), recipe.to_yaml()
        if old != new:
            if not _adds_rft_rounds(old, new):
                raise SrmzooError(f"the recipe differs from the one {run_dir} was started with",
                                  hint=f"resume with the saved recipe: {saved} (only more rft.rounds may be added)")
            log.info("extending %s to rft.rounds=%d: its finished rounds are kept", run_dir, recipe.rft.rounds)
            saved.write_text(new)
        return
    if run_dir.exists() and any(run_dir.iterdir()):
        raise SrmzooError(f"run directory {run_dir} is not empty",
                          hint="pass --resume to continue that run, or --run-dir to start a new one")
    run_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(recipe.to_yaml())


def _adds_rft_rounds(saved_yaml: str, new_yaml: str) -> bool:
    r"""Whether ``new_yaml`` is ``saved_yaml`` with more RFT rounds (and perhaps a new description): each
    round depends only on its predecessor and its own seed, so the finished rounds stay valid.

    >>> _adds_rft_rounds("rft:\n  rounds: 2\n", "rft:\n  rounds: 3\n")
    True
    >>> _adds_rft_rounds("rft:\n  rounds: 2\n  lr: 1.0e-4\n", "rft:\n  rounds: 3\n  lr: 2.0e-4\n")
    False
    """
    old = load_yaml(saved_yaml, source="the run's saved recipe.yaml") or {}
    new = load_yaml(new_yaml, source="the recipe") or {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    old_rounds = (old.get("rft") or {}).get("rounds")
    new_rounds = (new.get("rft") or {}).get("rounds")
    if not isinstance(old_rounds, int) or not isinstance(new_rounds, int) or new_rounds <= old_rounds:
        return False
    for d in (old, new):
        d.pop("description", None)
        d["rft"].pop("rounds")
    return old == new


def check_start_adapter(recipe: Recipe, adapter_dir: Path) -> None:
    """``model.adapter`` must be an adapter of this recipe's domain on this recipe's base (by name: the
    weights are checked by hash when the adapter loads, from ``model.path`` if the recipe gives one)."""
    from ..artifacts import read_adapter_meta
    from ..bases import get_base_spec

    meta = read_adapter_meta(adapter_dir)  # a clear error for a directory that is not an srmzoo adapter
    if meta.get("domain") != recipe.domain:
        raise SrmzooError(f"model.adapter {recipe.model.adapter} is a {meta.get('domain')!r} adapter, "
                          f"the recipe is {recipe.domain!r}", hint="name an adapter trained for this domain")
    want = get_base_spec(recipe.model.base).name
    got = meta.get("base", {}).get("name")
    if got != want:
        raise SrmzooError(f"model.adapter {recipe.model.adapter} was trained on {got!r}, the recipe's base is {want!r}",
                          hint=f"set model.base: {got}")
