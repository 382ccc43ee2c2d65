r"""The science domain's ``natural`` split: held-out question families, phrased the way people ask.

Evaluation only. None of these families is a training family (:data:`.chemistry.CHEMISTRY_FAMILIES`,
:data:`.biology.BIOLOGY_FAMILIES`): they ask new kinds of questions -- lab arithmetic with named
compounds, pH, yields, primer melting temperatures, mutation effects, reading frames, population
genetics -- rather than new values of a trained question. Each item reads like a person asking: a lab
story before or after the question, distractor details (some with numbers), numbers sometimes in words,
quantities in mixed units the question asks to convert, a molecule's common name beside its SMILES, and
no formula hints (a rule is named, not written out).

Truths: molar masses and element masses from RDKit (``Descriptors.MolWt``, the periodic table's atomic
weights), reaction products from :func:`.chemistry.reaction_product`, melting temperatures from
Biopython's ``MeltingTemp.Tm_Wallace``, translations from ``Seq.translate``. Answers are checked by the
domain's verifier (:mod:`.verify`): numbers within a tolerance the item records (about 1% for derived
quantities, 0.02 pH units, 0.1 percentage points for mass percentages), integers exactly, option
letters for mutation effects.

Item ``index`` of a family draws from ``stable_rng("science", "natural", family, seed, index, attempt)``;
a draw whose question repeats an earlier item of the family is redrawn (the next ``attempt``), so the
items of a family are distinct and a longer request extends a shorter one.

>>> ex = natural_examples(10)[3]
>>> ex.id, ex.family
('science/natural/strong_acid_base_ph/00000', 'strong_acid_base_ph')
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from random import Random
from typing import Any

from Bio.Data import CodonTable
from Bio.Seq import Seq
from Bio.SeqUtils import MeltingTemp
from rdkit import Chem
from rdkit.Chem import Descriptors, rdMolDescriptors

from srmzoo.domain import Example, check_counts
from srmzoo.errors import UnknownNameError
from srmzoo.phrasing import number_words, quantity_words

from .chemistry import reaction_product
from .sampling import example_id, stable_rng

__all__ = [
    "COMPOUNDS",
    "NATURAL_BIOLOGY",
    "NATURAL_CHEMISTRY",
    "NATURAL_FAMILIES",
    "natural_example",
    "natural_examples",
]

NATURAL_FAMILIES: dict[str, str] = {
    "mole_mass_conversion": "grams or milligrams of a named compound (SMILES beside it) to mol/mmol/µmol, or an "
    "amount to weigh out, from a bench story; the molar mass is not given",
    "solution_preparation": "how much of a named solid (hydrates included) to weigh for a volume of a molar "
    "solution, volumes in mL or L and concentrations in M, mM or µM, sometimes in words",
    "dilution": "how much stock (or water) to pipette to make a working solution or 1X buffer from a "
    "concentrated one, in mixed units, with the compound's molar mass as a distractor",
    "strong_acid_base_ph": "pH of a strong acid or base solution at 25 °C, given as a concentration, a mass "
    "dissolved to a volume, or a dilution of a stock",
    "element_mass_percent": "mass percentage of one element in a named compound, or grams of that element in "
    "a sample of it",
    "theoretical_yield": "theoretical (or percent) yield of a named ester or amide from masses or volumes "
    "(with densities) of the acid and its partner; the limiting reagent is not named",
    "primer_melting_temperature": "a PCR primer's melting temperature by the Wallace rule (rule named, not "
    "written), one primer or the lower of a pair",
    "point_mutation_effect": "whether one base change in a coding sequence (HGVS c. notation or words) is "
    "silent, missense or nonsense, as lettered options",
    "peptide_length": "how many amino acids (or codons, with the stop) an mRNA with a 5' UTR encodes from "
    "its first AUG",
    "hardy_weinberg": "carrier or genotype frequencies from a disease incidence ('1 in 2,500') or a "
    "recessive phenotype's share, assuming Hardy-Weinberg equilibrium",
}
NATURAL_CHEMISTRY = (
    "mole_mass_conversion",
    "solution_preparation",
    "dilution",
    "strong_acid_base_ph",
    "element_mass_percent",
    "theoretical_yield",
)
NATURAL_BIOLOGY = ("primer_melting_temperature", "point_mutation_effect", "peptide_length", "hardy_weinberg")

MAX_ATTEMPTS = 200  # redraws of a repeated question; the value spaces are large, so a handful suffices


@dataclass(frozen=True)
class Compound:
    """A compound people call by name; ``solid`` when it is weighed out as a powder or crystals."""

    name: str
    smiles: str
    solid: bool = True


COMPOUNDS: tuple[Compound, ...] = (
    Compound("caffeine", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"),
    Compound("aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O"),
    Compound("paracetamol", "CC(=O)NC1=CC=C(O)C=C1"),
    Compound("ibuprofen", "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O"),
    Compound("glucose", "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O"),
    Compound("sucrose", "OC[C@H]1O[C@@](CO)(O[C@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@@H]1O"),
    Compound("urea", "NC(N)=O"),
    Compound("glycine", "NCC(=O)O"),
    Compound("citric acid", "OC(=O)CC(O)(CC(=O)O)C(=O)O"),
    Compound("vanillin", "COC1=C(O)C=CC(C=O)=C1"),
    Compound("menthol", "CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O"),
    Compound("ascorbic acid", "OC[C@H](O)[C@H]1OC(=O)C(O)=C1O"),
    Compound("salicylic acid", "OC(=O)C1=CC=CC=C1O"),
    Compound("Tris base", "NC(CO)(CO)CO"),
    Compound("HEPES", "OCCN1CCN(CC1)CCS(=O)(=O)O"),
    Compound("EDTA free acid", "OC(=O)CN(CC(=O)O)CCN(CC(=O)O)CC(=O)O"),
    Compound("sodium chloride", "[Na+].[Cl-]"),
    Compound("potassium chloride", "[K+].[Cl-]"),
    Compound("sodium bicarbonate", "[Na+].OC([O-])=O"),
    Compound("copper(II) sulfate pentahydrate", "[Cu+2].[O-]S([O-])(=O)=O.O.O.O.O.O"),
    Compound("magnesium sulfate heptahydrate", "[Mg+2].[O-]S([O-])(=O)=O.O.O.O.O.O.O.O"),
    Compound("calcium chloride dihydrate", "[Ca+2].[Cl-].[Cl-].O.O"),
    Compound("dopamine", "NCCC1=CC(O)=C(O)C=C1"),
    Compound("serotonin", "NCCC1=CNC2=C1C=C(O)C=C2"),
    Compound("melatonin", "CC(=O)NCCC1=CNC2=C1C=C(OC)C=C2"),
    Compound("metformin", "CN(C)C(=N)N=C(N)N"),
    Compound("lidocaine", "CCN(CC)CC(=O)NC1=C(C)C=CC=C1C"),
    Compound("naproxen", "COC1=CC2=CC=C(C=C2C=C1)[C@H](C)C(=O)O"),
    Compound("theobromine", "CN1C=NC2=C1C(=O)NC(=O)N2C"),
    Compound("capsaicin", "COC1=C(O)C=CC(CNC(=O)CCCC/C=C/C(C)C)=C1"),
    Compound("L-tryptophan", "N[C@@H](CC1=CNC2=CC=CC=C12)C(=O)O"),
    Compound("L-DOPA", "N[C@@H](CC1=CC(O)=C(O)C=C1)C(=O)O"),
    Compound("benzoic acid", "OC(=O)C1=CC=CC=C1"),
    Compound("imidazole", "C1=CN=CN1"),
    Compound("thymol", "CC(C)C1=CC=C(C)C=C1O"),
    Compound("nicotine", "CN1CCC[C@H]1C1=CN=CC=C1", solid=False),
    Compound("cinnamaldehyde", "O=C/C=C/C1=CC=CC=C1", solid=False),
    Compound("glycerol", "OCC(O)CO", solid=False),
    Compound("lactic acid", "CC(O)C(=O)O", solid=False),
    Compound("ethanol", "CCO", solid=False),
)
_SOLIDS = tuple(c for c in COMPOUNDS if c.solid)

# name, SMILES, protons (acid) or hydroxides (base) per formula unit: all fully dissociated in water
_ACIDS = (
    ("hydrochloric acid", "Cl"),
    ("hydrobromic acid", "Br"),
    ("nitric acid", "O[N+](=O)[O-]"),
    ("perchloric acid", "OCl(=O)(=O)=O"),
)
_BASES = (("sodium hydroxide", "[Na+].[OH-]"), ("potassium hydroxide", "[K+].[OH-]"))


@dataclass(frozen=True)
class Reagent:
    """A reaction partner: its name, SMILES and density (g/mL) when it is a liquid one measures by volume."""

    name: str
    smiles: str
    density: float | None = None


# (acid, partner, product name): esterifications and amide couplings run by .chemistry.reaction_product
_SYNTHESES: tuple[tuple[Reagent, Reagent, str], ...] = (
    (Reagent("acetic acid", "CC(=O)O", 1.049), Reagent("ethanol", "CCO", 0.789), "ethyl acetate"),
    (
        Reagent("acetic acid", "CC(=O)O", 1.049),
        Reagent("isoamyl alcohol", "CC(C)CCO", 0.810),
        "isoamyl acetate (banana oil)",
    ),
    (
        Reagent("salicylic acid", "OC(=O)C1=CC=CC=C1O"),
        Reagent("methanol", "CO", 0.792),
        "methyl salicylate (oil of wintergreen)",
    ),
    (Reagent("butyric acid", "CCCC(=O)O", 0.960), Reagent("ethanol", "CCO", 0.789), "ethyl butyrate"),
    (
        Reagent("acetic acid", "CC(=O)O", 1.049),
        Reagent("benzyl alcohol", "OCC1=CC=CC=C1", 1.044),
        "benzyl acetate",
    ),
    (Reagent("acetic acid", "CC(=O)O", 1.049), Reagent("1-octanol", "CCCCCCCCO", 0.824), "octyl acetate"),
    (Reagent("propanoic acid", "CCC(=O)O", 0.990), Reagent("ethanol", "CCO", 0.789), "ethyl propanoate"),
    (Reagent("benzoic acid", "OC(=O)C1=CC=CC=C1"), Reagent("methanol", "CO", 0.792), "methyl benzoate"),
    (Reagent("acetic acid", "CC(=O)O", 1.049), Reagent("1-pentanol", "CCCCCO", 0.811), "pentyl acetate"),
    (Reagent("acetic acid", "CC(=O)O", 1.049), Reagent("aniline", "NC1=CC=CC=C1", 1.022), "acetanilide"),
    (
        Reagent("benzoic acid", "OC(=O)C1=CC=CC=C1"),
        Reagent("benzylamine", "NCC1=CC=CC=C1", 0.981),
        "N-benzylbenzamide",
    ),
    (Reagent("acetic acid", "CC(=O)O", 1.049), Reagent("4-aminophenol", "NC1=CC=C(O)C=C1"), "paracetamol"),
)

_ELEMENT_NAMES = {
    "C": "carbon",
    "H": "hydrogen",
    "N": "nitrogen",
    "O": "oxygen",
    "S": "sulfur",
    "Cl": "chlorine",
    "Na": "sodium",
    "K": "potassium",
    "Cu": "copper",
    "Mg": "magnesium",
    "Ca": "calcium",
}
_PT = Chem.GetPeriodicTable()
_STANDARD = CodonTable.unambiguous_dna_by_id[1]
_SENSE_CODONS = sorted(_STANDARD.forward_table)
_STOP_CODONS = sorted(_STANDARD.stop_codons)

_LAB_ASIDES = (
    "The bottle was opened last spring, but it has been kept dry.",
    "The lab is at about 22 °C today.",
    "My labmate says the balance reads to 0.1 mg.",
    "It's for a teaching lab on Thursday.",
    "The stock bottle's label is half peeled off.",
    "We're out of the 500 mL volumetric flasks, so I'll use a graduated cylinder.",
    "The fume hood on the left is broken again.",
    "Last time someone made it twice as strong by mistake.",
    "I already autoclaved the water.",
    "The supplier lists it at 99% purity; treat it as pure.",
    "My supervisor wants it done before the 3 pm group meeting.",
)
_BIO_ASIDES = (
    "The lab's thermocycler was recalibrated last week.",
    "We're using a standard Taq polymerase kit.",
    "The sample came from a mouse liver extract.",
    "My advisor wants the answer before Friday's meeting.",
    "The sequencing run had about 40x coverage.",
    "It's for a second-year genetics tutorial.",
    "The gel from yesterday showed a band near 500 bp.",
)


# ------------------------------------------------------------------------------------------------ numbers


def _quantize(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _sig(value: float, digits: int = 3) -> str:
    """``value`` rounded half up to ``digits`` significant figures, in plain notation.

    >>> _sig(0.0012345), _sig(12345.0), _sig(2.0)
    ('0.00123', '12300', '2.00')
    """
    d = Decimal(repr(value))
    rounded = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
    return format(rounded, "f")


def _plain(value: float) -> str:
    """A stated quantity without float noise or trailing zeros: ``0.25`` -> "0.25", ``250.0`` -> "250".

    >>> _plain(250.0), _plain(0.1 + 0.2), _plain(1e-05)
    ('250', '0.3', '0.00001')
    """
    text = format(Decimal(repr(round(value, 10))).normalize(), "f")
    return text


def _say(value: float, rng: Random, p: float = 0.3, *, whole: bool = False) -> str:
    """A stated number in digits, or (with probability ``p``, when people say it so) in words; ``whole``:
    only whole numbers in words (a quantity with a unit: "two hundred fifty mL", never "a half mL")."""
    words = quantity_words(value) if not whole or value == int(value) else None
    if words is not None and rng.random() < p:
        return words
    return _plain(value)


def _volume(value: float, unit: str, rng: Random) -> str:
    """A volume as said: "250 mL", or in words with the unit spelled out ("two hundred fifty millilitres").

    >>> _volume(250.0, "mL", Random(0)), _volume(2.0, "L", Random(1))
    ('250 mL', 'two litres')
    """
    said = _say(value, rng, whole=True)
    if said == _plain(value):
        return f"{said} {unit}"
    return f"{said} {dict(L='litre', mL='millilitre')[unit]}{'s' if value != 1 else ''}"


def _tolerance(value: float, relative: float = 0.01) -> float:
    return round(abs(value) * relative, 9)


def _number_meta(value: float, tolerance: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "number", "value": round(value, 9), "tolerance": tolerance, "unit": unit, **extra}


# (unit, factor from the base unit): amounts in mol, masses in g, volumes in L, concentrations in mol/L
_AMOUNT_UNITS = (("mol", 1.0), ("mmol", 1e-3), ("µmol", 1e-6))
_MASS_UNITS = (("g", 1.0), ("mg", 1e-3))
_VOLUME_UNITS = (("L", 1.0), ("mL", 1e-3), ("µL", 1e-6))
_CONC_UNITS = (("M", 1.0), ("mM", 1e-3), ("µM", 1e-6))


def _readable(value: float, units: tuple[tuple[str, float], ...], low: float = 0.1) -> tuple[str, float]:
    """The largest unit in which ``value`` (in the base unit) is at least ``low``, and the value in it."""
    for unit, factor in units:
        if value / factor >= low:
            return unit, value / factor
    unit, factor = units[-1]
    return unit, value / factor


def _molar_mass(smiles: str) -> float:
    return Descriptors.MolWt(_mol(smiles))


@functools.lru_cache(maxsize=256)
def _mol(smiles: str) -> Chem.Mol:
    return Chem.MolFromSmiles(smiles)


def _formula(smiles: str) -> str:
    return rdMolDescriptors.CalcMolFormula(_mol(smiles))


def _named(compound: Compound | Reagent, rng: Random) -> str:
    """A compound as people write it next to its structure: ``caffeine (CN1C=...)``, or with "SMILES"."""
    return rng.choice(
        (
            f"{compound.name} ({compound.smiles})",
            f"{compound.name} (SMILES {compound.smiles})",
            f"{compound.smiles} ({compound.name})",
        )
    )


def _arrange(rng: Random, story: str, ask: str, aside: str | None = None) -> str:
    """The question last (after the story) or first (then the story), with the aside somewhere in between."""
    parts = [story, aside] if aside else [story]
    if aside and rng.random() < 0.5:
        parts.reverse()
    return " ".join([*parts, ask] if rng.random() < 0.65 else [ask, *parts])


def _aside(rng: Random, pool: tuple[str, ...] = _LAB_ASIDES, p: float = 0.7) -> str | None:
    return rng.choice(pool) if rng.random() < p else None


# ------------------------------------------------------------------------------------------------ chemistry

Built = tuple[str, str, str, dict[str, Any]]


def _mole_mass(rng: Random) -> Built:
    compound = rng.choice(COMPOUNDS)
    mw = _molar_mass(compound.smiles)
    formula = _formula(compound.smiles)
    named = _named(compound, rng)
    if rng.random() < 0.5:  # a mass weighed out -> the amount
        grams = float(_sig(rng.uniform(0.02, 40.0), rng.choice((2, 3))))
        mass_unit, mass = _readable(grams, _MASS_UNITS, low=1.0)
        moles = grams / mw
        unit, value = _readable(moles, _AMOUNT_UNITS, low=rng.choice((0.1, 1.0)))
        story = rng.choice(
            (
                f"I weighed out {_plain(mass)} {mass_unit} of {named} for a stock solution.",
                f"My notebook says I used {_plain(mass)} {mass_unit} of {named} in yesterday's run.",
                f"There's {_plain(mass)} {mass_unit} of {named} left in the vial.",
            )
        )
        ask = rng.choice(
            (
                f"How many {unit} is that?",
                f"What amount is that in {unit}?",
                f"Roughly how many {unit} of {compound.name} do I have? Three significant figures is fine.",
            )
        )
        steps = [f"{_plain(mass)} mg = {_plain(grams)} g."] if mass_unit == "mg" else []
        steps.append(f"{_plain(grams)} g / {mw:.3f} g/mol = {moles:.6g} mol.")
        stated = {"grams": grams}
    else:  # an amount wanted -> the mass to weigh
        moles = float(_sig(rng.uniform(0.05, 30.0), 2)) * rng.choice((1e-3, 1e-3, 1e-2, 1e-4))
        amount_unit, amount = _readable(moles, _AMOUNT_UNITS, low=1.0)
        grams = moles * mw
        unit, value = _readable(grams, _MASS_UNITS, low=1.0)
        story = rng.choice(
            (
                f"The protocol calls for {_say(amount, rng, whole=True)} {amount_unit} of {named}.",
                f"For the coupling step I need {_say(amount, rng, whole=True)} {amount_unit} of {named}.",
                f"We want exactly {_say(amount, rng, whole=True)} {amount_unit} of {named} in each flask.",
            )
        )
        ask = rng.choice(
            (
                f"How many {unit} should I weigh out?",
                f"What mass is that, in {unit}?",
                f"How much do I put on the balance (in {unit})?",
            )
        )
        steps = [
            f"{_plain(amount)} {amount_unit} = {moles:.6g} mol.",
            f"{moles:.6g} mol × {mw:.3f} g/mol = {grams:.6g} g.",
        ]
        stated = {"moles": moles}
    question = _arrange(rng, story, ask, _aside(rng))
    answer = _sig(value)
    solution = "\n".join(
        [
            f"Molar mass of {compound.name} ({formula}): {mw:.3f} g/mol.",
            *steps,
            f"In {unit}: {answer}.",
            f"\\boxed{{{answer}}}",
        ]
    )
    meta = _number_meta(value, _tolerance(value), unit, molecule=compound.smiles, stated=stated)
    return question, answer, solution, meta


def _solution_preparation(rng: Random) -> Built:
    compound = rng.choice(_SOLIDS)
    mw = _molar_mass(compound.smiles)
    litres = rng.choice((0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0))
    molar = (
        rng.choice((1, 2, 5, 10, 20, 25, 50, 100, 150, 200, 250, 500, 1000)) * 1e-3 * rng.choice((1, 1, 0.1))
    )
    vol_unit = "L" if litres >= 1 and rng.random() < 0.6 else rng.choice(("mL", "L"))
    volume = litres / dict(_VOLUME_UNITS)[vol_unit]
    conc_unit, conc = _readable(molar, _CONC_UNITS, low=rng.choice((0.1, 1.0)))
    grams = molar * litres * mw
    unit, value = _readable(grams, _MASS_UNITS, low=0.5)
    named = _named(compound, rng)
    vol_text = (
        {0.5: "half a litre", 1.0: "a litre"}.get(litres) if vol_unit == "L" and rng.random() < 0.5 else None
    )
    vol_text = vol_text or _volume(volume, vol_unit, rng)
    story = rng.choice(
        (
            f"I need to make up {vol_text} of {_plain(conc)} {conc_unit} {named}.",
            f"For tomorrow's experiment we want {vol_text} of a {_plain(conc)} {conc_unit} solution of {named}.",
            f"The recipe on the whiteboard says: {compound.name}, {_plain(conc)} {conc_unit}, {vol_text} final volume. "
            f"The structure is {compound.smiles}.",
        )
    )
    ask = rng.choice(
        (
            f"How many {unit} do I weigh out?",
            f"What mass of it goes in, in {unit}?",
            f"How much should go on the balance, in {unit}?",
        )
    )
    question = _arrange(rng, story, ask, _aside(rng))
    answer = _sig(value)
    solution = "\n".join(
        [
            f"Molar mass of {compound.name} ({_formula(compound.smiles)}): {mw:.3f} g/mol.",
            f"Amount: {molar:.6g} mol/L × {litres:g} L = {molar * litres:.6g} mol.",
            f"Mass: {molar * litres:.6g} mol × {mw:.3f} g/mol = {grams:.6g} g = {answer} {unit}.",
            f"\\boxed{{{answer}}}",
        ]
    )
    stated = {"molar": molar, "litres": litres}
    return (
        question,
        answer,
        solution,
        _number_meta(value, _tolerance(value), unit, molecule=compound.smiles, stated=stated),
    )


_BUFFERS = ("PBS", "TAE", "TBE", "Tris-glycine running buffer", "SSC")


def _dilution(rng: Random) -> Built:
    final_l = rng.choice((0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0))
    final_unit = rng.choice(("mL", "L")) if final_l >= 0.25 else "mL"
    final = final_l / dict(_VOLUME_UNITS)[final_unit]
    aside = _aside(rng)
    if rng.random() < 0.3:  # an X-fold buffer stock
        buffer = rng.choice(_BUFFERS)
        stock_x = rng.choice((5, 10, 20, 50))
        target_x = rng.choice((1, 1, 0.5, 2)) if stock_x > 5 else 1
        ratio = target_x / stock_x
        story = rng.choice(
            (
                f"We keep {buffer} as a {stock_x}X stock and I need {_volume(final, final_unit, rng)} of "
                f"{_plain(target_x)}X for a gel.",
                f"There's a bottle of {stock_x}X {buffer} on the shelf; the protocol wants {_plain(final)} "
                f"{final_unit} of {_plain(target_x)}X.",
            )
        )
        stock_text, target_text = f"{stock_x}X", f"{_plain(target_x)}X"
    else:
        compound = rng.choice(COMPOUNDS)
        stock_m = rng.choice((0.1, 0.2, 0.5, 1.0, 2.0, 5.0)) * rng.choice((1, 1, 1e-1, 1e-2))
        ratio = rng.choice((0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.004, 0.001))
        target_m = stock_m * ratio
        s_unit, s_val = _readable(stock_m, _CONC_UNITS, low=1.0 if rng.random() < 0.5 else 0.1)
        t_unit, t_val = _readable(target_m, _CONC_UNITS, low=1.0)
        named = _named(compound, rng)
        if rng.random() < 0.5:
            aside = f"Its molar mass is {_molar_mass(compound.smiles):.2f} g/mol, if that matters."
        story = rng.choice(
            (
                f"I have a {_plain(s_val)} {s_unit} stock of {named} and need {_volume(final, final_unit, rng)} at "
                f"{_plain(t_val)} {t_unit}.",
                f"The freezer box has {compound.name} at {_plain(s_val)} {s_unit} (structure {compound.smiles}); the "
                f"assay wants {_plain(final)} {final_unit} of {_plain(t_val)} {t_unit}.",
            )
        )
        stock_text, target_text = f"{_plain(s_val)} {s_unit}", f"{_plain(t_val)} {t_unit}"
    stock_l = final_l * ratio
    water = rng.random() < 0.3 and ratio <= 0.5
    if water:  # the solvent to add instead of the stock
        water_l = final_l - stock_l
        unit, value = _readable(water_l, _VOLUME_UNITS[1:], low=1.0)
        ask = rng.choice(
            (
                f"How much water do I add to the stock, in {unit}?",
                f"What volume of water goes in with the stock ({unit})?",
            )
        )
        last = f"Water: {final_l:g} L - {stock_l:.6g} L = {water_l:.6g} L = {_sig(value)} {unit}."
    else:
        unit, value = _readable(stock_l, _VOLUME_UNITS[1:], low=1.0)
        ask = rng.choice(
            (
                f"How much of the stock do I pipette, in {unit}?",
                f"What volume of stock do I need ({unit})?",
                f"How many {unit} of the concentrated stuff go in?",
            )
        )
        last = f"In {unit}: {_sig(value)}."
    question = _arrange(rng, story, ask, aside)
    answer = _sig(value)
    solution = "\n".join(
        [
            f"Dilution factor: {target_text} / {stock_text} = {ratio:g}.",
            f"Stock volume: {ratio:g} × {final_l:g} L = {stock_l:.6g} L.",
            last,
            f"\\boxed{{{answer}}}",
        ]
    )
    stated = {"ratio": ratio, "final_litres": final_l, "water": water}
    return question, answer, solution, _number_meta(value, _tolerance(value), unit, stated=stated)


def _strong_acid_base_ph(rng: Random) -> Built:
    base = rng.random() < 0.4
    name, smiles = rng.choice(_BASES if base else _ACIDS)
    molar = float(_sig(10 ** rng.uniform(-3.8, -0.4), 2))
    mode = rng.choice(("mass", "dilution", "plain")) if base else rng.choice(("dilution", "plain", "plain"))
    temperature = "at 25 °C" if rng.random() < 0.5 else "at room temperature (25 °C)"
    if mode == "mass":
        mw = _molar_mass(smiles)
        litres = rng.choice((0.1, 0.25, 0.5, 1.0, 2.0))
        grams = float(_sig(molar * litres * mw, 2))
        molar = grams / mw / litres
        story = (
            f"I dissolved {_plain(grams)} g of {name} ({smiles}) pellets in water and made it up to "
            f"{_plain(litres * 1000)} mL."
        )
        how = [
            f"Molar mass {mw:.3f} g/mol; {_plain(grams)} g / {mw:.3f} = {grams / mw:.6g} mol in {litres:g} L.",
            f"Concentration: {molar:.6g} M.",
        ]
    elif mode == "dilution":
        stock = rng.choice((0.1, 0.5, 1.0, 2.0, 6.0))
        final_ml = rng.choice((100, 250, 500, 1000))
        stock_ml = molar * final_ml / stock
        stock_ml = float(_sig(stock_ml, 2))
        molar = stock * stock_ml / final_ml
        story = (
            f"Someone diluted {_plain(stock_ml)} mL of {_plain(stock)} M {name} to {_say(final_ml, rng)} mL "
            "with distilled water."
        )
        how = [f"Concentration: {_plain(stock)} M × {_plain(stock_ml)} mL / {final_ml} mL = {molar:.6g} M."]
    else:
        unit, value = _readable(molar, _CONC_UNITS, low=rng.choice((0.1, 1.0)))
        story = rng.choice(
            (
                f"A beaker holds {_plain(value)} {unit} {name} ({smiles}).",
                f"The bottle is labelled {name}, {_plain(value)} {unit}.",
            )
        )
        how = [f"Concentration: {molar:.6g} M."]
    ph = 14 + math.log10(molar) if base else -math.log10(molar)
    ask = rng.choice(
        (
            f"What's the pH {temperature}?",
            f"What pH should the meter read {temperature}?",
            f"Estimate its pH {temperature}, to two decimals.",
        )
    )
    aside = rng.choice(
        (
            "The meter was calibrated this morning.",
            "It's in a plastic bottle.",
            None,
            "My lab partner thinks it's around pH 7, which can't be right.",
        )
    )
    question = _arrange(rng, story, ask, aside)
    answer = str(_quantize(ph, 2))
    ion = "[OH-]" if base else "[H+]"
    last = (
        f"pOH = -log10({molar:.6g}) = {-math.log10(molar):.4f}; pH = 14 - pOH = {ph:.4f}."
        if base
        else f"pH = -log10({molar:.6g}) = {ph:.4f}."
    )
    solution = "\n".join(
        [
            f"{name} is a strong {'base' if base else 'acid'}: {ion} equals its concentration.",
            *how,
            last,
            f"\\boxed{{{answer}}}",
        ]
    )
    return question, answer, solution, _number_meta(ph, 0.02, "", stated={"molar": molar, "base": base})


def _element_mass_percent(rng: Random) -> Built:
    compound = rng.choice(COMPOUNDS)
    mol = _mol(compound.smiles)
    counts: dict[str, int] = {}
    for atom in Chem.AddHs(mol).GetAtoms():
        counts[atom.GetSymbol()] = counts.get(atom.GetSymbol(), 0) + 1
    symbol = rng.choice(
        sorted(s for s in counts if s != "H") + (["H"] if "H" in counts and rng.random() < 0.2 else [])
    )
    mw = _molar_mass(compound.smiles)
    weight = _PT.GetAtomicWeight(symbol)
    fraction = counts[symbol] * weight / mw
    element = _ELEMENT_NAMES[symbol]
    named = _named(compound, rng)
    steps = [
        f"Molar mass of {compound.name} ({_formula(compound.smiles)}): {mw:.3f} g/mol.",
        f"{element}: {counts[symbol]} × {weight:.3f} = {counts[symbol] * weight:.3f} g/mol, "
        f"fraction {fraction:.5f}.",
    ]
    if rng.random() < 0.6:
        value, unit = fraction * 100, "%"
        answer = str(_quantize(value, 2))
        story = rng.choice(
            (
                f"We're writing up the elemental analysis for {named}.",
                f"A student asked me about {named}.",
                f"The datasheet for {named} doesn't list its composition.",
            )
        )
        ask = rng.choice(
            (
                f"What percentage of its mass is {element}?",
                f"What's the mass percent of {element} in it?",
                f"How much of it, by mass, is {element} (as a percentage)?",
            )
        )
        tolerance = 0.1
        steps.append(f"Percent: {value:.4f}%.")
        stated = {"element": symbol}
    else:
        grams = float(_sig(rng.uniform(0.5, 50.0), 2))
        value, unit = grams * fraction, "g"
        answer = _sig(value)
        story = rng.choice(
            (
                f"There's {_say(grams, rng, whole=True)} g of {named} in the jar.",
                f"I'm burning {_plain(grams)} g of {named} in a combustion analysis.",
            )
        )
        ask = rng.choice(
            (f"How many grams of {element} does that contain?", f"What mass of {element} is in it, in grams?")
        )
        tolerance = _tolerance(value)
        steps.append(f"{_plain(grams)} g × {fraction:.5f} = {value:.5g} g.")
        stated = {"element": symbol, "grams": grams}
    question = _arrange(rng, story, ask, _aside(rng, p=0.5))
    solution = "\n".join([*steps, f"\\boxed{{{answer}}}"])
    return (
        question,
        answer,
        solution,
        _number_meta(value, tolerance, unit, molecule=compound.smiles, stated=stated),
    )


def _quantity(reagent: Reagent, moles: float, rng: Random) -> tuple[str, float]:
    """How a reagent's amount is written (a mass, or a volume with its density) and the moles it is."""
    mw = _molar_mass(reagent.smiles)
    if reagent.density and rng.random() < 0.5:
        ml = float(_sig(moles * mw / reagent.density, 2))
        return (
            f"{_plain(ml)} mL of {reagent.name} (density {reagent.density} g/mL)",
            ml * reagent.density / mw,
        )
    grams = float(_sig(moles * mw, rng.choice((2, 3))))
    return f"{_plain(grams)} g of {reagent.name}", grams / mw


