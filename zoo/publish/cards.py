"""Model cards, generated from a run's artifacts by one template (``model_cards/TEMPLATE.md.j2``).

Every number on a card comes from a file a run wrote: ``srmzoo_adapter.json`` (base identity, LoRA,
training summary), ``recipe.yaml``, ``results_<split>.json`` from ``srmzoo eval`` (only results whose
recorded adapter sha256 is the adapter's own), the data manifest from ``srmzoo data manifest``, and the
loss curve. ``srmzoo card ENTRY`` copies those artifacts into ``model_cards/<entry>/`` and renders its
``README.md`` there; ``srmzoo publish`` renders the same card for the Hub.

The YAML header is ``huggingface_hub.ModelCardData`` (base_model, library_name: peft, license, tags,
pipeline_tag, and a ``model-index`` with each evaluation's accuracy, n and split), which
``ModelCard.validate`` accepts.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from ..artifacts import (
    ADAPTER_META_FILE,
    ADAPTER_WEIGHTS_FILE,
    DATA_MANIFEST_FILE,
    read_adapter_meta,
    sha256_file,
)
from ..domain import Domain, get_domain, split_slug
from ..errors import SrmzooError
from ..prompting import PromptFormat
from ..recipe import DATASET_DOMAIN
from ..registry import card_dir
from ..user_data import adapter_domain

__all__ = ["CARD_ARTIFACTS", "load_results", "render_card", "write_card"]

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parent.parent / "model_cards" / "TEMPLATE.md.j2"
CARD_ARTIFACTS = ("train_summary.json", "loss_curve.png", "reward_curve.png", "recipe.yaml", DATA_MANIFEST_FILE)
BENCHMARK_DATASETS = {"humaneval": "openai/openai_humaneval", "mbpp": "google-research-datasets/mbpp"}
CURVES = {"loss_curve.png": "training loss", "reward_curve.png": "GRPO reward"}
SPLIT_TITLES = {
    "test": "held out, in distribution",
    "ood": "held out, out of distribution (more steps, larger values, unseen phrasings)",
    "train": "training items (diagnostic only)",
    "humaneval": "HumanEval, an external benchmark (never trained on)",
    "mbpp": "MBPP test split, an external benchmark (never trained on)",
}


def split_title(split: str, domain_name: str | None = None) -> str:
    """What a split is, for a card's heading: the generated splits, ``natural`` and ``external:NAME``.

    >>> split_title("natural")
    'held-out question families, phrased the way people ask (never trained on)'
    >>> split_title("external:humaneval")
    'HumanEval, an external benchmark (never trained on)'
    """
    name = split.removeprefix("external:")
    if name in SPLIT_TITLES:
        return SPLIT_TITLES[name]
    if split == "natural":
        return "held-out question families, phrased the way people ask (never trained on)"
    if domain_name and split.startswith("external:"):
        described = get_domain(domain_name).benchmarks.get(name)
        if described:
            return f"{described}; an external set (never trained on)"
    return split


def _template_path() -> Path:
    import srmzoo.model_cards

    path = Path(srmzoo.model_cards.__file__).parent / "TEMPLATE.md.j2"
    return path if path.is_file() else TEMPLATE


def _run_file(adapter_dir: Path, name: str) -> Path | None:
    """A run artifact beside the adapter (the store) or one level up (a run directory)."""
    for path in (adapter_dir / name, adapter_dir.parent / name):
        if path.is_file():
            return path
    return None


def load_forgetting(adapter_dir: Path, search: list[Path]) -> dict[str, Any] | None:
    """This adapter's general-prompt probe (``forgetting.json`` from ``srmzoo forgetting``): the first one in
    ``search`` whose first adapter row is this adapter's weights, else None."""
    from ..eval.forgetting import FORGETTING_FILE

    weights = sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE)
    for folder in search:
        path = Path(folder) / FORGETTING_FILE
        if not path.is_file():
            continue
        try:
            results = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise SrmzooError(f"{path} is not valid JSON: {err}", hint="re-run srmzoo forgetting") from None
        first = next((r for r in results.get("rows", []) if "adapter_sha256" in r), {})
        if first.get("adapter_sha256") == weights:
            return results
        log.warning("%s measures another adapter; skipped", path)
    return None


def _forgetting_section(results: dict[str, Any] | None) -> str:
    """The card's forgetting paragraph: the probe's tables, how to read them, and the command."""
    if results is None:
        return ""
    from ..eval.forgetting import format_forgetting

    env = results["environment"]
    wall = env["wall_seconds"]
    wall = f"{wall / 60:.0f} min" if wall >= 90 else f"{wall:.0f} s"
    return (f"{format_forgetting(results)}\n\nThe probe scores the base's own greedy replies to held-out general "
            "prompts (topics no replay slice uses), so the base in its own template is the floor; an adapter's "
            "drift is the nats per token it adds over the base with the same system prompt (0: no forgetting).\n\n"
            f"Reproduce: `{results['command']}` (wall time {wall} on {env['hardware']}).")


