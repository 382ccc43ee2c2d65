"""The clinical calculators behind the healthcare tasks, in canonical units, with their sources.

Every function takes canonical units (kg, cm or inches as named, mg/dL, mmol/L, mmHg, ms, beats/min);
unit conversion happens before (see :mod:`clinical_units`). Scores return their points per criterion, in
the order the score is usually taught, so worked solutions can list them.

Formulas and conventions:

* **BMI** = weight (kg) / height (m)^2 (Quetelet; WHO).
* **BSA, Mosteller** = sqrt(height (cm) x weight (kg) / 3600) m^2 (Mosteller, N Engl J Med 1987;317:1098).
* **Mean arterial pressure** = DBP + (SBP - DBP) / 3 mmHg.
* **Anion gap** = Na - (Cl + HCO3) mmol/L, potassium not included (Emmett & Narins, Medicine 1977).
* **Albumin-corrected calcium** = Ca (mg/dL) + 0.8 x (4.0 - albumin (g/dL)) (Payne et al., BMJ 1973).
* **QTc, Bazett** = QT / sqrt(RR) and **QTc, Fridericia** = QT / RR^(1/3), QT in ms, RR = 60 / heart
  rate in seconds (Bazett, Heart 1920; Fridericia, Acta Med Scand 1920).
* **Creatinine clearance, Cockcroft-Gault** = (140 - age) x weight (kg) x (0.85 if female) /
  (72 x serum creatinine (mg/dL)) mL/min, with *actual* body weight (Cockcroft & Gault, Nephron 1976).
* **Ideal body weight, Devine** = 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch of height over
  60 in (Devine, Drug Intell Clin Pharm 1974).
* **Adjusted body weight** = IBW + 0.4 x (actual weight - IBW).
* **Maintenance fluids, 4-2-1 rule** = 4 mL/kg/h for the first 10 kg, 2 mL/kg/h for the next 10 kg,
  1 mL/kg/h for every kg above 20 (Holliday & Segar, Pediatrics 1957).
* **CHA2DS2-VASc**: congestive heart failure 1, hypertension 1, age >= 75 2, diabetes 1, prior
  stroke/TIA/thromboembolism 2, vascular disease (prior MI, peripheral artery disease, aortic plaque) 1,
  age 65-74 1, female sex 1 (Lip et al., Chest 2010).
* **HAS-BLED**: uncontrolled hypertension (systolic > 160 mmHg) 1, abnormal renal function (dialysis,
  transplant, creatinine > 2.26 mg/dL) 1, abnormal liver function (cirrhosis) 1, stroke 1, prior major
  bleeding or predisposition 1, labile INR 1, elderly (age > 65) 1, drugs predisposing to bleeding
  (antiplatelets, NSAIDs) 1, alcohol >= 8 drinks/week 1 (Pisters et al., Chest 2010).
* **CURB-65**: confusion 1, BUN > 19 mg/dL (urea > 7 mmol/L) 1, respiratory rate >= 30/min 1,
  systolic < 90 or diastolic <= 60 mmHg 1, age >= 65 1 (Lim et al., Thorax 2003).
* **Wells' criteria for PE**: clinical signs of DVT 3, PE the most likely diagnosis 3, heart rate > 100
  1.5, immobilisation >= 3 days or surgery in the previous 4 weeks 1.5, previous DVT/PE 1.5,
  hemoptysis 1, malignancy treated within 6 months or palliative 1 (Wells et al., Thromb Haemost 2000).
* **Glasgow Coma Scale** = eye (1-4) + verbal (1-5) + motor (1-6) (Teasdale & Jennett, Lancet 1974).
* **MELD-Na**, UNOS/OPTN 2016 conventions (Kim et al., N Engl J Med 2008): creatinine, bilirubin and INR
  below 1.0 are set to 1.0; creatinine above 4.0 is set to 4.0, and creatinine is 4.0 for a patient
  dialysed at least twice in the past week (or on CVVHD in the past 24 h) whatever its value; sodium is
  bounded to 125-137 mmol/L. MELD(i) = 0.957 ln(Cr) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643,
  rounded to the tenth and multiplied by 10. If that is above 11, MELD = MELD(i) + 1.32 x (137 - Na) -
  0.033 x MELD(i) x (137 - Na). The result is rounded half up to an integer and capped at 40.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .clinical_units import round_half_up

__all__ = [
    "GCS_EYE",
    "GCS_MOTOR",
    "GCS_VERBAL",
    "MeldNa",
    "adjusted_body_weight",
    "anion_gap",
    "body_mass_index",
    "body_surface_area",
    "cha2ds2_vasc_points",
    "corrected_calcium",
    "creatinine_clearance",
    "curb_65_points",
    "glasgow_coma_points",
    "has_bled_points",
    "ideal_body_weight",
    "maintenance_fluid_rate",
    "mean_arterial_pressure",
    "meld_na",
    "qtc_bazett",
    "qtc_fridericia",
    "wells_pe_points",
]


def body_mass_index(weight_kg: float, height_cm: float) -> float:
    """BMI in kg/m^2.

    >>> round(body_mass_index(70, 175), 2)
    22.86
    """
    return weight_kg / (height_cm / 100) ** 2


def body_surface_area(weight_kg: float, height_cm: float) -> float:
    """Body surface area in m^2 by the Mosteller formula.

    >>> body_surface_area(80, 180)
    2.0
    """
    return math.sqrt(height_cm * weight_kg / 3600)


def mean_arterial_pressure(systolic: float, diastolic: float) -> float:
    """Mean arterial pressure in mmHg, DBP + (SBP - DBP)/3.

    >>> mean_arterial_pressure(120, 81)
    94.0
    """
    return diastolic + (systolic - diastolic) / 3


def anion_gap(sodium: float, chloride: float, bicarbonate: float) -> float:
    """Serum anion gap in mmol/L, without potassium.

    >>> anion_gap(140, 104, 24)
    12
    """
    return sodium - (chloride + bicarbonate)


def corrected_calcium(calcium_mg_dl: float, albumin_g_dl: float) -> float:
    """Total calcium corrected for albumin, in mg/dL (normal albumin 4.0 g/dL).

    >>> round(corrected_calcium(8.0, 2.5), 2)
    9.2
    """
    return calcium_mg_dl + 0.8 * (4.0 - albumin_g_dl)


def qtc_bazett(qt_ms: float, heart_rate: float) -> float:
    """Heart-rate corrected QT in ms, Bazett: QT / sqrt(60 / HR).

    >>> qtc_bazett(400, 60)
    400.0
    """
    return qt_ms / math.sqrt(60 / heart_rate)


def qtc_fridericia(qt_ms: float, heart_rate: float) -> float:
    """Heart-rate corrected QT in ms, Fridericia: QT / (60 / HR)^(1/3).

    >>> round(qtc_fridericia(360, 120), 1)
    453.6
    """
    return qt_ms / (60 / heart_rate) ** (1 / 3)


def creatinine_clearance(age: float, weight_kg: float, creatinine_mg_dl: float, female: bool) -> float:
    """Cockcroft-Gault creatinine clearance in mL/min with the weight given (actual body weight here).

    >>> creatinine_clearance(60, 72, 1.0, female=False)
    80.0
    """
    return (140 - age) * weight_kg * (0.85 if female else 1.0) / (72 * creatinine_mg_dl)


def ideal_body_weight(height_in: float, female: bool) -> float:
    """Devine ideal body weight in kg.

    >>> round(ideal_body_weight(70, female=False), 1)
    73.0
    """
    return (45.5 if female else 50.0) + 2.3 * (height_in - 60)


def adjusted_body_weight(weight_kg: float, ideal_kg: float) -> float:
    """Adjusted body weight in kg, IBW + 0.4 x (actual - IBW).

    >>> adjusted_body_weight(110, 70)
    86.0
    """
    return ideal_kg + 0.4 * (weight_kg - ideal_kg)


def maintenance_fluid_rate(weight_kg: float) -> float:
    """Hourly maintenance fluid rate in mL/h by the 4-2-1 rule.

    >>> maintenance_fluid_rate(8), maintenance_fluid_rate(15), maintenance_fluid_rate(70)
    (32, 50, 110)
    """
    if weight_kg <= 10:
        return 4 * weight_kg
    if weight_kg <= 20:
        return 40 + 2 * (weight_kg - 10)
    return 60 + (weight_kg - 20)


def cha2ds2_vasc_points(
    *,
    age: int,
    female: bool,
    heart_failure: bool,
    hypertension: bool,
    stroke_or_tia: bool,
    vascular_disease: bool,
    diabetes: bool,
) -> dict[str, int]:
    """Points per CHA2DS2-VASc criterion; the score is their sum.

    >>> p = cha2ds2_vasc_points(age=78, female=True, heart_failure=False, hypertension=True,
    ...                         stroke_or_tia=False, vascular_disease=True, diabetes=False)
    >>> p["age"], sum(p.values())
    (2, 5)
    """
    return {
        "heart failure": int(heart_failure),
        "hypertension": int(hypertension),
        "age": 2 if age >= 75 else 1 if age >= 65 else 0,
        "diabetes": int(diabetes),
        "stroke/TIA": 2 * int(stroke_or_tia),
        "vascular disease": int(vascular_disease),
        "female": int(female),
    }


def has_bled_points(
    *,
    systolic: int,
    renal: bool,
    liver: bool,
    stroke: bool,
    bleeding: bool,
    labile_inr: bool,
    age: int,
    drugs: bool,
    alcohol_per_week: int,
) -> dict[str, int]:
    """Points per HAS-BLED criterion; the score is their sum.

    >>> p = has_bled_points(systolic=172, renal=False, liver=False, stroke=True, bleeding=False,
    ...                     labile_inr=False, age=66, drugs=True, alcohol_per_week=8)
    >>> sum(p.values())
    5
    """
    return {
        "hypertension": int(systolic > 160),
        "renal": int(renal),
        "liver": int(liver),
        "stroke": int(stroke),
        "bleeding": int(bleeding),
        "labile INR": int(labile_inr),
        "elderly": int(age > 65),
        "drugs": int(drugs),
        "alcohol": int(alcohol_per_week >= 8),
    }


def curb_65_points(
    *, confusion: bool, bun_mg_dl: float, respiratory_rate: int, systolic: int, diastolic: int, age: int
) -> dict[str, int]:
    """Points per CURB-65 criterion; the score is their sum.

    >>> sum(curb_65_points(confusion=True, bun_mg_dl=25, respiratory_rate=30, systolic=100,
    ...                    diastolic=60, age=64).values())
    4
    """
    return {
        "confusion": int(confusion),
        "urea": int(bun_mg_dl > 19),
        "respiratory rate": int(respiratory_rate >= 30),
        "blood pressure": int(systolic < 90 or diastolic <= 60),
        "age": int(age >= 65),
    }


def wells_pe_points(
    *,
    dvt_signs: bool,
    pe_most_likely: bool,
    heart_rate: int,
    immobilized_or_surgery: bool,
    prior_vte: bool,
    hemoptysis: bool,
    malignancy: bool,
) -> dict[str, float]:
    """Points per Wells' criterion for pulmonary embolism; the score is their sum.

    >>> sum(wells_pe_points(dvt_signs=True, pe_most_likely=False, heart_rate=110, immobilized_or_surgery=False,
    ...                     prior_vte=True, hemoptysis=False, malignancy=True).values())
    7.0
    """
    return {
        "DVT signs": 3.0 * dvt_signs,
        "PE most likely": 3.0 * pe_most_likely,
        "heart rate": 1.5 * (heart_rate > 100),
        "immobilization/surgery": 1.5 * immobilized_or_surgery,
        "prior DVT/PE": 1.5 * prior_vte,
        "hemoptysis": 1.0 * hemoptysis,
        "malignancy": 1.0 * malignancy,
    }


GCS_EYE = {4: "spontaneous", 3: "to voice", 2: "to pain", 1: "none"}
GCS_VERBAL = {5: "oriented", 4: "confused", 3: "inappropriate words", 2: "incomprehensible sounds", 1: "none"}
GCS_MOTOR = {
    6: "obeys commands",
    5: "localizes pain",
    4: "withdraws from pain",
    3: "abnormal flexion",
    2: "extension",
    1: "none",
}


def glasgow_coma_points(eye: int, verbal: int, motor: int) -> dict[str, int]:
    """The three Glasgow Coma Scale components, checked against their ranges; the total is their sum.

    >>> sum(glasgow_coma_points(3, 4, 5).values())
    12
    """
    for name, value, table in (
        ("eye", eye, GCS_EYE),
        ("verbal", verbal, GCS_VERBAL),
        ("motor", motor, GCS_MOTOR),
    ):
        if value not in table:
            raise ValueError(f"GCS {name} response must be one of {sorted(table)}, got {value}")
    return {"E": eye, "V": verbal, "M": motor}


@dataclass(frozen=True)
class MeldNa:
    """A MELD-Na computation with its intermediate values (for worked solutions).

    Attributes:
        creatinine, bilirubin, inr, sodium: the values after the UNOS bounds and the dialysis rule.
        meld_i: 0.957 ln(Cr) + 0.378 ln(bili) + 1.120 ln(INR) + 0.643, unrounded.
        meld_i10: MELD(i) rounded to the tenth and multiplied by 10 (an integer).
        meld: the sodium-adjusted value before rounding (equal to ``meld_i10`` when that is <= 11).
        score: the final MELD-Na, rounded half up and capped at 40.
    """

    creatinine: float
    bilirubin: float
    inr: float
    sodium: float
    meld_i: float
    meld_i10: int
    meld: float
    score: int


def meld_na(creatinine: float, bilirubin: float, inr: float, sodium: float, dialysis: bool) -> MeldNa:
    """MELD-Na under the UNOS/OPTN 2016 conventions (see the module docstring).

    >>> meld_na(creatinine=0.8, bilirubin=2.0, inr=1.5, sodium=130, dialysis=True).score
    30
    >>> meld_na(creatinine=0.8, bilirubin=0.7, inr=1.0, sodium=140, dialysis=False).score
    6
    """
    # the dialysis rule overrides the 1.0 floor: a dialysed patient's creatinine counts as 4.0 whatever it is
    cr = 4.0 if dialysis else min(max(creatinine, 1.0), 4.0)
    bili = max(bilirubin, 1.0)
    inr_ = max(inr, 1.0)
    na = min(max(sodium, 125.0), 137.0)
    meld_i = 0.957 * math.log(cr) + 0.378 * math.log(bili) + 1.120 * math.log(inr_) + 0.643
    meld_i10 = int(round_half_up(meld_i, 1) * 10 + 0.5)
    meld = meld_i10 + 1.32 * (137 - na) - 0.033 * meld_i10 * (137 - na) if meld_i10 > 11 else float(meld_i10)
    score = min(int(round_half_up(meld)), 40)
    return MeldNa(cr, bili, inr_, na, meld_i, meld_i10, meld, score)
