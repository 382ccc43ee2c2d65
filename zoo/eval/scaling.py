"""Test-time scaling curves: accuracy as more samples, and so more tokens, are spent per item.

One evaluation that drew ``k`` samples per item (``srmzoo eval ENTRY --samples k``) gives the whole curve
for every ``k' = 1, 2, 4, ..., k`` without generating again, each point an expectation over which ``k'`` of
the ``k`` samples were drawn:

* **majority vote** (self-consistency, Wang et al., 2023): the accuracy of the most frequent final
  answer among ``k'`` samples: what a user of ``Reasoner.solve(samples=k')`` gets. Exact over all
  ``C(k, k')`` subsets when there are at most :data:`EXACT_SUBSETS` of them, else the mean over that many
  seeded random subsets;
* **best-of-k'** where the domain can rank samples without the gold answer
  (:meth:`srmzoo.domain.Domain.select_scores`: code run against the examples its question shows, a
  science answer checked for being well formed, e.g. a SMILES RDKit parses): the
  samples it scores highest, then a vote among them;
* **pass@k'** (unbiased estimator, Chen et al., 2021): the chance that some sample is right, the
  ceiling a perfect answer checker would reach, which the gold answer alone can provide;
* **tokens per item**: ``k'`` times the mean completion length, so curves of entries with long and short
  traces compare on compute spent, not on samples drawn.

Whenever ``samples = k > 1``, :func:`srmzoo.eval.run.run_eval` puts the curves in
``results_<split>_k<k>.json`` (``scaling``; the greedy ``results_<split>.json`` is left alone) and draws
them in ``scaling_<split>_k<k>.png`` beside it; model cards render both.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..plots import figure

__all__ = ["EXACT_SUBSETS", "best_of_n", "curve_ks", "plot_scaling", "scaling_curve", "scaling_curves", "write_scaling_plot"]

EXACT_SUBSETS = 512


def curve_ks(k: int) -> list[int]:
    """The sample counts a curve reports: powers of two below ``k``, then ``k``.

    >>> curve_ks(8), curve_ks(6), curve_ks(1)
    ([1, 2, 4, 8], [1, 2, 4, 6], [1])
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return [*(2**i for i in range(k.bit_length()) if 2**i < k), k]


def _subsets(k: int, size: int, rng: random.Random) -> list[tuple[int, ...]]:
    if math.comb(k, size) <= EXACT_SUBSETS:
        return list(itertools.combinations(range(k), size))
    return [tuple(sorted(rng.sample(range(k), size))) for _ in range(EXACT_SUBSETS)]


def best_of_n(answers: Sequence[str | None], scores: Sequence[float | None] | None = None) -> int | None:
    """Index of the chosen sample: the majority answer among the samples a gold-free selector scores
    highest (all samples when there are no scores), ties to the first; None when none gave an answer.

    >>> best_of_n(["7", "7", "9"])  # no selector: a plain vote
    0
    >>> best_of_n(["7", "7", "9"], [0.0, 0.0, 1.0])  # the selector overrules the crowd
    2
    >>> best_of_n(["7", "7", "9"], [None, None, None])
    0
    """
    from .stats import majority_vote

    kept = list(range(len(answers)))
    if scores is not None and any(x is not None for x in scores):
        top = max(x or 0.0 for x in scores)
        kept = [i for i in kept if (scores[i] or 0.0) == top]
    winner = majority_vote([answers[i] for i in kept])
    return None if winner is None else kept[winner]


def _chosen_correct(answers: Sequence[str | None], scores: Sequence[float | None] | None,
                    correct: Sequence[bool], subset: Sequence[int]) -> bool:
    """Whether the sample :func:`best_of_n` picks from ``subset`` is correct (no scores: a plain vote)."""
    chosen = best_of_n([answers[i] for i in subset], [scores[i] for i in subset] if scores else None)
    return chosen is not None and correct[subset[chosen]]


