"""Multi-step integer arithmetic with the order of operations, e.g. ``7 + 3 × (12 - 4) ÷ 6``.

Expressions are built as trees so that every intermediate value is a positive integer: a division's
divisor is a single number chosen among the divisors of the dividend's value, and a subtraction whose
right side is larger has its sides swapped. The solution reduces the written expression one operation at a
time (innermost brackets first, then × and ÷, then + and -, each left to right), which is the same order
as the tree because equal-precedence right operands are always bracketed.

Train/test: 2-3 operations, operands 2-20, factors and divisors 2-9, phrasings :data:`TEMPLATES`.
OOD: 4-5 operations, operands 21-80, factors and divisors 2-12, phrasings :data:`OOD_TEMPLATES`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from .problem import Problem

__all__ = ["OOD_TEMPLATES", "TEMPLATES", "arithmetic", "reduction_steps"]

TEMPLATES = ("Calculate {expr}.", "What is {expr}?", "Evaluate {expr}.")
OOD_TEMPLATES = ("Find the value of {expr}.", "Using the order of operations, work out {expr}.")

_PRECEDENCE = {"+": 1, "-": 1, "×": 2, "÷": 2}


class _Retry(Exception):
    """This draw cannot be completed within the ranges; draw again."""


@dataclass(frozen=True)
class _Ranges:
    ops: tuple[int, int]
    operands: tuple[int, int]
    factors: tuple[int, int]
    max_value: int


_TRAIN = _Ranges(ops=(2, 3), operands=(2, 20), factors=(2, 9), max_value=200)
_OOD = _Ranges(ops=(4, 5), operands=(21, 80), factors=(2, 12), max_value=2000)


def _build(rng: random.Random, n_ops: int, r: _Ranges) -> tuple[object, int]:
    """A random expression tree with ``n_ops`` operations and its value: ``(node, value)``."""
    if n_ops == 0:
        v = rng.randint(*r.operands)
        return v, v
    op = rng.choice("+-×÷")
    if op in "×÷":
        # a single small number on one side keeps each step a times-table fact
        inner, inner_v = _build(rng, n_ops - 1, r)
        if op == "×":
            f = rng.randint(*r.factors)
            node = ("×", inner, f) if rng.random() < 0.5 else ("×", f, inner)
            value = inner_v * f
        else:
            divisors = [d for d in range(r.factors[0], r.factors[1] + 1) if inner_v % d == 0]
            if not divisors:
                raise _Retry
            d = rng.choice(divisors)
            node, value = ("÷", inner, d), inner_v // d
    else:
        n_left = rng.randint(0, n_ops - 1)
        left, lv = _build(rng, n_left, r)
        right, rv = _build(rng, n_ops - 1 - n_left, r)
        if op == "-":
            if lv == rv:
                raise _Retry
            if lv < rv:
                left, lv, right, rv = right, rv, left, lv
            value = lv - rv
        else:
            value = lv + rv
        node = (op, left, right)
    if value > r.max_value:
        raise _Retry
    return node, value


def _tokens(node: object, parent_op: str | None = None, right_side: bool = False) -> list[object]:
    """The written expression as tokens, with brackets exactly where the tree needs them."""
    if isinstance(node, int):
        return [node]
    op, left, right = node  # type: ignore[misc]
    toks = [*_tokens(left, op, False), op, *_tokens(right, op, True)]
    if parent_op is not None and (
        _PRECEDENCE[op] < _PRECEDENCE[parent_op] or (right_side and _PRECEDENCE[op] == _PRECEDENCE[parent_op])
    ):
        return ["(", *toks, ")"]
    return toks


def _canonical(node: object) -> str:
    """The tree with the operands of + and × in a fixed order: ``3 + 4`` and ``4 + 3`` are one problem."""
    if isinstance(node, int):
        return str(node)
    op, left, right = node  # type: ignore[misc]
    a, b = _canonical(left), _canonical(right)
    if op in "+×":
        a, b = sorted((a, b))
    return f"({a} {op} {b})"


def _show(tokens: list[object]) -> str:
    text = " ".join(str(t) for t in tokens)
    return text.replace("( ", "(").replace(" )", ")")


def _apply(a: int, op: str, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "×":
        return a * b
    q, rem = divmod(a, b)
    assert rem == 0, "divisions are exact by construction"
    return q


def reduction_steps(tokens: list[object]) -> tuple[list[str], int]:
    """Reduce a written expression one operation at a time: the step lines and the value.

    Innermost brackets first; inside them (or with none left) × and ÷ left to right, then + and -.

    >>> steps, value = reduction_steps([7, "+", 3, "×", "(", 12, "-", 4, ")", "÷", 6])
    >>> print("\\n".join(steps))
    12 - 4 = 8, so it becomes 7 + 3 × 8 ÷ 6.
    3 × 8 = 24, so it becomes 7 + 24 ÷ 6.
    24 ÷ 6 = 4, so it becomes 7 + 4.
    7 + 4 = 11.
    >>> value
    11
    """
    toks = list(tokens)
    steps = []
    while len(toks) > 1:
        if "(" in toks:
            lo = max(i for i, t in enumerate(toks) if t == "(")
            hi = toks.index(")", lo)
        else:
            lo, hi = -1, len(toks)
        inner = toks[lo + 1 : hi]
        ops = [i for i, t in enumerate(inner) if t in ("×", "÷")] or [
            i for i, t in enumerate(inner) if t in ("+", "-")
        ]
        i = lo + 1 + ops[0]
        a, op, b = toks[i - 1], toks[i], toks[i + 1]
        c = _apply(a, op, b)  # type: ignore[arg-type]
        toks[i - 1 : i + 2] = [c]
        if lo >= 0 and toks[lo + 2] == ")":  # "(c)" is just c
            toks[lo : lo + 3] = [c]
        if len(toks) > 1:
            steps.append(f"{a} {op} {b} = {c}, so it becomes {_show(toks)}.")
        else:
            steps.append(f"{a} {op} {b} = {c}.")
    return steps, toks[0]  # type: ignore[return-value]


def arithmetic(rng: random.Random, *, ood: bool) -> Problem:
    """A multi-step integer expression whose divisions all come out even.

    >>> p = arithmetic(random.Random(3), ood=False)
    >>> p.answer == Fraction(p.answer.numerator) and p.answer > 0
    True
    """
    r = _OOD if ood else _TRAIN
    while True:
        try:
            node, value = _build(rng, rng.randint(*r.ops), r)
            break
        except _Retry:
            continue
    toks = _tokens(node)
    expr = _show(toks)
    steps, reduced = reduction_steps(toks)
    assert reduced == value, "the written order of operations must match the tree"
    templates = OOD_TEMPLATES if ood else TEMPLATES
    t = rng.randrange(len(templates))
    steps = ["Brackets first, then × and ÷, then + and -, each left to right.", *steps]
    n_ops = sum(1 for x in toks if x in _PRECEDENCE)
    return Problem(
        question=templates[t].format(expr=expr),
        answer=Fraction(value),
        answer_text=str(value),
        steps=tuple(steps),
        key=("arithmetic", _canonical(node)),
        meta={"template": t, "operations": n_ops},
    )
