"""Statistics for evaluation: Wilson intervals, unbiased pass@k, majority votes and paired bootstrap
differences between two models scored on the same items.

Pure functions of verdict lists; importing this module does not import torch.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..domain import Verdict
from .results import EvalReport, FamilyScore

log = logging.getLogger(__name__)


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (95% at the default ``z``).

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0/n or n/n, which is
    where small models on hard held-out sets live. With no items at all nothing is known: (0, 1).

    Args:
        correct: number of successes.
        n: number of trials.
        z: the normal quantile (1.96 for 95%).

    Raises:
        ValueError: when ``correct`` is not within ``[0, n]``.

    >>> [round(x, 4) for x in wilson_interval(5, 10)]
    [0.2366, 0.7634]
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    if n < 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n, got correct={correct}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct: ``1 - C(n-c, k) / C(n, k)``.

    The chance that at least one of ``k`` samples drawn without replacement from the ``n`` is correct
    (Chen et al., 2021, "Evaluating Large Language Models Trained on Code"). Computed exactly in integers.

    Raises:
        ValueError: unless ``0 <= c <= n`` and ``1 <= k <= n``.

    >>> pass_at_k(5, 1, 1)
    0.2
    >>> pass_at_k(5, 2, 2)
    0.7
    >>> pass_at_k(4, 3, 2)  # fewer than k wrong samples: every draw holds a correct one
    1.0
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def majority_vote(answers: Sequence[str | None]) -> int | None:
    """Index of the first answer of the most frequent kind, or None when no sample gave an answer.

    Answers are compared with all whitespace removed (``"1 / 2"`` votes with ``"1/2"``); samples without
    an answer do not vote; ties go to the answer that occurs first.

    >>> majority_vote(["3", None, " 4", "4 ", "3"])  # 3 and 4 tie twice each; 3 came first
    0
    >>> majority_vote(["7", "1/2", "1 / 2"])
    1
    >>> majority_vote([None, None]) is None
    True
    """
    keys = ["".join(a.split()) if a is not None else None for a in answers]
    counts = Counter(k for k in keys if k is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(i for i, k in enumerate(keys) if k is not None and counts[k] == best)


def family_scores(families: Sequence[str], verdicts: Sequence[Verdict]) -> dict[str, FamilyScore]:
    """Accuracy with its Wilson interval per data family, in the order the families first appear.

    >>> scores = family_scores(["add", "mul", "add"], [Verdict.CORRECT, Verdict.CORRECT, Verdict.WRONG])
    >>> {name: (s.n, s.correct, s.accuracy) for name, s in scores.items()}
    {'add': (2, 1, 0.5), 'mul': (1, 1, 1.0)}
    """
    if len(families) != len(verdicts):
        raise ValueError(f"need one family per verdict, got {len(families)} families and {len(verdicts)} verdicts")
    scores = {}
    for family in dict.fromkeys(families):
        hits = [v for f, v in zip(families, verdicts, strict=True) if f == family]
        correct = sum(v is Verdict.CORRECT for v in hits)
        scores[family] = FamilyScore(len(hits), correct, correct / len(hits), *wilson_interval(correct, len(hits)))
    return scores


def sampling_scores(correct_samples: Sequence[int], votes: Sequence[Verdict], samples: int) -> dict[str, float]:
    """Scores of ``samples`` completions per item: unbiased pass@1 and pass@k (k = ``samples``), and the
    accuracy of the majority-voted answers with its Wilson interval; keyed as :class:`EvalReport`'s fields.

    Args:
        correct_samples: per item, how many of its samples are correct.
        votes: per item, the verdict of its majority-voted answer.
        samples: completions per item.

    >>> scores = sampling_scores([2, 0, 3], [Verdict.CORRECT, Verdict.WRONG, Verdict.CORRECT], 3)
    >>> {k: round(v, 4) for k, v in scores.items()}
    {'pass_at_1': 0.5556, 'pass_at_k': 0.6667, 'majority_accuracy': 0.6667, 'majority_ci_low': 0.2077, 'majority_ci_high': 0.9385}
    """
    n = len(correct_samples)
    if n == 0 or len(votes) != n:
        raise ValueError(f"need one vote per item and at least one item, got {n} items and {len(votes)} votes")
    vote_correct = sum(v is Verdict.CORRECT for v in votes)
    low, high = wilson_interval(vote_correct, n)
    return {
        "pass_at_1": sum(c / samples for c in correct_samples) / n,
        "pass_at_k": sum(pass_at_k(samples, c, samples) for c in correct_samples) / n,
        "majority_accuracy": vote_correct / n,
        "majority_ci_low": low,
        "majority_ci_high": high,
    }


def paired_bootstrap(a: Sequence[bool], b: Sequence[bool], *, resamples: int = 10_000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Accuracy difference ``mean(a) - mean(b)`` on the same items, with a 95% paired bootstrap interval.

    Resampling items (not the two models separately) keeps the pairing, so the interval is much tighter
    than two independent Wilson intervals suggest when both models solve mostly the same items.

    >>> diff, low, high = paired_bootstrap([True] * 30 + [False] * 70, [True] * 20 + [False] * 80)
    >>> round(diff, 2), low > 0, high < 0.2
    (0.1, True, True)
    """
    import numpy as np

    if len(a) != len(b) or not a:
        raise ValueError("paired_bootstrap needs two equally long, non-empty verdict lists")
    delta = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    means = delta[rng.integers(0, len(delta), size=(resamples, len(delta)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(delta.mean()), float(low), float(high)


def paired_differences(reports: Sequence[EvalReport], adapter_label: str, *, seed: int = 0) -> list[dict[str, Any]]:
    """The adapter's row compared item by item with every other row (first completion per item)."""
    mine = next((r for r in reports if r.model == adapter_label and r.prompting == "adapter"), None)
    if mine is None or not mine.records:
        return []
    correct = lambda rep: {rec["id"]: rec["verdicts"][0] == Verdict.CORRECT.value for rec in rep.records}  # noqa: E731
    ours = correct(mine)
    out = []
    for other in reports:
        if other is mine or not other.records:
            continue
        theirs = correct(other)
        ids = [i for i in ours if i in theirs]
        if not ids:
            continue
        diff, low, high = paired_bootstrap([ours[i] for i in ids], [theirs[i] for i in ids], seed=seed)
        out.append({
            "model": other.model, "prompting": other.prompting, "n": len(ids),
            "difference": round(diff, 4), "ci_low": round(low, 4), "ci_high": round(high, 4),
            "only_adapter_correct": sum(ours[i] and not theirs[i] for i in ids),
            "only_other_correct": sum(theirs[i] and not ours[i] for i in ids),
        })
    return out
