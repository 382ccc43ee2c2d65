"""GPQA (``Idavidrein/gpqa``) as multiple-choice Example rows, for evaluation only.

GPQA holds graduate-level biology, chemistry and physics questions (CC-BY-4.0; gated on the Hub: accept
its terms and log in first). Each row has ``Question``, ``Correct Answer`` and ``Incorrect Answer 1..3``
(plus ``Explanation``, ``Record ID``, ``High-level domain``, ``Subdomain``). The four answers become options
A-D in an order fixed by the row's ``Record ID`` (SHA-256 seeded, so every run and machine agrees); the
gold answer is the correct option's letter, checked by the ``choice`` verifier. The dataset's authors ask
that its examples not be revealed online: do not train on it or publish its rows.

Offline, or for a pinned copy, pass ``data_files``: a local JSON, JSON Lines, Parquet or CSV file in the
same schema, read through ``datasets.load_dataset`` like the Hub copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from srmzoo.domain import Example, benchmark_rows
from srmzoo.errors import SrmzooError, UnknownNameError

from .sampling import stable_shuffle

__all__ = ["GPQA_CONFIGS", "GPQA_PATH", "gpqa_example", "load_gpqa"]

GPQA_PATH = "Idavidrein/gpqa"
GPQA_CONFIGS = ("gpqa_diamond", "gpqa_main", "gpqa_extended")
LETTERS = "ABCD"
_ANSWER_COLUMNS = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
COLUMNS = ("Question", *_ANSWER_COLUMNS)

def gpqa_example(row: Mapping[str, Any], index: int, config: str = "gpqa_diamond") -> Example:
    r"""One GPQA row as an Example with lettered options in a fixed shuffled order; the answer is a letter.

    Raises:
        SrmzooError: when the question or one of the four answers is missing or empty.

    >>> row = {"Question": "2 + 2?", "Correct Answer": "4", "Incorrect Answer 1": "3",
    ...        "Incorrect Answer 2": "5", "Incorrect Answer 3": "22", "Record ID": "rec1"}
    >>> ex = gpqa_example(row, 0)
    >>> ex.id, ex.answer, ex.question.splitlines()[2 + "ABCD".index(ex.answer)]
    ('gpqa/gpqa_diamond/rec1', 'D', 'D) 4')
    """
    texts = {}
    for column in COLUMNS:
        value = row.get(column)
        if value is None or not str(value).strip():
            raise SrmzooError(
                f"GPQA row {index} has no {column!r}", hint=f"every GPQA row needs: {', '.join(COLUMNS)}"
            )
        texts[column] = str(value).strip()
    record = str(row.get("Record ID") or f"{index:05d}").strip()
    order = stable_shuffle(range(4), "gpqa", record)  # order[k]: which answer column is option k
    options = [texts[_ANSWER_COLUMNS[j]] for j in order]
    letter = LETTERS[order.index(0)]
    question = (
        texts["Question"]
        + "\n\n"
        + "\n".join(f"{LETTERS[k]}) {text}" for k, text in enumerate(options))
        + "\n\nAnswer with the letter of the correct option."
    )
    explanation = str(row.get("Explanation") or "").strip()
    lines = [explanation] if explanation else []
    solution = "\n".join([*lines, f"The correct option is {letter}.", f"\\boxed{{{letter}}}"])
    meta = {
        "kind": "choice",
        "letters": LETTERS,
        "source": GPQA_PATH,
        "config": config,
        "record_id": record,
        "domain": str(row.get("High-level domain") or ""),
        "subdomain": str(row.get("Subdomain") or ""),
    }
    return Example(f"gpqa/{config}/{record}", "gpqa", question, letter, solution, meta)


def load_gpqa(
    config: str = "gpqa_diamond", *, n: int | None = None, data_files: str | Path | None = None
) -> list[Example]:
    """The first ``n`` (default: all) GPQA rows as Examples, from the Hub or a local copy in its schema.

    Args:
        config: ``gpqa_diamond`` (198 questions), ``gpqa_main`` (448) or ``gpqa_extended`` (546).
        n: how many rows, in the dataset's order; None for all.
        data_files: a local file in GPQA's schema, used instead of the Hub.

    Raises:
        SrmzooError: unknown config, missing or unreadable file, missing columns, or the Hub unreachable.

    >>> load_gpqa(data_files="missing.jsonl")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: GPQA file not found: missing.jsonl
      hint: pass an existing JSON, JSON Lines, Parquet or CSV file with the columns Question, Correct Answer, Incorrect Answer 1, Incorrect Answer 2, Incorrect Answer 3
    """
    if config not in GPQA_CONFIGS:
        raise UnknownNameError("GPQA config", config, GPQA_CONFIGS)
    rows = benchmark_rows("GPQA", COLUMNS, hub=(GPQA_PATH, config, "train"), n=n, data_files=data_files,
                          hub_hint="GPQA is gated: accept its terms on the Hub and log in (hf auth login); "
                          "offline, pass data_files= a local copy in the same schema")
    return [gpqa_example(row, i, config) for i, row in enumerate(rows)]
