r"""From generators to Example rows, with train, test and ood disjoint by construction.

Families:

* ``function_synthesis``: write a small function from a specification and one example call; checked by
  running hidden unit tests in the sandbox. Solution: a 2-3 line plan, then the code in a ```` ```python ````
  block (the answer; no ``\boxed`` for code, see :mod:`.answer_format`).
* ``bug_fix``: the same functions with one typical bug planted; give the corrected function. Solution: what
  is wrong, then the fixed code in a ```` ```python ```` block.
* ``output_prediction``: what does a short program print? Solution: a trace of 1-5 lines, then
  ``The output is \boxed{...}``. Truths come from a reference evaluation (:mod:`.program_tracing`).

How the splits are kept apart:

* **Seed streams.** Example ``i`` of a family draws from ``random.Random`` seeded by the SHA-256 of
  ``"coding|<split>|<family>|<seed>|<i>"``; no salted ``hash()``, and a family's examples do not depend on
  which other families were asked for.
* **train vs test, code families: a partition of each task's variants.** Every task in
  :data:`~.function_tasks.TASKS` has a finite list of variants (its constants and options: k = 3 and
  "not divisible"; the range 5 to 15). Ranked by the SHA-256 of ``(task, variant)``, the first fifth
  (at least one) belong to test, the rest to train, for both code families alike; function names,
  parameter names and test inputs are drawn freely. A test task therefore never asks for a function a
  training task asks for (under other names), in synthesis or in bug fixing, for any seeds.
* **train vs test, output prediction: a partition of program shapes.** A program's shape is its AST with
  variable names canonicalised (:func:`~.program_tracing.program_shape`); the SHA-256 of the shape puts
  one in five in test, and each split's generator redraws until the shape lands on its side.
* **ood: held-out tasks, program kinds and phrasings.** ``ood`` uses only
  :data:`~.function_tasks.OOD_TASKS` (sums of powers, prefix/suffix counts, longest word, pair counts,
  strided slices) and :data:`~.program_tracing.OOD_KINDS` (nested loops, string building, two
  accumulators, loops inside functions, 4-5 line arithmetic chains: longer programs than train has),
  asked in question templates train and test never use.

External benchmarks (HumanEval, MBPP) are never generated here: see :mod:`.benchmarks`.
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

from srmzoo.domain import Example

from .answer_format import python_block
from .function_tasks import OOD_TASKS, TASKS, Bug, FunctionSpec, FunctionTask, buggy_source
from .program_tracing import KINDS, OOD_KINDS, program_shape

__all__ = [
    "FAMILIES",
    "OOD_QUESTIONS",
    "QUESTIONS",
    "TEST_SHARE",
    "generate_examples",
    "shape_split",
    "task_variants",
    "unit_tests",
]

FAMILIES = ("function_synthesis", "output_prediction", "bug_fix")
TEST_SHARE = 5  # one variant (or program shape) in five belongs to test
RANDOM_CASES = 4  # random test cases on top of a task's edge cases
_MAX_DRAWS = 1000

QUESTIONS = {
    "function_synthesis": "Write a Python function `{signature}` that {does}.\nFor example, `{call}` returns `{result}`.",
    "bug_fix": "Fix the bug in this function. `{signature}` should {do}.\n{code}",
    "output_prediction": "What does this Python program print?\n{code}",
}
OOD_QUESTIONS = {
    "function_synthesis": "Implement `{signature}` in Python. It {does}.\nExample: `{call}` should give `{result}`.",
    "bug_fix": "This function has a bug: `{signature}` is supposed to {do}. Give the corrected code.\n{code}",
    "output_prediction": "Trace this Python program by hand. Exactly what does it print?\n{code}",
}


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def task_variants(task: FunctionTask, split: str) -> tuple[tuple[Any, ...], ...]:
    """The variants of a train/test task that belong to ``split`` (``"train"`` or ``"test"``).

    >>> clamp = TASKS["clamp"]
    >>> test, train = task_variants(clamp, "test"), task_variants(clamp, "train")
    >>> len(test), len(train), set(test) & set(train)
    (7, 28, set())
    """
    ranked = sorted(task.variants, key=lambda v: _digest(repr((task.name, v))))
    n_test = max(1, len(ranked) // TEST_SHARE)
    return tuple(ranked[:n_test] if split == "test" else ranked[n_test:])


def shape_split(shape: str) -> str:
    """Which of ``train`` and ``test`` owns a program shape.

    >>> shape_split(program_shape("x = 1\\nprint(x)")) in ("train", "test")
    True
    """
    return "test" if _digest(shape) % TEST_SHARE == 0 else "train"


def _rng(split: str, family: str, seed: int, index: int) -> random.Random:
    return random.Random(_digest(f"coding|{split}|{family}|{seed}|{index}"))


def _catches(bug: Bug, args: tuple[Any, ...], expected: Any) -> bool:
    try:
        return bug.behaviour(*copy.deepcopy(args)) != expected  # the asserts compare plain values with ==
    except Exception:
        return True


def unit_tests(rng: random.Random, spec: FunctionSpec) -> list[tuple[tuple[Any, ...], Any]]:
    """Test cases ``(args, expected)``: the edge cases, then random ones, enough to catch every listed bug.

    Expected values come from the spec's reference behaviour. The first random case is the one the
    question shows.

    Raises:
        RuntimeError: some bug survives every drawn case (a defect of the catalogue; the tests check all).

    >>> spec = TASKS["clamp"].build(random.Random(0), (0, 10))
    >>> cases = unit_tests(random.Random(0), spec)
    >>> cases[:2]
    [((-1,), 0), ((0,), 0)]
    """
    cases: list[tuple[tuple[Any, ...], Any]] = []
    seen: set[str] = set()

    def add(args: tuple[Any, ...]) -> None:
        if repr(args) not in seen:
            seen.add(repr(args))
            cases.append((args, spec.behaviour(*copy.deepcopy(args))))

    for args in spec.edge_args:
        add(args)
    for _ in range(_MAX_DRAWS):
        if len(cases) >= len(spec.edge_args) + RANDOM_CASES:
            break
        add(spec.draw_args(rng))
    for bug in spec.bugs:
        for _ in range(_MAX_DRAWS):
            if any(_catches(bug, args, expected) for args, expected in cases):
                break
            add(spec.draw_args(rng))
        else:
            raise RuntimeError(f"no test catches the bug {bug.right!r} -> {bug.wrong!r} of {spec.task}")
    if len(cases) == len(spec.edge_args):
        raise RuntimeError(f"{spec.task} drew no random test case")
    return cases


def _call(name: str, args: tuple[Any, ...]) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def _infinitive(does: str) -> str:
    # "returns the sum ..." -> "return the sum ...", for "`f(x)` should return the sum ..."
    verb, _, rest = does.partition(" ")
    return f"{verb.removesuffix('s')} {rest.replace(' and returns ', ' and return ')}"


def _code_example(split: str, family: str, seed: int, index: int) -> Example:
    rng = _rng(split, family, seed, index)
    tasks = OOD_TASKS if split == "ood" else TASKS
    names = sorted(tasks)
    task = tasks[names[(index + seed) % len(names)]]
    variants = task.variants if split == "ood" else task_variants(task, split)
    spec = task.build(rng, rng.choice(variants))
    cases = unit_tests(rng, spec)
    tests = "\n".join(f"assert {_call(spec.name, args)} == {expected!r}" for args, expected in cases) + "\n"
    meta: dict[str, Any] = {
        "answer_kind": "code",
        "tests": tests,
        "task": spec.task,
        "variant": list(spec.variant),
        "function": spec.name,
    }
    templates = OOD_QUESTIONS if split == "ood" else QUESTIONS
    if family == "function_synthesis":
        args, result = cases[len(spec.edge_args)]
        question = templates[family].format(
            signature=spec.signature, does=spec.does, call=_call(spec.name, args), result=repr(result)
        )
        solution = "\n".join([*spec.plan, python_block(spec.source)])
    else:
        bug = rng.choice(spec.bugs)
        buggy = buggy_source(spec, bug)
        question = templates[family].format(
            signature=spec.signature, do=_infinitive(spec.does), code=python_block(buggy)
        )
        solution = "\n".join([bug.why, "The corrected function:", python_block(spec.source)])
        meta["buggy_code"] = buggy
    return Example(f"coding/{split}/{family}/{index:05d}", family, question, spec.name, solution, meta)


def _output_example(split: str, family: str, seed: int, index: int) -> Example:
    rng = _rng(split, family, seed, index)
    kinds = OOD_KINDS if split == "ood" else KINDS
    names = sorted(kinds)
    kind = names[(index + seed) % len(names)]
    for _ in range(_MAX_DRAWS):
        program = kinds[kind](rng)
        if split == "ood" or shape_split(program_shape(program.code)) == split:
            break
    else:
        raise RuntimeError(f"no {split} program of kind {kind} in {_MAX_DRAWS} draws")
    templates = OOD_QUESTIONS if split == "ood" else QUESTIONS
    return Example(
        id=f"coding/{split}/{family}/{index:05d}",
        family=family,
        question=templates[family].format(code=python_block(program.code)),
        answer=program.output,
        solution="\n".join([*program.steps, f"The output is \\boxed{{{program.output}}}."]),
        meta={"answer_kind": "output", "program": program.code, "kind": kind, "steps": len(program.steps)},
    )


_BUILDERS: dict[str, Callable[[str, str, int, int], Example]] = {
    "function_synthesis": _code_example,
    "bug_fix": _code_example,
    "output_prediction": _output_example,
}


def generate_examples(split: str, n: int, *, seed: int, families: Sequence[str]) -> list[Example]:
    """``n`` examples of ``split``, dealt round-robin over ``families``; ids count within each family.

    >>> [e.id for e in generate_examples("test", 3, seed=0, families=["function_synthesis", "bug_fix"])]
    ['coding/test/function_synthesis/00000', 'coding/test/bug_fix/00000', 'coding/test/function_synthesis/00001']
    """
    out = []
    for i in range(n):
        family, index = families[i % len(families)], i // len(families)
        out.append(_BUILDERS[family](split, family, seed, index))
    return out
