r"""Rewards for RL on coding: correctness through the domain's verifier, and answer format.

Plain functions ``(completions, **columns) -> list[float | None]`` as TRL calls them; the package
``__init__`` registers them as ``coding_correct`` and ``coding_format``. Both want the dataset's ``meta``
column (TRL passes every column): it holds the unit tests, and says whether an answer is code or output.
``coding_correct`` runs a batch's code two sandboxes at a time (:func:`srmzoo.sandbox.run_many`), with
the verifier's policy (:mod:`.verify`): full isolation or an explicit opt-in, and a verdict the code under
test cannot forge, so RL cannot learn to fake a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from srmzoo.domain import completion_text, row_meta

from .answer_format import ends_with_code_block, ends_with_one_boxed_answer
from .domain import CodingDomain

__all__ = ["coding_correct", "coding_format"]


@cache
def _domain() -> CodingDomain:
    return CodingDomain()


def coding_correct(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when the code passes the tests (or the boxed output is right), 0.0 when not, None without an answer.

    >>> meta = {"answer_kind": "code", "tests": "assert add(2, 3) == 5"}
    >>> coding_correct(["```python\ndef add(a, b):\n    return a + b\n```", "```python\ndef add(a, b):\n    return a - b\n```",
    ...                 "I would add them."], answer=["add"] * 3, meta=[meta] * 3)
    [1.0, 0.0, None]
    >>> coding_correct(["It prints \\boxed{19}."], answer=["19"], meta=[{"answer_kind": "output"}])
    [1.0]
    """
    return _domain().score_completions(completions, **columns)


def coding_format(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when a completion ends in its task's answer form, else 0.0.

    Code tasks: a closed python block that parses, with nothing after it. Output tasks: exactly one
    non-empty ``\boxed{}``, followed by punctuation at most. Without a ``meta`` column either form counts.

    >>> coding_format(["Add them.\n```python\ndef add(a, b):\n    return a + b\n```", "\\boxed{19}.", "```python\nx = (\n```"])
    [1.0, 1.0, 0.0]
    >>> coding_format(["\\boxed{19}."], meta=[{"answer_kind": "code", "tests": "assert True"}])
    [0.0]
    """
    n = len(completions)
    scores: list[float | None] = []
    for i, completion in enumerate(completions):
        text = completion_text(completion)
        kind = row_meta(columns, i, n).get("answer_kind")
        code_ok = kind != "output" and ends_with_code_block(text)
        output_ok = kind != "code" and ends_with_one_boxed_answer(text)
        scores.append(1.0 if code_ok or output_ok else 0.0)
    return scores