def _theoretical_yield(rng: Random) -> Built:
    acid, partner, product_name = rng.choice(_SYNTHESES)
    reaction = "amide coupling" if "N" in partner.smiles else "esterification"
    product = reaction_product(reaction, acid.smiles, partner.smiles)
    moles = rng.uniform(0.01, 0.2)
    acid_text, acid_mol = _quantity(acid, moles, rng)
    partner_text, partner_mol = _quantity(partner, moles * rng.choice((0.6, 0.8, 1.25, 1.5, 2.0, 3.0)), rng)
    limiting = min(acid_mol, partner_mol)
    product_mw = _molar_mass(product)
    theoretical = limiting * product_mw
    story = rng.choice(
        (
            f"In the teaching lab we make {product_name} ({product}) from {acid_text} and {partner_text}.",
            f"My {reaction} run: {acid_text} ({acid.smiles}) with {partner_text} ({partner.smiles}), aiming for "
            f"{product_name}.",
            f"A student combined {partner_text} and {acid_text} to make {product_name}.",
        )
    )
    steps = [
        f"{acid.name}: {acid_mol:.5g} mol; {partner.name}: {partner_mol:.5g} mol; 1:1 reaction.",
        f"Limiting: {acid.name if acid_mol <= partner_mol else partner.name}, {limiting:.5g} mol.",
        f"Product {_formula(product)}: {product_mw:.3f} g/mol; {limiting:.5g} × {product_mw:.3f} = "
        f"{theoretical:.5g} g.",
    ]
    if rng.random() < 0.35:
        actual = float(_sig(theoretical * rng.uniform(0.35, 0.95), 3))
        value, unit = actual / theoretical * 100, "%"
        story += f" After workup she recovered {_plain(actual)} g of product."
        ask = rng.choice(("What's the percent yield?", "What percentage of the theoretical yield is that?"))
        answer = str(_quantize(value, 1))
        tolerance = _tolerance(value)
        steps.append(f"Percent yield: {_plain(actual)} / {theoretical:.5g} × 100 = {value:.3f}%.")
        stated = {"acid_moles": acid_mol, "partner_moles": partner_mol, "actual_grams": actual}
    else:
        value, unit = theoretical, "g"
        ask = rng.choice(
            (
                "What's the theoretical yield in grams?",
                f"At most how many grams of {product_name.split(' (')[0]} can this give?",
                "If everything goes perfectly, how many grams of product should I expect?",
            )
        )
        answer = _sig(value)
        tolerance = _tolerance(value)
        stated = {"acid_moles": acid_mol, "partner_moles": partner_mol}
    aside = rng.choice(
        (
            None,
            "Sulfuric acid is the catalyst.",
            "The reflux ran for an hour.",
            "The product smells nice, which is the fun part.",
            "Water is the only by-product.",
        )
    )
    question = _arrange(rng, story, ask, aside)
    solution = "\n".join([*steps, f"\\boxed{{{answer}}}"])
    meta = _number_meta(
        value, tolerance, unit, molecule=product, reactants=[acid.smiles, partner.smiles], stated=stated
    )
    return question, answer, solution, meta


