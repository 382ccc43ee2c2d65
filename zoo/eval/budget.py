r"""Reasoning-token budgets: what an entry answers when it may reason for at most ``B`` tokens.

A reasoner that runs out of tokens mid-trace gives no answer. **Budget forcing** (Muennighoff et al., 2025,
"s1: Simple test-time scaling") cuts the reasoning at the budget and appends the domain's answer cue
(:attr:`srmzoo.domain.Domain.answer_cue`, e.g. ``\nThe answer is \boxed{``), so the model commits to an
answer from what it has worked out so far::

    Weight = <<round(127 * 0.4536, 1)>> = 57.6 kg.
    Height = <<round(68 * 2.   [budget reached]
    \boxed{19.3}                [forced: the cue, then at most ``answer_tokens`` greedy tokens]

``Reasoner.solve(problem, budget=B)`` answers within a budget. ``srmzoo eval ENTRY --budgets 32,64,128``
draws the whole accuracy-vs-budget curve from one greedy generation at ``--max-new-tokens``: for each
budget, a completion that finished within it is kept as it is, and a longer one is cut at the budget
(its first ``B`` tokens) and forced to answer. The curve also reports the cut completions scored as they
stand (``cut``: what a hard token limit without forcing gives), so the value of forcing shows, and the
tokens spent per item (reasoning plus forced answer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import SrmzooError
from ..plots import figure

__all__ = ["DEFAULT_ANSWER_TOKENS", "budget_curve", "check_budgets", "force_answers", "write_budget_plot"]

DEFAULT_ANSWER_TOKENS = 24  # enough for a number, a formula or a SMILES string, not for more reasoning


def check_budgets(budgets: Sequence[int], max_new_tokens: int, cue: str | None, domain_name: str, *,
                  samples: int = 1) -> list[int]:
    """Validate budgets (positive, at most the generation budget, greedy decoding) and that the domain can
    be forced; returns them sorted, without repeats.

    >>> check_budgets([64, 32, 64], 128, "\\n\\\\boxed{", "math")
    [32, 64]
    >>> check_budgets([32], 128, None, "coding")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: coding has no answer cue to force an answer with: its answers are programs
      hint: evaluate coding entries without --budgets
    """
    if samples > 1:
        raise SrmzooError("reasoning budgets are measured on greedy completions", hint="drop --samples or --budgets")
    if cue is None:
        raise SrmzooError(f"{domain_name} has no answer cue to force an answer with: its answers are programs",
                          hint=f"evaluate {domain_name} entries without --budgets")
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= max_new_tokens:
            raise SrmzooError(f"a reasoning budget must be a whole number of tokens from 1 to max_new_tokens "
                              f"({max_new_tokens}), got {b!r}", hint="e.g. --budgets 32,64,128")
    return sorted(set(budgets))


def force_answers(
    model: Any, tokenizer: Any, prompts: Sequence[str], prefixes: Sequence[str], cue: str, *,
    answer_tokens: int = DEFAULT_ANSWER_TOKENS, batch_size: int = 16,
) -> tuple[list[str], list[int]]:
    """Append ``cue`` to each (cut) reasoning and let the model write its answer, greedily, in at most
    ``answer_tokens`` tokens, stopping at the answer's closing brace. Returns the forced completions
    (prefix + cue + answer) and the answer tokens each used."""
    from ..backends.hf import generate

    if not prompts:
        return [], []
    outs = generate(model, tokenizer, [p + x + cue for p, x in zip(prompts, prefixes, strict=True)],
                    max_new_tokens=answer_tokens, batch_size=batch_size, stop_strings=["}"])
    answers = [o[0] for o in outs]
    used = [len(ids) for ids in tokenizer(answers, add_special_tokens=False)["input_ids"]] if answers else []
    return [x + cue + a for x, a in zip(prefixes, answers, strict=True)], used


def budget_curve(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    max_new_tokens: int,
    budgets: Sequence[int],
    cue: str,
    correct: Callable[[str, int], bool],
    *,
    answer_tokens: int = DEFAULT_ANSWER_TOKENS,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Accuracy at each reasoning budget, from greedy ``completions`` made with ``max_new_tokens``.

    Args:
        prompts, completions: the rendered prompts and their greedy completions, item by item.
        max_new_tokens: the budget the completions were generated with (a completion this long did not
            finish on its own).
        budgets: reasoning budgets in tokens, each at most ``max_new_tokens``.
        cue: the text that asks for the final answer (:attr:`Domain.answer_cue`).
        correct: ``correct(text, i)``: whether ``text`` answers item ``i`` correctly (the domain's check).

    Returns:
        ``{"budgets", "forced", "cut", "forced_items", "tokens_per_item", "answer_cue", "answer_tokens",
        "n"}``: per budget, accuracy with budget forcing, accuracy of the cut completions as they stand,
        how many items were forced, and tokens spent per item.
    """
    ids = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in completions]
    n = len(completions)
    forced_acc, cut_acc, forced_items, tokens = [], [], [], []
    for budget in budgets:
        keep, cut_at = [], []
        for i, row in enumerate(ids):
            finished = len(row) < max_new_tokens
            (keep if finished and len(row) <= budget else cut_at).append(i)
        prefixes = [tokenizer.decode(ids[i][:budget], skip_special_tokens=True) for i in cut_at]
        forced, used = force_answers(model, tokenizer, [prompts[i] for i in cut_at], prefixes, cue,
                                     answer_tokens=answer_tokens, batch_size=batch_size)
        kept_right = sum(correct(completions[i], i) for i in keep)
        forced_acc.append((kept_right + sum(correct(t, i) for t, i in zip(forced, cut_at))) / n)
        cut_acc.append((kept_right + sum(correct(x, i) for x, i in zip(prefixes, cut_at))) / n)
        forced_items.append(len(cut_at))
        spent = sum(len(ids[i]) for i in keep) + sum(min(len(ids[i]), budget) + u for i, u in zip(cut_at, used))
        tokens.append(round(spent / n, 1))
    return {"n": n, "budgets": list(budgets), "forced": forced_acc, "cut": cut_acc, "forced_items": forced_items,
            "tokens_per_item": tokens, "answer_cue": cue, "answer_tokens": answer_tokens}


