"""Rejection-sampling fine-tuning (RFT): the ``rft`` recipe stage.

Self-distillation with a verifier, as in STaR / RFT / ReST: each round

1. samples ``rft.samples`` completions for each of ``rft.problems`` training-split problems from the
   current adapter (the SFT stage's, ``model.adapter``, or the previous round's), the domain's tools
   answering calls as at inference;
2. verifies every completion with the domain's checker (the same one evaluation and RL rewards use) and
   keeps the correct ones that finished within the budget, deduplicated (whitespace-insensitive), at
   most ``rft.keep_per_problem`` per problem;
3. fine-tunes the adapter on the kept completions with the SFT loss (completion tokens only); with
   ``rft.reference_fallback`` the problems it never solved add their reference solutions (the SFT data
   mixed back in, as in RFT/ReST), so a round also teaches what the adapter cannot yet do.

Everything a round does is on disk under ``<run_dir>/rft/round-<r>/``: ``samples.jsonl`` (every
completion with its verdict, appended as generation goes, so an interrupted round resumes where it
stopped), ``kept.jsonl``, trainer checkpoints, ``metrics.jsonl``, ``summary.json`` and the round's
``adapter/``. Sampling is seeded per chunk of problems, so a resumed round samples what an uninterrupted
one would have.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..artifacts import RFT_SUMMARY_FILE, TRAIN_SUMMARY_FILE, finished_stage, read_jsonl, write_json
from ..domain import Domain, Example, Verdict
from ..errors import SrmzooError
from ..prompting import PromptFormat
from ..recipe import Recipe
from ..user_data import recipe_domain

__all__ = ["RftResult", "kept_completions", "run_rft", "sample_and_verify"]

log = logging.getLogger(__name__)

ROUND_SUMMARY = "summary.json"
SAMPLES_FILE = "samples.jsonl"
KEPT_FILE = "kept.jsonl"


@dataclass
class RftResult:
    """What the RFT stage produced: the final adapter and one summary per round."""

    adapter_dir: Path
    rounds: list[dict[str, Any]]
    seconds: float


def _normalise(text: str) -> str:
    return " ".join(text.split())


def kept_completions(records: list[dict[str, Any]], keep_per_problem: int) -> list[dict[str, Any]]:
    """The completions RFT trains on: verified correct, finished within the budget, distinct, capped.

    >>> recs = [{"id": "a", "completions": ["x = 1", "x  = 1", "y", "z"], "verdicts": ["correct"] * 3 + ["wrong"],
    ...          "truncated": [False, False, True, False]}]
    >>> [k["completion"] for k in kept_completions(recs, 2)]
    ['x = 1']
    """
    kept = []
    for rec in records:
        seen: set[str] = set()
        for text, verdict, truncated in zip(rec["completions"], rec["verdicts"], rec["truncated"], strict=True):
            key = _normalise(text)
            if verdict != Verdict.CORRECT.value or truncated or key in seen or not key:
                continue
            seen.add(key)
            kept.append({"id": rec["id"], "completion": text})
            if len(seen) >= keep_per_problem:
                break
    return kept


def _cut_off(tokenizer: Any, completion: str, max_new_tokens: int) -> bool:
    """Whether a completion used the whole budget (so was cut off, even if an answer came before the cut)."""
    return len(tokenizer(completion, add_special_tokens=False)["input_ids"]) >= max_new_tokens - 2


def sample_and_verify(
    model: Any,
    tokenizer: Any,
    prompt_format: PromptFormat,
    domain: Domain,
    problems: list[Example],
    *,
    samples: int,
    temperature: float,
    max_new_tokens: int,
    batch_size: int,
    seed: int,
    out_path: Path,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sample ``samples`` completions per problem, verify each, and append one JSON line per problem.

    Problems already in ``out_path`` (from an interrupted run) are not sampled again. Each chunk of
    problems is sampled under its own seed, so the result does not depend on where a run was interrupted.

    Returns:
        (records in problem order, generation statistics of this call).
    """
    import torch
    from tqdm.auto import tqdm

    from ..backends.hf import GenerationStats, generate
    from ..eval.harness import end_of_answer, verify_completion

    per_batch = max(1, batch_size // samples)
    chunk = per_batch * 4  # problems per saved chunk, each sampled under its own seed
    saved = {r["id"]: r for r in read_jsonl(out_path)}
    done: dict[str, dict[str, Any]] = {}
    for start in range(0, len(problems), chunk):  # only whole chunks count: a torn one is sampled again
        ids = [ex.id for ex in problems[start : start + chunk]]
        if all(i in saved for i in ids):
            done.update((i, saved[i]) for i in ids)
    if out_path.is_file():
        out_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in done.values()))
    stats = GenerationStats()
    todo = {i for i, ex in enumerate(problems) if ex.id not in done}
    if done:
        log.info("resuming sampling: %d of %d problems already sampled in %s", len(done), len(problems), out_path)
    bar = tqdm(total=len(problems), initial=len(problems) - len(todo), desc="rft sampling", unit="problem",
               disable=not progress)
    started = time.perf_counter()
    try:
        for start in range(0, len(problems), chunk):
            idx = [i for i in range(start, min(start + chunk, len(problems))) if i in todo]
            if not idx:
                continue
            torch.manual_seed(seed * 1_000_003 + start)
            batch = [problems[i] for i in idx]
            prompts = [prompt_format.render(tokenizer, prompt_format.messages(ex.question)) for ex in batch]
            outputs = generate(
                model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=per_batch, do_sample=True,
                temperature=temperature, num_return_sequences=samples, stats=stats, tools=prompt_format.tools,
            )
            with out_path.open("a") as f:
                for ex, completions in zip(batch, outputs, strict=True):
                    completions = [end_of_answer(c, prompt_format) for c in completions]
                    verdicts = [verify_completion(domain, c, ex)[0].value for c in completions]
                    truncated = [_cut_off(tokenizer, c, max_new_tokens) for c in completions]
                    rec = {"id": ex.id, "family": ex.family, "completions": completions, "verdicts": verdicts,
                           "truncated": truncated}
                    done[ex.id] = rec
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            bar.update(len(idx))
            bar.set_postfix(tok_s=f"{stats.new_tokens / max(stats.seconds, 1e-9):.0f}")
    finally:
        bar.close()
    records = [done[ex.id] for ex in problems]
    gen = {
        "new_tokens": stats.new_tokens,
        "seconds": round(time.perf_counter() - started, 1),
        "tokens_per_s": round(stats.tokens_per_second, 1),
        "tool_calls": stats.tool_calls,
        "tool_failures": stats.tool_failures,
    }
    return records, gen