def load_results(adapter_dir: Path, *, search: list[Path] | None = None) -> dict[str, dict[str, Any]]:
    """The evaluation results of this very adapter, by split.

    Looks in ``search`` (default: ``<adapter>/eval`` then ``model_cards/<entry>``) and keeps, per split,
    the first ``results_<split>.json`` whose recorded adapter sha256 equals the adapter's weights; results
    of another adapter are skipped with a warning, so a card never shows figures it did not earn.
    """
    meta = read_adapter_meta(adapter_dir)
    weights = sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE)
    entry = meta.get("entry") or adapter_dir.name
    folders = search if search is not None else [adapter_dir / "eval", card_dir(entry)]
    found: dict[str, dict[str, Any]] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("results_*.json")):
            try:
                results = json.loads(path.read_text())
            except json.JSONDecodeError as err:
                raise SrmzooError(f"{path} is not valid JSON: {err}", hint="re-run srmzoo eval") from None
            settings = results.get("settings", {})
            split = settings.get("split")
            if settings.get("samples", 1) > 1:  # a sampled evaluation sits beside the greedy one
                split = f"{split}_k{settings['samples']}"
            elif settings.get("budgets"):  # so does a budgeted one
                split = f"{split}_budget"
            if split in found:
                continue
            if results.get("adapter", {}).get("sha256") != weights:
                log.warning("skipping %s: it evaluated a different adapter (sha256 differs)", path)
                continue
            found[split] = results
    order = {"test": 0, "ood": 1, "humaneval": 2, "mbpp": 3}
    return dict(sorted(found.items(), key=lambda kv: (order.get(re.split(r"_k|_budget", kv[0])[0], 9), kv[0])))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _eval_section(results: dict[str, Any]) -> dict[str, Any]:
    settings = results["settings"]
    reports = results["reports"]
    rows = [
        "| model | prompting | accuracy | 95% CI | correct / wrong / no answer |",
        "|---|---|---|---|---|",
    ]
    own = f"{results.get('entry')} (adapter)"
    for r in reports:
        name = f"**{r['model']}**" if r["model"] == own and r["prompting"] == "adapter" else r["model"]
        rows.append(
            f"| {name} | {r['prompting']} | {_pct(r['accuracy'])} | {_pct(r['ci_low'])} – {_pct(r['ci_high'])} "
            f"| {r['correct']} / {r['wrong']} / {r['unverifiable']} |"
        )
    families = sorted({f for r in reports for f in r.get("families", {})})
    fam_rows = [
        "| model | prompting | " + " | ".join(families) + " |",
        "|---|---|" + "---|" * len(families),
    ]
    for r in reports:
        cells = []
        for f in families:
            fam = r.get("families", {}).get(f)
            cells.append(f"{_pct(fam['accuracy'])} ({fam['n']})" if fam else "-")
        fam_rows.append(f"| {r['model']} | {r['prompting']} | " + " | ".join(cells) + " |")
    means = family_means_table(reports, _family_groups(results.get("domain")))
    if means:
        fam_rows += ["", "Mean over families (each family weighs the same, whatever its n):", "", means]
    paired = [
        "| this adapter vs | prompting | difference (points) | 95% CI, paired bootstrap | only this right / only that right |",
        "|---|---|---|---|---|",
    ]
    for d in results.get("paired", []):
        paired.append(
            f"| {d['model']} | {d['prompting']} | {100 * d['difference']:+.1f} | "
            f"{100 * d['ci_low']:+.1f} – {100 * d['ci_high']:+.1f} | {d['only_adapter_correct']} / {d['only_other_correct']} |"
        )
    env = results.get("environment", {})
    wall = env.get("wall_seconds")
    title = split_title(settings["split"], results.get("domain"))
    if settings.get("samples", 1) > 1:
        title += f"; {settings['samples']} samples per item at temperature {settings['temperature']}"
    if settings.get("budgets"):
        title += f"; reasoning budgets {', '.join(map(str, settings['budgets']))} tokens"
    return {
        "name": settings["split"],
        "title": title,
        "scaling": _scaling_table(results) or _budget_table(results),
        "n": settings["n"],
        "decoding": settings["decoding"],
        "max_new_tokens": settings["max_new_tokens"],
        "few_shot": settings.get("few_shot", 0) if any(r["prompting"].startswith("few-shot") for r in reports) else 0,
        "table": "\n".join(rows),
        "families": "\n".join(fam_rows),
        "paired": "\n".join(paired) if results.get("paired") else "",
        "command": settings.get("command", "srmzoo eval"),
        "wall": f"{wall / 60:.0f} min" if wall else "?",
        "hardware": env.get("hardware", "?"),
    }


HEADLINE_ORDER = ("test", "natural", "ood")  # then the external sets, alphabetically


def _headline_order(split: str) -> tuple[int, str]:
    return (HEADLINE_ORDER.index(split), "") if split in HEADLINE_ORDER else (len(HEADLINE_ORDER), split)


def _results_domain(name: str | None) -> Domain | None:
    """The domain a results file names, or None for a user-data domain or one not installed here."""
    try:
        return get_domain(name) if name else None
    except SrmzooError:
        return None


def _own_greedy(entry: str, res: dict[str, Any]) -> dict[str, Any] | None:
    """The entry's own report in a greedy results file (None for a sampled or budgeted one, or without it)."""
    if res["settings"].get("samples", 1) > 1 or res["settings"].get("budgets"):
        return None
    return next((r for r in res["reports"] if r["model"] == f"{entry} (adapter)" and r["prompting"] == "adapter"),
                None)


