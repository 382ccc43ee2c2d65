"""The domain interface every plug-in implements, and the registries the core looks domains up in.

A domain provides, for its problems:

* **data**: deterministic generators (or loaders) of :class:`Example` rows for the splits ``train``,
  ``test`` (held out, in distribution) and ``ood`` (held out, out of distribution); splits are disjoint by
  construction (seeds, value ranges, templates, molecules);
* a **prompt**: the system prompt and how a problem becomes the user message;
* a **verifier**: :meth:`Domain.check` turns a completion and an example into a :class:`Check`
  (correct / wrong / unverifiable); evaluation and RL rewards both use it;
* **rewards**: plain functions ``(completions, *, answers, **kw) -> list[float | None]`` registered by name.

The core never imports a domain by name: ``srmzoo.domains.<name>`` modules register themselves when
imported, and :func:`get_domain` imports ``srmzoo.domains.<name>`` on first use. Third-party domains are
installed packages that declare an entry point in the group ``srmzoo.domains`` (:data:`ENTRY_POINT_GROUP`),
whose object is a :class:`Domain` subclass (registered under its ``name``) or a module that registers its
domains when imported::

    [project.entry-points."srmzoo.domains"]
    parity = "srmzoo_parity:ParityDomain"
"""

from __future__ import annotations

import abc
import enum
import importlib
import importlib.metadata
import json
import logging
import pkgutil
import random
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from .errors import SrmzooError, UnknownNameError
from .phrasing import SurfaceForms, restyle_question
from .recipe import DATASET_DOMAIN, PHRASINGS

__all__ = [
    "ENTRY_POINT_GROUP",
    "EXTERNAL_PREFIX",
    "NATURAL_SPLIT",
    "SPLITS",
    "split_slug",
    "Check",
    "Domain",
    "check_counts",
    "Example",
    "RewardFn",
    "Verdict",
    "completion_text",
    "domain_names",
    "get_domain",
    "get_reward",
    "load_plugin",
    "last_boxed",
    "benchmark_rows",
    "read_local_dataset",
    "row_meta",
    "sole_boxed",
    "register_domain",
    "register_reward",
    "reward_names",
]

SPLITS = ("train", "test", "ood")
NATURAL_SPLIT = "natural"
EXTERNAL_PREFIX = "external:"
# data.phrasing: unhinted takes the hints out of this share of the training questions: most of them, so that
# the trace, not the question, carries the formula; the rest keep it, as the test split's questions do
UNHINTED_SHARE = 0.7


def split_slug(split: str) -> str:
    """A split's name as it goes into file names (``results_<slug>.json``): ``external:humaneval`` ->
    ``external-humaneval``, so the files are valid everywhere (Windows, Hub paths).

    >>> split_slug("external:gsm-symbolic"), split_slug("test")
    ('external-gsm-symbolic', 'test')
    """
    return split.replace(":", "-")


@dataclass(frozen=True)
class Example:
    """One problem with its exact truth.

    Attributes:
        id: stable identifier, unique within a domain (e.g. ``"math/test/arith-3step/000017"``).
        family: the generator or task family, used for per-family breakdowns.
        question: the problem as put to the model (the user message, without the system prompt).
        answer: the gold final answer as a string, in the domain's canonical form.
        solution: a worked, step-by-step solution ending in the final answer in the domain's answer
            format: the reasoning trace that SFT trains on.
        meta: anything else the verifier needs (tolerances, unit tests, units), JSON-serialisable.
    """

    id: str
    family: str
    question: str
    answer: str
    solution: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Example:
        return cls(**{k: row[k] for k in ("id", "family", "question", "answer", "solution")}, meta=row.get("meta") or {})


class Verdict(str, enum.Enum):
    CORRECT = "correct"
    WRONG = "wrong"
    UNVERIFIABLE = "unverifiable"  # no answer could be parsed, or the checker timed out


@dataclass(frozen=True)
class Check:
    """A verifier's judgement of one completion.

    >>> Check(Verdict.CORRECT, predicted="4").score
    1.0
    >>> Check(Verdict.UNVERIFIABLE).score is None
    True
    """

    verdict: Verdict
    predicted: str | None = None
    detail: str = ""

    @property
    def correct(self) -> bool:
        return self.verdict is Verdict.CORRECT

    @property
    def score(self) -> float | None:
        """1.0 correct, 0.0 wrong, None unverifiable (the RL reward convention)."""
        return {Verdict.CORRECT: 1.0, Verdict.WRONG: 0.0}.get(self.verdict)


