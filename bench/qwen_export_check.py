"""Real Qwen2.5-Coder-0.5B: a LoRA trained a few steps, merged and exported to GGUF, decodes in llama.cpp as
the torch model does (greedy, 32 new tokens, 5 prompts); the exported chat template carries the trained
system prompt.

    nice -n 10 .venv/bin/python bench/qwen_export_check.py --out bench/results/qwen_export_check.json

Needs llama-cpp-python (``make llama``). The tiny-Qwen2 version of the same check runs in the test suite
(tests/test_export_gguf.py); this one is the real base, too slow for CI.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROMPTS = [
    "What is 12 + 30? Explain briefly.",
    "Write a Python function that reverses a string.",
    "Größe: 3,5 m² — wie viel sind das in cm²?",
    "A train travels 120 km in 1.5 hours. What is its average speed?",
    "Name two differences between DNA and RNA.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--quantization", default="f32", choices=["f32", "f16", "q8_0"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("bench/results/qwen_export_check.json"))
    args = parser.parse_args()

    import torch

    from srmzoo import load
    from srmzoo.backends.hf import generate
    from srmzoo.backends.llamacpp import LlamaCppGenerator
    from srmzoo.hardware import describe_hardware
    from srmzoo.publish.export import export_gguf
    from srmzoo.recipe import Recipe
    from srmzoo.train.stages import train

    torch.set_num_threads(2)
    work = Path(tempfile.mkdtemp(prefix="srmzoo-qwen-export-"))
    recipe = Recipe.from_dict({
        "name": "math-0.5b-export-check", "domain": "math", "model": {"base": args.base},
        "data": {"train_size": 4 * args.steps},
        # a large lr so the merged LoRA moves the model (an export that dropped it would decode differently)
        "train": {"batch_size": 4, "max_steps": args.steps, "lr": 2e-3, "logging_steps": 1, "save_steps": 1000},
        "eval": {"n": 1},
    })
    started = time.perf_counter()
    train(recipe, work / "run", progress=False)
    train_s = time.perf_counter() - started
    adapter = work / "run" / "adapter"
    started = time.perf_counter()
    gguf = export_gguf(adapter, work / "gguf", quantization=args.quantization)
    export_s = time.perf_counter() - started
    m = load(adapter, device="cpu")
    prompts = [m.prompt(p) for p in PROMPTS]
    want = [outs[0] for outs in generate(m.model, m.tokenizer, prompts, max_new_tokens=args.new_tokens)]
    llm = LlamaCppGenerator(gguf, m.tokenizer, threads=2, n_ctx=1024)
    got = [outs[0] for outs in llm.generate(prompts, max_new_tokens=args.new_tokens)]
    rows = []
    for prompt, a, b in zip(PROMPTS, want, got, strict=True):
        ta = m.tokenizer(a, add_special_tokens=False)["input_ids"]
        tb = m.tokenizer(b, add_special_tokens=False)["input_ids"]
        agree = next((i for i, (x, y) in enumerate(zip(ta, tb)) if x != y), min(len(ta), len(tb)))
        rows.append({"prompt": prompt, "torch": a, "llama_cpp": b, "identical": a == b, "tokens_torch": len(ta),
                     "tokens_llama_cpp": len(tb), "agreeing_prefix_tokens": agree})
    record = json.loads((gguf.parent / "srmzoo_export.json").read_text())
    import jinja2

    # the template as a runtime renders it, for a conversation without a system turn
    rendered = jinja2.Environment().from_string(llm.llm.metadata.get("tokenizer.chat_template", "")).render(
        messages=[{"role": "user", "content": PROMPTS[0]}], add_generation_prompt=True)
    result = {
        "machine": describe_hardware(), "base": args.base, "quantization": args.quantization,
        "lora_steps": args.steps, "train_s": round(train_s, 1), "export_s": round(export_s, 1),
        "gguf_bytes": gguf.stat().st_size, "architecture": record.get("architecture"),
        "trained_system_prompt_in_gguf_template": m.prompt_format.system_prompt in rendered,
        "identical": sum(r["identical"] for r in rows), "prompts": len(rows), "rows": rows,
        "command": f"bench/qwen_export_check.py --base {args.base} --quantization {args.quantization} "
                   f"--steps {args.steps} --new-tokens {args.new_tokens}",
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    shutil.rmtree(work, ignore_errors=True)  # the f32 GGUF is 2.5 GB
    print(f"{result['identical']}/{len(rows)} prompts identical over {args.new_tokens} tokens; "
          f"system prompt in template: {result['trained_system_prompt_in_gguf_template']}")
    return 0 if result["identical"] == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
