r"""Multiple-choice medical QA (MedQA, MedMCQA, PubMedQA) as :class:`Example` rows, and its verifier.

Nothing here ships data: these benchmarks are not on PyPI, so :func:`load_medical_qa` reads them from the
Hugging Face Hub with ``datasets.load_dataset`` when online, or from local files in the same schema
(``data_files=``, loaded through ``load_dataset("json", ...)``). The schemas:

* ``medqa`` -- ``GBaker/MedQA-USMLE-4-options``: ``question``, ``options`` (``{"A": ..., "D": ...}``),
  ``answer_idx`` (a letter); default split ``test``.
* ``medmcqa`` -- ``openlifescienceai/medmcqa``: ``question``, ``opa``..``opd``, ``cop`` (0-3); default
  split ``validation`` (its ``test`` split has no answers: ``cop`` is -1).
* ``pubmedqa`` -- ``qiaojin/PubMedQA``, config ``pqa_labeled``: ``question``, ``context.contexts`` (the
  abstract's paragraphs), ``final_decision`` (yes/no/maybe, asked as options A/B/C); split ``train``.

The answer is a letter. :func:`extract_choice` reads it from ``\boxed{C}``, "The answer is (C)",
"Answer: c", or a final line that is just "C." (in that order of preference); a boxed option text
("\boxed{maybe}") counts as its letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from srmzoo.domain import Check, Example, Verdict, last_boxed
from srmzoo.errors import SrmzooError, UnknownNameError

__all__ = ["QA_SOURCES", "QASource", "check_choice", "choice_question", "extract_choice", "load_medical_qa"]


@dataclass(frozen=True)
class QASource:
    """Where a multiple-choice benchmark lives on the Hub and which split holds its labelled test items."""

    hub_id: str
    config: str | None
    default_split: str
    license: str  # as the dataset card on the Hub states it


QA_SOURCES: dict[str, QASource] = {
    "medqa": QASource("GBaker/MedQA-USMLE-4-options", None, "test", "CC-BY-4.0"),
    "medmcqa": QASource("openlifescienceai/medmcqa", None, "validation", "Apache-2.0"),
    "pubmedqa": QASource("qiaojin/PubMedQA", "pqa_labeled", "train", "MIT"),
}

_LETTERS = "ABCDE"


def choice_question(stem: str, options: Sequence[str]) -> str:
    r"""The user message for a multiple-choice item: the stem, lettered options, the answer format.

    >>> print(choice_question("Which vitamin deficiency causes scurvy?", ["A", "B1", "C", "D"]))
    Which vitamin deficiency causes scurvy?
    <BLANKLINE>
    A. A
    B. B1
    C. C
    D. D
    <BLANKLINE>
    Answer with the letter of the best option in \boxed{}.
    """
    lines = [f"{_LETTERS[i]}. {text}" for i, text in enumerate(options)]
    return (
        f"{stem.strip()}\n\n"
        + "\n".join(lines)
        + "\n\nAnswer with the letter of the best option in \\boxed{}."
    )


def _letter(text: str, letters: str, options: Sequence[str]) -> str | None:
    """A letter from a short answer string: "C", "(c)", "C.", "C) Vitamin C", or an option's own text."""
    s = re.sub(r"\\(?:text|mathrm|textbf|mathbf)\s*\{([^{}]*)\}", r"\1", text).strip().strip("*$ ")
    m = re.fullmatch(
        rf"(?:option\s*)?[\(\[]?([{letters}])[\)\]]?(?:[.:)]\s*.*)?", s, flags=re.IGNORECASE | re.DOTALL
    )
    if m:
        return m.group(1).upper()
    lowered = s.rstrip(".").strip().lower()
    matches = [letters[i] for i, o in enumerate(options) if o.strip().lower() == lowered]
    return matches[0] if len(matches) == 1 else None


def extract_choice(completion: str, letters: str = "ABCD", options: Sequence[str] = ()) -> str | None:
    r"""The option letter a completion commits to, or None.

    A boxed answer decides when present (even if unreadable: then None); otherwise the last explicit
    "answer is X" / "Answer: X"; otherwise a last line holding only the letter.

    >>> [extract_choice(t) for t in ["The answer is (C).", "C.", r"so \boxed{C}", "Answer: c", "A patient"]]
    ['C', 'C', 'C', 'C', None]
    >>> extract_choice(r"\boxed{maybe}", "ABC", ["yes", "no", "maybe"])
    'C'
    """
    boxed = last_boxed(completion)
    if boxed is not None:
        return _letter(boxed, letters, options)
    stated = re.findall(
        rf"(?:answer|option)\s*(?:is|:)?\s*(?:option\s*)?\**\s*[\(\[]?([{letters}])[\)\]]?\**(?![A-Za-z])",
        completion,
        flags=re.IGNORECASE,
    )
    if stated:
        return stated[-1].upper()
    lines = [line.strip() for line in completion.strip().splitlines() if line.strip()]
    if lines:
        m = re.fullmatch(rf"\**[\(\[]?([{letters}])[\)\]]?[.:)]?\**", lines[-1])
        if m:
            return m.group(1)
    return None


