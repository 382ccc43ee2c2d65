"""Public math benchmarks from the Hugging Face Hub as Example rows, for evaluation only.

* ``gsm8k``: ``openai/gsm8k``, config ``main``, split ``test`` (1,319 grade-school word problems, MIT).
  Fields ``question`` and ``answer``; the answer is a worked solution with ``<<48/2=24>>`` calculator
  notes, ending in ``#### 72``.
* ``math500``: ``HuggingFaceH4/MATH-500``, split ``test`` (500 competition problems from MATH, MIT).
  Fields ``problem``, ``solution``, ``answer``, ``subject``, ``level`` (and ``unique_id``).

These are never training data here. In particular, never evaluate on GSM8K a model trained on
reasoning-gym's ``gsm_symbolic`` (or any GSM-Symbolic data): its templates are made from the GSM8K *test*
set, so the score would measure memorised templates, not reasoning.

Offline, or for a pinned copy, pass ``data_files``: a local JSON, JSON Lines, Parquet or CSV file in the
same schema, read through ``datasets.load_dataset`` like the Hub copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srmzoo.domain import Example, benchmark_rows
from srmzoo.errors import SrmzooError, UnknownNameError

from .problem import solution_text

__all__ = ["BENCHMARKS", "HubBenchmark", "gsm8k_example", "load_benchmark", "math500_example"]


def gsm8k_example(row: Mapping[str, Any], index: int) -> Example:
    r"""One GSM8K row as an Example: calculator notes dropped, ``#### N`` turned into a boxed final line.

    >>> ex = gsm8k_example({"question": "Q?", "answer": "2 * 3 = <<2*3=6>>6 pens\n#### 1,006"}, 7)
    >>> ex.id, ex.answer, ex.solution
    ('gsm8k/test/00007', '1006', '2 * 3 = 6 pens\nThe answer is \\boxed{1006}.')
    """
    reasoning, sep, final = str(row["answer"]).rpartition("####")
    answer = final.strip().replace(",", "")
    if not sep or not re.fullmatch(r"-?\d+(?:\.\d+)?", answer):
        raise SrmzooError(
            f"GSM8K row {index} has no '#### <number>' final answer: {str(row['answer'])[-60:]!r}",
            hint="the answer field must end in '#### N', as in openai/gsm8k",
        )
    steps = [line.strip() for line in re.sub(r"<<[^>]*>>", "", reasoning).splitlines() if line.strip()]
    return Example(
        id=f"gsm8k/test/{index:05d}",
        family="gsm8k",
        question=str(row["question"]).strip(),
        answer=answer,
        solution=solution_text(steps, answer),
        meta={"answer_kind": "number", "source": "openai/gsm8k"},
    )


def math500_example(row: Mapping[str, Any], index: int) -> Example:
    r"""One MATH-500 row as an Example; answers are expressions, so only math-verify judges them.

    >>> ex = math500_example({"problem": "P", "solution": r"\boxed{\frac{1}{2}}", "answer": r"\frac{1}{2}",
    ...                       "subject": "Algebra", "level": 2, "unique_id": "test/algebra/1.json"}, 0)
    >>> ex.id, ex.meta["answer_kind"], ex.meta["level"]
    ('math500/test/algebra/1', 'expression', 2)
    """
    uid = str(row.get("unique_id") or f"{index:05d}").removeprefix("test/").removesuffix(".json")
    return Example(
        id=f"math500/test/{uid}",
        family="math500",
        question=str(row["problem"]).strip(),
        answer=str(row["answer"]).strip(),
        solution=str(row["solution"]).strip(),
        meta={
            "answer_kind": "expression",
            "subject": str(row["subject"]),
            "level": int(row["level"]),
            "source": "HuggingFaceH4/MATH-500",
        },
    )


@dataclass(frozen=True)
class HubBenchmark:
    """Where a benchmark lives on the Hub and how its rows become Examples."""

    path: str
    config: str | None
    split: str
    license: str
    columns: tuple[str, ...]
    to_example: Callable[[Mapping[str, Any], int], Example]


BENCHMARKS: dict[str, HubBenchmark] = {
    "gsm8k": HubBenchmark("openai/gsm8k", "main", "test", "MIT", ("question", "answer"), gsm8k_example),
    "math500": HubBenchmark(
        "HuggingFaceH4/MATH-500",
        None,
        "test",
        "MIT",
        ("problem", "solution", "answer", "subject", "level"),
        math500_example,
    ),
}


def load_benchmark(name: str, *, n: int | None = None, data_files: str | Path | None = None) -> list[Example]:
    """The first ``n`` (default: all) rows of a benchmark as Examples, from the Hub or a local copy.

    Args:
        name: a key of :data:`BENCHMARKS` (``gsm8k``, ``math500``).
        n: how many rows, in the dataset's order; None for all.
        data_files: a local file in the benchmark's schema, used instead of the Hub.

    Raises:
        SrmzooError: unknown name, missing or unreadable file, missing columns, or the Hub unreachable.

    >>> load_benchmark("gsm8k", data_files="missing.jsonl")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: gsm8k file not found: missing.jsonl
      hint: pass an existing JSON, JSON Lines, Parquet or CSV file with the columns question, answer
    """
    if name not in BENCHMARKS:
        raise UnknownNameError("math benchmark", name, BENCHMARKS)
    bench = BENCHMARKS[name]
    rows = benchmark_rows(name, bench.columns, hub=(bench.path, bench.config, bench.split), n=n, data_files=data_files)
    return [bench.to_example(row, i) for i, row in enumerate(rows)]
