"""Fraction arithmetic with answers in lowest terms, e.g. ``3/4 + 5/6 = 19/12``.

Every operand is a fraction in lowest terms drawn uniformly from a fixed list (so halves are no likelier
than elevenths), and differences are kept positive. The solution
finds the common denominator, rewrites each fraction over it, combines the numerators, and reduces by the
greatest common divisor; products multiply tops and bottoms; quotients multiply by the reciprocal.

Train/test: two fractions joined by +, - or ×, denominators 2-12 and numerators below twice the
denominator, phrasings :data:`TEMPLATES`.
OOD: three proper fractions with two operations (÷ included, which train never shows), denominators 2-16,
a common denominator of at most 60, phrasings :data:`OOD_TEMPLATES`.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from .problem import Problem

__all__ = ["OOD_TEMPLATES", "TEMPLATES", "fraction_arithmetic", "operation_steps"]

TEMPLATES = (
    "Compute {expr}. Give the answer as a fraction in lowest terms.",
    "What is {expr}? Write the answer in lowest terms.",
    "Work out {expr} and simplify the result.",
)
OOD_TEMPLATES = ("Simplify {expr} completely.", "Find the value of {expr} as a fraction in lowest terms.")


def _show(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _reduce_step(num: int, den: int) -> list[str]:
    g = math.gcd(num, den)
    if g == 1:
        return []
    return [f"Divide top and bottom by {g}: {num}/{den} = {_show(Fraction(num, den))}."]


def operation_steps(a: Fraction, op: str, b: Fraction) -> list[str]:
    """The worked steps of one fraction operation, ending in lowest terms.

    >>> print("\\n".join(operation_steps(Fraction(3, 4), "+", Fraction(5, 6))))
    The common denominator of 4 and 6 is 12.
    3/4 = (3 × 3)/12 = 9/12.
    5/6 = (5 × 2)/12 = 10/12.
    9/12 + 10/12 = 19/12.
    >>> print("\\n".join(operation_steps(Fraction(2, 3), "×", Fraction(9, 10))))
    Multiply tops and bottoms: (2 × 9)/(3 × 10) = 18/30.
    Divide top and bottom by 6: 18/30 = 3/5.
    """
    if op == "÷":
        flipped = Fraction(b.denominator, b.numerator)
        return [
            f"Dividing by {_show(b)} is multiplying by {_show(flipped)}.",
            *operation_steps(a, "×", flipped),
        ]
    if op == "×":
        num, den = a.numerator * b.numerator, a.denominator * b.denominator
        line = (
            f"Multiply tops and bottoms: ({a.numerator} × {b.numerator})/({a.denominator} × {b.denominator})"
        )
        return [f"{line} = {num}/{den}.", *_reduce_step(num, den)]
    if a.denominator == b.denominator:
        num, den = (a.numerator + b.numerator if op == "+" else a.numerator - b.numerator), a.denominator
        return [f"The denominators match: {_show(a)} {op} {_show(b)} = {num}/{den}.", *_reduce_step(num, den)]
    den = math.lcm(a.denominator, b.denominator)
    steps = [f"The common denominator of {a.denominator} and {b.denominator} is {den}."]
    tops = []
    for x in (a, b):
        scale = den // x.denominator
        if scale > 1:
            steps.append(f"{_show(x)} = ({x.numerator} × {scale})/{den} = {x.numerator * scale}/{den}.")
        tops.append(x.numerator * scale)
    num = tops[0] + tops[1] if op == "+" else tops[0] - tops[1]
    steps.append(f"{tops[0]}/{den} {op} {tops[1]}/{den} = {num}/{den}.")
    return [*steps, *_reduce_step(num, den)]


def _content(terms: list[Fraction], ops: list[str]) -> tuple[str, ...]:
    """The problem up to swapping the operands of the first + or × (``1/2 + 3/4`` is ``3/4 + 1/2``)."""
    first = [_show(terms[0]), _show(terms[1])]
    if ops[0] in "+×":
        first.sort()
    return (*first, *ops, *(_show(t) for t in terms[2:]))


def _apply(a: Fraction, op: str, b: Fraction) -> Fraction:
    return {"+": a + b, "-": a - b, "×": a * b, "÷": a / b if b else Fraction(0)}[op]


def _operands(max_den: int, max_ratio: int) -> tuple[Fraction, ...]:
    """Every non-integer fraction in lowest terms with denominator <= max_den and value < max_ratio."""
    return tuple(
        Fraction(num, den)
        for den in range(2, max_den + 1)
        for num in range(1, max_ratio * den)
        if math.gcd(num, den) == 1
    )


_TRAIN_OPERANDS = _operands(12, 2)
_OOD_OPERANDS = _operands(16, 1)


def _common_den_ok(a: Fraction, op: str, b: Fraction, limit: int | None) -> bool:
    return limit is None or op in "×÷" or math.lcm(a.denominator, b.denominator) <= limit


def fraction_arithmetic(rng: random.Random, *, ood: bool) -> Problem:
    """Add, subtract or multiply fractions (OOD: three fractions, division included).

    >>> p = fraction_arithmetic(random.Random(0), ood=False)
    >>> p.answer > 0 and p.steps[-1].endswith(".")
    True
    """
    operands, limit, ops = (_OOD_OPERANDS, 60, "+-×÷") if ood else (_TRAIN_OPERANDS, None, "+-×")
    while True:
        terms = [rng.choice(operands) for _ in range(3 if ood else 2)]
        chosen = [rng.choice(ops) for _ in range(len(terms) - 1)]
        if chosen[0] == "-" and terms[0] < terms[1]:
            terms[0], terms[1] = terms[1], terms[0]
        first = _apply(terms[0], chosen[0], terms[1])
        if first <= 0 or not _common_den_ok(terms[0], chosen[0], terms[1], limit):
            continue
        if not ood:
            value, steps = first, operation_steps(terms[0], chosen[0], terms[1])
            expr = f"{_show(terms[0])} {chosen[0]} {_show(terms[1])}"
            break
        value = _apply(first, chosen[1], terms[2])
        if value <= 0 or not _common_den_ok(first, chosen[1], terms[2], limit):
            continue
        # left to right unless the second operation binds tighter, in which case brackets keep the order
        brackets = chosen[0] in "+-" and chosen[1] in "×÷"
        left = f"{_show(terms[0])} {chosen[0]} {_show(terms[1])}"
        expr = (
            f"({left}) {chosen[1]} {_show(terms[2])}" if brackets else f"{left} {chosen[1]} {_show(terms[2])}"
        )
        steps = [
            *operation_steps(terms[0], chosen[0], terms[1]),
            *operation_steps(first, chosen[1], terms[2]),
        ]
        break
    templates = OOD_TEMPLATES if ood else TEMPLATES
    t = rng.randrange(len(templates))
    return Problem(
        question=templates[t].format(expr=expr),
        answer=value,
        answer_text=_show(value),
        steps=tuple(steps),
        key=("fractions", *_content(terms, chosen)),
        meta={"template": t, "operations": len(chosen)},
    )