def _sampling_summary(records: list[dict[str, Any]], kept: list[dict[str, Any]]) -> dict[str, Any]:
    n_samples = sum(len(r["completions"]) for r in records)
    correct = sum(v == Verdict.CORRECT.value for r in records for v in r["verdicts"])
    solved = sum(any(v == Verdict.CORRECT.value for v in r["verdicts"]) for r in records)
    all_correct = sum(all(v == Verdict.CORRECT.value for v in r["verdicts"]) for r in records)
    families: dict[str, list[int]] = {}
    for r in records:
        f = families.setdefault(r["family"], [0, 0])
        f[0] += sum(v == Verdict.CORRECT.value for v in r["verdicts"])
        f[1] += len(r["verdicts"])
    return {
        "problems": len(records),
        "samples": n_samples,
        "correct_samples": correct,
        "sample_accuracy": round(correct / max(n_samples, 1), 4),
        "problems_solved_at_least_once": solved,
        "problems_solved_every_time": all_correct,
        "truncated_samples": sum(t for r in records for t in r["truncated"]),
        "kept": len(kept),
        "kept_problems": len({k["id"] for k in kept}),
        "sample_accuracy_by_family": {k: round(c / max(t, 1), 4) for k, (c, t) in sorted(families.items())},
    }


def _round_recipe(recipe: Recipe) -> Recipe:
    """The recipe the round's fine-tuning runs with: ``train`` with the ``rft`` learning rate, epochs, batch."""
    r = recipe.rft
    return replace(recipe, train=replace(recipe.train, lr=r.lr, epochs=r.epochs, batch_size=r.train_batch_size,
                                         max_steps=-1))


def _problems(recipe: Recipe, domain: Domain, round_no: int) -> tuple[list[Example], int]:
    """The round's training-split problems, and how many of them the SFT data already had."""
    r = recipe.rft
    problems = domain.training_examples(r.problems, seed=r.seed + round_no - 1, families=recipe.data.families,
                                        phrasing=recipe.data.phrasing)
    sft_questions = {
        ex.question for ex in domain.training_examples(recipe.data.train_size, seed=recipe.data.seed,
                                                       families=recipe.data.families, phrasing=recipe.data.phrasing)
    }
    return problems, sum(ex.question in sft_questions for ex in problems)


