"""Clinical calculation tasks in the style of MedCalc-Bench: a short patient note, one calculator.

Each task is a note (age, sex, vitals, labs, history, in mixed units, with irrelevant details as
distractors) and a question naming the calculator, its conventions and the answer's unit and tolerance.
Its worked solution converts units, extracts the criteria, applies the formula with the arithmetic
spelled out, and ends with ``\\boxed{value}``. Formulas and their sources: :mod:`clinical_calculators`;
conversion factors: :mod:`clinical_units`.

Answers: scores (CHA2DS2-VASc, HAS-BLED, CURB-65, Wells, GCS, MELD-Na) and the anion gap (integer
inputs) are checked exactly; continuous values within a relative tolerance of 2%, except the corrected
calcium (absolute, 0.1 mg/dL). Each question states its unit, rounding and tolerance.

How the splits are kept apart, by construction:

1. **Seed streams.** Example ``index`` of ``family`` in ``split`` draws from
   ``random.Random("healthcare/<split>/<family>/<seed>/<index>")``: no two splits share a stream.
2. **Disjoint calculator inputs.** The inputs a note states for its calculator (values with their units,
   findings, e.g. ``{"weight": [176, "lb"], "height": [[5, 7], "ft-in"]}``) are hashed (BLAKE2b of their
   canonical JSON) into one of 20 buckets: train takes only inputs in buckets 0-15, test in 16-17, ood
   in 18-19; inputs in another split's bucket are redrawn from the same stream (before any note is
   written, so redraws are cheap). No input tuple can therefore appear in two splits, so no test or ood
   question equals a train question.
3. **Held-out phrasings for ood.** Train and test notes use the ``narrative`` and ``clipped`` styles and
   the seen wordings; ood notes use the ``structured`` and ``handover`` styles (other section orders:
   results first, the patient last), held-out wordings of every condition and finding (see
   :mod:`patient_notes`), and held-out question wordings (``Calculator.held_out_asks``).

Inputs whose answer would sit near a rounding tie (MELD-Na) are redrawn, so the integer answer is the
same whether computed exactly or from the rounded values the solution shows.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from srmzoo.domain import Example

from .clinical_calculators import (
    GCS_EYE,
    GCS_MOTOR,
    GCS_VERBAL,
    adjusted_body_weight,
    anion_gap,
    body_mass_index,
    body_surface_area,
    cha2ds2_vasc_points,
    corrected_calcium,
    creatinine_clearance,
    curb_65_points,
    glasgow_coma_points,
    has_bled_points,
    ideal_body_weight,
    maintenance_fluid_rate,
    mean_arterial_pressure,
    meld_na,
    qtc_bazett,
    qtc_fridericia,
    wells_pe_points,
)
from .clinical_units import (
    BILIRUBIN_UMOL_PER_MG_DL,
    CALCIUM_MG_DL_PER_MMOL_L,
    CM_PER_IN,
    CREATININE_UMOL_PER_MG_DL,
    KG_PER_LB,
    UREA_TO_BUN_MG_DL,
    fahrenheit_from_celsius,
    number,
    round_half_up,
)
from .patient_notes import (
    DISTRACTOR_CONDITIONS,
    DISTRACTOR_MEDICATIONS,
    HELD_OUT_STYLES,
    SEEN_STYLES,
    Measurement,
    PatientNote,
    render_note,
)

__all__ = [
    "CALCULATORS",
    "SPLIT_BUCKETS",
    "Calculator",
    "Case",
    "Inputs",
    "calculator_example",
    "input_bucket",
]

N_BUCKETS = 20
SPLIT_BUCKETS = {"train": range(0, 16), "test": range(16, 18), "ood": range(18, 20)}
MAX_DRAWS = 2000  # a draw lands in the wanted buckets with probability >= 0.1; 2000 misses are a bug


@dataclass(frozen=True)
class Case:
    """One patient written up for a calculator.

    Attributes:
        note: the facts the note states, inputs and distractors.
        value: the exact answer.
        steps: the worked solution's lines, before the boxed answer.
    """

    note: PatientNote
    value: float
    steps: list[str]


Inputs = dict[str, Any]


@dataclass(frozen=True)
class Calculator:
    """A calculator task family: how to ask, the conventions stated in the question, the answer's unit,
    rounding and tolerance, and how to make a case.

    ``sample`` draws the calculator's inputs as a note will state them (values with their units;
    JSON-able), or None to ask for a redraw; ``write`` turns those inputs into a case (note with
    distractors, answer, solution). Splitting the two keeps redraws cheap: only accepted inputs are
    written up.
    """

    name: str
    asks: tuple[str, ...]
    held_out_asks: tuple[str, ...]
    convention: str
    unit: str
    decimals: int
    rel_tol: float
    abs_tol: float
    sample: Callable[[random.Random], Inputs | None]
    write: Callable[[Inputs, random.Random], Case]

    def answer_text(self, value: float) -> str:
        """The canonical answer: fixed decimals for measurements, no trailing zeros for scores.

        >>> CALCULATORS["bmi"].answer_text(27.45), CALCULATORS["wells_pe"].answer_text(3.0)
        ('27.5', '3')
        """
        if self.rel_tol or self.abs_tol:
            return f"{round_half_up(value, self.decimals):.{self.decimals}f}"
        return number(value, self.decimals)

    def answer_spec(self) -> str:
        """The sentence of the question that states the answer's unit, rounding and tolerance.

        >>> CALCULATORS["corrected_calcium"].answer_spec()
        'Answer in mg/dL to 2 decimals (±0.1 mg/dL accepted).'
        """
        places = (
            f"{self.decimals} decimal{'s' if self.decimals != 1 else ''}"
            if self.decimals
            else "the nearest integer"
        )
        if self.rel_tol:
            return f"Answer in {self.unit} to {places} (±{self.rel_tol:.0%} accepted)."
        if self.abs_tol:
            return f"Answer in {self.unit} to {places} (±{number(self.abs_tol, 2)} {self.unit} accepted)."
        if self.unit:
            return f"Answer in {self.unit} (exact)."
        return "Answer with the total score (exact)."


# ----------------------------------------------------------------------------------------- distractors


def _temperature(rng: random.Random) -> Measurement:
    celsius = round(rng.uniform(36.0, 39.4), 1)
    if rng.random() < 0.5:
        return Measurement("temp", _lab(celsius), "°C")
    return Measurement("temp", _lab(fahrenheit_from_celsius(celsius)), "°F")


def _distractor_vitals(
    rng: random.Random, kinds: tuple[str, ...] = ("hr", "temp", "spo2")
) -> list[Measurement]:
    """One or two vital signs the calculator does not need."""
    make = {
        "hr": lambda: Measurement("hr", str(rng.randint(58, 118))),
        "rr": lambda: Measurement("rr", str(rng.randint(12, 26))),
        "temp": lambda: _temperature(rng),
        "spo2": lambda: Measurement("spo2", str(rng.randint(89, 100))),
    }
    return [make[k]() for k in sorted(rng.sample(kinds, rng.randint(1, 2)), key=kinds.index)]


def _distractor_labs(rng: random.Random, p: float) -> list[Measurement]:
    if rng.random() >= p:
        return []
    return [
        rng.choice(
            [
                lambda: Measurement("glucose", str(rng.randint(72, 260)), "mg/dL"),
                lambda: Measurement("glucose", _lab(rng.uniform(4.0, 14.0)), "mmol/L"),
                lambda: Measurement("hemoglobin", _lab(rng.uniform(8.5, 16.5)), "g/dL"),
                lambda: Measurement("wbc", _lab(rng.uniform(3.5, 18.0)), "x10^9/L"),
                lambda: Measurement("platelets", str(rng.randint(90, 420)), "x10^9/L"),
            ]
        )()
    ]


def _distractor_history(rng: random.Random, p: float = 0.5) -> list[str]:
    return [rng.choice(DISTRACTOR_CONDITIONS)] if rng.random() < p else []


def _distractor_meds(rng: random.Random, p: float = 0.4) -> list[str]:
    return [rng.choice(DISTRACTOR_MEDICATIONS)] if rng.random() < p else []


def _lab(value: float, decimals: int = 1) -> str:
    """A lab value as reports print it: at least one decimal ("1.0 mg/dL", not "1 mg/dL")."""
    text = number(value, decimals)
    return text if "." in text else f"{text}.0"


def _female(inputs: Inputs) -> bool:
    return inputs["sex"] == "female"


def _sex(rng: random.Random) -> str:
    return rng.choice(("female", "male"))


# ------------------------------------------------------------------------------- measured quantities


@dataclass(frozen=True)
class _Quantity:
    """A measurement as the note writes it, its value in canonical units, and the solution's line for it."""

    measurement: Measurement
    value: float
    shown: str  # the canonical value as the solution writes it
    step: str  # the conversion as a solution line (or just the value)


