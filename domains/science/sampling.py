"""Deterministic randomness for the science generators: seeded from stable strings, never ``hash()``.

Python's ``hash()`` of a string is salted per process, so every seed and bucket here comes from SHA-256 of
a readable key such as ``"science/train/translation/0/17"``: the same key gives the same draws on every
machine and Python version.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["example_id", "stable_bucket", "stable_rng", "stable_shuffle"]

T = TypeVar("T")


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def stable_rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from the parts joined with ``/``.

    >>> stable_rng("science", "train", 3).random() == stable_rng("science", "train", 3).random()
    True
    """
    return random.Random(_digest("/".join(str(p) for p in parts)))


def stable_bucket(key: str, buckets: int = 100) -> int:
    """The bucket in ``range(buckets)`` that ``key`` hashes to, the same in every process.

    >>> stable_bucket("c1ccccc1")
    24
    """
    return _digest(key) % buckets


def stable_shuffle(items: Sequence[T], *parts: object) -> list[T]:
    """A copy of ``items`` in an order fixed by the parts (same parts, same order).

    >>> stable_shuffle([1, 2, 3, 4], "x") == stable_shuffle([1, 2, 3, 4], "x")
    True
    """
    out = list(items)
    stable_rng(*parts).shuffle(out)
    return out


def example_id(split: str, family: str, seed: int, index: int) -> str:
    """The stable id of a generated example; the seed appears only when it is not the default 0.

    >>> example_id("test", "gc_content", 0, 7)
    'science/test/gc_content/00007'
    >>> example_id("test", "gc_content", 2, 7)
    'science/test/gc_content/s2-00007'
    """
    tail = f"{index:05d}" if seed == 0 else f"s{seed}-{index:05d}"
    return f"science/{split}/{family}/{tail}"
