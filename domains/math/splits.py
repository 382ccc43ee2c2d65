"""From generators to Example rows, with train, test and ood disjoint by construction.

How the splits are kept apart:

* **Seed streams.** Example ``i`` of a family draws from ``random.Random`` seeded by the SHA-256 of
  ``"math|<split>|<family>|<seed>|<i>"``, so each (split, family, seed, index) has its own stream and
  nothing depends on Python's salted ``hash()`` or on which other families were asked for.
* **train vs test: a partition of the problem space.** Every problem has a ``key``: its mathematical
  content (structure and numbers, not names or wording). The SHA-256 of the family and key puts one key in
  :data:`TEST_SHARE` in ``test`` and the rest in ``train``; each split's generator redraws until the key
  lands on its own side. A test problem therefore never poses a training problem's arithmetic, not even
  reworded, for any seeds of either split.
* **ood vs train/test: held-out templates, more steps, larger numbers.** The ``ood`` split uses only
  phrasing templates that train/test never use, longer problems (more operations or steps), and value
  ranges that train/test never draw; each family's module docstring gives its exact ranges.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence

from srmzoo.domain import Example

from .arithmetic import arithmetic
from .breadth import BREADTH_FAMILIES
from .fraction_arithmetic import fraction_arithmetic
from .linear_equations import linear_equation
from .percentages import percentages
from .problem import Problem, solution_text
from .word_problems import word_problem

__all__ = ["FAMILIES", "TEST_SHARE", "generate_examples", "split_of_key"]

Generator = Callable[..., Problem]

FAMILIES: dict[str, Generator] = {
    "arithmetic": arithmetic,
    "fractions": fraction_arithmetic,
    "percentages": percentages,
    "linear_equation": linear_equation,
    "word_problem": word_problem,
}

TEST_SHARE = 5  # one problem key in five belongs to test
_MAX_DRAWS = 1000  # a split side holds >= 1/TEST_SHARE of the keys, so this is never reached in practice


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def split_of_key(family: str, key: tuple) -> str:
    """Which of ``train`` and ``test`` owns a problem, from its family and mathematical content.

    >>> split_of_key("arithmetic", ("arithmetic", "3 + 4 × 2")) in ("train", "test")
    True
    """
    return "test" if int.from_bytes(_digest(repr((family, key)))[:8], "big") % TEST_SHARE == 0 else "train"


def _rng(split: str, family: str, seed: int, index: int) -> random.Random:
    return random.Random(int.from_bytes(_digest(f"math|{split}|{family}|{seed}|{index}")[:8], "big"))


def _draw(split: str, family: str, seed: int, index: int) -> Problem:
    rng = _rng(split, family, seed, index)
    generator = FAMILIES.get(family) or BREADTH_FAMILIES[family]
    for _ in range(_MAX_DRAWS):
        problem = generator(rng, ood=split == "ood")
        if split == "ood" or split_of_key(family, problem.key) == split:
            return problem
    raise RuntimeError(f"no {split} problem for {family} in {_MAX_DRAWS} draws: the key space is too small")


def _example(split: str, family: str, index: int, problem: Problem) -> Example:
    return Example(
        id=f"math/{split}/{family}/{index:05d}",
        family=family,
        question=problem.question,
        answer=problem.answer_text,
        solution=solution_text(problem.steps, problem.answer_text),
        meta={
            "answer_kind": "number",
            "lowest_terms": family == "fractions",
            "steps": len(problem.steps),
            **problem.meta,
        },
    )


def generate_examples(split: str, n: int, *, seed: int, families: Sequence[str]) -> list[Example]:
    """``n`` examples of ``split``, dealt round-robin over ``families``; ids count within each family.

    >>> [e.id for e in generate_examples("test", 3, seed=0, families=["arithmetic", "fractions"])]
    ['math/test/arithmetic/00000', 'math/test/fractions/00000', 'math/test/arithmetic/00001']
    """
    out = []
    for i in range(n):
        family, index = families[i % len(families)], i // len(families)
        out.append(_example(split, family, index, _draw(split, family, seed, index)))
    return out
