"""A model's own replies to general prompts (:mod:`srmzoo.general`): the replay slice's solutions
(``data.general_size``) and the forgetting probe's references, generated greedily and cached."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..domain import Example
from ..errors import SrmzooError
from ..general import GENERAL_FAMILY, GENERAL_MAX_NEW_TOKENS, general_prompts, prompts_sha256, replies_cache

__all__ = ["base_replies", "general_examples"]


def base_replies(model: Any, tokenizer: Any, prompts: Sequence[str], *, max_new_tokens: int = GENERAL_MAX_NEW_TOKENS,
                 batch_size: int = 16, progress: bool = True, cache: Path | None = None) -> list[str | None]:
    """The model's greedy reply to each prompt in the tokenizer's own chat template (no system prompt);
    None where the reply ran into ``max_new_tokens`` (cut off).

    Call it with a PEFT model's adapter disabled to get the base's replies. ``cache`` (a JSON file) keeps
    the replies: generating them costs minutes on a CPU, and a rerun with the same cache file reuses them
    when the prompts and the token limit match.
    """
    from ..prompting import PromptFormat
    from .hf import generate

    key = {"prompts_sha256": prompts_sha256(prompts), "max_new_tokens": max_new_tokens}
    if cache is not None and cache.is_file():
        try:
            stored = json.loads(cache.read_text())
        except (OSError, ValueError):
            stored = {}
        if stored.get("key") == key and len(stored.get("replies", ())) == len(prompts):
            return stored["replies"]
    fmt = PromptFormat.for_tokenizer(tokenizer)
    rendered = [fmt.render(tokenizer, fmt.messages(p)) for p in prompts]
    was_training = model.training
    model.eval()
    try:
        replies = [c[0] for c in generate(model, tokenizer, rendered, max_new_tokens=max_new_tokens,
                                          batch_size=batch_size, progress=progress)]
    finally:
        model.train(was_training)
    # a reply that used the whole budget was cut off (the end-of-turn token never came)
    lengths = [len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in replies]
    out: list[str | None] = [r.strip() if n < max_new_tokens - 1 and r.strip() else None
                             for r, n in zip(replies, lengths, strict=True)]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "replies": out}, ensure_ascii=False))
    return out


def general_examples(model: Any, tokenizer: Any, n: int, *, seed: int = 0, split: str = "train",
                     max_new_tokens: int = GENERAL_MAX_NEW_TOKENS, batch_size: int = 16, progress: bool = True,
                     base_identity: dict[str, Any] | None = None) -> tuple[list[Example], dict[str, Any]]:
    """``n`` general prompts of ``split`` with the model's own finished replies as solutions (family
    ``general``), and what to record about them (prompts' sha256, replies kept and their sha256). With
    ``base_identity`` the replies are cached (:func:`replies_cache`)."""
    prompts = general_prompts(split, n, seed=seed)
    cache = replies_cache(base_identity, prompts, max_new_tokens) if base_identity is not None else None
    replies = base_replies(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                           progress=progress, cache=cache)
    examples = [Example(id=f"general/{split}/{i:05d}", family=GENERAL_FAMILY, question=p, answer="", solution=r)
                for i, (p, r) in enumerate(zip(prompts, replies, strict=True)) if r is not None]
    info = {"split": split, "prompts": n, "seed": seed, "prompts_sha256": prompts_sha256(prompts),
            "max_new_tokens": max_new_tokens, "replies_kept": len(examples),
            "replies_sha256": prompts_sha256([e.solution for e in examples])}
    if n and not examples:
        raise SrmzooError(f"the base finished none of its {n} replies within {max_new_tokens} tokens",
                          hint="the base may not be an instruct model; set data.general_size: 0 (train without the slice)")
    return examples, info