def run_rft(
    recipe: Recipe,
    run_dir: str | Path,
    start_adapter: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
) -> RftResult:
    """Run the recipe's RFT rounds from ``start_adapter``; each round's output goes to ``run_dir/rft/round-<r>``.

    A round whose ``adapter/`` and ``summary.json`` exist is skipped; an interrupted one continues (its
    sampling from ``samples.jsonl``, its fine-tuning from the newest checkpoint) when ``resume`` is set.
    """
    from transformers import DataCollatorForSeq2Seq, set_seed

    from ..artifacts import (
        load_adapter,
        merge_for_generation,
        save_adapter,
        stage_history,
    )
    from .sft import (
        completion_only_trainer_class,
        continue_training,
        metrics_callback,
        plot_loss_curve,
        rows_to_dataset,
        tokenize_examples,
        training_args,
    )

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise SrmzooError("the rft stage runs in one process", hint="run it without torchrun/accelerate launch")
    run_dir = Path(run_dir)
    started = time.perf_counter()
    domain = recipe_domain(recipe)
    cfg = recipe.rft
    current = Path(start_adapter)
    rounds: list[dict[str, Any]] = []
    for round_no in range(1, cfg.rounds + 1):
        round_dir = run_dir / "rft" / f"round-{round_no}"
        adapter_dir = round_dir / "adapter"
        done = finished_stage(round_dir, ROUND_SUMMARY, adapter_dir, resume=resume, stage=f"rft round {round_no}")
        if done is not None:
            rounds.append(done)
            current = adapter_dir
            continue
        round_dir.mkdir(parents=True, exist_ok=True)
        round_started = time.perf_counter()
        set_seed(cfg.seed + round_no)
        model, tokenizer, fmt, meta = load_adapter(current, base_path=recipe.model.path)
        problems, seen_in_sft = _problems(recipe, domain, round_no)
        log.info("rft round %d: sampling %d x %d completions from %s", round_no, len(problems), cfg.samples, current)
        merged = merge_for_generation(model)  # sampling at the base's speed; undone before training
        records, gen = sample_and_verify(
            model, tokenizer, fmt, domain, problems, samples=cfg.samples, temperature=cfg.temperature,
            max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, seed=cfg.seed + round_no - 1,
            out_path=round_dir / SAMPLES_FILE, progress=progress,
        )
        if merged:
            model.unmerge_adapter()
        kept = kept_completions(records, cfg.keep_per_problem)
        solved = {k["id"] for k in kept}
        references = [ex for ex in problems if ex.id not in solved] if cfg.reference_fallback else []
        (round_dir / KEPT_FILE).write_text("".join(json.dumps(k, ensure_ascii=False) + "\n" for k in [
            *kept, *({"id": ex.id, "reference": True} for ex in references)]))
        summary = {"round": round_no, "start_adapter": str(current), "problems_also_in_sft_data": seen_in_sft,
                   **_sampling_summary(records, kept), "reference_solutions": len(references), "generation": gen}
        log.info("rft round %d: %d of %d samples correct; %d problems solved at least once; training on %d "
                 "(+ %d reference solutions)", round_no, summary["correct_samples"], summary["samples"],
                 summary["problems_solved_at_least_once"], len(kept), len(references))
        if not kept and not references:
            raise SrmzooError(
                f"rft round {round_no}: none of the {summary['samples']} sampled completions was verified correct",
                hint="RFT needs a model that is sometimes right: train SFT longer, or raise rft.samples",
            )
        by_id = {ex.id: ex for ex in problems}
        examples = [replace(by_id[k["id"]], solution=k["completion"]) for k in kept]
        # The completions already carry their tool calls and results as generated: no annotation.
        rows, dropped = tokenize_examples(examples, tokenizer, fmt, recipe.data.max_length, annotate_tools=False)
        # Unsolved problems' reference solutions are written with their tool calls as SFT writes them.
        ref_rows, ref_dropped = tokenize_examples(references, tokenizer, fmt, recipe.data.max_length, domain=domain,
                                                   traces=recipe.data.traces)
        rows, dropped = rows + ref_rows, dropped + ref_dropped
        continue_training(model, tokenizer, fmt)
        round_recipe = _round_recipe(recipe)
        trainer = completion_only_trainer_class()(
            model=model,
            args=training_args(round_recipe, round_dir, max_steps, progress),
            train_dataset=rows_to_dataset(rows),
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding="longest", pad_to_multiple_of=8,
                                                 label_pad_token_id=-100),
            processing_class=tokenizer,
            callbacks=[metrics_callback(round_dir)],
        )
        has_checkpoint = any((round_dir / "checkpoints").glob("checkpoint-*"))
        output = trainer.train(resume_from_checkpoint=True if resume and has_checkpoint else None)
        summary["train"] = {
            "steps": trainer.state.global_step,
            "train_loss": output.training_loss,
            "trained_tokens": trainer.state.num_input_tokens_seen,
            "examples": len(rows),
            "dropped_examples": dropped,
            "lr": cfg.lr,
            "epochs": cfg.epochs,
        }
        summary["seconds"] = round(time.perf_counter() - round_started, 1)
        stages = stage_history(current, {"stage": "rft", **summary})
        save_adapter(trainer.model, tokenizer, fmt, adapter_dir, recipe=recipe, base_identity=meta["base"],
                     summary={**summary["train"], "seconds": summary["seconds"], "stages": stages}, domain=domain)
        write_json(round_dir / ROUND_SUMMARY, summary)
        curve = plot_loss_curve(round_dir, trainer.state.log_history)
        if curve is not None and not (run_dir / TRAIN_SUMMARY_FILE).is_file():
            (run_dir / "loss_curve.png").write_bytes(curve.read_bytes())  # no SFT stage here: the card's curve
        rounds.append(summary)
        current = adapter_dir
        del model, trainer
    result = RftResult(current, rounds, time.perf_counter() - started)
    (run_dir / RFT_SUMMARY_FILE).write_text(json.dumps(
        {"rounds": rounds, "final_adapter": str(current), "seconds": round(result.seconds, 1)}, indent=2) + "\n")
    return result
