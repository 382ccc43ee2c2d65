r"""Worked solutions that call the calculator: the traces a tool-using healthcare entry trains on.

The plain solutions (:mod:`.calculator_tasks`) spell every product and square root out, and a 135M model
gets those wrong far more often than it gets the steps wrong. Here each computation is a calculator call
that the reasoner answers at inference (:mod:`srmzoo.tools`), with the rounding the step needs written in
the call (``round(x, d)``), so the model only picks the numbers from the note and the formula from the
question::

    Weight = <<round(127 * 0.4536, 1)>> = 57.6 kg.
    Height = <<round(68 * 2.54 / 100, 3)>> = 1.727 m.
    BMI = <<round(57.6 / 1.727^2, 1)>> = 19.3 kg/m^2.
    \boxed{19.3}

The steps are a pure function of the calculator's inputs (``Example.meta["inputs"]``), every result is
the calculator's own answer (so the trace never disagrees with the tool) and the boxed answer is the last
result, within the question's tolerance of the gold value (tested on every family). Scores keep their plain
steps, with the final sum as a call (:func:`srmzoo.tools.annotate`).

>>> from srmzoo.domain import get_domain
>>> ex = get_domain("healthcare").examples("train", 1, families=["qtc_fridericia"])[0]
>>> print(tool_solution(ex))
RR = <<round(60 / 119, 3)>> = 0.504 s.
QTc = <<round(314 / 0.504^(1/3), 0)>> = 395 ms.
\boxed{395}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from srmzoo.domain import Example
from srmzoo.tools import CALL_CLOSE, CALL_OPEN, annotate, calculate

from .calculator_tasks import CALCULATORS
from .clinical_units import (
    CALCIUM_MG_DL_PER_MMOL_L,
    CM_PER_IN,
    CREATININE_UMOL_PER_MG_DL,
    KG_PER_LB,
    number,
)

__all__ = ["tool_solution"]


def _call(expr: str, decimals: int | None = None) -> tuple[str, str]:
    """``<<expr>> = result`` (rounded to ``decimals`` by the call itself) and the result's text."""
    if decimals is not None:
        expr = f"round({expr}, {decimals})"
    result = calculate(expr)
    return f"{CALL_OPEN}{expr}{CALL_CLOSE} = {result}", result


def _num(value: Any) -> str:
    return number(value, 4) if isinstance(value, float) else str(value)


def _measured(label: str, written: list[Any], unit: str, conversions: dict[str, tuple[str, int | None]]
              ) -> tuple[list[str], str]:
    """A measurement in ``unit``: as the note writes it, or converted by one call. ``conversions`` maps a
    written unit to the call's expression (``{v}`` the value; ``{ft}``, ``{inch}`` for feet and inches)
    and the decimals the call rounds to (None: exact)."""
    value, written_unit = written
    if written_unit == unit:
        return [f"{label} = {_num(value)} {unit}."], _num(value)
    expr, decimals = conversions[written_unit]
    if written_unit == "ft-in":
        feet, inches = value
        said, expr = f"{feet} ft {inches} in", expr.format(ft=feet, inch=inches)
    else:
        said, expr = f"{value} {written_unit}", expr.format(v=value)
    call, result = _call(expr, decimals)
    return [f"{label} = {said} = {call} {unit}."], result


def _weight_kg(written: list[Any]) -> tuple[list[str], str]:
    return _measured("Weight", written, "kg", {"lb": (f"{{v}} * {KG_PER_LB}", 1)})


def _height_inches(written: list[Any]) -> tuple[list[str], str]:
    """The height in inches (for Devine's formula)."""
    return _measured("Height", written, "in", {"ft-in": ("{ft} * 12 + {inch}", None),
                                               "cm": (f"{{v}} / {CM_PER_IN}", 1)})


def _height_cm(written: list[Any]) -> tuple[list[str], str]:
    return _measured("Height", written, "cm", {"in": (f"{{v}} * {CM_PER_IN}", 1),
                                               "ft-in": (f"({{ft}} * 12 + {{inch}}) * {CM_PER_IN}", 1)})


def _creatinine_mg_dl(written: list[Any]) -> tuple[list[str], str]:
    return _measured("Creatinine", written, "mg/dL", {"µmol/L": (f"{{v}} / {CREATININE_UMOL_PER_MG_DL}", 2)})


