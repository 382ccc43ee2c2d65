"""The fine-tune core on a tiny Llama (fast) and on the real SmolLM2-135M (a few steps)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import toy_domain  # noqa: F401  (registers the toy-addition domain)
from safetensors.torch import load_file

from srmzoo.artifacts import ADAPTER_META_FILE
from srmzoo.errors import SrmzooError
from srmzoo.prompting import PromptFormat
from srmzoo.recipe import Recipe
from srmzoo.train.sft import completion_only_trainer_class, tokenize_examples
from srmzoo.train.stages import train

HERE = Path(__file__).parent


def tiny_recipe(tiny_base_dir, **train_overrides) -> Recipe:
    train_cfg = {"batch_size": 4, "max_steps": 3, "save_steps": 2, "logging_steps": 1, "lr": 1e-2,
                 **train_overrides}
    return Recipe.from_dict({
        "name": "toy-smoke", "domain": "toy-addition",
        "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir)},
        "data": {"train_size": 48, "max_length": 128},
        "train": train_cfg,
    })


def lora_state(adapter_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(adapter_dir / "adapter_model.safetensors")


def test_smoke_train_moves_every_lora_parameter_and_no_base_parameter(tiny_base_dir, tmp_path):
    from srmzoo.train.sft import load_model_for_training

    recipe = tiny_recipe(tiny_base_dir)
    model, _, _ = load_model_for_training(recipe)
    before_lora = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    before_base = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    assert before_lora and all("lora_" in n for n in before_lora)

    seen = {}

    from transformers import TrainerCallback

    class Grab(TrainerCallback):
        def on_train_end(self, args, state, control, model=None, **kw):
            seen.update({n: p.detach().clone() for n, p in model.named_parameters()})

    result = train(recipe, tmp_path / "run", progress=False, callbacks=[Grab()])
    assert result.steps == 3
    moved = {n for n, p in before_lora.items() if not torch.equal(p, seen[n])}
    assert moved == set(before_lora), f"LoRA parameters that did not move: {set(before_lora) - moved}"
    assert all(torch.equal(p, seen[n]) for n, p in before_base.items()), "a frozen base parameter moved"

    run = tmp_path / "run"
    files = {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and "checkpoints" not in p.parts}
    assert files == {
        "recipe.yaml", "metrics.jsonl", "loss_curve.png", "train_summary.json",
        "adapter/adapter_config.json", "adapter/adapter_model.safetensors", "adapter/README.md",
        "adapter/tokenizer.json", "adapter/tokenizer_config.json", "adapter/chat_template.jinja",
        "adapter/srmzoo_prompt.json", f"adapter/{ADAPTER_META_FILE}",
    }
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-3"]
    meta = json.loads((run / "adapter" / ADAPTER_META_FILE).read_text())
    assert meta["base"]["origin"] == f"dir:{Path(tiny_base_dir).resolve()}"
    assert meta["entry"] == "toy-smoke" and meta["training"]["steps"] == 3
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "loss" in m] == [1, 2, 3]
    assert all(m["mean_tokens_per_s"] > 0 for m in metrics)
    assert all(m["tokens_per_s"] > 0 for m in metrics[1:] if "loss" in m)  # per interval, shown in the bar
    assert PromptFormat.load(run / "adapter").system_prompt == toy_domain.ToyAddition.system_prompt


def test_train_and_inference_build_the_same_prompt(tiny_base_dir):
    """The contract: the tokens before the loss target are exactly what inference sends."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    fmt = PromptFormat.for_tokenizer(tok, system_prompt="Think, then answer.")
    ex = toy_domain.ToyAddition().examples("train", 1)[0]
    ex = type(ex)(**{**ex.__dict__, "solution": "<think>3 plus 4 is 7</think>\n\\boxed{7}"})
    (row,), dropped = tokenize_examples([ex], tok, fmt, max_length=512)
    assert dropped == 0
    n_prompt = row["completion_mask"].index(1)
    inference_prompt = fmt.render(tok, fmt.messages(ex.question))
    assert row["input_ids"][:n_prompt] == tok(inference_prompt, add_special_tokens=False)["input_ids"]
    target = tok.decode([t for t, m in zip(row["input_ids"], row["completion_mask"]) if m])
    assert "<think>3 plus 4 is 7</think>" in target and target.rstrip().endswith(tok.eos_token)


