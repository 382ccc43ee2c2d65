"""Short patient notes: the facts a calculation needs, plus distractors, in four note styles.

A :class:`PatientNote` holds facts (demographics, history, medications, findings, vitals, body size, ECG,
labs); :func:`render_note` writes them as text in one of four styles:

* seen in train and test: ``narrative`` ("A 67-year-old woman presents with ...; Labs: creatinine ...")
  and ``clipped`` ("67F, palpitations. PMH: HTN, T2DM. BP 148/86, HR 92. Cr 1.2 mg/dL");
* held out for the ``ood`` split: ``structured`` (labelled sections, results first, demographics last)
  and ``handover`` (a handover paragraph: results, then examination, background and finally who the
  patient is).

Held-out styles differ in section order, sentence frames, lab names ("serum creatinine") and vital-sign
wording ("blood pressure 148 over 86 mmHg"), and every condition, finding and medication has wordings
used only there (``Wording.held_out``: "high blood pressure" for hypertension, "extensor posturing to
pain" for extension to pain). A train or test note never uses a held-out template or wording, and an ood
note never uses a seen one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "CONDITIONS",
    "FINDINGS",
    "HELD_OUT_STYLES",
    "MEDICATIONS",
    "SEEN_STYLES",
    "Measurement",
    "PatientNote",
    "Wording",
    "render_note",
]

SEEN_STYLES = ("narrative", "clipped")
HELD_OUT_STYLES = ("structured", "handover")


@dataclass(frozen=True)
class Wording:
    """Ways to write one fact: ``seen`` ones appear in train/test notes, ``held_out`` ones only in ood.

    >>> Wording(("HTN",), ("high blood pressure",)).pick(random.Random(0), held_out=True)
    'high blood pressure'
    """

    seen: tuple[str, ...]
    held_out: tuple[str, ...]

    def pick(self, rng: random.Random, held_out: bool) -> str:
        return rng.choice(self.held_out if held_out else self.seen)


def _w(seen: Sequence[str], held_out: Sequence[str]) -> Wording:
    return Wording(tuple(seen), tuple(held_out))


CONDITIONS: dict[str, Wording] = {
    "hypertension": _w(["hypertension", "HTN"], ["high blood pressure"]),
    "diabetes": _w(["type 2 diabetes", "diabetes"], ["non-insulin-dependent diabetes"]),
    "heart_failure": _w(
        ["congestive heart failure", "CHF"], ["heart failure with reduced ejection fraction"]
    ),
    "stroke": _w(["prior stroke", "ischemic stroke"], ["an old cerebral infarct"]),
    "tia": _w(["TIA", "transient ischemic attack"], ["a transient ischaemic attack"]),
    "myocardial_infarction": _w(["prior MI", "myocardial infarction"], ["a heart attack in the past"]),
    "peripheral_artery_disease": _w(["peripheral artery disease", "PAD"], ["peripheral arterial disease"]),
    "cirrhosis": _w(["cirrhosis", "alcoholic cirrhosis"], ["cirrhotic liver disease"]),
    "hemodialysis": _w(["ESRD on hemodialysis", "hemodialysis"], ["end-stage kidney disease on dialysis"]),
    "kidney_transplant": _w(["kidney transplant", "renal transplant"], ["a functioning renal graft"]),
    "major_bleeding": _w(["prior GI bleed", "major bleeding"], ["a past hemorrhage needing transfusion"]),
    "labile_inr": _w(["labile INRs", "labile INR on warfarin"], ["unstable INR readings"]),
    "prior_dvt": _w(["prior DVT", "previous DVT"], ["a past clot in the leg veins"]),
    "prior_pe": _w(["prior PE", "previous pulmonary embolism"], ["a past clot in the lung"]),
    "active_cancer": _w(
        ["lung cancer on chemotherapy", "breast cancer treated 2 months ago"],
        ["metastatic colon cancer in palliative care"],
    ),
    # distractors: score no point in any calculator here, some look as if they might
    "remote_cancer": _w(["prostate cancer in remission for 10 years"], ["a melanoma excised 12 years ago"]),
    "hyperlipidemia": _w(["hyperlipidemia"], ["raised cholesterol"]),
    "hypothyroidism": _w(["hypothyroidism"], ["an underactive thyroid"]),
    "gerd": _w(["GERD"], ["acid reflux"]),
    "osteoarthritis": _w(["osteoarthritis"], ["arthritis of the knees"]),
    "gout": _w(["gout"], ["gouty arthritis"]),
    "asthma": _w(["asthma"], ["reactive airway disease"]),
}

DISTRACTOR_CONDITIONS = ("hyperlipidemia", "hypothyroidism", "gerd", "osteoarthritis", "gout", "asthma")

FINDINGS: dict[str, Wording] = {
    "confused": _w(
        ["confused", "disoriented to time and place"], ["newly muddled and not oriented to place"]
    ),
    "oriented": _w(["alert and oriented", "A&O x3"], ["fully oriented"]),
    "dvt_signs": _w(
        ["left calf swelling and tenderness", "signs of DVT in the right leg"],
        ["a swollen, tender leg suggesting deep vein thrombosis"],
    ),
    "pe_likely": _w(
        ["PE is the most likely diagnosis", "PE judged the leading diagnosis"],
        ["pulmonary embolism is thought likelier than alternatives"],
    ),
    "pe_unlikely": _w(
        ["pneumonia is thought more likely than PE"], ["an alternative diagnosis is favoured over PE"]
    ),
    "immobilized": _w(
        ["bedbound for {days} days", "immobilized for {days} days"], ["confined to bed for {days} days"]
    ),
    "recent_surgery": _w(
        ["knee replacement {weeks} weeks ago", "surgery {weeks} weeks ago"],
        ["hip surgery {weeks} weeks back"],
    ),
    "remote_surgery": _w(["appendectomy {months} months ago"], ["a hernia repair {months} months back"]),
    "hemoptysis": _w(["hemoptysis", "coughing up blood"], ["blood-streaked sputum"]),
    "alcohol": _w(
        ["drinks {n} drinks/week", "alcohol {n} drinks per week"], ["has {n} alcoholic drinks weekly"]
    ),
    "dialysis_recent": _w(
        ["hemodialysis {n} times in the past week", "dialyzed {n} times this week"],
        ["two or more dialysis runs this week ({n} sessions)"],
    ),
    "no_dialysis": _w(["not on dialysis", "no dialysis"], ["has never needed dialysis"]),
    "eye_4": _w(["eyes open spontaneously", "opens eyes spontaneously"], ["eyes already open on approach"]),
    "eye_3": _w(["opens eyes to voice", "eyes open to verbal command"], ["eyes open when spoken to"]),
    "eye_2": _w(["opens eyes to pain", "eyes open only to pain"], ["eyes open only to a sternal rub"]),
    "eye_1": _w(["no eye opening", "eyes closed even to pain"], ["eyes stay shut even to pressure"]),
    "verbal_5": _w(
        ["oriented speech", "converses normally and oriented"], ["answers questions appropriately"]
    ),
    "verbal_4": _w(["confused speech", "confused conversation"], ["talks in sentences but is disoriented"]),
    "verbal_3": _w(
        ["inappropriate words", "random inappropriate words"], ["says isolated words out of context"]
    ),
    "verbal_2": _w(["incomprehensible sounds", "moans only"], ["makes only groaning noises"]),
    "verbal_1": _w(["no verbal response", "makes no sounds"], ["no vocalisation at all"]),
    "motor_6": _w(["obeys commands", "follows commands"], ["squeezes a hand on request"]),
    "motor_5": _w(["localizes pain", "localizes to pain"], ["reaches for the painful stimulus"]),
    "motor_4": _w(["withdraws from pain", "withdraws to pain"], ["pulls the limb away from pain"]),
    "motor_3": _w(["abnormal flexion to pain", "decorticate posturing"], ["flexor posturing to pain"]),
    "motor_2": _w(["extension to pain", "decerebrate posturing"], ["extensor posturing to pain"]),
    "motor_1": _w(["no motor response", "flaccid to pain"], ["no limb movement to pain"]),
}

MEDICATIONS: dict[str, Wording] = {
    "aspirin": _w(["aspirin"], ["low-dose aspirin"]),
    "clopidogrel": _w(["clopidogrel"], ["prasugrel"]),
    "nsaid": _w(["ibuprofen", "naproxen"], ["diclofenac"]),
    "warfarin": _w(["warfarin"], ["a vitamin K antagonist"]),
    # no calculator here scores these
    "atorvastatin": _w(["atorvastatin"], ["rosuvastatin"]),
    "levothyroxine": _w(["levothyroxine"], ["thyroid hormone tablets"]),
    "omeprazole": _w(["omeprazole"], ["pantoprazole"]),
    "sertraline": _w(["sertraline"], ["citalopram"]),
    "allopurinol": _w(["allopurinol"], ["febuxostat"]),
}

DISTRACTOR_MEDICATIONS = ("atorvastatin", "levothyroxine", "omeprazole", "sertraline", "allopurinol")

# (narrative, clipped, held-out) names
LAB_NAMES: dict[str, tuple[str, str, str]] = {
    "sodium": ("sodium", "Na", "serum sodium"),
    "potassium": ("potassium", "K", "serum potassium"),
    "chloride": ("chloride", "Cl", "serum chloride"),
    "bicarbonate": ("bicarbonate", "HCO3", "serum bicarbonate"),
    "glucose": ("glucose", "Glu", "blood glucose"),
    "creatinine": ("creatinine", "Cr", "serum creatinine"),
    "bun": ("BUN", "BUN", "blood urea nitrogen"),
    "urea": ("urea", "urea", "serum urea"),
    "albumin": ("albumin", "Alb", "serum albumin"),
    "calcium": ("calcium", "Ca", "total calcium"),
    "bilirubin": ("bilirubin", "T bili", "total bilirubin"),
    "inr": ("INR", "INR", "prothrombin INR"),
    "hemoglobin": ("hemoglobin", "Hb", "haemoglobin"),
    "wbc": ("WBC", "WBC", "white cell count"),
    "platelets": ("platelets", "Plt", "platelet count"),
}


@dataclass(frozen=True)
class Measurement:
    """One measured value as the note writes it.

    Attributes:
        kind: a vital (``bp``, ``hr``, ``rr``, ``temp``, ``spo2``), ``weight``, ``height``, an ECG value
            (``ecg_hr``, ``qt``) or a lab name from ``LAB_NAMES``.
        value: the number as text (``"1.2"``, ``"148/86"``), or ``(feet, inches)`` for a height in ft-in.
        unit: the unit as written (``"mg/dL"``, ``"°F"``), or ``"ft-in"``.
    """

    kind: str
    value: str | tuple[int, int]
    unit: str = ""


@dataclass
class PatientNote:
    """The facts one note states. Keys of ``history``/``denied``/``medications``/``findings`` index the
    wording tables; ``findings`` carry format arguments (``("alcohol", {"n": 9})``)."""

    age: int
    female: bool
    complaint: str
    age_in_months: bool = False
    history: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    findings: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    vitals: list[Measurement] = field(default_factory=list)
    body: list[Measurement] = field(default_factory=list)
    ecg: list[Measurement] = field(default_factory=list)
    labs: list[Measurement] = field(default_factory=list)


def _article(words: str) -> str:
    """'an' before numbers read with a vowel sound (8, 11, 18, 80-89), else 'a'."""
    lead = words.split("-")[0]
    return "an" if lead.startswith("8") or lead in ("11", "18") else "a"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: Sequence[str], last: str = " and ") -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + last + items[-1]


def _person(note: PatientNote, style: str) -> str:
    if note.age_in_months:
        span, child = f"{note.age}-month-old", True
    else:
        span, child = f"{note.age}-year-old", note.age < 18
    noun = ("girl" if note.female else "boy") if child else ("woman" if note.female else "man")
    if style == "narrative":
        return f"{_cap(_article(span))} {span} {noun}"
    if style == "clipped":
        return (
            f"{_cap(_article(span))} {span} {noun}" if child else f"{note.age}{'F' if note.female else 'M'}"
        )
    sex = "female" if note.female else "male"
    if style == "structured":
        unit = "month" if note.age_in_months else "year"
        return f"{sex}, {note.age} {unit}{'s' if note.age != 1 else ''}"
    return f"this {span} {sex} patient"  # handover


def _height(m: Measurement, style: str) -> str:
    if m.unit == "ft-in":
        feet, inches = m.value
        if style == "clipped":
            return f"{feet}'{inches}\""
        return f"{feet} feet {inches} inches" if style in HELD_OUT_STYLES else f"{feet} ft {inches} in"
    if m.unit == "in" and style in HELD_OUT_STYLES:
        return f"{m.value} inches"
    return f"{m.value} {m.unit}"


def _vital(m: Measurement, style: str) -> str:
    v, u = m.value, m.unit
    frames = {
        "narrative": {
            "bp": f"BP {v} mmHg",
            "hr": f"HR {v} bpm",
            "rr": f"RR {v}/min",
            "temp": f"temperature {v} {u}",
            "spo2": f"SpO2 {v}%",
        },
        "clipped": {
            "bp": f"BP {v}",
            "hr": f"HR {v}",
            "rr": f"RR {v}",
            "temp": f"T {v} {u}",
            "spo2": f"SpO2 {v}%",
        },
    }
    held_out = {
        "bp": "blood pressure {} over {} mmHg".format(*str(v).split("/")) if m.kind == "bp" else "",
        "hr": f"pulse {v}/min",
        "rr": f"respiratory rate {v} per minute",
        "temp": f"temperature of {v} {u}",
        "spo2": f"oxygen saturation {v}% on air",
    }
    return frames.get(style, held_out)[m.kind]


def _body(note: PatientNote, style: str) -> str:
    parts = []
    for m in note.body:
        text = _height(m, style) if m.kind == "height" else f"{m.value} {m.unit}"
        if style == "narrative":
            parts.append(f"{m.kind} {text}")
        elif style == "clipped":
            parts.append(f"{'Wt' if m.kind == 'weight' else 'ht'} {text}")
        else:
            parts.append(f"weighs {text}" if m.kind == "weight" else f"is {text} tall")
    return _join(parts, ", " if style in SEEN_STYLES else " and ") if parts else ""


def _ecg(note: PatientNote, style: str) -> str:
    if not note.ecg:
        return ""
    got = {m.kind: m for m in note.ecg}
    hr, qt = got["ecg_hr"].value, got["qt"].value
    if style == "narrative":
        return f"ECG: heart rate {hr} bpm, QT interval {qt} ms"
    if style == "clipped":
        return f"ECG: HR {hr}, QT {qt} ms"
    return f"the ECG shows a ventricular rate of {hr}/min and a QT of {qt} msec"


def _labs(note: PatientNote, style: str) -> str:
    column = {"narrative": 0, "clipped": 1}.get(style, 2)
    return ", ".join(f"{LAB_NAMES[m.kind][column]} {m.value} {m.unit}".rstrip() for m in note.labs)


def _phrases(keys: Sequence[str], table: dict[str, Wording], rng: random.Random, held_out: bool) -> list[str]:
    return [table[k].pick(rng, held_out) for k in keys]


def _findings(note: PatientNote, rng: random.Random, held_out: bool) -> list[str]:
    return [FINDINGS[key].pick(rng, held_out).format(**args) for key, args in note.findings]


def render_note(note: PatientNote, style: str, rng: random.Random) -> str:
    """The note as text in ``style`` (one of ``SEEN_STYLES + HELD_OUT_STYLES``).

    >>> note = PatientNote(age=67, female=True, complaint="palpitations", history=["hypertension"],
    ...                    vitals=[Measurement("bp", "148/86")], labs=[Measurement("creatinine", "1.2", "mg/dL")])
    >>> render_note(note, "narrative", random.Random(1))
    'A 67-year-old woman is seen for palpitations. History of hypertension. BP 148/86 mmHg. Labs: creatinine 1.2 mg/dL.'
    >>> render_note(note, "structured", random.Random(1))
    'Results: serum creatinine 1.2 mg/dL.\\nObservations: blood pressure 148 over 86 mmHg.\\nBackground: high blood pressure.\\nPatient: female, 67 years; reason for visit: palpitations.'
    """
    held_out = style in HELD_OUT_STYLES
    if style not in SEEN_STYLES + HELD_OUT_STYLES:
        raise ValueError(f"unknown note style {style!r}")
    history = _phrases(note.history, CONDITIONS, rng, held_out)
    denied = _phrases(note.denied, CONDITIONS, rng, held_out)
    meds = _phrases(note.medications, MEDICATIONS, rng, held_out)
    findings = _findings(note, rng, held_out)
    vitals = ", ".join(_vital(m, style) for m in note.vitals)
    body, ecg, labs = _body(note, style), _ecg(note, style), _labs(note, style)
    person = _person(note, style)

    if style == "narrative":
        parts = [f"{person} is seen for {note.complaint}"]
        parts += [f"History of {_join(history)}"] if history else []
        parts += [f"No history of {_join(denied, ' or ')}"] if denied else []
        parts += [f"Takes {_join(meds)}"] if meds else []
        parts += [_cap(f) for f in findings]
        parts += [_cap(x) for x in (vitals, ecg, body) if x]
        parts += [f"Labs: {labs}"] if labs else []
        return ". ".join(parts) + "."
    if style == "clipped":
        parts = [f"{person}, {note.complaint}"]
        parts += [f"PMH: {', '.join(history)}"] if history else []
        parts += [f"Denies {', '.join(denied)}"] if denied else []
        parts += [f"Meds: {', '.join(meds)}"] if meds else []
        parts += [_cap("; ".join(findings))] if findings else []
        parts += [x for x in (vitals, ecg, _cap(body), _cap(labs)) if x]
        return ". ".join(parts) + "."
    if style == "structured":
        lines = [f"Results: {labs.replace(', ', '; ')}"] if labs else []
        lines += [f"ECG: {ecg.removeprefix('the ECG shows ')}"] if ecg else []
        observed = [x for x in (vitals.replace(", ", "; "), body.replace(" and ", "; ")) if x]
        lines += [f"Observations: {'; '.join(observed)}"] if observed else []
        lines += [f"Findings: {'; '.join(findings)}"] if findings else []
        background = history + [f"no {d}" for d in denied] + ([f"takes {_join(meds)}"] if meds else [])
        lines += [f"Background: {'; '.join(background)}"] if background else []
        lines.append(f"Patient: {person}; reason for visit: {note.complaint}")
        return ".\n".join(lines) + "."
    # handover: results first, the patient last
    parts = [f"Bloods show {labs}"] if labs else []
    parts += [_cap(ecg)] if ecg else []
    exam = findings + [x for x in (vitals, f"the patient {body}" if body else "") if x]
    parts += [f"On examination {'; '.join(exam)}"] if exam else []
    known = history + [f"no {d}" for d in denied]
    parts += [f"Known {_join(known)}"] if known else []
    parts += [f"Regular medicines: {_join(meds)}"] if meds else []
    parts.append(f"{_cap(person)} was reviewed for {note.complaint}")
    return ". ".join(parts) + "."
