"""Writing numbers the way people say them, for question sets phrased like a person asking (the ``natural``
splits): "twenty-five", "one and a half".

Domains pick, per number, whether to write it in digits or in words; these functions only spell.
"""

from __future__ import annotations

from fractions import Fraction

from .errors import SrmzooError

__all__ = ["number_words", "quantity_words"]

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
