r"""GSM-Symbolic from reasoning-gym as a fixed external math set, for **evaluation only**.

`reasoning-gym <https://github.com/open-thought/reasoning-gym>`_ (Apache-2.0, the only licence file its
wheel ships) re-implements the templates of Apple's GSM-Symbolic (arXiv:2410.05229; the
``apple/GSM-Symbolic`` data are CC-BY-NC-ND-4.0) as Python generators, 85 of them usable (its
``tasks_ok``). Each template was made from a problem of the **GSM8K test set** (openai/grade-school-math,
MIT): names and numbers are redrawn, the problem stays. That is why this set is evaluation only, and why
nothing here ever trains on ``gsm_symbolic``: a model that has seen these templates has seen GSM8K's test
problems (see also :mod:`.benchmarks`).

The set is ``reasoning_gym.create_dataset("gsm_symbolic", seed=GSM_SYMBOLIC_SEED, size=GSM_SYMBOLIC_SIZE)``
in index order, generated offline from the installed package, so anyone can regenerate it; its items
depend on the reasoning-gym version (recorded in each item's meta; data manifests record the sha256).
Answers are numbers (all but a few integers; a solution's ``#### 8.0`` is the answer ``8``). The question is the template's text without the sentence reasoning-gym
appends ("Give the result as your final answer. Do not include units."): the domain's system prompt asks
for the boxed answer, as for every other math item. The worked solution is the template's own
(``answer_cot``) with its ``#### N`` line turned into the boxed final line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from srmzoo.domain import Example
from srmzoo.errors import SrmzooError

from .problem import solution_text

__all__ = ["GSM_SYMBOLIC_SEED", "GSM_SYMBOLIC_SIZE", "GSM_SYMBOLIC_SOURCE", "gsm_symbolic_examples"]

GSM_SYMBOLIC_SEED = 0
GSM_SYMBOLIC_SIZE = 500
GSM_SYMBOLIC_SOURCE = (
    f"GSM-Symbolic, {GSM_SYMBOLIC_SIZE} items (reasoning-gym's gsm_symbolic generator, seed {GSM_SYMBOLIC_SEED}, "
    "offline; reasoning-gym Apache-2.0; templates after Apple's GSM-Symbolic, CC-BY-NC-ND-4.0, made from "
    "GSM8K test problems, MIT: evaluation only, never trained on)"
)
_APPENDED = " Give the result as your final answer. Do not include units."


def _reasoning_gym_dataset():
    try:
        import reasoning_gym
    except ImportError as err:
        raise SrmzooError(
            "the gsm-symbolic set needs the reasoning-gym package", hint="pip install reasoning-gym"
        ) from err
    return reasoning_gym.create_dataset("gsm_symbolic", seed=GSM_SYMBOLIC_SEED, size=GSM_SYMBOLIC_SIZE)


def _version() -> str:
    from importlib.metadata import version

    return version("reasoning-gym")


def gsm_symbolic_example(row: Mapping[str, Any], index: int, template: int, version: str) -> Example:
    r"""One reasoning-gym ``gsm_symbolic`` row as an Example with a boxed worked solution.

    Raises:
        SrmzooError: the row's answer is not a number, or its solution does not end in ``#### <answer>``.

    >>> row = {"question": "Ann has 2 pens and buys 3. How many? Give the result as your final answer. "
    ...        "Do not include units.", "answer": "5",
    ...        "metadata": {"answer_cot": "She has 2 + 3 = 5 pens.\n#### 5"}}
    >>> ex = gsm_symbolic_example(row, 7, 12, "0.1.25")
    >>> ex.id, ex.question, ex.answer, ex.solution.splitlines()[-1]
    ('gsm-symbolic/test/00007', 'Ann has 2 pens and buys 3. How many?', '5', 'The answer is \\boxed{5}.')
    """
    answer = str(row["answer"]).strip()
    reasoning, sep, final = str(row["metadata"]["answer_cot"]).rpartition("####")
    stated = final.strip().replace(",", "")
    number = re.compile(r"-?\d+(?:\.\d+)?")
    if not (number.fullmatch(answer) and sep and number.fullmatch(stated) and float(stated) == float(answer)):
        raise SrmzooError(
            f"gsm_symbolic item {index} (template {template}) has answer {answer!r} and solution ending "
            f"{str(row['metadata']['answer_cot'])[-40:]!r}",
            hint="expected a number and a solution ending in '#### <the number>' (has reasoning-gym changed?)",
        )
    steps = [line.strip() for line in reasoning.splitlines() if line.strip()]
    return Example(
        id=f"gsm-symbolic/test/{index:05d}",
        family="gsm-symbolic",
        question=str(row["question"]).removesuffix(_APPENDED).strip(),
        answer=answer,
        solution=solution_text(steps, answer),
        meta={
            "answer_kind": "number",
            "source": f"reasoning-gym {version} gsm_symbolic (seed {GSM_SYMBOLIC_SEED}, index {index})",
            "template": template,
        },
    )


def gsm_symbolic_examples(n: int | None = None) -> list[Example]:
    """The first ``n`` (default: all :data:`GSM_SYMBOLIC_SIZE`) items of the fixed GSM-Symbolic set.

    Raises:
        SrmzooError: reasoning-gym is not installed, ``n`` is not a non-negative integer or None, or a
            generated row does not have the expected shape.

    >>> [(e.id, e.meta["template"]) for e in gsm_symbolic_examples(2)]
    [('gsm-symbolic/test/00000', 81), ('gsm-symbolic/test/00001', 70)]
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise SrmzooError(f"n must be a non-negative integer or None, got {n!r}", hint="e.g. n=300")
    dataset = _reasoning_gym_dataset()
    version = _version()
    count = GSM_SYMBOLIC_SIZE if n is None else min(n, GSM_SYMBOLIC_SIZE)
    return [gsm_symbolic_example(dataset[i], i, dataset.task_indices[i], version) for i in range(count)]
