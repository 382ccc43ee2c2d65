"""Hostile inputs other than programs (a model's tool call, a recipe, a pulled adapter, a request to the
Hub server, ...): each case is an attack, the exact outcome srmzoo must give, and a function that mounts
the attack and returns what happened.

The modules beside this one (``hostile_inputs.py``, ``hostile_hub.py``) each define ``CASES``; the tests
assert ``case.run(tmp_path) == case.expected`` for every case, and

    .venv/bin/python tests/hostile/cases.py --report bench/results/hostile_inputs.md

writes the table of every case from the same code.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASE_MODULES = ("hostile_inputs", "hostile_hub")


@dataclass(frozen=True)
class Case:
    """One hostile input.

    Attributes:
        name: a short id, unique across the modules (``calculator-deep-nesting``).
        area: what it attacks (``calculator``, ``recipe``, ``pull``, ...).
        attack: one line: what the attacker sends or leaves.
        expected: the outcome srmzoo must give, as ``run`` reports it (e.g. ``"tool answer: ?"`` or
            ``"SrmzooError: recipe.yaml uses YAML aliases"``), asserted exactly.
        run: mounts the attack in a fresh temporary directory and returns the observed outcome.
    """

    name: str
    area: str
    attack: str
    expected: str
    run: Callable[[Path], str]


def load_cases() -> list[Case]:
    """Every case of the modules in :data:`CASE_MODULES` that exist, in their order.

    The modules take :class:`Case` from ``sys.modules["hostile_cases"]``: this module, under whichever name
    it was loaded (by tests/test_hostile_inputs.py, or run as a script)."""
    sys.modules.setdefault("hostile_cases", sys.modules[__name__])
    cases: list[Case] = []
    for name in CASE_MODULES:
        path = HERE / f"{name}.py"
        if not path.is_file():
            continue
        spec = importlib.util.spec_from_file_location(f"hostile_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    names = [c.name for c in cases]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"hostile case names are not unique: {sorted(duplicated)}")
    return cases


def report(cases: list[Case]) -> str:
    """The markdown table of every case, run now."""
    rows = ["| area | case | attack | expected | observed | held |", "|---|---|---|---|---|---|"]
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                observed = case.run(Path(tmp))
            except BaseException as err:  # noqa: BLE001 — the report shows an escape instead of dying on it
                observed = f"ESCAPED {type(err).__name__}: {err}"[:300]
        held = "yes" if observed == case.expected else "**NO**"
        cells = [case.area, case.name, case.attack, case.expected, observed, held]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every hostile-input case and write the table.")
    parser.add_argument("--report", type=Path, help="write the markdown table here (default: print it)")
    args = parser.parse_args(argv)
    cases = load_cases()
    text = "# Hostile inputs: attacks and outcomes\n\nWritten by `.venv/bin/python tests/hostile/cases.py " \
        "--report bench/results/hostile_inputs.md`; tests/test_hostile_inputs.py asserts every row.\n\n" + report(cases)
    if args.report:
        args.report.write_text(text)
    else:
        print(text)
    return 0 if "**NO**" not in text else 1


if __name__ == "__main__":
    sys.exit(main())
