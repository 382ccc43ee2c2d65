"""Rewards for RL on science: correctness through the domain's verifier, and answer format.

Plain functions ``(completions, **columns) -> list[float | None]`` as TRL calls them; the package
``__init__`` registers them as ``science_correct`` and ``science_format``. Both need the dataset's ``meta``
column (TRL passes every column), which names the kind of answer: formula, number, SMILES, sequence, ...
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from srmzoo.domain import completion_text

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
    if completion.count("\\boxed{") != 1:
        return False
    tail = completion.split("\\boxed{", 1)[1]
    depth = 1
    for i, ch in enumerate(tail):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            content, after = tail[:i].strip(), tail[i + 1 :]
            break
    else:
        return False  # unclosed: cut off mid-answer
    if not content or len(content) > MAX_ANSWER_CHARS or not re.fullmatch(r"[\s.!$)\]\\]*", after):
        return False
    return answer_parses(content, meta) if meta else True


def science_format(completions: list[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when a completion ends with exactly one boxed answer that parses as its kind, else 0.0.

    >>> science_format(["A C=O carbon... \\boxed{yes}", "\\boxed{C1CC}"], meta=[{"kind": "yes_no"}, {"kind": "smiles"}])
    [1.0, 0.0]
    """
    metas = columns.get("meta")
    scores: list[float | None] = []
    for i, completion in enumerate(completions):
        meta = metas[i] if isinstance(metas, (list, tuple)) and len(metas) == len(completions) else metas
        if isinstance(meta, str):
            meta = json.loads(meta)
        scores.append(1.0 if ends_with_one_boxed_answer(completion_text(completion), meta or None) else 0.0)
    return scores
