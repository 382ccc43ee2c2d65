r"""Verifiers by name: how a recipe on the user's own data (``data.dataset.verifier``) checks answers.

A verifier turns a completion and an :class:`~srmzoo.domain.Example` (its gold ``answer``, and its
``meta``, which carries the verifier's name and options) into a :class:`~srmzoo.domain.Check`. The core
registers the two that need no domain (``numeric`` with tolerances, ``exact``); the domains register
theirs when imported (math-verify, SMILES equivalence, code run against tests in the sandbox), and a
plug-in domain (entry-point group ``srmzoo.domains``) may register more. The recipe names one:

    data:
      dataset:
        train: {path: questions.jsonl}
        verifier: numeric
        verifier_options: {rel_tol: 0.01}

>>> v = get_verifier("numeric")
>>> ex = Example("q1", "dataset", "2/3 of 9?", "6", "", {"verifier": "numeric", "rel_tol": 0.0})
>>> v.judge(r"so \boxed{6.0}", ex).verdict.value, v.judge(r"\boxed{7}", ex).verdict.value
('correct', 'wrong')

Importing this module does not import torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .domain import Check, Example, Verdict, completion_text, domain_names, last_boxed
from .errors import SrmzooError, UnknownNameError

__all__ = [
    "BOXED_FORMAT",
    "Verifier",
    "get_verifier",
    "parse_number",
    "register_verifier",
    "verifier_names",
]

BOXED_FORMAT = "End with the final answer in \\boxed{}, for example \\boxed{42}."


def _boxed_completion(answer: str) -> str:
    return f"The answer is \\boxed{{{answer}}}."


@dataclass(frozen=True)
class Verifier:
    r"""A named answer checker.

    Attributes:
        name: the registry name a recipe gives (``data.dataset.verifier``).
        description: one line for ``srmzoo verifiers`` and data manifests.
        judge: ``(completion, example) -> Check``; must not raise on any completion (model output).
        options: the options a recipe may set (``data.dataset.verifier_options``) with their defaults; they
            travel in each example's ``meta``, so rewards and evaluation read the same values.
        answer_format: the system-prompt sentence saying how to state the answer.
        extract: the final answer a completion commits to, or None.
        answer_completion: a bare answer written as a minimal completion (what SFT trains on when a row has
            no solution, and how :meth:`srmzoo.reasoner.Reasoner.check` judges a bare answer).
        needs_solution: rows must have a worked solution (code: the reference program), not just an answer.
        check_gold: the problem with a gold answer, or None when the verifier can judge it (a data check run
            on every row as it loads).
        check_batch: judge many at once (sandboxed code runs in parallel); default: :attr:`judge` on each.
        vote_key: what equivalent answers share, for majority votes; default: the answer without spaces.
        answer_cue: the text that opens the answer, for budget forcing; None where answers are not short.
        checks_solutions: a row's own solution is judged against its answer as it loads (cheap verifiers),
            so a file whose solutions do not state the answer in the verifier's format fails at once.
        example_meta: what else the judge needs in each example's ``meta``, from the gold answer (code: the
            tests to run).
    """

    name: str
    description: str
    judge: Callable[[str, Example], Check]
    options: Mapping[str, Any] = field(default_factory=dict)
    answer_format: str = BOXED_FORMAT
    extract: Callable[[str], str | None] = last_boxed
    answer_completion: Callable[[str], str] = _boxed_completion
    needs_solution: bool = False
    check_gold: Callable[[str], str | None] | None = None
    check_batch: Callable[[Sequence[str], Sequence[Example]], list[Check]] | None = None
    vote_key: Callable[[str], str] | None = None
    answer_cue: str | None = "\nThe answer is \\boxed{"
    checks_solutions: bool = True
    example_meta: Callable[[str], dict[str, Any]] | None = None

    def resolved_options(self, given: Mapping[str, Any] | None, *, where: str = "verifier_options") -> dict[str, Any]:
        """The defaults updated with ``given``, each checked by name and type.

        >>> get_verifier("numeric").resolved_options({"rel_tol": 0.01})
        {'rel_tol': 0.01, 'abs_tol': 0.0}
        >>> get_verifier("numeric").resolved_options({"tol": 0.01})
        Traceback (most recent call last):
        ...
        srmzoo.errors.SrmzooError: verifier_options: the numeric verifier has no option 'tol'
          hint: its options: rel_tol (default 0.0), abs_tol (default 0.0)
        """
        offered = ", ".join(f"{k} (default {v!r})" for k, v in self.options.items()) or "none"
        out = dict(self.options)
        for key, value in (given or {}).items():
            if key not in self.options:
                raise SrmzooError(f"{where}: the {self.name} verifier has no option {key!r}",
                                  hint=f"its options: {offered}")
            default = self.options[key]
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not type(default):
                raise SrmzooError(
                    f"{where}.{key}: expected {type(default).__name__}, got {type(value).__name__} {value!r}",
                    hint=f"e.g. {key}: {default!r}")
            out[key] = value
        return out

    def judge_many(self, completions: Sequence[str], examples: Sequence[Example]) -> list[Check]:
        """:attr:`check_batch` where the verifier has one, else :attr:`judge` on each pair."""
        if self.check_batch is not None:
            return self.check_batch(list(completions), list(examples))
        return [self.judge(c, e) for c, e in zip(completions, examples, strict=True)]


_VERIFIERS: dict[str, Verifier] = {}


def register_verifier(verifier: Verifier) -> Verifier:
    """Make ``verifier`` available by its name (a second, different verifier of one name is an error)."""
    known = _VERIFIERS.get(verifier.name)
    if known is not None and known != verifier:
        raise ValueError(f"verifier {verifier.name!r} registered twice")
    _VERIFIERS[verifier.name] = verifier
    return verifier


def get_verifier(name: str) -> Verifier:
    """The verifier registered as ``name``; the domains (and plug-ins) are imported to find it.

    >>> get_verifier("exakt")
    Traceback (most recent call last):
    ...
    srmzoo.errors.UnknownNameError: unknown verifier 'exakt'; did you mean: exact?
      hint: known verifiers: code-tests, exact, math-verify, numeric, smiles
    """
    if name not in _VERIFIERS:
        domain_names()  # imports every domain, which registers its verifiers
    if name not in _VERIFIERS:
        raise UnknownNameError("verifier", name, sorted(_VERIFIERS))
    return _VERIFIERS[name]


def verifier_names() -> list[str]:
    """Every registered verifier's name (the domains' included).

    >>> {"numeric", "exact", "math-verify"} <= set(verifier_names())
    True
    """
    domain_names()
    return sorted(_VERIFIERS)


# --------------------------------------------------------------------------------------------- numeric

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_FRACTION = re.compile(r"([-+]?\d+)\s*/\s*(\d+)")
_LATEX_FRACTION = re.compile(r"([-+]?)\\[dt]?frac\s*\{\s*([-+]?\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_DECORATION = re.compile(r"\\[$%,;!: ]|\\text\s*\{[^{}]*\}|\\mathrm\s*\{[^{}]*\}|[$%]|\{,\}")
_UNITS = re.compile(r"(?<=[\d.])\s*[A-Za-z°µ][A-Za-z°µ/^\d]*\.?$")


def parse_number(text: str) -> float | None:
    r"""One number written in ``text`` (``1,234.5``, ``-3e-2``, ``3/4``, ``\frac{3}{4}``, ``x = 5``, ``$12``,
    ``25%``, ``12 km``), as a float; None when it is not exactly one finite number.

    >>> parse_number("1,234.5"), parse_number(r"\frac{3}{4}"), parse_number("x = -2"), parse_number("12 km")
    (1234.5, 0.75, -2.0, 12.0)
    >>> parse_number("3 or 4") is None, parse_number("") is None, parse_number("1/0") is None
    (True, True, True)
    """
    s = text.strip()
    if len(s) > 100:
        return None
    s = re.sub(r"^[A-Za-z]\s*=\s*", "", s)
    s = _DECORATION.sub("", s).strip()
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)
    s = _UNITS.sub("", s).strip()
    if m := _LATEX_FRACTION.fullmatch(s):
        num, den = int(m.group(2)), int(m.group(3))
        value = -num / den if m.group(1) == "-" and den else num / den if den else math.nan
    elif m := _FRACTION.fullmatch(s):
        den = int(m.group(2))
        value = int(m.group(1)) / den if den else math.nan
    elif _NUMBER.fullmatch(s):
        value = float(s)
    else:
        return None
    return value if math.isfinite(value) else None


def _numeric(completion: str, example: Example) -> Check:
    gold = parse_number(example.answer)
    boxed = last_boxed(completion_text(completion))
    if boxed is None:
        return Check(Verdict.UNVERIFIABLE, None, "no \\boxed{} answer")
    predicted = parse_number(boxed)
    if predicted is None or gold is None:
        return Check(Verdict.UNVERIFIABLE if predicted is None else Verdict.WRONG, boxed,
                     "the boxed answer is not one number" if predicted is None else "the gold answer is not a number")
    rel_tol, abs_tol = float(example.meta.get("rel_tol", 0.0)), float(example.meta.get("abs_tol", 0.0))
    allowed = max(abs_tol, rel_tol * abs(gold))
    error = abs(predicted - gold)
    verdict = Verdict.CORRECT if error <= allowed + 1e-9 * max(1.0, abs(gold)) else Verdict.WRONG
    return Check(verdict, boxed, f"|{predicted:g} - {gold:g}| = {error:.4g}, allowed {allowed:.4g}")


def _numeric_gold(answer: str) -> str | None:
    return None if parse_number(answer) is not None else "is not a number (the numeric verifier compares numbers)"


def _numeric_vote_key(answer: str) -> str:
    value = parse_number(answer)
    return f"{value:.9g}" if value is not None else "".join(answer.split())


register_verifier(Verifier(
    name="numeric",
    description="the last \\boxed{} number against the gold number, within rel_tol (relative) or abs_tol",
    judge=_numeric,
    options={"rel_tol": 0.0, "abs_tol": 0.0},
    check_gold=_numeric_gold,
    vote_key=_numeric_vote_key,
))


# ----------------------------------------------------------------------------------------------- exact


def _fold(text: str, ignore_case: bool) -> str:
    folded = " ".join(text.split())
    return folded.casefold() if ignore_case else folded


def _exact(completion: str, example: Example) -> Check:
    boxed = last_boxed(completion_text(completion))
    if boxed is None or not boxed.strip():
        return Check(Verdict.UNVERIFIABLE, boxed, "no \\boxed{} answer, or an empty one")
    ignore_case = bool(example.meta.get("ignore_case", False))
    same = _fold(boxed, ignore_case) == _fold(example.answer, ignore_case)
    return Check(Verdict.CORRECT if same else Verdict.WRONG, boxed)


register_verifier(Verifier(
    name="exact",
    description="the last \\boxed{} text equals the gold answer, white space folded (ignore_case: also case)",
    judge=_exact,
    options={"ignore_case": False},
    check_gold=lambda answer: None if answer.strip() else "is empty",
))
