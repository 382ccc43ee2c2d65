"""Sampling speed inside the RL loop (RFT/GRPO rollouts): srmzoo's pruned sampler vs ``model.generate``.

    python bench/rl_generation.py            # writes bench/results/rl_generation.json

Both arms sample ``k`` completions per prompt, at the same temperature, token budget and batch (sequences
at once), from the same model in this one process: the merged math-135m-tools adapter from the local
store (its calculator calls answered in both arms), on training-split math problems as an RFT round
samples them.

* baseline: ``model.generate(do_sample=True, num_return_sequences=k)`` with srmzoo's tool logits
  processor — each prompt is encoded k times, and a finished sample stays in the batch, padded, until
  the batch's longest one ends;
* srmzoo: :func:`srmzoo.backends.hf.greedy_decode` with a temperature — each prompt is encoded once and its
  KV cache repeated k times, and each sample leaves the batch (with its cache rows) when it ends.

The samples differ between arms (different random streams); what is compared is throughput on the same
work: new (non-pad) tokens/s and wall time, plus the completions' mean length and how many the math
verifier accepts (to show both arms sample the same distribution). The RFT round's own record
(``runs/math-135m-rft/rft/round-1/summary.json``, when present) says where an RFT round's time goes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "rl_generation.json"
RFT_ROUND = HERE.parent / "runs" / "math-135m-rft" / "rft" / "round-1" / "summary.json"


def run_arm(model, tokenizer, fmt, domain, problems, *, k, temperature, max_new_tokens, batch_size, decoder, seed):
    import torch

    from srmzoo.backends.hf import GenerationStats, generate

    prompts = [fmt.render(tokenizer, fmt.messages(ex.question)) for ex in problems]
    stats = GenerationStats()
    torch.manual_seed(seed)
    start = time.perf_counter()
    outputs = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=max(1, batch_size // k),
                       do_sample=True, temperature=temperature, num_return_sequences=k, stats=stats,
                       tools=fmt.tools, decoder=decoder)
    seconds = time.perf_counter() - start
    correct = sum(domain.check(c, ex).correct for ex, cs in zip(problems, outputs, strict=True) for c in cs)
    lengths = [len(tokenizer(c, add_special_tokens=False)["input_ids"]) for cs in outputs for c in cs]
    return {"seconds": round(seconds, 2), "new_tokens": stats.new_tokens,
            "tokens_per_s": round(stats.new_tokens / seconds, 1), "completions": len(lengths),
            "mean_completion_tokens": round(sum(lengths) / len(lengths), 1),
            "verified_correct": correct, "tool_calls": stats.tool_calls}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entry", default="math-135m-tools", help="adapter in the local store (merged)")
    parser.add_argument("--n", type=int, default=24, help="training-split problems")
    parser.add_argument("--k", type=int, default=4, help="samples per problem")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=32, help="sequences at once (prompts = batch // k)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch

    from srmzoo.artifacts import load_adapter, merge_for_generation
    from srmzoo.domain import get_domain
    from srmzoo.hardware import describe_hardware
    from srmzoo.store import find_adapter

    model, tokenizer, fmt, meta = load_adapter(find_adapter(args.entry))
    merge_for_generation(model)
    domain = get_domain(meta["domain"])
    problems = domain.examples("train", args.n, seed=5)
    common = dict(k=args.k, temperature=args.temperature, max_new_tokens=args.max_new_tokens,
                  batch_size=args.batch_size, seed=0)
    arms = {}
    for name, decoder in (("model.generate", "generate"), ("srmzoo pruned sampler", "pruned")):
        arms[name] = run_arm(model, tokenizer, fmt, domain, problems, decoder=decoder, **common)
        print(name, {k: v for k, v in arms[name].items()}, flush=True)
    base, ours = arms["model.generate"], arms["srmzoo pruned sampler"]
    result = {
        "command": "python bench/rl_generation.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "entry": args.entry,
        "settings": {"problems": args.n, **common, "tools": list(fmt.tools)},
        "arms": arms,
        "speedup_tokens_per_s": round(ours["tokens_per_s"] / base["tokens_per_s"], 2),
        "speedup_wall": round(base["seconds"] / ours["seconds"], 2),
        "hardware": describe_hardware(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if RFT_ROUND.is_file():
        r = json.loads(RFT_ROUND.read_text())
        sampling, total = r["generation"]["seconds"], r["seconds"]
        result["rft_round_time"] = {
            "source": str(RFT_ROUND.relative_to(HERE.parent)),
            "decoder": "model.generate (the round ran before the pruned sampler existed)",
            "sampling_seconds": sampling, "sampling_tokens_per_s": r["generation"]["tokens_per_s"],
            "fine_tuning_and_loading_seconds": round(total - sampling, 1), "total_seconds": total,
            "sampling_share": round(sampling / total, 3),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"speedup {result['speedup_tokens_per_s']}x tokens/s, {result['speedup_wall']}x wall -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
