"""srmzoo's GPU paths on a CUDA machine: LoRA vs QLoRA (bitsandbytes NF4 + double quant) training steps,
quantized loading and generation, plain transformers + peft loading, and a GRPO step, side by side.

No base weights can be downloaded where this runs, so each base is its real architecture
(SmolLM2-135M's config; DeepSeek-R1-Distill-Qwen-7B's shipped config) with random weights and SmolLM2's
tokenizer. That measures what the GPU path costs (peak memory, step time, tokens/s) and that it runs; it
says nothing about accuracy. Per base and per mode it runs the recipe's own `srmzoo.train.stages.train`:

    python bench/gpu_qlora.py --tokenizer DIR_WITH_SMOLLM2_TOKENIZER --out results.json [--skip-7b]

Each part is timed and recorded on its own; a failing part records its error and the rest still run.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DEVICE, DTYPE = "cuda", "bfloat16"  # --device cpu: a local smoke run of this script (fp32)


def _gpu_mem() -> dict[str, float]:
    if DEVICE != "cuda":
        return {}
    return {"peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)}


def _reset():
    gc.collect()
    if DEVICE != "cuda":
        return
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()


def make_random_base(name: str, config_path: Path, tokenizer_dir: Path, out: Path, *,
                     vocab_from_tokenizer: bool) -> dict:
    """The architecture in ``config_path`` with random bf16 weights, saved with SmolLM2's tokenizer."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = AutoConfig.from_pretrained(config_path)
    if vocab_from_tokenizer:
        config.vocab_size = len(tokenizer)
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        setattr(config, key, getattr(tokenizer, key))
    torch.manual_seed(0)
    with torch.device(DEVICE):
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, DTYPE))
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    del model
    _reset()
    # An identity file, so srmzoo does not hash 15 GB of random weights.
    (out / "srmzoo_base.json").write_text(json.dumps({
        "name": name, "format": "transformers", "origin": f"random-init:{config_path.name}",
        "sha256": f"random-init-seed0-{config_path.stem}"}))
    return {"params": params, "seconds": round(time.perf_counter() - started, 1)}


def train_part(recipe_path: Path, base_dir: Path, run_dir: Path, *, quantize: str | None, steps: int,
               overrides: dict) -> dict:
    from srmzoo.recipe import Recipe, load_recipe
    from srmzoo.train.stages import train

    raw = load_recipe(recipe_path).to_dict()
    raw["model"] = {**raw["model"], "path": str(base_dir), "quantize": quantize, "dtype": DTYPE}
    raw["data"] = {**raw["data"], **overrides.get("data", {})}
    raw["train"] = {**raw["train"], "save_steps": 10_000, **overrides.get("train", {})}
    recipe = Recipe.from_dict(raw)
    _reset()
    started = time.perf_counter()
    result = train(recipe, run_dir, max_steps=steps, progress=False)
    seconds = time.perf_counter() - started
    return {"quantize": quantize or "none (bf16 LoRA)", "steps": result.steps,
            "batch": recipe.train.batch_size * recipe.train.grad_accum, "max_length": recipe.data.max_length,
            "gradient_checkpointing": recipe.train.gradient_checkpointing,
            "trained_tokens": result.trained_tokens, "train_loss": result.train_loss,
            "train_seconds": result.seconds, "wall_seconds_incl_load": round(seconds, 1),
            "tokens_per_s": round(result.trained_tokens / max(result.seconds, 1e-9), 1),
            **_gpu_mem(), "adapter_dir": str(result.adapter_dir)}


