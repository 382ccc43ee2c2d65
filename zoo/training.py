"""The fine-tune core: one SFT path for every domain and base, on transformers' ``Trainer`` + peft.

recipe → data (the domain's generator) → tokenised prompt/completion pairs → base + LoRA (or QLoRA) →
``Trainer`` (completion-only loss, length-grouped batches, bf16 autocast) → adapter + prompt format +
base identity.

Design decisions, each measured or tested:

* srmzoo tokenises prompt and completion itself: the prompt is exactly ``PromptFormat.render(...)``, the
  text inference sends, and the completion is the rest of the template's rendering of the full
  conversation (reasoning markers such as ``<think>`` included). The train/inference prompt contract is
  then true by construction, and tested.
* transformers' ``Trainer`` rather than TRL's ``SFTTrainer``: TRL 1.16 always swaps in a chunked
  log-prob LM head whose CPU fallback runs tile by tile in Python; measured on SmolLM2-135M it had not
  finished one 32-example step in two minutes, where ``Trainer`` takes seconds. With srmzoo doing the
  tokenisation, what SFTTrainer would add is packing, and padding-free packing needs a varlen attention
  kernel (on the CPU a packed batch's attention is quadratic in its total length: 11.5 GB for 8×512
  tokens). Padding stays low instead by grouping examples of similar length into batches, each padded
  to its own longest (to a multiple of 8).
* Examples longer than ``data.max_length`` are dropped and counted, never truncated (a truncated trace
  teaches the model to stop mid-answer).
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .domain import Domain, Example, get_domain
from .errors import SrmzooError
from .prompting import PromptFormat
from .recipe import Recipe
from .tools import annotate

__all__ = [
    "ADAPTER_META_FILE",
    "TrainResult",
    "build_prompt_format",
    "estimate",
    "tokenize_examples",
    "train",
    "train_sft",
]

log = logging.getLogger(__name__)

ADAPTER_META_FILE = "srmzoo_adapter.json"
METRICS_FILE = "metrics.jsonl"
LOSS_CURVE_FILE = "loss_curve.png"


@dataclass
class TrainResult:
    """What a training run produced."""

    run_dir: Path
    adapter_dir: Path
    steps: int
    train_loss: float | None
    seconds: float
    trained_tokens: int
    dropped_examples: int
    summary: dict[str, Any] = field(default_factory=dict)


def build_prompt_format(recipe: Recipe, tokenizer: Any) -> PromptFormat:
    """The prompt format an entry trains and infers with: the base's template + the recipe's system prompt
    (``data.system_prompt``), else the domain's."""
    system_prompt = recipe.data.system_prompt or get_domain(recipe.domain).system_prompt
    fmt = PromptFormat.for_tokenizer(tokenizer, system_prompt=system_prompt or None)
    return replace(fmt, tools=tuple(recipe.data.tools))


def tokenize_examples(
    examples: list[Example], tokenizer: Any, prompt_format: PromptFormat, max_length: int, *,
    annotate_tools: bool = True,
    domain: Domain | None = None,
    traces: str | None = None,
) -> tuple[list[dict[str, list[int]]], int]:
    """Tokenise examples into ``input_ids`` + ``completion_mask`` rows; returns (rows, number dropped).

    The completion is what the template renders after the prompt when the assistant turn is added; a
    template that renders the prompt differently once an answer follows (some strip reasoning from
    past turns) cannot keep the train/inference contract and is refused. With ``prompt_format.tools`` the
    solutions are trained with their tool calls written in (``domain.tool_solution``, else
    :func:`srmzoo.tools.annotate`; ``traces`` picks one of the domain's trace styles), unless
    ``annotate_tools`` is off (completions the model generated with its tools already carry them).
    """
    def with_calls(ex: Example) -> str:
        if not (prompt_format.tools and annotate_tools):
            return ex.solution
        if domain is None:
            return annotate(ex.solution, prompt_format.tools)
        return domain.tool_solution(ex, prompt_format.tools, traces)

    rows: list[dict[str, list[int]]] = []
    dropped = 0
    for ex in examples:
        solution = with_calls(ex)
        messages = prompt_format.messages(ex.question)
        prompt = prompt_format.render(tokenizer, messages, add_generation_prompt=True)
        full = prompt_format.render(
            tokenizer, [*messages, {"role": "assistant", "content": solution}], add_generation_prompt=False
        )
        if not full.startswith(prompt):
            raise SrmzooError(
                "the chat template renders the prompt differently once an answer follows, so training and "
                "inference would see different prompts",
                hint="use a template whose generation prompt is a prefix of the full conversation",
            )
        completion = full[len(prompt) :]
        if solution not in completion:
            raise SrmzooError(
                "the chat template alters the assistant's text (e.g. strips <think> reasoning), so the "
                "reasoning would not be trained on",
                hint="use a template that keeps the assistant message verbatim",
            )
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        if len(prompt_ids) + len(completion_ids) > max_length:
            dropped += 1
            continue
        rows.append(
            {
                "input_ids": prompt_ids + completion_ids,
                "completion_mask": [0] * len(prompt_ids) + [1] * len(completion_ids),
            }
        )
    return rows, dropped


