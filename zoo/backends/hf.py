"""Batched generation with the chat template applied: the one way srmzoo talks to a model."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..prompting import PromptFormat
from ..tools import ToolCaller, tool_logits_processor

__all__ = ["GenerationStats", "chat", "generate"]

log = logging.getLogger(__name__)


@dataclass
class GenerationStats:
    """Counts from one :func:`generate` call."""

    prompts: int = 0
    new_tokens: int = 0
    seconds: float = 0.0
    tool_calls: int = 0
    tool_failures: int = 0

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
    stop_strings: Sequence[str] | None = None,
    tools: Sequence[str] = (),
    decoder: str = "pruned",
) -> list[list[str]]:
    """Complete rendered prompts in batches; returns, per prompt, its ``num_return_sequences`` completions.

    Prompts are sorted by length so that each batch pads little, left-padded (decoder-only models continue
    from the right), and returned in the caller's order. Special tokens are stripped from the output.
    A sequence stops at the end-of-turn token or, when given, at any of ``stop_strings`` (kept in the
    output); a batch ends when all its sequences have stopped.

    With ``tools`` (names from :data:`srmzoo.tools.TOOLS`), each call the model writes (``<<expr>>``) is
    answered as soon as it closes: the result's tokens are forced into the sequence (they count towards
    ``max_new_tokens``), greedy and sampled alike.

    ``decoder="pruned"`` (the default) decodes with :func:`greedy_decode`, which drops finished sequences
    from the batch and, when sampling k completions, encodes each prompt once; ``"generate"`` uses
    ``model.generate`` (kept as the baseline of ``bench/rl_generation.py``).
    """
    if decoder not in ("pruned", "generate"):
        raise ValueError(f"decoder must be 'pruned' or 'generate', got {decoder!r}")
    if num_return_sequences > 1 and not do_sample:
        raise ValueError("num_return_sequences > 1 needs do_sample=True (greedy completions would be identical)")
    pruned = decoder == "pruned"
    import torch
    from tqdm.auto import tqdm

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    results: list[list[str]] = [[] for _ in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    sample_kwargs = {"temperature": temperature, "top_p": top_p} if do_sample else {}
    if stop_strings:
        sample_kwargs |= {"stop_strings": list(stop_strings), "tokenizer": tokenizer}
    caller = ToolCaller(tokenizer, tools) if tools else None
    started = time.perf_counter()
    bar = tqdm(total=len(prompts), desc="generating", unit="prompt", disable=not progress)
    try:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(device)
            with torch.inference_mode():
                if pruned:
                    new = greedy_decode(
                        model, batch["input_ids"], batch["attention_mask"], max_new_tokens=max_new_tokens,
                        eos_token_ids=_eos_ids(model, tokenizer), stop_strings=stop_strings, tokenizer=tokenizer,
                        tool_caller=caller, temperature=temperature if do_sample else None, top_p=top_p,
                        num_return_sequences=num_return_sequences,
                    )
                else:
                    processors = (
                        [tool_logits_processor(caller, batch["input_ids"].shape[1])] if caller else []
                    )
                    out = model.generate(
                        **batch,
                        max_new_tokens=max_new_tokens,
                        do_sample=do_sample,
                        num_return_sequences=num_return_sequences,
                        pad_token_id=tokenizer.pad_token_id,
                        logits_processor=processors or None,
                        **sample_kwargs,
                    )
                    new = out[:, batch["input_ids"].shape[1] :].tolist()
                    new = [[t for t in row if t != tokenizer.pad_token_id] for row in new]
            if stats is not None:
                stats.new_tokens += sum(len(row) for row in new)
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
        if caller is not None:
            stats.tool_calls += caller.calls
            stats.tool_failures += caller.failed
    return results


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every token that ends a turn: the generation config's EOS id(s) and the tokenizer's."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = list(ids) if isinstance(ids, (list, tuple)) else [] if ids is None else [ids]
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return sorted(set(ids))


def greedy_decode(
    model: Any,
    input_ids: Any,
    attention_mask: Any,
    *,
    max_new_tokens: int,
    eos_token_ids: Sequence[int],
    stop_strings: Sequence[str] | None = None,
    tokenizer: Any = None,
    tool_caller: ToolCaller | None = None,
    temperature: float | None = None,
    top_p: float = 1.0,
    num_return_sequences: int = 1,
) -> list[list[int]]:
    """Greedy (or sampled) decoding with a KV cache that drops each sequence from the batch as soon as it ends.

    ``model.generate`` keeps a finished sequence in the batch, padding it, until the batch's longest one
    ends: with one rambling completion among 32 short ones, most of the compute is spent on padding. Here a
    sequence that emits an end token (kept in its output, as ``generate`` does) or one of ``stop_strings``
    leaves the batch, and its rows of the cache go with it (``Cache.batch_select_indices``), so the cost
    follows the tokens actually generated. Positions are counted past each row's left padding, as
    ``generate`` does, so the outputs are ``generate``'s greedy outputs.

    A ``tool_caller`` answers tool calls: the tokens it returns after a sequence's token are fed to that
    sequence, one per step, in place of its argmax.

    With a ``temperature``, each token is sampled from ``softmax(logits / temperature)`` (restricted to the
    smallest set of tokens whose probability reaches ``top_p``) with torch's global generator, and
    ``num_return_sequences`` samples are drawn per prompt: the prompt is encoded once and its cache
    repeated, so k samples cost one prefill, and each sample leaves the batch when it ends, which
    ``generate``'s sampling does not do.

    Returns, per sequence (prompt-major: prompt i's samples are rows ``i*k .. i*k+k-1``), its new token
    ids (the end token included when it stopped on one).
    """
    import torch
    from transformers import DynamicCache

    k = num_return_sequences
    if k > 1 and temperature is None:
        raise ValueError("num_return_sequences > 1 needs sampling (a temperature)")
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                cache=cache, use_cache=True, logits_to_keep=1)
    logits = out.logits[:, -1, :]
    next_pos = position_ids[:, -1] + 1
    mask = attention_mask
    if k > 1:  # one prefill per prompt, then k copies of its cache
        cache.batch_repeat_interleave(k)
        logits, next_pos, mask = (t.repeat_interleave(k, dim=0) for t in (logits, next_pos, mask))
    rows = logits.shape[0]
    alive = torch.arange(rows)
    eos = torch.tensor(list(eos_token_ids), dtype=torch.long, device=input_ids.device)
    generated: list[list[int]] = [[] for _ in range(rows)]
    longest = max((len(s) for s in stop_strings or ()), default=0)
    forced: dict[int, list[int]] = {}
    for step in range(max_new_tokens):
        token = _next_token(logits.float(), temperature, top_p)
        for j, row in enumerate(alive.tolist()):
            if forced.get(row):
                token[j] = forced[row].pop(0)
        done = torch.isin(token, eos)
        for j, (row, tok) in enumerate(zip(alive.tolist(), token.tolist(), strict=True)):
            generated[row].append(tok)
            if longest and not done[j]:
                tail = tokenizer.decode(generated[row][-longest - 8 :], skip_special_tokens=True)
                done[j] = any(stop in tail for stop in stop_strings)
            if tool_caller is not None and not done[j] and not forced.get(row):
                forced[row] = tool_caller.after(generated[row])
        if step == max_new_tokens - 1 or bool(done.all()):
            break
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            alive, token, mask, next_pos = alive[keep.cpu()], token[keep], mask[keep], next_pos[keep]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
        out = model(input_ids=token[:, None], attention_mask=mask, position_ids=next_pos[:, None],
                    cache=cache, use_cache=True)
        logits = out.logits[:, -1, :]
        next_pos = next_pos + 1
    return generated


def _next_token(logits: Any, temperature: float | None, top_p: float) -> Any:
    """Argmax, or a sample at ``temperature`` from the top-``top_p`` nucleus (as transformers' warpers do)."""
    import torch

    if temperature is None:
        return logits.argmax(-1)
    logits = logits / temperature
    if top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) >= top_p  # keep tokens until the mass reaches top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return torch.multinomial(logits.softmax(-1), 1).squeeze(-1)


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
