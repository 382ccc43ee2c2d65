"""``srmzoo train --dry-run``: trainable parameters, memory and time for a recipe from the base's
architecture config alone, and a one-step smoke run that checks a recipe before an hour of training.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from ..errors import SrmzooError
from ..hardware import cpu_has_fast_bf16
from ..recipe import Recipe
from ..user_data import recipe_domain
from .sft import build_prompt_format, tokenize_examples
from .stages import check_start_adapter

log = logging.getLogger(__name__)


def estimate(recipe: Recipe, *, examples: int | None = None, mean_tokens: float | None = None) -> dict[str, Any]:
    """Trainable parameters, memory and time for a recipe, from the base's architecture config alone.

    Memory: weights (bytes per parameter by dtype/quantization) + LoRA weights, gradients and AdamW state
    + activations for one micro-batch (the Korthikanti et al. per-layer estimate, 16-bit, no recomputation
    unless gradient checkpointing) + fp32 logits and their gradient. Time: 6·N·tokens FLOPs at an assumed
    sustained rate, stated in the result.
    """
    from ..bases import base_config, get_base_spec

    spec = get_base_spec(recipe.model.base)
    cfg = base_config(spec.name)
    h, inter, layers, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads = cfg["num_attention_heads"]
    kv_dim = cfg.get("num_key_value_heads", heads) * cfg.get("head_dim", h // heads)
    q_dim = heads * cfg.get("head_dim", h // heads)
    r = recipe.lora.r
    # LoRA on every linear layer of each block: q, k, v, o, gate, up, down
    shapes = [(h, q_dim), (h, kv_dim), (h, kv_dim), (q_dim, h), (h, inter), (h, inter), (inter, h)]
    lora_params = layers * sum(r * (a + b) for a, b in shapes)
    params = spec.params
    bytes_per = {"nf4": 0.55, "int8": 1.05}.get(recipe.model.quantize or "")
    if bytes_per is None:
        bytes_per = 4 if recipe.model.dtype in ("auto", "float32", "fp32") and not spec.gpu_scale else 2
    seq = recipe.data.max_length
    micro = recipe.train.batch_size
    tokens_per_micro = seq * micro
    act_per_layer = tokens_per_micro * h * 34 + 5 * heads * micro * seq * seq * 2
    activations = (layers if not recipe.train.gradient_checkpointing else 1) * act_per_layer
    activations += layers * tokens_per_micro * h * 2 if recipe.train.gradient_checkpointing else 0
    logits = tokens_per_micro * vocab * 4 * 2
    memory = {
        "weights_gb": params * bytes_per / 1e9,
        "lora_and_optimizer_gb": lora_params * 16 / 1e9,
        "activations_gb": activations / 1e9,
        "logits_gb": logits / 1e9,
    }
    memory["total_gb"] = sum(memory.values())
    n_examples = examples if examples is not None else recipe.data.train_size
    per_example = mean_tokens if mean_tokens is not None else seq / 2
    tokens = n_examples * per_example * recipe.train.epochs
    if recipe.train.max_steps > 0:
        tokens = min(tokens, recipe.train.max_steps * micro * recipe.train.grad_accum * seq)
    flops = 6 * params * tokens
    if spec.gpu_scale:
        rate, assumption = 312e12 * 0.35, "one A100-class GPU (312 TFLOP/s bf16) at 35% utilisation"
    elif cpu_has_fast_bf16():
        rate, assumption = 2370e9 * 0.2, "2 CPU cores with AMX bf16 (2.37 TFLOP/s peak) at 20% utilisation"
    else:  # measured: SmolLM2-135M LoRA trains at ~100 tokens/s in fp32 on 2 AVX2 cores = 6·N·100 FLOP/s
        rate, assumption = 80e9, "2 CPU cores in fp32 (no native bf16) at 80 GFLOP/s counted as 6·N·tokens"
    return {
        "base": spec.name,
        "base_params": params,
        "trainable_params": lora_params,
        "trainable_percent": round(100 * lora_params / params, 3),
        "memory": {k: round(v, 2) for k, v in memory.items()},
        "tokens": int(tokens),
        "estimated_hours": round(flops / rate / 3600, 2),
        "time_assumption": assumption,
        "steps": math.ceil(n_examples * recipe.train.epochs / (micro * recipe.train.grad_accum)),
    }


def dry_run(recipe: Recipe, *, max_steps: int | None = None) -> dict[str, Any]:
    """Validate a recipe end to end without training: base, domain, data, lengths, cost.

    The base's architecture comes from its config (shipped for Hub-only bases), so this works offline for
    every entry. Token counts use the base's own tokenizer when it is available here, else the cached
    SmolLM2 tokenizer, else 4 characters per token (said in the report).
    """
    import dataclasses

    from ..bases import get_base_spec, resolve_base

    spec = get_base_spec(recipe.model.base)
    domain = recipe_domain(recipe)
    domain.check_families(recipe.data.families)
    domain.check_trace_style(recipe.data.traces, recipe.data.tools)
    distill, from_traces = _dry_run_distill(recipe) if recipe.distill.use else (None, False)
    if from_traces:
        from .distill import distill_dir, load_traces

        examples = load_traces(distill_dir(recipe))  # SFT trains on the finished traces, so count those
    else:
        examples = domain.training_examples(recipe.data.train_size, seed=recipe.data.seed,
                                            families=recipe.data.families, phrasing=recipe.data.phrasing)
    tokenizer, counted_with = None, "4 characters per token"
    for candidate in (recipe.model.base, "smollm2-135m-instruct"):
        try:
            from transformers import AutoTokenizer

            if candidate == recipe.model.base and spec.gpu_scale:
                continue  # do not start a multi-GB Hub download from a dry run
            tokenizer = AutoTokenizer.from_pretrained(resolve_base(candidate, path=recipe.model.path
                                                                   if candidate == recipe.model.base else None).path)
            counted_with = f"the {candidate} tokenizer"
            break
        except SrmzooError:
            continue
    if tokenizer is not None:
        fmt = build_prompt_format(recipe, tokenizer, domain)
        rows, dropped = tokenize_examples(examples, tokenizer, fmt, recipe.data.max_length, domain=domain,
                                      traces=recipe.data.traces, annotate_tools=not from_traces)
        lengths = [len(r["input_ids"]) for r in rows]
        targets = [sum(r["completion_mask"]) for r in rows]
    else:
        chars = [len(recipe.data.system_prompt or domain.system_prompt) + len(e.question) + len(e.solution) for e in examples]
        lengths = [c // 4 for c in chars if c // 4 <= recipe.data.max_length]
        targets = [len(e.solution) // 4 for e in examples][: len(lengths)]
        dropped = len(examples) - len(lengths)
    if max_steps is not None:
        recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, max_steps=max_steps))
    mean_len = sum(lengths) / max(1, len(lengths))
    cost = estimate(recipe, examples=len(lengths), mean_tokens=mean_len)
    report: dict[str, Any] = {
        "recipe": recipe.source,
        "entry": recipe.name,
        "domain": domain.name,
        "stages": list(recipe.stages),
        "families": list(recipe.data.families or domain.families),
        "base": {"name": spec.name, "hub_id": spec.hub_id, "license": spec.license, "params": spec.params},
        "data": {
            "examples": len(lengths),
            "dropped_over_max_length": dropped,
            "mean_tokens": round(mean_len, 1),
            "max_tokens": max(lengths, default=0),
            "mean_target_tokens": round(sum(targets) / max(1, len(targets)), 1),
            "counted_with": counted_with,
        },
        **{k: v for k, v in cost.items() if k not in ("base", "base_params")},
    }
    if distill is not None:
        report["distill"] = distill
    start = "the sft stage's" if recipe.stages[0] == "sft" else str(_dry_run_start(recipe))
    if "rft" in recipe.stages:
        r = recipe.rft
        report["rft"] = {
            "start_adapter": start,
            "rounds": r.rounds,
            "sampled_completions_per_round": r.problems * r.samples,
            "max_generated_tokens_per_round": r.problems * r.samples * r.max_new_tokens,
            "max_kept_per_round": r.problems * r.keep_per_problem,
        }
    if "grpo" in recipe.stages:
        from .grpo import reward_functions

        g = recipe.grpo
        reward_functions(g.rewards)  # an unknown reward fails here, not after loading the model
        report["grpo"] = {
            "start_adapter": "the rft stage's" if "rft" in recipe.stages else start,
            "steps": g.steps,
            "completions": g.steps * g.batch_size,
            "max_generated_tokens": g.steps * g.batch_size * g.max_completion_length,
            "rewards": dict(zip(g.rewards, g.reward_weights or [1.0] * len(g.rewards), strict=True)),
        }
    if recipe.stages[0] != "sft":  # no SFT: its data, cost and steps describe nothing that runs
        for key in ("data", "tokens", "estimated_hours", "steps"):
            report.pop(key, None)
    return report


def _dry_run_distill(recipe: Recipe) -> tuple[dict[str, Any], bool]:
    """What ``distill.use`` adds to a dry run: the teacher's work, and whether its traces are finished.

    With finished traces in ``distill.out`` the report's ``data`` counts them (SFT trains on them); without,
    ``data`` counts the worked solutions the traces will replace, which the status says.
    """
    from .distill import distill_dir, finished_manifest

    d = recipe.distill
    questions = d.questions or recipe.data.train_size
    out = distill_dir(recipe)
    finished = finished_manifest(out)
    report: dict[str, Any] = {
        "teacher": d.teacher,
        "dir": str(out),
        "questions": questions,
        "sampled_completions": questions * d.samples,
        "max_generated_tokens": questions * d.samples * d.max_new_tokens,
        "max_kept": questions * d.keep_per_question,
    }
    if finished is None:
        report["status"] = (f"not distilled yet: `data` counts the worked solutions the traces will replace; "
                            f"srmzoo train distills first, or run srmzoo distill {recipe.name}")
    else:
        a = finished["acceptance"]
        report["status"] = f"finished: {a['traces']} traces ({100 * a['acceptance_rate']:.0f}% of samples accepted)"
    return report, finished is not None


def _dry_run_start(recipe: Recipe) -> Path:
    from ..store import find_adapter

    start = find_adapter(recipe.model.adapter)
    check_start_adapter(recipe, start)
    return start
