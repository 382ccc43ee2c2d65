"""Writing numbers the way people say them, for question sets phrased like a person asking (the ``natural``
splits): "twenty-five", "one and a half".

Domains pick, per number, whether to write it in digits or in words; these functions only spell. For
training data, :func:`restyle_question` gives one templated question many surface forms (``data.phrasing:
varied``): openers, closers, the ask first or last, distractors, units spelled out, numbers in words.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import SrmzooError

__all__ = ["SurfaceForms", "number_words", "quantity_words", "restyle_question"]

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000, "million"), (1000, "thousand"), (100, "hundred"))


def number_words(n: int) -> str:
    """A whole number from 0 to 999,999,999 in English words (no "and": "one hundred five").

    Raises:
        SrmzooError: ``n`` is not an integer in that range.

    >>> number_words(0), number_words(42), number_words(1905), number_words(2500)
    ('zero', 'forty-two', 'one thousand nine hundred five', 'two thousand five hundred')
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 1_000_000_000:
        raise SrmzooError(
            f"number_words takes an integer from 0 to 999,999,999, got {n!r}",
            hint="write larger or fractional numbers in digits",
        )
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # every n >= 100 has a scale


_HALVES = {Fraction(1, 2): "a half", Fraction(1, 4): "a quarter", Fraction(3, 4): "three quarters"}


def quantity_words(value: float) -> str | None:
    """A count in words when people say it so (whole numbers, halves and quarters): ``1.5`` -> "one and a
    half", ``0.5`` -> "half"; None for a value not said that way (``2.3``, negatives, a billion or more).

    >>> quantity_words(1.5), quantity_words(0.5), quantity_words(3), quantity_words(0.75), quantity_words(2.3)
    ('one and a half', 'half', 'three', 'three quarters', None)
    """
    if value < 0 or value >= 1_000_000_000:
        return None
    exact = Fraction(value).limit_denominator(4)
    if abs(float(exact) - value) > 1e-9:
        return None
    whole, part = divmod(exact, 1)
    if not part:
        return number_words(int(whole))
    if part not in _HALVES:
        return None
    if not whole:
        return "half" if part == Fraction(1, 2) else _HALVES[part]
    return f"{number_words(int(whole))} and {_HALVES[part]}"


# ------------------------------------------------------------------------------------- training surface forms


@dataclass(frozen=True)
class SurfaceForms:
    """How a domain varies the surface of its training questions (``data.phrasing: varied``).

    Each restyled question draws one choice of each: an opener and a closer (a paraphrased request: "Quick
    question:", "Thanks!"), the order of its parts (the ask moved before or after the context), an irrelevant
    sentence (a distractor), units spelled out ("km/h" -> "kilometres per hour") and small whole numbers in
    words. The worked solution and the answer do not change: these are wordings of the same problem, so the
    solution still verifies.

    Attributes:
        openers: what may open the question ("" among them: none), each a whole sentence or ending in ":"
            and a space or newline, so the question after it keeps its capital.
        closers: what may close it ("" among them: none).
        distractors: irrelevant sentences, with ``{name}`` (a first name not in the question) and ``{k}`` (a
            small number) filled in; inserted between the context's sentences or paragraphs.
        units: (regular expression, replacement) pairs applied together, when the units form is drawn.
        number_words: write whole numbers from 0 to 99 in words (some of them, when the form is drawn).
        protect: a regular expression of spans no form may touch (code, SMILES, sequences, expressions).
        names: first names for the distractors' ``{name}``.
        p_distractor, p_units, p_words, p_move: how often each form is drawn.
    """

    openers: tuple[str, ...]
    closers: tuple[str, ...]
    distractors: tuple[str, ...] = ()
    units: tuple[tuple[str, str], ...] = ()
    number_words: bool = False
    protect: str | None = None
    names: tuple[str, ...] = ("Sam", "Alex", "Jordan", "Riley", "Casey", "Morgan", "Taylor", "Jamie")
    p_distractor: float = 0.4
    p_units: float = 0.5
    p_words: float = 0.5
    p_move: float = 0.4


_CODE_BLOCK = r"```.*?```"
# a protected span's place holder: NUL, a private-use character numbering it (no digit that a form could
# spell out), NUL
_SLOT_BASE = 0xE000
_SLOT_RE = re.compile("\x00(.)\x00", re.S)
# a whole number from 0 to 99 standing alone: not a digit of a longer number, a decimal, a money amount, a
# percentage, a time, a ratio or part of a word or hyphenated compound
_SMALL_NUMBER = re.compile(r"(?<![\w.$,/\-:^])(\d{1,2})(?![\w/%:^\-]|[.,]\d)")
_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z$\"'\x00])")