def _per_row(value: Any, n: int) -> bool:
    """Whether a reward keyword holds one value per completion (a list, tuple or ``datasets`` Column)."""
    return (
        not isinstance(value, (str, bytes, dict))
        and hasattr(value, "__len__")
        and hasattr(value, "__getitem__")
        and len(value) == n
    )


def completion_text(completion: Any) -> str:
    """The text of a completion, whether a string or a list of chat messages (TRL's conversational form).

    >>> completion_text([{"role": "assistant", "content": "x = 2"}])
    'x = 2'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    if isinstance(completion, Sequence):
        return "".join(completion_text(m) for m in completion if not isinstance(m, dict) or m.get("role") != "user")
    return str(completion)


LOCAL_DATASET_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


def read_local_dataset(data_files: str | Path, *, label: str, hint: str):
    """A local copy of a Hub dataset (JSON, JSON Lines, Parquet or CSV) through ``datasets``.

    The domains' Hub loaders (GSM8K, MATH-500, GPQA, MBPP, medical QA) read an offline copy in the same
    schema with this; each problem is one SrmzooError naming ``label`` and the file.
    """
    import datasets

    path = Path(data_files)
    if not path.is_file():
        raise SrmzooError(f"{label} file not found: {data_files}", hint=hint)
    if path.suffix not in LOCAL_DATASET_BUILDERS:
        raise SrmzooError(f"unsupported {label} file type {path.suffix!r}: {data_files}", hint=hint)
    try:
        return datasets.load_dataset(LOCAL_DATASET_BUILDERS[path.suffix], data_files=str(path), split="train")
    except Exception as err:
        raise SrmzooError(f"could not read {data_files}: {err}", hint=hint) from err


def benchmark_rows(
    label: str,
    columns: Sequence[str],
    *,
    hub: tuple[str, str | None, str],
    n: int | None = None,
    data_files: str | Path | None = None,
    hub_hint: str = "offline? pass data_files= a local copy in the same schema",
):
    """The first ``n`` (default: all) rows of an external evaluation set, from a local copy or the Hub,
    checked for the columns the loader reads.

    Args:
        label: the set's name in messages (``gsm8k``, ``GPQA``, ``MBPP``).
        columns: the columns every row must have.
        hub: ``(dataset id, config or None, split)`` on the Hub.
        n: how many rows, in the dataset's order; None for all.
        data_files: a local JSON, JSON Lines, Parquet or CSV file in the same schema, used instead of the Hub.
        hub_hint: the fix to suggest when the Hub cannot be reached.

    Raises:
        SrmzooError: a bad ``n``, a missing or unreadable file, missing columns, or the Hub unreachable.

    >>> benchmark_rows("gsm8k", ["question", "answer"], hub=("openai/gsm8k", "main", "test"), data_files="x.jsonl")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: gsm8k file not found: x.jsonl
      hint: pass an existing JSON, JSON Lines, Parquet or CSV file with the columns question, answer
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise SrmzooError(f"n must be a non-negative integer or None, got {n!r}", hint="e.g. n=100")
    import datasets

    file_hint = f"pass an existing JSON, JSON Lines, Parquet or CSV file with the columns {', '.join(columns)}"
    if data_files is not None:
        source = str(data_files)
        ds = read_local_dataset(data_files, label=label, hint=file_hint)
    else:
        path, config, split = hub
        source = path
        try:
            ds = datasets.load_dataset(path, config, split=split)
        except Exception as err:
            raise SrmzooError(
                f"could not load {path} ({config or 'default'}/{split}) from the Hub: {err}", hint=hub_hint
            ) from err
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise SrmzooError(
            f"{source} lacks the {label} column(s) {', '.join(missing)} (has: {', '.join(ds.column_names)})",
            hint=f"a {label} file needs the columns {', '.join(columns)}",
        )
    return ds if n is None else ds.select(range(min(n, len(ds))))


