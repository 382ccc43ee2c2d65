r"""The healthcare domain's ``natural`` split: held-out clinical calculations, asked the way clinicians ask.

Evaluation only, and for research and education only (not for clinical decisions). None of these
families is one of the 17 training calculators (:data:`.calculator_tasks.CALCULATORS`): they are other
bedside calculations -- weight-based doses and infusion rates, pack-years, calculated osmolality, the
2021 CKD-EPI eGFR, the A-a gradient, the Katz-corrected sodium, the McIsaac score, the Friedewald LDL
and the absolute neutrophil count. Each item is a vignette the way a colleague tells it (a phone call,
a handover, a ward round), with distractor findings, numbers sometimes in words, mixed units (lb/kg,
°F/°C, mg/dL vs mmol/L or µmol/L, mmHg vs kPa) and the score or equation named, never written out.
Conventions a name leaves open are stated as a clinician would (sea level, "the 2021 CKD-EPI creatinine
equation", "Katz").

Gold values are computed exactly from the stated inputs (conversion factors in :mod:`.clinical_units`,
plus 7.50062 mmHg per kPa, 18 mg/dL per mmol/L of glucose, 38.67 and 88.57 mg/dL per mmol/L of
cholesterol and triglycerides) and checked by the domain's verifier (:func:`.verify.check_number`): exact
for scores, within about 2% (with a small absolute floor) for measurements.

Item ``index`` of a family draws from ``random.Random("healthcare/natural/<family>/<seed>/<index>/<attempt>")``;
a draw whose question repeats an earlier item of the family is redrawn, so the items of a family are
distinct and a longer request extends a shorter one.

>>> ex = natural_examples(3)[2]
>>> ex.id, ex.meta["answer_kind"]
('healthcare/natural/pack_years/00000', 'number')
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from srmzoo.domain import Example, check_counts
from srmzoo.errors import UnknownNameError
from srmzoo.phrasing import number_words, quantity_words

from .clinical_units import (
    CREATININE_UMOL_PER_MG_DL,
    KG_PER_LB,
    UREA_TO_BUN_MG_DL,
    fahrenheit_from_celsius,
    number,
    round_half_up,
)

__all__ = [
    "NATURAL_CALCULATORS",
    "NATURAL_FAMILIES",
    "NaturalCalculator",
    "natural_example",
    "natural_examples",
]

MMHG_PER_KPA = 7.50062
GLUCOSE_MG_DL_PER_MMOL_L = 18.0
CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67
TRIGLYCERIDE_MG_DL_PER_MMOL_L = 88.57
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Drafted:
    """One vignette with its question, the exact answer, the worked steps and the inputs it states."""

    question: str
    value: float
    steps: list[str]
    inputs: dict[str, Any]
    unit: str | None = None  # when the item picks its answer unit (LDL in mg/dL or mmol/L)


@dataclass(frozen=True)
class NaturalCalculator:
    """A held-out calculation: its answer unit, rounding and tolerance, and how to draft an item."""

    name: str
    description: str
    unit: str
    decimals: int
    rel_tol: float
    abs_tol: float
    draft: Callable[[random.Random], Drafted]

    def answer_text(self, value: float, decimals: int | None = None) -> str:
        """The gold answer: fixed decimals for a measurement, no trailing zeros for an exact count.

        >>> calculators = NATURAL_CALCULATORS
        >>> calculators["mcisaac_score"].answer_text(-1.0), calculators["infusion_rate"].answer_text(12.25)
        ('-1', '12.3')
        """
        places = self.decimals if decimals is None else decimals
        if self.rel_tol:
            return f"{round_half_up(value, places):.{places}f}"
        return number(value, places)


# ------------------------------------------------------------------------------------------------ phrasing

_WOMEN = ("Maria", "Mrs. Okafor", "Ms. Lindqvist", "Aisha", "Mrs. Tanaka", "Grace", "Ms. Duarte")
_MEN = ("Mr. Haddad", "Tom", "Mr. Nowak", "Raj", "Mr. Brennan", "Luis", "Mr. Kim")


def _age_words(age: int, rng: random.Random) -> str:
    return number_words(age) if rng.random() < 0.25 else str(age)


def _a(word: str) -> str:
    """``word`` with its indefinite article, by sound: "an 8-year-old", "an eighty-year-old", "a 67-year-old".

    >>> _a("8-year-old"), _a("eighteen-year-old"), _a("81-year-old"), _a("11-year-old"), _a("6-year-old")
    ('an 8-year-old', 'an eighteen-year-old', 'an 81-year-old', 'an 11-year-old', 'a 6-year-old')
    """
    head = word.split("-")[0]
    vowel = word[0] in "aeiou" or head.startswith("8") or head in ("11", "18")
    return f"{'an' if vowel else 'a'} {word}"


def _cap(text: str) -> str:
    """``text`` with its first letter in capitals, the rest untouched (``str.capitalize`` lowers names)."""
    return text[:1].upper() + text[1:]


def _person(age: int, female: bool, rng: random.Random, *, subject: bool = False) -> str:
    """How a vignette names its patient: "a 67-year-old woman", "Mr. Nowak, 67", "Grace, a 71-year-old
    woman"; as the ``subject`` of a verb, the forms with a name close their apposition with a comma."""
    if age < 18:
        noun = "girl" if female else "boy"
        return f"{_a(_age_words(age, rng) + '-year-old')} {noun}"
    noun = "woman" if female else "man"
    name = rng.choice(_WOMEN if female else _MEN)
    comma = "," if subject else ""
    return rng.choice(
        (
            f"{_a(_age_words(age, rng) + '-year-old')} {noun}",
            f"{name}, {age}{comma}",
            f"{name}, {_a(f'{age}-year-old')} {noun}{comma}",
        )
    )


