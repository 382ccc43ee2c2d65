r"""A domain made of the user's own questions: ``domain: dataset`` with ``data.dataset`` in the recipe.

The rows come from a local JSON Lines, JSON, CSV or Parquet file or from a Hub dataset (pinned by
revision), read with ``datasets``; a column mapping says which column is the question, the answer and,
optionally, a worked solution (what SFT trains on; without one SFT trains on the bare answer in the
verifier's format). The answers are checked by a verifier picked by name (:mod:`srmzoo.verifiers`).
The ``test`` split is a file or Hub split of its own, or else a share of the train rows chosen by the
SHA-256 of each question, so a question (up to case and white space) is never on both sides::

    name: my-questions-135m
    domain: dataset
    model: {base: smollm2-135m-instruct}
    data:
      dataset:
        train: {path: questions.jsonl, columns: {question: q, answer: a}}
        verifier: numeric
        verifier_options: {rel_tol: 0.01}
    eval: {splits: [test]}

Every problem with the data is one :class:`~srmzoo.errors.SrmzooError` naming the recipe key, the file,
the row and column, and the fix: a missing or empty file, a missing column, an empty or mistyped value, a
gold answer the verifier cannot read, a solution that does not state its answer the way the verifier reads
it. Training records each source's SHA-256 in the adapter's metadata, and evaluating a trained entry
refuses a file that has changed since.

The core names no domain: :func:`recipe_domain` and :func:`adapter_domain` return this domain for a
recipe or adapter with user data and the registered domain otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .domain import (
    LOCAL_DATASET_BUILDERS,
    Check,
    Domain,
    Example,
    completion_text,
    get_domain,
    read_local_dataset,
    register_reward,
    row_meta,
)
from .errors import SrmzooError, UnknownNameError
from .recipe import DATASET_DOMAIN, ColumnsConfig, DatasetConfig, DataSourceConfig, Recipe
from .verifiers import Verifier, get_verifier

__all__ = [
    "DEFAULT_FAMILY",
    "DatasetDomain",
    "adapter_domain",
    "dataset_correct",
    "examples_sha256",
    "held_out",
    "recipe_domain",
]

log = logging.getLogger(__name__)

DEFAULT_FAMILY = "dataset"  # the family of every row when the data has no family column


def examples_sha256(examples: Sequence[Example]) -> str:
    """SHA-256 of examples as canonical JSON Lines (sorted keys, UTF-8, one line each, in order), the digest
    data manifests record for every split.

    >>> examples_sha256([])
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example.to_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def held_out(question: str, share: float) -> bool:
    """Whether a train row goes to the held-out ``test`` split: the SHA-256 of its question (case and white
    space folded) as a number in [0, 1) falls below ``share``. Duplicates land on one side.

    >>> held_out("What is 2 + 2?", 0.5) == held_out("  what is 2 +  2? ", 0.5)
    True
    >>> sum(held_out(f"question {i}", 0.2) for i in range(1000))
    212
    """
    key = " ".join(question.casefold().split()).encode("utf-8")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64 < share


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _missing(value: Any) -> bool:
    """None, an empty string, or NaN (CSV and Parquet readers give NaN for an empty cell)."""
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str | None:
    """A cell as text: strings as they are, integers and finite floats written out; None for other types."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


class _Source:
    """One ``data.dataset.<split>`` source: where it is, its columns, and what was read from it."""

    def __init__(self, split: str, config: DataSourceConfig, columns: ColumnsConfig) -> None:
        self.split, self.config, self.columns = split, config, columns
        self.where = f"data.dataset.{split}"
        self.label = config.path if config.path is not None else f"{config.hub} (Hub, split {config.split or 'train'})"

    def read(self) -> tuple[Any, str | None]:
        """The rows as a ``datasets.Dataset``, and the local file's SHA-256 (None for a Hub dataset)."""
        if self.config.path is None:
            return self._read_hub(), None
        path = Path(self.config.path).expanduser()
        builders = ", ".join(sorted(LOCAL_DATASET_BUILDERS))
        if not path.is_file():
            raise SrmzooError(
                f"{self.where}: file not found: {self.config.path}"
                + ("" if path.is_absolute() else f" (relative paths are read from the current directory, {os.getcwd()})"),
                hint=f"run srmzoo from the directory that holds it, or give its absolute path ({builders} files)")
        if path.stat().st_size == 0:
            raise SrmzooError(f"{self.where}: {self.config.path} is empty",
                              hint=f"write one row per line with the columns {self.columns.question!r} and "
                              f"{self.columns.answer!r}, e.g. {{\"{self.columns.question}\": \"What is 2 + 3?\", "
                              f"\"{self.columns.answer}\": \"5\"}}")
        hint = (f"a {builders} file whose rows all have the same columns, each column of one type (quote every "
                f"answer as a string if some answers are numbers and some text)")
        ds = read_local_dataset(path, label=self.where, hint=hint)
        return ds, _sha256_file(path)

    def _read_hub(self) -> Any:
        import datasets

        c = self.config
        try:
            return datasets.load_dataset(c.hub, c.config, split=c.split or "train", revision=c.revision)
        except Exception as err:  # noqa: BLE001 — network, missing repo, bad split: one message
            raise SrmzooError(
                f"{self.where}: could not load the Hub dataset {c.hub} (config {c.config or 'default'}, split "
                f"{c.split or 'train'}, revision {c.revision or 'main'}): {type(err).__name__}: {str(err)[:300]}",
                hint="check the id, config, split and revision (and HF_TOKEN for a private dataset); offline, "
                "save it as a file and give path: instead",
            ) from err

    def column_names(self, ds: Any) -> dict[str, str]:
        """Role -> column, every mapped column checked to be in ``ds``; an unmapped ``solution`` column is used
        when the data has one."""
        have = list(ds.column_names)
        roles = {"question": self.columns.question, "answer": self.columns.answer}
        for role in ("solution", "id", "family"):
            if getattr(self.columns, role) is not None:
                roles[role] = getattr(self.columns, role)
        if "solution" not in roles and "solution" in have:
            roles["solution"] = "solution"
        for role, column in roles.items():
            if column not in have:
                raise SrmzooError(
                    f"{self.where}: {self.label} has no column {column!r} for the {role} (its columns: "
                    f"{', '.join(have) or 'none'})",
                    hint=f"rename that column in the data, or map it: {self.where}.columns.{role}: COLUMN")
        return roles