def check_choice(completion: str, answer: str, meta: Mapping[str, Any]) -> Check:
    r"""Verify a multiple-choice completion against the gold letter.

    >>> check_choice("The answer is (B)", "B", {"letters": "ABCD"}).verdict.value
    'correct'
    >>> check_choice("I am not sure", "B", {"letters": "ABCD"}).verdict.value
    'unverifiable'
    """
    letters = str(meta.get("letters") or "ABCD")
    predicted = extract_choice(completion, letters, list(meta.get("options") or ()))
    if predicted is None:
        return Check(Verdict.UNVERIFIABLE, None, "no option letter found")
    verdict = Verdict.CORRECT if predicted == answer.strip().upper() else Verdict.WRONG
    return Check(verdict, predicted)


# ---------------------------------------------------------------------------------------------- loaders


def _medqa(row: Mapping[str, Any]) -> tuple[str, list[str], str]:
    options = row["options"]
    return row["question"], [str(options[k]) for k in sorted(options)], str(row["answer_idx"]).strip().upper()


def _medmcqa(row: Mapping[str, Any]) -> tuple[str, list[str], str]:
    cop = int(row["cop"])
    if cop not in range(4):
        raise SrmzooError(
            f"medmcqa item {row.get('id', '?')!r} has no answer (cop={cop})",
            hint="medmcqa's test split is unlabelled; use split='validation'",
        )
    return row["question"], [str(row[k]) for k in ("opa", "opb", "opc", "opd")], "ABCD"[cop]


def _pubmedqa(row: Mapping[str, Any]) -> tuple[str, list[str], str]:
    decisions = ["yes", "no", "maybe"]
    decision = str(row["final_decision"]).strip().lower()
    if decision not in decisions:
        raise SrmzooError(
            f"pubmedqa item {row.get('pubid', '?')!r} has final_decision {decision!r}",
            hint="pqa_labeled rows are labelled yes, no or maybe",
        )
    context = row["context"]
    paragraphs = context["contexts"] if isinstance(context, Mapping) else context
    stem = "Context: " + " ".join(str(p) for p in paragraphs) + f"\n\nQuestion: {row['question']}"
    return stem, decisions, "ABC"[decisions.index(decision)]


_ROW_READERS = {"medqa": _medqa, "medmcqa": _medmcqa, "pubmedqa": _pubmedqa}


def load_medical_qa(
    source: str,
    split: str | None = None,
    n: int | None = None,
    *,
    data_files: str | Sequence[str] | None = None,
) -> list[Example]:
    """Multiple-choice items of ``source`` (``medqa``, ``medmcqa``, ``pubmedqa``) as examples.

    Args:
        source: which benchmark schema (see the module docstring).
        split: the Hub split; defaults to the source's labelled evaluation split.
        n: keep the first ``n`` items (all when None).
        data_files: local JSON/JSONL files in the source's schema; read instead of the Hub.

    Returns:
        Examples with ``answer`` the gold letter and ``meta["answer_kind"] == "choice"``.

    Raises:
        SrmzooError: unknown source, a dataset that cannot be loaded (offline, wrong path) or rows that do
            not follow the schema.

    >>> load_medical_qa("medcqa")
    Traceback (most recent call last):
    ...
    srmzoo.errors.UnknownNameError: unknown medical QA source 'medcqa'; did you mean: medmcqa, medqa, pubmedqa?
      hint: known medical QA sources: medmcqa, medqa, pubmedqa
    """
    if source not in QA_SOURCES:
        raise UnknownNameError("medical QA source", source, QA_SOURCES)
    spec = QA_SOURCES[source]
    from datasets import load_dataset

    try:
        if data_files is not None:
            split = split or "train"
            rows = load_dataset("json", data_files=data_files, split="train")
        else:
            split = split or spec.default_split
            rows = load_dataset(spec.hub_id, spec.config, split=split)
    except Exception as err:  # datasets raises many types (offline, missing file, bad JSON); report one
        where = data_files if data_files is not None else f"{spec.hub_id} ({split})"
        raise SrmzooError(
            f"cannot load {source} from {where}: {type(err).__name__}: {err}",
            hint="the Hub needs network access; offline, pass data_files= with JSON rows in the same schema",
        ) from err
    if n is not None:
        rows = rows.select(range(min(n, len(rows))))
    examples = []
    for i, row in enumerate(rows):
        try:
            stem, options, gold = _ROW_READERS[source](row)
        except (KeyError, TypeError, ValueError) as err:
            raise SrmzooError(
                f"{source} row {i} does not follow the schema: missing or bad {err}",
                hint=f"see the {spec.hub_id} dataset card for the fields",
            ) from err
        letters = _LETTERS[: len(options)]
        if gold not in letters:
            raise SrmzooError(f"{source} row {i}: answer {gold!r} is not one of {', '.join(letters)}")
        solution = f"The answer is ({gold}) {options[letters.index(gold)]}.\n\\boxed{{{gold}}}"
        meta = {
            "answer_kind": "choice",
            "letters": letters,
            "options": options,
            "source": spec.hub_id,
            "license": spec.license,
        }
        examples.append(
            Example(
                f"healthcare/{source}/{split}/{i:05d}",
                source,
                choice_question(stem, options),
                gold,
                solution,
                meta,
            )
        )
    return examples