def _sample_weight(rng: random.Random, lo_kg: float, hi_kg: float) -> list[Any]:
    if rng.random() < 0.5:
        return [round(rng.uniform(lo_kg, hi_kg), rng.choice((0, 1))), "kg"]
    return [rng.randint(math.ceil(lo_kg / KG_PER_LB), math.floor(hi_kg / KG_PER_LB)), "lb"]


def _weight(written: list[Any]) -> _Quantity:
    value, unit = written
    if unit == "kg":
        text = number(value)
        return _Quantity(Measurement("weight", text, "kg"), value, text, f"Weight = {text} kg.")
    kg = value * KG_PER_LB
    step = f"Weight = {value} lb * {KG_PER_LB} = {number(kg)} kg."
    return _Quantity(Measurement("weight", str(value), "lb"), kg, number(kg), step)


def _sample_height(rng: random.Random, lo_in: int, hi_in: int) -> list[Any]:
    unit = rng.choice(("cm", "in", "ft-in"))
    if unit == "cm":
        return [rng.randint(math.ceil(lo_in * CM_PER_IN), math.floor(hi_in * CM_PER_IN)), "cm"]
    inches = rng.randint(lo_in, hi_in)
    return [inches, "in"] if unit == "in" else [list(divmod(inches, 12)), "ft-in"]


def _height(written: list[Any]) -> tuple[_Quantity, float]:
    """The height as a quantity in cm, and in inches."""
    value, unit = written
    if unit == "cm":
        return _Quantity(
            Measurement("height", str(value), "cm"), value, str(value), f"Height = {value} cm."
        ), (value / CM_PER_IN)
    if unit == "in":
        inches, measurement, said = value, Measurement("height", str(value), "in"), f"{value} in"
    else:
        feet, rest = value
        inches, measurement = feet * 12 + rest, Measurement("height", (feet, rest), "ft-in")
        said = f"{feet} ft {rest} in = {feet * 12 + rest} in"
    cm = inches * CM_PER_IN
    return _Quantity(measurement, cm, number(cm), f"Height = {said} * {CM_PER_IN} = {number(cm)} cm."), inches


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    """Lab values spread over orders of magnitude (bilirubin, creatinine in liver disease)."""
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _sample_creatinine(rng: random.Random, lo: float, hi: float, *, log: bool = False) -> list[Any]:
    mg_dl = _log_uniform(rng, lo, hi) if log else rng.uniform(lo, hi)
    if rng.random() < 0.6:
        return [round(mg_dl, rng.choice((1, 2))), "mg/dL"]
    return [round(mg_dl * CREATININE_UMOL_PER_MG_DL), "µmol/L"]


def _creatinine(written: list[Any]) -> _Quantity:
    value, unit = written
    if unit == "mg/dL":
        text = _lab(value, 2)
        return _Quantity(Measurement("creatinine", text, "mg/dL"), value, text, f"Creatinine = {text} mg/dL.")
    mg = value / CREATININE_UMOL_PER_MG_DL
    step = f"Creatinine = {value} µmol/L / {CREATININE_UMOL_PER_MG_DL} = {number(mg, 2)} mg/dL."
    return _Quantity(Measurement("creatinine", str(value), "µmol/L"), mg, number(mg, 2), step)


# -------------------------------------------------------------------------------------- measurements


def _sample_body(rng: random.Random) -> Inputs:
    return {"weight": _sample_weight(rng, 40, 160), "height": _sample_height(rng, 57, 79)}


