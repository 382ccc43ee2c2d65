"""The evaluation harness every domain shares: generate on held-out items, verify, score, compare.

One zoo entry is measured against its own base on **the same items**: the base zero-shot (with the
domain's system prompt), the base few-shot (worked examples from the train split), the adapter (with the
prompt format saved beside it) and any other bases named for comparison (few-shot). Each run writes

* ``results_<split>.json``: every model's :class:`EvalReport` side by side, plus the settings that
  reproduce it (split, n, item hash, seed, sampling, base identity, adapter sha256, versions, hardware
  and the exact ``srmzoo eval`` command);
* ``samples_<split>.jsonl``: one line per (model, item) with the question, gold answer, completions,
  predictions and verdicts, so every number can be audited.

Accuracy comes with a 95% Wilson interval: on a few hundred items a fine-tune's gain must clear it to
count. With ``samples > 1`` the report adds unbiased pass@k (Chen et al., 2021) and majority-vote accuracy.

:func:`run_eval` takes its settings as an :class:`EvalOptions` (the items; :class:`GenerationOptions`,
:class:`RowOptions`, :class:`LoadOptions`; where the files go), as keyword arguments of the same flat
names, or both: the keywords override the options. It resolves the target and the items, runs each row
(saving it to a partial file as it finishes, so an interrupted run resumes), then assembles and writes the
results.

Importing this module does not import torch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..artifacts import (
    ADAPTER_WEIGHTS_FILE,
    load_adapter,
    merge_for_generation,
    read_adapter_meta,
    sha256_file,
)
from ..bases import load_base, resolve_base
from ..domain import Domain, Example, split_slug
from ..errors import SrmzooError, UnknownNameError
from ..hardware import describe_hardware, release_memory
from ..prompting import PromptFormat
from ..recipe import EvalConfig
from ..store import find_adapter
from ..user_data import adapter_domain
from .budget import check_budgets, write_budget_plot
from .harness import check_count, evaluate, few_shot_examples
from .results import (
    RESULTS_SCHEMA,
    EvalReport,
    format_results_table,
    items_digest,
    read_partial,
    reproduce_command,
    write_atomic,
)
from .scaling import scaling_curves, write_scaling_plot
from .stats import paired_differences

__all__ = ["EvalOptions", "GenerationOptions", "LoadOptions", "RowOptions", "run_eval"]

log = logging.getLogger(__name__)


_DEFAULTS = EvalConfig()


def _names(option: str, value: Iterable[Any] | None) -> tuple[Any, ...]:
    """A list option as a tuple (None: empty); a bare string would otherwise split into one name per character."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise SrmzooError(f"{option} must be a list, got {value!r}", hint=f"e.g. {option}=[{value!r}]")
    return tuple(value)


# ------------------------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class GenerationOptions:
    """How every row generates: the same for each model, so the rows compare.

    Attributes:
        max_new_tokens: generation budget per completion.
        batch_size: sequences generated at once.
        samples: completions per item; k > 1 adds pass@k and majority vote.
        temperature: sampling temperature when ``samples > 1``.
        budgets: reasoning budgets in tokens (greedy): every row also gets its accuracy-vs-budget curve with
            budget forcing (:mod:`srmzoo.eval.budget`); written to ``results_<split>_budget.json`` and
            ``budget_<split>.png``, leaving the plain greedy results alone.
    """

    max_new_tokens: int = _DEFAULTS.max_new_tokens
    batch_size: int = _DEFAULTS.batch_size
    samples: int = 1
    temperature: float = 0.7
    budgets: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "budgets", _names("budgets", self.budgets))


@dataclass(frozen=True)
class RowOptions:
    """Which rows the results have beside the adapter's own.

    Attributes:
        compare: other bases (names from ``srmzoo bases``) evaluated few-shot on the same items.
        compare_adapters: other adapters (entry names or directories) on the same base and domain,
            evaluated with their own prompt formats on the same items.
        include_base: evaluate the adapter's own base too (zero-shot, and few-shot when ``few_shot > 0``).
        tool_ablation: for an adapter with tools, also evaluate it without them (the ``adapter, no tools``
            row: what the tools are worth); off halves the cost of, e.g., a sampled test-time-scaling run.
    """

    compare: tuple[str, ...] = ()
    compare_adapters: tuple[str, ...] = ()
    include_base: bool = True
    tool_ablation: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "compare", _names("compare", self.compare))
        object.__setattr__(self, "compare_adapters", _names("compare_adapters", self.compare_adapters))


