r"""Calculator traces for the coding domain: each worked computation of an output-prediction trace is one
call on the whole expression.

A trace works an expression out in stages, ``z = 21 * 4 * 2 = 84 * 2 = 168.``, and the default
rewrite (:func:`srmzoo.tools.annotate`) would call only the last stage (``<<84 * 2>> = 168``), leaving
``21 * 4 = 84`` to the model. Here the first stage, the program's own expression with the values put in,
becomes the call and the intermediate stages go: ``z = <<21 * 4 * 2>> = 168.`` A call is written only where
the calculator's answer is the trace's result as written, so the text a model reads in training is what the
tool answers at inference; Python's ``//`` and ``%`` on whole numbers are calculator operators. A list
comprehension's map is one call per item (:func:`map_calls`). Code (the synthesis and bug-fix families) is
never touched: its plans hold no worked computations.
"""

from __future__ import annotations

import re

from srmzoo.tools import CALL_CLOSE, CALL_OPEN, ToolError, annotate, calculate

__all__ = ["collapse_computations", "map_calls", "tool_solution"]

_EXPR_CHARS = set("0123456789()+-*/% ")
_OPERATOR = re.compile(r"\d\s*(?://|[-+*%])\s*[-(\d]")
_STAGE = re.compile(r"[-\d()][\d()+\-*/% ]*")
_RESULT = re.compile(r"-?\d+")


def _expression_suffix(text: str) -> str:
    """The longest arithmetic tail of ``text`` (``"total gains 4 each time: 4 * 4"`` -> ``"4 * 4"``)."""
    start = len(text)
    while start > 0 and text[start - 1] in _EXPR_CHARS:
        start -= 1
    while start < len(text) and text[start] in " )":
        start += 1
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.[\"'"):
        return ""  # part of a name, a value or a string: f(0), xs[1], "a1"
    return text[start:]


def _collapse_line(line: str) -> str:
    parts = line.split(" = ")
    for i in range(len(parts) - 1):
        expr = _expression_suffix(parts[i])
        if not expr or expr.count("(") != expr.count(")") or not _OPERATOR.search(expr):
            continue
        # skip the worked stages (whole arithmetic expressions) to the result: a whole number, then prose
        j = i + 1
        while j < len(parts) - 1 and _STAGE.fullmatch(parts[j]):
            j += 1
        result = _RESULT.match(parts[j])
        if not result or re.match(r"\s*[-+*/%(\d]", parts[j][result.end():]):
            continue
        try:
            if calculate(expr) != result.group():
                continue
        except (ToolError, ArithmeticError, ValueError):
            continue
        head = parts[i][: len(parts[i]) - len(expr)]
        called = f"{head}{CALL_OPEN}{expr}{CALL_CLOSE} = {parts[j]}"
        return " = ".join([*parts[:i], called, *parts[j + 1 :]])
    return line


_MAP_LINE = re.compile(r"(?P<map>(?P<x>[a-z]+) [-+*] (?:\d+|[a-z]+)) maps (?P<items>them|[-\d, ]+) to (?P<out>[-\d, ]+)\.")
_KEPT = re.compile(r" are (?P<items>[-\d, ]+)\.$")


def map_calls(solution: str) -> str:
    r"""A list comprehension's map as one call per item (``x * 5 maps 7, 6 to <<7 * 5>> = 35, <<6 * 5>> = 30.``);
    ``them`` are the items the line before lists. Unchanged where any call would disagree with the trace.

    >>> map_calls("The items with v > 5 are 11, 6.\nv * 4 maps them to 44, 24.")
    'The items with v > 5 are 11, 6.\nv * 4 maps them to <<11 * 4>> = 44, <<6 * 4>> = 24.'
    """
    lines = solution.split("\n")
    for n, line in enumerate(lines):
        match = _MAP_LINE.fullmatch(line)
        if not match:
            continue
        items = match["items"]
        if items == "them":
            kept = _KEPT.search(lines[n - 1]) if n else None
            if not kept:
                continue
            items = kept["items"]
        values, results = items.split(", "), match["out"].split(", ")
        exprs = [re.sub(rf"\b{match['x']}\b", v, match["map"]) for v in values]
        try:
            if len(values) != len(results) or any(calculate(e) != r for e, r in zip(exprs, results, strict=True)):
                continue
        except (ToolError, ArithmeticError, ValueError):
            continue
        calls = ", ".join(f"{CALL_OPEN}{e}{CALL_CLOSE} = {r}" for e, r in zip(exprs, results, strict=True))
        lines[n] = f"{match['map']} maps {match['items']} to {calls}."
    return "\n".join(lines)


def collapse_computations(solution: str) -> str:
    r"""Each line's first computation as one call on its whole expression, its worked stages dropped.

    >>> print(collapse_computations("y = 11 + 10 = 21.\nz = 21 * 4 * 2 = 84 * 2 = 168.\nThe output is \\boxed{168}."))
    y = <<11 + 10>> = 21.
    z = <<21 * 4 * 2>> = 168.
    The output is \boxed{168}.
    >>> collapse_computations("35 % 3 = 2, not 0, so the else branch runs.")
    '<<35 % 3>> = 2, not 0, so the else branch runs.'
    >>> collapse_computations("score(0) = 0 * 5 + 9 = 0 + 9 = 9.")
    'score(0) = <<0 * 5 + 9>> = 9.'
    >>> collapse_computations("total gains 4 each time: 4 * 4 = 16.")
    'total gains 4 each time: <<4 * 4>> = 16.'
    >>> collapse_computations("After the swap, x = 3 and y = 2.")  # nothing to compute
    'After the swap, x = 3 and y = 2.'
    """
    return "\n".join(_collapse_line(line) for line in solution.split("\n"))


def tool_solution(solution: str, tools: tuple[str, ...] | list[str]) -> str:
    r"""The calculator trace of a coding solution: whole-expression calls, then the default rewrite for any
    computation left (a second one on the same line).

    >>> tool_solution("a = 20.\nb = 20 // 7 = 2.\nc = 2 * 3 = 6.", ["calculator"])
    'a = 20.\nb = <<20 // 7>> = 2.\nc = <<2 * 3>> = 6.'
    >>> tool_solution("b = 20 // 7 = 2.", [])
    'b = 20 // 7 = 2.'
    """
    if "calculator" not in tools:
        return solution
    return annotate(collapse_computations(map_calls(solution)), tools)