# --------------------------------------------------------------------------------------------- the model


def _load_model_for_training(recipe: Recipe):
    """Base (optionally quantized) + fresh LoRA adapter; returns (peft_model, tokenizer, resolved_base)."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from .bases import default_device, load_base

    base = load_base(
        recipe.model.base,
        dtype=recipe.model.dtype,
        quantize=recipe.model.quantize,
        path=recipe.model.path,
        revision=recipe.model.revision,
    )
    model, tokenizer = base
    model.config.use_cache = False
    if recipe.model.quantize:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=recipe.train.gradient_checkpointing
        )
    elif recipe.train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    lora = recipe.lora
    if lora.dropout > 0 and default_device() == "cpu":
        log.info("lora.dropout %s on the CPU: drawing dropout masks takes about a third of each training step "
                 "here (bench/results/train_throughput_lora_dropout.json); lora.dropout: 0 trains faster",
                 lora.dropout)
    target = lora.target_modules if isinstance(lora.target_modules, str) else list(lora.target_modules)
    peft_model = get_peft_model(
        model,
        LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=target,
            task_type="CAUSAL_LM",
        ),
    )
    # LoRA weights stay fp32 (bf16 autocast does the matmuls); the frozen base keeps its load dtype.
    for p in peft_model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            p.data = p.data.float()
    log.info("model on %s: %s", default_device(), _param_counts(peft_model))
    return peft_model, tokenizer, base.resolved


def _param_counts(model: Any) -> str:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return f"{trainable:,} trainable of {total:,} parameters ({100 * trainable / total:.2f}%)"


# ------------------------------------------------------------------------------------------------ callbacks


def _make_metrics_callback(run_dir: Path):
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        """Writes every log as a JSON line (with trained tokens/s), and redraws the loss curve on save."""

        def __init__(self) -> None:
            self.started = time.perf_counter()
            self.tokens_at_start: int | None = None

        def on_train_begin(self, args, state, control, **kw):
            self.started = time.perf_counter()
            self.tokens_at_start = state.num_input_tokens_seen

        def on_log(self, args, state, control, logs=None, **kw):
            if not state.is_world_process_zero or not logs:
                return
            elapsed = time.perf_counter() - self.started
            tokens = state.num_input_tokens_seen - (self.tokens_at_start or 0)
            row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), **logs,
                   "tokens": state.num_input_tokens_seen, "elapsed_s": round(elapsed, 2),
                   "mean_tokens_per_s": round(tokens / elapsed, 1) if elapsed > 0 else None}
            with (run_dir / METRICS_FILE).open("a") as f:
                f.write(json.dumps(row) + "\n")

        def on_save(self, args, state, control, **kw):
            if state.is_world_process_zero:
                plot_loss_curve(run_dir)

    return MetricsCallback()


def plot_loss_curve(run_dir: Path) -> Path | None:
    """Draw ``loss_curve.png`` from ``metrics.jsonl`` (training loss and learning rate against step)."""
    rows = [json.loads(line) for line in (run_dir / METRICS_FILE).read_text().splitlines() if line.strip()] \
        if (run_dir / METRICS_FILE).exists() else []
    rows = [r for r in rows if "loss" in r]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot(steps, [r["loss"] for r in rows], color="tab:blue", label="train loss (completion tokens)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if all("learning_rate" in r for r in rows):
        ax2 = ax.twinx()
        ax2.plot(steps, [r["learning_rate"] for r in rows], color="tab:orange", alpha=0.6, label="learning rate")
        ax2.set_ylabel("learning rate")
    ax.set_title(f"{run_dir.name}: training loss")
    fig.tight_layout()
    path = run_dir / LOSS_CURVE_FILE
    fig.savefig(path)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------------------- train


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AMX or AVX-512 BF16).

    Without it torch's bf16 matmul falls back to a scalar path: measured on a 2-core AMD EPYC with AVX2
    only, 0.28 GFLOP/s in bf16 against 97.5 in fp32 (2048² matmul), where an AMX Xeon gives 2,370 bf16.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags for flag in ("amx_bf16", "avx512_bf16"))


def use_bf16(setting: str | bool) -> bool:
    """Resolve ``train.bf16``: ``auto`` = bf16 autocast where the hardware is fast at it, else fp32.

    >>> use_bf16(False)
    False
    """
    import torch

    if setting in (False, "false", "no"):
        return False
    fast = torch.cuda.is_bf16_supported() if torch.cuda.is_available() else cpu_has_fast_bf16()
    if setting in (True, "true", "yes") and not fast:
        log.warning("train.bf16 is on but this hardware has no fast bf16 path; expect it to be slow")
        return True
    return fast


def _training_args(recipe: Recipe, run_dir: Path, max_steps: int | None, progress: bool):
    import torch
    from transformers import TrainingArguments

    t = recipe.train
    on_gpu = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=t.epochs,
        max_steps=max_steps if max_steps is not None else t.max_steps,
        learning_rate=t.lr,
        per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        lr_scheduler_type=t.scheduler,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        seed=t.seed,
        data_seed=recipe.data.seed,
        bf16=use_bf16(t.bf16),
        use_cpu=not on_gpu,
        train_sampling_strategy="group_by_length",
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        report_to=[],
        disable_tqdm=not progress,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )


def _completion_only_trainer_class():
    """``Trainer`` whose loss runs the LM head on completion tokens only.

    The prompt (system turn, question, template) is typically 50-70% of a training example and takes no
    loss, yet the stock loss projects every position onto the whole vocabulary (49k for SmolLM2: a
    fifth of the model's matmul FLOPs) and keeps those fp32 logits for backward. Passing the target
    positions as ``logits_to_keep`` gives the same loss for less compute and memory (tested against the
    stock loss).
    """
    import torch
    import torch.nn.functional as F
    from transformers import Trainer

    class CompletionOnlyTrainer(Trainer):
        loss_is_scaled_for_ga = True
        _clock: tuple[float, int] | None = None

        def log(self, logs: dict[str, float], *args, **kwargs) -> None:
            # trained (non-pad) tokens/s since the last log, so the progress bar shows it beside the ETA
            now, tokens = time.perf_counter(), self.state.num_input_tokens_seen
            if self._clock is not None and "loss" in logs and now > self._clock[0]:
                logs["tokens_per_s"] = round((tokens - self._clock[1]) / (now - self._clock[0]), 1)
            self._clock = (now, tokens)
            super().log(logs, *args, **kwargs)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            inputs.pop("length", None)
            targets = labels[:, 1:]
            mask = targets != -100
            # Positions whose next token is a target in any row; through the model's own forward (so DDP
            # and peft wrappers see the call), the LM head then projects only those positions.
            keep = mask.any(dim=0).nonzero().squeeze(-1)
            logits = model(**inputs, logits_to_keep=keep).logits
            kept_mask = mask[:, keep]
            loss = F.cross_entropy(logits[kept_mask].float(), targets[:, keep][kept_mask], reduction="sum")
            count = num_items_in_batch if num_items_in_batch is not None else kept_mask.sum()
            loss = loss / torch.as_tensor(count, device=loss.device, dtype=loss.dtype).clamp(min=1)
            if num_items_in_batch is not None and self.args.average_tokens_across_devices:
                loss = loss * self.accelerator.num_processes
            return (loss, {"logits": logits}) if return_outputs else loss

    return CompletionOnlyTrainer


def _rows_to_dataset(rows: list[dict[str, list[int]]]):
    """input_ids + labels (-100 on the prompt: completion-only loss) + attention_mask + length."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "input_ids": r["input_ids"],
                "attention_mask": [1] * len(r["input_ids"]),
                "labels": [tok if m else -100 for tok, m in zip(r["input_ids"], r["completion_mask"])],
                "length": len(r["input_ids"]),
            }
            for r in rows
        ]
    )