@dataclass(frozen=True)
class LoadOptions:
    """Where the models run and which base the adapter loads onto.

    Attributes:
        device: ``cpu`` or ``cuda``; default: cuda when available.
        base_path: see :func:`srmzoo.artifacts.load_adapter`.
        allow_base_mismatch: see :func:`srmzoo.artifacts.load_adapter`.
    """

    device: str | None = None
    base_path: str | os.PathLike | None = None
    allow_base_mismatch: bool = False


_GROUPS = {"generation": GenerationOptions, "rows": RowOptions, "loading": LoadOptions}
_GROUP_OF = {f.name: group for group, cls in _GROUPS.items() for f in fields(cls)}


@dataclass(frozen=True)
class EvalOptions:
    """Everything :func:`run_eval` can be told, grouped; the defaults are :class:`EvalConfig`'s.

    Attributes:
        split: ``test`` (held out) or ``ood`` (out of distribution); ``train`` works for diagnostics.
        n: items drawn from the split (deterministic in ``seed``).
        seed: seeds the item draw, the few-shot draw and sampling.
        few_shot: worked train examples in the bases' few-shot prompts; 0 skips the few-shot rows.
        generation: how every row generates (:class:`GenerationOptions`).
        rows: which rows there are (:class:`RowOptions`).
        loading: where the models run (:class:`LoadOptions`).
        out_dir: where the files go; default: ``<adapter dir>/eval``.
        progress: progress bars with ETA, and the table printed at the end.

    Every option has one flat name (``samples``, not ``generation.samples``) for :meth:`replace` and
    :func:`run_eval`'s keywords:

    >>> options = EvalOptions(n=20).replace(samples=4, compare=["gemma-3-270m"])
    >>> options.n, options.generation.samples, options.generation.max_new_tokens, options.rows.compare
    (20, 4, 256, ('gemma-3-270m',))
    >>> EvalOptions().replace(temprature=0.5)
    Traceback (most recent call last):
    ...
    srmzoo.errors.UnknownNameError: unknown run_eval option 'temprature'; did you mean: temperature?
      hint: known run_eval options: allow_base_mismatch, base_path, batch_size, ...
    """

    split: str = "test"
    n: int = _DEFAULTS.n
    seed: int = 0
    few_shot: int = _DEFAULTS.few_shot
    generation: GenerationOptions = field(default_factory=GenerationOptions)
    rows: RowOptions = field(default_factory=RowOptions)
    loading: LoadOptions = field(default_factory=LoadOptions)
    out_dir: str | Path | None = None
    progress: bool = True

    @classmethod
    def from_config(cls, config: EvalConfig, **overrides: Any) -> EvalOptions:
        """The options a recipe's ``eval`` section sets (n, few_shot, max_new_tokens, batch_size, compare,
        compare_adapters), then ``overrides`` by flat name.

        >>> EvalOptions.from_config(EvalConfig(n=40), split="ood").n
        40
        """
        from_recipe = {name: getattr(config, name) for name in (
            "n", "few_shot", "max_new_tokens", "batch_size", "compare", "compare_adapters")}
        return cls().replace(**{**from_recipe, **overrides})

    def replace(self, **overrides: Any) -> EvalOptions:
        """A copy with ``overrides`` by flat name; a whole group (``generation=...``) goes first, its
        flat names on top of it.

        Raises:
            UnknownNameError: a name no option has, with the closest ones.
        """
        known = {f.name for f in fields(self)}
        grouped: dict[str, dict[str, Any]] = {}
        whole: dict[str, Any] = {}
        for name, value in overrides.items():
            if name in _GROUP_OF:
                grouped.setdefault(_GROUP_OF[name], {})[name] = value
            elif name in known:
                whole[name] = value
            else:
                raise UnknownNameError("run_eval option", name, known | set(_GROUP_OF))
        options = replace(self, **whole)
        return replace(options, **{group: replace(getattr(options, group), **values)
                                   for group, values in grouped.items()})


# --------------------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class _ComparedAdapter:
    """Another adapter evaluated on the same items; ``name`` is how the user named it."""

    name: str
    label: str
    path: Path
    sha256: str

    def to_settings(self) -> dict[str, str]:
        return {"name": self.name, "label": self.label, "path": str(self.path), "sha256": self.sha256}


