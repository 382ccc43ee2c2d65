"""Evaluation results as data: per-family scores, one model's report, the ``results_<split>.json`` file
(schema, resumable partial rows, the command that reproduces a run) and its side-by-side table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..domain import Example

log = logging.getLogger(__name__)


RESULTS_SCHEMA = "srmzoo.eval/1"




@dataclass
class FamilyScore:
    """Accuracy on one data family (first completion per item)."""

    n: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float


@dataclass
class EvalReport:
    """One model's results on one set of items.

    Attributes:
        model: what was evaluated (a base name, or ``<entry> (adapter)``).
        prompting: ``zero-shot``, ``few-shot (k=3)`` or ``adapter``.
        n: items evaluated.
        accuracy: share of items whose greedy completion (with ``samples > 1``: first sample) is correct.
        ci_low, ci_high: 95% Wilson interval of ``accuracy``.
        correct, wrong, unverifiable: verdict counts of those completions.
        families: per-family breakdown of the same.
        samples: completions per item; 1 is greedy decoding.
        pass_at_1: with ``samples > 1``, the mean share of correct samples (unbiased pass@1).
        pass_at_k: with ``samples > 1``, unbiased pass@k for k = ``samples``.
        majority_accuracy: with ``samples > 1``, accuracy of the majority-voted answer.
        verifier_errors: completions whose verifier raised (counted as unverifiable, and logged).
        tools: tools whose calls generation answered (empty: none).
        tool_calls, tool_failures: calls answered, and those the tool could not answer (``?``).
        new_tokens, tokens_per_second, generation_seconds: generation throughput.
        wall_seconds: the whole evaluation, verification included.
        budget: with reasoning budgets (greedy only), accuracy at each budget with budget forcing and
            without (:func:`srmzoo.eval.budget.budget_curve`); None otherwise.
        records: per-item records (id, family, question, gold, completions, predicted, verdicts).
    """

    model: str
    prompting: str
    n: int
    accuracy: float
    ci_low: float
    ci_high: float
    correct: int
    wrong: int
    unverifiable: int
    families: dict[str, FamilyScore]
    samples: int = 1
    temperature: float | None = None
    pass_at_1: float | None = None
    pass_at_k: float | None = None
    majority_accuracy: float | None = None
    majority_ci_low: float | None = None
    majority_ci_high: float | None = None
    verifier_errors: int = 0
    tools: list[str] = field(default_factory=list)
    tool_calls: int = 0
    tool_failures: int = 0
    new_tokens: int = 0
    tokens_per_second: float = 0.0
    generation_seconds: float = 0.0
    wall_seconds: float = 0.0
    budget: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_dict(self, *, records: bool = False) -> dict[str, Any]:
        """The report as JSON-ready data; per-item records only when asked (they go to the samples file)."""
        data = asdict(self)
        if not records:
            data.pop("records")
        return data


def items_digest(examples: Sequence[Example]) -> tuple[str, str]:
    """(sha256 of the item ids, sha256 of ids + questions + gold answers): which items, and what they said."""
    ids = hashlib.sha256("\n".join(e.id for e in examples).encode()).hexdigest()
    content = hashlib.sha256(
        json.dumps([[e.id, e.question, e.answer] for e in examples], ensure_ascii=False).encode()
    ).hexdigest()
    return ids, content


def reproduce_command(target: str, settings: dict[str, Any]) -> str:
    """The ``srmzoo eval`` command line that repeats a run with these settings."""
    argv = ["srmzoo", "eval", target]
    for flag, key in (
        ("--split", "split"),
        ("--n", "n_requested"),
        ("--seed", "seed"),
        ("--few-shot", "few_shot"),
        ("--max-new-tokens", "max_new_tokens"),
        ("--batch-size", "batch_size"),
        ("--samples", "samples"),
    ):
        argv += [flag, str(settings[key])]
    if settings["samples"] > 1:
        argv += ["--temperature", str(settings["temperature"])]
    if settings.get("budgets"):
        argv += ["--budgets", ",".join(map(str, settings["budgets"]))]
    argv += ["--compare", *settings["compare"]]  # bare: none (the recipe's default would add some)
    argv += ["--compare-adapter", *(a["name"] for a in settings.get("compare_adapters", []))]
    if settings["base_path"]:
        argv += ["--base-path", settings["base_path"]]
    if not settings["include_base"]:
        argv.append("--no-base")
    if not settings.get("tool_ablation", True):
        argv.append("--no-tool-ablation")
    if settings["allow_base_mismatch"]:
        argv.append("--allow-base-mismatch")
    return shlex.join(argv)


def read_partial(path: Path, key: str) -> tuple[dict[tuple[str, str], EvalReport], dict[str, Any]]:
    """The rows an interrupted :func:`run_eval` finished (and the compared bases' identities), if it ran on
    the same adapter, items and settings."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}, {}
    if data.get("key") != key:
        return {}, {}
    finished = {}
    for row in data.get("reports", []):
        row = dict(row)
        row["families"] = {k: FamilyScore(**v) for k, v in row["families"].items()}
        report = EvalReport(**row)
        finished[report.model, report.prompting] = report
    return finished, data.get("compare_bases", {})


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so no reader sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def format_results_table(results: dict[str, Any]) -> str:
    """The side-by-side table of a :func:`run_eval` result: model, prompting, accuracy, 95% CI, n.

    >>> row = {"model": "smollm2-135m-instruct", "prompting": "zero-shot", "accuracy": 0.25, "ci_low": 0.1,
    ...        "ci_high": 0.47, "n": 20, "samples": 1, "tokens_per_second": 150.0}
    >>> print(format_results_table({"reports": [row]}))
    model                  prompting  accuracy  95% CI        n   tok/s
    ---------------------  ---------  --------  ------------  --  -----
    smollm2-135m-instruct  zero-shot  25.0%     [10.0, 47.0]  20  150
    """
    reports = results["reports"]
    sampled = any(r.get("samples", 1) > 1 for r in reports)
    header = ["model", "prompting", "accuracy", "95% CI", "n"]
    if sampled:
        header += ["pass@1", "pass@k", "majority"]
    header.append("tok/s")
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    rows = []
    for r in reports:
        row = [
            r["model"],
            r["prompting"],
            pct(r["accuracy"]),
            f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]",
            str(r["n"]),
        ]
        if sampled:
            row += [pct(r.get("pass_at_1")), pct(r.get("pass_at_k")), pct(r.get("majority_accuracy"))]
        row.append(f"{r['tokens_per_second']:.0f}")
        rows.append(row)
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
