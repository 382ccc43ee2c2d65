"""Batch-1 generation speed: transformers ``generate``, srmzoo's decoder, and llama.cpp on the exported GGUF.

    pip install -e ".[llama]"          # llama-cpp-python: builds llama.cpp from its source package
    python bench/llama_cpp_speed.py   # writes bench/results/llama_cpp_speed.json

One process, one model: a zoo entry from the local store (default math-135m), merged, greedy, the same
held-out test prompts rendered with the entry's own chat template and system prompt, the same budget:

* ``transformers_generate``: ``model.generate`` on the merged fp32 model, batch 1;
* ``srmzoo``: :func:`srmzoo.backends.hf.generate` (what ``Reasoner.solve`` runs), batch 1, and batch 16;
* ``llama_cpp_<q>``: llama-cpp-python on ``srmzoo export ENTRY --format gguf --quantization <q>``
  (f16 and q8_0), batch 1, the same threads as torch.

Reported per arm: new tokens/s, seconds, the speedup over transformers at batch 1, and how many
completions equal srmzoo's fp32 greedy ones (GGUF weights are rounded, so a few may part ways late) and are
still right by the domain's verifier.

``--reasoner ENTRY`` adds the reasoner itself (``srmzoo.load(ENTRY)`` vs ``srmzoo.load(ENTRY,
backend="llama.cpp")``, f16), batch 1, with the entry's tools (e.g. math-135m-tools and its calculator).
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
    from srmzoo.backends.hf import GenerationStats, generate

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


def _reasoner_arms(entry: str, n: int, max_new_tokens: int) -> dict[str, dict]:
    """``Reasoner.generate`` at batch 1 through torch and through llama.cpp (f16), tools answered."""
    import srmzoo
    from srmzoo.tools import calls

    arms, outputs = {}, {}
    for backend in ("torch", "llama.cpp"):
        m = srmzoo.load(entry, device="cpu", merge=True, backend=backend)
        items = m.domain.examples("test", n, seed=0)
        if backend == "llama.cpp":
            m.generate(items[0].question, max_new_tokens=4)  # the export happens once, outside the clock
        start, outs = time.perf_counter(), []
        for e in items:
            outs.append(m.generate(e.question, max_new_tokens=max_new_tokens)[0][0])
        seconds = time.perf_counter() - start
        tokens = sum(len(m.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outs)
        outputs[backend] = outs
        arms[f"reasoner_{backend}"] = {
            "entry": entry, "batch_size": 1, "seconds": round(seconds, 2), "new_tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 1), "tool_calls": sum(len(calls(o)) for o in outs),
            "correct": f"{sum(m.domain.check(o, e).correct for o, e in zip(outs, items))}/{len(outs)}",
            "outputs": outs, "reference": True,
        }
        del m
    same = sum(a == b for a, b in zip(outputs["torch"], outputs["llama.cpp"]))
    arms["reasoner_llama.cpp"]["same_as_torch_reasoner"] = f"{same}/{len(outputs['torch'])}"
    arms["reasoner_llama.cpp"]["speedup_vs_torch_reasoner"] = round(
        arms["reasoner_llama.cpp"]["tokens_per_s"] / arms["reasoner_torch"]["tokens_per_s"], 2)
    return arms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entry", default="math-135m", help="zoo entry in the local store")
    parser.add_argument("--n", type=int, default=16, help="prompts (held-out test items)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--reasoner", help="also time srmzoo.load(ENTRY) vs backend='llama.cpp' (tools included)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import llama_cpp
    import torch
    import transformers

    from srmzoo.artifacts import load_adapter, merge_for_generation
    from srmzoo.hardware import describe_hardware
    from srmzoo.publish.export import export_gguf
    from srmzoo.store import find_adapter

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

    if args.reasoner:
        arms.update(_reasoner_arms(args.reasoner, args.n, args.max_new_tokens))
    reference = arms["srmzoo"]["outputs"]
    base_rate = arms["transformers_generate"]["tokens_per_s"]
    for arm in arms.values():
        outs = arm.pop("outputs")
        if "reference" not in arm:
            arm["same_as_srmzoo_fp32"] = f"{sum(a == b for a, b in zip(outs, reference))}/{len(outs)}"
            arm["correct"] = f"{sum(domain.check(o, e).correct for o, e in zip(outs, items))}/{len(outs)}"
        else:
            arm.pop("reference")
        arm["speedup_vs_transformers_batch1"] = round(arm["tokens_per_s"] / base_rate, 2)
    result = {
        "command": "python bench/llama_cpp_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "entry": args.entry,
        "prompts": len(prompts),
        "max_new_tokens": args.max_new_tokens,
        "threads": threads,
        "hardware": describe_hardware(),
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
              f"({arm['speedup_vs_transformers_batch1']}x), same as srmzoo fp32 {arm.get('same_as_srmzoo_fp32', '-')}, "
              f"correct {arm['correct']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