def _bmi(inputs: dict[str, Any]) -> tuple[list[str], str]:
    weight_lines, kg = _weight_kg(inputs["weight"])
    height_lines, cm = _height_cm(inputs["height"])
    call, bmi = _call(f"{kg} / ({cm} / 100)^2", 1)
    return [*weight_lines, *height_lines, f"BMI = {call} kg/m^2."], bmi


def _bsa(inputs: dict[str, Any]) -> tuple[list[str], str]:
    weight_lines, kg = _weight_kg(inputs["weight"])
    height_lines, cm = _height_cm(inputs["height"])
    call, bsa = _call(f"sqrt({cm} * {kg} / 3600)", 2)
    return [*weight_lines, *height_lines, f"BSA = {call} m^2."], bsa


def _map(inputs: dict[str, Any]) -> tuple[list[str], str]:
    sbp, dbp = inputs["sbp"], inputs["dbp"]
    call, pressure = _call(f"{dbp} + ({sbp} - {dbp}) / 3", 1)
    return [f"SBP = {sbp}, DBP = {dbp} mmHg.", f"MAP = {call} mmHg."], pressure


def _anion_gap(inputs: dict[str, Any]) -> tuple[list[str], str]:
    (na, _), (cl, _), (hco3, _) = inputs["sodium"], inputs["chloride"], inputs["bicarbonate"]
    call, gap = _call(f"{na} - ({cl} + {hco3})")
    return [f"Na = {na}, Cl = {cl}, HCO3 = {hco3} mmol/L (potassium is not used).", f"AG = {call} mmol/L."], gap


def _corrected_calcium(inputs: dict[str, Any]) -> tuple[list[str], str]:
    (calcium, ca_unit), (albumin, alb_unit) = inputs["calcium"], inputs["albumin"]
    if ca_unit == "mg/dL":
        ca, lines = _num(calcium), [f"Calcium = {_num(calcium)} mg/dL."]
    else:
        call, ca = _call(f"{calcium:.2f} * {CALCIUM_MG_DL_PER_MMOL_L}", 2)
        lines = [f"Calcium = {calcium:.2f} mmol/L = {call} mg/dL."]
    if alb_unit == "g/dL":
        alb = _num(albumin)
        lines.append(f"Albumin = {alb} g/dL.")
    else:
        call, alb = _call(f"{albumin} / 10")
        lines.append(f"Albumin = {albumin} g/L = {call} g/dL.")
    call, corrected = _call(f"{ca} + 0.8 * (4.0 - {alb})", 2)
    return [*lines, f"Corrected Ca = {call} mg/dL."], corrected


def _qtc(inputs: dict[str, Any], fridericia: bool) -> tuple[list[str], str]:
    qt, heart_rate = inputs["qt"], inputs["heart_rate"]
    rr_call, rr = _call(f"60 / {heart_rate}", 3)
    root = f"{rr}^(1/3)" if fridericia else f"sqrt({rr})"
    call, qtc = _call(f"{qt} / {root}", 0)
    return [f"RR = {rr_call} s.", f"QTc = {call} ms."], qtc


def _cockcroft_gault(inputs: dict[str, Any]) -> tuple[list[str], str]:
    age, female = inputs["age"], inputs["sex"] == "female"
    weight_lines, kg = _weight_kg(inputs["weight"])
    creatinine_lines, cr = _creatinine_mg_dl(inputs["creatinine"])
    call, clearance = _call(f"(140 - {age}) * {kg}{' * 0.85' if female else ''} / (72 * {cr})", 1)
    weight_lines[-1] = f"{weight_lines[-1][:-1]} (actual body weight; height not needed)."
    return [
        f"Age {age}, {'female -> factor 0.85' if female else 'male -> factor 1'}.",
        *weight_lines,
        *creatinine_lines,
        f"CrCl = {call} mL/min.",
    ], clearance


def _ideal_weight(inputs: dict[str, Any]) -> tuple[list[str], str]:
    female = inputs["sex"] == "female"
    lines, inches = _height_inches(inputs["height"])
    base = "45.5" if female else "50"
    call, ibw = _call(f"{base} + 2.3 * ({inches} - 60)", 1)
    return [*lines, f"{'Female' if female else 'Male'}: IBW = {call} kg."], ibw


