"""srmzoo: a zoo of domain-specialised small reasoning models.

>>> import srmzoo
>>> srmzoo.__version__
'0.1.0'

The public API is imported lazily, so ``import srmzoo`` stays fast and does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

_LAZY = {
    "load": "srmzoo.reasoner",
    "Reasoner": "srmzoo.reasoner",
    "Solution": "srmzoo.reasoner",
    "load_base": "srmzoo.bases",
    "resolve_base": "srmzoo.bases",
    "get_base_spec": "srmzoo.bases",
    "BASES": "srmzoo.bases",
    "PromptFormat": "srmzoo.prompting",
    "generate": "srmzoo.backends.hf",
    "chat": "srmzoo.backends.hf",
    "SrmzooError": "srmzoo.errors",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:
    from .backends.hf import chat, generate
    from .bases import BASES, get_base_spec, load_base, resolve_base
    from .errors import SrmzooError
    from .prompting import PromptFormat
    from .reasoner import Reasoner, Solution, load


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'srmzoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