# ------------------------------------------------------------------------------------------------ biology


def _dna(rng: Random, length: int, gc: float = 0.5) -> str:
    return "".join(rng.choice("GC") if rng.random() < gc else rng.choice("AT") for _ in range(length))


def _primer_melting_temperature(rng: Random) -> Built:
    pair = rng.random() < 0.4
    primers = [_dna(rng, rng.randint(14, 24), rng.uniform(0.35, 0.65)) for _ in range(2 if pair else 1)]
    tms = [MeltingTemp.Tm_Wallace(p) for p in primers]
    lines = [
        f"{p}: G+C = {p.count('G') + p.count('C')}, A+T = {p.count('A') + p.count('T')}, Tm = {tm:g} °C."
        for p, tm in zip(primers, tms, strict=True)
    ]
    amplicon = rng.choice((180, 250, 420, 610, 950))
    if pair:
        lower = min(tms)
        story = rng.choice(
            (
                f"For a {amplicon} bp amplicon I ordered forward primer 5'-{primers[0]}-3' and reverse primer "
                f"5'-{primers[1]}-3'.",
                f"My primer pair is F: {primers[0]} and R: {primers[1]} (both 5' to 3').",
            )
        )
        ask = rng.choice(
            (
                "Using the Wallace rule, what is the lower of the two melting temperatures, in °C?",
                "By the Wallace rule, which Tm is lower, and what is it? Give that Tm in °C.",
            )
        )
        value = lower
        lines.append(f"Lower Tm: {lower:g} °C.")
    else:
        story = rng.choice(
            (
                f"I'm designing a primer, 5'-{primers[0]}-3', for a {amplicon} bp product.",
                f"The oligo we ordered reads {primers[0]} (5' to 3').",
                f"Our sequencing primer is {primers[0]}.",
            )
        )
        ask = rng.choice(
            (
                "What's its melting temperature by the Wallace rule, in °C?",
                "Estimate the Tm with the Wallace rule (°C).",
                "Roughly what Tm does the Wallace rule give for it?",
            )
        )
        value = tms[0]
    question = _arrange(rng, story, ask, _aside(rng, _BIO_ASIDES))
    answer = _plain(value)
    solution = "\n".join([*lines, f"\\boxed{{{answer}}}"])
    return question, answer, solution, _number_meta(value, 0.5, "°C", sequences=primers)


