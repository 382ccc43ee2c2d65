"""What every math generator returns, and the exact number formatting all solutions share.

A generator draws one :class:`Problem` from a ``random.Random``: the question text, the exact answer as a
``Fraction``, the worked steps, and a ``key`` holding the problem's mathematical content (structure and
numbers, not its wording). The key decides which side of the train/test partition a problem falls on
(:mod:`.splits`), so a test problem never restates a training problem in other words.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from srmzoo.tools import format_number

__all__ = ["NAMES", "Problem", "fmt", "pick_name", "solution_text"]

NAMES = (
    "Ava", "Ben", "Chloe", "Dev", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kira", "Leo",
    "Maya", "Noah", "Olga", "Priya", "Quinn", "Ravi", "Sara", "Tom", "Uma", "Victor", "Wen", "Yusuf", "Zoe",
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One generated problem with its exact truth.

    Attributes:
        question: the problem as put to the model.
        answer: the exact answer.
        answer_text: the answer as the solution boxes it (``fmt(answer)``, or ``a/b`` where the question
            asks for a fraction).
        steps: the worked solution, one short line per step, without the final boxed line.
        key: the mathematical content (structure and numbers, not wording), hashed to pick the split.
        meta: JSON-serialisable details kept on the Example (template, scenario, number of steps, ...).
    """

    question: str
    answer: Fraction
    answer_text: str
    steps: tuple[str, ...]
    key: tuple[Any, ...]
    meta: dict[str, Any] = field(default_factory=dict)


def fmt(x: Fraction | int) -> str:
    """An exact number as the solutions write it: an integer, a short decimal, or ``a/b`` in lowest terms.

    Decimals are used only when they terminate within four places (so ``fmt`` never rounds); anything
    else stays a fraction.

    >>> fmt(Fraction(84)), fmt(Fraction(5, 2)), fmt(Fraction(-3, 8)), fmt(Fraction(2, 3))
    ('84', '2.5', '-0.375', '2/3')
    """
    return format_number(Fraction(x))


def solution_text(steps: Sequence[str], answer: str) -> str:
    r"""The full worked solution: the steps, then the final line with the boxed answer.

    >>> print(solution_text(["3 × 14 = 42."], "42"))
    3 × 14 = 42.
    The answer is \boxed{42}.
    """
    return "\n".join([*steps, f"The answer is \\boxed{{{answer}}}."])


def pick_name(rng: random.Random, *, avoid: Sequence[str] = ()) -> str:
    """A first name for a word problem, different from the ones in ``avoid``.

    >>> pick_name(random.Random(0), avoid=["Ava"]) != "Ava"
    True
    """
    return rng.choice([n for n in NAMES if n not in avoid])
