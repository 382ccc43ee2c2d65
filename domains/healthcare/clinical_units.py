"""Unit conversions and number formatting used by the clinical calculation tasks.

Patient notes give measurements in the units clinicians write (pounds or kilograms, centimetres, inches
or feet and inches, creatinine in mg/dL or µmol/L, ...). Every conversion factor lives here, once, so the
gold values, the worked solutions and the prompts all use the same numbers:

* 1 lb = 0.4536 kg; 1 in = 2.54 cm; 1 ft = 12 in;
* creatinine: 1 mg/dL = 88.4 µmol/L (molar mass 113.12 g/mol);
* total bilirubin: 1 mg/dL = 17.1 µmol/L (molar mass 584.66 g/mol);
* total calcium: 1 mmol/L = 4.008 mg/dL (molar mass 40.08 g/mol);
* albumin: 1 g/dL = 10 g/L;
* urea: 1 mmol/L of urea = 2.8 mg/dL of blood urea nitrogen (two nitrogen atoms, 2 x 14.01 g/mol);
* temperature: °C = (°F - 32) x 5/9.
"""

from __future__ import annotations

import math

__all__ = [
    "BILIRUBIN_UMOL_PER_MG_DL",
    "CALCIUM_MG_DL_PER_MMOL_L",
    "CM_PER_IN",
    "CREATININE_UMOL_PER_MG_DL",
    "KG_PER_LB",
    "UREA_TO_BUN_MG_DL",
    "fahrenheit_from_celsius",
    "number",
    "round_half_up",
]

KG_PER_LB = 0.4536
CM_PER_IN = 2.54
CREATININE_UMOL_PER_MG_DL = 88.4
BILIRUBIN_UMOL_PER_MG_DL = 17.1
CALCIUM_MG_DL_PER_MMOL_L = 4.008
UREA_TO_BUN_MG_DL = 2.8


def fahrenheit_from_celsius(celsius: float) -> float:
    """Degrees Fahrenheit for a temperature in degrees Celsius.

    >>> fahrenheit_from_celsius(37.0)
    98.6
    """
    return round(celsius * 9 / 5 + 32, 6)


def round_half_up(value: float, decimals: int = 0) -> float:
    """Round halves away from zero (the clinical convention), not to even as Python's ``round`` does.

    >>> round_half_up(2.5), round(2.5)
    (3.0, 2)
    >>> round_half_up(-1.25, 1)
    -1.3
    """
    scale = 10**decimals
    # the 1e-9 nudge undoes binary representation error such as 1.15 -> 1.149999...
    return math.copysign(math.floor(abs(value) * scale + 0.5 + 1e-9) / scale, value)


def number(value: float, decimals: int = 1) -> str:
    """A value rounded half up to at most ``decimals`` places, without trailing zeros.

    Worked solutions use this for intermediate values, so they read ``80 kg`` rather than ``80.0 kg``.

    >>> number(79.8336), number(80.0), number(1.70180, 3), number(-0.04)
    ('79.8', '80', '1.702', '0')
    """
    rounded = round_half_up(value, decimals)
    text = f"{rounded:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
