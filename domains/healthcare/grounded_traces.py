r"""Grounded calculator traces (``data.traces: grounded``): every fact is quoted from the note, every rule is
a fixed calculator template.

The default tool traces (:mod:`.tool_traces`) state conclusions ("Female -> 1", "CHF no -> 0") and pick a
formula branch in text; a 135M model gets exactly those wrong: it calls a man female, finds history the
note does not have, compares 162 with 160 the wrong way round and picks the wrong 4-2-1 branch. Here:

* **Facts are quoted.** Each criterion names the note's own words (``Vascular disease: PAD -> 1``,
  ``CHF: not mentioned -> 0``, ``Sex: 85M -> male``), so the model copies before it decides; a condition
  the note denies reads ``denied``. GCS quotes the note's descriptor, not a canonical one.
* **Rules are templates.** Where the default trace chooses a branch, the grounded one writes the same
  call every time and lets the calculator's ``min``/``max`` decide: the 4-2-1 rule is
  ``4 * min(W, 10) + 2 * min(max(W - 10, 0), 10) + max(W - 20, 0)`` for every weight, MELD-Na's bounds are
  ``min(max(Cr, 1), 4)`` and friends, Cockcroft-Gault always multiplies by its sex factor (1 or 0.85).

Conversions and the other measurement formulas are the default trace's calls. Every result is the
calculator's own, and the boxed answer passes the verifier on every generated example (tested per family
and split).

>>> from srmzoo.domain import get_domain
>>> ex = get_domain("healthcare").examples("train", 1, families=["maintenance_fluids"])[0]
>>> print(grounded_solution(ex))
Weight = 30 lb = <<round(30 * 0.4536, 1)>> = 13.6 kg.
Rate = <<round(4 * min(13.6, 10) + 2 * min(max(13.6 - 10, 0), 10) + max(13.6 - 20, 0), 1)>> = 47.2 mL/h.
\boxed{47.2}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from srmzoo.domain import Example

from .calculator_tasks import CALCULATORS
from .clinical_units import BILIRUBIN_UMOL_PER_MG_DL, number
from .patient_notes import CONDITIONS, FINDINGS, MEDICATIONS, Wording
from .tool_traces import _call, _creatinine_mg_dl, _height_inches, _weight_kg, tool_solution

__all__ = ["grounded_solution"]

_SEX = re.compile(r"\b\d+[MF]\b|\b(?:woman|man|girl|boy|female|male)\b")


def _note(example: Example) -> str:
    r"""The patient note: the question's first paragraph, or its last where the first asks (a restyled
    question, ``data.phrasing: varied``, may put the ask and a distractor before the note; a quote taken
    from the ask would read ``Sex: male`` out of "50 kg (male) or 45.5 kg (female)").

    >>> _note(Example("x", "bmi", "A 70M.\n\nWhat is the patient's BMI?", "", ""))
    'A 70M.'
    >>> _note(Example("x", "bmi", "Hi. What is the patient's BMI?\n\nA visitor came.\n\nA 70M.", "", ""))
    'A 70M.'
    """
    paragraphs = example.question.split("\n\n")
    calc = CALCULATORS.get(example.family)
    if calc is not None and len(paragraphs) > 1 and any(ask in paragraphs[0] for ask in calc.asks + calc.held_out_asks):
        return paragraphs[-1]
    return paragraphs[0]


def _sex(note: str, female: bool) -> str:
    """``Sex: <the note's word> -> female|male``."""
    m = _SEX.search(note)
    said = m.group(0) if m else "not stated"
    return f"Sex: {said} -> {'female' if female else 'male'}"


def _pattern(phrase: str) -> str:
    return re.escape(phrase).replace(r"\{days\}", r"\d+").replace(r"\{weeks\}", r"\d+").replace(
        r"\{months\}", r"\d+").replace(r"\{n\}", r"\d+")


def _quote(note: str, wordings: Sequence[Wording]) -> str | None:
    """The note's words for one of ``wordings`` (longest wording first, case-insensitive), or None."""
    phrases = sorted({p for w in wordings for p in (*w.seen, *w.held_out)}, key=len, reverse=True)
    for phrase in phrases:
        if m := re.search(rf"(?<![\w-]){_pattern(phrase)}(?![\w-])", note, flags=re.IGNORECASE):
            return m.group(0)
    return None