def _unmeasured(evals: dict[str, dict[str, Any]]) -> list[str]:
    """The domain's evaluation splits (test, natural, external sets) that no greedy result here covers."""
    domain = _results_domain(next((r.get("domain") for r in evals.values()), None))
    if domain is None:
        return []
    measured = {r["settings"]["split"] for r in evals.values()}
    measured |= {f"external:{m}" for m in measured if domain.is_external(m)}  # older results: bare names
    return [s for s in ["test", *domain.evaluation_splits()] if s not in measured]


def _is_external(domain: str | None, split: str) -> bool:
    """Whether ``split`` is an external set: ``external:NAME``, or a bare benchmark name of the domain (results
    written before the prefix)."""
    if split.startswith("external:"):
        return True
    found = _results_domain(domain)
    return found is not None and found.is_external(split)


def _paired_cell(paired: dict[tuple[str, str], dict[str, Any]], report: dict[str, Any]) -> str:
    d = paired.get((report["model"], report["prompting"]))
    if d is None:
        return "-"
    return f"{100 * d['difference']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"


def headline(entry: str, base: str, evals: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """The card's first paragraph: per evaluated split, the entry beside its base's best prompting (the better
    of zero-shot and few-shot on that split) and every compared adapter, as paired differences with their 95%
    CIs; and one warning per external set on which the entry loses to its base.

    Returns:
        ``(table, warnings)``: a Markdown table ("" when no split has results) and the warning sentences.

    >>> res = {"settings": {"split": "external:x", "n": 10, "samples": 1}, "reports": [
    ...     {"model": "e (adapter)", "prompting": "adapter", "accuracy": 0.2},
    ...     {"model": "b", "prompting": "zero-shot", "accuracy": 0.3}],
    ...     "paired": [{"model": "b", "prompting": "zero-shot", "difference": -0.1, "ci_low": -0.3, "ci_high": 0.1}]}
    >>> table, warnings = headline("e", "b", {"external:x": res})
    >>> print(table.splitlines()[2])
    | external:x | 10 | 20.0% | 30.0% (zero-shot) | -10.0 [-30.0, +10.0] | - |
    >>> warnings
    ['**On external:x this entry loses to its own base**: 20.0% vs 30.0% (zero-shot), paired -10.0 points [-30.0, +10.0].']
    """
    rows, warnings = [], []
    for key in sorted(evals, key=lambda k: _headline_order(evals[k]["settings"]["split"])):
        res = evals[key]
        settings, reports = res["settings"], res["reports"]
        split = settings["split"]
        own = _own_greedy(entry, res)
        if own is None:
            continue
        paired = {(d["model"], d["prompting"]): d for d in res.get("paired", [])}
        bases = [r for r in reports if r["model"] == base
                 and (r["prompting"] == "zero-shot" or r["prompting"].startswith("few-shot"))]
        best = max(bases, key=lambda r: r["accuracy"], default=None)
        others = [r for r in reports if r["prompting"] == "adapter" and r["model"] != own["model"]]
        other_cells = "; ".join(f"{r['model'].removesuffix(' (adapter)')} {_pct(r['accuracy'])}: "
                                f"{_paired_cell(paired, r)}" for r in others) or "-"
        base_cell = f"{_pct(best['accuracy'])} ({best['prompting']})" if best else "not scored"
        vs_base = _paired_cell(paired, best) if best else "-"
        rows.append(f"| {split} | {settings['n']} | {_pct(own['accuracy'])} | {base_cell} | {vs_base} | {other_cells} |")
        if best and _is_external(res.get("domain"), split) and own["accuracy"] < best["accuracy"]:
            warnings.append(f"**On {split} this entry loses to its own base**: {_pct(own['accuracy'])} vs "
                            f"{_pct(best['accuracy'])} ({best['prompting']}), paired {vs_base.replace(' [', ' points [')}.")
    if not rows:
        return "", warnings
    table = "\n".join([
        "| split | n | this entry | base's best prompting | difference vs base (points, 95% CI) | other adapters: "
        "accuracy, difference |",
        "|---|---|---|---|---|---|",
        *rows,
    ])
    return table, warnings


HEADLINE_START, HEADLINE_END = "<!-- srmzoo:headline -->", "<!-- /srmzoo:headline -->"
HEADLINE_INTRO = (
    "Measured here, greedy, on the same items for every model (`test`: the generated held-out split; `natural`:\n"
    "held-out question families phrased as people ask; `external:*`: sets nobody here generated):"
)


def headline_block(entry: str, base: str, evals: dict[str, dict[str, Any]]) -> str:
    """The card's headline (:func:`headline`) as the Markdown between its markers: the warnings, then the table."""
    table, warnings = headline(entry, base, evals)
    parts = [*warnings, *([HEADLINE_INTRO, table] if table else [])]
    own = {r["settings"]["split"]: rep["accuracy"] for r in evals.values() if (rep := _own_greedy(entry, r))}
    if "test" in own and "natural" in own:
        parts.append(f"The gap between the test split and the natural one: {100 * (own['test'] - own['natural']):.1f} "
                     "points (the goal is at most 10: the entry should not only fit its own templates).")
    missing = _unmeasured(evals)
    if missing:
        parts.append(f"Not measured for this entry: {', '.join(f'`{m}`' for m in missing)}.")
    return "\n\n".join([HEADLINE_START, *parts, HEADLINE_END])


def refresh_headline(card: str | Path) -> Path:
    """Rewrite the headline of a committed card (``model_cards/<entry>/``) from the results files beside it,
    without its adapter: the marked block is replaced, or, in a card written before headlines, put under the
    title (and the healthcare disclaimer). Returns the README's path.

    Raises:
        SrmzooError: no README.md there, or no results file of this entry beside it.
    """
    card = Path(card)
    readme = card / "README.md"
    if not readme.is_file():
        raise SrmzooError(f"no model card at {readme}", hint="render one with `srmzoo card ENTRY` first")
    entry = card.name
    evals: dict[str, dict[str, Any]] = {}
    for path in sorted(card.glob("results_*.json")):
        res = json.loads(path.read_text())
        if res.get("entry") == entry:  # keyed by file: a sampled run of a split sits beside its greedy one
            evals[path.stem.removeprefix("results_")] = res
    if not evals:
        raise SrmzooError(f"{card} has no results of {entry!r}", hint=f"run `srmzoo eval {entry}` and `srmzoo card`")
    base = next(iter(evals.values()))["base"]["name"]
    block = headline_block(entry, base, evals)
    text = readme.read_text()
    if HEADLINE_START in text and HEADLINE_END in text:
        head, rest = text.split(HEADLINE_START, 1)
        text = head + block + rest.split(HEADLINE_END, 1)[1]
    else:
        title = f"\n# {entry}\n\n"
        at = text.index(title) + len(title)
        if text[at:].startswith("> **"):  # the disclaimer stays first
            at = text.index("\n\n", at) + 2
        text = text[:at] + block + "\n\n" + text[at:]
    readme.write_text(text)
    return readme


def _family_groups(domain: str | None) -> dict[str, tuple[str, ...]]:
    try:
        return dict(get_domain(domain).family_groups) if domain else {}
    except SrmzooError:
        return {}


def family_means(families: dict[str, dict[str, Any]], groups: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """The unweighted mean of the families' accuracies, over all families and over each group's families
    present (a group with none present is left out).

    >>> fams = {"a": {"accuracy": 1.0}, "b": {"accuracy": 0.5}, "c": {"accuracy": 0.0}}
    >>> family_means(fams, {"ab": ("a", "b"), "z": ("z",)})
    {'all': 0.5, 'ab': 0.75}
    """
    out = {"all": sum(f["accuracy"] for f in families.values()) / len(families)} if families else {}
    for name, members in groups.items():
        present = [families[m]["accuracy"] for m in members if m in families]
        if present:
            out[name] = sum(present) / len(present)
    return out


def family_means_table(reports: list[dict[str, Any]], groups: dict[str, tuple[str, ...]]) -> str:
    """One row per report: the mean over all families and over each group (:func:`family_means`)."""
    if not any(len(r.get("families") or {}) > 1 for r in reports):
        return ""
    rows = [(r, family_means(r.get("families") or {}, groups)) for r in reports]
    names = ["all", *groups]
    label = {"all": "all families"}
    lines = [
        "| model | prompting | " + " | ".join(label.get(n, n) for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for r, m in rows:
        lines.append(f"| {r['model']} | {r['prompting']} | " + " | ".join(_pct(m.get(n)) for n in names) + " |")
    return "\n".join(lines)


def _scaling_table(results: dict[str, Any]) -> str:
    """Test-time scaling (see :mod:`srmzoo.eval.scaling`): majority vote and pass@k at each k, with tokens spent,
    and the plot written beside the results; empty for a greedy evaluation."""
    curves = results.get("scaling") or {}
    if not curves:
        return ""
    lines = [
        "Test-time scaling from the same samples, each point the expectation over which k of them were "
        "drawn: majority vote (self-consistency), best-of-k (the samples a gold-free check ranks highest, "
        "then a vote; '-' where the domain has none) and pass@k (an oracle that knows the gold answer), "
        "against samples and new tokens per item.",
        "",
        "| model | k | tokens / item | majority vote | best-of-k | pass@k |",
        "|---|---|---|---|---|---|",
    ]
    for label, c in curves.items():
        tokens = c.get("tokens_per_item") or [None] * len(c["k"])
        best = c.get("best_of") or [None] * len(c["k"])
        for k, t, m, b, p in zip(c["k"], tokens, c["majority"], best, c["pass_at_k"], strict=True):
            lines.append(f"| {label} | {k} | {'-' if t is None else f'{t:.0f}'} | {_pct(m)} | {_pct(b)} | {_pct(p)} |")
    settings = results["settings"]
    lines += ["", f"![test-time scaling](scaling_{settings['split']}_k{settings['samples']}.png)"]
    return "\n".join(lines)


def _budget_table(results: dict[str, Any]) -> str:
    """Reasoning budgets (see :mod:`srmzoo.eval.budget`): accuracy at each budget with budget forcing and with the
    reasoning merely cut, with tokens spent, and the plot; empty when the evaluation had no budgets."""
    rows = [r for r in results.get("reports", []) if r.get("budget")]
    if not rows:
        return ""
    cue = rows[0]["budget"]["answer_cue"]
    lines = [
        f"Reasoning budgets from the same greedy completions: at budget B a completion that finished within B "
        f"tokens stands; a longer one is cut after B tokens and forced to answer (the cue `{cue!r}`, then at "
        f"most {rows[0]['budget']['answer_tokens']} greedy tokens; budget forcing) or, in the 'cut' column, "
        "scored as cut.",
        "",
        "| model | budget B | tokens / item | forced to answer | accuracy, forced | accuracy, cut |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["budget"]
        for b, t, k, f, x in zip(c["budgets"], c["tokens_per_item"], c["forced_items"], c["forced"], c["cut"], strict=True):
            lines.append(f"| {r['model']}, {r['prompting']} | {b} | {t:.0f} | {k} / {c['n']} | {_pct(f)} | {_pct(x)} |")
    lines += ["", f"![reasoning budget](budget_{results['settings']['split']}.png)"]
    return "\n".join(lines)


def _training_section(training: dict[str, Any]) -> str:
    """One line for an SFT adapter; a line per stage (SFT, each RFT round with what it sampled and kept)
    for a multi-stage one."""
    stages = training.get("stages") or [{"stage": "sft", **training}]
    lines = []
    hardware = next((s.get("hardware") for s in stages if s.get("hardware")), training.get("hardware", "?"))
    for s in stages:
        if s["stage"] == "sft":
            lines.append(
                f"LoRA SFT, {s.get('steps', '?')} steps over {s.get('examples', '?')} examples "
                + (f"({s['general']['examples']} of them the base's own replies to general prompts, the replay "
                   "slice; " if s.get("general") else "(")
                + f"{s.get('trained_tokens', '?')} tokens, final train loss {s.get('train_loss', float('nan')):.3f}) "
                f"in {s.get('seconds', 0) / 60:.1f} min on {s.get('hardware', hardware)}, torch {s.get('torch', '?')}."
            )
        elif s["stage"] == "rft":
            t, g = s.get("train", {}), s.get("generation", {})
            lines.append(
                f"RFT round {s.get('round', '?')}: sampled {s.get('samples', '?')} completions for "
                f"{s.get('problems', '?')} training-split problems ({_pct(s.get('sample_accuracy'))} verified "
                f"correct; {s.get('problems_solved_at_least_once', '?')} problems solved at least once, "
                f"{g.get('tokens_per_s', '?')} tok/s), kept {s.get('kept', '?')} distinct correct finished ones"
                + (f" and the reference solutions of the {s['reference_solutions']} problems no sample solved"
                   if s.get("reference_solutions") else "")
                + f", then fine-tuned {t.get('steps', '?')} steps (lr {t.get('lr', '?')}, final train loss "
                f"{t.get('train_loss', float('nan')):.3f}); {s.get('seconds', 0) / 60:.1f} min in all."
            )
        elif s["stage"] == "grpo":
            lines.append(
                f"GRPO: {s.get('steps', '?')} steps of {s.get('completions', 0) // max(s.get('steps', 1), 1)} "
                f"completions ({s.get('num_generations', '?')} per problem), rewards "
                f"{', '.join(f'{k} x{v:g}' for k, v in s.get('rewards', {}).items())}, lr {s.get('lr', '?')}, "
                f"KL coefficient {s.get('beta', '?')}; mean reward {s.get('reward_first_steps', '?')} over the "
                f"first 5 steps, {s.get('reward_last_steps', '?')} over the last 5; "
                f"{s.get('seconds', 0) / 60:.1f} min (reward curve: `reward_curve.png`)."
            )
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1)) if len(lines) > 1 else lines[0]


def _card_data(meta: dict[str, Any], recipe: dict[str, Any], evals: dict[str, dict[str, Any]], *, entry: str):
    from huggingface_hub import EvalResult, ModelCardData

    from ..bases import get_base_spec

    spec = get_base_spec(meta["base"]["name"])
    domain = adapter_domain(meta)
    user_data = _user_data_name(meta)
    results = []
    for split, res in evals.items():
        if res["settings"].get("samples", 1) > 1 or res["settings"].get("budgets"):
            continue  # the index carries plain greedy accuracy; curves stay in the text
        external = domain.is_external(split)
        for r in res["reports"]:
            if r["prompting"] != "adapter" or r["model"] != f"{entry} (adapter)":  # not a compared adapter
                continue
            results.append(
                EvalResult(
                    task_type="text-generation",
                    task_name=f"{domain.name} reasoning",
                    dataset_type=BENCHMARK_DATASETS.get(split.removeprefix("external:"), split) if external else user_data
                    or f"srmzoo/{domain.name}-generated",
                    dataset_name=split if external else f"{user_data} (the user's data)" if user_data else
                    f"srmzoo {domain.name} generated problems v{res.get('domain_data_version', '1')}",
                    dataset_split="test" if external else split,
                    dataset_args={"n": res["settings"]["n"]},
                    metric_type="accuracy",
                    metric_name=f"accuracy ({res['settings']['decoding']}, n={res['settings']['n']})",
                    metric_value=round(r["accuracy"], 4),
                    metric_args={"ci95": [round(r["ci_low"], 4), round(r["ci_high"], 4)]},
                )
            )
    tags = ["srmzoo", "lora", "reasoning", domain.name, *recipe.get("publish", {}).get("tags", [])]
    if domain.name == "healthcare":
        tags.append("not-for-clinical-use")
    data = ModelCardData(
        base_model=spec.hub_id,
        library_name="peft",
        license=spec.license,
        pipeline_tag="text-generation",
        language="en",
        tags=list(dict.fromkeys(tags)),
        model_name=entry,
        eval_results=results or None,
    )
    return data


def _tools_note(tools: tuple[str, ...]) -> str:
    if not tools:
        return ""
    example = "`<<70 - 56>> = 14`" if "calculator" in tools else "`<<formula(CCO)>> = C2H6O`"
    answered_by = " and ".join(
        {"calculator": "an exact calculator (a parser, never `eval`)",
         "rdkit": "RDKit look-ups of a SMILES (formula, weights, H-bond and ring counts)",
         "biopython": "Biopython look-ups of a DNA sequence (reverse complement, transcription, translation, "
                      "GC content, motif counts and positions)"}.get(t, t) for t in tools)
    return (
        f"**This entry calls tools ({', '.join(tools)}).** It writes each call as `<<...>>` and expects the "
        f"result to follow ({example}): srmzoo's reasoner (`load`, `srmzoo solve`, `srmzoo eval`) answers "
        f"every call the moment it closes, with {answered_by}; model text is never run (`srmzoo.tools`). "
        "Plain `generate` above lets the model write the results itself, which is the `adapter, no tools` row "
        "of the evaluation; to get the tool row, stop at `>>`, append ` = <result>` and continue."
    )


def _base_note(meta: dict[str, Any]) -> str:
    base = meta["base"]
    if str(base.get("format", "")).startswith("gguf"):
        return (
            f"\nThe base it was trained on is {base['hub_id']} as shipped in `{base.get('origin', '?')}` "
            f"(`{base.get('gguf_file', 'GGUF')}`, dequantized to fp32; sha256 `{base['sha256'][:16]}…`), "
            "which is what `srmzoo.load` uses, offline, and checks by hash. The Hub's original weights differ "
            "from it by the GGUF quantization error, so plain peft on the Hub base gives close but not "
            "bit-identical outputs."
        )
    return f"\nBase identity: `{base.get('origin', base['hub_id'])}`, sha256 `{str(base.get('sha256'))[:16]}…`."


def _user_data_name(meta: dict[str, Any]) -> str | None:
    """The Hub id or file name of an entry's own training data (``data.dataset``), None for a generated domain.

    >>> _user_data_name({"dataset": {"config": {"train": {"path": "data/questions.jsonl"}}}}), _user_data_name({})
    ('questions.jsonl', None)
    """
    train = ((meta.get("dataset") or {}).get("config") or {}).get("train") or {}
    if not train:
        return None
    return train.get("hub") or Path(str(train.get("path") or "data")).name


def _user_data_lines(manifest: dict[str, Any]) -> list[str]:
    """Where an entry's own data came from: each source with its SHA-256 and rows, and the verifier."""
    data = manifest["dataset"]
    lines = [f"The user's own data (license {manifest.get('license', '?')}), answers checked by the "
             f"`{data.get('verifier')}` verifier ({data.get('verifier_description', '')}); manifest "
             f"`{DATA_MANIFEST_FILE}`, written by `srmzoo train` and compared by `srmzoo data check`.", ""]
    for split, src in (data.get("sources") or {}).items():
        if src.get("held_out_from"):
            lines.append(f"- {split}: {src.get('rows')} rows held out of {src['held_out_from']} "
                         f"(holdout {src.get('holdout')}, by the SHA-256 of each question)")
            continue
        where = f"`{src['path']}`" if src.get("path") else f"Hub `{src.get('hub')}` (split {src.get('split')}, " \
            f"revision {src.get('revision') or 'main'})"
        digest = f"file sha256 `{str(src['file_sha256'])[:16]}…`" if src.get("file_sha256") else \
            f"rows sha256 `{str(src.get('rows_sha256'))[:16]}…`"
        lines.append(f"- {split}: {where}, {src.get('rows')} rows, {digest}")
    return [*lines, "", "| split | n | seed | per family | sha256 of the JSONL |", "|---|---|---|---|---|"]


def _data_section(entry: str, domain_name: str, adapter_dir: Path | None = None) -> str:
    import srmzoo.data_manifests

    path = Path(srmzoo.data_manifests.__file__).parent / f"{entry}.json"
    if not path.is_file() and adapter_dir is not None:  # an entry on the user's data: srmzoo train wrote it
        path = _run_file(adapter_dir, DATA_MANIFEST_FILE) or path
    if not path.is_file():
        return f"No data manifest yet: `srmzoo data manifest {entry}` writes one."
    manifest = json.loads(path.read_text())
    generator = manifest.get("generator", {})
    lines = _user_data_lines(manifest) if manifest.get("dataset") else [
        f"Generated by `{generator.get('domain_class', domain_name)}` (data version "
        f"{generator.get('data_version', '?')}, license {manifest.get('license', '?')}); manifest "
        f"`data_manifests/{entry}.json`, rebuilt and compared by `srmzoo data check`.",
        "",
        "| split | n | seed | per family | sha256 of the JSONL |",
        "|---|---|---|---|---|",
    ]
    for split, info in manifest.get("splits", {}).items():
        fams = ", ".join(f"{k} {v}" for k, v in (info.get("families") or {}).items())
        seed = (info.get("request") or {}).get("seed", "-")
        lines.append(f"| {split} | {info.get('n')} | {seed} | {fams} | `{str(info.get('sha256'))[:16]}…` |")
    if manifest.get("how_splits_are_disjoint"):
        lines += ["", f"How the splits are disjoint: {manifest['how_splits_are_disjoint']}"]
    overlap = manifest.get("overlap") or {}
    if overlap:
        lines += ["", "Overlap check (train questions vs each held-out split):", ""]
        for name, rep in overlap.items():
            lines.append(
                f"- {name}: {rep.get('exact_duplicate_questions')} exact duplicates, {rep.get('near_duplicates')} "
                f"near duplicates (cosine ≥ {rep.get('near_duplicate_threshold')}; max {rep.get('max_similarity')}), "
                f"{rep.get('shared_13gram')} sharing a 13-word sequence — {rep.get('method', '')}"
            )
    return "\n".join(lines)


def _limitations(domain: Domain, meta: dict[str, Any], evals: dict[str, dict[str, Any]]) -> list[str]:
    items = [
        f"A {meta['base'].get('params', 0) / 1e6:.0f}M-parameter model trained on generated {domain.name} "
        "problems: it is good at these problem families and their phrasings, and weak outside them.",
        "Accuracy is measured on generated items from the same generators (the `test` split) and on harder "
        "or differently phrased ones (`ood`); it says little about real-world problems of the domain.",
        "Greedy decoding; answers outside the trained answer format are counted as no answer.",
    ]
    if domain.name == DATASET_DOMAIN:
        items[:2] = [
            f"A {meta['base'].get('params', 0) / 1e6:.0f}M-parameter model trained on the user's own questions "
            f"({_user_data_name(meta)}): it is good at questions like them, and weak outside them.",
            "Accuracy is measured on held-out rows of the user's data (the `test` split), never trained on; it "
            "says as much about other questions as those rows resemble them.",
        ]
    if "ood" in evals:
        for r in evals["ood"]["reports"]:
            if r["prompting"] == "adapter":
                items.append(f"Out of distribution it scores {_pct(r['accuracy'])}: check answers with the verifier.")
    for split in [s for s in evals if domain.is_external(s)]:  # what the adapter does beyond its data
        reports = {r["prompting"]: r for r in evals[split].get("reports", [])}
        paired = [p for p in evals[split].get("paired", []) if p["model"] == meta["base"].get("name")]
        if "adapter" in reports and paired:
            best = min(paired, key=lambda p: p["difference"])  # against the base's best prompting
            verdict = "worse than" if best["ci_high"] < 0 else "no better than" if best["ci_low"] <= 0 else "better than"
            items.append(
                f"On {split} (an external benchmark, never trained on) it scores {_pct(reports['adapter']['accuracy'])}, "
                f"{verdict} the base's {best['prompting']} ({best['difference'] * 100:+.1f} points, paired 95% CI "
                f"{best['ci_low'] * 100:+.1f} to {best['ci_high'] * 100:+.1f})."
            )
    if domain.disclaimer:
        items.append(
            f"{domain.disclaimer} Clinical calculators here are simplified textbook formulas on synthetic "
            "patient notes; they have not been validated for any clinical use."
        )
    return items


# what the card states about the LoRA and the base: srmzoo train writes all of them into srmzoo_adapter.json
_CARD_META_FIELDS = {"lora": ("r", "alpha", "target_modules"), "base": ("hub_id",)}


def _check_card_meta(meta: dict[str, Any], path: Path) -> None:
    """Fail with the field's name, before anything renders, when the metadata lacks what the card states."""
    for section, keys in _CARD_META_FIELDS.items():
        value = meta.get(section)
        missing = [f"{section}.{key}" for key in keys if not isinstance(value, dict) or value.get(key) is None]
        if missing:
            raise SrmzooError(
                f"{path}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing; the model card "
                f"states {'it' if len(missing) == 1 else 'them'}",
                hint="re-download or retrain the adapter (srmzoo train writes them into srmzoo_adapter.json)",
            )


def render_card(adapter_dir: str | Path, *, repo: str | None = None, results_dir: str | Path | None = None) -> str:
    """The model card (README.md text) of an adapter, from its run artifacts.

    Args:
        adapter_dir: a trained adapter (store entry or a run's ``adapter/``).
        repo: the Hub repo it is published to (used in the usage snippets).
        results_dir: where to look for ``results_<split>.json`` first.

    Raises:
        SrmzooError: not an adapter directory, or an artifact that cannot be read; metadata that lacks a field
            the card states (``lora: {}``, no ``base.hub_id``, a malformed result), naming the field.
    """
    from jinja2 import Environment, StrictUndefined, UndefinedError

    from ..bases import get_base_spec
    from ..recipe import read_yaml
    from ..version import __version__

    adapter_dir = Path(adapter_dir)
    meta = read_adapter_meta(adapter_dir)
    _check_card_meta(meta, adapter_dir / ADAPTER_META_FILE)
    if not (adapter_dir / ADAPTER_WEIGHTS_FILE).is_file():  # the card's results are matched to its sha256
        raise SrmzooError(f"adapter {adapter_dir} is incomplete: {ADAPTER_WEIGHTS_FILE} is missing",
                          hint="re-download or retrain the adapter")
    entry = meta.get("entry") or adapter_dir.name
    domain = adapter_domain(meta)
    recipe_file = _run_file(adapter_dir, "recipe.yaml")
    recipe = (read_yaml(recipe_file) if recipe_file else None) or {}  # size-checked before it is read
    if not isinstance(recipe, dict):
        raise SrmzooError(f"{recipe_file}: expected a mapping of recipe keys, got {type(recipe).__name__}",
                          hint="re-download or retrain the adapter (srmzoo train writes the resolved recipe)")
    recipe_yaml = recipe_file.read_text() if recipe_file else ""
    try:
        repo = repo or (recipe.get("publish") or {}).get("repo")  # where the recipe publishes it
        search = [Path(results_dir)] if results_dir is not None else []
        evals = load_results(adapter_dir, search=[*search, adapter_dir / "eval", card_dir(entry)])
        forgetting = load_forgetting(adapter_dir, [*search, adapter_dir / "eval", card_dir(entry)])
        fmt = PromptFormat.load(adapter_dir)
        example = domain.examples("train", 1, seed=0)[0]
        training = meta.get("training", {})
        spec = get_base_spec(meta["base"]["name"])
        training_line = _training_section(training)
        env = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
        env.filters["tojson"] = lambda value: json.dumps(value, ensure_ascii=False)
        template = env.from_string(_template_path().read_text())
        max_new = next(iter(evals.values()))["settings"]["max_new_tokens"] if evals else 256
        return template.render(
            card_data=_card_data(meta, recipe, evals, entry=entry).to_yaml(),
            entry=entry,
            disclaimer=domain.disclaimer,
            description=recipe.get("description") or domain.description,
            lora=meta["lora"],
            base_hub_id=spec.hub_id,
            domain=domain.name,
            domain_description=domain.description,
            trained_on=(f"the user's own questions and answers, **{_user_data_name(meta)}**, whose answers are checked "
                        f"exactly\n({domain.description})" if domain.name == DATASET_DOMAIN else
                        f"step-by-step solutions to generated **{domain.name}** problems whose answers are checked "
                        f"exactly\n({domain.description})"),
            repo=repo,
            example_question=example.question,
            example_answer=example.answer,
            system_prompt=fmt.system_prompt or "",
            max_new_tokens=max_new,
            base_note=_base_note(meta),
            tools_note=_tools_note(fmt.tools),
            evals=[_eval_section(r) for r in evals.values()],
            forgetting=_forgetting_section(forgetting),
            headline=headline_block(entry, meta["base"]["name"], evals),
            training_line=training_line,
            curves=[(alt, name) for name, alt in CURVES.items() if _run_file(adapter_dir, name) is not None],
            recipe_path=_recipe_path(entry),
            recipe_yaml=recipe_yaml if recipe_yaml.endswith("\n") or not recipe_yaml else recipe_yaml + "\n",
            data_section=_data_section(entry, domain.name, adapter_dir),
            limitations=_limitations(domain, meta, evals),
            srmzoo_version=__version__,
        )
    except SrmzooError:
        raise
    except (UndefinedError, KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        # the helpers and the template read many fields of the run's JSON files; name the one that failed
        what = f"the field {err.args[0]!r} is missing" if type(err) is KeyError else f"{type(err).__name__}: {err}"
        raise SrmzooError(
            f"{adapter_dir}: cannot render the model card: {what[:200]}",
            hint="the adapter's srmzoo_adapter.json, recipe.yaml or results_<split>.json is incomplete or damaged: "
                 "re-download or retrain the adapter, and re-run `srmzoo eval`",
        ) from None


def _recipe_path(entry: str) -> str:
    """The shipped recipe that reproduces ``entry``, as a path from the repo root (else the name).

    >>> _recipe_path("math-135m-plain"), _recipe_path("not-shipped")
    ('recipes/math/ablations/math-135m-plain.yaml', 'not-shipped')
    """
    from ..recipe import recipe_paths, recipe_root

    for path in recipe_paths():
        if path.stem == entry:
            return f"recipes/{path.relative_to(recipe_root()).as_posix()}"
    return entry


def write_card(target: str | Path, *, out_dir: str | Path | None = None, repo: str | None = None) -> Path:
    """Copy a trained entry's artifacts into ``model_cards/<entry>/`` and render its ``README.md`` there.

    Copies the evaluation results of this adapter (``results_<split>.json``), the training summary, loss
    curve and recipe, then renders the card from those copies. Returns the card's path.
    """
    from ..eval.forgetting import FORGETTING_FILE
    from ..store import find_adapter

    adapter_dir = find_adapter(target)
    meta = read_adapter_meta(adapter_dir)
    entry = meta.get("entry") or adapter_dir.name
    out = Path(out_dir) if out_dir is not None else card_dir(entry)
    out.mkdir(parents=True, exist_ok=True)
    evals = load_results(adapter_dir, search=[adapter_dir / "eval", out])
    for split, results in evals.items():
        path = out / f"results_{split_slug(split)}.json"
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        # a sampled evaluation's curves, a budgeted one's
        for plot in (adapter_dir / "eval" / f"scaling_{split}.png",
                     adapter_dir / "eval" / f"budget_{results['settings']['split']}.png"):
            if plot.is_file() and plot.resolve() != (out / plot.name).resolve():
                shutil.copy2(plot, out / plot.name)
    forgetting = adapter_dir / "eval" / FORGETTING_FILE
    if load_forgetting(adapter_dir, [adapter_dir / "eval"]) is not None and forgetting.resolve() != (
            out / FORGETTING_FILE).resolve():
        shutil.copy2(forgetting, out / FORGETTING_FILE)
    for name in CARD_ARTIFACTS:
        src = _run_file(adapter_dir, name)
        if src is not None and src.resolve() != (out / name).resolve():
            shutil.copy2(src, out / name)
    card = render_card(adapter_dir, repo=repo, results_dir=out)
    (out / "README.md").write_text(card)
    return out / "README.md"