def row_meta(columns: Mapping[str, Any], i: int, n: int) -> dict[str, Any]:
    """Row ``i``'s ``meta`` among a reward's dataset columns (``n`` completions).

    TRL passes each column as one value per completion (a list or a ``datasets`` Column) and srmzoo's
    datasets store ``meta`` as a JSON string; a single value is everyone's. Anything that is not a dict
    (or undecodable JSON) is no meta.

    >>> row_meta({"meta": ['{"kind": "smiles"}', "{}"]}, 0, 2), row_meta({"meta": {"kind": "x"}}, 1, 2)
    ({'kind': 'smiles'}, {'kind': 'x'})
    >>> row_meta({}, 0, 1), row_meta({"meta": ["not json"]}, 0, 1)
    ({}, {})
    """
    meta = columns.get("meta")
    if _per_row(meta, n):
        meta = meta[i]
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            return {}
    return meta if isinstance(meta, dict) else {}


def check_counts(*, example: int = 100, **values: Any) -> None:
    """Each named value is a non-negative integer (``n``, ``seed`` of a data request), or one clear error.

    >>> check_counts(n=3, seed=0)
    >>> check_counts(n=-1, example=200)
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: n must be a non-negative integer, got -1
      hint: e.g. n=200
    """
    for label, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SrmzooError(f"{label} must be a non-negative integer, got {value!r}", hint=f"e.g. {label}={example}")