def _prepare_run_dir(recipe: Recipe, run_dir: Path, checkpoints: Path, resume: bool) -> None:
    if run_dir.exists() and any(run_dir.iterdir()) and not resume:
        raise SrmzooError(
            f"run directory {run_dir} is not empty",
            hint="pass --resume to continue that run, or --run-dir to start a new one",
        )
    has_checkpoint = checkpoints.is_dir() and any(checkpoints.glob("checkpoint-*"))
    if resume and not has_checkpoint:
        raise SrmzooError(f"nothing to resume in {run_dir}: no checkpoint-* under {checkpoints}",
                          hint="start the run without --resume")
    run_dir.mkdir(parents=True, exist_ok=True)
    if resume:
        saved = (run_dir / "recipe.yaml").read_text()
        if saved != recipe.to_yaml():
            raise SrmzooError(f"the recipe differs from the one {run_dir} was started with",
                              hint=f"resume with the saved recipe: {run_dir / 'recipe.yaml'}")
    else:
        (run_dir / "recipe.yaml").write_text(recipe.to_yaml())


def train(
    recipe: Recipe,
    run_dir: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    callbacks: list[Any] | None = None,
) -> TrainResult:
    """Run a recipe's stages in order (``sft``, ``rft``, ``grpo``) and return the final adapter.

    SFT writes ``run_dir/adapter`` (with checkpoints, metrics and loss curve in ``run_dir``); RFT rounds
    write ``run_dir/rft/round-<r>/``, GRPO ``run_dir/grpo/``; each starts from the previous stage's
    adapter, the first from ``model.adapter`` in a recipe without an SFT stage. With ``resume`` a finished
    stage is skipped and an unfinished one continues.

    Args:
        recipe: a validated recipe.
        run_dir: the run directory.
        resume: continue an interrupted run in ``run_dir``.
        max_steps: stop each stage's fine-tuning after this many optimizer steps (for smoke runs).
        progress: progress bars with ETA and tokens/s.
        callbacks: extra ``transformers.TrainerCallback`` objects (SFT stage).
    """
    get_domain(recipe.domain).check_trace_style(recipe.data.traces, recipe.data.tools)  # before any work
    if recipe.stages == ("sft",):
        return train_sft(recipe, run_dir, resume=resume, max_steps=max_steps, progress=progress, callbacks=callbacks)
    from .rft import run_rft
    from .store import find_adapter

    run_dir = Path(run_dir)
    _prepare_staged_run_dir(recipe, run_dir, resume)
    started = time.perf_counter()
    sft_result: TrainResult | None = None
    if recipe.stages[0] == "sft":
        finished = (run_dir / "train_summary.json").is_file() and (run_dir / "adapter" / ADAPTER_META_FILE).is_file()
        if finished:
            log.info("sft stage already finished in %s", run_dir)
        else:
            has_checkpoint = any((run_dir / "checkpoints").glob("checkpoint-*"))
            sft_result = train_sft(recipe, run_dir, resume=resume and has_checkpoint, max_steps=max_steps,
                                   progress=progress, callbacks=callbacks, check_run_dir=False)
        start = run_dir / "adapter"
    else:
        start = find_adapter(recipe.model.adapter)
        _check_start_adapter(recipe, start)
    final, last = start, {"steps": 0, "train_loss": None, "trained_tokens": 0, "dropped_examples": 0}
    if "rft" in recipe.stages:
        rft = run_rft(recipe, run_dir, final, resume=resume, max_steps=max_steps, progress=progress)
        final, last = rft.adapter_dir, rft.rounds[-1]["train"]
    if "grpo" in recipe.stages:
        from .grpo import run_grpo

        grpo = run_grpo(recipe, run_dir, final, resume=resume, max_steps=max_steps, progress=progress)
        final = grpo.adapter_dir
        last = {"steps": grpo.summary["steps"], "train_loss": grpo.summary["train_loss"], "trained_tokens": 0,
                "dropped_examples": 0}
    summary = {"stages": [s["stage"] for s in _stage_summaries(final)],
               "steps": last["steps"], "train_loss": last["train_loss"], "trained_tokens": last["trained_tokens"],
               "seconds": round(time.perf_counter() - started, 1), "hardware": _hardware()}
    if sft_result is not None:
        summary["sft_seconds"] = sft_result.summary["seconds"]
    (run_dir / "stages_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return TrainResult(run_dir, final, last["steps"], last["train_loss"], summary["seconds"],
                       last["trained_tokens"], last["dropped_examples"], summary)


