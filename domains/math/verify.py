r"""Checking a completion's final answer against the gold answer with math-verify.

The answer is the content of the last ``\boxed{...}`` (:func:`srmzoo.domain.last_boxed`); both it and the
gold are wrapped in ``\boxed{}`` and compared with ``math_verify.verify(parse(gold), parse(pred))``, gold
first as math-verify requires. Two rules apply on top for examples whose ``meta["answer_kind"]`` is
``"number"`` (every generated example and GSM8K):

* the answer must be one evaluated number (``42``, ``-3``, ``12.5``, ``1,234``, ``3/4``, ``\frac{3}{4}``),
  optionally with ``x =``, a ``$`` or ``%`` sign or unit words; an unevaluated expression such as
  ``3 \times 14`` is wrong, because math-verify would otherwise accept it and a policy could learn to copy
  the question into the box;
* with ``meta["lowest_terms"]``, a fraction that is not in lowest terms is wrong.

Percent signs are ignored (math-verify treats ``25\%`` and ``25`` as equal); the system prompt asks for the
number of percent. Other examples (MATH-500, whose answers are expressions, intervals, tuples) get
math-verify alone.

math-verify times out with ``signal.alarm``, which works only in the main thread; elsewhere (a data loader
worker thread, a reward server) the checks run without math-verify's timeout. Number answers are matched by
a regular expression before sympy sees them, so only expression answers can be slow there, and answers
longer than :data:`MAX_ANSWER_CHARS` are not parsed at all.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from typing import Any

from srmzoo.domain import Check, Verdict, last_boxed, sole_boxed
from srmzoo.errors import SrmzooError
from srmzoo.verifiers import Verifier

__all__ = ["MATH_VERIFY", "MAX_ANSWER_CHARS", "check_answer", "ends_with_one_boxed_answer", "plain_number"]

MAX_ANSWER_CHARS = 200

_INT = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_NUMBER = re.compile(
    rf"""[-+]?(?:
        {_INT}(?:\.\d+)? | \.\d+                                   # 42, 1,234, 12.5, .5
      | (?P<n1>\d+)\s*/\s*(?P<d1>\d+)                              # 3/4
      | (?:\d+\s*)?\\frac\s*\{{\s*(?P<n2>-?\d+)\s*\}}\s*\{{\s*(?P<d2>\d+)\s*\}}  # \frac{3}{4}, 1\frac{3}{4}
      | \\frac(?P<n3>\d)(?P<d3>\d)                                 # \frac34
    )""",
    re.VERBOSE,
)
_WRAPPERS = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"\\(?:left|right|displaystyle|[,;:! ])")
_VARIABLE = re.compile(r"^\s*[a-zA-Z]\s*=")
_UNITS = re.compile(r"(?<=[\d}.])\s*[a-zA-Z]{2,}(?:[\s/^]+[a-zA-Z]+)*\.?$")  # "12 dollars", "795 km/h"
# words that turn a tail into a second answer ("3 or four") rather than a unit
_HEDGES = re.compile(r"\b(?:or|and|to|not|plus|minus|times|over|divided|maybe)\b", re.IGNORECASE)


def plain_number(answer: str) -> str | None:
    r"""The answer as one plain number (decorations removed), or None when it is not a single number.

    >>> plain_number(r"x = \$1,234"), plain_number(r"25\%"), plain_number(r"\dfrac{3}{4}"), plain_number("12 km/h")
    ('1,234', '25', '\\frac{3}{4}', '12')
    >>> plain_number(r"3 \times 14") is None, plain_number("3x") is None, plain_number(r"3 \text{ or } 4") is None
    (True, True, True)
    """
    s = answer.replace("\u2212", "-")
    s = _WRAPPERS.sub(r" \1 ", s)
    s = _SPACING.sub(" ", s)
    s = re.sub(r"\\[dt]frac", r"\\frac", s)
    s = s.replace("\\$", " ").replace("$", " ").replace("\\%", " ").replace("%", " ")
    s = _VARIABLE.sub("", s).strip()
    units = _UNITS.search(s)
    if units and not _HEDGES.search(units.group()):
        s = s[: units.start()]
    s = s.strip().rstrip(".").strip()
    return s if _NUMBER.fullmatch(s) else None


def _in_lowest_terms(number: str) -> bool:
    m = _NUMBER.fullmatch(number)
    assert m is not None
    for n, d in (("n1", "d1"), ("n2", "d2"), ("n3", "d3")):
        if m.group(n) is not None:
            return math.gcd(int(m.group(n)), int(m.group(d))) == 1
    return True


def _math_verify_kwargs() -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword arguments for ``parse`` and ``verify``: no signal-based timeout off the main thread."""
    if threading.current_thread() is threading.main_thread():
        return {}, {}
    return {"parsing_timeout": None}, {"timeout_seconds": None}


