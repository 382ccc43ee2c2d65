"""Rewards for RL on math: correctness through the domain's verifier, and answer format.

Plain functions ``(completions, **columns) -> list[float | None]`` as TRL calls them; the package
``__init__`` registers them as ``math_correct`` and ``math_format``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from srmzoo.domain import completion_text

from .domain import MathDomain
from .verify import ends_with_one_boxed_answer

__all__ = ["math_correct", "math_format"]


@cache
def _domain() -> MathDomain:
    return MathDomain()


def math_correct(completions: list[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when the last boxed answer equals the gold ``answer`` column, 0.0 when not, None when unverifiable.

    Pass the dataset's ``meta`` column too (TRL does) so the number rules for generated data apply.

    >>> math_correct(["... \\boxed{1/2}", "\\boxed{3}", "no answer"], answer=["0.5", "4", "4"])
    [1.0, 0.0, None]
    """
    return _domain().score_completions(completions, **columns)


def math_format(completions: list[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when a completion ends with exactly one parseable ``\boxed{}`` answer, else 0.0.

    >>> math_format(["3 × 14 = 42. The answer is \\boxed{42}.", "\\boxed{4} or \\boxed{5}"])
    [1.0, 0.0]
    """
    return [1.0 if ends_with_one_boxed_answer(completion_text(c)) else 0.0 for c in completions]
