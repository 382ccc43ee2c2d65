r"""An external clinical-calculation set whose gold values come from ``medcalc-bench``, for **evaluation only**.

The ``medcalc-bench`` package (imports as ``medcalc``, Apache-2.0; a port of the calculators of NCBI's
MedCalc-Bench, https://github.com/ncbi-nlp/MedCalc-Bench) ships calculator implementations but no patient
notes (MedCalc-Bench's notes are on the Hugging Face Hub only). This module writes the notes: seeded patient
vignettes in the style of a case report (past tense, history, examination, laboratory results, the ECG,
irrelevant findings and medications among them), one per item, over :data:`MEDCALC_TASKS` (21 calculators:
6 that the training families also cover, 15 that no training family uses). Each note states the inputs
the calculator needs, in units ``medcalc`` converts exactly (mass units for labs: its molar conversions
round the mol amount to 3 decimals, see ``crosscheck.py``; pounds, feet and inches, degrees Fahrenheit
are fine), and the question names the calculator the way MedCalc-Bench does, with no formula.

**The gold answer is** ``medcalc``'s ``Answer`` **for the inputs the note states** (never srmzoo's own
formulas), and the worked solution is ``medcalc``'s ``Explanation``. The tolerance is MedCalc-Bench's:
a decimal answer is correct within ±5% of the gold (``rel_tol`` 0.05), a score (CHA2DS2-VASc, Centor,
Child-Pugh) only when exact. Values that sit on a criterion's threshold (a temperature of 38.0 °C for the
Centor score, a bilirubin of 2.0 mg/dL for Child-Pugh) are redrawn, so no item hinges on a convention for
ties.

The set is fixed: item ``i`` is item ``i // 21`` of calculator ``i % 21``, drawn from
``random.Random`` seeded by the SHA-256 of ``"healthcare/medcalc/<calculator>/<index>"``;
:data:`MEDCALC_SIZE` items, 12 per calculator. It is evaluation only: none of its families is a training
family, and the contamination test checks that no note appears in any training set.
"""

from __future__ import annotations

import hashlib
import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from srmzoo.domain import Example
from srmzoo.errors import SrmzooError

__all__ = ["MEDCALC_SIZE", "MEDCALC_SOURCE", "MEDCALC_TASKS", "MedcalcTask", "Vignette", "medcalc_examples"]

PER_CALCULATOR = 12
DECIMAL_TOLERANCE = 0.05  # MedCalc-Bench: decimal answers within 5% of the gold; integer scores exact
BPM, MSEC, MMHG = "beats per minute", "msec", "mm hg"


@dataclass
class Vignette:
    """The facts one note states, and the inputs ``medcalc`` gets for them.

    Attributes:
        age, male: the patient.
        complaint: why they came.
        history: conditions present; ``denied``: conditions the note says are absent.
        vitals: name -> value text (``heart_rate``, ``bp``, ``temperature``, ``respiratory_rate``, ``spo2``);
            the renderer fills the others with plausible values.
        exam: findings on examination, as phrases.
        body: weight and height, as a phrase.
        labs: (name, value with unit) pairs.
        ecg: the ECG sentence.
        inputs: ``medcalc``'s input dict.
    """

    age: int
    male: bool
    complaint: str
    inputs: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    vitals: dict[str, str] = field(default_factory=dict)
    exam: list[str] = field(default_factory=list)
    body: str | None = None
    labs: list[tuple[str, str]] = field(default_factory=list)
    ecg: str | None = None


@dataclass(frozen=True)
class MedcalcTask:
    """One calculator of the set: the ``medcalc`` function that gives the gold, the question, the draw."""

    name: str
    function: str  # "module.function" in medcalc
    question: str
    draw: Callable[[random.Random], Vignette]
    score: bool = False  # an integer score: checked exactly
    in_training: bool = False  # a training family covers the same calculator (with srmzoo's own notes)
    unit: str | None = None


# ------------------------------------------------------------------------------------------------ drawing


