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

Importing this module does not import torch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
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
from ..domain import get_domain
from ..errors import SrmzooError
from ..hardware import describe_hardware, release_memory
from ..prompting import PromptFormat
from ..recipe import EvalConfig
from ..store import find_adapter
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

log = logging.getLogger(__name__)


_DEFAULTS = EvalConfig()


def run_eval(
    target: str | Path,
    *,
    split: str = "test",
    n: int = _DEFAULTS.n,
    samples: int = 1,
    temperature: float = 0.7,
    few_shot: int = _DEFAULTS.few_shot,
    max_new_tokens: int = _DEFAULTS.max_new_tokens,
    batch_size: int = _DEFAULTS.batch_size,
    compare: Sequence[str] = (),
    compare_adapters: Sequence[str] = (),
    out_dir: str | Path | None = None,
    include_base: bool = True,
    seed: int = 0,
    device: str | None = None,
    allow_base_mismatch: bool = False,
    base_path: str | os.PathLike | None = None,
    progress: bool = True,
    budgets: Sequence[int] = (),
    tool_ablation: bool = True,
) -> dict[str, Any]:
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
        split: ``test`` (held out) or ``ood`` (out of distribution); ``train`` works for diagnostics.
        n: items drawn from the split (deterministic in ``seed``).
        samples: completions per item; k > 1 adds pass@k and majority vote.
        temperature: sampling temperature when ``samples > 1``.
        few_shot: worked train examples in the bases' few-shot prompts; 0 skips the few-shot rows.
        max_new_tokens: generation budget per completion.
        batch_size: sequences generated at once.
        compare: other bases (names from ``srmzoo bases``) evaluated few-shot on the same items.
        compare_adapters: other adapters (entry names or directories) on the same base and domain,
            evaluated with their own prompt formats on the same items.
        out_dir: where the files go; default: ``<adapter dir>/eval``.
        include_base: evaluate the adapter's own base too.
        seed: seeds the item draw, the few-shot draw and sampling.
        device: ``cpu`` or ``cuda``; default: cuda when available.
        allow_base_mismatch: see :func:`load_adapter`.
        base_path: see :func:`load_adapter`.
        progress: progress bars with ETA, and the table printed at the end.
        budgets: reasoning budgets in tokens (greedy): every row also gets its accuracy-vs-budget curve with
            budget forcing (:mod:`srmzoo.eval.budget`); written to ``results_<split>_budget.json`` and
            ``budget_<split>.png``, leaving the plain greedy results alone.
        tool_ablation: for an adapter with tools, also evaluate it without them (the ``adapter, no tools``
            row: what the tools are worth); off halves the cost of, e.g., a sampled test-time-scaling run.

    Returns:
        The results as written to ``results_<split>.json``, plus ``paths`` (the files written).

    Raises:
        SrmzooError: an unknown adapter, split or base, a corrupted adapter, a base mismatch, bad numbers.

    >>> run_eval("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: no adapter for '/no/such/adapter': not a path with adapter_config.json, nor ...
    """
    from ..version import __version__

    started = time.perf_counter()
    adapter_dir = find_adapter(target)
    meta = read_adapter_meta(adapter_dir)
    domain = get_domain(meta["domain"])
    domain.check_split(split, benchmarks=True)
    for label, value, minimum in (
        ("n", n, 1),
        ("samples", samples, 1),
        ("max_new_tokens", max_new_tokens, 1),
        ("batch_size", batch_size, 1),
        ("few_shot", few_shot, 0),
        ("seed", seed, 0),
    ):
        check_count(label, value, minimum=minimum)
    budgets = check_budgets(budgets, max_new_tokens, domain.answer_cue, domain.name, samples=samples) if budgets else []
    if samples > 1 and not temperature > 0:
        raise SrmzooError(
            f"sampling needs a temperature above 0, got {temperature}", hint="e.g. --temperature 0.7"
        )
    compare = tuple(compare)
    for name in compare:  # an unavailable base fails now, not after an hour of generation
        resolve_base(name)
    compare_adapters = tuple(compare_adapters)
    other_adapters = [find_adapter(name) for name in compare_adapters]
    for other in other_adapters:
        other_meta = read_adapter_meta(other)
        if other_meta["domain"] != meta["domain"]:
            raise SrmzooError(f"cannot compare {adapter_dir} ({meta['domain']}) with {other} "
                              f"({other_meta['domain']}) on the same items", hint="compare adapters of one domain")
    examples = domain.eval_examples(split, n, seed=seed)
    if not examples:
        raise SrmzooError(f"domain {domain.name!r} gave no {split} items", hint="check the domain's data")
    shots = few_shot_examples(domain, few_shot, seed=seed, exclude=examples)
    common = {
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "samples": samples,
        "temperature": temperature,
        "seed": seed,
        "progress": progress,
    }
    if budgets:
        common["budgets"] = budgets
    entry = meta.get("entry") or adapter_dir.name
    few_label = f"few-shot (k={few_shot})"
    compare_prompting = few_label if shots else "zero-shot"
    adapter_sha = sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE)
    ids_sha, items_sha = items_digest(examples)
    reports: list[EvalReport] = []
    out = Path(out_dir) if out_dir is not None else adapter_dir / "eval"
    # Each finished row is saved at once, so an interrupted hour-long evaluation resumes where it stopped
    # (same adapter, items and settings), and is deleted when the results file is written.
    # A sampled evaluation is named apart (results_test_k8.json): it never replaces the greedy one.
    stem = f"{split}_k{samples}" if samples > 1 else f"{split}_budget" if budgets else split
    partial_path = out / f".results_{stem}.partial.json"
    partial_key = hashlib.sha256(json.dumps(
        [adapter_sha, [ids_sha, items_sha], [e.id for e in shots], [sha256_file(o / ADAPTER_WEIGHTS_FILE) for o in other_adapters],
         {k: v for k, v in common.items() if k != "progress"}, str(base_path), allow_base_mismatch],
    ).encode()).hexdigest()
    finished, finished_identities = read_partial(partial_path, partial_key)
    compared: dict[str, Any] = {}
    resumed_seconds: list[float] = []

    def done(label: str, prompting: str) -> bool:
        return (label, prompting) in finished

    def run(model: Any, tokenizer: Any, fmt: PromptFormat, label: str, prompting: str) -> None:
        if done(label, prompting):
            log.info("resuming: %s, %s is already evaluated (%s)", label, prompting, partial_path)
            reports.append(finished[label, prompting])
            resumed_seconds.append(finished[label, prompting].wall_seconds)  # the time it took then counts too
            return
        log.info("evaluating %s, %s, on %d %s %s items", label, prompting, len(examples), domain.name, split)
        reports.append(
            evaluate(
                model, tokenizer, fmt, domain, examples, model_label=label, prompting=prompting, **common
            )
        )
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(partial_path, json.dumps(
            {"key": partial_key, "reports": [r.to_dict(records=True) for r in reports], "compare_bases": compared},
            ensure_ascii=False,
        ))

    model, tokenizer, adapter_format, meta = load_adapter(
        adapter_dir, device=device, allow_base_mismatch=allow_base_mismatch, base_path=base_path
    )
    base_name = meta["base"]["name"]
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    if include_base:
        base_format = PromptFormat.for_tokenizer(tokenizer, system_prompt=domain.system_prompt or None)
        with model.disable_adapter():
            run(model, tokenizer, base_format, base_name, "zero-shot")
            if shots:
                run(
                    model,
                    tokenizer,
                    base_format.with_few_shot([(e.question, e.solution) for e in shots]),
                    base_name,
                    few_label,
                )
    merged = merge_for_generation(model)
    run(model, tokenizer, adapter_format, f"{entry} (adapter)", "adapter")
    if adapter_format.tools and tool_ablation:  # the same adapter doing its own arithmetic: the tools' worth
        run(model, tokenizer, replace(adapter_format, tools=()), f"{entry} (adapter)", "adapter, no tools")
    del model, tokenizer
    release_memory()

    adapters_compared = []
    for name, other in zip(compare_adapters, other_adapters, strict=True):
        label = f"{read_adapter_meta(other).get('entry') or other.name} (adapter)"
        if label == f"{entry} (adapter)" or label in {a["label"] for a in adapters_compared}:
            label = f"{other} (adapter)"  # two copies of one entry: tell them apart by path
        adapters_compared.append({"name": str(name), "label": label, "path": str(other),
                                  "sha256": sha256_file(other / ADAPTER_WEIGHTS_FILE)})
        if done(label, "adapter"):
            run(None, None, None, label, "adapter")
            continue
        other_model, other_tokenizer, other_format, _ = load_adapter(
            other, device=device, allow_base_mismatch=allow_base_mismatch, base_path=base_path
        )
        merge_for_generation(other_model)
        run(other_model, other_tokenizer, other_format, label, "adapter")
        del other_model, other_tokenizer
        release_memory()

    for name in compare:
        spec_name = resolve_base(name).spec.name
        if done(spec_name, compare_prompting) and spec_name in finished_identities:
            compared[spec_name] = finished_identities[spec_name]
            run(None, None, None, spec_name, compare_prompting)
            continue
        base = load_base(name, device=device)
        compared[base.resolved.spec.name] = base.identity
        fmt = PromptFormat.for_tokenizer(base.tokenizer, system_prompt=domain.system_prompt or None)
        fmt = fmt.with_few_shot([(e.question, e.solution) for e in shots])
        run(base.model, base.tokenizer, fmt, base.resolved.spec.name, compare_prompting)
        del base
        release_memory()

    settings: dict[str, Any] = {
        "split": split,
        "n_requested": n,
        "n": len(examples),
        "item_ids_sha256": ids_sha,
        "items_sha256": items_sha,
        "few_shot_ids": [e.id for e in shots],
        "seed": seed,
        "samples": samples,
        "temperature": temperature,
        "decoding": "sampling" if samples > 1 else "greedy",
        "budgets": budgets,
        "few_shot": few_shot,
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "compare": list(compare),
        "compare_adapters": adapters_compared,
        "include_base": include_base,
        "tool_ablation": tool_ablation,
        "allow_base_mismatch": allow_base_mismatch,
        "base_path": str(base_path) if base_path is not None else None,
        "dtype": dtype,
        "adapter_merged_for_generation": merged,
    }
    settings["command"] = reproduce_command(str(target), settings)
    import torch
    import transformers

    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "entry": entry,
        "domain": domain.name,
        "domain_data_version": domain.data_version,
        "adapter": {
            "path": str(adapter_dir),
            "sha256": adapter_sha,
            "prompt_format": adapter_format.to_dict(),
        },
        "base": meta["base"],
        "compare_bases": compared,
        "settings": settings,
        "reports": [r.to_dict() for r in reports],
        "paired": paired_differences(reports, f"{entry} (adapter)", seed=seed),
        "scaling": scaling_curves(reports, seed=seed),
        "environment": {
            "srmzoo_version": __version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "hardware": describe_hardware(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - started + sum(resumed_seconds), 2),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    results_path, samples_path = out / f"results_{stem}.json", out / f"samples_{stem}.jsonl"
    write_atomic(results_path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    lines = [
        json.dumps({"model": r.model, "prompting": r.prompting, **record}, ensure_ascii=False)
        for r in reports
        for record in r.records
    ]
    write_atomic(samples_path, "\n".join(lines) + "\n")
    partial_path.unlink(missing_ok=True)
    results["paths"] = {"results": str(results_path), "samples": str(samples_path)}
    plot = write_scaling_plot(results, out)
    if plot is not None:
        results["paths"]["scaling_plot"] = str(plot)
    plot = write_budget_plot(results, out)
    if plot is not None:
        results["paths"]["budget_plot"] = str(plot)
    if progress:
        print(f"{entry} on {domain.name}/{split}, {len(examples)} items, {settings['decoding']}:")
        print(format_results_table(results))
        print(f"written: {', '.join(results['paths'].values())}")
    return results
