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
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..artifacts import (
    LOSS_CURVE_FILE,
    METRICS_FILE,
    RECIPE_FILE,
    TRAIN_SUMMARY_FILE,
    read_jsonl,
    save_adapter,
    write_json,
)
from ..backends.replies import general_examples
from ..domain import Domain, Example
from ..errors import SrmzooError
from ..hardware import describe_hardware, use_bf16
from ..plots import figure
from ..prompting import PromptFormat, prompt_completion_ids
from ..recipe import Recipe
from ..tools import annotate
from ..user_data import recipe_domain

log = logging.getLogger(__name__)

# train.report_to -> the package its transformers integration needs
TRACKER_PACKAGES = {"tensorboard": "tensorboard", "trackio": "trackio"}


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


def build_prompt_format(recipe: Recipe, tokenizer: Any, domain: Domain | None = None) -> PromptFormat:
    """The prompt format an entry trains and infers with: the base's template + the recipe's system prompt
    (``data.system_prompt``), else the domain's (``domain``, default: the recipe's)."""
    system_prompt = recipe.data.system_prompt or (domain or recipe_domain(recipe)).system_prompt
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
        prompt_ids, completion_ids = prompt_completion_ids(tokenizer, prompt_format, ex.question, with_calls(ex))
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


def load_model_for_training(recipe: Recipe):
    """Base (optionally quantized) + fresh LoRA adapter; returns (peft_model, tokenizer, resolved_base)."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from ..bases import default_device, load_base

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


def metrics_callback(run_dir: Path):
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


def plot_loss_curve(run_dir: Path, history: list[dict[str, Any]] | None = None) -> Path | None:
    """Draw ``loss_curve.png`` (training loss and learning rate against step) from a trainer's log history
    (``trainer.state.log_history``, which a resumed run restores from its checkpoint), else from the run's
    ``metrics.jsonl``; None when neither has a loss."""
    rows = [r for r in (history if history is not None else read_jsonl(run_dir / METRICS_FILE))
            if "loss" in r and "step" in r]
    if not rows and history is not None:
        rows = [r for r in read_jsonl(run_dir / METRICS_FILE) if "loss" in r]
    if not rows:
        return None
    steps = [r["step"] for r in rows]
    path = run_dir / LOSS_CURVE_FILE
    with figure(path, figsize=(6, 3.5)) as (_, ax):
        ax.plot(steps, [r["loss"] for r in rows], color="tab:blue", label="train loss (completion tokens)")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        if all("learning_rate" in r for r in rows):
            ax2 = ax.twinx()
            ax2.plot(steps, [r["learning_rate"] for r in rows], color="tab:orange", alpha=0.6, label="learning rate")
            ax2.set_ylabel("learning rate")
        ax.set_title(f"{run_dir.name}: training loss")
    return path


def report_to(recipe: Recipe) -> list[str]:
    """The trainers' ``report_to`` for ``train.report_to``: none, or the one tracker, checked to be installed.

    Raises:
        SrmzooError: the tracker's package is missing (it is not a dependency of srmzoo).
    """
    import importlib.util

    tracker = recipe.train.report_to
    if tracker == "none":
        return []
    package = TRACKER_PACKAGES[tracker]
    if importlib.util.find_spec(package) is None:
        raise SrmzooError(f"train.report_to: {tracker} needs the {package} package, which is not installed",
                          hint=f"pip install {package} (or pip install -e '.[track]'), or set train.report_to=none")
    return [tracker]


def tracker_args(recipe: Recipe) -> dict[str, Any]:
    """``report_to`` and the run's name for the trackers (trackio: project srmzoo, logged locally)."""
    args: dict[str, Any] = {"report_to": report_to(recipe), "run_name": recipe.name}
    if recipe.train.report_to == "trackio":
        args.update(project="srmzoo", trackio_static_space_id=False)
    return args


def training_args(recipe: Recipe, run_dir: Path, max_steps: int | None, progress: bool):
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
        **tracker_args(recipe),
        disable_tqdm=not progress,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )


def completion_only_trainer_class():
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


def rows_to_dataset(rows: list[dict[str, list[int]]]):
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
        saved = (run_dir / RECIPE_FILE).read_text()
        if saved != recipe.to_yaml():
            raise SrmzooError(f"the recipe differs from the one {run_dir} was started with",
                              hint=f"resume with the saved recipe: {run_dir / 'recipe.yaml'}")
    else:
        (run_dir / RECIPE_FILE).write_text(recipe.to_yaml())


