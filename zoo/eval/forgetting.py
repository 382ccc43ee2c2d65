"""How far an adapter drifted from its base on general prompts: ``srmzoo forgetting ENTRY``.

The probe (:mod:`srmzoo.general`): held-out general prompts (topics no replay slice uses), each with the
base's own greedy reply in its own chat template. Every model is scored by the mean negative
log-likelihood per token it gives those replies (the assistant turn as the template renders it, end of
turn included) after the prompt in a given format:

* ``base, own prompt``: the base in its own template, no system prompt (the floor: they are its replies);
* per adapter, ``base, entry's prompt``: the base (adapter off) with the entry's system prompt, and the
  adapter with that same prompt. Their paired difference is the adapter's **drift**: the nats per token
  the fine-tune added to the base's own general behaviour, with a 95% paired bootstrap interval. 0 means
  no forgetting; an entry trained with a replay slice (``data.general_size``) should drift less than the
  same recipe without, which the paired differences between adapters show.

Forward passes only: 100 prompts cost about a minute per model for a 135M base on 2 CPU cores, after the
base's replies are generated once (cached, :func:`srmzoo.general.replies_cache`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..artifacts import ADAPTER_WEIGHTS_FILE, load_adapter, read_adapter_meta, sha256_file, write_json
from ..backends.replies import general_examples
from ..errors import SrmzooError
from ..general import general_prompts
from ..hardware import describe_hardware, release_memory
from ..prompting import PromptFormat, prompt_completion_ids
from ..store import find_adapter
from .stats import paired_bootstrap

__all__ = ["FORGETTING_FILE", "format_forgetting", "measure_forgetting", "reply_nll"]

log = logging.getLogger(__name__)

FORGETTING_FILE = "forgetting.json"


def reply_nll(model: Any, tokenizer: Any, fmt: PromptFormat, prompts: Sequence[str], replies: Sequence[str], *,
              batch_size: int = 8) -> list[float]:
    """Per pair, the mean negative log-likelihood (nats per token) of ``reply`` after ``prompt`` in ``fmt``,
    over the assistant turn's tokens as the template renders them (the training rows' completion)."""
    import torch

    rows = []
    for prompt, reply in zip(prompts, replies, strict=True):  # no tools: a general reply has no calls to answer
        p_ids, c_ids = prompt_completion_ids(tokenizer, replace(fmt, tools=()), prompt, reply)
        rows.append({"input_ids": p_ids + c_ids, "completion_mask": [0] * len(p_ids) + [1] * len(c_ids)})
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    was_training = model.training
    model.eval()
    out: list[float] = []
    try:
        with torch.no_grad():
            for start in range(0, len(rows), batch_size):
                batch = rows[start:start + batch_size]
                width = max(len(r["input_ids"]) for r in batch)
                ids = torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in batch])
                attn = torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in batch])
                mask = torch.tensor([r["completion_mask"] + [0] * (width - len(r["input_ids"])) for r in batch])
                logits = model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits.float()
                logp = torch.log_softmax(logits[:, :-1], dim=-1)
                target = ids[:, 1:].to(device)
                token_nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
                m = mask[:, 1:].to(device).float()
                out += ((token_nll * m).sum(1) / m.sum(1).clamp(min=1)).tolist()
    finally:
        model.train(was_training)
    return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def measure_forgetting(
    target: str | Path,
    *,
    n: int = 100,
    seed: int = 0,
    compare_adapters: Sequence[str] = (),
    batch_size: int = 8,
    device: str | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Score the adapter (and ``compare_adapters``, same base) on the general-prompt probe and write
    ``forgetting.json`` into ``out_dir`` (default: the adapter's ``eval/``); returns the results.

    Raises:
        SrmzooError: ``n`` out of range, an adapter on another base, or a base that finished no reply.
    """
    started = time.perf_counter()
    general_prompts("heldout", n, seed=seed)  # refuses a bad n before any model loads
    if n < 10:
        raise SrmzooError(f"--n {n} is too few prompts to measure drift", hint="use at least 10 (default 100)")
    main_dir = find_adapter(target)
    others = [find_adapter(name) for name in compare_adapters]
    main_meta = read_adapter_meta(main_dir)
    for other in others:
        if read_adapter_meta(other)["base"].get("name") != main_meta["base"].get("name"):
            raise SrmzooError(f"{other} was trained on another base than {main_dir}: the probe's replies are one "
                              "base's own", hint="compare adapters of the same base")
    labels: list[str] = []
    for d in [main_dir, *others]:
        label = f"{read_adapter_meta(d).get('entry') or d.name} (adapter)"
        labels.append(label if label not in labels else f"{d} (adapter)")

    rows: list[dict[str, Any]] = []
    per_item: dict[str, list[float]] = {}
    probe: dict[str, Any] = {}
    kept_prompts: list[str] = []
    kept_replies: list[str] = []
    base_by_system: dict[str | None, list[float]] = {}
    drift: list[dict[str, Any]] = []
    for i, (adapter_dir, label) in enumerate(zip([main_dir, *others], labels, strict=True)):
        model, tokenizer, fmt, meta = load_adapter(adapter_dir, device=device)
        if i == 0:
            with model.disable_adapter():  # the probe's references: the base's own finished replies
                kept, probe = general_examples(model, tokenizer, n, seed=seed, split="heldout",
                                               batch_size=batch_size * 2, progress=progress, base_identity=meta["base"])
            probe["base"] = meta["base"].get("name")
            kept_prompts, kept_replies = [e.question for e in kept], [e.solution for e in kept]
            with model.disable_adapter():
                own = reply_nll(model, tokenizer, PromptFormat.for_tokenizer(tokenizer), kept_prompts, kept_replies,
                                batch_size=batch_size)
            per_item["base, own prompt"] = own
            rows.append({"model": meta["base"].get("name"), "prompt": "own", "nll": _mean(own)})
        if fmt.system_prompt not in base_by_system:
            with model.disable_adapter():
                base_by_system[fmt.system_prompt] = reply_nll(model, tokenizer, fmt, kept_prompts, kept_replies,
                                                              batch_size=batch_size)
            rows.append({"model": meta["base"].get("name"), "prompt": f"entry's: {label}", "nll":
                         _mean(base_by_system[fmt.system_prompt]), "system_prompt": fmt.system_prompt})
        base_nll = base_by_system[fmt.system_prompt]
        log.info("scoring %s on %d general replies", label, len(kept_replies))
        scores = reply_nll(model, tokenizer, fmt, kept_prompts, kept_replies, batch_size=batch_size)
        per_item[label] = scores
        rows.append({"model": label, "prompt": "entry's", "nll": _mean(scores),
                     "adapter_sha256": sha256_file(adapter_dir / ADAPTER_WEIGHTS_FILE)})
        diff, low, high = paired_bootstrap(scores, base_nll, seed=seed)
        drift.append({"adapter": label, "drift_nats_per_token": diff, "ci_low": low, "ci_high": high,
                      "system_prompt": fmt.system_prompt})
        del model, tokenizer
        release_memory()
    for row in rows:
        row["perplexity"] = math.exp(row["nll"])
    between = []
    for other in labels[1:]:
        diff, low, high = paired_bootstrap(per_item[labels[0]], per_item[other], seed=seed)
        between.append({"a": labels[0], "b": other, "nll_difference": diff, "ci_low": low, "ci_high": high})
    results = {
        "entry": main_meta.get("entry") or main_dir.name,
        "probe": probe,
        "rows": rows,
        "drift": drift,
        "between_adapters": between,
        "per_item_nll": per_item,
        "command": _command(target, n, seed, compare_adapters),
        "environment": {"hardware": describe_hardware(),
                        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        "wall_seconds": round(time.perf_counter() - started, 1)},
    }
    out = Path(out_dir) if out_dir is not None else main_dir / "eval"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / FORGETTING_FILE, results)
    results["path"] = str(out / FORGETTING_FILE)
    return results


