"""Per-base costs on this CPU: load (cold conversion and cached), LoRA r16 all-linear training (fp32 and bf16
autocast, tokens/s, s/step, peak RSS), the QLoRA NF4 footprint, and greedy generation (torch batch 1 and 16,
llama.cpp batch 1 on the offline GGUF).

Each measurement runs in its own process, so its peak RSS is its own; each is a few steps only.

    nice -n 10 .venv/bin/python bench/bases.py --out bench/results/bases.json
    nice -n 10 .venv/bin/python bench/bases.py --bases qwen2.5-coder-0.5b-instruct --only train_fp32 train_bf16
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

BASES = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"]
MEASUREMENTS = ["load_cached", "train_fp32", "train_bf16", "qlora_nf4", "generate_torch", "generate_llama_cpp"]
PROMPT = "Write a Python function that returns the n-th Fibonacci number, with a short explanation."


def _peak_rss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)


def _batch(tokenizer, batch: int, seq: int):
    import torch

    ids = torch.randint(100, 20_000, (batch, seq))
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}


def measure(name: str, what: str, *, steps: int, batch: int, seq: int, new_tokens: int) -> dict:
    """One measurement of one base, in this process."""
    import torch

    from srmzoo.bases import cache_dir, get_base_spec, load_base

    torch.manual_seed(0)
    if what == "load_cached":
        started = time.perf_counter()
        base = load_base(name, dtype="float32", device="cpu")
        return {"load_cached_s": round(time.perf_counter() - started, 2), "source": base.resolved.source,
                "params": base.identity.get("params"), "peak_rss_gb": _peak_rss_gb()}
    if what in ("train_fp32", "train_bf16", "qlora_nf4"):
        from peft import LoraConfig, get_peft_model

        base = load_base(name, dtype="float32", device="cpu", quantize="nf4" if what == "qlora_nf4" else None)
        model = get_peft_model(base.model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                                                      target_modules="all-linear", task_type="CAUSAL_LM"))
        model.train()
        model.config.use_cache = False
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        inputs = _batch(base.tokenizer, batch, seq)
        times, losses = [], []
        for _ in range(steps):
            started = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=what != "train_fp32"):
                loss = model(**inputs).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            times.append(time.perf_counter() - started)
            losses.append(round(loss.item(), 3))
        # the first step pays one-off allocation; report it and the rest apart
        rest = times[1:] or times
        s_step = sum(rest) / len(rest)
        return {"steps": steps, "batch": batch, "seq": seq, "s_per_step": round(s_step, 2),
                "first_step_s": round(times[0], 2), "tokens_per_s": round(batch * seq / s_step, 1),
                "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "losses": losses, "peak_rss_gb": _peak_rss_gb()}
    if what == "generate_torch":
        from srmzoo.backends.hf import GenerationStats, generate

        base = load_base(name, dtype="float32", device="cpu")
        prompt = base.tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                                    add_generation_prompt=True)
        out = {}
        for b in (1, 16):
            stats = GenerationStats()
            started = time.perf_counter()
            # min_new_tokens would change the model's choices; a long answer runs to the budget anyway
            generate(base.model, base.tokenizer, [prompt] * b, max_new_tokens=new_tokens, batch_size=b, stats=stats)
            wall = time.perf_counter() - started
            out[f"batch{b}_tokens_per_s"] = round(stats.new_tokens / wall, 1)
            out[f"batch{b}_new_tokens"] = stats.new_tokens
        return out | {"peak_rss_gb": _peak_rss_gb()}
    if what == "generate_llama_cpp":
        import llama_cpp

        spec = get_base_spec(name)
        if spec.offline.parts:
            gguf = cache_dir() / "gguf" / spec.offline.gguf_file
        else:
            import importlib.util

            found = importlib.util.find_spec(spec.offline.module)
            gguf = Path(next(iter(found.submodule_search_locations))) / spec.offline.gguf_file
        from srmzoo.bases import gguf_tokenizer

        llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=1024, n_threads=torch.get_num_threads(), verbose=False)
        # the base's own chat template: a raw prompt made SmolLM2 end its turn after one token
        text = gguf_tokenizer(name, gguf).apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                                              add_generation_prompt=True)
        prompt = llm.tokenize(text.encode(), add_bos=False, special=True)
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        started, n = time.perf_counter(), 0
        for token in llm.generate(prompt, temp=0.0, top_k=1):
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            n += 1
            if n >= new_tokens:
                break
        wall = time.perf_counter() - started
        return {"gguf": gguf.name, "batch1_tokens_per_s": round(n / wall, 1), "new_tokens": n,
                "peak_rss_gb": _peak_rss_gb()}
    raise SystemExit(f"unknown measurement {what!r}; choose from {MEASUREMENTS}")


def _machine() -> dict:
    import platform

    info = Path("/proc/cpuinfo").read_text()
    model = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
    flags = set(next(line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")))
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {"cpu": model, "machine": platform.machine(), "threads": 2,
            "bf16_flags": sorted(flags & {"amx_bf16", "avx512_bf16"}), "avx512f": "avx512f" in flags,
            "load_average_at_start": load,
            "note": "2 cores shared with other engineers' test runs during the measurement"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", nargs="+", default=BASES)
    parser.add_argument("--only", nargs="+", default=MEASUREMENTS, choices=MEASUREMENTS)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("bench/results/bases.json"))
    parser.add_argument("--child", nargs=2, metavar=("BASE", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import torch

        torch.set_num_threads(2)
        row = measure(*args.child, steps=args.steps, batch=args.batch, seq=args.seq, new_tokens=args.new_tokens)
        sys.stdout.write(json.dumps(row) + "\n")
        return 0
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"machine": _machine(), "bases": {}}
    for name in args.bases:
        for what in args.only:
            command = [sys.executable, __file__, "--child", name, what, "--steps", str(args.steps), "--batch",
                       str(args.batch), "--seq", str(args.seq), "--new-tokens", str(args.new_tokens)]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            row = (json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0
                   else {"error": f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"})
            row["wall_s"] = round(time.perf_counter() - started, 1)
            row["command"] = " ".join(["bench/bases.py", "--bases", name, "--only", what, "--steps", str(args.steps),
                                       "--batch", str(args.batch), "--seq", str(args.seq)])
            results["bases"].setdefault(name, {})[what] = row
            args.out.write_text(json.dumps(results, indent=2) + "\n")
            sys.stderr.write(f"{name} {what}: {row}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