def continue_training(model: Any, tokenizer: Any, fmt: PromptFormat) -> None:
    """Make a loaded adapter trainable again (its LoRA weights only) for a post-SFT stage."""
    for name, param in model.named_parameters():
        if "lora_" in name:
            param.requires_grad_(True)
    model.train()
    tokenizer.chat_template = fmt.chat_template


def stage_history(start_adapter: str | Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The stages behind ``start_adapter`` (an SFT adapter counts as one ``sft`` stage) plus this one."""
    from .evaluation import read_adapter_meta  # evaluation imports this module

    previous = read_adapter_meta(start_adapter).get("training", {})
    return [*previous.get("stages", [{"stage": "sft", **previous}] if previous else []), summary]


def _stage_summaries(adapter_dir: Path) -> list[dict[str, Any]]:
    from .evaluation import read_adapter_meta

    return read_adapter_meta(adapter_dir).get("training", {}).get("stages", [])


def _prepare_staged_run_dir(recipe: Recipe, run_dir: Path, resume: bool) -> None:
    saved = run_dir / "recipe.yaml"
    if resume:
        if not saved.is_file():
            raise SrmzooError(f"nothing to resume in {run_dir}: no recipe.yaml", hint="start the run without --resume")
        old, new = saved.read_text(), recipe.to_yaml()
        if old != new:
            if not _adds_rft_rounds(old, new):
                raise SrmzooError(f"the recipe differs from the one {run_dir} was started with",
                                  hint=f"resume with the saved recipe: {saved} (only more rft.rounds may be added)")
            log.info("extending %s to rft.rounds=%d: its finished rounds are kept", run_dir, recipe.rft.rounds)
            saved.write_text(new)
        return
    if run_dir.exists() and any(run_dir.iterdir()):
        raise SrmzooError(f"run directory {run_dir} is not empty",
                          hint="pass --resume to continue that run, or --run-dir to start a new one")
    run_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(recipe.to_yaml())


def _adds_rft_rounds(saved_yaml: str, new_yaml: str) -> bool:
    r"""Whether ``new_yaml`` is ``saved_yaml`` with more RFT rounds (and perhaps a new description): each
    round depends only on its predecessor and its own seed, so the finished rounds stay valid.

    >>> _adds_rft_rounds("rft:\n  rounds: 2\n", "rft:\n  rounds: 3\n")
    True
    >>> _adds_rft_rounds("rft:\n  rounds: 2\n  lr: 1.0e-4\n", "rft:\n  rounds: 3\n  lr: 2.0e-4\n")
    False
    """
    old, new = yaml.safe_load(saved_yaml) or {}, yaml.safe_load(new_yaml) or {}
    old_rounds = (old.get("rft") or {}).get("rounds")
    new_rounds = (new.get("rft") or {}).get("rounds")
    if not isinstance(old_rounds, int) or not isinstance(new_rounds, int) or new_rounds <= old_rounds:
        return False
    for d in (old, new):
        d.pop("description", None)
        d["rft"].pop("rounds")
    return old == new


def _check_start_adapter(recipe: Recipe, adapter_dir: Path) -> None:
    """``model.adapter`` must be an adapter of this recipe's domain on this recipe's base (by name: the
    weights are checked by hash when the adapter loads, from ``model.path`` if the recipe gives one)."""
    from .bases import get_base_spec
    from .evaluation import read_adapter_meta

    meta = read_adapter_meta(adapter_dir)  # a clear error for a directory that is not an srmzoo adapter
    if meta.get("domain") != recipe.domain:
        raise SrmzooError(f"model.adapter {recipe.model.adapter} is a {meta.get('domain')!r} adapter, "
                          f"the recipe is {recipe.domain!r}", hint="name an adapter trained for this domain")
    want = get_base_spec(recipe.model.base).name
    got = meta.get("base", {}).get("name")
    if got != want:
        raise SrmzooError(f"model.adapter {recipe.model.adapter} was trained on {got!r}, the recipe's base is {want!r}",
                          hint=f"set model.base: {got}")


def train_sft(
    recipe: Recipe,
    run_dir: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    callbacks: list[Any] | None = None,
    check_run_dir: bool = True,
) -> TrainResult:
    """Run a recipe's SFT stage and save the adapter under ``run_dir/adapter``.

    Args:
        recipe: a validated recipe.
        run_dir: the run directory (recipe, metrics, loss curve, checkpoints, adapter).
        resume: continue from the newest checkpoint in ``run_dir``.
        max_steps: stop after this many optimizer steps (overrides the recipe).
        progress: show a progress bar with ETA and tokens/s.
        callbacks: extra ``transformers.TrainerCallback`` objects.
        check_run_dir: refuse a non-empty run directory unless resuming (off when :func:`train` has
            already prepared it for a multi-stage run).
    """
    import torch
    from transformers import DataCollatorForSeq2Seq, set_seed

    run_dir = Path(run_dir)
    checkpoints = run_dir / "checkpoints"
    # Under torchrun/accelerate every rank runs this; only rank 0 checks and writes the run directory.
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process and check_run_dir:
        _prepare_run_dir(recipe, run_dir, checkpoints, resume)

    set_seed(recipe.train.seed)
    started = time.perf_counter()
    domain = get_domain(recipe.domain)
    model, tokenizer, resolved = _load_model_for_training(recipe)
    fmt = build_prompt_format(recipe, tokenizer)
    tokenizer.chat_template = fmt.chat_template
    examples = domain.examples("train", recipe.data.train_size, seed=recipe.data.seed, families=recipe.data.families)
    rows, dropped = tokenize_examples(examples, tokenizer, fmt, recipe.data.max_length, domain=domain,
                                      traces=recipe.data.traces)
    if not rows:
        raise SrmzooError(f"every training example is longer than data.max_length={recipe.data.max_length}",
                          hint="raise data.max_length")
    if dropped:
        log.warning("dropped %d of %d examples longer than %d tokens", dropped, len(examples), recipe.data.max_length)

    trainer = _completion_only_trainer_class()(
        model=model,
        args=_training_args(recipe, run_dir, max_steps, progress),
        train_dataset=_rows_to_dataset(rows),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding="longest", pad_to_multiple_of=8, label_pad_token_id=-100),
        processing_class=tokenizer,
        callbacks=[_make_metrics_callback(run_dir), *(callbacks or [])],
    )
    output = trainer.train(resume_from_checkpoint=True if resume else None)
    seconds = time.perf_counter() - started

    adapter_dir = run_dir / "adapter"
    summary = {
        "steps": trainer.state.global_step,
        "epochs": round(trainer.state.epoch or 0.0, 3),
        "train_loss": output.training_loss,
        "trained_tokens": trainer.state.num_input_tokens_seen,
        "examples": len(rows),
        "dropped_examples": dropped,
        "seconds": round(seconds, 1),
        "hardware": _hardware(),
        "torch": torch.__version__,
    }
    if trainer.is_world_process_zero():
        save_adapter(trainer.model, tokenizer, fmt, adapter_dir, recipe=recipe, base_identity=resolved.identity,
                     summary=summary)
        (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        plot_loss_curve(run_dir)
    return TrainResult(run_dir, adapter_dir, trainer.state.global_step, output.training_loss, seconds,
                       trainer.state.num_input_tokens_seen, dropped, summary)


def save_adapter(model: Any, tokenizer: Any, fmt: PromptFormat, adapter_dir: Path, *, recipe: Recipe,
                 base_identity: dict[str, Any], summary: dict[str, Any]) -> None:
    """Save a PEFT adapter plus everything srmzoo needs to use it without guessing.

    ``adapter_config.json`` + ``adapter_model.safetensors`` (plain PEFT), the tokenizer with the chat
    template the adapter was trained with, ``srmzoo_prompt.json`` and ``srmzoo_adapter.json`` (entry,
    domain, base identity, training summary).
    """
    adapter_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    fmt.save(adapter_dir)
    meta = {
        "entry": recipe.name,
        "domain": recipe.domain,
        "base": base_identity,
        "lora": recipe.to_dict()["lora"],
        "training": summary,
        "srmzoo_version": _version(),
    }
    (adapter_dir / ADAPTER_META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def _version() -> str:
    from . import __version__

    return __version__


def _hardware() -> str:
    """What a run ran on, for summaries and model cards, e.g. ``CPU AMD EPYC (x86_64, 2 cores, AVX2,
    no native bf16), torch threads=2``."""
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    name, simd = platform.processor() or platform.machine(), ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        name = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
        flags = set(next(line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")))
        simd = ", " + ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")
        simd += ", native bf16" if cpu_has_fast_bf16() else ", no native bf16"
    except (OSError, StopIteration):
        pass
    return f"CPU {name} ({platform.machine()}, {os.cpu_count()} cores{simd}), torch threads={torch.get_num_threads()}"


# -------------------------------------------------------------------------------------------------- dry run


def estimate(recipe: Recipe, *, examples: int | None = None, mean_tokens: float | None = None) -> dict[str, Any]:
    """Trainable parameters, memory and time for a recipe, from the base's architecture config alone.

    Memory: weights (bytes per parameter by dtype/quantization) + LoRA weights, gradients and AdamW state
    + activations for one micro-batch (the Korthikanti et al. per-layer estimate, 16-bit, no recomputation
    unless gradient checkpointing) + fp32 logits and their gradient. Time: 6·N·tokens FLOPs at an assumed
    sustained rate, stated in the result.
    """
    from .bases import base_config, get_base_spec

    spec = get_base_spec(recipe.model.base)
    cfg = base_config(spec.name)
    h, inter, layers, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads = cfg["num_attention_heads"]
    kv_dim = cfg.get("num_key_value_heads", heads) * cfg.get("head_dim", h // heads)
    q_dim = heads * cfg.get("head_dim", h // heads)
    r = recipe.lora.r
    # LoRA on every linear layer of each block: q, k, v, o, gate, up, down
    shapes = [(h, q_dim), (h, kv_dim), (h, kv_dim), (q_dim, h), (h, inter), (h, inter), (inter, h)]
    lora_params = layers * sum(r * (a + b) for a, b in shapes)
    params = spec.params
    bytes_per = {"nf4": 0.55, "int8": 1.05}.get(recipe.model.quantize or "")
    if bytes_per is None:
        bytes_per = 4 if recipe.model.dtype in ("auto", "float32", "fp32") and not spec.gpu_scale else 2
    seq = recipe.data.max_length
    micro = recipe.train.batch_size
    tokens_per_micro = seq * micro
    act_per_layer = tokens_per_micro * h * 34 + 5 * heads * micro * seq * seq * 2
    activations = (layers if not recipe.train.gradient_checkpointing else 1) * act_per_layer
    activations += layers * tokens_per_micro * h * 2 if recipe.train.gradient_checkpointing else 0
    logits = tokens_per_micro * vocab * 4 * 2
    memory = {
        "weights_gb": params * bytes_per / 1e9,
        "lora_and_optimizer_gb": lora_params * 16 / 1e9,
        "activations_gb": activations / 1e9,
        "logits_gb": logits / 1e9,
    }
    memory["total_gb"] = sum(memory.values())
    n_examples = examples if examples is not None else recipe.data.train_size
    per_example = mean_tokens if mean_tokens is not None else seq / 2
    tokens = n_examples * per_example * recipe.train.epochs
    if recipe.train.max_steps > 0:
        tokens = min(tokens, recipe.train.max_steps * micro * recipe.train.grad_accum * seq)
    flops = 6 * params * tokens
    if spec.gpu_scale:
        rate, assumption = 312e12 * 0.35, "one A100-class GPU (312 TFLOP/s bf16) at 35% utilisation"
    elif cpu_has_fast_bf16():
        rate, assumption = 2370e9 * 0.2, "2 CPU cores with AMX bf16 (2.37 TFLOP/s peak) at 20% utilisation"
    else:  # measured: SmolLM2-135M LoRA trains at ~100 tokens/s in fp32 on 2 AVX2 cores = 6·N·100 FLOP/s
        rate, assumption = 80e9, "2 CPU cores in fp32 (no native bf16) at 80 GFLOP/s counted as 6·N·tokens"
    return {
        "base": spec.name,
        "base_params": params,
        "trainable_params": lora_params,
        "trainable_percent": round(100 * lora_params / params, 3),
        "memory": {k: round(v, 2) for k, v in memory.items()},
        "tokens": int(tokens),
        "estimated_hours": round(flops / rate / 3600, 2),
        "time_assumption": assumption,
        "steps": math.ceil(n_examples * recipe.train.epochs / (micro * recipe.train.grad_accum)),
    }


def dry_run(recipe: Recipe, *, max_steps: int | None = None) -> dict[str, Any]:
    """Validate a recipe end to end without training: base, domain, data, lengths, cost.

    The base's architecture comes from its config (shipped for Hub-only bases), so this works offline for
    every entry. Token counts use the base's own tokenizer when it is available here, else the cached
    SmolLM2 tokenizer, else 4 characters per token (said in the report).
    """
    import dataclasses

    from .bases import get_base_spec, resolve_base

    spec = get_base_spec(recipe.model.base)
    domain = get_domain(recipe.domain)
    domain.check_families(recipe.data.families)
    domain.check_trace_style(recipe.data.traces, recipe.data.tools)
    examples = domain.examples("train", recipe.data.train_size, seed=recipe.data.seed, families=recipe.data.families)
    tokenizer, counted_with = None, "4 characters per token"
    for candidate in (recipe.model.base, "smollm2-135m-instruct"):
        try:
            from transformers import AutoTokenizer

            if candidate == recipe.model.base and spec.gpu_scale:
                continue  # do not start a multi-GB Hub download from a dry run
            tokenizer = AutoTokenizer.from_pretrained(resolve_base(candidate, path=recipe.model.path
                                                                   if candidate == recipe.model.base else None).path)
            counted_with = f"the {candidate} tokenizer"
            break
        except SrmzooError:
            continue
    if tokenizer is not None:
        fmt = build_prompt_format(recipe, tokenizer)
        rows, dropped = tokenize_examples(examples, tokenizer, fmt, recipe.data.max_length, domain=domain,
                                      traces=recipe.data.traces)
        lengths = [len(r["input_ids"]) for r in rows]
        targets = [sum(r["completion_mask"]) for r in rows]
    else:
        chars = [len(recipe.data.system_prompt or domain.system_prompt) + len(e.question) + len(e.solution) for e in examples]
        lengths = [c // 4 for c in chars if c // 4 <= recipe.data.max_length]
        targets = [len(e.solution) // 4 for e in examples][: len(lengths)]
        dropped = len(examples) - len(lengths)
    if max_steps is not None:
        recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, max_steps=max_steps))
    mean_len = sum(lengths) / max(1, len(lengths))
    cost = estimate(recipe, examples=len(lengths), mean_tokens=mean_len)
    report: dict[str, Any] = {
        "recipe": recipe.source,
        "entry": recipe.name,
        "domain": domain.name,
        "stages": list(recipe.stages),
        "families": list(recipe.data.families or domain.families),
        "base": {"name": spec.name, "hub_id": spec.hub_id, "license": spec.license, "params": spec.params},
        "data": {
            "examples": len(lengths),
            "dropped_over_max_length": dropped,
            "mean_tokens": round(mean_len, 1),
            "max_tokens": max(lengths, default=0),
            "mean_target_tokens": round(sum(targets) / max(1, len(targets)), 1),
            "counted_with": counted_with,
        },
        **{k: v for k, v in cost.items() if k not in ("base", "base_params")},
    }
    start = "the sft stage's" if recipe.stages[0] == "sft" else str(_dry_run_start(recipe))
    if "rft" in recipe.stages:
        r = recipe.rft
        report["rft"] = {
            "start_adapter": start,
            "rounds": r.rounds,
            "sampled_completions_per_round": r.problems * r.samples,
            "max_generated_tokens_per_round": r.problems * r.samples * r.max_new_tokens,
            "max_kept_per_round": r.problems * r.keep_per_problem,
        }
    if "grpo" in recipe.stages:
        from .grpo import reward_functions

        g = recipe.grpo
        reward_functions(g.rewards)  # an unknown reward fails here, not after loading the model
        report["grpo"] = {
            "start_adapter": "the rft stage's" if "rft" in recipe.stages else start,
            "steps": g.steps,
            "completions": g.steps * g.batch_size,
            "max_generated_tokens": g.steps * g.batch_size * g.max_completion_length,
            "rewards": dict(zip(g.rewards, g.reward_weights or [1.0] * len(g.rewards), strict=True)),
        }
    if recipe.stages[0] != "sft":  # no SFT: its data, cost and steps describe nothing that runs
        for key in ("data", "tokens", "estimated_hours", "steps"):
            report.pop(key, None)
    return report


def _dry_run_start(recipe: Recipe) -> Path:
    from .store import find_adapter

    start = find_adapter(recipe.model.adapter)
    _check_start_adapter(recipe, start)
    return start
