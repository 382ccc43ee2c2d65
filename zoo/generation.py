"""Batched generation with the chat template applied: the one way srmzoo talks to a model."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .prompting import PromptFormat

__all__ = ["GenerationStats", "chat", "generate"]

log = logging.getLogger(__name__)


@dataclass
class GenerationStats:
    """Counts from one :func:`generate` call."""

    prompts: int = 0
    new_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds else 0.0


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 256,
    batch_size: int = 16,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    num_return_sequences: int = 1,
    progress: bool = False,
    stats: GenerationStats | None = None,
) -> list[list[str]]:
    """Complete rendered prompts in batches; returns, per prompt, its ``num_return_sequences`` completions.

    Prompts are sorted by length so that each batch pads little, left-padded (decoder-only models continue
    from the right), and returned in the caller's order. Special tokens are stripped from the output.
    """
    import torch
    from tqdm.auto import tqdm

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    results: list[list[str]] = [[] for _ in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    sample_kwargs = {"temperature": temperature, "top_p": top_p} if do_sample else {}
    started = time.perf_counter()
    bar = tqdm(total=len(prompts), desc="generating", unit="prompt", disable=not progress)
    try:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(device)
            with torch.inference_mode():
                out = model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    do_sample=do_sample,
                    num_return_sequences=num_return_sequences,
                    pad_token_id=tokenizer.pad_token_id,
                    **sample_kwargs,
                )
            new = out[:, batch["input_ids"].shape[1] :]
            if stats is not None:
                stats.new_tokens += int((new != tokenizer.pad_token_id).sum())
            texts = tokenizer.batch_decode(new, skip_special_tokens=True)
            for j, i in enumerate(idx):
                results[i] = texts[j * num_return_sequences : (j + 1) * num_return_sequences]
            bar.update(len(idx))
            if progress and stats is not None:
                bar.set_postfix(tok_s=f"{stats.new_tokens / (time.perf_counter() - started):.0f}")
    finally:
        tokenizer.padding_side = side
        bar.close()
    if stats is not None:
        stats.prompts += len(prompts)
        stats.seconds += time.perf_counter() - started
    return results


def chat(
    model: Any,
    tokenizer: Any,
    message: str,
    *,
    prompt_format: PromptFormat | None = None,
    max_new_tokens: int = 256,
    stats: GenerationStats | None = None,
) -> str:
    """Answer one user message greedily, through the prompt format's chat template."""
    fmt = prompt_format or PromptFormat.for_tokenizer(tokenizer)
    prompt = fmt.render(tokenizer, fmt.messages(message))
    return generate(model, tokenizer, [prompt], max_new_tokens=max_new_tokens, batch_size=1, stats=stats)[0][0]
