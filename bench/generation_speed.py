"""Evaluation-style generation speed: srmzoo's batch-pruning greedy decoder vs ``model.generate``.

    python bench/generation_speed.py            # writes bench/results/generation_speed.json

Both arms decode the same prompts greedily with the same model, batch size and token budget, in this one
process: the real SmolLM2-135M-Instruct base, prompted zero-shot with the math domain's system prompt on
held-out math test items (a base model's completions vary from a few dozen tokens to the budget, as in
every ``srmzoo eval`` base row), and the merged math-135m adapter when it is in the local store.

* baseline: ``model.generate(do_sample=False)`` — a finished sequence stays in the batch, padded, until
  the batch's longest one ends;
* srmzoo: :func:`srmzoo.backends.hf.greedy_decode` — a finished sequence leaves the batch and its KV-cache
  rows go with it.

Reported per arm: new (non-pad) tokens/s, wall seconds, and whether the completions are identical.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "generation_speed.json"


def run_arm(model, tokenizer, prompts, *, batch_size: int, max_new_tokens: int, pruned: bool) -> dict:
    import torch

    from srmzoo.backends.hf import _eos_ids, greedy_decode

    tokenizer.padding_side = "left"
    eos = _eos_ids(model, tokenizer)
    outputs, new_tokens = [], 0
    start = time.perf_counter()
    for i in range(0, len(prompts), batch_size):
        batch = tokenizer(prompts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            if pruned:
                rows = greedy_decode(model, batch["input_ids"], batch["attention_mask"],
                                     max_new_tokens=max_new_tokens, eos_token_ids=eos)
            else:
                out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
                rows = [[t for t in row if t != tokenizer.pad_token_id]
                        for row in out[:, batch["input_ids"].shape[1]:].tolist()]
        new_tokens += sum(len(r) for r in rows)
        outputs += tokenizer.batch_decode(rows, skip_special_tokens=True)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "new_tokens": new_tokens, "tokens_per_s": round(new_tokens / seconds, 1),
            "outputs": outputs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=64, help="prompts (math test items)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[32, 1])
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch
    import transformers

    from srmzoo.bases import load_base
    from srmzoo.domain import get_domain
    from srmzoo.hardware import describe_hardware
    from srmzoo.prompting import PromptFormat
    from srmzoo.store import store_dir

    domain = get_domain("math")
    items = domain.examples("test", args.n, seed=0)
    models = []
    base = load_base("smollm2-135m-instruct", device="cpu")
    fmt = PromptFormat.for_tokenizer(base.tokenizer, system_prompt=domain.system_prompt)
    models.append(("smollm2-135m-instruct zero-shot", base.model, base.tokenizer, fmt))
    if (store_dir() / "math-135m" / "adapter_config.json").is_file():
        from srmzoo.artifacts import load_adapter

        adapter = load_adapter(store_dir() / "math-135m", device="cpu", merge=True)
        models.append(("math-135m (merged adapter)", adapter.model, adapter.tokenizer, adapter.prompt_format))
    runs = []
    for label, model, tokenizer, prompt_format in models:
        prompts = [prompt_format.render(tokenizer, prompt_format.messages(e.question)) for e in items]
        for bs in args.batch_size:
            n = len(prompts) if bs > 1 else min(len(prompts), 8)  # batch 1 is slow: fewer prompts
            arms = {}
            for name, pruned in (("generate", False), ("srmzoo", True)):
                arms[name] = run_arm(model, tokenizer, prompts[:n], batch_size=bs,
                                     max_new_tokens=args.max_new_tokens, pruned=pruned)
                print(f"{label} bs={bs} {name}: {arms[name]['tokens_per_s']} tok/s", file=sys.stderr, flush=True)
            same = sum(a == b for a, b in zip(arms["generate"]["outputs"], arms["srmzoo"]["outputs"], strict=True))
            runs.append({
                "model": label, "batch_size": bs, "prompts": n,
                "baseline_generate": {k: v for k, v in arms["generate"].items() if k != "outputs"},
                "srmzoo_greedy_decode": {k: v for k, v in arms["srmzoo"].items() if k != "outputs"},
                "speedup": round(arms["generate"]["seconds"] / arms["srmzoo"]["seconds"], 2),
                "identical_completions": f"{same}/{n}",
            })
    result = {
        "command": "python bench/generation_speed.py " + " ".join(argv or sys.argv[1:]),
        "max_new_tokens": args.max_new_tokens,
        "hardware": describe_hardware(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
