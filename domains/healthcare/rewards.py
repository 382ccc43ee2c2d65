r"""RL rewards of the healthcare domain: correctness (through the domain's verifier) and answer format.

Both take TRL's reward signature ``(completions, **columns) -> list[float | None]``; the dataset columns
``answer`` and ``meta`` (a dict or the JSON string ``Domain.dataset`` stores) say what each completion is
checked against. ``__init__`` registers them as ``healthcare_correct`` and ``healthcare_format``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from srmzoo.domain import completion_text, get_domain, last_boxed, row_meta

from .benchmarks import extract_choice
from .verify import boxed_tail_is_clean, parse_number

__all__ = ["healthcare_correct", "healthcare_format"]


def healthcare_correct(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    r"""1.0 correct, 0.0 wrong, None unverifiable, per completion (the healthcare verifier).

    >>> healthcare_correct(["BMI = 27.46 kg/m^2\n\\boxed{27.46}"], answer=["27.5"],
    ...                    meta=[{"answer_kind": "number", "rel_tol": 0.02}])
    [1.0]
    >>> healthcare_correct(["\\boxed{B}", "no idea"], answer=["C", "C"])
    [0.0, None]
    """
    return get_domain("healthcare").score_completions(completions, **columns)


def healthcare_format(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when a completion ends with exactly one boxed answer that parses (a number, or an option letter
    for multiple choice), else 0.0.

    >>> healthcare_format(["so \\boxed{12} mmol/L is wrong", "AG = 12\n\\boxed{12}", "\\boxed{12}\\boxed{13}"])
    [0.0, 1.0, 0.0]
    >>> healthcare_format(["\\boxed{C}"], meta=[{"answer_kind": "choice", "letters": "ABCD"}])
    [1.0]
    """
    n = len(completions)
    scores: list[float | None] = []
    for i, completion in enumerate(completions):
        text = completion_text(completion)
        meta = row_meta(columns, i, n)
        kind = meta.get("answer_kind")
        ok = boxed_tail_is_clean(text)
        if ok:
            is_number = parse_number(last_boxed(text)) is not None
            is_choice = (
                extract_choice(text, str(meta.get("letters") or "ABCDE"), meta.get("options") or ())
                is not None
            )
            ok = {"number": is_number, "choice": is_choice}.get(kind, is_number or is_choice)
        scores.append(1.0 if ok else 0.0)
    return scores
