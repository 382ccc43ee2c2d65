"""Rewards for RL on science: correctness through the domain's verifier, and answer format.

Plain functions ``(completions, **columns) -> list[float | None]`` as TRL calls them; the package
``__init__`` registers them as ``science_correct`` and ``science_format``. Both need the dataset's ``meta``
column (TRL passes every column), which names the kind of answer: formula, number, SMILES, sequence, ...
"""

from __future__ import annotations

from functools import cache
from typing import Any

from srmzoo.domain import completion_text, row_meta, sole_boxed

from .domain import ScienceDomain
from .verify import answer_parses

__all__ = ["ends_with_one_boxed_answer", "science_correct", "science_format"]

MAX_ANSWER_CHARS = 1000


@cache
def _domain() -> ScienceDomain:
    return ScienceDomain()


def science_correct(completions: list[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when the last boxed answer matches the gold, 0.0 when not, None when there is no boxed answer.

    >>> science_correct(["... \\boxed{H2OC}", "\\boxed{CH4}", "no answer"], answer=["CH2O"] * 3,
    ...                 meta=[{"kind": "formula"}] * 3)
    [1.0, 0.0, None]
    """
    return _domain().score_completions(completions, **columns)


def ends_with_one_boxed_answer(completion: str, meta: dict[str, Any] | None = None) -> bool:
    r"""True when the completion holds exactly one ``\boxed{}``, only punctuation follows it, and it parses.

    With ``meta``, "parses" means as that kind of answer (a valid SMILES, a formula, ...); without, non-empty.

    >>> ends_with_one_boxed_answer(r"so \boxed{CCO}.", {"kind": "smiles"})
    True
    >>> ends_with_one_boxed_answer(r"\boxed{CCO} or \boxed{OCC}"), ends_with_one_boxed_answer(r"\boxed{C1CC}", {"kind": "smiles"})
    (False, False)
    """
    content = sole_boxed(completion)
    if not content or len(content) > MAX_ANSWER_CHARS:
        return False
    return answer_parses(content, meta) if meta else True


def science_format(completions: list[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when a completion ends with exactly one boxed answer that parses as its kind, else 0.0.

    >>> science_format(["A C=O carbon... \\boxed{yes}", "\\boxed{C1CC}"], meta=[{"kind": "yes_no"}, {"kind": "smiles"}])
    [1.0, 0.0]
    """
    n = len(completions)
    return [1.0 if ends_with_one_boxed_answer(completion_text(c), row_meta(columns, i, n) or None) else 0.0
            for i, c in enumerate(completions)]
