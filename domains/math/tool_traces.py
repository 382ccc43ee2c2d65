r"""The ``direct`` trace style for a math entry with the calculator (``data.traces: direct``).

The default tool traces (:func:`srmzoo.tools.annotate` over the worked solution) reduce an arithmetic
expression one operation at a time and rewrite what is left after each step (``<<16 ÷ 4>> = 4, so it
becomes 13 - 4``): every rewrite is a chance to miscopy, and a 135M model does (math-135m-tools: 62% on
two- and three-operation arithmetic with the calculator in hand). A calculator already knows the order of
operations, so in this style arithmetic and fraction items are one call on the expression as the question
writes it, program-aided style. Fraction items wrap it in ``frac(...)`` (the answer is due in lowest terms,
``5/4`` not ``1.25``) and bracket each fraction literal so that ``a/b ÷ c/d`` means what it says (the
calculator reads ``÷ 2/13`` left to right, as ``÷ 2 / 13``):

>>> from srmzoo.domain import Example
>>> ex = Example("x", "fractions", "What is 9/10 × 13/14 ÷ 2/13? Write the answer in lowest terms.",
...              "1521/280", "")
>>> print(direct_solution(ex))
<<frac((9/10) × (13/14) ÷ (2/13))>> = 1521/280.
The answer is \boxed{1521/280}.

Percentages, linear equations and word problems keep the default traces: their steps are reasoning (which
quantity, which operation, which side), not rewriting.
"""

from __future__ import annotations

import re

from srmzoo.domain import Example
from srmzoo.errors import SrmzooError
from srmzoo.tools import CALL_CLOSE, CALL_OPEN, calculate

__all__ = ["DIRECT_FAMILIES", "direct_solution", "question_expression"]

DIRECT_FAMILIES = ("arithmetic", "fractions")

# a run of expression characters that starts and ends on a number or bracket
_EXPRESSION = re.compile(r"[\d(][\d\s+\-×÷()/]*[\d)]")
_FRACTION = re.compile(r"(\d+)/(\d+)")
_OPERATOR = re.compile(r"[+\-×÷]|\d/\d")


def question_expression(question: str) -> str:
    """The expression an arithmetic or fraction question asks for: its longest run of expression text.

    >>> question_expression("Using the order of operations, work out 5 × 49 - 55 ÷ 5 ÷ 11.")
    '5 × 49 - 55 ÷ 5 ÷ 11'
    >>> question_expression("Work out 5/9 × 7/10 and simplify the result.")
    '5/9 × 7/10'
    """
    runs = [m.group(0).strip() for m in _EXPRESSION.finditer(question) if _OPERATOR.search(m.group(0))]
    if not runs:
        raise SrmzooError(f"no expression in the question {question!r}",
                          hint="the direct trace style covers arithmetic and fraction questions only")
    return max(runs, key=len)


def direct_solution(example: Example) -> str:
    """One calculator call on the question's expression (fractions: bracketed, in ``frac``), then the boxed
    result.

    Raises:
        SrmzooError: the family is not one of :data:`DIRECT_FAMILIES`, or the calculator's result is not
            the gold answer (a generator/calculator disagreement; it must never be trained on).
    """
    if example.family not in DIRECT_FAMILIES:
        raise SrmzooError(f"the direct trace style has no template for {example.family!r}",
                          hint=f"it covers {', '.join(DIRECT_FAMILIES)}; the others keep the default traces")
    expression = question_expression(example.question)
    if example.family == "fractions":
        expression = "frac(" + _FRACTION.sub(r"(\1/\2)", expression) + ")"
    result = calculate(expression)
    if result != example.answer:
        raise SrmzooError(f"{example.id}: the calculator gives {result} for {expression!r}, the gold is "
                          f"{example.answer}", hint="a generator or calculator bug; report it")
    return f"{CALL_OPEN}{expression}{CALL_CLOSE} = {result}.\nThe answer is \\boxed{{{result}}}."