def _ideal_body_weight(inputs: dict[str, Any]) -> tuple[list[str], str]:
    return _ideal_weight(inputs)


def _adjusted_body_weight(inputs: dict[str, Any]) -> tuple[list[str], str]:
    lines, ibw = _ideal_weight(inputs)
    weight_lines, kg = _weight_kg(inputs["weight"])
    call, abw = _call(f"{ibw} + 0.4 * ({kg} - {ibw})", 1)
    return [*lines, *weight_lines, f"ABW = {call} kg."], abw


def _maintenance_fluids(inputs: dict[str, Any]) -> tuple[list[str], str]:
    weight_lines, kg = _weight_kg(inputs["weight"])
    w = float(kg)
    if w <= 10:
        expr = f"4 * {kg}"
    elif w <= 20:
        expr = f"4 * 10 + 2 * ({kg} - 10)"
    else:
        expr = f"4 * 10 + 2 * 10 + 1 * ({kg} - 20)"
    call, rate = _call(expr, 1)
    return [*weight_lines, f"Rate = {call} mL/h."], rate


_MELD_I = re.compile(r"^MELD\(i\) = (?P<expr>[^=]+?) = .* -> (?P<tenth>[\d.]+) -> (?P<i10>\d+)\.$")
_MELD_NA = re.compile(r"^(?P<m>\d+) > 11: MELD = (?P<expr>[^=]+?) = .* -> (?P<score>\d+)(?P<cap>, capped at 40)?\.$")


def _meld_na(plain_steps: list[str]) -> list[str]:
    """MELD-Na keeps its plain bounding rules; the logarithms and the sodium term become calls."""
    steps = []
    for line in plain_steps:
        if m := _MELD_I.match(line):
            call, tenth = _call(m["expr"], 1)
            if tenth == m["tenth"].rstrip("0").rstrip("."):
                line = f"MELD(i) = {call} -> {m['i10']}."
        elif m := _MELD_NA.match(line):
            call, score = _call(m["expr"], 0)
            if score == m["score"]:
                line = f"{m['m']} > 11: MELD = {call}{m['cap'] or ''}."
        steps.append(line)
    return steps


# measurement families: inputs -> (steps, the last call's result)
_WRITERS: dict[str, Callable[[dict[str, Any]], tuple[list[str], str]]] = {
    "bmi": _bmi,
    "bsa": _bsa,
    "mean_arterial_pressure": _map,
    "anion_gap": _anion_gap,
    "corrected_calcium": _corrected_calcium,
    "qtc_bazett": lambda inputs: _qtc(inputs, fridericia=False),
    "qtc_fridericia": lambda inputs: _qtc(inputs, fridericia=True),
    "cockcroft_gault": _cockcroft_gault,
    "ideal_body_weight": _ideal_body_weight,
    "adjusted_body_weight": _adjusted_body_weight,
    "maintenance_fluids": _maintenance_fluids,
}


def tool_solution(example: Example) -> str:
    r"""The worked solution of a generated calculator task with its computations as calculator calls.

    Measurements: each conversion and the formula are one call each, rounded in the call; the answer is the
    last call's result (within the question's tolerance of the gold value, which uses unrounded inputs).
    Scores: the plain steps, their sum as a call. MELD-Na: the plain bounding rules, the formula as calls.
    Anything else (e.g. a multiple-choice row) is returned unchanged.

    >>> from srmzoo.domain import get_domain
    >>> ex = get_domain("healthcare").examples("train", 2, families=["wells_pe", "anion_gap"])[1]
    >>> print(tool_solution(ex))
    Na = 133, Cl = 89, HCO3 = 10 mmol/L (potassium is not used).
    AG = <<133 - (89 + 10)>> = 34 mmol/L.
    \boxed{34}
    """
    family, inputs = example.family, example.meta.get("inputs")
    if family not in CALCULATORS or inputs is None:
        return example.solution
    plain_steps = example.solution.splitlines()[:-1]
    if family in _WRITERS:
        steps, answer = _WRITERS[family](inputs)
    elif family == "meld_na":
        steps, answer = _meld_na(plain_steps), example.answer
    else:  # integer scores: the criteria as written, the total as a call
        steps, answer = annotate("\n".join(plain_steps)).splitlines(), example.answer
    return "\n".join([*steps, f"\\boxed{{{answer}}}"])