def _rows_error(source: _Source, row: int, role: str, column: str, problem: str, hint: str) -> SrmzooError:
    return SrmzooError(f"{source.where}: {source.label} row {row}: the {role} (column {column!r}) {problem}",
                       hint=hint)


class DatasetDomain(Domain):
    r"""The user's own questions and answers (``data.dataset``), checked by a registered verifier.

    Splits are ``train``, ``test`` (a source of its own, or the held-out share of train) and ``ood`` when the
    recipe gives one. The files are read when a split is first drawn, so a trained entry loads (to
    solve, serve, check) without them.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "q.jsonl"
    >>> _ = path.write_text('{"q": "What is 6 x 7?", "a": 42}\n{"q": "What is 9 - 4?", "a": "5"}\n')
    >>> config = DatasetConfig.from_dict({"train": {"path": str(path), "columns": {"question": "q", "answer": "a"}},
    ...                                   "verifier": "numeric", "holdout": 0})
    >>> domain = DatasetDomain(config)
    >>> [(e.question, e.answer, e.solution) for e in domain.examples("train", 5)][0]
    ('What is 6 x 7?', '42', 'The answer is \\boxed{42}.')
    >>> domain.check(r"6 x 7 = 42, so \boxed{42}", domain.examples("train", 5)[0]).verdict.value
    'correct'
    """

    name = DATASET_DOMAIN

    def __init__(self, config: DatasetConfig, *, recorded: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.verifier: Verifier = get_verifier(config.verifier)
        self.options = self.verifier.resolved_options(config.verifier_options, where="data.dataset.verifier_options")
        self.recorded = dict(recorded or {})  # split -> source record from training: the data must not change
        self.system_prompt = f"Solve the problem step by step. {self.verifier.answer_format}"
        self.answer_cue = self.verifier.answer_cue
        self.license = config.license
        train = config.train.path or config.train.hub
        self.description = f"questions from {train}, answers checked by the {self.verifier.name} verifier"
        if config.test is not None:
            policy = f"test is a source of its own ({config.test.path or config.test.hub}); its overlap with train is measured"
        else:
            policy = (f"test is the {config.holdout:.0%} of the train rows whose question's SHA-256 (case and white "
                      "space folded) falls in the held-out share, so a question is never on both sides")
        self.split_policy = policy + ("; ood is a source of its own" if config.ood is not None else "")
        self._rows: dict[str, list[Example]] = {}
        self._records: dict[str, dict[str, Any]] = {}

    # the data, read once per split ------------------------------------------------------------------

    def _meta(self, answer: str) -> dict[str, Any]:
        extra = self.verifier.example_meta(answer) if self.verifier.example_meta else {}
        return {"verifier": self.verifier.name, **self.options, **extra}

    def _load(self, split: str) -> list[Example]:
        if split in self._rows:
            return self._rows[split]
        sources = self.config.sources()
        if split == "test" and "test" not in sources:  # the held-out share of the train rows
            self._load("train")
            return self._rows["test"]
        train_columns = self.config.train.columns or ColumnsConfig()
        source = _Source(split, sources[split], sources[split].columns or train_columns)
        ds, file_sha = source.read()
        rows = self._examples(source, ds)
        record: dict[str, Any] = {
            **({"path": source.config.path} if source.config.path is not None else
               {"hub": source.config.hub, "config": source.config.config, "split": source.config.split or "train",
                "revision": source.config.revision}),
            "file_sha256": file_sha,
            "rows": len(rows),
            "rows_sha256": examples_sha256(rows),
            "columns": source.column_names(ds),
        }
        self._check_unchanged(source, record)
        if split == "train" and "test" not in sources and self.config.holdout > 0:
            test = [replace(e, id=e.id.replace("/train/", "/test/", 1)) for e in rows
                    if held_out(e.question, self.config.holdout)]
            rows = [e for e in rows if not held_out(e.question, self.config.holdout)]
            if not rows or not test:
                raise SrmzooError(
                    f"data.dataset.holdout={self.config.holdout} leaves {len(rows)} train and {len(test)} test rows "
                    f"of the {record['rows']} in {source.label}",
                    hint="add rows, change holdout, or give held-out rows of their own (data.dataset.test)")
            self._rows["test"] = test
            self._records["test"] = {"held_out_from": "train", "holdout": self.config.holdout, "rows": len(test),
                                     "rows_sha256": examples_sha256(test)}
            record = {**record, "rows_kept_for_train": len(rows)}
        self._rows[split], self._records[split] = rows, record
        return rows

    def _check_unchanged(self, source: _Source, record: Mapping[str, Any]) -> None:
        """A trained entry's data must be what it was trained on: refuse a changed file or Hub split."""
        before = self.recorded.get(source.split)
        if not before:
            return
        key = "file_sha256" if record.get("file_sha256") else "rows_sha256"
        if before.get(key) != record.get(key):
            raise SrmzooError(
                f"{source.where}: {source.label} has changed since this entry was trained ({key} "
                f"{str(before.get(key))[:12]}... then, {str(record.get(key))[:12]}... now)",
                hint="restore the data it was trained on (its data manifest records the SHA-256), or retrain the "
                "entry on the new data")

    def _examples(self, source: _Source, ds: Any) -> list[Example]:
        roles = source.column_names(ds)
        if self.verifier.needs_solution and "solution" not in roles:
            raise SrmzooError(
                f"{source.where}: the {self.verifier.name} verifier needs a worked solution per row, and "
                f"{source.label} has none",
                hint=f"add a solution column (the reference answer as the model should write it) and map it: "
                f"{source.where}.columns.solution: COLUMN")
        examples: list[Example] = []
        ids: dict[str, int] = {}
        for i, row in enumerate(ds):
            n = i + 1
            cells: dict[str, str] = {}
            for role, column in roles.items():
                value = row[column]
                if _missing(value):
                    raise _rows_error(source, n, role, column, "is empty",
                                      hint=f"give every row a {role}, or remove the rows that have none")
                text = value.strip() if role == "question" and isinstance(value, str) else _text(value)
                if text is None or (role == "question" and not isinstance(value, str)):
                    raise _rows_error(source, n, role, column,
                                      f"is {type(value).__name__} {str(value)[:60]!r}, not text",
                                      hint=f"write the {role} as a string (a number is fine for answers and ids)")
                cells[role] = text
            answer = cells["answer"].strip()
            if self.verifier.check_gold and (problem := self.verifier.check_gold(answer)):
                raise _rows_error(source, n, "answer", roles["answer"], f"{answer[:60]!r} {problem}",
                                  hint=f"fix the answer, or pick a verifier that reads such answers "
                                  f"(data.dataset.verifier; now {self.verifier.name})")
            row_id = cells.get("id", f"{n:05d}")
            if row_id in ids:
                raise _rows_error(source, n, "id", roles.get("id", "id"),
                                  f"{row_id!r} repeats row {ids[row_id]}'s", hint="give every row its own id")
            ids[row_id] = n
            solution = cells.get("solution") or self.verifier.answer_completion(answer)
            example = Example(id=f"{DATASET_DOMAIN}/{source.split}/{row_id}", family=cells.get("family", DEFAULT_FAMILY),
                              question=cells["question"], answer=answer, solution=solution, meta=self._meta(answer))
            if "solution" in cells and self.verifier.checks_solutions:
                check = self.verifier.judge(solution, example)
                if not check.correct:
                    raise _rows_error(
                        source, n, "solution", roles["solution"],
                        f"does not reach its answer {answer[:40]!r} as the {self.verifier.name} verifier reads it "
                        f"({check.verdict.value}: read {str(check.predicted)[:40]!r})",
                        hint=f"end each solution with its final answer the way the verifier reads it ("
                        f"{self.verifier.answer_format}); or map no solution column, and SFT trains on "
                        f"{self.verifier.answer_completion('ANSWER')!r}")
            examples.append(example)
        if not examples:
            raise SrmzooError(f"{source.where}: {source.label} has no rows",
                              hint=f"give it rows with the columns {roles['question']!r} and {roles['answer']!r}")
        return examples

    def records(self) -> dict[str, dict[str, Any]]:
        """Per split: where its rows came from, the file's and the rows' SHA-256, and row counts (every split
        is read)."""
        for split in self.config.splits():
            self._load(split)
        return {split: dict(self._records[split]) for split in self.config.splits()}

    # the Domain interface -------------------------------------------------------------------------------

    @property
    def families(self) -> tuple[str, ...]:  # type: ignore[override]
        """The train rows' families, in order of first appearance."""
        return tuple(dict.fromkeys(e.family for e in self._load("train")))

    @property
    def data_version(self) -> str:  # type: ignore[override]
        """The first 12 hex digits of the train rows' SHA-256: it changes whenever the data does."""
        return examples_sha256(self._load("train"))[:12]

    def check_split(self, split: str, *, benchmarks: bool = False) -> None:
        if split not in self.config.splits():
            raise SrmzooError(f"the dataset has no split {split!r}",
                              hint=f"its splits: {', '.join(self.config.splits())} (ood needs data.dataset.ood)")

    def examples(self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None) -> list[Example]:
        """At most ``n`` rows of ``split`` in the data's order: all of them when there are at most ``n``, else a
        sample seeded by ``seed`` (each row ranked by the SHA-256 of the seed and its id).

        Raises:
            SrmzooError: an unknown split or family, a bad ``n`` or ``seed``, or a problem with the data.
        """
        self.check_split(split)
        for label, value in (("n", n), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SrmzooError(f"{label} must be a non-negative integer, got {value!r}", hint=f"e.g. {label}=100")
        rows = self._load(split)
        if families is not None:
            if isinstance(families, str):
                raise SrmzooError(f"families must be a list of names, got the string {families!r}",
                                  hint=f"use [{families!r}]")
            known = tuple(dict.fromkeys(e.family for e in rows))
            for family in families:
                if family not in known:
                    raise UnknownNameError(f"{split} family", family, known)
            rows = [e for e in rows if e.family in families]
        if n >= len(rows):
            return rows
        rank = sorted(range(len(rows)), key=lambda i: hashlib.sha256(f"{seed}:{rows[i].id}".encode()).digest())
        return [rows[i] for i in sorted(rank[:n])]

    def _with_options(self, example: Example) -> Example:
        """The example with the verifier's options in its meta (a bare gold answer has none)."""
        if all(key in example.meta for key in self.options):
            return example
        return replace(example, meta={**self._meta(example.answer), **example.meta})

    def extract_answer(self, completion: Any) -> str | None:
        return self.verifier.extract(completion_text(completion))

    def check(self, completion: Any, example: Example) -> Check:
        return self.verifier.judge(completion_text(completion), self._with_options(example))

    def check_batch(self, completions: Sequence[str], examples: Sequence[Example]) -> list[Check]:
        return self.verifier.judge_many(list(completions), [self._with_options(e) for e in examples])

    def answer_completion(self, answer: str) -> str:
        return self.verifier.answer_completion(answer)

    def vote_key(self, answer: str, example: Example) -> str:
        return self.verifier.vote_key(answer) if self.verifier.vote_key else super().vote_key(answer, example)


def recipe_domain(recipe: Recipe) -> Domain:
    """The domain a recipe trains on: its user data (``data.dataset``) or the registered ``recipe.domain``.

    >>> recipe_domain(Recipe.from_dict({"name": "x", "domain": "math", "model": {"base": "s"}})).name
    'math'
    """
    if recipe.data.dataset is not None:
        return DatasetDomain(recipe.data.dataset)
    return get_domain(recipe.domain)


def dataset_record(recipe: Recipe, domain: Domain | None = None) -> dict[str, Any] | None:
    """What a trained adapter records of its user data (``srmzoo_adapter.json``'s ``dataset``): the recipe's
    ``data.dataset`` and each split's source, SHA-256 and row counts; None for a generated domain."""
    if recipe.data.dataset is None:
        return None
    domain = domain if isinstance(domain, DatasetDomain) else DatasetDomain(recipe.data.dataset)
    return {"config": recipe.to_dict()["data"]["dataset"], "sources": domain.records()}


def adapter_domain(meta: Mapping[str, Any]) -> Domain:
    """The domain of a trained adapter from its metadata: its user data, checked to be unchanged since
    training, or the registered domain it names.

    >>> adapter_domain({"domain": "math"}).name
    'math'
    """
    record = meta.get("dataset")
    if meta.get("domain") == DATASET_DOMAIN or record:
        if not isinstance(record, Mapping) or not isinstance(record.get("config"), Mapping):
            raise SrmzooError("the adapter's metadata says domain: dataset but does not record its data.dataset",
                              hint="retrain it with this srmzoo (srmzoo train RECIPE)")
        config = DatasetConfig.from_dict(dict(record["config"]), source="the adapter's srmzoo_adapter.json")
        return DatasetDomain(config, recorded=record.get("sources") or {})
    return get_domain(meta["domain"])


@register_reward("dataset_correct")
def dataset_correct(completions: list[Any], **columns: Any) -> list[float | None]:
    r"""1.0 when the completion's answer passes the row's verifier (``meta["verifier"]``, with its options),
    0.0 when wrong, None when unverifiable: the correctness reward of ``domain: dataset`` entries.

    >>> dataset_correct([r"\boxed{2.0}", r"\boxed{3}"], answer=["2", "2"], meta=['{"verifier": "numeric"}'] * 2)
    [1.0, 0.0]
    """
    n = len(completions)
    answers = columns.get("answer", columns.get("answers"))
    checks: list[float | None] = []
    for i, completion in enumerate(completions):
        meta = row_meta(columns, i, n)
        if "verifier" not in meta:
            raise SrmzooError("dataset_correct scores rows of a domain: dataset entry (meta names the verifier)",
                              hint="use the correctness reward of the recipe's domain (srmzoo rewards lists them)")
        gold = answers if isinstance(answers, str) or answers is None else answers[i]
        example = Example(str(i), "", "", str(gold), "", meta)
        checks.append(get_verifier(meta["verifier"]).judge(completion_text(completion), example).score)
    return checks
