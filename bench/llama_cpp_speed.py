"""Batch-1 generation speed: transformers ``generate``, srmzoo's decoder, and llama.cpp on the exported GGUF.

    pip install -e ".[llama]"          # llama-cpp-python: builds llama.cpp from its source package
    python bench/llama_cpp_speed.py   # writes bench/results/llama_cpp_speed.json

One process, one model: a zoo entry from the local store (default math-135m), merged, greedy, the same
held-out test prompts rendered with the entry's own chat template and system prompt, the same budget:

* ``transformers_generate``: ``model.generate`` on the merged fp32 model, batch 1;
* ``srmzoo``: :func:`srmzoo.generation.generate` (what ``Reasoner.solve`` runs), batch 1, and batch 16;
* ``llama_cpp_<q>``: llama-cpp-python on ``srmzoo export ENTRY --format gguf --quantization <q>``
  (f16 and q8_0), batch 1, the same threads as torch.

Reported per arm: new tokens/s, seconds, the speedup over transformers at batch 1, and how many
completions equal srmzoo's fp32 greedy ones (GGUF weights are rounded, so a few may part ways late) and are
still right by the domain's verifier.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "llama_cpp_speed.json"


def _torch_arm(model, tokenizer, prompts, *, max_new_tokens: int, batch_size: int, decoder: str) -> dict:
    from srmzoo.generation import GenerationStats, generate

    stats = GenerationStats()
    start = time.perf_counter()
    outs = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                    stats=stats, decoder=decoder)
    seconds = time.perf_counter() - start
    return {"batch_size": batch_size, "seconds": round(seconds, 2), "new_tokens": stats.new_tokens,
            "tokens_per_s": round(stats.new_tokens / seconds, 1), "outputs": [o[0] for o in outs]}


def _llama_arm(gguf: Path, prompts, *, max_new_tokens: int, threads: int) -> dict:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads, n_batch=512,
                verbose=False, seed=0)
    outputs, new_tokens = [], 0
    start = time.perf_counter()
    for prompt in prompts:
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        out = llm.create_completion(tokens, max_tokens=max_new_tokens, temperature=0.0, top_k=1, top_p=1.0,
                                    repeat_penalty=1.0)
        outputs.append(out["choices"][0]["text"])
        new_tokens += out["usage"]["completion_tokens"]
        llm.reset()
    seconds = time.perf_counter() - start
    return {"batch_size": 1, "seconds": round(seconds, 2), "new_tokens": new_tokens,
            "tokens_per_s": round(new_tokens / seconds, 1), "outputs": outputs, "gguf_bytes": gguf.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entry", default="math-135m", help="zoo entry in the local store")
    parser.add_argument("--n", type=int, default=16, help="prompts (held-out test items)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import llama_cpp
    import torch
    import transformers

    from srmzoo.evaluation import load_adapter, merge_for_generation
    from srmzoo.export import export_gguf
    from srmzoo.store import find_adapter
    from srmzoo.training import _hardware

    adapter = find_adapter(args.entry)
    model, tokenizer, fmt, meta = load_adapter(adapter, device="cpu")
    merge_for_generation(model)
    model.eval()
    from srmzoo.domain import get_domain

    domain = get_domain(meta["domain"])
    items = domain.examples("test", args.n, seed=0)
    prompts = [fmt.render(tokenizer, fmt.messages(e.question)) for e in items]
    threads = torch.get_num_threads()

    arms: dict[str, dict] = {}
    arms["transformers_generate"] = _torch_arm(model, tokenizer, prompts, max_new_tokens=args.max_new_tokens,
                                               batch_size=1, decoder="generate")
    arms["srmzoo"] = _torch_arm(model, tokenizer, prompts, max_new_tokens=args.max_new_tokens, batch_size=1,
                                decoder="pruned")
    arms["srmzoo_batch16"] = _torch_arm(model, tokenizer, prompts, max_new_tokens=args.max_new_tokens,
                                        batch_size=16, decoder="pruned")
    del model
    with tempfile.TemporaryDirectory() as tmp:
        for quant in ("f16", "q8_0"):
            gguf = export_gguf(args.entry, Path(tmp) / quant, quantization=quant, device="cpu")
            arms[f"llama_cpp_{quant}"] = _llama_arm(gguf, prompts, max_new_tokens=args.max_new_tokens, threads=threads)

    reference = arms["srmzoo"]["outputs"]
    base_rate = arms["transformers_generate"]["tokens_per_s"]
    for arm in arms.values():
        outs = arm.pop("outputs")
        arm["same_as_srmzoo_fp32"] = f"{sum(a == b for a, b in zip(outs, reference))}/{len(outs)}"
        arm["correct"] = f"{sum(domain.check(o, e).correct for o, e in zip(outs, items))}/{len(outs)}"
        arm["speedup_vs_transformers_batch1"] = round(arm["tokens_per_s"] / base_rate, 2)
    result = {
        "command": "python bench/llama_cpp_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "entry": args.entry,
        "prompts": len(prompts),
        "max_new_tokens": args.max_new_tokens,
        "threads": threads,
        "hardware": _hardware(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "llama_cpp_python": llama_cpp.__version__,
        "python": platform.python_version(),
        "arms": arms,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, arm in arms.items():
        print(f"{name:24s} batch {arm['batch_size']:2d}: {arm['tokens_per_s']:7.1f} tok/s "
              f"({arm['speedup_vs_transformers_batch1']}x), same as srmzoo fp32 {arm['same_as_srmzoo_fp32']}, "
              f"correct {arm['correct']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