@dataclass(frozen=True)
class _Plan:
    """What one evaluation resolves before any model loads: the adapter, the items, the compared models
    and where the files go."""

    target: str
    options: EvalOptions
    adapter_dir: Path
    domain: Domain
    entry: str
    examples: list[Example]
    shots: list[Example]
    budgets: list[int]
    adapter_sha: str
    item_digests: tuple[str, str]
    compared_adapters: list[_ComparedAdapter]
    compared_bases: list[tuple[str, str]]  # (the name asked for, the base's registered name)
    out: Path

    @property
    def adapter_label(self) -> str:
        return f"{self.entry} (adapter)"

    @property
    def few_shot_label(self) -> str:
        return f"few-shot (k={self.options.few_shot})"

    @property
    def compare_prompting(self) -> str:
        return self.few_shot_label if self.shots else "zero-shot"

    @property
    def stem(self) -> str:
        """A sampled evaluation is named apart (results_test_k8.json): it never replaces the greedy one."""
        split, samples = split_slug(self.options.split), self.options.generation.samples
        return f"{split}_k{samples}" if samples > 1 else f"{split}_budget" if self.budgets else split

    @property
    def partial_path(self) -> Path:
        return self.out / f".results_{self.stem}.partial.json"

    def shot_turns(self) -> list[tuple[str, str]]:
        return [(e.question, e.solution) for e in self.shots]

    def generation_kwargs(self) -> dict[str, Any]:
        """What every row passes to :func:`evaluate`."""
        g = self.options.generation
        kwargs: dict[str, Any] = {
            "max_new_tokens": g.max_new_tokens,
            "batch_size": g.batch_size,
            "samples": g.samples,
            "temperature": g.temperature,
            "seed": self.options.seed,
            "progress": self.options.progress,
        }
        if self.budgets:
            kwargs["budgets"] = self.budgets
        return kwargs

    def partial_key(self) -> str:
        """Finished rows are reused only by a run on the same adapter, items, few-shot examples, compared
        adapters, generation settings and base source."""
        generation = {k: v for k, v in self.generation_kwargs().items() if k != "progress"}
        loading = self.options.loading
        return hashlib.sha256(json.dumps(
            [self.adapter_sha, list(self.item_digests), [e.id for e in self.shots],
             [a.sha256 for a in self.compared_adapters], generation, str(loading.base_path),
             loading.allow_base_mismatch],
        ).encode()).hexdigest()


def _plan(target: str | Path, options: EvalOptions) -> _Plan:
    """Resolve the adapter and everything compared with it, check every number, and draw the items."""
    adapter_dir = find_adapter(target)
    meta = read_adapter_meta(adapter_dir)
    domain = adapter_domain(meta)
    budgets = _check_options(options, domain)
    # an unavailable base fails now, not after an hour of generation
    compared_bases = [(name, resolve_base(name).spec.name) for name in options.rows.compare]
    entry = meta.get("entry") or adapter_dir.name
    compared_adapters = _compared_adapters(adapter_dir, meta, entry, options.rows.compare_adapters)
    examples = domain.eval_examples(options.split, options.n, seed=options.seed)
    if not examples:
        raise SrmzooError(f"domain {domain.name!r} gave no {options.split} items", hint="check the domain's data")
    shots = few_shot_examples(domain, options.few_shot, seed=options.seed, exclude=examples)
    return _Plan(
        target=str(target),
        options=options,
        adapter_dir=adapter_dir,
        domain=domain,
        entry=entry,
        examples=examples,
        shots=shots,
        budgets=budgets,
        adapter_sha=sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE),
        item_digests=items_digest(examples),
        compared_adapters=compared_adapters,
        compared_bases=compared_bases,
        out=Path(options.out_dir) if options.out_dir is not None else adapter_dir / "eval",
    )


def _check_options(options: EvalOptions, domain: Domain) -> list[int]:
    """Refuse a bad split or number before any model loads; returns the reasoning budgets, checked."""
    domain.check_split(options.split, benchmarks=True)
    g = options.generation
    for label, value, minimum in (
        ("n", options.n, 1),
        ("samples", g.samples, 1),
        ("max_new_tokens", g.max_new_tokens, 1),
        ("batch_size", g.batch_size, 1),
        ("few_shot", options.few_shot, 0),
        ("seed", options.seed, 0),
    ):
        check_count(label, value, minimum=minimum)
    budgets = check_budgets(g.budgets, g.max_new_tokens, domain.answer_cue, domain.name, samples=g.samples) if g.budgets else []
    if g.samples > 1 and not g.temperature > 0:
        raise SrmzooError(
            f"sampling needs a temperature above 0, got {g.temperature}", hint="e.g. --temperature 0.7"
        )
    return budgets


