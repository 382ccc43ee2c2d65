"""Verifiers for clinical calculation answers: a boxed number, checked exactly or within a tolerance.

The final answer is the last ``\\boxed{...}`` of a completion. Its content must start with one number,
optionally after ``=``/``\\approx``, optionally followed by a unit (``27.5 kg/m^2``, ``\\text{ mL/min}``);
a second number (``27 or 28``, ``1,5``) makes it unparseable. Unparseable or missing answers are
UNVERIFIABLE, never an exception: the verifier scores whatever a model writes.

Tolerances come from the example's ``meta``: ``rel_tol`` (fraction of the gold value) and ``abs_tol``
(in the answer's unit); the larger applies, and both zero means exact (scores, the anion gap).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from srmzoo.domain import Check, Verdict, last_boxed, sole_boxed
from srmzoo.errors import SrmzooError

__all__ = ["boxed_tail_is_clean", "check_number", "parse_number"]

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d,])|[-+]?\.\d+")
_WRAPPERS = re.compile(r"\\(?:text|mathrm|textrm|mbox|operatorname|mathbf|textbf)\s*\{([^{}]*)\}")
_UNIT_EXPONENT = re.compile(r"\^\s*\{?\s*-?\d+\s*\}?|(?<=[A-Za-z])[23](?![\d.])")


def parse_number(text: str | None) -> float | None:
    r"""The number a boxed answer states, ignoring a trailing unit; None if there is not exactly one.

    >>> parse_number(r"27.5\ \text{kg/m}^2"), parse_number("= 1,234 mL/h"), parse_number(r"\approx -0.5")
    (27.5, 1234.0, -0.5)
    >>> parse_number("27 or 28") is None, parse_number("about") is None, parse_number("1,5") is None
    (True, True, True)
    """
    if text is None:
        return None
    s = _WRAPPERS.sub(r" \1 ", text)
    for old, new in (
        ("\\,", ""),
        ("\\!", ""),
        ("\\ ", " "),
        ("$", ""),
        ("\\%", "%"),
        ("−", "-"),
        ("\\approx", ""),
        ("≈", ""),
        ("~", ""),
        ("\\left", ""),
        ("\\right", ""),
    ):
        s = s.replace(old, new)
    if "=" in s:
        s = s.rsplit("=", 1)[1]
    s = s.strip()
    match = _NUMBER.match(s)
    if match is None:
        return None
    rest = _UNIT_EXPONENT.sub("", s[match.end() :])
    if re.search(r"\d", rest):
        return None
    value = float(match.group(0).replace(",", ""))
    return value if math.isfinite(value) else None


def boxed_tail_is_clean(text: str) -> bool:
    r"""Whether ``text`` has exactly one ``\boxed{...}``, closed, with nothing after it but closing marks.

    >>> boxed_tail_is_clean(r"so $\boxed{12}$."), boxed_tail_is_clean(r"\boxed{1} then \boxed{2}")
    (True, False)
    >>> boxed_tail_is_clean(r"\boxed{12} and more words")
    False
    """
    return sole_boxed(text, trailing=".$)]*\\") is not None


def check_number(completion: str, answer: str, meta: Mapping[str, Any]) -> Check:
    r"""Compare a completion's boxed number with the gold ``answer`` under ``meta``'s tolerance.

    >>> check_number(r"... \boxed{27.9}", "27.5", {"rel_tol": 0.02}).verdict.value
    'correct'
    >>> check_number(r"... \boxed{6}", "5", {}).verdict.value, check_number("no box", "5", {}).verdict.value
    ('wrong', 'unverifiable')

    Raises:
        SrmzooError: when the gold answer itself is not a number (a data error, not a model error).
    """
    gold = parse_number(answer)
    if gold is None:
        raise SrmzooError(
            f"gold answer {answer!r} is not a number", hint="calculator answers must be plain numbers"
        )
    boxed = last_boxed(completion)
    if boxed is None:
        return Check(Verdict.UNVERIFIABLE, None, "no \\boxed{} answer")
    predicted = parse_number(boxed)
    if predicted is None:
        return Check(Verdict.UNVERIFIABLE, boxed, "boxed answer is not one number")
    rel_tol, abs_tol = float(meta.get("rel_tol") or 0.0), float(meta.get("abs_tol") or 0.0)
    allowed = max(abs_tol, rel_tol * abs(gold))
    error = abs(predicted - gold)
    verdict = Verdict.CORRECT if error <= allowed + 1e-9 else Verdict.WRONG
    return Check(verdict, boxed, f"|{predicted:g} - {gold:g}| = {error:.4g}, allowed {allowed:.4g}")