_EFFECTS = ("silent", "missense", "nonsense")
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else _ORDINAL_SUFFIX.get(n % 10, 'th')}"


def _point_mutation_effect(rng: Random) -> Built:
    want = rng.choice(_EFFECTS)
    while True:
        codons = [
            "ATG",
            *(rng.choice(_SENSE_CODONS) for _ in range(rng.randint(6, 11))),
            rng.choice(_STOP_CODONS),
        ]
        seq = "".join(codons)
        protein = str(Seq(seq).translate())
        options = []
        for pos in range(3, len(seq) - 3):  # not the start codon, not the stop codon
            for alt in "ACGT":
                if alt == seq[pos]:
                    continue
                mutant = seq[:pos] + alt + seq[pos + 1 :]
                new = str(Seq(mutant).translate())
                codon = pos // 3
                effect = (
                    "silent"
                    if new[codon] == protein[codon]
                    else "nonsense"
                    if new[codon] == "*"
                    else "missense"
                )
                if effect == want:
                    options.append((pos, alt, codon, new[codon]))
        if options:
            break
    pos, alt, codon, new_aa = rng.choice(options)
    ref = seq[pos]
    order = list(_EFFECTS)
    rng.shuffle(order)
    letters = "ABC"
    answer = letters[order.index(want)]
    choices = "; ".join(f"({letters[i]}) {effect}" for i, effect in enumerate(order))
    where = rng.choice(
        (
            f"c.{pos + 1}{ref}>{alt}",
            f"a change of the {_ordinal(pos + 1)} base from {ref} to {alt}",
            f"{'an' if ref == 'A' else 'a'} {ref}-to-{alt} change at position {number_words(pos + 1)}",
        )
    )
    story = rng.choice(
        (
            f"Sequencing a patient's exon gave the reference coding sequence 5'-{seq}-3' (the A of the ATG is "
            f"position 1), and the patient carries {where}.",
            f"In our mutagenesis screen the gene fragment {seq} (coding strand, with the A of its ATG as position 1) "
            f"picked up {where}.",
            f"A student's reading frame is {seq}, counted from the A of ATG as 1; one clone shows {where}.",
        )
    )
    ask = rng.choice(
        (
            f"Is this change silent, missense or nonsense? {choices}.",
            f"What kind of mutation is it? {choices}.",
        )
    )
    aside = rng.choice(
        (
            None,
            "The fish line was outcrossed twice before sequencing.",
            "The gene sits on chromosome 7.",
            "Read depth at that base was 52x.",
            "The lab uses the standard genetic code.",
        )
    )
    question = _arrange(rng, story, ask, aside)
    old_codon = seq[codon * 3 : codon * 3 + 3]
    new_codon = old_codon[: pos % 3] + alt + old_codon[pos % 3 + 1 :]
    old_aa = protein[codon]
    solution = "\n".join(
        [
            f"Position {pos + 1} is base {pos % 3 + 1} of codon {codon + 1}: {old_codon} -> {new_codon}.",
            f"{old_codon} = {old_aa}; {new_codon} = {'stop' if new_aa == '*' else new_aa}: {want}.",
            f"\\boxed{{{answer}}}",
        ]
    )
    meta = {
        "kind": "choice",
        "letters": letters,
        "options": order,
        "sequence": seq,
        "mutation": f"{pos + 1}{ref}>{alt}",
    }
    return question, answer, solution, meta