def _pronoun(female: bool) -> str:
    return "she" if female else "he"


def _possessive(female: bool) -> str:
    return "her" if female else "his"


def _temperature(celsius: float, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{celsius:.1f} °C"
    return f"{fahrenheit_from_celsius(celsius):.1f} °F"


def _arrange(rng: random.Random, story: list[str], ask: str) -> str:
    """The vignette's sentences (distractors already among them), the question last or, less often, first."""
    text = " ".join(s for s in story if s)
    return f"{text} {ask}" if rng.random() < 0.7 else f"{ask} {text}"


def _say(value: float, rng: random.Random, p: float = 0.3) -> str:
    words = quantity_words(value)
    return words if words is not None and rng.random() < p else number(value, 2)


def _lab(value: float, decimals: int = 1) -> str:
    return f"{value:.{decimals}f}"


def _weight(rng: random.Random, lo_kg: float, hi_kg: float) -> tuple[str, float, str, dict[str, Any]]:
    """A body weight as said (kg, lb, or lb and oz for a child), its kilograms, the conversion line, the input."""
    kg = rng.uniform(lo_kg, hi_kg)
    style = rng.choice(("kg", "lb", "lb-oz") if hi_kg < 50 else ("kg", "lb", "lb"))
    if style == "kg":
        kg = round(kg, 1)
        return f"{number(kg)} kg", kg, f"Weight {number(kg)} kg.", {"weight": [kg, "kg"]}
    if style == "lb":
        lb = round(kg / KG_PER_LB)
        kg = lb * KG_PER_LB
        return f"{lb} lb", kg, f"Weight {lb} lb × {KG_PER_LB} = {number(kg, 2)} kg.", {"weight": [lb, "lb"]}
    lb, oz = divmod(round(kg / KG_PER_LB * 16), 16)
    kg = (lb + oz / 16) * KG_PER_LB
    said = f"{lb} lb {oz} oz" if oz else f"{lb} lb"
    line = f"Weight {said} = {number(lb + oz / 16, 3)} lb × {KG_PER_LB} = {number(kg, 2)} kg."
    return said, kg, line, {"weight": [[lb, oz], "lb-oz"]}


_HISTORY = (
    "hypothyroidism",
    "gout",
    "GERD",
    "osteoarthritis of both knees",
    "migraines",
    "mild asthma",
    "hyperlipidaemia",
    "benign prostatic hyperplasia",
    "depression",
)
_MEDS = (
    "atorvastatin",
    "levothyroxine",
    "omeprazole",
    "sertraline",
    "allopurinol",
    "amlodipine",
    "metformin",
)


def _background(rng: random.Random, p: float = 0.6) -> str:
    if rng.random() >= p:
        return ""
    return rng.choice(
        (
            f"Past history includes {rng.choice(_HISTORY)}.",
            f"{_cap(rng.choice(_HISTORY))} is the only other history; takes {rng.choice(_MEDS)}.",
            f"Home meds: {rng.choice(_MEDS)} and {rng.choice(_MEDS[::-1])}.",
        )
    )


def _vitals(rng: random.Random, p: float = 0.6) -> str:
    if rng.random() >= p:
        return ""
    return (
        f"BP {rng.randint(96, 168)}/{rng.randint(55, 98)}, HR {rng.randint(58, 124)}, "
        f"temp {_temperature(round(rng.uniform(36.2, 38.9), 1), rng)}, SpO2 {rng.randint(90, 100)}%."
    )


# ------------------------------------------------------------------------------------------------ families

# name, (mg per kg, "dose" or "day"), doses a day, suspension (mg, mL), max mg per dose, indication
_ORAL_DRUGS = (
    ("acetaminophen", (15, "dose"), 1, (160, 5), 1000, "fever"),
    ("ibuprofen", (10, "dose"), 1, (100, 5), 400, "a sore ear"),
    ("amoxicillin", (90, "day"), 2, (400, 5), 2000, "acute otitis media"),
    ("amoxicillin", (45, "day"), 2, (250, 5), 1000, "strep throat"),
    ("cephalexin", (50, "day"), 4, (250, 5), 500, "cellulitis"),
    ("azithromycin", (10, "dose"), 1, (200, 5), 500, "pneumonia"),
    ("prednisolone", (2, "day"), 1, (15, 5), 60, "an asthma flare"),
    ("ondansetron", (0.15, "dose"), 1, (4, 5), 8, "vomiting"),
)
_DIVIDED = {
    1: "once daily",
    2: "divided twice daily",
    3: "in three divided doses",
    4: "divided four times a day",
}


def _weight_based_dose(rng: random.Random) -> Drafted:
    drug, (per_kg, basis), doses, (mg, ml), max_dose, why = rng.choice(_ORAL_DRUGS)
    age = rng.randint(1, 12)
    female = rng.random() < 0.5
    said, kg, weight_line, inputs = _weight(rng, 7 + 2 * age, 10 + 3 * age)
    per_dose = per_kg * kg / doses
    capped = per_dose > max_dose
    dose_mg = min(per_dose, max_dose)
    order = (
        f"{number(per_kg, 2)} mg/kg per dose"
        if basis == "dose"
        else f"{number(per_kg, 2)} mg/kg/day {_DIVIDED[doses]}"
    )
    state_max = capped or rng.random() < 0.3
    limit = f" (max {max_dose} mg per dose)" if state_max else ""
    ask_ml = rng.random() < 0.7
    if ask_ml:
        value = dose_mg * ml / mg
        unit = "mL"
        ask = rng.choice(
            (
                "How many mL per dose?",
                "What volume does each dose come to, in mL?",
                f"How many millilitres of the {mg} mg/{ml} mL suspension should each dose be?",
            )
        )
    else:
        value, unit = dose_mg, "mg"
        ask = rng.choice(("How many mg is each dose?", "What's the dose in milligrams?"))
    story = [
        rng.choice(
            (
                f"Phone call from a parent: {_person(age, female, rng)} with {why}, weighing {said}.",
                f"In the paediatric ED, {_person(age, female, rng)} ({said}) is being treated for {why}.",
                f"Clinic note: {_person(age, female, rng)}, {said}, diagnosed with {why}.",
            )
        ),
        rng.choice(
            (
                "",
                f"Temperature {_temperature(round(rng.uniform(37.6, 39.8), 1), rng)}.",
                f"Allergies: {rng.choice(('none known', 'penicillin (rash) in the father, not the child'))}.",
            )
        ),
        f"The plan is {drug} {order}{limit}, using the {mg} mg/{ml} mL liquid.",
        rng.choice(
            (
                "",
                "The family has an oral syringe.",
                f"A sibling had the same illness {rng.randint(2, 9)} days ago.",
            )
        ),
    ]
    steps = [weight_line]
    if basis == "day":
        steps.append(
            f"Daily: {number(per_kg, 2)} × {number(kg, 2)} = {number(per_kg * kg, 2)} mg; "
            f"/ {doses} = {number(per_dose, 2)} mg per dose."
        )
    else:
        steps.append(f"Dose: {number(per_kg, 2)} × {number(kg, 2)} = {number(per_dose, 2)} mg.")
    if capped:
        steps.append(f"Above the {max_dose} mg maximum: give {max_dose} mg.")
    if ask_ml:
        steps.append(f"Volume: {number(dose_mg, 2)} mg × {ml}/{mg} mL/mg = {number(value, 2)} mL.")
    inputs = {
        **inputs,
        "drug": drug,
        "order": [per_kg, basis, doses],
        "suspension": [mg, ml],
        "max_mg": max_dose if state_max else None,
        "asked": unit,
    }
    return Drafted(_arrange(rng, story, ask), value, steps, inputs, unit=unit)


# name, dose unit, dose range, bag (amount, unit, mL)
_DRIPS = (
    ("dopamine", "mcg/kg/min", (2.0, 15.0), (400, "mg", 250)),
    ("dobutamine", "mcg/kg/min", (2.5, 12.0), (500, "mg", 250)),
    ("norepinephrine", "mcg/kg/min", (0.03, 0.4), (4, "mg", 250)),
    ("heparin", "units/kg/h", (12.0, 18.0), (25000, "units", 500)),
    ("insulin", "units/kg/h", (0.05, 0.14), (100, "units", 100)),
)
_TIMED = (
    ("normal saline", 1000, "mL", (4, 12), "h"),
    ("lactated Ringer's", 500, "mL", (2, 8), "h"),
    ("vancomycin 1.5 g in 300 mL", 300, "mL", (90, 150), "min"),
    ("piperacillin-tazobactam in 100 mL", 100, "mL", (30, 240), "min"),
    ("a unit of packed red cells (about 300 mL)", 300, "mL", (2, 4), "h"),
)


def _infusion_rate(rng: random.Random) -> Drafted:
    age = rng.randint(24, 88)
    female = rng.random() < 0.5
    vitals = _vitals(rng, 0.5)
    if rng.random() < 0.7:
        drug, dose_unit, (lo, hi), (amount, amount_unit, bag_ml) = rng.choice(_DRIPS)
        dose = round(rng.uniform(lo, hi), 2 if hi < 1 else 1)
        said, kg, weight_line, inputs = _weight(rng, 48, 130)
        conc = amount * (1000 if amount_unit == "mg" else 1) / bag_ml  # mcg/mL or units/mL
        per_hour = dose * kg * (60 if dose_unit.endswith("min") else 1)
        value = per_hour / conc
        per = "mcg" if amount_unit == "mg" else "units"
        story = [
            rng.choice(
                (
                    f"Night shift: {_person(age, female, rng, subject=True)} on the unit weighs {said}.",
                    f"{_cap(_person(age, female, rng, subject=True))} in ICU bed {rng.randint(2, 24)}, weight {said}.",
                )
            ),
            vitals,
            f"Pharmacy sent {drug} {amount:,} {amount_unit} in {bag_ml} mL and the order is {number(dose, 2)} "
            f"{dose_unit}.",
            rng.choice(("", "The line is a triple-lumen CVC.", "The previous bag ran out at 02:00.")),
        ]
        ask = rng.choice(
            (
                "What rate do I set the pump to, in mL/h?",
                "How many mL per hour is that?",
                "What's the infusion rate in mL/h?",
            )
        )
        steps = [
            weight_line,
            f"Concentration: {amount:,} {amount_unit} / {bag_ml} mL = {number(conc, 3)} {per}/mL.",
            f"Dose per hour: {number(dose, 2)} × {number(kg, 2)}"
            + (" × 60" if dose_unit.endswith("min") else "")
            + f" = {number(per_hour, 2)} {per}/h.",
            f"Rate: {number(per_hour, 2)} / {number(conc, 3)} = {number(value, 2)} mL/h.",
        ]
        inputs = {**inputs, "drug": drug, "dose": [dose, dose_unit], "bag": [amount, amount_unit, bag_ml]}
    else:
        fluid, volume, _, (lo, hi), time_unit = rng.choice(_TIMED)
        duration = rng.randint(lo, hi) if time_unit == "h" else rng.choice(range(lo, hi + 1, 15))
        hours = duration if time_unit == "h" else duration / 60
        value = volume / hours
        said = (
            f"{_say(duration, rng)} hours"
            if time_unit == "h"
            else rng.choice((f"{duration} minutes", f"{number(hours, 2)} hours"))
        )
        story = [
            f"{_cap(_person(age, female, rng, subject=True))} needs {fluid}"
            + (f" ({volume} mL)" if "mL" not in fluid else "")
            + f" over {said}.",
            vitals,
            rng.choice(
                (
                    "",
                    "The pump only takes whole mL/h, but give me the exact number.",
                    "There's already a maintenance line running at 80 mL/h on the other arm.",
                )
            ),
        ]
        ask = rng.choice(("What rate in mL/h?", "What should the pump be set to (mL per hour)?"))
        steps = [
            f"Time: {said} = {number(hours, 3)} h.",
            f"Rate: {volume} mL / {number(hours, 3)} h = {number(value, 2)} mL/h.",
        ]
        inputs = {"fluid": fluid, "volume_ml": volume, "duration": [duration, time_unit]}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


_PACKS = {
    0.5: "half a pack",
    1.0: "a pack",
    1.5: "a pack and a half",
    2.0: "two packs",
    2.5: "two and a half packs",
    3.0: "three packs",
}
_CIGARETTES = (5, 10, 15, 20, 25, 30, 40)


def _pack_years(rng: random.Random) -> Drafted:
    female = rng.random() < 0.5
    age = rng.randint(13, 24)
    periods, clauses = [], []
    for k in range(rng.randint(1, 3)):
        years = rng.randint(3, 25)
        if rng.random() < 0.5:
            packs = rng.choice(sorted(_PACKS))
            rate = rng.choice((_PACKS[packs] + " a day", f"{number(packs)} ppd"))
        else:
            cigs = rng.choice(_CIGARETTES)
            packs = cigs / 20
            rate = f"{_say(cigs, rng)} cigarettes a day"
        periods.append((packs, years, rate))
        end = age + years
        if k == 0:
            began = rng.choice(
                (f"started smoking at {_age_words(age, rng)}, {rate},", f"began at age {age} with {rate}")
            )
            clauses.append(f"{began} " + rng.choice((f"until {end}", f"for {_say(years, rng)} years")))
        else:
            clauses.append(
                rng.choice((f"then {rate} from {age} to {end}", f"then {rate} for {_say(years, rng)} years"))
            )
        age = end
    quit_years = rng.choice((0, 0, rng.randint(1, 20)))
    now = age + quit_years
    pronoun = _pronoun(female)
    ending = (
        f"and quit {_say(quit_years, rng)} years ago." if quit_years else "and still smokes at that rate."
    )
    history = ", ".join(clauses)
    story = [
        rng.choice(
            (
                f"Pre-op assessment for {_person(now, female, rng)}:",
                f"Lung screening referral, {_person(now, female, rng)}.",
            )
        ),
        f"{_cap(pronoun)} {history} {ending}",
        rng.choice(
            (
                "",
                f"{_cap(pronoun)} has vaped occasionally since." if quit_years else "",
                "Drinks two beers at weekends.",
                f"{_cap(_possessive(female))} partner smokes cigars.",
            )
        ),
        _background(rng, 0.5),
    ]
    ask = rng.choice(
        (
            "How many pack-years is that?",
            "What's the pack-year history?",
            "Work out the pack-years for the screening form.",
        )
    )
    value = sum(p * y for p, y, _ in periods)
    steps = [f"{r}: {number(p, 2)} packs/day × {y} years = {number(p * y, 2)}." for p, y, r in periods]
    steps.append(f"Total: {number(value, 2)} pack-years.")
    inputs = {"periods": [[p, y] for p, y, _ in periods]}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


def _glucose(rng: random.Random, lo: float, hi: float) -> tuple[str, float, str]:
    """A glucose as reported (mg/dL or mmol/L), in mg/dL, and the conversion line."""
    mg = rng.uniform(lo, hi)
    if rng.random() < 0.5:
        mg = round(mg)
        return f"glucose {mg} mg/dL", mg, f"Glucose {mg} mg/dL."
    mmol = round(mg / GLUCOSE_MG_DL_PER_MMOL_L, 1)
    mg = mmol * GLUCOSE_MG_DL_PER_MMOL_L
    return f"glucose {mmol} mmol/L", mg, f"Glucose {mmol} mmol/L × 18 = {number(mg, 1)} mg/dL."


def _serum_osmolality(rng: random.Random) -> Drafted:
    age = rng.randint(19, 90)
    female = rng.random() < 0.5
    sodium = rng.randint(122, 162)
    glucose_text, glucose, glucose_line = _glucose(rng, 70, 900)
    bun = rng.uniform(7, 110)
    if rng.random() < 0.5:
        bun = round(bun)
        urea_text, urea_line = f"BUN {bun} mg/dL", f"BUN {bun} mg/dL."
    else:
        urea = round(bun / UREA_TO_BUN_MG_DL, 1)
        bun = urea * UREA_TO_BUN_MG_DL
        urea_text, urea_line = (
            f"urea {urea} mmol/L",
            f"Urea {urea} mmol/L × {UREA_TO_BUN_MG_DL} = {number(bun, 2)} mg/dL BUN.",
        )
    value = 2 * sodium + glucose / 18 + bun / 2.8
    labs = [
        f"Na {sodium}",
        f"K {_lab(rng.uniform(3.0, 5.9))}",
        f"Cl {rng.randint(88, 118)}",
        glucose_text,
        urea_text,
        f"creatinine {_lab(rng.uniform(0.6, 3.5), 2)} mg/dL",
    ]
    rng.shuffle(labs)
    story = [
        rng.choice(
            (
                f"{_cap(_person(age, female, rng, subject=True))} is brought in drowsy after a fall.",
                f"Ward call about {_person(age, female, rng)} with new confusion.",
            )
        ),
        _vitals(rng, 0.5),
        f"Chemistry: {', '.join(labs)}.",
        rng.choice(("", "Ethanol level is undetectable.", f"Lactate {_lab(rng.uniform(0.8, 4.0))} mmol/L.")),
        _background(rng, 0.4),
    ]
    ask = rng.choice(
        (
            "What's the calculated serum osmolality (mOsm/kg)?",
            "Can you work out the calculated osmolality, in mOsm/kg?",
        )
    )
    steps = [
        glucose_line,
        urea_line,
        f"Osm = 2 × {sodium} + {number(glucose, 1)}/18 + {number(bun, 2)}/2.8 = {number(value, 2)} mOsm/kg.",
    ]
    inputs = {"sodium": sodium, "glucose_mg_dl": round(glucose, 9), "bun_mg_dl": round(bun, 9)}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


def _ckd_epi_2021(rng: random.Random) -> Drafted:
    age = rng.randint(22, 89)
    female = rng.random() < 0.5
    mg = math.exp(rng.uniform(math.log(0.5), math.log(6.0)))
    if rng.random() < 0.55:
        mg = round(mg, 2)
        creat_text, creat_line = f"creatinine {mg:.2f} mg/dL", f"Creatinine {mg:.2f} mg/dL."
    else:
        umol = round(mg * CREATININE_UMOL_PER_MG_DL)
        mg = umol / CREATININE_UMOL_PER_MG_DL
        creat_text = f"creatinine {umol} µmol/L"
        creat_line = f"Creatinine {umol} µmol/L / {CREATININE_UMOL_PER_MG_DL} = {number(mg, 3)} mg/dL."
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = mg / kappa
    value = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age * (1.012 if female else 1.0)
    race = rng.choice(
        (
            "",
            "",
            f"{_cap(_pronoun(female))} is Black.",
            f"{_cap(_pronoun(female))} is of South Asian descent.",
        )
    )
    story = [
        rng.choice(
            (
                f"Renal clinic: {_person(age, female, rng)} with {rng.choice(('diabetes', 'hypertension', 'lupus'))}.",
                f"Before contrast CT, {_person(age, female, rng, subject=True)} has labs back.",
            )
        ),
        race,
        f"Today's {creat_text}; urine albumin/creatinine ratio {rng.randint(5, 900)} mg/g.",
        rng.choice(("", f"Weight {rng.randint(52, 120)} kg.", _vitals(rng, 1.0))),
    ]
    ask = rng.choice(
        (
            "What's the eGFR by the 2021 CKD-EPI creatinine equation (mL/min/1.73 m²)?",
            "Estimate the GFR with CKD-EPI 2021 (creatinine only), in mL/min/1.73 m².",
        )
    )
    steps = [
        creat_line,
        f"{'Female' if female else 'Male'}: kappa {kappa}, alpha {alpha}; Scr/kappa = {number(ratio, 4)}.",
        f"eGFR = 142 × min^{alpha} × max^-1.2 × 0.9938^{age}"
        + (" × 1.012" if female else "")
        + f" = {number(value, 2)}.",
    ]
    inputs = {"age": age, "sex": "female" if female else "male", "creatinine_mg_dl": round(mg, 6)}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


_OXYGEN = (
    (0.21, "on room air"),
    (0.28, "on 28% via Venturi mask"),
    (0.35, "on a 35% Venturi mask"),
    (0.40, "on FiO2 0.40"),
    (0.50, "on 50% oxygen by face mask"),
    (0.60, "on high-flow at FiO2 60%"),
)


def _aa_gradient(rng: random.Random) -> Drafted:
    age = rng.randint(20, 88)
    female = rng.random() < 0.5
    fio2, on = rng.choice(_OXYGEN)
    kpa = rng.random() < 0.4
    while True:  # a gradient of at least 2 mmHg, computed from the values as written
        paco2 = rng.uniform(26, 70)
        pao2 = rng.uniform(45, max(50.0, fio2 * (760 - 47) - paco2 / 0.8 - 3))
        if kpa:
            pao2_kpa, paco2_kpa = round(pao2 / MMHG_PER_KPA, 1), round(paco2 / MMHG_PER_KPA, 1)
            pao2, paco2 = pao2_kpa * MMHG_PER_KPA, paco2_kpa * MMHG_PER_KPA
        else:
            pao2, paco2 = round(pao2), round(paco2)
        alveolar = fio2 * (760 - 47) - paco2 / 0.8
        if alveolar - pao2 >= 2:
            break
    if kpa:
        gas = f"PaO2 {pao2_kpa} kPa, PaCO2 {paco2_kpa} kPa"
        conversion = [
            f"PaO2 {pao2_kpa} kPa × {MMHG_PER_KPA} = {number(pao2, 2)} mmHg; "
            f"PaCO2 {paco2_kpa} kPa × {MMHG_PER_KPA} = {number(paco2, 2)} mmHg."
        ]
    else:
        gas = f"PaO2 {pao2} mmHg, PaCO2 {paco2} mmHg"
        conversion = []
    value = alveolar - pao2
    story = [
        rng.choice(
            (
                f"{_cap(_person(age, female, rng, subject=True))} came in short of breath, {on}.",
                f"ABG on {_person(age, female, rng)}, taken {on}:",
            )
        ),
        f"pH {rng.uniform(7.28, 7.50):.2f}, {gas}, HCO3 {rng.randint(18, 32)} mmol/L.",
        rng.choice(
            ("", f"SpO2 {rng.randint(86, 97)}% on the monitor.", f"Lactate {_lab(rng.uniform(0.8, 3.5))}.")
        ),
        "We're at sea level.",
    ]
    ask = rng.choice(
        (
            "What's the A-a gradient in mmHg? Assume a respiratory quotient of 0.8.",
            "Work out the alveolar-arterial oxygen gradient (mmHg), with RQ 0.8.",
        )
    )
    steps = [
        *conversion,
        f"PAO2 = {fio2} × (760 - 47) - {number(paco2, 2)}/0.8 = {number(alveolar, 2)} mmHg.",
        f"A-a = {number(alveolar, 2)} - {number(pao2, 2)} = {number(value, 2)} mmHg.",
    ]
    inputs = {
        "fio2": fio2,
        "pao2_mmhg": round(pao2, 9),
        "paco2_mmhg": round(paco2, 9),
        "units": "kPa" if kpa else "mmHg",
    }
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


def _corrected_sodium(rng: random.Random) -> Drafted:
    age = rng.randint(16, 80)
    female = rng.random() < 0.5
    sodium = rng.randint(118, 142)
    glucose_text, glucose, glucose_line = _glucose(rng, 250, 1200)
    value = sodium + 1.6 * (glucose - 100) / 100
    story = [
        rng.choice(
            (
                f"{_cap(_person(age, female, rng, subject=True))} with type 1 diabetes is vomiting and drowsy.",
                f"Handover: {_person(age, female, rng, subject=True)} admitted in DKA overnight.",
                f"{_cap(_person(age, female, rng, subject=True))} found at home confused; known diabetic.",
            )
        ),
        f"Labs: Na {sodium} mmol/L, K {_lab(rng.uniform(3.1, 6.2))}, {glucose_text}, HCO3 {rng.randint(6, 22)}, "
        f"beta-hydroxybutyrate {_lab(rng.uniform(0.3, 7.5))} mmol/L.",
        _vitals(rng, 0.5),
    ]
    ask = rng.choice(
        (
            "What's the sodium corrected for the glucose (Katz correction), in mmol/L?",
            "Using Katz, what's the corrected sodium (mmol/L)?",
        )
    )
    steps = [
        glucose_line,
        f"Na corrected = {sodium} + 1.6 × ({number(glucose, 1)} - 100)/100 = {number(value, 2)} mmol/L.",
    ]
    inputs = {"sodium": sodium, "glucose_mg_dl": round(glucose, 9)}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


def _mcisaac_score(rng: random.Random) -> Drafted:
    age = rng.choice((rng.randint(3, 14), rng.randint(15, 44), rng.randint(45, 80)))
    female = rng.random() < 0.5
    celsius = round(rng.choice((rng.uniform(36.4, 37.8), rng.uniform(38.2, 40.0))), 1)
    cough = rng.random() < 0.5
    nodes = rng.choice(("anterior", "none", "posterior"))
    tonsils = rng.choice(("exudate", "swollen", "normal"))
    he, his = _cap(_pronoun(female)), _cap(_possessive(female))
    findings = [
        f"temperature {_temperature(celsius, rng)}",
        rng.choice(("has a dry cough too", "coughing a bit"))
        if cough
        else rng.choice(("no cough", "denies any cough")),
        {
            "anterior": "tender, swollen anterior cervical nodes",
            "none": "no cervical lymphadenopathy",
            "posterior": "a few small posterior cervical nodes, non-tender",
        }[nodes],
        {
            "exudate": "exudate on both tonsils",
            "swollen": "enlarged, red tonsils without exudate",
            "normal": "tonsils look normal",
        }[tonsils],
    ]
    rng.shuffle(findings)
    story = [
        rng.choice(
            (
                f"{_cap(_person(age, female, rng, subject=True))} comes in with a sore throat for "
                f"{rng.randint(1, 5)} days.",
                f"Walk-in clinic: {_person(age, female, rng)}, sore throat since the weekend.",
            )
        ),
        f"On exam: {', '.join(findings)}.",
        rng.choice(
            (
                "",
                f"{he} has a runny nose.",
                f"{his} sister had strep last month.",
                "Rapid strep test is pending.",
                f"{he} is allergic to penicillin.",
            )
        ),
    ]
    ask = rng.choice(("What's the McIsaac score?", "What does the modified Centor (McIsaac) score come to?"))
    points = {
        "temperature > 38 °C": int(celsius > 38.0),
        "no cough": int(not cough),
        "tender/swollen anterior cervical nodes": int(nodes == "anterior"),
        "tonsillar swelling or exudate": int(tonsils != "normal"),
        "age": 1 if age <= 14 else 0 if age <= 44 else -1,
    }
    value = float(sum(points.values()))
    steps = [f"{k}: {v}" for k, v in points.items()] + [f"Total: {int(value)}."]
    inputs = {"age": age, "celsius": celsius, "cough": cough, "nodes": nodes, "tonsils": tonsils}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


def _ldl_friedewald(rng: random.Random) -> Drafted:
    age = rng.randint(30, 78)
    female = rng.random() < 0.5
    while True:
        total, hdl, tg = rng.randint(130, 320), rng.randint(28, 95), rng.randint(50, 390)
        if total - hdl - tg / 5 >= 40:
            break
    molar_in = rng.random() < 0.45
    molar_out = rng.random() < (0.7 if molar_in else 0.25)
    if molar_in:
        t_m, h_m, g_m = (
            round(total / CHOLESTEROL_MG_DL_PER_MMOL_L, 2),
            round(hdl / CHOLESTEROL_MG_DL_PER_MMOL_L, 2),
            round(tg / TRIGLYCERIDE_MG_DL_PER_MMOL_L, 2),
        )
        total, hdl = t_m * CHOLESTEROL_MG_DL_PER_MMOL_L, h_m * CHOLESTEROL_MG_DL_PER_MMOL_L
        tg = g_m * TRIGLYCERIDE_MG_DL_PER_MMOL_L
        panel = f"total cholesterol {t_m:.2f}, HDL {h_m:.2f}, triglycerides {g_m:.2f} (all mmol/L)"
        conversion = [f"In mg/dL: TC {number(total, 2)}, HDL {number(hdl, 2)}, TG {number(tg, 2)}."]
    else:
        panel = f"total cholesterol {total} mg/dL, HDL {hdl} mg/dL, triglycerides {tg} mg/dL"
        conversion = []
    ldl = total - hdl - tg / 5
    value, unit = (ldl / CHOLESTEROL_MG_DL_PER_MMOL_L, "mmol/L") if molar_out else (ldl, "mg/dL")
    story = [
        rng.choice(
            (
                f"Annual physical for {_person(age, female, rng)}.",
                f"{_cap(_person(age, female, rng, subject=True))} asks about starting a statin.",
            )
        ),
        f"Fasting panel: {panel}.",
        rng.choice(
            (
                "",
                f"HbA1c {_lab(rng.uniform(5.0, 8.5))}%.",
                f"ALT {rng.randint(12, 60)} U/L.",
                f"{_cap(_possessive(female))} father had an MI at {rng.randint(48, 70)}.",
            )
        ),
        _vitals(rng, 0.4),
    ]
    ask = rng.choice((f"What's the Friedewald LDL, in {unit}?", f"Calculate the LDL (Friedewald) in {unit}."))
    steps = [
        *conversion,
        f"LDL = {number(total, 2)} - {number(hdl, 2)} - {number(tg, 2)}/5 = {number(ldl, 2)} mg/dL.",
    ]
    if molar_out:
        steps.append(f"In mmol/L: {number(ldl, 2)} / {CHOLESTEROL_MG_DL_PER_MMOL_L} = {number(value, 3)}.")
    inputs = {
        "total_mg_dl": round(total, 9),
        "hdl_mg_dl": round(hdl, 9),
        "tg_mg_dl": round(tg, 9),
        "asked": unit,
    }
    return Drafted(_arrange(rng, story, ask), value, steps, inputs, unit=unit)


def _absolute_neutrophil_count(rng: random.Random) -> Drafted:
    age = rng.randint(18, 85)
    female = rng.random() < 0.5
    wbc = round(rng.uniform(0.4, 14.0), 1)
    segs = rng.randint(5, 78)
    bands = rng.choice((0, rng.randint(1, 12)))
    remaining = 100 - segs - bands
    lymph = rng.randint(min(5, remaining), remaining)
    mono = rng.randint(0, min(12, remaining - lymph))
    rest = remaining - lymph - mono
    written = rng.choice(
        (
            f"WBC {wbc} × 10^3/µL",
            f"WBC {wbc} × 10^9/L",
            f"white count {round(wbc * 1000):,}/mm³",
            f"WBC {wbc}K",
        )
    )
    diff = [f"segs {segs}%", f"lymphs {lymph}%", f"monos {mono}%"] + ([f"bands {bands}%"] if bands else [])
    diff += [f"eos {rest}%"] if rest else []
    rng.shuffle(diff)
    value = wbc * 1000 * (segs + bands) / 100
    story = [
        rng.choice(
            (
                f"{_cap(_person(age, female, rng, subject=True))} on day {rng.randint(7, 14)} after chemo calls "
                "with chills.",
                f"Oncology day unit: {_person(age, female, rng)}, pre-cycle bloods.",
            )
        ),
        f"CBC: {written}, hemoglobin {_lab(rng.uniform(8.0, 14.0))} g/dL, platelets {rng.randint(40, 380)}; "
        f"differential {', '.join(diff)}.",
        rng.choice(
            (
                "",
                f"Temperature {_temperature(round(rng.uniform(36.8, 39.2), 1), rng)}.",
                "The port site looks clean.",
            )
        ),
    ]
    ask = rng.choice(
        ("What's the ANC, in cells/µL?", "What is the absolute neutrophil count (cells per µL)?")
    )
    steps = [
        f"WBC = {number(wbc * 1000)} cells/µL; neutrophils = segs + bands = {segs + bands}%.",
        f"ANC = {number(wbc * 1000)} × {segs + bands}/100 = {number(value, 1)} cells/µL.",
    ]
    inputs = {"wbc_k_per_ul": wbc, "segs": segs, "bands": bands}
    return Drafted(_arrange(rng, story, ask), value, steps, inputs)


_REL = 0.02
NATURAL_CALCULATORS: dict[str, NaturalCalculator] = {
    c.name: c
    for c in (
        NaturalCalculator(
            "weight_based_dose",
            "a child's oral dose (mL of a suspension, or mg) from a mg/kg "
            "order, weight in kg, lb or lb and oz, a stated maximum per dose applied",
            "mL",
            1,
            _REL,
            0.1,
            _weight_based_dose,
        ),
        NaturalCalculator(
            "infusion_rate",
            "pump rate in mL/h for a weight-based drip (mcg/kg/min, units/kg/h) "
            "from the bag's strength, or a volume over hours or minutes",
            "mL/h",
            1,
            _REL,
            0.1,
            _infusion_rate,
        ),
        NaturalCalculator(
            "pack_years",
            "pack-years from a smoking history told in packs or cigarettes a day "
            "over ages or years, with a quit date and vaping as a distractor",
            "pack-years",
            2,
            0.0,
            0.05,
            _pack_years,
        ),
        NaturalCalculator(
            "serum_osmolality",
            "calculated serum osmolality (named, not written) from a chemistry "
            "panel with glucose in mg/dL or mmol/L and BUN or urea",
            "mOsm/kg",
            0,
            0.0,
            2.0,
            _serum_osmolality,
        ),
        NaturalCalculator(
            "ckd_epi_2021",
            "eGFR by the 2021 race-free CKD-EPI creatinine equation, creatinine in "
            "mg/dL or µmol/L, race mentioned as a distractor",
            "mL/min/1.73 m²",
            0,
            _REL,
            1.0,
            _ckd_epi_2021,
        ),
        NaturalCalculator(
            "aa_gradient",
            "alveolar-arterial oxygen gradient at sea level (RQ 0.8) from an ABG in "
            "mmHg or kPa on a stated FiO2",
            "mmHg",
            1,
            _REL,
            2.0,
            _aa_gradient,
        ),
        NaturalCalculator(
            "corrected_sodium",
            "sodium corrected for hyperglycaemia by Katz's factor, glucose in mg/dL or mmol/L",
            "mmol/L",
            1,
            0.0,
            0.5,
            _corrected_sodium,
        ),
        NaturalCalculator(
            "mcisaac_score",
            "the McIsaac (modified Centor) score from a sore-throat visit, "
            "temperature in °C or °F, posterior nodes as a distractor",
            "",
            0,
            0.0,
            0.0,
            _mcisaac_score,
        ),
        NaturalCalculator(
            "ldl_friedewald",
            "Friedewald LDL from a fasting panel in mg/dL or mmol/L, answer asked in either unit",
            "mg/dL",
            0,
            _REL,
            1.0,
            _ldl_friedewald,
        ),
        NaturalCalculator(
            "absolute_neutrophil_count",
            "ANC in cells/µL from a CBC with differential (segs and bands), WBC in 10^3/µL, 10^9/L or /mm³",
            "cells/µL",
            0,
            _REL,
            10.0,
            _absolute_neutrophil_count,
        ),
    )
}
NATURAL_FAMILIES: dict[str, str] = {name: c.description for name, c in NATURAL_CALCULATORS.items()}

# answer units that an item may pick instead of its family's: (decimals, absolute tolerance)
_OTHER_UNITS = {("weight_based_dose", "mg"): (1, 0.1), ("ldl_friedewald", "mmol/L"): (2, 0.03)}

_GENERATED: dict[tuple[str, int], list[Example]] = {}


def _example(calc: NaturalCalculator, drafted: Drafted, seed: int, index: int) -> Example:
    unit = drafted.unit or calc.unit
    decimals, abs_tol = _OTHER_UNITS.get((calc.name, unit), (calc.decimals, calc.abs_tol))
    answer = calc.answer_text(drafted.value, decimals)
    solution = "\n".join([*drafted.steps, f"\\boxed{{{answer}}}"])
    meta = {
        "answer_kind": "number",
        "calculator": calc.name,
        "natural_family": calc.name,
        "unit": unit,
        "decimals": decimals,
        "rel_tol": calc.rel_tol,
        "abs_tol": abs_tol,
        "value": round(drafted.value, 9),
        "inputs": drafted.inputs,
    }
    tail = f"{index:05d}" if seed == 0 else f"s{seed}-{index:05d}"
    return Example(
        f"healthcare/natural/{calc.name}/{tail}", calc.name, drafted.question, answer, solution, meta
    )


def _family_items(family: str, seed: int, count: int) -> list[Example]:
    """The first ``count`` items of ``family`` (generated once per process, then extended), each a question
    no earlier item of the family asked."""
    calc = NATURAL_CALCULATORS[family]
    items = _GENERATED.setdefault((family, seed), [])
    seen = {e.question for e in items}
    while len(items) < count:
        index = len(items)
        for attempt in range(MAX_ATTEMPTS):
            drafted = calc.draft(random.Random(f"healthcare/natural/{family}/{seed}/{index}/{attempt}"))
            if drafted.question not in seen:
                break
        else:
            raise RuntimeError(f"{family}: no new question in {MAX_ATTEMPTS} draws for item {index}")
        seen.add(drafted.question)
        items.append(_example(calc, drafted, seed, index))
    return items[:count]


def natural_example(family: str, index: int, *, seed: int = 0) -> Example:
    """Item ``index`` of one natural family.

    Raises:
        UnknownNameError: ``family`` is not one of :data:`NATURAL_FAMILIES`.

    >>> natural_example("mcisaac_score", 0).id
    'healthcare/natural/mcisaac_score/00000'
    """
    if family not in NATURAL_CALCULATORS:
        raise UnknownNameError("healthcare natural family", family, NATURAL_FAMILIES)
    return _family_items(family, seed, index + 1)[index]


def natural_examples(n: int, *, seed: int = 0) -> list[Example]:
    """``n`` natural-split items, round-robin over :data:`NATURAL_FAMILIES`; deterministic in (n, seed), and a
    longer request extends a shorter one.

    Raises:
        SrmzooError: ``n`` or ``seed`` is not a non-negative integer.

    >>> [e.family for e in natural_examples(2)]
    ['weight_based_dose', 'infusion_rate']
    """
    check_counts(n=n, seed=seed, example=200)
    families = tuple(NATURAL_CALCULATORS)
    return [natural_example(families[i % len(families)], i // len(families), seed=seed) for i in range(n)]
