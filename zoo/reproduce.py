"""``srmzoo reproduce``: re-run the evaluation a model card reports and compare, figure by figure.

The committed ``model_cards/<entry>/results_<split>.json`` records the items (their sha256), the settings
and every model's accuracy with its 95% Wilson interval. Reproducing re-runs :func:`run_eval` with those
settings on the entry's adapter (the local store's, or with ``train=True`` a freshly trained one) and
calls a figure *outside* when the new accuracy falls outside the committed interval.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SrmzooError

__all__ = ["Comparison", "ReproduceReport", "compare_results", "reproduce"]


@dataclass(frozen=True)
class Comparison:
    split: str
    model: str
    prompting: str
    expected: float
    ci_low: float
    ci_high: float
    got: float | None
    got_ci: tuple[float, float] | None

    @property
    def inside(self) -> bool:
        return self.got is not None and self.ci_low - 1e-9 <= self.got <= self.ci_high + 1e-9


@dataclass
class ReproduceReport:
    entry: str
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def outside(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.inside]

    def table(self) -> str:
        rows = [["split", "model", "prompting", "expected (95% CI)", "got (95% CI)", ""]]
        for c in self.comparisons:
            got = "missing" if c.got is None else f"{100 * c.got:.1f}% ({100 * c.got_ci[0]:.1f}-{100 * c.got_ci[1]:.1f})"
            rows.append([
                c.split, c.model, c.prompting,
                f"{100 * c.expected:.1f}% ({100 * c.ci_low:.1f}-{100 * c.ci_high:.1f})",
                got, "ok" if c.inside else "OUTSIDE",
            ])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def compare_results(expected: dict[str, Any], got: dict[str, Any]) -> list[Comparison]:
    """Pair each committed report with the new one of the same model and prompting.

    >>> e = {"settings": {"split": "test"}, "reports": [
    ...     {"model": "m", "prompting": "adapter", "accuracy": 0.5, "ci_low": 0.4, "ci_high": 0.6}]}
    >>> g = {"settings": {"split": "test"}, "reports": [
    ...     {"model": "m", "prompting": "adapter", "accuracy": 0.7, "ci_low": 0.6, "ci_high": 0.8}]}
    >>> [c.inside for c in compare_results(e, g)]
    [False]
    """
    new = {(r["model"], r["prompting"]): r for r in got["reports"]}
    out = []
    for r in expected["reports"]:
        match = new.get((r["model"], r["prompting"]))
        out.append(
            Comparison(
                split=expected["settings"]["split"],
                model=r["model"],
                prompting=r["prompting"],
                expected=r["accuracy"],
                ci_low=r["ci_low"],
                ci_high=r["ci_high"],
                got=None if match is None else match["accuracy"],
                got_ci=None if match is None else (match["ci_low"], match["ci_high"]),
            )
        )
    return out


def reproduce(
    entry: str, *, train: bool = False, splits: list[str] | None = None, run_dir: str | Path = "runs/reproduce"
) -> ReproduceReport:
    """Re-run an entry's committed evaluation(s) and compare with the card's figures.

    Raises:
        SrmzooError: an unknown entry, no committed results, or results evaluated on different items than
            the current generators produce (the data changed: re-evaluate and re-render the card).
    """
    from .eval.run import run_eval
    from .registry import card_dir, get_entry

    zoo_entry = get_entry(entry)
    committed = {}
    for split in splits or zoo_entry.committed_splits():
        results = zoo_entry.results(split)
        if results is not None:
            committed[split] = results
    if not committed:
        raise SrmzooError(
            f"{entry} has no committed results in {card_dir(entry)}",
            hint=f"evaluate it (srmzoo eval {entry}) and render its card (srmzoo card {entry})",
        )
    target: str | Path = entry
    if train:
        from .train.stages import train as run_training

        run = Path(run_dir) / entry  # the local store's copy is left as it is
        run_training(zoo_entry.recipe, run, progress=True)
        target = run / "adapter"
    report = ReproduceReport(entry)
    for split, expected in committed.items():
        s = expected["settings"]
        with tempfile.TemporaryDirectory() as tmp:
            got = run_eval(
                target,
                split=split,
                n=s["n_requested"],
                samples=s["samples"],
                temperature=s["temperature"],
                few_shot=s["few_shot"],
                max_new_tokens=s["max_new_tokens"],
                batch_size=s["batch_size"],
                compare=s["compare"],
                include_base=s["include_base"],
                seed=s["seed"],
                out_dir=tmp,
            )
        if got["settings"]["items_sha256"] != s["items_sha256"]:
            raise SrmzooError(
                f"the {split} items differ from the ones {entry}'s card was evaluated on (the generators changed)",
                hint=f"re-evaluate ({s.get('command', 'srmzoo eval ' + entry)}) and re-render the card",
            )
        report.comparisons += compare_results(expected, got)
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / f"{entry}-reproduce.json").write_text(
        json.dumps([c.__dict__ for c in report.comparisons], indent=2, default=list) + "\n"
    )
    return report