def _compared_adapters(
    adapter_dir: Path, meta: dict[str, Any], entry: str, names: tuple[str, ...]
) -> list[_ComparedAdapter]:
    """The other adapters, found and checked to be of the same domain, each with a row label of its own."""
    others = [find_adapter(name) for name in names]
    for other in others:
        other_meta = read_adapter_meta(other)
        if other_meta["domain"] != meta["domain"]:
            raise SrmzooError(f"cannot compare {adapter_dir} ({meta['domain']}) with {other} "
                              f"({other_meta['domain']}) on the same items", hint="compare adapters of one domain")
    compared: list[_ComparedAdapter] = []
    for name, other in zip(names, others, strict=True):
        label = f"{read_adapter_meta(other).get('entry') or other.name} (adapter)"
        if label == f"{entry} (adapter)" or label in {a.label for a in compared}:
            label = f"{other} (adapter)"  # two copies of one entry: tell them apart by path
        compared.append(_ComparedAdapter(str(name), label, other, sha256_file(other / ADAPTER_WEIGHTS_FILE)))
    return compared


# --------------------------------------------------------------------------------------------------- rows


class _Rows:
    """The rows evaluated so far. Each finished row is saved at once, so an interrupted hour-long
    evaluation resumes where it stopped (same adapter, items and settings: :meth:`_Plan.partial_key`);
    the partial file is deleted when the results file is written."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.key = plan.partial_key()
        self.finished, self.finished_identities = read_partial(plan.partial_path, self.key)
        self.reports: list[EvalReport] = []
        self.compare_bases: dict[str, Any] = {}
        self.resumed_seconds: list[float] = []

    def done(self, label: str, prompting: str) -> bool:
        return (label, prompting) in self.finished

    def run(self, model: Any, tokenizer: Any, fmt: PromptFormat | None, label: str, prompting: str) -> None:
        """Evaluate one row, or take it from the partial file when an earlier run finished it."""
        plan = self.plan
        if self.done(label, prompting):
            log.info("resuming: %s, %s is already evaluated (%s)", label, prompting, plan.partial_path)
            report = self.finished[label, prompting]
            self.reports.append(report)
            self.resumed_seconds.append(report.wall_seconds)  # the time it took then counts too
            return
        log.info("evaluating %s, %s, on %d %s %s items", label, prompting, len(plan.examples), plan.domain.name,
                 plan.options.split)
        self.reports.append(
            evaluate(model, tokenizer, fmt, plan.domain, plan.examples, model_label=label, prompting=prompting,
                     **plan.generation_kwargs())
        )
        plan.out.mkdir(parents=True, exist_ok=True)
        write_atomic(plan.partial_path, json.dumps(
            {"key": self.key, "reports": [r.to_dict(records=True) for r in self.reports],
             "compare_bases": self.compare_bases},
            ensure_ascii=False,
        ))


@dataclass(frozen=True)
class _EvaluatedAdapter:
    """What loading the adapter under evaluation told: its prompt format and base, how it generated."""

    prompt_format: PromptFormat
    base: dict[str, Any]
    dtype: str
    merged: bool


def _run_adapter_rows(plan: _Plan, rows: _Rows) -> _EvaluatedAdapter:
    """The base zero-shot and few-shot (the adapter switched off, so the base's weights are the very ones
    under the adapter), then the adapter with its saved prompt format (with its tools, then without)."""
    loading = plan.options.loading
    model, tokenizer, adapter_format, meta = load_adapter(
        plan.adapter_dir, device=loading.device, allow_base_mismatch=loading.allow_base_mismatch,
        base_path=loading.base_path,
    )
    base_name = meta["base"]["name"]
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    if plan.options.rows.include_base:
        base_format = PromptFormat.for_tokenizer(tokenizer, system_prompt=plan.domain.system_prompt or None)
        with model.disable_adapter():
            rows.run(model, tokenizer, base_format, base_name, "zero-shot")
            if plan.shots:
                rows.run(model, tokenizer, base_format.with_few_shot(plan.shot_turns()), base_name,
                         plan.few_shot_label)
    merged = merge_for_generation(model)
    rows.run(model, tokenizer, adapter_format, plan.adapter_label, "adapter")
    if adapter_format.tools and plan.options.rows.tool_ablation:  # the adapter doing its own arithmetic
        rows.run(model, tokenizer, replace(adapter_format, tools=()), plan.adapter_label, "adapter, no tools")
    del model, tokenizer
    release_memory()
    return _EvaluatedAdapter(adapter_format, meta["base"], dtype, merged)


def _run_compared_adapters(plan: _Plan, rows: _Rows) -> None:
    """Each other adapter with its own prompt format, loaded only when its row is not finished yet."""
    loading = plan.options.loading
    for other in plan.compared_adapters:
        if rows.done(other.label, "adapter"):
            rows.run(None, None, None, other.label, "adapter")
            continue
        model, tokenizer, fmt, _ = load_adapter(
            other.path, device=loading.device, allow_base_mismatch=loading.allow_base_mismatch,
            base_path=loading.base_path,
        )
        merge_for_generation(model)
        rows.run(model, tokenizer, fmt, other.label, "adapter")
        del model, tokenizer
        release_memory()


def _run_compared_bases(plan: _Plan, rows: _Rows) -> None:
    """Each other base few-shot (zero-shot when ``few_shot`` is 0), its identity recorded."""
    for name, spec_name in plan.compared_bases:
        if rows.done(spec_name, plan.compare_prompting) and spec_name in rows.finished_identities:
            rows.compare_bases[spec_name] = rows.finished_identities[spec_name]
            rows.run(None, None, None, spec_name, plan.compare_prompting)
            continue
        base = load_base(name, device=plan.options.loading.device)
        rows.compare_bases[base.resolved.spec.name] = base.identity
        fmt = PromptFormat.for_tokenizer(base.tokenizer, system_prompt=plan.domain.system_prompt or None)
        fmt = fmt.with_few_shot(plan.shot_turns())
        rows.run(base.model, base.tokenizer, fmt, base.resolved.spec.name, plan.compare_prompting)
        del base
        release_memory()


# ------------------------------------------------------------------------------------------------ results


def _settings(plan: _Plan, adapter: _EvaluatedAdapter) -> dict[str, Any]:
    """The settings block: what reproduces the run, ending with the ``srmzoo eval`` command that does."""
    o, g, r, loading = plan.options, plan.options.generation, plan.options.rows, plan.options.loading
    ids_sha, items_sha = plan.item_digests
    settings: dict[str, Any] = {
        "split": o.split,
        "n_requested": o.n,
        "n": len(plan.examples),
        "item_ids_sha256": ids_sha,
        "items_sha256": items_sha,
        "few_shot_ids": [e.id for e in plan.shots],
        "seed": o.seed,
        "samples": g.samples,
        "temperature": g.temperature,
        "decoding": "sampling" if g.samples > 1 else "greedy",
        "budgets": plan.budgets,
        "few_shot": o.few_shot,
        "max_new_tokens": g.max_new_tokens,
        "batch_size": g.batch_size,
        "compare": list(r.compare),
        "compare_adapters": [a.to_settings() for a in plan.compared_adapters],
        "include_base": r.include_base,
        "tool_ablation": r.tool_ablation,
        "allow_base_mismatch": loading.allow_base_mismatch,
        "base_path": str(loading.base_path) if loading.base_path is not None else None,
        "dtype": adapter.dtype,
        "adapter_merged_for_generation": adapter.merged,
    }
    settings["command"] = reproduce_command(plan.target, settings)
    return settings


def _environment(started: float, resumed_seconds: list[float]) -> dict[str, Any]:
    import torch
    import transformers

    from ..version import __version__

    return {
        "srmzoo_version": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "hardware": describe_hardware(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started + sum(resumed_seconds), 2),
    }


def _results(plan: _Plan, rows: _Rows, adapter: _EvaluatedAdapter, started: float) -> dict[str, Any]:
    """The ``results_<split>.json`` document: every row, the paired differences and scaling curves."""
    seed = plan.options.seed
    return {
        "schema": RESULTS_SCHEMA,
        "entry": plan.entry,
        "domain": plan.domain.name,
        "domain_data_version": plan.domain.data_version,
        "adapter": {
            "path": str(plan.adapter_dir),
            "sha256": plan.adapter_sha,
            "prompt_format": adapter.prompt_format.to_dict(),
        },
        "base": adapter.base,
        "compare_bases": rows.compare_bases,
        "settings": _settings(plan, adapter),
        "reports": [r.to_dict() for r in rows.reports],
        "paired": paired_differences(rows.reports, plan.adapter_label, seed=seed),
        "scaling": scaling_curves(rows.reports, seed=seed),
        "environment": _environment(started, rows.resumed_seconds),
    }


def _write_files(plan: _Plan, results: dict[str, Any], reports: list[EvalReport]) -> None:
    """Write the results and samples files (and the plots), drop the partial file, and add ``paths``."""
    out = plan.out
    out.mkdir(parents=True, exist_ok=True)
    results_path, samples_path = out / f"results_{plan.stem}.json", out / f"samples_{plan.stem}.jsonl"
    write_atomic(results_path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    lines = [
        json.dumps({"model": r.model, "prompting": r.prompting, **record}, ensure_ascii=False)
        for r in reports
        for record in r.records
    ]
    write_atomic(samples_path, "\n".join(lines) + "\n")
    plan.partial_path.unlink(missing_ok=True)
    results["paths"] = {"results": str(results_path), "samples": str(samples_path)}
    plot = write_scaling_plot(results, out)
    if plot is not None:
        results["paths"]["scaling_plot"] = str(plot)
    plot = write_budget_plot(results, out)
    if plot is not None:
        results["paths"]["budget_plot"] = str(plot)


def _print_summary(plan: _Plan, results: dict[str, Any]) -> None:
    # The CLI's output: the side-by-side table is what `srmzoo eval` is run for.
    print(f"{plan.entry} on {plan.domain.name}/{plan.options.split}, {len(plan.examples)} items, "
          f"{results['settings']['decoding']}:")
    print(format_results_table(results))
    print(f"written: {', '.join(results['paths'].values())}")


# ---------------------------------------------------------------------------------------------- run_eval


def run_eval(target: str | Path, options: EvalOptions | None = None, **overrides: Any) -> dict[str, Any]:
    """Evaluate an adapter against its base (zero- and few-shot) and other bases, on the same items.

    Models are evaluated one at a time, each freed before the next loads: the base zero-shot and the
    base few-shot (the adapter switched off, so the base's weights are the very ones under the adapter),
    the adapter with its saved prompt format (an adapter trained with tools: with them, then again without,
    doing its own arithmetic), each ``compare_adapters`` adapter with its own prompt format (e.g. the SFT
    adapter an RFT entry started from), then each ``compare`` base few-shot. The adapter is compared item
    by item with every other row (a paired bootstrap interval of the difference). Writes
    ``results_<split>.json`` and ``samples_<split>.jsonl`` and prints the side-by-side table.

    Args:
        target: an adapter directory, a run directory, or an entry name in the local store.
        options: the settings (:class:`EvalOptions`); default: ``EvalOptions()``.
        **overrides: any option by its flat name, over ``options``: ``split``, ``n``, ``seed``,
            ``few_shot``, ``out_dir``, ``progress`` (:class:`EvalOptions`); ``max_new_tokens``,
            ``batch_size``, ``samples``, ``temperature``, ``budgets`` (:class:`GenerationOptions`);
            ``compare``, ``compare_adapters``, ``include_base``, ``tool_ablation`` (:class:`RowOptions`);
            ``device``, ``base_path``, ``allow_base_mismatch`` (:class:`LoadOptions`).

    Returns:
        The results as written to ``results_<split>.json``, plus ``paths`` (the files written).

    Raises:
        SrmzooError: an unknown adapter, split, base or option, a corrupted adapter, a base mismatch,
            bad numbers.

    >>> run_eval("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: no adapter for '/no/such/adapter': not a path with adapter_config.json, nor ...
    """
    if options is not None and not isinstance(options, EvalOptions):
        raise SrmzooError(f"run_eval's options must be an EvalOptions, got {type(options).__name__}",
                          hint="pass settings as EvalOptions(...) or as keywords, e.g. run_eval(entry, split='ood')")
    options = (options or EvalOptions()).replace(**overrides)
    started = time.perf_counter()
    plan = _plan(target, options)
    rows = _Rows(plan)
    adapter = _run_adapter_rows(plan, rows)
    _run_compared_adapters(plan, rows)
    _run_compared_bases(plan, rows)
    results = _results(plan, rows, adapter, started)
    _write_files(plan, results, rows.reports)
    if options.progress:
        _print_summary(plan, results)
    return results