def test_overlong_examples_are_dropped_not_truncated(tiny_base_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    fmt = PromptFormat.for_tokenizer(tok)
    examples = toy_domain.ToyAddition().examples("train", 4)
    rows, dropped = tokenize_examples(examples, tok, fmt, max_length=20)
    assert (rows, dropped) == ([], 4)


def test_completion_only_loss_equals_the_stock_loss(tiny_base_dir):
    from transformers import AutoModelForCausalLM, TrainingArguments

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir)
    ids = torch.randint(5, 1000, (2, 12))
    labels = ids.clone()
    labels[:, :7] = -100
    labels[1, 10:] = -100
    trainer = completion_only_trainer_class()(model=model, args=TrainingArguments("/tmp/unused", use_cpu=True,
                                                                                  report_to=[]))
    ours = trainer.compute_loss(model, {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels})
    stock = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
    torch.testing.assert_close(ours, stock)


def test_qlora_nf4_smoke_train_on_cpu(tiny_base_dir, tmp_path):
    """QLoRA: the base loads 4-bit NF4 with double quantization (bitsandbytes runs on the CPU too)."""
    from srmzoo.train.sft import load_model_for_training

    recipe = tiny_recipe(tiny_base_dir, max_steps=2, save_steps=100)
    recipe = Recipe.from_dict({**recipe.to_dict(), "model": {**recipe.to_dict()["model"], "quantize": "nf4"}})
    model, _, _ = load_model_for_training(recipe)
    quantized = [m for m in model.modules() if type(m).__name__ == "Linear4bit"]
    assert quantized and all(m.weight.quant_type == "nf4" for m in quantized)
    assert all(m.weight.quant_state.nested for m in quantized)  # double quantization
    del model
    result = train(recipe, tmp_path / "run", progress=False)
    assert result.steps == 2
    state = lora_state(result.adapter_dir)
    assert state and all(torch.isfinite(t).all() for t in state.values())


class Crash(Exception):
    pass


def test_resume_after_a_crash_equals_an_uninterrupted_run(tiny_base_dir, tmp_path):
    from transformers import TrainerCallback

    class CrashAfterStep3(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 3:
                raise Crash

    recipe = tiny_recipe(tiny_base_dir, max_steps=5, save_steps=2)
    train(recipe, tmp_path / "straight", progress=False)
    with pytest.raises(Crash):
        train(recipe, tmp_path / "crashed", progress=False, callbacks=[CrashAfterStep3()])
    assert not (tmp_path / "crashed" / "adapter").exists()
    with pytest.raises(SrmzooError, match="is not empty"):
        train(recipe, tmp_path / "crashed", progress=False)
    resumed = train(recipe, tmp_path / "crashed", resume=True, progress=False)
    assert resumed.steps == 5
    a, b = lora_state(tmp_path / "straight" / "adapter"), lora_state(tmp_path / "crashed" / "adapter")
    assert a.keys() == b.keys()
    for name in a:  # resumed from checkpoint-2: same data order, RNG, optimizer and schedule
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6, msg=name)


def test_resume_refuses_a_changed_recipe_and_an_empty_run(tiny_base_dir, tmp_path):
    with pytest.raises(SrmzooError, match="nothing to resume"):
        train(tiny_recipe(tiny_base_dir), tmp_path / "empty", resume=True, progress=False)
    train(tiny_recipe(tiny_base_dir), tmp_path / "run", progress=False)
    with pytest.raises(SrmzooError, match="differs from the one"):
        train(tiny_recipe(tiny_base_dir, lr=0.5), tmp_path / "run", resume=True, progress=False)


def test_ddp_two_cpu_processes_agree(tiny_base_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(HERE / "ddp_worker.py"), str(tiny_base_dir), str(tmp_path / "run"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert ranks[0]["steps"] == ranks[1]["steps"] == 3
    assert ranks[0]["lora_sha256"] == ranks[1]["lora_sha256"]
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()  # written once, by rank 0


@pytest.mark.real_model
def test_real_smollm2_few_steps_loss_drops_and_plain_peft_loads_the_adapter(real_toy_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.backends.hf import generate
    from srmzoo.bases import resolve_base

    losses = [json.loads(x)["loss"] for x in (real_toy_run / "metrics.jsonl").read_text().splitlines()
              if "loss" in json.loads(x)]
    assert len(losses) == 6 and sum(losses[-2:]) / 2 < 0.7 * losses[0], losses
    adapter_dir = real_toy_run / "adapter"

    # a user with plain transformers + peft, no srmzoo
    base_dir = resolve_base("smollm2-135m-instruct").path
    tok = AutoTokenizer.from_pretrained(adapter_dir)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir), adapter_dir).eval()
    fmt = PromptFormat.load(adapter_dir)
    prompt = fmt.render(tok, fmt.messages("What is 12 + 30?"))
    out = generate(model, tok, [prompt], max_new_tokens=24)[0][0]
    assert "\\boxed{" in out, out