def continue_training(model: Any, tokenizer: Any, fmt: PromptFormat) -> None:
    """Make a loaded adapter trainable again (its LoRA weights only) for a post-SFT stage."""
    for name, param in model.named_parameters():
        if "lora_" in name:
            param.requires_grad_(True)
    model.train()
    tokenizer.chat_template = fmt.chat_template


def _general_rows(recipe: Recipe, model: Any, tokenizer: Any, fmt: PromptFormat,
                  base_identity: dict[str, Any], progress: bool) -> tuple[list[dict[str, list[int]]], dict[str, Any]]:
    """The replay slice (``data.general_size``): general prompts with the base's own replies (the fresh
    adapter switched off), tokenised in the entry's prompt format. The replies are cached per base
    (:func:`srmzoo.general.replies_cache`): a resumed run, or another recipe on the same base, reuses them."""
    log.info("the base answers %d general prompts for the replay slice (data.general_size)", recipe.data.general_size)
    started = time.perf_counter()
    with model.disable_adapter():
        examples, info = general_examples(
            model, tokenizer, recipe.data.general_size, seed=recipe.data.seed, progress=progress,
            base_identity=base_identity)
    rows, dropped = tokenize_examples(examples, tokenizer, fmt, recipe.data.max_length, annotate_tools=False)
    info.update(base=base_identity.get("name"), examples=len(rows), dropped_examples=dropped,
                seconds=round(time.perf_counter() - started, 1))
    log.info("replay slice: %d of %d replies kept (%d cut off, %d too long)", len(rows), recipe.data.general_size,
             recipe.data.general_size - len(examples), dropped)
    return rows, info


def train_sft(
    recipe: Recipe,
    run_dir: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    callbacks: list[Any] | None = None,
    check_run_dir: bool = True,
    traces: list[Example] | None = None,
    traces_info: dict[str, Any] | None = None,
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
        traces: train on these instead of the domain's worked solutions: a teacher's verified completions
            (:mod:`srmzoo.train.distill`), which carry their tool calls as generated.
        traces_info: where ``traces`` came from, recorded in the training summary as ``distill``.
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
    domain = recipe_domain(recipe)
    examples = list(traces) if traces is not None else domain.training_examples(
        recipe.data.train_size, seed=recipe.data.seed, families=recipe.data.families, phrasing=recipe.data.phrasing)
    tracker_args(recipe)  # a missing tracker fails before the model loads
    model, tokenizer, resolved = load_model_for_training(recipe)
    fmt = build_prompt_format(recipe, tokenizer, domain)
    tokenizer.chat_template = fmt.chat_template
    rows, dropped = tokenize_examples(examples, tokenizer, fmt, recipe.data.max_length, domain=domain,
                                      traces=recipe.data.traces, annotate_tools=traces is None)
    if not rows:
        raise SrmzooError(f"every training example is longer than data.max_length={recipe.data.max_length}",
                          hint="raise data.max_length")
    if dropped:
        log.warning("dropped %d of %d examples longer than %d tokens", dropped, len(examples), recipe.data.max_length)
    general_info = None
    if recipe.data.general_size:
        general_rows, general_info = _general_rows(recipe, model, tokenizer, fmt, resolved.identity, progress)
        rows += general_rows

    trainer = completion_only_trainer_class()(
        model=model,
        args=training_args(recipe, run_dir, max_steps, progress),
        train_dataset=rows_to_dataset(rows),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding="longest", pad_to_multiple_of=8, label_pad_token_id=-100),
        processing_class=tokenizer,
        callbacks=[metrics_callback(run_dir), *(callbacks or [])],
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
        "hardware": describe_hardware(),
        "torch": torch.__version__,
    }
    if traces_info is not None:
        summary["distill"] = traces_info
    if general_info is not None:
        summary["general"] = general_info
    if trainer.is_world_process_zero():
        save_adapter(trainer.model, tokenizer, fmt, adapter_dir, recipe=recipe, base_identity=resolved.identity,
                     summary=summary, domain=domain)
        write_json(run_dir / TRAIN_SUMMARY_FILE, summary)
        plot_loss_curve(run_dir, trainer.state.log_history)
    return TrainResult(run_dir, adapter_dir, trainer.state.global_step, output.training_loss, seconds,
                       trainer.state.num_input_tokens_seen, dropped, summary)