def _mask(text: str, pattern: str | None) -> tuple[str, list[str]]:
    """``text`` with each span of ``pattern`` (and every fenced code block) replaced by a numbered slot."""
    kept: list[str] = []

    def slot(m: re.Match) -> str:
        kept.append(m.group(0))
        return f"\x00{chr(_SLOT_BASE + len(kept) - 1)}\x00"

    text = re.sub(_CODE_BLOCK, slot, text, flags=re.S)
    if pattern:
        text = re.sub(pattern, slot, text)
    return text, kept


def _unmask(text: str, kept: list[str]) -> str:
    return _SLOT_RE.sub(lambda m: kept[ord(m.group(1)) - _SLOT_BASE], text)


def _parts(text: str) -> tuple[list[str], str]:
    """The question's parts (paragraphs, else lines, else sentences) and what joins them."""
    for sep in ("\n\n", "\n"):
        if sep in text.strip():
            return text.strip().split(sep), sep
    return _SENTENCE.split(text.strip()), " "


def _move_ask(parts: list[str]) -> list[str] | None:
    """The parts with the ask moved to the other end: a last part that asks (has a "?") to the front, else a
    first part that asks (or ends in ":") to the back; None when there is no ask to move."""
    if len(parts) < 2:
        return None
    if "?" in parts[-1] and "?" not in parts[0]:
        return [parts[-1], *parts[:-1]]
    head = parts[0].rstrip()
    if "?" in head or head.endswith(":"):
        moved = head[:-1] + "." if head.endswith(":") else head
        return [*parts[1:], moved]
    return None


def _capitalise(text: str) -> str:
    """Capitalise the first letter of the text and of each sentence (after a number became a word)."""
    return re.sub(r"(^|[.?!]\s+|\n)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def restyle_question(question: str, rng: random.Random, forms: SurfaceForms) -> tuple[str, dict[str, Any]]:
    r"""One varied wording of ``question`` and the forms drawn (for manifests and tests).

    The same ``rng`` state gives the same wording. Spans ``forms.protect`` matches, and fenced code blocks,
    are never changed.

    >>> forms = SurfaceForms(openers=("Quick question: ",), closers=(" Thanks!",), number_words=True,
    ...                      p_words=1.0, p_move=1.0, p_distractor=0.0, p_units=0.0)
    >>> restyle_question("Ava has 3 cats. How many legs do they have?", random.Random(0), forms)[0]
    'Quick question: How many legs do they have? Ava has three cats. Thanks!'
    """
    text, kept = _mask(question, forms.protect)
    form: dict[str, Any] = {
        "opener": 0,
        "closer": 0,
        "moved": False,
        "distractor": False,
        "units": False,
        "words": False,
    }
    if forms.units and rng.random() < forms.p_units:
        changed = text
        for pattern, replacement in forms.units:
            changed = re.sub(pattern, replacement, changed)
        form["units"] = changed != text
        text = changed
    if forms.number_words and rng.random() < forms.p_words:

        def spell(m: re.Match) -> str:
            return number_words(int(m.group(1))) if rng.random() < 0.8 else m.group(1)

        changed = _SMALL_NUMBER.sub(spell, text)
        form["words"] = changed != text
        text = changed
    parts, sep = _parts(text)
    if rng.random() < forms.p_move:
        moved = _move_ask(parts)
        if moved is not None:
            parts, form["moved"] = moved, True
    if forms.distractors and rng.random() < forms.p_distractor:
        name = rng.choice([n for n in forms.names if n not in question] or list(forms.names))
        sentence = rng.choice(forms.distractors).format(name=name, k=rng.randint(2, 12))
        # between context parts, never after the last one (the ask or the code stays at its end)
        at = rng.randint(1, len(parts) - 1) if len(parts) > 1 else 0
        parts = [*parts[:at], sentence, *parts[at:]]
        form["distractor"] = True
    text = sep.join(parts)
    if sep == " ":
        text = _capitalise(text)
    form["opener"] = rng.randrange(len(forms.openers))
    form["closer"] = rng.randrange(len(forms.closers))
    opener, closer = forms.openers[form["opener"]], forms.closers[form["closer"]]
    if closer and text.endswith("\x00") and kept[ord(text[-2]) - _SLOT_BASE].startswith("```"):
        closer = "\n" + closer.lstrip()  # not on the closing fence of a code block
    text = _unmask(f"{opener}{text}{closer}", kept)
    return text, form
