"""Training throughput: the srmzoo fine-tune core against a naive baseline, side by side in one run.

    python bench/train_throughput.py            # writes bench/results/train_throughput.json

Both arms train LoRA r=16 on every linear layer of SmolLM2-135M-Instruct, on the same examples (the
recipe's domain data), for the same number of optimizer steps, each in its own subprocess (so peak RSS
is per arm):

* baseline: transformers ``Trainer`` + peft, fp32, every example padded to the longest in the dataset,
  completion-only labels;
* srmzoo: ``srmzoo.train.stages.train`` with the recipe's defaults (bf16 autocast, padding-free packing).

Reported: trained (non-pad) tokens/s of each, their ratio, peak RSS, and achieved FLOP/s as a fraction of
the machine's matmul peak measured in the same run (fp32 and bf16 both measured; the faster one is the
ceiling — on an AMX Xeon that is bf16, on an AVX2-only CPU fp32, since torch's bf16 matmul there has no
native kernel). FLOPs per trained token are counted as executed:
forward 2·N over the matmul parameters (the tied embedding counts once, as the LM head), backward 2·N
for input gradients (frozen weights get no weight gradient), plus the LoRA matmuls and attention scores
(6·N, the usual full-fine-tuning convention, is reported beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "train_throughput.json"


def matmul_peak(dtype: str, seconds: float = 3.0) -> float:
    """Sustained matmul FLOP/s of this machine in ``dtype`` (all threads torch uses).

    Sized so that a CPU without native bf16 (where one 2048² bf16 matmul takes a minute) still finishes.
    """
    import torch

    dt = getattr(torch, dtype)
    n = 256
    a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
    start = time.perf_counter()
    a @ b
    while time.perf_counter() - start < 0.2 and n < 2048:  # grow the problem while one product is quick
        n *= 2
        a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
        start = time.perf_counter()
        a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - start)


def _examples(recipe, n: int):
    from transformers import AutoTokenizer

    from srmzoo.bases import resolve_base
    from srmzoo.domain import get_domain
    from srmzoo.train.sft import build_prompt_format, tokenize_examples

    tok = AutoTokenizer.from_pretrained(resolve_base(recipe.model.base).path)
    fmt = build_prompt_format(recipe, tok)
    tok.chat_template = fmt.chat_template
    domain = get_domain(recipe.domain)
    ex = domain.examples("train", n, seed=recipe.data.seed, families=recipe.data.families)
    # as srmzoo.train.sft tokenises them: tool calls written in, the recipe's trace style
    rows, _ = tokenize_examples(ex, tok, fmt, recipe.data.max_length, domain=domain, traces=recipe.data.traces)
    return rows, tok


def arm_baseline(recipe_path: str, steps: int, batch: int, out: str) -> None:
    """transformers Trainer + peft, fp32, padded to the dataset's longest example."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    from srmzoo.bases import resolve_base
    from srmzoo.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    rows, tok = _examples(recipe, steps * batch)
    longest = max(len(r["input_ids"]) for r in rows)
    padded = []
    for r in rows:
        pad = longest - len(r["input_ids"])
        labels = [t if m else -100 for t, m in zip(r["input_ids"], r["completion_mask"])]
        padded.append({"input_ids": r["input_ids"] + [tok.pad_token_id] * pad,
                       "attention_mask": [1] * len(r["input_ids"]) + [0] * pad,
                       "labels": labels + [-100] * pad})
    trained = sum(len(r["input_ids"]) for r in rows)
    targets = sum(sum(r["completion_mask"]) for r in rows)
    model = AutoModelForCausalLM.from_pretrained(resolve_base(recipe.model.base).path, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=recipe.lora.r, lora_alpha=recipe.lora.alpha,
                                             lora_dropout=recipe.lora.dropout, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            times.append(time.perf_counter())

    args = TrainingArguments(output_dir="/tmp/bench-baseline", per_device_train_batch_size=batch, max_steps=steps,
                             learning_rate=recipe.train.lr, use_cpu=True, report_to=[], save_strategy="no",
                             disable_tqdm=True, logging_steps=10**6, seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_list(padded), callbacks=[Clock()])
    start = time.perf_counter()
    trainer.train()
    total = time.perf_counter() - start
    # first step includes warm-up (allocation, thread pools); report steady-state too
    steady = (time.perf_counter() - times[1]) if len(times) > 1 else total
    steady_tokens = trained * (steps - 1) / steps
    Path(out).write_text(json.dumps({"arm": "baseline", "trained_tokens": trained, "target_tokens": targets, "padded_tokens": longest * len(rows), "seconds": total,
               "tokens_per_s": trained / total, "steady_tokens_per_s": steady_tokens / steady,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "steps": steps, "batch": batch, "longest": longest}))


def arm_srmzoo(recipe_path: str, steps: int, batch: int, out: str, overrides: list[str]) -> None:
    """srmzoo's core with the recipe's defaults."""
    import shutil

    from srmzoo.recipe import load_recipe
    from srmzoo.train.stages import train

    # exactly the baseline's examples (the first steps·batch of the train split), one epoch of them
    recipe = load_recipe(recipe_path, [f"train.batch_size={batch}", f"data.train_size={steps * batch}",
                                       "train.epochs=1", "train.save_steps=100000", "train.logging_steps=1",
                                       *overrides])
    run = Path("/tmp/bench-srmzoo")
    shutil.rmtree(run, ignore_errors=True)
    result = train(recipe, run, max_steps=steps, progress=False)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    logs = [r for r in rows if "loss" in r]
    steady_s = logs[-1]["elapsed_s"] - logs[0]["elapsed_s"]
    steady_tokens = logs[-1]["tokens"] - logs[0]["tokens"]
    Path(out).write_text(json.dumps({"arm": "srmzoo", "trained_tokens": result.trained_tokens, "seconds": result.seconds,
               "train_seconds": logs[-1]["elapsed_s"],
               "tokens_per_s": result.trained_tokens / logs[-1]["elapsed_s"],
               "steady_tokens_per_s": steady_tokens / steady_s if steady_s else None,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "steps": steps, "batch": batch, "overrides": overrides}))


def flops_per_token(base: str, context: float, lora_r: int, lm_head_fraction: float = 1.0) -> tuple[float, float]:
    """(executed FLOPs, 6·N FLOPs) per trained token for LoRA on every linear layer.

    ``lm_head_fraction``: share of positions the LM head runs on (1 for the stock loss; srmzoo runs it on
    target positions only, counted here per example — the union over a batch can add a few more).
    """
    from srmzoo.bases import base_config, get_base_spec

    cfg = base_config(base) if get_base_spec(base).gpu_scale else _cached_config(base)
    h, i, L, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads, kvh = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = h // heads
    per_layer = h * h * 2 + h * kvh * hd * 2 + 3 * h * i
    blocks = L * per_layer
    head = v * h * lm_head_fraction
    lora = L * lora_r * (2 * (h + h) + 2 * (h + kvh * hd) + 3 * (h + i))
    attn = L * 2 * 2 * context * h  # QK^T and AV, causal-average context
    # forward + input gradients (frozen weights get none) + LoRA weight gradients
    executed = 2 * (blocks + head + lora + attn) + 2 * (blocks + head + attn) + 4 * lora
    return executed, 6 * (blocks + v * h)


def _example_stats(recipe, n: int) -> tuple[float, float]:
    """(mean tokens per example, share of them that are completion targets) over the first ``n`` examples."""
    rows, _ = _examples(recipe, n)
    tokens = sum(len(r["input_ids"]) for r in rows)
    return tokens / len(rows), sum(sum(r["completion_mask"]) for r in rows) / tokens


def _cached_config(base: str) -> dict:
    from srmzoo.bases import resolve_base

    return json.loads((resolve_base(base).path / "config.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default=str(HERE.parent / "recipes" / "math" / "math-135m.yaml"))
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8, help="examples per step (baseline) / packed rows (srmzoo)")
    parser.add_argument("--srmzoo-batch", type=int, default=None,
                        help="packed rows per step for srmzoo; default: same tokens per step as the baseline")
    parser.add_argument("--override", action="append", default=[], help="extra recipe overrides for the srmzoo arm")
    parser.add_argument("--variant", action="append", default=[], metavar="OVERRIDE",
                        help="an extra srmzoo arm with this recipe override on top (e.g. lora.dropout=0.0), "
                             "reported as a ratio to the srmzoo arm")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the transformers baseline (only srmzoo and its --variant arms)")
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()

    if args.arm == "baseline":
        return arm_baseline(args.recipe, args.steps, args.batch, args.out)
    if args.arm == "srmzoo":
        return arm_srmzoo(args.recipe, args.steps, args.batch, args.out, args.override)

    import torch

    from srmzoo.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    peaks = {dtype: matmul_peak(dtype) for dtype in ("float32", "bfloat16")}
    peak = max(peaks.values())  # the machine's fastest matmul path is the ceiling for any precision choice
    results = {}
    srmzoo_batch = args.srmzoo_batch or args.batch
    arms = [] if args.no_baseline else [("baseline", "baseline", args.batch, [])]
    arms += [("srmzoo", "srmzoo", srmzoo_batch, [])]
    arms += [(f"srmzoo+{v}", "srmzoo", srmzoo_batch, [v]) for v in args.variant]
    for name, arm, batch, extra in arms:
        out = f"/tmp/bench-{name.replace('=', '-')}.json"
        cmd = [sys.executable, __file__, "--arm", arm, "--recipe", args.recipe, "--steps", str(args.steps),
               "--batch", str(batch), "--out", out,
               *sum((["--override", o] for o in [*args.override, *extra]), [])]
        print(f"running {name} arm ...", flush=True)
        subprocess.run(cmd, check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        results[name] = json.loads(Path(out).read_text())
    mean_len, target_share = _example_stats(recipe, args.steps * args.batch)
    flops = {name: flops_per_token(recipe.model.base, mean_len / 2, recipe.lora.r,
                                   lm_head_fraction=1.0 if name == "baseline" else target_share)
             for name in results}
    for arm, r in results.items():
        executed, six_n = flops[arm]
        r["executed_flops_per_token"] = executed
        r["achieved_gflops"] = r["steady_tokens_per_s"] * executed / 1e9
        r["fraction_of_peak"] = r["achieved_gflops"] * 1e9 / peak
        r["fraction_of_peak_6N"] = r["steady_tokens_per_s"] * six_n / peak
    summary = {
        "command": "python bench/train_throughput.py " + " ".join(sys.argv[1:]),
        "base": recipe.model.base,
        "recipe": (str(Path(args.recipe).resolve().relative_to(HERE.parent))
                   if HERE.parent in Path(args.recipe).resolve().parents else args.recipe),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "matmul_peak_gflops": {k: round(v / 1e9, 2) for k, v in peaks.items()},
        "peak_used_for_fraction": max(peaks, key=peaks.get),
        "cpu_has_fast_bf16": __import__("srmzoo.train.sft", fromlist=["x"]).cpu_has_fast_bf16(),
        "flops_per_trained_token": {**{f"{name}_executed": f[0] for name, f in flops.items()},
                                    "six_n": flops["srmzoo"][1], "target_token_share": target_share},
        "arms": results,
        "date": time.strftime("%Y-%m-%d"),
    }
    if "baseline" in results:
        summary["ratio_tokens_per_s"] = results["srmzoo"]["tokens_per_s"] / results["baseline"]["tokens_per_s"]
        summary["ratio_steady_tokens_per_s"] = (results["srmzoo"]["steady_tokens_per_s"]
                                                / results["baseline"]["steady_tokens_per_s"])
    for name in results:
        if name.startswith("srmzoo+"):  # a variant against the srmzoo arm, same examples and steps
            summary[f"ratio_{name}_vs_srmzoo"] = {
                "tokens_per_s": results[name]["tokens_per_s"] / results["srmzoo"]["tokens_per_s"],
                "steady_tokens_per_s": results[name]["steady_tokens_per_s"] / results["srmzoo"]["steady_tokens_per_s"],
            }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "arms"}, indent=2))
    for arm, r in results.items():
        print(f"{arm:9s} {r['tokens_per_s']:7.0f} tok/s (steady {r['steady_tokens_per_s']:.0f})  "
              f"{r['achieved_gflops']:6.0f} GFLOP/s = {100 * r['fraction_of_peak']:.1f}% of peak  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