def _command(target: str | Path, n: int, seed: int, compare: Sequence[str]) -> str:
    parts = ["srmzoo", "forgetting", str(target), "--n", str(n), "--seed", str(seed)]
    if compare:
        parts += ["--compare-adapter", *map(str, compare)]
    return " ".join(parts)


def format_forgetting(results: dict[str, Any]) -> str:
    """The probe's table: each model's nats per token on the base's own general replies, then each
    adapter's drift (vs the base with the same prompt) and the paired differences between adapters."""
    probe = results["probe"]
    lines = [f"general-prompt probe: {probe['replies_kept']} of {probe['prompts']} held-out prompts with the "
             f"base's own finished reply (nats per token, lower = closer to the base)", "",
             "| model | prompt | nll | perplexity |", "|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['prompt']} | {r['nll']:.3f} | {r['perplexity']:.2f} |" for r in results["rows"]]
    lines += ["", "| adapter | drift vs base, same prompt (95% CI) |", "|---|---|"]
    lines += [f"| {d['adapter']} | {d['drift_nats_per_token']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] |"
              for d in results["drift"]]
    if results["between_adapters"]:
        lines += ["", "| a - b | nll difference (95% CI) |", "|---|---|"]
        lines += [f"| {b['a']} - {b['b']} | {b['nll_difference']:+.3f} [{b['ci_low']:+.3f}, {b['ci_high']:+.3f}] |"
                  for b in results["between_adapters"]]
    return "\n".join(lines)