def sole_boxed(text: str, *, trailing: str = ".!$)]\\") -> str | None:
    r"""The content of ``text``'s only ``\boxed{...}`` (nested braces allowed, stripped), when it is closed and
    nothing but white space and ``trailing`` characters follows it; else None.

    The format rewards of every domain ask for exactly this shape: one final answer, boxed, at the end.

    >>> sole_boxed(r"so $\boxed{42}$."), sole_boxed(r"\boxed{1} or \boxed{2}"), sole_boxed(r"\boxed{42} because")
    ('42', None, None)
    >>> sole_boxed(r"\boxed{\frac{1}{2}}"), sole_boxed(r"\boxed{4"), sole_boxed(r"\boxed{}")
    ('\\frac{1}{2}', None, '')
    """
    if text.count("\\boxed{") != 1:
        return None
    tail = text.split("\\boxed{", 1)[1]
    depth = 1
    for i, ch in enumerate(tail):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            clean = re.fullmatch(f"[\\s{re.escape(trailing)}]*", tail[i + 1 :]) is not None
            return tail[:i].strip() if clean else None
    return None  # unclosed: cut off mid-answer


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` in ``text`` (nested braces allowed), or None.

    Every domain's solutions end with their final answer boxed, the convention of the reasoning
    literature, so one extractor serves all of them.

    >>> last_boxed(r"so \boxed{1} or rather \boxed{\frac{1}{2}}")
    '\\frac{1}{2}'
    >>> last_boxed("no answer") is None
    True
    """
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j].strip()
    return None  # unclosed: the completion was cut off


class Domain(abc.ABC):
    """Base class of domain plug-ins. Subclasses set the class attributes and implement the methods.

    Attributes:
        name: registry name, e.g. ``"math"``.
        description: one line for ``srmzoo list`` and model cards.
        system_prompt: instruction naming the answer format (saved with every adapter).
        families: the data families this domain generates, and draws from when a request names none.
        extra_families: opt-in families (math's breadth families): generated like the others when a request
            names them, never in the default mix, so data drawn before they existed still reproduces.
        license: license of the data (generated data: the project's own, Apache-2.0).
        data_version: bump whenever generated data changes; recorded in manifests and cards.
        disclaimer: what outputs must not be used for, shown by the reasoner, the CLI and the cards
            (healthcare: research and education only, not clinical decisions); None for most domains.
        split_policy: one sentence on how this domain keeps ``train``, ``test`` and ``ood`` disjoint
            (seeds, value ranges, templates, ...); quoted in data manifests.
        benchmarks: external evaluation sets (never training data) that ``srmzoo eval --split external:NAME``
            scores like a split: name -> one line on what it is and where it comes from.
        natural_families: the question families of the ``natural`` split (evaluation only): name -> one line
            on what it asks and how it is phrased. Whole families held out: none is in :attr:`families`, and
            no training data draws from them. Empty for a domain without a natural split.
        answer_cue: the text that makes a model state its final answer now (budget forcing,
            :mod:`srmzoo.eval.budget`), opening the domain's answer format; None where answers are not short
            (code).
        tool_traces: one line on how :meth:`tool_solution` writes the calls of tool-using traces (manifests).
        trace_styles: other styles of tool-using traces a recipe may pick (``data.traces``): name -> one line
            on how they differ (manifests); empty for none.
        family_groups: named groups of families (science: chemistry, biology), each reported as the mean of
            its families' accuracies beside the mean over all families; empty for none.
        surface_forms: how :meth:`restyle` varies a training question's wording (``data.phrasing:
            varied``, :class:`srmzoo.phrasing.SurfaceForms`); None for a domain whose questions keep their
            templates.
        hints: one line on what :meth:`unhint` takes out of a question (``data.phrasing: unhinted``: the
            formula or convention a templated question states and a person asking would not); None for a
            domain whose questions state none.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    system_prompt: ClassVar[str] = ""
    families: ClassVar[tuple[str, ...]] = ()
    extra_families: ClassVar[tuple[str, ...]] = ()
    license: ClassVar[str] = "Apache-2.0"
    data_version: ClassVar[str] = "1"
    disclaimer: ClassVar[str | None] = None
    split_policy: ClassVar[str] = ""
    benchmarks: ClassVar[Mapping[str, str]] = {}
    natural_families: ClassVar[Mapping[str, str]] = {}
    answer_cue: ClassVar[str | None] = "\n\\boxed{"
    family_groups: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    trace_styles: ClassVar[Mapping[str, str]] = {}
    surface_forms: ClassVar[SurfaceForms | None] = None
    hints: ClassVar[str | None] = None
    tool_traces: ClassVar[str] = (
        "srmzoo.tools.annotate: each computation `a op b = c` whose result the calculator reproduces exactly "
        "(same text) becomes `<<a op b>> = c`"
    )

    @abc.abstractmethod
    def examples(
        self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None
    ) -> list[Example]:
        """``n`` examples of ``split``, deterministic in (split, n, seed, families), spread over the families."""

    @abc.abstractmethod
    def extract_answer(self, completion: str) -> str | None:
        """The final answer a completion commits to, or None when it gives none."""

    @abc.abstractmethod
    def check(self, completion: str, example: Example) -> Check:
        """Verify a completion against an example's truth."""

    # Shared behaviour ---------------------------------------------------------------------------------

    def answer_completion(self, answer: str) -> str:
        r"""A minimal completion that commits to ``answer``, so :meth:`check` can judge a bare answer.

        >>> from srmzoo.domain import get_domain
        >>> get_domain("math").answer_completion("3/4")
        'The answer is \\boxed{3/4}.'
        """
        return f"The answer is \\boxed{{{answer}}}."

    def score_completions(self, completions: Sequence[Any], **columns: Any) -> list[float | None]:
        """Correctness rewards for a batch, rebuilding each example from dataset columns.

        TRL passes a reward function the completions plus every dataset column as a keyword list
        (``answer``, ``family``, ``meta``, ...); ``meta`` may be the JSON string that :meth:`dataset` stores.
        Domains register ``<name>_correct`` as a thin wrapper over this.
        """

        n = len(completions)
        examples: list[Example] = []
        for i in range(n):
            col = {k: (v[i] if _per_row(v, n) else v) for k, v in columns.items()}
            meta = row_meta(columns, i, n)
            example = Example(
                id=str(col.get("id", i)),
                family=str(col.get("family", "")),
                question=str(col.get("question", "")),
                answer=str(col["answer"] if "answer" in col else col["answers"]),
                solution=str(col.get("solution", "")),
                meta=meta,
            )
            examples.append(example)
        return [c.score for c in self.check_batch([completion_text(c) for c in completions], examples)]

    def check_batch(self, completions: Sequence[str], examples: Sequence[Example]) -> list[Check]:
        """Verify many completions; domains whose checks are costly (running code) batch them here."""
        return [self.check(c, e) for c, e in zip(completions, examples)]

    def checked_request(
        self, split: str, n: int, seed: int, families: Sequence[str] | None
    ) -> tuple[str, ...]:
        """Validate an :meth:`examples` request; returns the chosen families.

        Raises:
            SrmzooError: unknown split or family, a bare string for ``families``, no family chosen, or
                ``n``/``seed`` not a non-negative integer.
        """
        self.check_split(split)
        if isinstance(families, str):
            raise SrmzooError(f"families must be a list of names, got the string {families!r}",
                              hint=f"use [{families!r}]")
        chosen = self.check_families(families)
        if not chosen:
            raise SrmzooError(f"no {self.name} families chosen", hint=f"pick from: {', '.join(self.families)}")
        check_counts(n=n, seed=seed)
        return chosen

    def check_split(self, split: str, *, benchmarks: bool = False) -> None:
        """Refuse a name that is not a generated split (with ``benchmarks``: nor an evaluation-only set, the
        ``natural`` split or ``external:NAME``; a bare benchmark name is accepted as ``external:NAME``).

        >>> from srmzoo.domain import get_domain
        >>> get_domain("coding").check_split("external:humaneval", benchmarks=True)
        >>> get_domain("coding").check_split("humaneval")
        Traceback (most recent call last):
        ...
        srmzoo.errors.SrmzooError: 'humaneval' is an external benchmark of coding, for evaluation only
          hint: generated splits: train, test, ood
        """
        if split in SPLITS:
            return
        evaluation_only = self.evaluation_splits()
        known_eval = split in evaluation_only or self.is_external(split)
        if benchmarks and known_eval:
            return
        if known_eval:
            kind = "the held-out natural-phrasing split" if split == NATURAL_SPLIT else "an external benchmark"
            raise SrmzooError(f"{split!r} is {kind} of {self.name}, for evaluation only",
                              hint=f"generated splits: {', '.join(SPLITS)}")
        known = [*SPLITS, *evaluation_only] if benchmarks else list(SPLITS)
        raise SrmzooError(f"unknown split {split!r} for domain {self.name!r}", hint=f"use one of: {', '.join(known)}")

    def evaluation_splits(self) -> list[str]:
        """The evaluation-only split names: ``natural`` (where the domain has one) and ``external:NAME``."""
        natural = [NATURAL_SPLIT] if self.natural_families else []
        return natural + [EXTERNAL_PREFIX + name for name in self.benchmarks]

    @staticmethod
    def external_name(split: str) -> str | None:
        """The benchmark an ``external:NAME`` split names, else None.

        >>> Domain.external_name("external:gsm-symbolic"), Domain.external_name("test")
        ('gsm-symbolic', None)
        """
        return split.removeprefix(EXTERNAL_PREFIX) if split.startswith(EXTERNAL_PREFIX) else None

    def is_external(self, split: str) -> bool:
        """Whether ``split`` is one of this domain's external benchmarks (``external:NAME`` or bare ``NAME``)."""
        return (self.external_name(split) or split) in self.benchmarks

    def natural_examples(self, n: int, *, seed: int = 0) -> list[Example]:
        """``n`` items of the ``natural`` split: held-out question families (:attr:`natural_families`),
        phrased the way people ask, deterministic in (n, seed). Evaluation only.

        Raises:
            SrmzooError: the domain has no natural split (the base class has none).
        """
        raise SrmzooError(f"domain {self.name!r} has no natural split",
                          hint=f"evaluate on one of: {', '.join([*SPLITS, *self.evaluation_splits()])}")

    def benchmark_examples(self, name: str, n: int, *, seed: int = 0) -> list[Example]:
        """The first ``n`` items of the external benchmark ``name`` (one of :attr:`benchmarks`).

        Domains with external evaluation sets override this; the base class has none.

        Raises:
            UnknownNameError: ``name`` is not one of the domain's benchmarks.
        """
        raise UnknownNameError(f"{self.name} benchmark", name, self.benchmarks)

    def benchmark_unavailable(self, name: str) -> str | None:
        """Why the external benchmark ``name`` cannot be loaded here without the network, or None when it can.

        Data manifests and the contamination check load only the sets this says are available, so they never
        wait on the Hub. The base class says every benchmark loads offline; domains with Hub-only sets say why
        not (coding: MBPP without a local copy).

        >>> get_domain("coding").benchmark_unavailable("humaneval") is None
        True
        """
        return None

    def vote_key(self, answer: str, example: Example) -> str:
        """What two final answers must share to count as the same vote (self-consistency, best-of-N).

        By default the answer without whitespace; domains whose answers have many spellings of one value
        override it (numbers at the precision the question asks for, molecular formulas in any element order,
        molecules as canonical SMILES), so equivalent answers pool their votes. Called on model output: must
        not raise for any string (:func:`vote_keys` falls back to the default if it does).

        >>> from srmzoo.domain import get_domain
        >>> get_domain("coding").vote_key(" f(x) ", None)
        'f(x)'
        """
        return "".join(answer.split())

    def tool_solution(self, example: Example, tools: Sequence[str], style: str | None = None) -> str:
        r"""The worked solution a tool-using entry trains on: ``example.solution`` with its computations as
        calls to ``tools`` (:mod:`srmzoo.tools`). By default each ``a op b = c`` whose result the calculator
        reproduces as written becomes a call (:func:`srmzoo.tools.annotate`); domains whose traces round
        (healthcare) write their own, and may offer other ``style``\ s (:attr:`trace_styles`).
        """
        from .tools import annotate

        return annotate(example.solution, tools)

    def select_scores(self, completions: Sequence[str], examples: Sequence[Example]) -> list[float | None]:
        """Scores that rank completions **without the gold answer**, for best-of-N selection.

        What a deployed reasoner can check on its own: code against the examples its question shows, a
        molecule for validity. Each score is in [0, 1] (higher is better), one per completion; None where
        the domain has no such check for that item. The base class has none.
        """
        return [None] * len(completions)

    def eval_examples(self, split: str, n: int, *, seed: int = 0) -> list[Example]:
        """What an evaluation of ``split`` scores: ``n`` items of a generated split, of the natural split, or of
        an external benchmark (``external:NAME``).

        The natural split and external benchmarks (:attr:`benchmarks`) are evaluation sets only:
        :meth:`examples`, which training draws from, never returns them.
        """
        self.check_split(split, benchmarks=True)
        if split == NATURAL_SPLIT:
            return self.natural_examples(n, seed=seed)
        if self.is_external(split):
            return self.benchmark_examples(self.external_name(split) or split, n, seed=seed)
        return self.examples(split, n, seed=seed)

    def check_trace_style(self, style: str | None, tools: Sequence[str]) -> None:
        """``data.traces`` must be one of this domain's :attr:`trace_styles`, for an entry that has tools.

        >>> get_domain("math").check_trace_style("grounded", ["calculator"])
        Traceback (most recent call last):
        ...
        srmzoo.errors.SrmzooError: data.traces: the math domain has no trace style 'grounded'
          hint: its styles: direct; or remove data.traces for the default traces
        """
        from .errors import SrmzooError

        if style is None:
            return
        if style not in self.trace_styles:
            offered = ", ".join(self.trace_styles) or "none"
            raise SrmzooError(f"data.traces: the {self.name} domain has no trace style {style!r}",
                              hint=f"its styles: {offered}; or remove data.traces for the default traces")
        if not tools:
            raise SrmzooError(f"data.traces: {style!r} traces are tool traces, and data.tools is empty",
                              hint="set data.tools (e.g. [calculator]) or remove data.traces")

    def check_families(self, families: Iterable[str] | None) -> tuple[str, ...]:
        """The families asked for (all by default); an evaluation-only set named as a family is refused, so
        no training data is ever drawn from one.

        >>> get_domain("math").check_families(["gsm-symbolic"])
        Traceback (most recent call last):
        ...
        srmzoo.errors.SrmzooError: 'gsm-symbolic' is an evaluation-only set of math, never training data
          hint: evaluate on it with --split external:gsm-symbolic; training families: arithmetic, fractions, percentages, linear_equation, word_problem
        """
        if families is None:
            return self.families
        chosen = tuple(families)
        for fam in chosen:
            if fam in self.benchmarks or fam in self.natural_families:
                split = f"{EXTERNAL_PREFIX}{fam}" if fam in self.benchmarks else NATURAL_SPLIT
                raise SrmzooError(f"{fam!r} is an evaluation-only set of {self.name}, never training data",
                                  hint=f"evaluate on it with --split {split}; training families: "
                                  f"{', '.join(self.families)}")
            if fam not in self.families and fam not in self.extra_families:
                raise UnknownNameError(f"{self.name} family", fam, (*self.families, *self.extra_families))
        return chosen

    def restyle_forms(self, example: Example) -> SurfaceForms | None:
        """The surface forms :meth:`restyle` may give ``example`` (by default :attr:`surface_forms`); domains
        narrow them per family (math keeps an arithmetic expression's digits, which its traces copy)."""
        return self.surface_forms

    def restyle(self, example: Example, rng: random.Random) -> Example:
        """``example`` in another wording of its question (:func:`srmzoo.phrasing.restyle_question`): the
        same problem, answer and solution, with the forms drawn recorded in ``meta["surface"]``. The identity
        for a domain without :attr:`surface_forms`."""
        forms = self.restyle_forms(example)
        if forms is None:
            return example
        question, form = restyle_question(example.question, rng, forms)
        return replace(example, question=question, meta={**example.meta, "surface": form})

    def unhint(self, example: Example) -> Example | None:
        """``example`` without the hints its question states (a formula, a scoring convention: :attr:`hints`),
        the solution unchanged, with ``meta["unhinted"]`` set; None where its question states none. Domains
        whose templates state hints override it (healthcare drops each calculator's ``Use BMI = ...``)."""
        return None

    def training_examples(
        self, n: int, *, seed: int = 0, families: Sequence[str] | None = None, phrasing: str = "template"
    ) -> list[Example]:
        """``n`` training examples as a recipe's ``data`` asks for them: the ``train`` split, and with
        ``phrasing="varied"`` each question restyled (:meth:`restyle`) from its own seed stream, so an example
        reads the same for the same (seed, id) whatever else is drawn. ``phrasing="unhinted"`` restyles the
        same way and, from a stream of its own, takes the hints out of :data:`UNHINTED_SHARE` of the
        questions (:meth:`unhint`): the wordings are ``varied``'s, so the two differ by the hints alone.

        Raises:
            SrmzooError: an unknown ``phrasing``, ``varied`` for a domain without surface forms, or
                ``unhinted`` for one whose questions state no hints.

        >>> math = get_domain("math")
        >>> [e.question == v.question for e, v in zip(math.examples("train", 3), math.training_examples(
        ...     3, phrasing="varied"))].count(False) > 0
        True
        """
        if phrasing not in PHRASINGS:
            raise UnknownNameError("phrasing", phrasing, PHRASINGS)
        examples = self.examples("train", n, seed=seed, families=families)
        if phrasing == "template":
            return examples
        if self.surface_forms is None:
            raise SrmzooError(f"the {self.name} domain has no varied phrasing (no surface forms)",
                              hint="use data.phrasing: template")
        if phrasing == "unhinted":
            if self.hints is None:
                raise SrmzooError(f"the {self.name} domain's questions state no hints to take out",
                                  hint="use data.phrasing: varied")
            drawn = [random.Random(f"unhint:{seed}:{e.id}").random() < UNHINTED_SHARE for e in examples]
            examples = [(self.unhint(e) or e) if take else e for e, take in zip(examples, drawn)]
        return [self.restyle(e, random.Random(f"restyle:{seed}:{e.id}")) for e in examples]

    def dataset(
        self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None, phrasing: str = "template"
    ):
        """The examples as a ``datasets.Dataset`` (columns: id, family, question, answer, solution, meta); the
        ``train`` split in the recipe's ``phrasing`` (:meth:`training_examples`)."""
        from datasets import Dataset

        examples = (self.training_examples(n, seed=seed, families=families, phrasing=phrasing) if split == "train"
                    else self.examples(split, n, seed=seed, families=families))
        rows = [e.to_dict() for e in examples]
        for row in rows:  # arrow needs one schema; meta varies by family
            row["meta"] = json.dumps(row["meta"], sort_keys=True)
        return Dataset.from_list(rows)


# ------------------------------------------------------------------------------------------------ registries

_DOMAINS: dict[str, type[Domain]] = {}
RewardFn = Callable[..., list[float | None]]
_REWARDS: dict[str, RewardFn] = {}


def vote_keys(domain: Domain, answers: Sequence[str | None], example: Example) -> list[str | None]:
    """:meth:`Domain.vote_key` of each answer (None stays None: a sample without an answer does not vote);
    a key the domain fails to compute falls back to the answer without whitespace."""
    keys: list[str | None] = []
    for answer in answers:
        if answer is None:
            keys.append(None)
            continue
        try:
            keys.append(domain.vote_key(answer, example))
        except Exception:  # noqa: BLE001 — model output must never stop a vote
            keys.append("".join(answer.split()))
    return keys


def register_domain(cls: type[Domain]) -> type[Domain]:
    """Class decorator: make a domain available by its ``name``."""
    _DOMAINS[cls.name] = cls
    return cls


ENTRY_POINT_GROUP = "srmzoo.domains"
log = logging.getLogger(__name__)


def _import_domains() -> None:
    import srmzoo.domains as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.ispkg:
            importlib.import_module(f"srmzoo.domains.{info.name}")
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            load_plugin(entry_point)
        except SrmzooError as err:  # one broken plug-in must not hide every other domain
            log.warning("%s", err)


def load_plugin(entry_point: importlib.metadata.EntryPoint) -> None:
    """Load one ``srmzoo.domains`` entry point: register a :class:`Domain` subclass, or import a module that
    registers its own.

    Raises:
        SrmzooError: the entry point fails to load, or names something that is neither.
    """
    where = f"plug-in domain {entry_point.name!r} ({entry_point.value}, entry point group {ENTRY_POINT_GROUP})"
    try:
        target = entry_point.load()
    except Exception as err:  # noqa: BLE001 — a plug-in's own import error, reported with its name
        raise SrmzooError(f"{where} failed to load: {type(err).__name__}: {err}",
                          hint="fix or uninstall the package that declares it (pip show -f, pip uninstall)") from err
    if isinstance(target, type) and issubclass(target, Domain):
        if _DOMAINS.get(target.name) not in (None, target):
            raise SrmzooError(f"{where} registers the domain name {target.name!r}, which another domain has",
                              hint="rename the plug-in's domain (its class attribute name)")
        register_domain(target)
    elif not isinstance(target, types.ModuleType):
        raise SrmzooError(f"{where} is a {type(target).__name__}, not a Domain subclass or a module",
                          hint="point the entry point at the domain class, e.g. my_pkg.domain:MyDomain")


def domain_names() -> list[str]:
    """Every installed domain's name."""
    _import_domains()
    return sorted(_DOMAINS)


def get_domain(name: str) -> Domain:
    """An instance of the named domain.

    Raises:
        UnknownNameError: with the closest installed domain names.
    """
    if name not in _DOMAINS:
        try:
            importlib.import_module(f"srmzoo.domains.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"srmzoo.domains.{name}":
                raise
    if name not in _DOMAINS:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name):
            load_plugin(entry_point)  # a broken plug-in of this very name: its error, not "unknown domain"
    if name not in _DOMAINS and name == DATASET_DOMAIN:
        raise SrmzooError(f"the {DATASET_DOMAIN!r} domain is built from a recipe's data.dataset, not by name",
                          hint="srmzoo.user_data.recipe_domain(recipe) or adapter_domain(meta) builds it")
    if name not in _DOMAINS:
        raise UnknownNameError("domain", name, domain_names())
    return _DOMAINS[name]()


def register_reward(name: str) -> Callable[[RewardFn], RewardFn]:
    """Decorator: register a reward function under ``name`` (picked by name, with a weight, in recipes)."""

    def deco(fn: RewardFn) -> RewardFn:
        if name in _REWARDS and _REWARDS[name] is not fn:
            raise ValueError(f"reward {name!r} registered twice")
        _REWARDS[name] = fn
        fn.__name__ = name  # TRL logs rewards by function name
        return fn

    return deco


def get_reward(name: str) -> RewardFn:
    """The reward function registered as ``name``; domains are imported to find it."""
    if name not in _REWARDS:
        _import_domains()
    if name not in _REWARDS:
        raise UnknownNameError("reward", name, _REWARDS)
    return _REWARDS[name]


@register_reward("brevity")
def brevity(completions: list[Any], **columns: Any) -> list[float | None]:
    """1.0 for an empty completion, falling linearly to 0.0 at 800 characters (a length penalty).

    >>> brevity(["", "x" * 400, "x" * 2000])
    [1.0, 0.5, 0.0]
    """
    return [max(0.0, 1.0 - len(completion_text(c)) / 800) for c in completions]


def reward_names() -> list[str]:
    _import_domains()
    return sorted(_REWARDS)
