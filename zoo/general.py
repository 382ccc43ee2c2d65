"""General prompts answered by the base itself: a replay slice against forgetting, and the probe that measures it.

A LoRA trained on one narrow domain drifts on everything else (coding-135m lowered HumanEval below its base).
Two remedies are field practice: mix a slice of the base's own answers to general prompts into training
(``data.general_size``; the replies: :mod:`srmzoo.backends.replies`), and measure the drift on general prompts the training never saw
(``srmzoo forgetting``, :mod:`srmzoo.eval.forgetting`).

The prompts are everyday requests built from tasks x topics (:func:`general_prompts`): no dataset ships
offline for this, and a base's replies to its own prompts need no licence. Topics are split whole:
``train`` prompts (the replay slice) and ``heldout`` prompts (the probe) never share a topic, so the probe
measures drift, not memorised replies. The answers are the base's greedy replies in its own chat template
without a system prompt (how it answers when nobody steers it); replies cut off at the token limit are
dropped, since training on them would teach the adapter to stop mid-sentence.

>>> general_prompts("train", 2)
['Describe starting a journal in simple words.', 'Write a short paragraph about coral reefs.']
>>> set(TOPIC_SPLITS["train"]) & set(TOPIC_SPLITS["heldout"])
set()
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import SrmzooError, UnknownNameError

__all__ = ["GENERAL_FAMILY", "GENERAL_MAX_NEW_TOKENS", "GENERAL_SPLITS", "TOPIC_SPLITS", "general_prompts",
           "prompts_sha256", "replies_cache"]

GENERAL_FAMILY = "general"
# SmolLM2-135M finished 39 of the first 100 training prompts within 160 tokens (medical-135m-varied-general's
# run); the rest are dropped, not trained on cut off
GENERAL_MAX_NEW_TOKENS = 160
GENERAL_SPLITS = ("train", "heldout")

# Each task reads naturally with any topic; {t} is the topic.
TASKS = (
    "Explain {t} to a ten-year-old.",
    "Give me three useful facts about {t}.",
    "What should a beginner know about {t}?",
    "Write a short paragraph about {t}.",
    "What is the most interesting thing about {t}?",
    "Summarise what you know about {t} in two sentences.",
    "Write a four-line poem about {t}.",
    "What is a common misconception about {t}?",
    "My friend asked me about {t}. What should I tell them?",
    "List a few questions people often ask about {t}.",
    "Why do people care about {t}?",
    "Describe {t} in simple words.",
)

# Topics as they read after "about"/"for"; the two splits share none.
TOPIC_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "how a bicycle works", "keeping houseplants alive", "learning a new language", "saving money",
        "writing a cover letter", "the water cycle", "baking bread", "planning a trip", "recycling",
        "public speaking", "the history of the printing press", "training a puppy", "getting better sleep",
        "volcanoes", "chess openings", "growing tomatoes", "making friends in a new city", "time management",
        "how rainbows form", "camping in the rain", "the solar system", "choosing a laptop", "composting",
        "the Roman Empire", "learning to swim", "honey bees", "writing a thank-you note", "birdwatching",
        "how airplanes fly", "organising a closet", "jazz music", "winter driving", "the moon's phases",
        "brewing coffee", "starting a journal", "how tides work", "knitting", "the Olympic Games",
        "fixing a flat tyre", "desert animals", "photography for beginners", "how libraries work",
        "making a budget", "the northern lights", "cooking rice", "learning the guitar", "earthquakes",
        "renting a first apartment", "coral reefs", "preparing for a job interview",
    ),
    "heldout": (
        "how a refrigerator works", "keeping a vegetable garden", "learning to draw", "paying off a loan",
        "writing a short story", "how clouds form", "making pancakes", "moving to a new house", "saving energy at home",
        "staying calm before an exam", "the history of the telephone", "caring for a cat", "waking up early",
        "glaciers", "playing the piano", "painting a room", "starting a book club", "working from home",
        "how thunderstorms form", "hiking safely", "the planet Mars", "choosing a bicycle", "reducing food waste",
        "ancient Egypt",
    ),
}


def general_prompts(split: str, n: int, *, seed: int = 0) -> list[str]:
    """``n`` distinct general prompts of ``split`` (``train`` or ``heldout``), deterministic in ``seed``.

    The first prompts of every seed cover the topics before any topic repeats; asking for more than the
    split holds (tasks x topics) is refused.

    >>> len(set(general_prompts("heldout", 50, seed=3)))
    50
    """
    if split not in GENERAL_SPLITS:
        raise UnknownNameError("general-prompt split", split, GENERAL_SPLITS)
    topics = TOPIC_SPLITS[split]
    capacity = len(topics) * len(TASKS)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= capacity:
        raise SrmzooError(f"cannot draw {n!r} {split} general prompts: the split holds {capacity} "
                          f"({len(topics)} topics x {len(TASKS)} tasks)", hint=f"ask for 0 to {capacity}")
    rng = random.Random(f"general:{split}:{seed}")
    # round-robin over a shuffled topic order, a fresh shuffled task order per topic
    task_orders = [rng.sample(range(len(TASKS)), len(TASKS)) for _ in topics]
    order = rng.sample(range(len(topics)), len(topics))
    prompts = [TASKS[task_orders[t][round_]].format(t=topics[t]) for round_ in range(len(TASKS)) for t in order]
    return prompts[:n]


def prompts_sha256(prompts: Sequence[str]) -> str:
    """The sha256 of the prompts as JSON Lines (what a manifest records)."""
    text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in prompts)
    return hashlib.sha256(text.encode()).hexdigest()


def replies_cache(base_identity: dict[str, Any], prompts: Sequence[str], max_new_tokens: int) -> Path:
    """Where :func:`base_replies` keeps one base's replies to these prompts: srmzoo's cache, keyed by the
    base's recorded identity (its weights' sha256 or revision), the prompts and the token limit."""
    from .bases import cache_dir

    identity = hashlib.sha256(json.dumps(base_identity, sort_keys=True, default=str).encode()).hexdigest()[:12]
    name = str(base_identity.get("name") or "base").replace("/", "--")
    return cache_dir() / "general" / f"{name}-{identity}-{prompts_sha256(prompts)[:12]}-{max_new_tokens}.json"