def _peptide_length(rng: Random) -> Built:
    while True:
        utr = _dna(rng, rng.randint(5, 18)).replace("T", "U")
        if "AUG" not in utr:
            break
    body = [rng.choice(_SENSE_CODONS).replace("T", "U") for _ in range(rng.randint(3, 14))]
    tail = _dna(rng, rng.randint(3, 12)).replace("T", "U")
    rna = utr + "AUG" + "".join(body) + rng.choice(_STOP_CODONS).replace("T", "U") + tail
    start = rna.find("AUG")
    frame = rna[start : start + (len(rna) - start) // 3 * 3]
    peptide = str(Seq(frame).translate(to_stop=True))
    with_stop = rng.random() < 0.3
    value = len(peptide) + 1 if with_stop else len(peptide)
    story = rng.choice(
        (
            f"5' RACE gave us this transcript: 5'-{rna}-3'.",
            f"Here's an mRNA from the tutorial sheet, 5' to 3': {rna}.",
            f"Our reporter construct makes the message {rna} (written 5'->3').",
        )
    )
    ask = (
        "Counting the stop codon, how many codons does the ribosome read from the first AUG?"
        if with_stop
        else rng.choice(
            (
                "How many amino acids long is the peptide it encodes, starting at the first AUG?",
                "If translation starts at the first AUG, how many residues does the protein have?",
            )
        )
    )
    question = _arrange(rng, story, ask, _aside(rng, _BIO_ASIDES, p=0.5))
    codons = " ".join(frame[i : i + 3] for i in range(0, 3 * (len(peptide) + 1), 3))
    solution = "\n".join(
        [
            f"First AUG at position {start + 1}.",
            f"Codons: {codons} (the last is the stop).",
            f"Peptide: {peptide}, {len(peptide)} amino acids"
            + (f"; {value} codons with the stop." if with_stop else "."),
            f"\\boxed{{{value}}}",
        ]
    )
    return question, str(value), solution, {"kind": "integer", "sequence": rna}


_RECESSIVE = (
    "cystic fibrosis",
    "phenylketonuria",
    "Tay-Sachs disease",
    "sickle cell disease",
    "spinal muscular atrophy",
    "a recessive form of deafness",
    "albinism",
)
_TRAITS = (
    ("moths", "pale wings"),
    ("snapdragons", "white flowers"),
    ("mice", "a dilute coat"),
    ("fruit flies", "vestigial wings"),
    ("pea plants", "wrinkled seeds"),
)


def _incidence_words(n: int, rng: Random) -> str:
    return f"1 in {n:,}" if rng.random() < 0.6 else f"one in {number_words(n)}"


def _hardy_weinberg(rng: Random) -> Built:
    if rng.random() < 0.55:
        n = rng.choice((900, 1600, 2000, 2500, 3000, 3500, 4000, 6000, 10000, 15000, 25000, 40000))
        q2 = 1 / n
        condition = rng.choice(_RECESSIVE)
        story = rng.choice(
            (
                f"In our region about {_incidence_words(n, rng)} newborns has {condition}, which is autosomal "
                "recessive.",
                f"A genetic counsellor says {condition} (autosomal recessive) affects {_incidence_words(n, rng)} "
                "births here.",
            )
        )
        source = f"q^2 = 1/{n}"
    else:
        percent = rng.choice((1, 4, 9, 12, 16, 20, 25, 30, 36, 49))
        q2 = percent / 100
        organisms, trait = rng.choice(_TRAITS)
        story = rng.choice(
            (
                f"In a field survey, {_say(percent, rng)} percent of the {organisms} had {trait}, a recessive trait.",
                f"{percent}% of the {organisms} in the greenhouse show {trait} (recessive).",
            )
        )
        source = f"q^2 = {q2:g}"
    q = math.sqrt(q2)
    p = 1 - q
    asked = rng.choice(("carriers", "carriers", "dominant homozygotes", "dominant allele"))
    if asked == "carriers":
        value = 2 * p * q * 100
        ask = rng.choice(
            (
                "What percentage of the population are heterozygous carriers?",
                "What share of people carry one copy, as a percent?",
            )
        )
        last = f"2pq = 2 × {p:.5f} × {q:.5f} = {value / 100:.6f} = {value:.4f}%."
    elif asked == "dominant homozygotes":
        value = p * p * 100
        ask = "What percentage are homozygous for the dominant allele?"
        last = f"p^2 = {p:.5f}^2 = {value:.4f}%."
    else:
        value = p * 100
        ask = "What is the frequency of the dominant allele, as a percent?"
        last = f"p = {value:.4f}%."
    ask += rng.choice(
        (
            "",
            " Assume Hardy-Weinberg equilibrium.",
            " Assume the population is in Hardy-Weinberg equilibrium.",
        )
    )
    aside = rng.choice(
        (
            None,
            "The survey covered three districts.",
            "Mutation rates are negligible here.",
            "About half the population is under 30.",
        )
    )
    question = _arrange(rng, story, ask, aside)
    answer = str(_quantize(value, 2))
    solution = "\n".join([f"{source}, so q = {q:.5f} and p = 1 - q = {p:.5f}.", last, f"\\boxed{{{answer}}}"])
    return question, answer, solution, _number_meta(value, 0.05, "%")


_BUILDERS: dict[str, Callable[[Random], Built]] = {
    "mole_mass_conversion": _mole_mass,
    "solution_preparation": _solution_preparation,
    "dilution": _dilution,
    "strong_acid_base_ph": _strong_acid_base_ph,
    "element_mass_percent": _element_mass_percent,
    "theoretical_yield": _theoretical_yield,
    "primer_melting_temperature": _primer_melting_temperature,
    "point_mutation_effect": _point_mutation_effect,
    "peptide_length": _peptide_length,
    "hardy_weinberg": _hardy_weinberg,
}


_GENERATED: dict[tuple[str, int], list[Example]] = {}


def _family_items(family: str, seed: int, count: int) -> list[Example]:
    """The first ``count`` items of ``family`` (generated once per process, then extended), each a question
    no earlier item of the family asked."""
    items = _GENERATED.setdefault((family, seed), [])
    seen = {e.question for e in items}
    while len(items) < count:
        index = len(items)
        for attempt in range(MAX_ATTEMPTS):
            rng = stable_rng("science", "natural", family, seed, index, attempt)
            question, answer, solution, meta = _BUILDERS[family](rng)
            if question not in seen:
                break
        else:
            raise RuntimeError(f"{family}: no new question in {MAX_ATTEMPTS} draws for item {index}")
        seen.add(question)
        meta = {**meta, "natural_family": family}
        items.append(
            Example(example_id("natural", family, seed, index), family, question, answer, solution, meta)
        )
    return items[:count]


def natural_example(family: str, index: int, *, seed: int = 0) -> Example:
    """Item ``index`` of one natural family.

    Raises:
        UnknownNameError: ``family`` is not one of :data:`NATURAL_FAMILIES`.

    >>> natural_example("hardy_weinberg", 0).id
    'science/natural/hardy_weinberg/00000'
    """
    if family not in _BUILDERS:
        raise UnknownNameError("science natural family", family, NATURAL_FAMILIES)
    return _family_items(family, seed, index + 1)[index]


def natural_examples(n: int, *, seed: int = 0) -> list[Example]:
    """``n`` natural-split items, round-robin over :data:`NATURAL_FAMILIES`; deterministic in (n, seed), and
    a longer request extends a shorter one.

    Raises:
        SrmzooError: ``n`` or ``seed`` is not a non-negative integer.

    >>> [e.family for e in natural_examples(3)]
    ['mole_mass_conversion', 'solution_preparation', 'dilution']
    """
    check_counts(n=n, seed=seed, example=200)
    families = tuple(NATURAL_FAMILIES)
    return [natural_example(families[i % len(families)], i // len(families), seed=seed) for i in range(n)]
