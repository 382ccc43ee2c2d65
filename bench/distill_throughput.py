"""Distillation throughput: llama.cpp with a question's k samples decoded together vs one at a time.

    python bench/distill_throughput.py                      # writes bench/results/distill_throughput.json
    python bench/distill_throughput.py --questions 2 --samples 2 --max-new-tokens 16 --out /tmp/d.json  # smoke

One process, one teacher: a registered base's offline GGUF (default qwen2.5-coder-0.5b-instruct, found by
:func:`srmzoo.bases.base_gguf`), prompted with its own chat template and the domain's system prompt, on the
same training-split questions of a domain (default math) with the same per-sample seeds
(:func:`srmzoo.train.distill.sample_seed`), temperature and budget. Two arms of
:class:`srmzoo.backends.llamacpp.LlamaCppSampler`, the sampler ``srmzoo distill`` runs:

* ``parallel_k``: the k samples of a question share one llama.cpp batch per step (``distill.parallel`` null);
* ``one_at_a_time``: ``parallel=1`` (``distill.parallel: 1``), one sequence decoded at a time.

Each completion is cut as ``srmzoo distill`` cuts it and judged by the domain's checker; reported per arm:
new tokens/s, samples/hour, verified-correct samples and verified traces/hour (correct and ended within
the budget; before deduplication and ``keep_per_question``), and the speedup of the parallel arm.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "distill_throughput.json"


def _arm(
    sampler,
    tokenizer,
    fmt,
    domain,
    questions,
    *,
    samples: int,
    seed: int,
    max_new_tokens: int,
    temperature: float,
) -> dict:
    from srmzoo.domain import Verdict
    from srmzoo.eval.harness import end_of_answer, verify_completion
    from srmzoo.train.distill import sample_seed

    new_tokens = correct = accepted = n = 0
    generate_s = verify_s = 0.0
    for q in questions:
        started = time.perf_counter()
        out = sampler.sample(
            fmt.render(tokenizer, fmt.messages(q.question)),
            [sample_seed(seed, q, i) for i in range(samples)],
            max_new_tokens=max_new_tokens,
            temperature=temperature,
        )
        generated = time.perf_counter()
        for s in out:
            ok = verify_completion(domain, end_of_answer(s.text, fmt), q)[0] == Verdict.CORRECT
            correct += ok
            accepted += ok and s.finished
            new_tokens += s.new_tokens
            n += 1
        generate_s += generated - started
        verify_s += time.perf_counter() - generated
    busy_h = (generate_s + verify_s) / 3600
    return {
        "parallel": sampler.parallel,
        "samples": n,
        "new_tokens": new_tokens,
        "generation_seconds": round(generate_s, 2),
        "verification_seconds": round(verify_s, 3),
        "tokens_per_s": round(new_tokens / generate_s, 1),
        "samples_per_hour": round(n / busy_h, 1),
        "correct": correct,
        "verified_traces": accepted,
        "verified_traces_per_hour": round(accepted / busy_h, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--teacher", default="qwen2.5-coder-0.5b-instruct", help="a registered base with an offline GGUF"
    )
    parser.add_argument("--domain", default="math")
    parser.add_argument("--questions", type=int, default=16, help="training-split questions")
    parser.add_argument("--samples", type=int, default=8, help="samples per question (k)")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import llama_cpp
    import torch

    from srmzoo.backends.llamacpp import LlamaCppSampler
    from srmzoo.bases import base_gguf, gguf_tokenizer
    from srmzoo.domain import get_domain
    from srmzoo.hardware import describe_hardware
    from srmzoo.prompting import PromptFormat

    found = base_gguf(args.teacher)
    if found is None:
        raise SystemExit(f"{args.teacher} has no offline GGUF here (srmzoo bases install {args.teacher})")
    gguf, identity = found
    tokenizer = gguf_tokenizer(args.teacher, gguf)
    domain = get_domain(args.domain)
    fmt = replace(PromptFormat.for_tokenizer(tokenizer), system_prompt=domain.system_prompt or None)
    questions = domain.examples("train", args.questions, seed=args.seed)
    longest = max(
        len(tokenizer(fmt.render(tokenizer, fmt.messages(q.question)), add_special_tokens=False)["input_ids"])
        for q in questions
    )
    threads = args.threads or torch.get_num_threads()
    arms = {}
    for name, parallel in (("parallel_k", args.samples), ("one_at_a_time", 1)):
        n_ctx = -(-(longest + parallel * args.max_new_tokens + 8) // 256) * 256
        sampler = LlamaCppSampler(gguf, tokenizer, parallel=parallel, n_ctx=n_ctx, threads=threads)
        try:
            arms[name] = _arm(
                sampler,
                tokenizer,
                fmt,
                domain,
                questions,
                samples=args.samples,
                seed=args.seed,
                max_new_tokens=args.max_new_tokens,
                temperature=args.temperature,
            )
        finally:
            sampler.close()
        print(name, json.dumps(arms[name]), flush=True)
    result = {
        "command": "python bench/distill_throughput.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "teacher": {"name": args.teacher, "gguf": gguf.name, "sha256": identity["sha256"]},
        "domain": args.domain,
        "questions": len(questions),
        "samples_per_question": args.samples,
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "threads": threads,
        "llama_cpp_python": llama_cpp.__version__,
        "machine": describe_hardware(),
        "arms": arms,
        "speedup_tokens_per_s": round(
            arms["parallel_k"]["tokens_per_s"] / arms["one_at_a_time"]["tokens_per_s"], 2
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"parallel {args.samples}: {arms['parallel_k']['tokens_per_s']} tok/s, one at a time: "
        f"{arms['one_at_a_time']['tokens_per_s']} tok/s ({result['speedup_tokens_per_s']}x) -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