def scaling_curve(records: Sequence[dict[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Majority-vote accuracy, pass@k' and tokens per item at each ``k'`` of :func:`curve_ks`.

    Args:
        records: per-item records of one model with ``k`` samples each: ``verdicts`` (``"correct"``, ...),
            ``answers`` (the extracted final answers; None where a sample gave none), optionally
            ``vote_keys`` (what the vote counts, :meth:`Domain.vote_key`; else the answers) and
            ``new_tokens`` (tokens generated per sample).
        seed: seeds the random subsets used where exact enumeration is too long.

    Returns:
        ``{"k": [...], "majority": [...], "pass_at_k": [...], "best_of": [...] or None,
        "tokens_per_item": [...] or None, "n": items, "samples": k}``; ``best_of`` where some record has
        ``select_scores`` (a gold-free selector's score per sample, see :meth:`Domain.select_scores`).

    Raises:
        ValueError: no records, or records with different sample counts.

    Two items, three samples each: the first is right twice, the second once, and wrong answers disagree.

    >>> recs = [{"verdicts": ["correct", "wrong", "correct"], "answers": ["4", "5", "4"], "new_tokens": [10, 20, 30]},
    ...         {"verdicts": ["wrong", "correct", "wrong"], "answers": ["1", "2", "3"], "new_tokens": [10, 10, 10]}]
    >>> c = scaling_curve(recs)
    >>> c["k"], [round(x, 3) for x in c["majority"]], [round(x, 3) for x in c["pass_at_k"]], c["tokens_per_item"]
    ([1, 2, 3], [0.5, 0.5, 0.5], [0.5, 0.833, 1.0], [15.0, 30.0, 45.0])
    """
    from .stats import pass_at_k

    if not records:
        raise ValueError("no records to draw a scaling curve from")
    k = len(records[0]["verdicts"])
    if any(len(r["verdicts"]) != k or len(r["answers"]) != k for r in records):
        raise ValueError("every record needs the same number of samples, with one answer per sample")
    rng = random.Random(seed)
    ks = curve_ks(k)
    selected = any(x is not None for r in records for x in r.get("select_scores") or ())
    correct = [[v == "correct" for v in r["verdicts"]] for r in records]
    majority, passing, best = [], [], []
    for size in ks:
        subsets = _subsets(k, size, rng)  # the same draws for every item
        votes = hits = picks = 0.0
        for r, right in zip(records, correct, strict=True):
            keys = r.get("vote_keys") or r["answers"]  # equivalent answers vote together where the domain says so
            votes += sum(_chosen_correct(keys, None, right, s) for s in subsets) / len(subsets)
            hits += pass_at_k(k, sum(right), size)
            if selected:
                picks += sum(_chosen_correct(keys, r.get("select_scores"), right, s) for s in subsets) / len(subsets)
        majority.append(votes / len(records))
        passing.append(hits / len(records))
        best.append(picks / len(records))
    tokens = None
    if all("new_tokens" in r for r in records):
        per_sample = sum(sum(r["new_tokens"]) for r in records) / (len(records) * k)
        tokens = [round(size * per_sample, 1) for size in ks]
    return {"n": len(records), "samples": k, "k": ks, "majority": majority, "pass_at_k": passing,
            "best_of": best if selected else None, "tokens_per_item": tokens}


def plot_scaling(curves: dict[str, dict[str, Any]], path: Path, *, title: str) -> Path:
    """Accuracy against samples per item (left) and tokens per item (right), one line pair per model."""
    with_tokens = any(c["tokens_per_item"] for c in curves.values())
    with figure(path, figsize=(10 if with_tokens else 5.5, 4), dpi=110, ncols=2 if with_tokens else 1) as (fig, axes):
        axes = axes if with_tokens else [axes]
        for i, (label, c) in enumerate(curves.items()):
            color = f"C{i}"
            for ax, xs in zip(axes, [c["k"], c["tokens_per_item"]], strict=False):
                if xs is None:
                    continue
                ax.plot(xs, [100 * m for m in c["majority"]], "o-", color=color, label=f"{label}: majority vote")
                if c.get("best_of"):
                    ax.plot(xs, [100 * b for b in c["best_of"]], "s-.", color=color, label=f"{label}: best-of-k")
                ax.plot(xs, [100 * p for p in c["pass_at_k"]], "o--", color=color, alpha=0.5,
                        label=f"{label}: pass@k (oracle)")
        axes[0].set_xscale("log", base=2)
        axes[0].set_xlabel("samples per item (k)")
        if with_tokens:
            axes[1].set_xscale("log", base=2)
            axes[1].set_xlabel("new tokens per item")
        for ax in axes:
            ax.set_ylabel("accuracy (%)")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.suptitle(title, fontsize=10)
    return path


def scaling_curves(reports: Sequence[Any], *, seed: int = 0) -> dict[str, dict[str, Any]]:
    """The curve of every report of an evaluation that drew more than one sample per item, by
    ``"<model>, <prompting>"``; empty for a greedy evaluation."""
    return {f"{r.model}, {r.prompting}": scaling_curve(r.records, seed=seed) for r in reports if r.samples > 1}


def write_scaling_plot(results: dict[str, Any], out: Path) -> Path | None:
    """``scaling_<split>_k<k>.png`` in ``out`` from the ``scaling`` curves of a results dict (None: no curves)."""
    curves = results.get("scaling") or {}
    if not curves:
        return None
    settings = results["settings"]
    n = next(iter(curves.values()))["n"]
    title = (f"{results['entry']}: {results['domain']}/{settings['split']}, {n} items, "
             f"T={settings['temperature']}, at most {settings['max_new_tokens']} new tokens")
    return plot_scaling(curves, out / f"scaling_{settings['split']}_k{settings['samples']}.png", title=title)