def _sex(rng: random.Random) -> bool:
    return rng.random() < 0.5


def _weight(rng: random.Random, kg: float) -> tuple[str, tuple[float, str]]:
    if rng.random() < 0.4:
        lb = round(kg / 0.453592)
        return f"{lb} lb", (float(lb), "lbs")
    kg = round(kg, 1)
    return f"{kg:g} kg", (kg, "kg")


def _height(rng: random.Random, cm: float) -> tuple[str, tuple[Any, ...]]:
    r = rng.random()
    if r < 0.25:
        inches = round(cm / 2.54)
        return f"{inches // 12} ft {inches % 12} in", (inches // 12, "ft", inches % 12, "in")
    if r < 0.4:
        inches = round(cm / 2.54)
        return f"{inches} in", (float(inches), "in")
    cm = round(cm)
    return f"{cm} cm", (float(cm), "cm")


def _body(rng: random.Random, male: bool) -> tuple[str, tuple, tuple]:
    cm = rng.gauss(176 if male else 163, 7)
    kg = rng.uniform(48, 125) if male else rng.uniform(42, 115)
    (w_text, w), (h_text, h) = _weight(rng, kg), _height(rng, cm)
    return f"weighed {w_text} and was {h_text} tall", w, h


def _temperature(rng: random.Random, celsius: float) -> tuple[str, tuple[float, str]]:
    if rng.random() < 0.35:
        f = round(celsius * 9 / 5 + 32, 1)
        return f"{f:g} °F", (f, "degrees fahrenheit")
    c = round(celsius, 1)
    return f"{c:g} °C", (c, "degrees celsius")


def _qt(rng: random.Random) -> Vignette:
    hr, qt = rng.randint(48, 128), rng.randrange(320, 500, 2)
    v = Vignette(
        rng.randint(25, 85),
        _sex(rng),
        rng.choice(["palpitations", "a syncopal episode", "dizziness", "chest discomfort"]),
    )
    v.vitals["heart_rate"] = f"{hr} beats/min"
    v.ecg = f"An ECG showed sinus rhythm at {hr} beats/min with a QT interval of {qt} ms."
    v.inputs = {"heart_rate": (hr, BPM), "qt_interval": (qt, MSEC)}
    return v


def _electrolytes(rng: random.Random, v: Vignette, *, unit: str = "mEq/L") -> None:
    while True:
        na, cl, hco3 = rng.randint(128, 150), rng.randint(88, 112), rng.randint(6, 28)
        if na - cl - hco3 >= 6:
            break
    v.labs += [("sodium", f"{na} {unit}"), ("chloride", f"{cl} {unit}"), ("bicarbonate", f"{hco3} {unit}")]
    v.inputs.update({"sodium": (na, unit), "chloride": (cl, unit), "bicarbonate": (hco3, unit)})


_ACID_BASE_COMPLAINTS = [
    "vomiting and abdominal pain",
    "confusion",
    "shortness of breath",
    "generalized weakness",
]


def _anion_gap(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(18, 88), _sex(rng), rng.choice(_ACID_BASE_COMPLAINTS))
    _electrolytes(rng, v, unit=rng.choice(["mEq/L", "mmol/L"]))
    return v


def _albumin_anion_gap(rng: random.Random) -> Vignette:
    v = _anion_gap(rng)
    albumin = round(rng.uniform(1.5, 4.6), 1)
    v.labs.append(("albumin", f"{albumin:g} g/dL"))
    v.inputs["albumin"] = (albumin, "g/dL")
    return v


def _bmi(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(18, 85), _sex(rng), rng.choice(["a routine check-up", "knee pain", "fatigue"]))
    v.body, w, h = _body(rng, v.male)
    v.inputs = {"weight": w, "height": h}
    return v


def _ideal_body_weight(rng: random.Random) -> Vignette:
    v = _bmi(rng)
    v.inputs = {"sex": "Male" if v.male else "Female", "height": v.inputs["height"]}
    return v


def _map(rng: random.Random) -> Vignette:
    v = Vignette(
        rng.randint(20, 90), _sex(rng), rng.choice(["headache", "lightheadedness", "a fall at home"])
    )
    sbp = rng.randint(80, 200)
    dbp = rng.randint(max(40, sbp - 90), min(sbp - 20, 120))
    v.vitals["bp"] = f"{sbp}/{dbp} mmHg"
    v.inputs = {"sys_bp": (sbp, MMHG), "dia_bp": (dbp, MMHG)}
    return v


_CHA2DS2 = {
    "chf": "congestive heart failure",
    "hypertension": "hypertension",
    "stroke": "a prior ischemic stroke",
    "tia": "a transient ischemic attack",
    "vascular_disease": "peripheral arterial disease",
    "diabetes": "type 2 diabetes mellitus",
}


def _cha2ds2_vasc(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(40, 92), _sex(rng), "new-onset atrial fibrillation")
    present = {key: rng.random() < 0.4 for key in _CHA2DS2}
    if present["stroke"] and present["tia"]:
        present["tia"] = False
    v.history = [_CHA2DS2[k] for k, on in present.items() if on]
    v.denied = [
        _CHA2DS2[k].removeprefix("a ").removeprefix("prior ")
        for k, on in present.items()
        if not on and k in ("chf", "diabetes") and rng.random() < 0.5
    ]
    v.inputs = {"age": (v.age, "years"), "sex": "Male" if v.male else "Female", **present}
    return v


def _osmolality(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(20, 90), _sex(rng), rng.choice(["confusion", "polyuria and thirst", "lethargy"]))
    na, bun, glucose = rng.randint(125, 160), rng.randint(6, 90), rng.randint(70, 900)
    v.labs += [
        ("sodium", f"{na} mEq/L"),
        ("blood urea nitrogen", f"{bun} mg/dL"),
        ("glucose", f"{glucose} mg/dL"),
    ]
    v.inputs = {
        "sodium": (float(na), "mEq/L"),
        "bun": (float(bun), "mg/dL"),
        "glucose": (float(glucose), "mg/dL"),
    }
    return v


def _sodium_hyperglycemia(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(18, 85), _sex(rng), rng.choice(["polyuria and thirst", "nausea", "drowsiness"]))
    na, glucose = rng.randint(120, 145), rng.randint(180, 900)
    v.labs += [("sodium", f"{na} mEq/L"), ("glucose", f"{glucose} mg/dL")]
    v.inputs = {"sodium": (float(na), "mEq/L"), "glucose": (float(glucose), "mg/dL")}
    return v


def _ldl(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(30, 80), _sex(rng), "a cardiovascular risk assessment")
    tc, hdl, tg = rng.randint(160, 320), rng.randint(28, 85), rng.randint(60, 380)
    v.labs += [
        ("total cholesterol", f"{tc} mg/dL"),
        ("HDL cholesterol", f"{hdl} mg/dL"),
        ("triglycerides", f"{tg} mg/dL"),
    ]
    v.inputs = {
        "total_cholestrol": (float(tc), "mg/dL"),
        "hdl_cholestrol": (float(hdl), "mg/dL"),
        "triglycerides": (float(tg), "mg/dL"),
    }
    return v


def _homa_ir(rng: random.Random) -> Vignette:
    v = Vignette(rng.randint(20, 75), _sex(rng), "weight gain and fatigue")
    insulin, glucose = round(rng.uniform(2.5, 45), 1), rng.randint(70, 220)
    v.labs += [("fasting insulin", f"{insulin:g} µIU/mL"), ("fasting glucose", f"{glucose} mg/dL")]
    v.inputs = {"insulin": (insulin, "µIU/mL"), "glucose": (float(glucose), "mg/dL")}
    return v


def _fib4(rng: random.Random) -> Vignette:
    v = Vignette(
        rng.randint(30, 78), _sex(rng), rng.choice(["abnormal liver tests", "fatigue", "abdominal swelling"])
    )
    ast, alt, platelets = rng.randint(15, 220), rng.randint(10, 200), rng.randrange(60_000, 420_000, 1000)
    v.labs += [("AST", f"{ast} U/L"), ("ALT", f"{alt} U/L"), ("platelet count", f"{platelets:,}/µL")]
    v.inputs = {
        "age": (v.age, "years"),
        "ast": (float(ast), "U/L"),
        "alt": (float(alt), "U/L"),
        "platelet_count": (float(platelets), "µL"),
    }
    return v


def _ckd_epi(rng: random.Random) -> Vignette:
    v = Vignette(
        rng.randint(20, 88), _sex(rng), rng.choice(["leg swelling", "fatigue", "a medication review"])
    )
    creatinine = round(rng.uniform(0.5, 4.5), 2)
    v.labs.append(("creatinine", f"{creatinine:g} mg/dL"))
    v.inputs = {
        "age": (v.age, "years"),
        "sex": "Male" if v.male else "Female",
        "creatinine": (creatinine, "mg/dL"),
    }
    return v


def _free_water(rng: random.Random) -> Vignette:
    v = Vignette(
        rng.randint(20, 95), _sex(rng), rng.choice(["confusion", "poor oral intake", "fever and lethargy"])
    )
    w_text, w = _weight(rng, rng.uniform(40, 110))
    v.body = f"weighed {w_text}"
    sodium = rng.randint(146, 172)
    v.labs.append(("sodium", f"{sodium} mEq/L"))
    v.inputs = {
        "age": (v.age, "years"),
        "sex": "Male" if v.male else "Female",
        "weight": w,
        "sodium": (float(sodium), "mEq/L"),
    }
    return v


def _fena(rng: random.Random) -> Vignette:
    v = Vignette(
        rng.randint(25, 90), _sex(rng), rng.choice(["decreased urine output", "vomiting and diarrhea"])
    )
    na, cr = rng.randint(125, 150), round(rng.uniform(0.8, 6.0), 1)
    una, ucr = rng.randint(5, 120), rng.randint(20, 220)
    v.labs += [
        ("serum sodium", f"{na} mEq/L"),
        ("serum creatinine", f"{cr:g} mg/dL"),
        ("urine sodium", f"{una} mEq/L"),
        ("urine creatinine", f"{ucr} mg/dL"),
    ]
    v.inputs = {
        "sodium": (float(na), "mEq/L"),
        "creatinine": (cr, "mg/dL"),
        "urine_sodium": (float(una), "mEq/L"),
        "urine_creatinine": (float(ucr), "mg/dL"),
    }
    return v


def _centor(rng: random.Random) -> Vignette:
    exudate, nodes, cough_absent = (rng.random() < 0.5 for _ in range(3))
    complaint = "a sore throat without cough" if cough_absent else "a sore throat and a dry cough"
    v = Vignette(rng.randint(4, 70), _sex(rng), complaint)
    while True:
        celsius = rng.uniform(36.4, 40.0)
        if abs(celsius - 38.0) > 0.15:
            break
    text, temperature = _temperature(rng, celsius)
    v.vitals["temperature"] = text
    v.exam.append(
        "tonsillar swelling with exudate" if exudate else "mildly erythematous tonsils without exudate"
    )
    v.exam.append("tender anterior cervical lymphadenopathy" if nodes else "no cervical lymphadenopathy")
    v.inputs = {
        "age": (v.age, "years"),
        "temperature": temperature,
        "exudate_swelling_tonsils": exudate,
        "tender_lymph_nodes": nodes,
        "cough_absent": cough_absent,
    }
    return v


_ASCITES = {"Absent": "no ascites", "Slight": "mild ascites", "Moderate": "moderate ascites"}
_ENCEPHALOPATHY = {
    "No Encephalopathy": "no asterixis or confusion",
    "Grade 1-2": "mild confusion and asterixis (grade 1-2 hepatic encephalopathy)",
    "Grade 3-4": "somnolence (grade 3-4 hepatic encephalopathy)",
}


def _off(value: float, thresholds: tuple[float, ...], gap: float) -> bool:
    return all(abs(value - t) > gap for t in thresholds)


def _child_pugh(rng: random.Random) -> Vignette:
    v = Vignette(
        rng.randint(30, 80), _sex(rng), rng.choice(["abdominal distension", "jaundice", "confusion"])
    )
    v.history.append("alcohol-related cirrhosis")
    while True:
        bilirubin, albumin = round(rng.uniform(0.4, 5.0), 1), round(rng.uniform(2.0, 4.6), 1)
        inr = round(rng.uniform(0.9, 2.8), 2)
        if _off(bilirubin, (2, 3), 0.05) and _off(albumin, (2.8, 3.5), 0.05) and _off(inr, (1.7, 2.3), 0.02):
            break
    ascites = rng.choices(list(_ASCITES), weights=[5, 3, 2])[0]
    encephalopathy = rng.choices(list(_ENCEPHALOPATHY), weights=[5, 3, 2])[0]
    v.exam += [_ASCITES[ascites], _ENCEPHALOPATHY[encephalopathy]]
    v.labs += [
        ("total bilirubin", f"{bilirubin:g} mg/dL"),
        ("albumin", f"{albumin:g} g/dL"),
        ("INR", f"{inr:g}"),
    ]
    v.inputs = {
        "bilirubin": (bilirubin, "mg/dL"),
        "albumin": (albumin, "g/dL"),
        "inr": inr,
        "ascites": ascites,
        "encephalopathy": encephalopathy,
    }
    return v


def _qt_task(name: str, module: str, function: str, formula: str) -> MedcalcTask:
    return MedcalcTask(
        name,
        f"{module}.{function}",
        f"Using the {formula} formula, what is the patient's corrected QT interval in msec?",
        _qt,
        unit="msec",
    )


MEDCALC_TASKS: dict[str, MedcalcTask] = {
    t.name: t
    for t in [
        MedcalcTask(
            "bmi",
            "bmi_calculator.bmi_calculator_explanation",
            "What is the patient's body mass index (BMI) in kg/m²?",
            _bmi,
            in_training=True,
            unit="kg/m²",
        ),
        MedcalcTask(
            "mean_arterial_pressure",
            "mean_arterial_pressure.mean_arterial_pressure_explanation",
            "What is the patient's mean arterial pressure in mmHg?",
            _map,
            in_training=True,
            unit="mmHg",
        ),
        MedcalcTask(
            "anion_gap",
            "anion_gap.compute_anion_gap_explanation",
            "What is the patient's anion gap in mEq/L?",
            _anion_gap,
            in_training=True,
            unit="mEq/L",
        ),
        MedcalcTask(
            "qtc_bazett",
            "qt_calculator_bazett.bazett_calculator_explanation",
            "Using the Bazett formula, what is the patient's corrected QT interval in msec?",
            _qt,
            in_training=True,
            unit="msec",
        ),
        MedcalcTask(
            "ideal_body_weight",
            "ideal_body_weight.ibw_explanation",
            "What is the patient's ideal body weight in kg?",
            _ideal_body_weight,
            in_training=True,
            unit="kg",
        ),
        MedcalcTask(
            "cha2ds2_vasc",
            "cha2ds2_vasc_score.generate_cha2ds2_vasc_explanation",
            "What is the patient's CHA2DS2-VASc score?",
            _cha2ds2_vasc,
            score=True,
            in_training=True,
        ),
        _qt_task(
            "qtc_framingham", "qt_calculator_framingham", "framingham_calculator_explanation", "Framingham"
        ),
        _qt_task("qtc_hodges", "qt_calculator_hodges", "hodges_calculator_explanation", "Hodges"),
        _qt_task(
            "qtc_rautaharju", "qt_calculator_rautaharju", "rautaharju_calculator_explanation", "Rautaharju"
        ),
        MedcalcTask(
            "delta_gap",
            "delta_gap.compute_delta_gap_explanation",
            "What is the patient's delta gap in mEq/L?",
            _anion_gap,
            unit="mEq/L",
        ),
        MedcalcTask(
            "albumin_corrected_anion_gap",
            "albumin_corrected_anion.compute_albumin_corrected_anion_explanation",
            "What is the patient's albumin-corrected anion gap in mEq/L?",
            _albumin_anion_gap,
            unit="mEq/L",
        ),
        MedcalcTask(
            "serum_osmolality",
            "sOsm.compute_serum_osmolality_explanation",
            "What is the patient's calculated serum osmolality in mOsm/kg?",
            _osmolality,
            unit="mOsm/kg",
        ),
        MedcalcTask(
            "sodium_correction_hyperglycemia",
            "sch.compute_sodium_correction_hyperglycemia_explanation",
            "What is the patient's sodium concentration corrected for hyperglycemia, in mEq/L?",
            _sodium_hyperglycemia,
            unit="mEq/L",
        ),
        MedcalcTask(
            "ldl_calculated",
            "ldl_calculated.compute_ldl_explanation",
            "What is the patient's calculated LDL cholesterol in mg/dL?",
            _ldl,
            unit="mg/dL",
        ),
        MedcalcTask(
            "homa_ir", "homa_ir.compute_homa_ir_explanation", "What is the patient's HOMA-IR score?", _homa_ir
        ),
        MedcalcTask(
            "fib4",
            "fibrosis_4.compute_fib4_explanation",
            "What is the patient's Fibrosis-4 (FIB-4) index?",
            _fib4,
        ),
        MedcalcTask(
            "ckd_epi_2021",
            "ckd_epi_2021_creatinine.ckd_epi_2021_explanation",
            "Using the 2021 CKD-EPI creatinine equation, what is the patient's estimated GFR in "
            "mL/min/1.73 m²?",
            _ckd_epi,
            unit="mL/min/1.73 m²",
        ),
        MedcalcTask(
            "free_water_deficit",
            "free_water_deficit.free_water_deficit_explanation",
            "What is the patient's free water deficit in liters?",
            _free_water,
            unit="L",
        ),
        MedcalcTask(
            "fena",
            "compute_fena.compute_fena_explanation",
            "What is the patient's fractional excretion of sodium (FENa), in percent?",
            _fena,
            unit="%",
        ),
        MedcalcTask(
            "centor",
            "centor_score.compute_centor_score_explanation",
            "What is the patient's Centor score (modified/McIsaac)?",
            _centor,
            score=True,
        ),
        MedcalcTask(
            "child_pugh",
            "child_pugh_score.compute_child_pugh_score_explanation",
            "What is the patient's Child-Pugh score?",
            _child_pugh,
            score=True,
        ),
    ]
}
MEDCALC_SIZE = PER_CALCULATOR * len(MEDCALC_TASKS)
MEDCALC_SOURCE = (
    f"Clinical calculations, {MEDCALC_SIZE} seeded patient vignettes over {len(MEDCALC_TASKS)} calculators "
    f"({sum(not t.in_training for t in MEDCALC_TASKS.values())} that no training family uses), gold values from the "
    "medcalc-bench package's implementations of MedCalc-Bench's calculators (Apache-2.0; offline), ±5% for "
    "decimals and exact scores as in MedCalc-Bench; notes written by srmzoo, never trained on"
)

# ------------------------------------------------------------------------------------------------ writing

_OPENINGS = [
    "presented to the emergency department with {c}",
    "was seen in the outpatient clinic for {c}",
    "was admitted to the hospital with {c}",
    "was referred by the primary care physician for {c}",
]
_VISITS = ["was seen in the outpatient clinic for {c}", "came to the clinic for {c}"]  # reasons, not symptoms
_VISIT_REASONS = {"a routine check-up", "a cardiovascular risk assessment", "a medication review"}
_DISTRACTOR_HISTORY = [
    "hypothyroidism",
    "gastroesophageal reflux disease",
    "osteoarthritis of the knees",
    "seasonal allergies",
    "a remote appendectomy",
    "eczema",
    "migraine",
]
_DISTRACTOR_MEDICATIONS = [
    "omeprazole",
    "levothyroxine",
    "acetaminophen as needed",
    "a multivitamin",
    "loratadine",
    "vitamin D",
]
_DISTRACTOR_LABS: dict[str, Callable[[random.Random], str]] = {
    "hemoglobin": lambda r: f"{r.uniform(9, 16.5):.1f} g/dL",
    "white blood cell count": lambda r: f"{r.uniform(4, 15):.1f} x 10^3/µL",
    "potassium": lambda r: f"{r.uniform(3.2, 5.4):.1f} mEq/L",
    "calcium": lambda r: f"{r.uniform(8.3, 10.4):.1f} mg/dL",
    "magnesium": lambda r: f"{r.uniform(1.6, 2.5):.1f} mg/dL",
    "TSH": lambda r: f"{r.uniform(0.5, 4.5):.2f} mIU/L",
    "lactate": lambda r: f"{r.uniform(0.6, 2.4):.1f} mmol/L",
}


def _vital_text(v: Vignette, rng: random.Random) -> str:
    vitals = dict(v.vitals)
    vitals.setdefault("temperature", _temperature(rng, rng.uniform(36.3, 37.6))[0])
    vitals.setdefault("heart_rate", f"{rng.randint(58, 104)} beats/min")
    if "bp" not in vitals:
        sbp = rng.randint(104, 158)
        vitals["bp"] = f"{sbp}/{rng.randint(60, min(98, sbp - 30))} mmHg"
    vitals.setdefault("respiratory_rate", f"{rng.randint(12, 22)} breaths/min")
    vitals.setdefault("spo2", f"{rng.randint(93, 100)}% on room air")
    return (
        f"temperature was {vitals['temperature']}, heart rate {vitals['heart_rate']}, blood pressure "
        f"{vitals['bp']}, respiratory rate {vitals['respiratory_rate']} and oxygen saturation {vitals['spo2']}"
    )


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def render_vignette(v: Vignette, rng: random.Random) -> str:
    """The note as a short case report: presentation, history, examination, laboratory results, ECG.

    >>> v = Vignette(54, True, "palpitations", history=["hypertension"], labs=[("sodium", "140 mEq/L")])
    >>> print(render_vignette(v, random.Random(0)))  # doctest: +NORMALIZE_WHITESPACE
    A 54-year-old man was referred by the primary care physician for palpitations. His past medical history was
    notable for hypertension and hypothyroidism. Home medications included a multivitamin and acetaminophen as
    needed. On examination, temperature was 37.6 °C, heart rate 71 beats/min, blood pressure 136/68 mmHg,
    respiratory rate 16 breaths/min and oxygen saturation 95% on room air. Laboratory studies showed magnesium
    2.3 mg/dL and sodium 140 mEq/L.
    """
    he, his = ("he", "his") if v.male else ("she", "her")
    person = ("man" if v.male else "woman") if v.age >= 18 else ("boy" if v.male else "girl")
    article = "An" if str(v.age).startswith("8") or v.age in (11, 18) else "A"
    openings = _VISITS if v.complaint in _VISIT_REASONS else _OPENINGS
    parts = [f"{article} {v.age}-year-old {person} " + rng.choice(openings).format(c=v.complaint) + "."]
    history = [*v.history, *rng.sample(_DISTRACTOR_HISTORY, rng.randint(0, 2))]
    if history:
        parts.append(f"{his.capitalize()} past medical history was notable for {_join(history)}.")
    if v.denied:
        parts.append(f"{he.capitalize()} had no history of {' or '.join(v.denied)}.")
    if rng.random() < 0.7:
        parts.append(
            f"Home medications included {_join(rng.sample(_DISTRACTOR_MEDICATIONS, rng.randint(1, 2)))}."
        )
    parts.append(f"On examination, {_vital_text(v, rng)}.")
    if v.body:
        parts.append(f"{he.capitalize()} {v.body}.")
    if v.exam:
        parts.append(f"Examination revealed {_join(v.exam)}.")
    named = {name for name, _ in v.labs}
    spare = [name for name in _DISTRACTOR_LABS if name not in named]
    labs = [*v.labs, *((name, _DISTRACTOR_LABS[name](rng)) for name in rng.sample(spare, rng.randint(1, 3)))]
    rng.shuffle(labs)
    parts.append("Laboratory studies showed " + _join([f"{name} {value}" for name, value in labs]) + ".")
    if v.ecg:
        parts.append(v.ecg)
    return " ".join(parts)


# ------------------------------------------------------------------------------------------------ the set


def _medcalc_function(task: MedcalcTask) -> Callable[[dict[str, Any]], dict[str, Any]]:
    module, function = task.function.rsplit(".", 1)
    try:
        return getattr(importlib.import_module(f"medcalc.{module}"), function)
    except ImportError as err:
        raise SrmzooError(
            "the medcalc set needs the medcalc-bench package (its gold values)",
            hint="pip install medcalc-bench",
        ) from err


def _answer_text(value: float, score: bool) -> str:
    if score:
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _jsonable(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in inputs.items()}


def medcalc_example(name: str, index: int) -> Example:
    r"""Item ``index`` of calculator ``name``: a vignette, and ``medcalc``'s answer for the inputs it states.

    Raises:
        SrmzooError: medcalc-bench is not installed, or it returns no number for the inputs.

    >>> ex = medcalc_example("qtc_hodges", 0)
    >>> ex.id, ex.family, ex.meta["rel_tol"], ex.meta["medcalc_function"]
    ('medcalc/test/qtc_hodges/00000', 'medcalc-qtc_hodges', 0.05, 'medcalc.qt_calculator_hodges.hodges_calculator_explanation')
    """
    task = MEDCALC_TASKS[name]
    seed = int.from_bytes(hashlib.sha256(f"healthcare/medcalc/{name}/{index}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    vignette = task.draw(rng)
    note = render_vignette(vignette, rng)
    inputs = _jsonable(vignette.inputs)
    result = _medcalc_function(task)(dict(vignette.inputs))
    value = result.get("Answer") if isinstance(result, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SrmzooError(
            f"medcalc's {task.function} gave no number for {inputs}: {value!r}",
            hint="the medcalc-bench package changed its interface; pin medcalc-bench==1.7.0",
        )
    answer = _answer_text(float(value), task.score)
    from importlib.metadata import version

    return Example(
        id=f"medcalc/test/{name}/{index:05d}",
        family=f"medcalc-{name}",
        question=f"{note}\n\n{task.question}",
        answer=answer,
        solution=f"{str(result.get('Explanation', '')).strip()}\n\\boxed{{{answer}}}",
        meta={
            "answer_kind": "number",
            "calculator": name,
            "unit": task.unit,
            "rel_tol": 0.0 if task.score else DECIMAL_TOLERANCE,
            "abs_tol": 0.0,
            "medcalc_function": f"medcalc.{task.function}",
            "medcalc_inputs": inputs,
            "in_training_families": task.in_training,
            "source": f"medcalc-bench {version('medcalc-bench')}",
        },
    )


def medcalc_examples(n: int | None = None) -> list[Example]:
    """The first ``n`` (default: all :data:`MEDCALC_SIZE`) items, round-robin over the calculators.

    Raises:
        SrmzooError: ``n`` is not a non-negative integer or None, or medcalc-bench is missing.

    >>> [e.family for e in medcalc_examples(3)]
    ['medcalc-bmi', 'medcalc-mean_arterial_pressure', 'medcalc-anion_gap']
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise SrmzooError(f"n must be a non-negative integer or None, got {n!r}", hint="e.g. n=200")
    names = list(MEDCALC_TASKS)
    count = MEDCALC_SIZE if n is None else min(n, MEDCALC_SIZE)
    return [medcalc_example(names[i % len(names)], i // len(names)) for i in range(count)]