def load_and_generate_part(adapter_dir: Path, base_dir: Path, *, quantize: str | None) -> dict:
    """srmzoo.load on CUDA (optionally NF4) + solve, then plain transformers + peft on the same files."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    import srmzoo

    _reset()
    out: dict = {"quantize": quantize or "none"}
    started = time.perf_counter()
    reasoner = srmzoo.load(adapter_dir, quantize=quantize, device=DEVICE, base_path=base_dir)
    out["srmzoo_load_seconds"] = round(time.perf_counter() - started, 1)
    problems = ["What is 17 + 25?", "Solve for x: 3x + 4 = 19."] * 8
    started = time.perf_counter()
    texts = reasoner.generate(problems, max_new_tokens=64)
    out["srmzoo_generate"] = {"prompts": len(problems), "max_new_tokens": 64,
                              "seconds": round(time.perf_counter() - started, 2),
                              "first_completion_chars": len(texts[0][0])}
    out["srmzoo_weight_class"] = type(reasoner.model.get_base_model().model.layers[0].mlp.down_proj.base_layer).__name__ \
        if hasattr(reasoner.model, "get_base_model") else type(reasoner.model).__name__
    out.update({f"srmzoo_{k}": v for k, v in _gpu_mem().items()})
    del reasoner
    _reset()
    kwargs = {"dtype": getattr(torch, DTYPE), "device_map": {"": DEVICE}}
    if quantize == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16)
    base = AutoModelForCausalLM.from_pretrained(base_dir, **kwargs)
    model = PeftModel.from_pretrained(base, adapter_dir)
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": problems[0]}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True).to(DEVICE)
    gen = model.generate(**ids, max_new_tokens=16, do_sample=False)
    out["plain_peft_generated_tokens"] = int(gen.shape[1] - ids["input_ids"].shape[1])
    out.update({f"plain_peft_{k}": v for k, v in _gpu_mem().items()})
    del model, base
    _reset()
    return out


def eval_part(adapter_dir: Path, base_dir: Path, out_dir: Path) -> dict:
    from srmzoo.eval.run import run_eval

    _reset()
    started = time.perf_counter()
    results = run_eval(adapter_dir, split="test", n=32, max_new_tokens=48, batch_size=32, few_shot=1,
                       out_dir=out_dir, device=DEVICE, base_path=base_dir, progress=False)
    rows = {f'{r["model"]} {r["prompting"]}': r["accuracy"] for r in results["reports"]}
    return {"seconds": round(time.perf_counter() - started, 1), "rows": rows, **_gpu_mem()}


def grpo_part(recipe_path: Path, adapter_dir: Path, base_dir: Path, run_dir: Path) -> dict:
    from srmzoo.recipe import Recipe, load_recipe
    from srmzoo.train.stages import train

    raw = load_recipe(recipe_path).to_dict()
    raw["name"] = "gpu-check-grpo"
    raw["model"] = {**raw["model"], "path": str(base_dir), "adapter": str(adapter_dir), "dtype": DTYPE}
    raw["grpo"] = {**raw.get("grpo", {}), "steps": 2, "problems": 8, "max_completion_length": 32}
    recipe = Recipe.from_dict(raw)
    _reset()
    started = time.perf_counter()
    result = train(recipe, run_dir, max_steps=2, progress=False)
    return {"steps": result.steps, "seconds": round(time.perf_counter() - started, 1), **_gpu_mem()}


def run_part(results: dict, name: str, fn, *args, **kwargs):
    print(f"== {name}", flush=True)
    try:
        results[name] = fn(*args, **kwargs)
    except Exception as exc:  # a check script: record and go on with the other parts
        results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
    print(json.dumps(results[name], indent=1, default=str)[:3000], flush=True)
    return results[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", type=Path, required=True, help="a directory with SmolLM2's tokenizer + config")
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    parser.add_argument("--work", type=Path, default=Path("/tmp/srmzoo-gpu"), help="scratch directory")
    parser.add_argument("--skip-7b", action="store_true")
    parser.add_argument("--steps", type=int, default=20, help="training steps per 135M run")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                        help="cpu: smoke-run this script here (fp32, no QLoRA, with --skip-7b)")
    args = parser.parse_args(argv)
    global DEVICE, DTYPE
    DEVICE, DTYPE = args.device, ("bfloat16" if args.device == "cuda" else "float32")
    if DEVICE == "cuda" and not torch.cuda.is_available():
        parser.error("needs a CUDA GPU (or --device cpu for a smoke run)")
    import bitsandbytes
    import peft
    import transformers
    import trl

    results: dict = {
        "command": "python bench/gpu_qlora.py " + " ".join(sys.argv[1:]),
        "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                     "trl": trl.__version__, "bitsandbytes": bitsandbytes.__version__},
        "note": "random-weight bases of the real architectures (no download possible there): costs and "
                "working paths only, no accuracy",
    }
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    save = lambda: args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")  # noqa: E731

    # SmolLM2-135M architecture: the math-135m recipe, bf16 LoRA vs NF4 QLoRA, load/generate, eval, GRPO.
    small = args.work / "base-135m"
    run_part(results, "135m_make_base", make_random_base, "smollm2-135m-instruct", args.tokenizer / "config.json", args.tokenizer, small,
             vocab_from_tokenizer=True)
    recipe = ROOT / "recipes/math/math-135m.yaml"
    small_data = {"data": {"train_size": 512}}
    for quantize in (None, "nf4") if DEVICE == "cuda" else (None,):
        tag = quantize or "bf16"
        part = run_part(results, f"135m_train_{tag}", train_part, recipe, small, args.work / f"run-135m-{tag}",
                        quantize=quantize, steps=args.steps, overrides=small_data)
        if "adapter_dir" in part:
            run_part(results, f"135m_load_{tag}", load_and_generate_part, Path(part["adapter_dir"]), small,
                     quantize=quantize)
        save()
    if "adapter_dir" in results.get("135m_train_bf16", {}):
        adapter = Path(results["135m_train_bf16"]["adapter_dir"])
        run_part(results, "135m_eval", eval_part, adapter, small, args.work / "eval-135m")
        run_part(results, "135m_grpo", grpo_part, ROOT / "recipes/math/ablations/math-135m-grpo.yaml", adapter,
                 small, args.work / "run-135m-grpo")
    save()

    # The math-7b recipe itself (QLoRA NF4, r=32, 1024 tokens, batch 8 x accum 4, gradient checkpointing).
    if not args.skip_7b:
        big = args.work / "base-7b"
        run_part(results, "7b_make_base", make_random_base, "deepseek-r1-distill-qwen-7b", ROOT / "zoo/base_configs/deepseek-r1-distill-qwen-7b.json",
                 args.tokenizer, big, vocab_from_tokenizer=False)
        save()
        part = run_part(results, "7b_train_nf4", train_part, ROOT / "recipes/math/math-7b.yaml", big,
                        args.work / "run-7b", quantize="nf4", steps=3,
                        overrides={"data": {"train_size": 512}})
        save()
        if "adapter_dir" in part:
            run_part(results, "7b_load_nf4", load_and_generate_part, Path(part["adapter_dir"]), big, quantize="nf4")
        save()
    save()
    failed = [k for k, v in results.items() if isinstance(v, dict) and "error" in v]
    print("failed parts:", failed or "none", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