def _criterion(note: str, label: str, present: bool, keys: Sequence[str], points: float,
               table: dict[str, Wording] = CONDITIONS) -> str:
    """``label: <quoted words | not mentioned | denied> -> points``."""
    said = _quote(note, [table[k] for k in keys])
    evidence = (said or "yes") if present else ("denied" if said else "not mentioned")
    return f"{label}: {evidence} -> {number(points)}"


def _total(name: str, points: Sequence[float]) -> str:
    call, _ = _call(" + ".join(number(p) for p in points))
    return f"{name} = {call}."


def _cha2ds2_vasc(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    age, female = inputs["age"], inputs["sex"] == "female"
    age_points = 2 if age >= 75 else 1 if age >= 65 else 0
    rule = ">= 75" if age >= 75 else "65-74" if age >= 65 else "< 65"
    p = {k: int(inputs[k]) for k in ("heart_failure", "hypertension", "diabetes")}
    p["stroke_or_tia"] = 2 * int(inputs["stroke_or_tia"])
    p["vascular_disease"] = int(inputs["vascular_disease"])
    return [
        f"{_sex(note, female)} -> {int(female)}. Age {age} ({rule}) -> {age_points}.",
        f"{_criterion(note, 'CHF', inputs['heart_failure'], ['heart_failure'], p['heart_failure'])}. "
        f"{_criterion(note, 'Hypertension', inputs['hypertension'], ['hypertension'], p['hypertension'])}. "
        f"{_criterion(note, 'Diabetes', inputs['diabetes'], ['diabetes'], p['diabetes'])}.",
        f"{_criterion(note, 'Stroke/TIA', inputs['stroke_or_tia'], ['stroke', 'tia'], p['stroke_or_tia'])}. "
        f"{_criterion(note, 'Vascular disease', inputs['vascular_disease'], ['myocardial_infarction', 'peripheral_artery_disease'], p['vascular_disease'])}.",
        _total("CHA2DS2-VASc", [age_points, int(female), p["heart_failure"], p["hypertension"], p["diabetes"],
                                p["stroke_or_tia"], p["vascular_disease"]]),
    ]


def _has_bled(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    age, systolic, alcohol = inputs["age"], inputs["systolic"], inputs["alcohol_per_week"]
    f = {k: int(inputs[k]) for k in ("renal", "liver", "stroke", "bleeding", "labile_inr", "drugs")}
    h, e = int(systolic > 160), int(age > 65)
    drinks = int(alcohol is not None and alcohol >= 8)
    alcohol_text = "not mentioned" if alcohol is None else f"{alcohol}/week {'>=' if drinks else '<'} 8"
    return [
        f"H: SBP {systolic} {'>' if h else '<='} 160 -> {h}. "
        f"{_criterion(note, 'A: renal', f['renal'], ['hemodialysis', 'kidney_transplant'], f['renal'])}. "
        f"{_criterion(note, 'Liver', f['liver'], ['cirrhosis'], f['liver'])}.",
        f"{_criterion(note, 'S: stroke', f['stroke'], ['stroke'], f['stroke'])}. "
        f"{_criterion(note, 'B: bleeding', f['bleeding'], ['major_bleeding'], f['bleeding'])}. "
        f"{_criterion(note, 'L: labile INR', f['labile_inr'], ['labile_inr'], f['labile_inr'])}.",
        f"E: age {age} {'>' if e else '<='} 65 -> {e}. "
        f"{_criterion(note, 'D: antiplatelet/NSAID', f['drugs'], ['aspirin', 'clopidogrel', 'nsaid'], f['drugs'], MEDICATIONS)}. "
        f"Alcohol: {alcohol_text} -> {drinks}.",
        _total("HAS-BLED", [h, f["renal"], f["liver"], f["stroke"], f["bleeding"], f["labile_inr"], e, f["drugs"],
                            drinks]),
    ]


def _curb_65(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    # The default steps' urea, RR, BP and age rules, with the confusion criterion quoted.
    plain = ex.solution.splitlines()[:-2]
    confusion = int(inputs["confusion"])
    said = _quote(note, [FINDINGS["confused"]]) if confusion else _quote(note, [FINDINGS["oriented"]])
    first = plain[0].split(". U: ", 1)
    quoted = f"C: confusion: {said or ('yes' if confusion else 'not mentioned')} -> {confusion}. U: {first[1]}"
    points = [int(p) for p in re.findall(r"-> (\d+)", "\n".join([quoted, *plain[1:]]))]
    return [quoted, *plain[1:], _total("CURB-65", points)]


def _wells_pe(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    hr = inputs["heart_rate"]
    moved = inputs["immobilized"] or inputs["recent_surgery"]
    p = {"dvt": 3 * inputs["dvt_signs"], "likely": 3 * inputs["pe_most_likely"], "hr": 1.5 * (hr > 100),
         "moved": 1.5 * moved, "vte": 1.5 * inputs["prior_vte"], "blood": inputs["hemoptysis"],
         "cancer": inputs["malignancy"]}
    if moved:
        moved_line = _criterion(note, "Immobilization/surgery <= 4 weeks", True,
                                ["immobilized", "recent_surgery"], p["moved"], FINDINGS)
    elif remote := _quote(note, [FINDINGS["remote_surgery"]]):
        moved_line = f"Immobilization/surgery <= 4 weeks: {remote}, too long ago -> 0"
    else:
        moved_line = "Immobilization/surgery <= 4 weeks: not mentioned -> 0"
    if inputs["pe_most_likely"]:
        likely_line = _criterion(note, "PE most likely", True, ["pe_likely"], p["likely"], FINDINGS)
    elif unlikely := _quote(note, [FINDINGS["pe_unlikely"]]):
        likely_line = f"PE most likely: {unlikely} -> 0"
    else:
        likely_line = "PE most likely: not mentioned -> 0"
    if inputs["malignancy"] or not (remote_cancer := _quote(note, [CONDITIONS["remote_cancer"]])):
        cancer_line = _criterion(note, "Active malignancy", inputs["malignancy"], ["active_cancer"], p["cancer"])
    else:
        cancer_line = f"Active malignancy: {remote_cancer}, not active -> 0"
    return [
        f"{_criterion(note, 'DVT signs', inputs['dvt_signs'], ['dvt_signs'], p['dvt'], FINDINGS)}. {likely_line}.",
        f"HR {hr} {'>' if hr > 100 else '<='} 100 -> {number(p['hr'])}. {moved_line}.",
        f"{_criterion(note, 'Prior DVT/PE', inputs['prior_vte'], ['prior_dvt', 'prior_pe'], p['vte'])}. "
        f"{_criterion(note, 'Hemoptysis', inputs['hemoptysis'], ['hemoptysis'], p['blood'], FINDINGS)}. "
        f"{cancer_line}.",
        _total("Wells", [p[k] for k in ("dvt", "likely", "hr", "moved", "vte", "blood", "cancer")]),
    ]


def _gcs(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    parts = []
    for part, letter in (("eye", "E"), ("verbal", "V"), ("motor", "M")):
        said = _quote(note, [FINDINGS[f"{part}_{inputs[part]}"]]) or "not stated"
        parts.append(f"{part.capitalize()}: {said} -> {letter}{inputs[part]}.")
    return [" ".join(parts), _total("GCS", [inputs["eye"], inputs["verbal"], inputs["motor"]])]


def _cockcroft_gault(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    female = inputs["sex"] == "female"
    factor = "0.85" if female else "1"
    weight_lines, kg = _weight_kg(inputs["weight"])
    creatinine_lines, cr = _creatinine_mg_dl(inputs["creatinine"])
    call, _ = _call(f"(140 - {inputs['age']}) * {kg} * {factor} / (72 * {cr})", 1)
    return [f"Age {inputs['age']}. {_sex(note, female)} -> factor {factor}.", *weight_lines, *creatinine_lines,
            f"CrCl = {call} mL/min."]


def _ideal(note: str, inputs: dict[str, Any]) -> tuple[list[str], str]:
    female = inputs["sex"] == "female"
    base = "45.5" if female else "50"
    lines, inches = _height_inches(inputs["height"])
    call, ibw = _call(f"{base} + 2.3 * ({inches} - 60)", 1)
    return [f"{_sex(note, female)} -> {base} kg.", *lines, f"IBW = {call} kg."], ibw


def _ideal_body_weight(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    return _ideal(note, inputs)[0]


def _adjusted_body_weight(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    lines, ibw = _ideal(note, inputs)
    weight_lines, kg = _weight_kg(inputs["weight"])
    call, _ = _call(f"{ibw} + 0.4 * ({kg} - {ibw})", 1)
    return [*lines, *weight_lines, f"ABW = {call} kg."]


def _maintenance_fluids(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    weight_lines, w = _weight_kg(inputs["weight"])
    call, _ = _call(f"4 * min({w}, 10) + 2 * min(max({w} - 10, 0), 10) + max({w} - 20, 0)", 1)
    return [*weight_lines, f"Rate = {call} mL/h."]


def _meld_na(ex: Example, note: str, inputs: dict[str, Any]) -> list[str]:
    lines, cr = _creatinine_mg_dl(inputs["creatinine"])
    if inputs["dialysis"]:
        lines.append("Dialysed >= 2x in the past week -> Cr = 4.")
        cr = "4"
    bili, unit = inputs["bilirubin"]
    bili = number(bili, 2) if unit == "mg/dL" else f"round({bili} / {BILIRUBIN_UMOL_PER_MG_DL}, 2)"
    inr = number(inputs["inr"], 2)
    i_call, meld_i = _call(f"10 * (0.957 * ln(min(max({cr}, 1), 4)) + 0.378 * ln(max({bili}, 1)) + "
                           f"1.120 * ln(max({inr}, 1)) + 0.643)", 0)
    lines.append(f"MELD(i) = {i_call}.")
    if int(meld_i) <= 11:
        return [*lines, f"{meld_i} <= 11: MELD = {meld_i}."]
    na_call, na = _call(f"min(max({inputs['sodium']}, 125), 137)")
    call, _ = _call(f"min(round({meld_i} + 1.32 * (137 - {na}) - 0.033 * {meld_i} * (137 - {na}), 0), 40)")
    return [*lines, f"{meld_i} > 11: Na = {na_call}.", f"MELD = {call}."]


_WRITERS: dict[str, Callable[[Example, str, dict[str, Any]], list[str]]] = {
    "cha2ds2_vasc": _cha2ds2_vasc,
    "has_bled": _has_bled,
    "curb_65": _curb_65,
    "wells_pe": _wells_pe,
    "glasgow_coma_scale": _gcs,
    "cockcroft_gault": _cockcroft_gault,
    "ideal_body_weight": _ideal_body_weight,
    "adjusted_body_weight": _adjusted_body_weight,
    "maintenance_fluids": _maintenance_fluids,
    "meld_na": _meld_na,
}


def grounded_solution(example: Example) -> str:
    r"""The grounded worked solution of a generated calculator task (see the module docstring); the other
    calculators' default tool trace (:func:`.tool_traces.tool_solution`), a multiple-choice row unchanged.

    The boxed answer is the last call's result.

    >>> from srmzoo.domain import get_domain
    >>> ex = get_domain("healthcare").examples("train", 1, families=["cha2ds2_vasc"])[0]
    >>> print(ex.question.split("\n\n")[0])
    An 83-year-old man is seen for new atrial fibrillation. History of diabetes, hyperlipidemia, congestive heart failure and peripheral artery disease. No history of HTN. HR 84 bpm, SpO2 89%.
    >>> print(grounded_solution(ex))
    Sex: man -> male -> 0. Age 83 (>= 75) -> 2.
    CHF: congestive heart failure -> 1. Hypertension: denied -> 0. Diabetes: diabetes -> 1.
    Stroke/TIA: not mentioned -> 0. Vascular disease: peripheral artery disease -> 1.
    CHA2DS2-VASc = <<2 + 0 + 1 + 0 + 1 + 0 + 1>> = 5.
    \boxed{5}
    """
    family, inputs = example.family, example.meta.get("inputs")
    if family not in _WRITERS or inputs is None or family not in CALCULATORS:
        return tool_solution(example)
    steps = _WRITERS[family](example, _note(example), inputs)
    answer = re.findall(r"= (-?[\d./]+)", steps[-1])[-1].rstrip(".")  # the last line's result
    return "\n".join([*steps, f"\\boxed{{{answer}}}"])
