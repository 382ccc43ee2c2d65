"""One error type for everything a user can get wrong, each naming the problem and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["SrmzooError", "UnknownNameError", "close_names"]


class SrmzooError(Exception):
    """A user-facing error: ``str(err)`` is the whole message, problem first, then how to fix it.

    The CLI prints these without a traceback and exits with status 2.

    >>> str(SrmzooError("recipe not found: x.yaml", hint="check the path"))
    'recipe not found: x.yaml\\n  hint: check the path'
    """

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")


def close_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``name`` (case-insensitive), best first.

    >>> close_names("smollm-135m", ["smollm2-135m-instruct", "gemma-3-270m"])
    ['smollm2-135m-instruct']
    """
    known = list(known)
    lowered = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    substring = [k for k in known if name.lower() in k.lower() and k.lower() not in hits]
    return [lowered[h] for h in hits] + substring[: max(0, n - len(hits))]


def _plural(noun: str) -> str:
    """``family`` -> ``families``, ``base`` -> ``bases``: for the hints that list known names.

    >>> _plural("science family"), _plural("zoo entry"), _plural("base")
    ('science families', 'zoo entries', 'bases')
    """
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


class UnknownNameError(SrmzooError, KeyError):
    """An unknown registry name; the message lists the closest known names.

    >>> print(UnknownNameError("base", "gema-3-270m", ["gemma-3-270m", "smollm2-135m-instruct"]))
    unknown base 'gema-3-270m'; did you mean: gemma-3-270m?
      hint: known bases: gemma-3-270m, smollm2-135m-instruct
    """

    def __init__(self, kind: str, name: str, known: Iterable[str], *, hint: str | None = None):
        known = sorted(known)
        close = close_names(name, known)
        message = f"unknown {kind} {name!r}" + (f"; did you mean: {', '.join(close)}?" if close else "")
        SrmzooError.__init__(self, message, hint=hint or f"known {_plural(kind)}: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return Exception.__str__(self)