def write_budget_plot(results: dict[str, Any], out: Path) -> Path | None:
    """``budget_<split>.png`` in ``out``: accuracy against tokens spent per item at each reasoning budget,
    with budget forcing (solid) and with the reasoning simply cut (dashed), one colour per row; None when
    no row has a budget curve."""
    curves = {f"{r['model']}, {r['prompting']}": r["budget"] for r in results.get("reports", []) if r.get("budget")}
    if not curves:
        return None
    settings = results["settings"]
    path = out / f"budget_{settings['split']}.png"
    with figure(path, figsize=(6.5, 4), dpi=110) as (_, ax):
        for i, (label, c) in enumerate(curves.items()):
            ax.plot(c["tokens_per_item"], [100 * a for a in c["forced"]], "o-", color=f"C{i}", label=f"{label}: forced")
            ax.plot(c["tokens_per_item"], [100 * a for a in c["cut"]], "x--", color=f"C{i}", alpha=0.6,
                    label=f"{label}: cut, not forced")
            for b, x, y in zip(c["budgets"], c["tokens_per_item"], c["forced"], strict=True):
                ax.annotate(f"B={b}", (x, 100 * y), textcoords="offset points", xytext=(3, 4), fontsize=7)
        ax.set_xlabel("new tokens per item (reasoning + forced answer)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(f"{results['entry']}: {results['domain']}/{settings['split']}, {settings['n']} items, greedy, "
                     f"reasoning budget B", fontsize=9)
    return path
