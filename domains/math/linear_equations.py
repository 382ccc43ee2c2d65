"""Linear equations in one unknown with an integer solution, e.g. ``3x + 7 = 22`` or ``4(x - 2) = 12``.

The solution is drawn first and the right-hand side computed from it, so ``x`` is an integer by
construction; the worked steps undo one operation per line, doing the same to both sides.

Train/test: ``ax + b = c`` or ``a(x + b) = c`` with a in 2-9, b in ±1-20 and x in ±1-12, phrasings
:data:`TEMPLATES`.
OOD: the unknown on both sides, ``ax + b = cx + d``, or a bracket plus a term, ``a(x + b) + c = d``, with a
in 10-20, the other given constants in ±1-60 (the last one follows from x), x in ±1-15, phrasings
:data:`OOD_TEMPLATES`.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .problem import Problem

__all__ = ["OOD_TEMPLATES", "TEMPLATES", "linear_equation", "show_linear"]

TEMPLATES = ("Solve for x: {eq}.", "Find x if {eq}.", "What value of x makes {eq} true?")
OOD_TEMPLATES = ("Determine the integer x that satisfies {eq}.", "The unknown x obeys {eq}. What is x?")


def show_linear(a: int, b: int) -> str:
    """``a·x + b`` written the usual way (``x``, ``-x``, ``3x - 4``).

    >>> show_linear(1, -4), show_linear(-1, 0), show_linear(3, 7)
    ('x - 4', '-x', '3x + 7')
    """
    head = "x" if a == 1 else "-x" if a == -1 else f"{a}x"
    if b == 0:
        return head
    return f"{head} {'+' if b > 0 else '-'} {abs(b)}"


def _nonzero(rng: random.Random, lo: int, hi: int) -> int:
    return rng.choice([-1, 1]) * rng.randint(lo, hi)


def _move_constant(lhs: str, b: int, rhs_before: int, rhs: int) -> str:
    """The line that moves ``b`` across: "Subtract 7 from both sides: 3x = 22 - 7 = 15."."""
    if b > 0:
        return f"Subtract {b} from both sides: {lhs} = {rhs_before} - {b} = {rhs}."
    return f"Add {-b} to both sides: {lhs} = {rhs_before} + {-b} = {rhs}."


def _divide(a: int, rhs: int, x: int) -> str:
    return f"Divide both sides by {a}: x = {rhs} ÷ {a} = {x}."


def linear_equation(rng: random.Random, *, ood: bool) -> Problem:
    """An equation with one integer solution and its step-by-step solving.

    >>> p = linear_equation(random.Random(2), ood=False)
    >>> p.answer.denominator == 1 and p.answer != 0
    True
    """
    if not ood:
        form = rng.choice(["ax+b=c", "a(x+b)=c"])
        a, b, x = rng.randint(2, 9), _nonzero(rng, 1, 20), _nonzero(rng, 1, 12)
        if form == "ax+b=c":
            c = a * x + b
            eq = f"{show_linear(a, b)} = {c}"
            steps = [_move_constant(f"{a}x", b, c, c - b), _divide(a, c - b, x)]
        else:
            c = a * (x + b)
            eq = f"{a}({show_linear(1, b)}) = {c}"
            steps = [
                f"Divide both sides by {a}: {show_linear(1, b)} = {c} ÷ {a} = {x + b}.",
                _move_constant("x", b, x + b, x),
            ]
        values = (a, b, c)
    else:
        form = rng.choice(["ax+b=cx+d", "a(x+b)+c=d"])
        x = _nonzero(rng, 1, 15)
        if form == "ax+b=cx+d":
            while True:
                a, c = rng.randint(10, 20), rng.randint(2, 20)
                b = _nonzero(rng, 1, 60)
                d = (a - c) * x + b
                if a != c and d != 0 and abs(d) <= 60 * 4:
                    break
            eq = f"{show_linear(a, b)} = {show_linear(c, d)}"
            k = a - c
            steps = [
                f"Subtract {c}x from both sides: {show_linear(k, b)} = {d}, since {a} - {c} = {k}.",
                _move_constant(show_linear(k, 0), b, d, d - b),
                *([_divide(k, d - b, x)] if k != 1 else []),
            ]
            values = (a, b, c, d)
        else:
            a, b, c = rng.randint(10, 20), _nonzero(rng, 1, 60), _nonzero(rng, 1, 60)
            d = a * (x + b) + c
            eq = f"{a}({show_linear(1, b)}) {'+' if c > 0 else '-'} {abs(c)} = {d}"
            steps = [
                _move_constant(f"{a}({show_linear(1, b)})", c, d, d - c),
                f"Divide both sides by {a}: {show_linear(1, b)} = {d - c} ÷ {a} = {x + b}.",
                _move_constant("x", b, x + b, x),
            ]
            values = (a, b, c, d)
    templates = OOD_TEMPLATES if ood else TEMPLATES
    t = rng.randrange(len(templates))
    return Problem(
        question=templates[t].format(eq=eq),
        answer=Fraction(x),
        answer_text=str(x),
        steps=tuple(steps),
        key=("linear_equation", form, *values),
        meta={"form": form, "template": t},
    )