def _parse(answer: str) -> list:
    from math_verify import parse  # imported late: it pulls in sympy and antlr (~1 s)

    parse_kwargs, _ = _math_verify_kwargs()
    return parse(f"\\boxed{{{answer}}}", **parse_kwargs)


def check_answer(completion: str, gold: str, meta: Mapping[str, Any] | None = None) -> Check:
    r"""Judge the last boxed answer in ``completion`` against ``gold``; never raises on model output.

    Args:
        completion: the model's output text.
        gold: the gold answer, as in ``Example.answer``.
        meta: the example's meta; ``answer_kind == "number"`` and ``lowest_terms`` add the rules above.

    Raises:
        SrmzooError: ``meta`` is not a mapping (a caller's mistake, unlike anything in ``completion``).

    >>> check_answer(r"so \boxed{3} or rather \boxed{\frac{1}{2}}", "0.5").verdict.value
    'correct'
    >>> check_answer(r"\boxed{0.333}", "1/3").verdict.value
    'wrong'
    >>> check_answer("I think it is 4", "4").verdict.value
    'unverifiable'
    """
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping):
        raise SrmzooError(
            f"meta must be a mapping such as Example.meta, got {type(meta).__name__}",
            hint="pass one example's meta dict (decode the JSON string that Domain.dataset stores)",
        )
    number_kind, lowest_terms = meta.get("answer_kind") == "number", bool(meta.get("lowest_terms"))
    try:
        text = completion if isinstance(completion, str) else str(completion)
        predicted = last_boxed(text)
        if predicted is None:
            return Check(Verdict.UNVERIFIABLE, detail="no \\boxed{} answer")
        if not predicted:
            return Check(Verdict.UNVERIFIABLE, predicted, detail="empty \\boxed{}")
        if len(predicted) > MAX_ANSWER_CHARS:
            return Check(
                Verdict.UNVERIFIABLE, predicted, detail=f"answer longer than {MAX_ANSWER_CHARS} characters"
            )
        candidate = predicted
        if number_kind:
            number = plain_number(predicted)
            if number is None:
                if not _parse(predicted):
                    return Check(Verdict.UNVERIFIABLE, predicted, detail="answer could not be parsed")
                return Check(Verdict.WRONG, predicted, detail="answer is not a single evaluated number")
            if lowest_terms and not _in_lowest_terms(number):
                return Check(Verdict.WRONG, predicted, detail="fraction is not in lowest terms")
            candidate, gold = number, plain_number(gold) or gold
        gold_parsed = _parse(gold)
        if not gold_parsed:
            return Check(Verdict.UNVERIFIABLE, predicted, detail=f"gold answer {gold!r} could not be parsed")
        pred_parsed = _parse(candidate)
        if not pred_parsed:
            return Check(Verdict.UNVERIFIABLE, predicted, detail="answer could not be parsed")
        from math_verify import verify

        _, verify_kwargs = _math_verify_kwargs()
        same = verify(gold_parsed, pred_parsed, **verify_kwargs)
        return Check(Verdict.CORRECT if same else Verdict.WRONG, predicted)
    except Exception as err:  # a verifier must survive any model output (sympy can fail in many ways)
        return Check(Verdict.UNVERIFIABLE, detail=f"verifier error: {type(err).__name__}: {err}")


def ends_with_one_boxed_answer(completion: str) -> bool:
    r"""True when the completion holds exactly one ``\boxed{}``, it parses, and only punctuation follows it.

    >>> ends_with_one_boxed_answer(r"3 × 14 = 42. The answer is \boxed{42}.")
    True
    >>> ends_with_one_boxed_answer(r"\boxed{41} no wait \boxed{42}"), ends_with_one_boxed_answer(r"\boxed{42} because")
    (False, False)
    """
    try:
        content = sole_boxed(completion)
        if not content or len(content) > MAX_ANSWER_CHARS:
            return False
        return bool(plain_number(content) is not None or _parse(content))
    except Exception:
        return False


def _gold_parses(answer: str) -> str | None:
    try:
        return None if _parse(answer) else "could not be parsed by math-verify"
    except Exception as err:  # noqa: BLE001 — sympy's many errors: the data's answer is what is wrong
        return f"could not be parsed by math-verify ({type(err).__name__})"


MATH_VERIFY = Verifier(
    name="math-verify",
    description="the last \\boxed{} answer against the gold with math-verify (expressions, fractions, intervals "
    "equal in value)",
    judge=lambda completion, example: check_answer(completion, example.answer, example.meta),
    check_gold=_gold_parses,
)