def _write_bmi(inputs: Inputs, rng: random.Random) -> Case:
    weight, (height, _) = _weight(inputs["weight"]), _height(inputs["height"])
    metres = height.value / 100
    value = body_mass_index(weight.value, height.value)
    note = PatientNote(
        age=rng.randint(18, 90),
        female=rng.random() < 0.5,
        complaint=rng.choice(("a routine check-up", "knee pain", "a pre-operative assessment", "fatigue")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        body=[weight.measurement, height.measurement],
    )
    steps = [
        weight.step,
        f"{height.step[:-1]} = {number(metres, 3)} m.",
        f"BMI = {weight.shown} / {number(metres, 3)}^2 = {weight.shown} / {number(metres**2, 3)} = "
        f"{number(value)} kg/m^2.",
    ]
    return Case(note, value, steps)


def _write_bsa(inputs: Inputs, rng: random.Random) -> Case:
    weight, (height, _) = _weight(inputs["weight"]), _height(inputs["height"])
    value = body_surface_area(weight.value, height.value)
    note = PatientNote(
        age=rng.randint(18, 90),
        female=rng.random() < 0.5,
        complaint=rng.choice(("chemotherapy planning", "a pre-operative assessment", "a dosing review")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        body=[weight.measurement, height.measurement],
        labs=_distractor_labs(rng, 0.5),
    )
    product = height.value * weight.value / 3600
    steps = [
        weight.step,
        height.step,
        f"BSA = sqrt({height.shown} * {weight.shown} / 3600) = sqrt({number(product, 3)}) = {number(value, 2)} m^2.",
    ]
    return Case(note, value, steps)


def _sample_map(rng: random.Random) -> Inputs:
    dbp = rng.randint(40, 120)
    return {"sbp": rng.randint(max(80, dbp + 15), min(220, dbp + 110)), "dbp": dbp}


def _write_map(inputs: Inputs, rng: random.Random) -> Case:
    sbp, dbp = inputs["sbp"], inputs["dbp"]
    value = mean_arterial_pressure(sbp, dbp)
    note = PatientNote(
        age=rng.randint(18, 95),
        female=rng.random() < 0.5,
        complaint=rng.choice(("dizziness", "a headache", "a routine check-up", "sepsis")),
        history=_distractor_history(rng),
        vitals=[Measurement("bp", f"{sbp}/{dbp}")] + _distractor_vitals(rng, ("hr", "rr", "temp")),
        labs=_distractor_labs(rng, 0.4),
    )
    steps = [
        f"SBP = {sbp}, DBP = {dbp} mmHg.",
        f"MAP = {dbp} + ({sbp} - {dbp}) / 3 = {dbp} + {number((sbp - dbp) / 3)} = {number(value)} mmHg.",
    ]
    return Case(note, value, steps)


def _sample_anion_gap(rng: random.Random) -> Inputs | None:
    unit = rng.choice(("mmol/L", "mEq/L"))
    na, cl, hco3 = rng.randint(122, 152), rng.randint(88, 118), rng.randint(6, 34)
    if not 2 <= anion_gap(na, cl, hco3) <= 36:
        return None
    return {"sodium": [na, unit], "chloride": [cl, unit], "bicarbonate": [hco3, unit]}


def _write_anion_gap(inputs: Inputs, rng: random.Random) -> Case:
    (na, unit), (cl, _), (hco3, _) = inputs["sodium"], inputs["chloride"], inputs["bicarbonate"]
    value = anion_gap(na, cl, hco3)
    labs = [
        Measurement("sodium", str(na), unit),
        Measurement("potassium", _lab(rng.uniform(2.8, 6.2)), unit),
        Measurement("chloride", str(cl), unit),
        Measurement("bicarbonate", str(hco3), unit),
    ]
    rng.shuffle(labs)
    note = PatientNote(
        age=rng.randint(18, 92),
        female=rng.random() < 0.5,
        complaint=rng.choice(("vomiting", "weakness", "abdominal pain", "polyuria")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        labs=labs + _distractor_labs(rng, 0.5),
    )
    steps = [
        f"Na = {na}, Cl = {cl}, HCO3 = {hco3} mmol/L (potassium is not used).",
        f"AG = {na} - ({cl} + {hco3}) = {na} - {cl + hco3} = {number(value)} mmol/L.",
    ]
    return Case(note, value, steps)


def _sample_corrected_calcium(rng: random.Random) -> Inputs:
    calcium = (
        [round(rng.uniform(6.5, 11.5), 1), "mg/dL"]
        if rng.random() < 0.5
        else [round(rng.uniform(1.60, 2.90), 2), "mmol/L"]
    )
    albumin = (
        [round(rng.uniform(1.5, 5.0), 1), "g/dL"] if rng.random() < 0.5 else [rng.randint(15, 50), "g/L"]
    )
    return {"calcium": calcium, "albumin": albumin}


def _write_corrected_calcium(inputs: Inputs, rng: random.Random) -> Case:
    (calcium, ca_unit), (albumin, alb_unit) = inputs["calcium"], inputs["albumin"]
    if ca_unit == "mg/dL":
        ca_mg, ca_text = calcium, _lab(calcium)
        ca_step = f"Calcium = {ca_text} mg/dL."
    else:
        ca_mg, ca_text = calcium * CALCIUM_MG_DL_PER_MMOL_L, f"{calcium:.2f}"
        ca_step = f"Calcium = {ca_text} mmol/L * {CALCIUM_MG_DL_PER_MMOL_L} = {number(ca_mg, 2)} mg/dL."
    if alb_unit == "g/dL":
        alb_g_dl, alb_text = albumin, _lab(albumin)
        alb_step = f"Albumin = {alb_text} g/dL."
    else:
        alb_g_dl, alb_text = albumin / 10, str(albumin)
        alb_step = f"Albumin = {albumin} g/L / 10 = {number(alb_g_dl)} g/dL."
    value = corrected_calcium(ca_mg, alb_g_dl)
    correction = 0.8 * (4.0 - alb_g_dl)
    labs = [Measurement("calcium", ca_text, ca_unit), Measurement("albumin", alb_text, alb_unit)]
    labs += _distractor_labs(rng, 0.6)
    rng.shuffle(labs)
    note = PatientNote(
        age=rng.randint(18, 92),
        female=rng.random() < 0.5,
        complaint=rng.choice(("bone pain", "constipation", "fatigue", "muscle cramps")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        labs=labs,
    )
    steps = [
        ca_step,
        alb_step,
        f"Corrected Ca = {number(ca_mg, 2)} + 0.8 * (4.0 - {number(alb_g_dl)}) = {number(ca_mg, 2)} "
        f"{'+' if correction >= 0 else '-'} {number(abs(correction), 2)} = {number(value, 2)} mg/dL.",
    ]
    return Case(note, value, steps)


def _sample_qtc(rng: random.Random, fridericia: bool) -> Inputs | None:
    heart_rate, qt = rng.randint(45, 135), rng.randrange(300, 521, 2)
    value = qtc_fridericia(qt, heart_rate) if fridericia else qtc_bazett(qt, heart_rate)
    return {"qt": qt, "heart_rate": heart_rate} if 340 <= value <= 620 else None


def _write_qtc(inputs: Inputs, rng: random.Random, fridericia: bool) -> Case:
    qt, heart_rate = inputs["qt"], inputs["heart_rate"]
    value = qtc_fridericia(qt, heart_rate) if fridericia else qtc_bazett(qt, heart_rate)
    rr = 60 / heart_rate
    note = PatientNote(
        age=rng.randint(18, 92),
        female=rng.random() < 0.5,
        complaint=rng.choice(("palpitations", "syncope", "a medication review", "dizziness")),
        history=_distractor_history(rng),
        medications=_distractor_meds(rng),
        vitals=_distractor_vitals(rng, ("rr", "temp", "spo2")),  # no pulse: the ECG rate is the one to use
        ecg=[Measurement("ecg_hr", str(heart_rate)), Measurement("qt", str(qt))],
        labs=[Measurement("potassium", _lab(rng.uniform(3.0, 5.5)), "mmol/L")] if rng.random() < 0.4 else [],
    )
    root = rr ** (1 / 3) if fridericia else math.sqrt(rr)
    formula = f"{number(rr, 3)}^(1/3)" if fridericia else f"sqrt({number(rr, 3)})"
    steps = [
        f"RR = 60 / {heart_rate} = {number(rr, 3)} s.",
        f"QTc = {qt} / {formula} = {qt} / {number(root, 3)} = {number(value, 0)} ms.",
    ]
    return Case(note, value, steps)


def _sample_cockcroft_gault(rng: random.Random) -> Inputs:
    return {
        "age": rng.randint(18, 95),
        "sex": _sex(rng),
        "weight": _sample_weight(rng, 40, 150),
        "height": _sample_height(rng, 58, 78),  # stated but not used: the convention is actual body weight
        "creatinine": _sample_creatinine(rng, 0.5, 4.0),
    }


def _write_cockcroft_gault(inputs: Inputs, rng: random.Random) -> Case:
    age, female = inputs["age"], _female(inputs)
    weight, (height, _), creatinine = (
        _weight(inputs["weight"]),
        _height(inputs["height"]),
        _creatinine(inputs["creatinine"]),
    )
    value = creatinine_clearance(age, weight.value, creatinine.value, female)
    note = PatientNote(
        age=age,
        female=female,
        complaint=rng.choice(("a medication review", "leg swelling", "fatigue", "a urinary tract infection")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        body=[weight.measurement, height.measurement],
        labs=[creatinine.measurement] + _distractor_labs(rng, 0.5),
    )
    numerator = (140 - age) * float(weight.shown) * (0.85 if female else 1.0)
    denominator = 72 * float(creatinine.shown)
    steps = [
        f"Age {age}, {'female -> factor 0.85' if female else 'male -> factor 1'}.",
        f"{weight.step[:-1]} (actual body weight; height not needed).",
        creatinine.step,
        f"CrCl = (140 - {age}) * {weight.shown}{' * 0.85' if female else ''} / (72 * {creatinine.shown}) = "
        f"{number(numerator)} / {number(denominator, 2)} = {number(value)} mL/min.",
    ]
    return Case(note, value, steps)


def _ideal_weight_steps(written_height: list[Any], female: bool) -> tuple[float, list[str]]:
    value, unit = written_height
    _, inches = _height(written_height)
    if unit == "cm":
        step = f"Height = {value} cm / {CM_PER_IN} = {number(inches)} in."
    elif unit == "ft-in":
        step = f"Height = {value[0]} ft {value[1]} in = {number(inches)} in."
    else:
        step = f"Height = {number(inches)} in."
    ibw = ideal_body_weight(inches, female)
    base = "45.5" if female else "50"
    return ibw, [
        step,
        f"{'Female' if female else 'Male'}: IBW = {base} + 2.3 * ({number(inches)} - 60) = {base} + "
        f"{number(2.3 * (inches - 60))} = {number(ibw)} kg.",
    ]


def _sample_ideal_body_weight(rng: random.Random) -> Inputs:
    return {"sex": _sex(rng), "height": _sample_height(rng, 60, 79)}


def _write_ideal_body_weight(inputs: Inputs, rng: random.Random) -> Case:
    value, steps = _ideal_weight_steps(inputs["height"], _female(inputs))
    body = [_height(inputs["height"])[0].measurement, _weight(_sample_weight(rng, 45, 140)).measurement]
    rng.shuffle(body)  # the weight is a distractor here
    note = PatientNote(
        age=rng.randint(18, 90),
        female=_female(inputs),
        complaint=rng.choice(("ventilator setup", "a dosing review", "a pre-operative assessment")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        body=body,
    )
    return Case(note, value, steps)


def _sample_adjusted_body_weight(rng: random.Random) -> Inputs:
    return {"sex": _sex(rng), "height": _sample_height(rng, 60, 78), "weight": _sample_weight(rng, 70, 200)}


def _write_adjusted_body_weight(inputs: Inputs, rng: random.Random) -> Case:
    weight = _weight(inputs["weight"])
    ibw, steps = _ideal_weight_steps(inputs["height"], _female(inputs))
    value = adjusted_body_weight(weight.value, ibw)
    steps += [
        weight.step,
        f"ABW = {number(ibw)} + 0.4 * ({weight.shown} - {number(ibw)}) = {number(ibw)} + "
        f"{number(0.4 * (weight.value - ibw))} = {number(value)} kg.",
    ]
    note = PatientNote(
        age=rng.randint(18, 90),
        female=_female(inputs),
        complaint=rng.choice(("aminoglycoside dosing", "a dosing review", "obesity clinic follow-up")),
        history=_distractor_history(rng),
        vitals=_distractor_vitals(rng),
        body=[weight.measurement, _height(inputs["height"])[0].measurement],
    )
    return Case(note, value, steps)


_FLUID_BANDS = {"infant": (3, 10), "child": (10, 20), "older child": (20, 45), "adult": (45, 120)}


def _sample_maintenance_fluids(rng: random.Random) -> Inputs:
    return {"weight": _sample_weight(rng, *_FLUID_BANDS[rng.choice(tuple(_FLUID_BANDS))])}


def _write_maintenance_fluids(inputs: Inputs, rng: random.Random) -> Case:
    weight = _weight(inputs["weight"])
    kg, w = weight.value, weight.shown
    value = maintenance_fluid_rate(kg)
    # an age that fits the weight, so notes read plausibly (months for infants)
    if kg < 10:
        age, months = rng.randint(1, 11), True
    else:
        age, months = (
            (rng.randint(1, 5) if kg < 20 else rng.randint(6, 14) if kg < 45 else rng.randint(18, 85)),
            False,
        )
    if kg <= 10:
        rate = f"Rate = 4 * {w} = {number(value)} mL/h."
    elif kg <= 20:
        rate = f"Rate = 4 * 10 + 2 * ({w} - 10) = 40 + {number(2 * (kg - 10))} = {number(value)} mL/h."
    else:
        rate = (
            f"Rate = 4 * 10 + 2 * 10 + 1 * ({w} - 20) = 40 + 20 + {number(kg - 20)} = {number(value)} mL/h."
        )
    note = PatientNote(
        age=age,
        age_in_months=months,
        female=rng.random() < 0.5,
        complaint=rng.choice(
            ("dehydration", "gastroenteritis", "an admission for surgery", "poor oral intake")
        ),
        vitals=_distractor_vitals(rng),
        body=[weight.measurement],
        labs=_distractor_labs(rng, 0.4),
    )
    return Case(note, value, [weight.step, rate])


# -------------------------------------------------------------------------------------------- scores


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _sum_line(name: str, points: dict[str, float]) -> str:
    terms = [number(p) for p in points.values()]
    return f"{name} = {' + '.join(terms)} = {number(sum(points.values()))}."


_CHA2DS2_FLAGS = ("heart_failure", "hypertension", "stroke_or_tia", "vascular_disease", "diabetes")


def _sample_cha2ds2_vasc(rng: random.Random) -> Inputs:
    return {"age": rng.randint(40, 95), "sex": _sex(rng), **{k: rng.random() < 0.35 for k in _CHA2DS2_FLAGS}}


def _write_cha2ds2_vasc(inputs: Inputs, rng: random.Random) -> Case:
    age, female = inputs["age"], _female(inputs)
    flags = {k: inputs[k] for k in _CHA2DS2_FLAGS}
    history = [k for k in ("heart_failure", "hypertension", "diabetes") if flags[k]]
    history += [rng.choice(("stroke", "tia"))] if flags["stroke_or_tia"] else []
    history += (
        [rng.choice(("myocardial_infarction", "peripheral_artery_disease"))]
        if flags["vascular_disease"]
        else []
    )
    history += _distractor_history(rng, 0.4)
    rng.shuffle(history)
    absent = [k for k in ("diabetes", "hypertension", "heart_failure") if not flags[k]]
    note = PatientNote(
        age=age,
        female=female,
        complaint=rng.choice(
            ("new atrial fibrillation", "palpitations from atrial fibrillation", "an AF review")
        ),
        history=history,
        denied=rng.sample(absent, 1) if absent and rng.random() < 0.4 else [],
        medications=_distractor_meds(rng),
        vitals=_distractor_vitals(rng),
    )
    points = cha2ds2_vasc_points(age=age, female=female, **flags)
    age_rule = ">= 75" if age >= 75 else "65-74" if age >= 65 else "< 65"
    steps = [
        f"Age {age} ({age_rule}) -> {points['age']}. {'Female' if female else 'Male'} -> {points['female']}.",
        f"CHF {_yes(flags['heart_failure'])} -> {points['heart failure']}. Hypertension "
        f"{_yes(flags['hypertension'])} -> {points['hypertension']}. Diabetes {_yes(flags['diabetes'])} -> "
        f"{points['diabetes']}.",
        f"Stroke/TIA {_yes(flags['stroke_or_tia'])} -> {points['stroke/TIA']}. Vascular disease "
        f"{_yes(flags['vascular_disease'])} -> {points['vascular disease']}.",
        _sum_line("CHA2DS2-VASc", points),
    ]
    return Case(note, float(sum(points.values())), steps)


_HAS_BLED_FLAGS = ("renal", "liver", "stroke", "bleeding", "labile_inr", "drugs")


def _sample_has_bled(rng: random.Random) -> Inputs:
    # alcohol: unreported, under the threshold, over it, or exactly at it (>= 8 counts)
    alcohol = rng.choice((None, "under", "over", 8))
    alcohol = (
        rng.randint(0, 7) if alcohol == "under" else rng.randint(9, 20) if alcohol == "over" else alcohol
    )
    return {
        "age": rng.randint(40, 95),
        "systolic": rng.randint(110, 195),
        "alcohol_per_week": alcohol,
        **{k: rng.random() < 0.3 for k in _HAS_BLED_FLAGS},
    }


def _write_has_bled(inputs: Inputs, rng: random.Random) -> Case:
    age, systolic, alcohol = inputs["age"], inputs["systolic"], inputs["alcohol_per_week"]
    flags = {k: inputs[k] for k in _HAS_BLED_FLAGS}
    # a history of hypertension alone scores nothing: only a systolic > 160 does
    history = ["hypertension"] if systolic > 160 or rng.random() < 0.4 else []
    history += [rng.choice(("hemodialysis", "kidney_transplant"))] if flags["renal"] else []
    history += [
        key
        for key, flag in (
            ("cirrhosis", "liver"),
            ("stroke", "stroke"),
            ("major_bleeding", "bleeding"),
            ("labile_inr", "labile_inr"),
        )
        if flags[flag]
    ]
    history += _distractor_history(rng, 0.3)
    rng.shuffle(history)
    meds = ["warfarin"] + ([rng.choice(("aspirin", "clopidogrel", "nsaid"))] if flags["drugs"] else [])
    meds += _distractor_meds(rng, 0.3)
    note = PatientNote(
        age=age,
        female=rng.random() < 0.5,
        complaint=rng.choice(("atrial fibrillation on warfarin", "an anticoagulation review")),
        history=history,
        medications=meds,
        findings=[("alcohol", {"n": alcohol})] if alcohol is not None else [],
        vitals=[Measurement("bp", f"{systolic}/{rng.randint(60, min(110, systolic - 30))}")]
        + _distractor_vitals(rng, ("hr", "temp")),
    )
    points = has_bled_points(systolic=systolic, age=age, alcohol_per_week=alcohol or 0, **flags)
    if alcohol is None:
        alcohol_text = "alcohol not reported"
    else:
        alcohol_text = f"alcohol {alcohol} {'>=' if alcohol >= 8 else '<'} 8/week"
    steps = [
        f"H: SBP {systolic} {'>' if systolic > 160 else '<='} 160 -> {points['hypertension']}. "
        f"A: renal {_yes(flags['renal'])} -> {points['renal']}, liver {_yes(flags['liver'])} -> {points['liver']}.",
        f"S: stroke {_yes(flags['stroke'])} -> {points['stroke']}. B: bleeding {_yes(flags['bleeding'])} -> "
        f"{points['bleeding']}. L: labile INR {_yes(flags['labile_inr'])} -> {points['labile INR']}.",
        f"E: age {age} {'>' if age > 65 else '<='} 65 -> {points['elderly']}. D: antiplatelet/NSAID "
        f"{_yes(flags['drugs'])} -> {points['drugs']}, {alcohol_text} -> {points['alcohol']}.",
        _sum_line("HAS-BLED", points),
    ]
    return Case(note, float(sum(points.values())), steps)


def _sample_curb_65(rng: random.Random) -> Inputs | None:
    systolic = rng.randint(75, 170)
    if rng.random() < 0.5:
        bun = [rng.randint(6, 50), "mg/dL"]
    else:
        bun = [round(rng.uniform(2.0, 18.0), 1), "mmol/L"]
        if 6.8 <= bun[0] <= 7.1:  # "BUN > 19 mg/dL" and "urea > 7 mmol/L" disagree on this sliver
            return None
    return {
        "age": rng.randint(20, 95),
        "confusion": rng.random() < 0.35,
        "bun": bun,
        "respiratory_rate": rng.randint(14, 40),
        "sbp": systolic,
        "dbp": rng.randint(40, min(105, systolic - 20)),
    }


def _write_curb_65(inputs: Inputs, rng: random.Random) -> Case:
    age, confusion, (bun, unit) = inputs["age"], inputs["confusion"], inputs["bun"]
    respiratory_rate, systolic, diastolic = inputs["respiratory_rate"], inputs["sbp"], inputs["dbp"]
    if unit == "mg/dL":
        bun_mg, urea = float(bun), Measurement("bun", str(bun), "mg/dL")
        urea_text = f"BUN {bun} {'>' if bun > 19 else '<='} 19 mg/dL"
    else:
        bun_mg, urea = bun * UREA_TO_BUN_MG_DL, Measurement("urea", _lab(bun), "mmol/L")
        urea_text = f"urea {_lab(bun)} {'>' if bun > 7 else '<='} 7 mmol/L"
    points = curb_65_points(
        confusion=confusion,
        bun_mg_dl=bun_mg,
        respiratory_rate=respiratory_rate,
        systolic=systolic,
        diastolic=diastolic,
        age=age,
    )
    note = PatientNote(
        age=age,
        female=rng.random() < 0.5,
        complaint=rng.choice(("cough and fever", "community-acquired pneumonia", "productive cough")),
        history=_distractor_history(rng),
        findings=[("confused" if confusion else "oriented", {})] if confusion or rng.random() < 0.6 else [],
        vitals=[
            Measurement("bp", f"{systolic}/{diastolic}"),
            Measurement("rr", str(respiratory_rate)),
            _temperature(rng),
        ],
        labs=[urea] + _distractor_labs(rng, 0.5),
    )
    if systolic < 90 or diastolic <= 60:
        bp_rule = "SBP < 90" if systolic < 90 else "DBP <= 60"
    else:
        bp_rule = "SBP >= 90 and DBP > 60"
    steps = [
        f"C: confusion {_yes(confusion)} -> {points['confusion']}. U: {urea_text} -> {points['urea']}.",
        f"R: RR {respiratory_rate} {'>=' if respiratory_rate >= 30 else '<'} 30 -> {points['respiratory rate']}. "
        f"B: BP {systolic}/{diastolic}, {bp_rule} -> {points['blood pressure']}.",
        f"65: age {age} {'>=' if age >= 65 else '<'} 65 -> {points['age']}.",
        _sum_line("CURB-65", points),
    ]
    return Case(note, float(sum(points.values())), steps)


_WELLS_FLAGS = (
    "dvt_signs",
    "pe_most_likely",
    "immobilized",
    "recent_surgery",
    "prior_vte",
    "hemoptysis",
    "malignancy",
)


def _sample_wells_pe(rng: random.Random) -> Inputs:
    return {"heart_rate": rng.randint(60, 140), **{k: rng.random() < 0.3 for k in _WELLS_FLAGS}}


def _write_wells_pe(inputs: Inputs, rng: random.Random) -> Case:
    heart_rate, flags = inputs["heart_rate"], {k: inputs[k] for k in _WELLS_FLAGS}
    findings: list[tuple[str, dict[str, int]]] = []
    findings += [("dvt_signs", {})] if flags["dvt_signs"] else []
    findings += [("immobilized", {"days": rng.randint(3, 10)})] if flags["immobilized"] else []
    if flags["recent_surgery"]:
        findings.append(("recent_surgery", {"weeks": rng.randint(1, 3)}))
    elif rng.random() < 0.2:  # surgery long ago scores nothing
        findings.append(("remote_surgery", {"months": rng.randint(3, 24)}))
    findings += [("hemoptysis", {})] if flags["hemoptysis"] else []
    if flags["pe_most_likely"] or rng.random() < 0.4:
        findings.append(("pe_likely" if flags["pe_most_likely"] else "pe_unlikely", {}))
    history = [rng.choice(("prior_dvt", "prior_pe"))] if flags["prior_vte"] else []
    history += ["active_cancer"] if flags["malignancy"] else (["remote_cancer"] if rng.random() < 0.2 else [])
    history += _distractor_history(rng, 0.3)
    note = PatientNote(
        age=rng.randint(18, 90),
        female=rng.random() < 0.5,
        complaint=rng.choice(("sudden dyspnea", "pleuritic chest pain", "shortness of breath")),
        history=history,
        findings=findings,
        vitals=[Measurement("hr", str(heart_rate))] + _distractor_vitals(rng, ("rr", "temp", "spo2")),
    )
    moved = flags["immobilized"] or flags["recent_surgery"]
    points = wells_pe_points(
        dvt_signs=flags["dvt_signs"],
        pe_most_likely=flags["pe_most_likely"],
        heart_rate=heart_rate,
        immobilized_or_surgery=moved,
        prior_vte=flags["prior_vte"],
        hemoptysis=flags["hemoptysis"],
        malignancy=flags["malignancy"],
    )
    p = {k: number(v) for k, v in points.items()}
    steps = [
        f"DVT signs {_yes(flags['dvt_signs'])} -> {p['DVT signs']}. PE most likely {_yes(flags['pe_most_likely'])} "
        f"-> {p['PE most likely']}.",
        f"HR {heart_rate} {'>' if heart_rate > 100 else '<='} 100 -> {p['heart rate']}. Immobilization >= 3 days "
        f"or surgery <= 4 weeks {_yes(moved)} -> {p['immobilization/surgery']}.",
        f"Prior DVT/PE {_yes(flags['prior_vte'])} -> {p['prior DVT/PE']}. Hemoptysis {_yes(flags['hemoptysis'])} "
        f"-> {p['hemoptysis']}. Active malignancy {_yes(flags['malignancy'])} -> {p['malignancy']}.",
        _sum_line("Wells", points),
    ]
    return Case(note, float(sum(points.values())), steps)


def _sample_gcs(rng: random.Random) -> Inputs:
    return {"eye": rng.randint(1, 4), "verbal": rng.randint(1, 5), "motor": rng.randint(1, 6)}


def _write_gcs(inputs: Inputs, rng: random.Random) -> Case:
    eye, verbal, motor = inputs["eye"], inputs["verbal"], inputs["motor"]
    points = glasgow_coma_points(eye, verbal, motor)
    findings = [(f"eye_{eye}", {}), (f"verbal_{verbal}", {}), (f"motor_{motor}", {})]
    rng.shuffle(findings)
    note = PatientNote(
        age=rng.randint(16, 92),
        female=rng.random() < 0.5,
        complaint=rng.choice(
            ("a head injury after a fall", "being found unresponsive", "a road traffic collision")
        ),
        history=_distractor_history(rng, 0.3),
        findings=findings,
        vitals=[Measurement("bp", f"{rng.randint(95, 190)}/{rng.randint(50, 105)}")]
        + _distractor_vitals(rng),
    )
    steps = [
        f"Eye: {GCS_EYE[eye]} -> E{eye}. Verbal: {GCS_VERBAL[verbal]} -> V{verbal}. Motor: {GCS_MOTOR[motor]} "
        f"-> M{motor}.",
        _sum_line("GCS", points),
    ]
    return Case(note, float(sum(points.values())), steps)


def _bilirubin_mg_dl(written: list[Any]) -> float:
    value, unit = written
    return value / BILIRUBIN_UMOL_PER_MG_DL if unit == "µmol/L" else value


def _sample_meld_na(rng: random.Random) -> Inputs | None:
    # log-uniform: most patients sit at low to middling values, as in a liver clinic
    creatinine = _sample_creatinine(rng, 0.4, 6.0, log=True)
    bili = _log_uniform(rng, 0.3, 25.0)
    bilirubin = (
        [round(bili, 1), "mg/dL"]
        if rng.random() < 0.5
        else [round(bili * BILIRUBIN_UMOL_PER_MG_DL), "µmol/L"]
    )
    inputs = {
        "creatinine": creatinine,
        "bilirubin": bilirubin,
        "inr": round(_log_uniform(rng, 0.9, 4.0), 1),
        "sodium": rng.randint(118, 145),
        "dialysis": rng.random() < 0.2,
    }
    bili = _bilirubin_mg_dl(bilirubin)
    exact = meld_na(_creatinine(creatinine).value, bili, inputs["inr"], inputs["sodium"], inputs["dialysis"])
    shown = meld_na(
        float(_creatinine(creatinine).shown),
        float(number(bili, 2)),
        inputs["inr"],
        inputs["sodium"],
        inputs["dialysis"],
    )
    # redraw near rounding ties, where the rounded values the solution shows could round the other way
    tenths = exact.meld_i * 10
    if abs(tenths - math.floor(tenths) - 0.5) < 0.05 or abs(exact.meld - math.floor(exact.meld) - 0.5) < 0.01:
        return None
    if (shown.score, shown.meld_i10) != (exact.score, exact.meld_i10):
        return None
    return inputs


def _write_meld_na(inputs: Inputs, rng: random.Random) -> Case:
    creatinine, (bili, bili_unit) = _creatinine(inputs["creatinine"]), inputs["bilirubin"]
    inr, sodium, dialysis = inputs["inr"], inputs["sodium"], inputs["dialysis"]
    bili_mg = _bilirubin_mg_dl(inputs["bilirubin"])
    exact = meld_na(creatinine.value, bili_mg, inr, sodium, dialysis)

    cr_text = creatinine.step.removeprefix("Creatinine = ").removesuffix(".")
    if dialysis:
        cr_rule = f"Cr {cr_text}, dialysed >= 2x in the past week -> 4.0"
    elif exact.creatinine != creatinine.value:  # outside 1.0-4.0
        cr_rule = f"Cr {cr_text} -> bounded to {number(exact.creatinine)}"
    else:
        cr_rule = f"Cr {cr_text}"
    bili_step = (
        f"bilirubin {_lab(bili)}"
        if bili_unit == "mg/dL"
        else (f"bilirubin {bili} / {BILIRUBIN_UMOL_PER_MG_DL} = {number(bili_mg, 2)}")
    )
    bili_rule = f"{bili_step} -> 1.0" if bili_mg < 1.0 else bili_step
    inr_rule = f"INR {_lab(inr)} -> 1.0" if inr < 1.0 else f"INR {_lab(inr)}"
    na_rule = f"Na {sodium} -> {number(exact.sodium)}" if exact.sodium != sodium else f"Na {sodium}"
    logs = [
        0.957 * math.log(exact.creatinine),
        0.378 * math.log(exact.bilirubin),
        1.120 * math.log(exact.inr),
    ]
    terms = [round_half_up(t, 3) for t in logs]
    steps = [
        f"{cr_rule}; {bili_rule}; {inr_rule}; {na_rule}.",
        f"MELD(i) = 0.957*ln({number(exact.creatinine, 2)}) + 0.378*ln({number(exact.bilirubin, 2)}) + "
        f"1.120*ln({number(exact.inr)}) + 0.643 = {' + '.join(number(t, 3) for t in terms)} + 0.643 = "
        f"{number(sum(terms) + 0.643, 3)} -> {number(exact.meld_i10 / 10)} -> {exact.meld_i10}.",
    ]
    if exact.meld_i10 > 11:
        m, k = exact.meld_i10, 137 - int(exact.sodium)
        rounded = int(round_half_up(exact.meld))
        steps.append(
            f"{m} > 11: MELD = {m} + 1.32*{k} - 0.033*{m}*{k} = {m} + {number(1.32 * k, 2)} - "
            f"{number(0.033 * m * k, 3)} = {number(exact.meld, 3)} -> {rounded}{', capped at 40' if rounded > 40 else ''}."
        )
    else:
        steps.append(f"{exact.meld_i10} <= 11, so MELD-Na = {exact.meld_i10}.")
    labs = [
        creatinine.measurement,
        Measurement("bilirubin", _lab(bili) if bili_unit == "mg/dL" else str(bili), bili_unit),
        Measurement("inr", _lab(inr)),
        Measurement("sodium", str(sodium), "mmol/L"),
    ]
    labs += [Measurement("albumin", _lab(rng.uniform(1.8, 4.2)), "g/dL")] if rng.random() < 0.4 else []
    if dialysis:
        findings = [("dialysis_recent", {"n": rng.randint(2, 3)})]
    else:
        findings = [("no_dialysis", {})] if rng.random() < 0.4 else []
    note = PatientNote(
        age=rng.randint(25, 80),
        female=rng.random() < 0.5,
        complaint=rng.choice(
            ("abdominal swelling", "jaundice", "liver clinic follow-up", "transplant evaluation")
        ),
        history=["cirrhosis"] + _distractor_history(rng, 0.3),
        findings=findings,
        vitals=_distractor_vitals(rng),
        labs=labs,
    )
    return Case(note, float(exact.score), steps)


# -------------------------------------------------------------------------------------------- registry

_REL = 0.02

CALCULATORS: dict[str, Calculator] = {
    c.name: c
    for c in (
        Calculator(
            "bmi",
            ("What is the patient's BMI?", "Calculate the body mass index."),
            ("Work out this patient's body mass index.",),
            "Use BMI = weight (kg) / height (m)^2.",
            "kg/m^2",
            1,
            _REL,
            0.0,
            _sample_body,
            _write_bmi,
        ),
        Calculator(
            "bsa",
            ("What is the body surface area?", "Calculate the BSA."),
            ("Estimate how much body surface area this patient has.",),
            "Use the Mosteller formula, sqrt(height (cm) * weight (kg) / 3600).",
            "m^2",
            2,
            _REL,
            0.0,
            _sample_body,
            _write_bsa,
        ),
        Calculator(
            "mean_arterial_pressure",
            ("What is the mean arterial pressure?", "Calculate the MAP."),
            ("Work out the mean arterial pressure from this blood pressure.",),
            "Use MAP = DBP + (SBP - DBP) / 3.",
            "mmHg",
            1,
            _REL,
            0.0,
            _sample_map,
            _write_map,
        ),
        Calculator(
            "anion_gap",
            ("What is the anion gap?", "Calculate the serum anion gap."),
            ("Work out the anion gap from these electrolytes.",),
            "Use AG = Na - (Cl + HCO3), without potassium.",
            "mmol/L",
            0,
            0.0,
            0.0,
            _sample_anion_gap,
            _write_anion_gap,
        ),
        Calculator(
            "corrected_calcium",
            ("What is the albumin-corrected calcium?", "Calculate the corrected calcium."),
            ("Correct this patient's calcium for the albumin level.",),
            "Use Ca (mg/dL) + 0.8 * (4.0 - albumin (g/dL)).",
            "mg/dL",
            2,
            0.0,
            0.1,
            _sample_corrected_calcium,
            _write_corrected_calcium,
        ),
        Calculator(
            "qtc_bazett",
            ("What is the QTc by Bazett's formula?", "Calculate the corrected QT (Bazett)."),
            ("Correct this QT interval for heart rate with Bazett's method.",),
            "Use QTc = QT / sqrt(RR), RR = 60 / heart rate in s.",
            "ms",
            0,
            _REL,
            0.0,
            partial(_sample_qtc, fridericia=False),
            partial(_write_qtc, fridericia=False),
        ),
        Calculator(
            "qtc_fridericia",
            ("What is the QTc by Fridericia's formula?", "Calculate the corrected QT (Fridericia)."),
            ("Correct this QT interval for heart rate with Fridericia's method.",),
            "Use QTc = QT / RR^(1/3), RR = 60 / heart rate in s.",
            "ms",
            0,
            _REL,
            0.0,
            partial(_sample_qtc, fridericia=True),
            partial(_write_qtc, fridericia=True),
        ),
        Calculator(
            "cockcroft_gault",
            ("What is the creatinine clearance by Cockcroft-Gault?", "Estimate the CrCl (Cockcroft-Gault)."),
            ("Estimate this patient's renal clearance of creatinine with the Cockcroft-Gault equation.",),
            "Use (140 - age) * weight (kg) * (0.85 if female) / (72 * creatinine (mg/dL)) with actual body weight.",
            "mL/min",
            1,
            _REL,
            0.0,
            _sample_cockcroft_gault,
            _write_cockcroft_gault,
        ),
        Calculator(
            "ideal_body_weight",
            ("What is the ideal body weight (Devine)?", "Calculate the Devine ideal body weight."),
            ("Work out this patient's ideal weight with the Devine formula.",),
            "Use 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 60 in.",
            "kg",
            1,
            _REL,
            0.0,
            _sample_ideal_body_weight,
            _write_ideal_body_weight,
        ),
        Calculator(
            "adjusted_body_weight",
            ("What is the adjusted body weight?", "Calculate the adjusted body weight."),
            ("Work out this patient's adjusted weight for drug dosing.",),
            "Use IBW + 0.4 * (actual weight - IBW), IBW by Devine (50 kg male / 45.5 kg female + 2.3 kg per inch over 60 in).",
            "kg",
            1,
            _REL,
            0.0,
            _sample_adjusted_body_weight,
            _write_adjusted_body_weight,
        ),
        Calculator(
            "maintenance_fluids",
            ("What is the maintenance fluid rate?", "Calculate the hourly maintenance fluids."),
            ("Work out the hourly maintenance infusion rate for this patient.",),
            "Use the 4-2-1 rule: 4 mL/kg/h for the first 10 kg, 2 for the next 10, 1 per kg above 20.",
            "mL/h",
            1,
            _REL,
            0.0,
            _sample_maintenance_fluids,
            _write_maintenance_fluids,
        ),
        Calculator(
            "cha2ds2_vasc",
            ("What is the CHA2DS2-VASc score?", "Calculate the CHA2DS2-VASc score."),
            ("Score this patient's stroke risk with CHA2DS2-VASc.",),
            "Unmentioned conditions are absent.",
            "",
            0,
            0.0,
            0.0,
            _sample_cha2ds2_vasc,
            _write_cha2ds2_vasc,
        ),
        Calculator(
            "has_bled",
            ("What is the HAS-BLED score?", "Calculate the HAS-BLED score."),
            ("Score this patient's bleeding risk with HAS-BLED.",),
            "H counts only systolic > 160 mmHg; alcohol counts at >= 8 drinks/week; unmentioned items are absent.",
            "",
            0,
            0.0,
            0.0,
            _sample_has_bled,
            _write_has_bled,
        ),
        Calculator(
            "curb_65",
            ("What is the CURB-65 score?", "Calculate the CURB-65 score."),
            ("Score this pneumonia's severity with CURB-65.",),
            "U counts BUN > 19 mg/dL (urea > 7 mmol/L); unmentioned confusion is absent.",
            "",
            0,
            0.0,
            0.0,
            _sample_curb_65,
            _write_curb_65,
        ),
        Calculator(
            "wells_pe",
            (
                "What is the Wells' score for PE?",
                "Calculate the Wells' criteria score for pulmonary embolism.",
            ),
            ("Score the pretest probability of pulmonary embolism with Wells' criteria.",),
            "Unmentioned items are absent.",
            "",
            1,
            0.0,
            0.0,
            _sample_wells_pe,
            _write_wells_pe,
        ),
        Calculator(
            "glasgow_coma_scale",
            ("What is the Glasgow Coma Scale score?", "Calculate the GCS."),
            ("Total this patient's Glasgow Coma Scale.",),
            "Sum eye (1-4), verbal (1-5) and motor (1-6).",
            "",
            0,
            0.0,
            0.0,
            _sample_gcs,
            _write_gcs,
        ),
        Calculator(
            "meld_na",
            ("What is the MELD-Na score?", "Calculate the MELD-Na score."),
            ("Score this patient's liver disease with MELD-Na.",),
            "UNOS rules: Cr, bilirubin, INR < 1.0 -> 1.0; Cr > 4.0 -> 4.0, and Cr = 4.0 if dialysed >= 2x in the "
            "past week; Na bounded to 125-137; MELD(i) to the tenth, x10; if > 11 apply the Na term; round, cap 40.",
            "",
            0,
            0.0,
            0.0,
            _sample_meld_na,
            _write_meld_na,
        ),
    )
}


def input_bucket(family: str, inputs: dict[str, Any]) -> int:
    """The split bucket (0-19) of a calculator's inputs: a stable hash, never Python's salted ``hash()``.

    >>> input_bucket("bmi", {"weight": [80, "kg"], "height": [180, "cm"]})
    10
    """
    canonical = json.dumps([family, inputs], sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(canonical.encode(), digest_size=8).digest(), "big") % N_BUCKETS


def calculator_example(family: str, split: str, seed: int, index: int) -> Example:
    """Example ``index`` of one calculator family in ``split``, a pure function of its arguments.

    >>> ex = calculator_example("mean_arterial_pressure", "train", seed=0, index=0)
    >>> ex.id, ex.solution.splitlines()[-1] == "\\\\boxed{" + ex.answer + "}"
    ('healthcare/train/mean_arterial_pressure/00000', True)
    """
    calc = CALCULATORS[family]
    rng = random.Random(f"healthcare/{split}/{family}/{seed}/{index}")
    wanted = SPLIT_BUCKETS[split]
    for _ in range(MAX_DRAWS):
        inputs = calc.sample(rng)
        if inputs is not None and input_bucket(family, inputs) in wanted:
            break
    else:
        raise RuntimeError(f"no {family} inputs for split {split!r} in {MAX_DRAWS} draws")
    case = calc.write(inputs, rng)
    held_out = split == "ood"
    style = rng.choice(HELD_OUT_STYLES if held_out else SEEN_STYLES)
    ask = rng.choice(calc.held_out_asks if held_out else calc.asks)
    question = f"{render_note(case.note, style, rng)}\n\n{ask} {calc.convention} {calc.answer_spec()}"
    answer = calc.answer_text(case.value)
    solution = "\n".join([*case.steps, f"\\boxed{{{answer}}}"])
    meta = {
        "answer_kind": "number",
        "calculator": family,
        "unit": calc.unit,
        "rel_tol": calc.rel_tol,
        "abs_tol": calc.abs_tol,
        "note_style": style,
        "inputs": inputs,
    }
    return Example(f"healthcare/{split}/{family}/{index:05d}", family, question, answer, solution, meta)
