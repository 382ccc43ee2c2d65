"""Chemistry families: questions about small molecules whose answers RDKit computes exactly.

Each family draws molecules from its split's scaffold-split pool (:mod:`.molecules`), so train, test and
ood never share a molecule or a scaffold. Within a split, the ``index``-th example of a family takes the
``index``-th molecule of a fixed shuffle of the family's eligible molecules (seeded by split, family and
seed), so examples repeat a molecule only after the whole pool is used. ``train`` and ``test`` use the
same question templates; ``ood`` uses templates neither of them has.

Truths: ``rdMolDescriptors.CalcMolFormula`` (Hill order), ``Descriptors.MolWt`` (average, RDKit's
standard atomic weights) and ``Descriptors.ExactMolWt`` (monoisotopic), ``Lipinski.NumHDonors`` /
``Lipinski.NumHAcceptors``, ``CalcNumRings`` / ``CalcNumAromaticRings`` (SSSR), SMARTS matches for
functional groups, and reaction SMARTS run by ``RunReactants`` for products. The traces are derived from
the same molecule and each family's tests check them against these truths.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rdkit import Chem
from rdkit.Chem import AllChem, Descriptors, Lipinski, rdMolDescriptors

from srmzoo.domain import Example
from srmzoo.errors import SrmzooError

from .molecules import PoolMolecule, molecule_pool
from .sampling import example_id, stable_rng, stable_shuffle

__all__ = [
    "CHEMISTRY_FAMILIES",
    "FUNCTIONAL_GROUPS",
    "REACTIONS",
    "TEMPLATES",
    "functional_groups_present",
    "generate_chemistry",
    "hill_formula",
    "reaction_product",
]

# RDKit's own SMARTS for NumHDonors, and the acceptor pattern that reproduces NumHAcceptors (CalcNumHBA)
# on every molecule of both data files; the trace lists the atoms these match.
DONOR_SMARTS = Chem.MolFromSmarts("[$([N;!H0;v3]),$([N;!H0;+1;v4]),$([O,S;H1;+0]),$([n;H1;+0])]")
ACCEPTOR_SMARTS = Chem.MolFromSmarts(
    "[$([O,S;H1;v2]-[!$(*=[O,N,P,S])]),$([O,S;H0;v2]),$([O,S;-]),$([N;v3;!$(N-*=!@[O,N,P,S])]),$([nH0,o,s;+0;X2])]"
)

# name -> (SMARTS, the definition the question states)
FUNCTIONAL_GROUPS: dict[str, tuple[str, str]] = {
    "carboxylic acid": ("[CX3](=O)[OX2H1]", "a C(=O)OH group"),
    "ester": ("[#6][CX3](=O)[OX2H0][#6]", "C(=O)O with a carbon on each side"),
    "amide": ("[NX3][CX3]=[OX1]", "an N bonded to a C=O carbon"),
    "aldehyde": ("[CX3H1](=O)[#6]", "a C(=O)H bonded to carbon"),
    "ketone": ("[#6][CX3](=O)[#6]", "a C=O carbon bonded to two carbons"),
    "alcohol": ("[OX2H][CX4]", "an OH on an sp3 carbon"),
    "phenol": ("[OX2H]c", "an OH on an aromatic carbon"),
    "primary amine": ("[NX3;H2;+0][#6;!$([#6]=[O,S,N])]", "an NH2 on a carbon that is not C=O, C=S or C=N"),
    "nitro": ("[$([NX3](=O)=O),$([NX3+](=O)[O-])]", "an NO2 group on N"),
    "nitrile": ("[CX2]#[NX1]", "a C#N triple bond"),
    "halogen": ("[F,Cl,Br,I]", "an F, Cl, Br or I atom"),
    "ether": ("[OX2;!$(O[#6]=O)]([#6])[#6]", "an O bonded to two carbons, not next to C=O"),
    "thiol": ("[SX2H]", "an S-H group"),
    "sulfonamide": ("[SX4](=O)(=O)[NX3]", "an S(=O)(=O)N group"),
    "alkene": ("[CX3]=[CX3]", "a non-aromatic C=C double bond"),
}
_GROUP_PATTERNS = {name: Chem.MolFromSmarts(smarts) for name, (smarts, _) in FUNCTIONAL_GROUPS.items()}

# The reacting groups of the named reactions.
ACID = Chem.MolFromSmarts("[CX3;$([CX3][#6])](=O)[OX2H1]")
AMINE = Chem.MolFromSmarts("[NX3;H2,H1;+0;!$(N[#6,S,P]=[#6,#7,#8,#16]);!$(N-[N,O,S])]")
ALCOHOL = Chem.MolFromSmarts("[OX2H1][CX4]")


@dataclass(frozen=True)
class Reaction:
    """A named reaction: reaction SMARTS (acid first) and how the question and trace name its parts."""

    name: str
    smarts: str
    partner_group: str  # "amine" or "alcohol"
    product: str
    joined: str  # the bond the reaction makes, as the trace says it


REACTIONS: dict[str, Reaction] = {
    "amide coupling": Reaction(
        "amide coupling",
        "[CX3;$([CX3][#6]):1](=[O:2])[OX2H1].[NX3;H2,H1;+0;!$(N[#6,S,P]=[#6,#7,#8,#16]);!$(N-[N,O,S]):3]>>[C:1](=[O:2])[N:3]",
        "amine",
        "amide",
        "C(=O)-N",
    ),
    "esterification": Reaction(
        "esterification",
        "[CX3;$([CX3][#6]):1](=[O:2])[OX2H1].[OX2H1:3][CX4:4]>>[C:1](=[O:2])[O:3][C:4]",
        "alcohol",
        "ester",
        "C(=O)-O",
    ),
}
_RXN = {name: AllChem.ReactionFromSmarts(r.smarts) for name, r in REACTIONS.items()}

# Simple named partners (shared by all splits: the pool molecule is what keeps the splits apart).
PARTNERS: dict[str, tuple[tuple[str, str], ...]] = {
    "amine": (
        ("methylamine", "CN"),
        ("ethylamine", "CCN"),
        ("dimethylamine", "CNC"),
        ("benzylamine", "NCc1ccccc1"),
        ("piperidine", "C1CCNCC1"),
        ("morpholine", "C1COCCN1"),
        ("aniline", "Nc1ccccc1"),
    ),
    "alcohol": (
        ("methanol", "CO"),
        ("ethanol", "CCO"),
        ("isopropanol", "CC(C)O"),
        ("1-butanol", "CCCCO"),
        ("benzyl alcohol", "OCc1ccccc1"),
    ),
    "acid": (
        ("acetic acid", "CC(=O)O"),
        ("propanoic acid", "CCC(=O)O"),
        ("benzoic acid", "O=C(O)c1ccccc1"),
    ),
}

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "molecular_formula": {
        "in": (
            "What is the molecular formula of {smiles}? Write it in Hill order.",
            "Give the molecular formula, in Hill order, of the molecule with SMILES {smiles}.",
            "SMILES: {smiles}\nWhat is its molecular formula (Hill order)?",
        ),
        "ood": (
            "Count the atoms of the compound {smiles} and report its formula in Hill notation "
            "(carbon, hydrogen, then the other elements alphabetically).",
            "A chemist draws the structure {smiles}. Which molecular formula does it have? Use Hill order.",
        ),
    },
    "molecular_weight": {
        "in": (
            "What is the {mass} of {smiles}? {precision}",
            "Compute the {mass} of the molecule with SMILES {smiles}. {precision}",
        ),
        "ood": ("For the structure {smiles}, work out its {mass}; {precision_lower}",),
    },
    "hbond_donors_acceptors": {
        "in": (
            "How many hydrogen-bond donors and acceptors does {smiles} have (RDKit Lipinski NumHDonors, "
            "NumHAcceptors)? Answer as donors, acceptors.",
            "Using RDKit's Lipinski NumHDonors and NumHAcceptors, count the H-bond donors and acceptors of "
            "{smiles}. Answer as donors, acceptors.",
        ),
        "ood": (
            "Report the Lipinski H-bond donor and acceptor counts (RDKit NumHDonors / NumHAcceptors) of the "
            "compound {smiles}, written as donors, acceptors.",
        ),
    },
    "ring_count": {
        "in": (
            "How many rings does {smiles} have (smallest set of smallest rings)?",
            "Count the rings (SSSR) in the molecule {smiles}.",
        ),
        "ood": ("What is the SSSR ring count of the structure {smiles}?",),
    },
    "aromatic_rings": {
        "in": (
            "How many aromatic rings does {smiles} have (SSSR rings whose bonds are all aromatic)?",
            "Count the aromatic rings in the molecule {smiles} (rings of the SSSR with only aromatic bonds).",
        ),
        "ood": ("In the compound {smiles}, how many of the smallest rings are fully aromatic?",),
    },
    "functional_group": {
        "in": (
            "Does {smiles} contain {article} {group} ({definition})? Answer yes or no.",
            "Is there {article} {group} group ({definition}) in the molecule {smiles}? Answer yes or no.",
        ),
        "ood": ("Answer yes or no: the structure {smiles} has at least one {group} ({definition}).",),
    },
    "reaction_product": {
        "in": (
            "{Reaction}: {first} reacts with {second}. Give the SMILES of the {product} (water is also formed).",
            "Write the {product} formed when {first} and {second} undergo {reaction}, as SMILES "
            "(leave out the water).",
        ),
        "ood": (
            "Predict, as one SMILES string, the main organic product of the {reaction} of {first} with {second}.",
        ),
    },
}

# kind -> (how the question names it, decimals, tolerance, unit)
_MASS_KINDS = {
    "average": ("average molecular weight (standard atomic weights)", 2, 0.05, "g/mol"),
    "exact": ("monoisotopic exact mass (most abundant isotopes)", 3, 0.01, "Da"),
}
_PT = Chem.GetPeriodicTable()


@functools.lru_cache(maxsize=4096)
def _parsed(smiles: str) -> Chem.Mol:
    """A shared, read-only parse of a reactant (partners recur in every reaction example)."""
    return Chem.MolFromSmiles(smiles)


def _template(family: str, split: str, rng) -> str:
    return rng.choice(TEMPLATES[family]["ood" if split == "ood" else "in"])


# ------------------------------------------------------------------------------------------------ facts


def _hill_order(symbols) -> list[str]:
    symbols = set(symbols)
    if "C" in symbols:
        return ["C"] + (["H"] if "H" in symbols else []) + sorted(symbols - {"C", "H"})
    return sorted(symbols)


def _element_counts(mol: Chem.Mol) -> Counter[str]:
    counts: Counter[str] = Counter()
    for atom in mol.GetAtoms():
        counts[atom.GetSymbol()] += 1
        counts["H"] += atom.GetTotalNumHs()
    return +counts


def hill_formula(mol: Chem.Mol) -> str:
    """The molecular formula in Hill order (C, H, then alphabetical; alphabetical without carbon).

    >>> hill_formula(Chem.MolFromSmiles("OCC(=O)Cl"))
    'C2H3ClO2'
    """
    counts = _element_counts(mol)
    return "".join(s + (str(counts[s]) if counts[s] > 1 else "") for s in _hill_order(counts))


def functional_groups_present(mol: Chem.Mol) -> list[str]:
    """The names of the :data:`FUNCTIONAL_GROUPS` that occur in ``mol``, in catalogue order.

    >>> functional_groups_present(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    ['carboxylic acid', 'ester']
    """
    return [name for name, pattern in _GROUP_PATTERNS.items() if mol.HasSubstructMatch(pattern)]


def _site_count(mol: Chem.Mol, pattern: Chem.Mol) -> int:
    return len(mol.GetSubstructMatches(pattern))


def _roles(mol: Chem.Mol) -> tuple[str, ...]:
    """The roles a pool molecule can play unambiguously: one reacting site, no competing group."""
    acids, amines, alcohols = (_site_count(mol, p) for p in (ACID, AMINE, ALCOHOL))
    roles = []
    if acids == 1 and amines == 0 and alcohols == 0:
        roles.append("acid")
    if amines == 1 and acids == 0:
        roles.append("amine")
    if alcohols == 1 and acids == 0 and amines == 0:
        roles.append("alcohol")
    return tuple(roles)


def _rings(mol: Chem.Mol) -> list[tuple[Counter[str], bool]]:
    info = mol.GetRingInfo()
    rings = []
    for atoms, bonds in zip(info.AtomRings(), info.BondRings(), strict=True):
        symbols = Counter(_atom_label(mol.GetAtomWithIdx(i), with_h=False) for i in atoms)
        aromatic = all(mol.GetBondWithIdx(b).GetIsAromatic() for b in bonds)
        rings.append((symbols, aromatic))
    return rings


_ELIGIBLE: dict[str, Callable[[PoolMolecule], bool]] = {
    "molecular_formula": lambda m: True,
    "molecular_weight": lambda m: True,
    "hbond_donors_acceptors": lambda m: True,
    "ring_count": lambda m: 1 <= rdMolDescriptors.CalcNumRings(m.mol) <= 4,
    "aromatic_rings": lambda m: 1 <= rdMolDescriptors.CalcNumRings(m.mol) <= 4,
    "functional_group": lambda m: True,
    "reaction_product": lambda m: bool(_roles(m.mol)),
}

CHEMISTRY_FAMILIES = tuple(_ELIGIBLE)


@functools.cache
def _shuffled_pool(split: str, family: str, seed: int) -> tuple[PoolMolecule, ...]:
    eligible = [m for m in molecule_pool(split) if _ELIGIBLE[family](m)]
    if not eligible:  # only possible if an RDKit release ships different data files
        raise SrmzooError(
            f"no {split} molecule in RDKit's data suits the {family} family",
            hint="the pools were measured on RDKit 2026.09's Data files; check rdkit.RDConfig.RDDataDir",
        )
    return tuple(stable_shuffle(eligible, "science", split, family, seed, "pool"))


# ------------------------------------------------------------------------------------------------ families


def _formula(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    counts = _element_counts(m.mol)
    heavy = [s for s in _hill_order(counts) if s != "H"]
    h_on: Counter[str] = Counter()
    for atom in m.mol.GetAtoms():
        h_on[atom.GetSymbol()] += atom.GetTotalNumHs()
    answer = rdMolDescriptors.CalcMolFormula(m.mol)
    h_detail = ", ".join(f"{h_on[s]} on {s}" for s in heavy if h_on[s])
    solution = (
        f"Heavy atoms: {', '.join(f'{s} {counts[s]}' for s in heavy)}.\n"
        f"Hydrogens from valences: {counts['H']}" + (f" ({h_detail})" if h_detail else "") + ".\n"
        "Hill order: C, then H, then the others alphabetically.\n"
        f"\\boxed{{{answer}}}"
    )
    question = _template("molecular_formula", split, rng).format(smiles=m.smiles)
    return question, answer, solution, {"kind": "formula"}


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _weight(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    kind = rng.choice(sorted(_MASS_KINDS))
    phrase, places, tolerance, unit = _MASS_KINDS[kind]
    counts = _element_counts(m.mol)
    lines, total = [], Decimal(0)
    # RDKit's average weights have 3 decimals, so those products are exact; isotope masses are shown to 4,
    # and the answer is the shown sum (within 0.002 Da of RDKit's exact mass, well inside the tolerance)
    mass_places = 3 if kind == "average" else 4
    for symbol in _hill_order(counts):
        raw = _PT.GetAtomicWeight(symbol) if kind == "average" else _PT.GetMostCommonIsotopeMass(symbol)
        mass = _quantize(Decimal(repr(raw)), mass_places)
        term = mass * counts[symbol]
        total += term
        lines.append(f"{symbol}: {counts[symbol]} × {mass} = {term}")
    answer = str(_quantize(total, places))
    truth = Descriptors.MolWt(m.mol) if kind == "average" else Descriptors.ExactMolWt(m.mol)
    lines.append(f"Sum: {total}, rounded {answer} {unit}.")
    solution = "\n".join(lines) + f"\n\\boxed{{{answer}}}"
    precision = f"Answer in {unit} to {places} decimals."
    question = _template("molecular_weight", split, rng).format(
        smiles=m.smiles,
        mass=phrase,
        precision=precision,
        precision_lower=precision[0].lower() + precision[1:],
    )
    meta = {"kind": "number", "value": round(truth, 6), "tolerance": tolerance, "unit": unit, "mass": kind}
    return question, answer, solution, meta


def _atom_label(atom: Chem.Atom, with_h: bool) -> str:
    symbol = atom.GetSymbol().lower() if atom.GetIsAromatic() else atom.GetSymbol()
    hs = atom.GetTotalNumHs()
    return symbol + ("H" + (str(hs) if hs > 1 else "") if with_h and hs else "")


def _tally(labels: list[str]) -> str:
    if not labels:
        return "none"
    return ", ".join(f"{label} ×{n}" for label, n in sorted(Counter(labels).items()))


def _hbond(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    donors = [_atom_label(m.mol.GetAtomWithIdx(i), True) for (i,) in m.mol.GetSubstructMatches(DONOR_SMARTS)]
    acceptors = [
        _atom_label(m.mol.GetAtomWithIdx(i), False) for (i,) in m.mol.GetSubstructMatches(ACCEPTOR_SMARTS)
    ]
    n_donors, n_acceptors = Lipinski.NumHDonors(m.mol), Lipinski.NumHAcceptors(m.mol)
    if (len(donors), len(acceptors)) != (n_donors, n_acceptors):  # the tests check every pool molecule
        raise RuntimeError(f"trace SMARTS disagree with RDKit Lipinski counts for {m.smiles}")
    answer = f"{n_donors}, {n_acceptors}"
    solution = (
        "Donors are N, O or S atoms carrying H (aromatic nH too).\n"
        f"Donor atoms: {_tally(donors)}; {n_donors} in all.\n"
        "Acceptors are O and S atoms, N not bonded to a C=O/C=N/S=O/P=O atom, and aromatic n, o, s with two "
        "ring neighbours.\n"
        f"Acceptor atoms: {_tally(acceptors)}; {n_acceptors} in all.\n"
        f"\\boxed{{{answer}}}"
    )
    question = _template("hbond_donors_acceptors", split, rng).format(smiles=m.smiles)
    return question, answer, solution, {"kind": "count_pair", "labels": ["donors", "acceptors"]}


def _ring_lines(m: PoolMolecule) -> list[str]:
    lines = []
    for k, (symbols, aromatic) in enumerate(_rings(m.mol), 1):
        atoms = ", ".join(f"{n} {s}" for s, n in sorted(symbols.items()))
        lines.append(
            f"Ring {k}: {sum(symbols.values())} atoms ({atoms}), {'aromatic' if aromatic else 'not aromatic'}."
        )
    return lines


def _ring_count(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    answer = str(rdMolDescriptors.CalcNumRings(m.mol))
    solution = "\n".join([*_ring_lines(m), f"Rings in all: {answer}.", f"\\boxed{{{answer}}}"])
    question = _template("ring_count", split, rng).format(smiles=m.smiles)
    return question, answer, solution, {"kind": "integer"}


def _aromatic_rings(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    answer = str(rdMolDescriptors.CalcNumAromaticRings(m.mol))
    solution = "\n".join([*_ring_lines(m), f"Aromatic rings: {answer}.", f"\\boxed{{{answer}}}"])
    question = _template("aromatic_rings", split, rng).format(smiles=m.smiles)
    return question, answer, solution, {"kind": "integer"}


def _functional_group(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    present = functional_groups_present(m.mol)
    absent = [g for g in FUNCTIONAL_GROUPS if g not in present]
    # aim for half yes, half no; a molecule with none of the groups can only be asked a "no"
    want_yes = bool(present) and rng.random() < 0.5
    group = rng.choice(present if want_yes else absent)
    answer = "yes" if want_yes else "no"
    definition = FUNCTIONAL_GROUPS[group][1]
    solution = (
        f"A {group} is {definition}.\n"
        f"Groups in the molecule: {', '.join(present) if present else 'none of the listed groups'}.\n"
        f"So the {group} is {'present' if want_yes else 'absent'}.\n"
        f"\\boxed{{{answer}}}"
    )
    article = "an" if group[0] in "aeiou" else "a"
    question = _template("functional_group", split, rng).format(
        smiles=m.smiles, group=group, definition=definition, article=article
    )
    return question, answer, solution, {"kind": "yes_no", "group": group}


def _with_open_end(smiles: str, pattern: Chem.Mol, leaving: bool) -> str:
    """``smiles`` with its reacting site marked ``*``: the OH replaced (acid) or one H replaced (N, O)."""
    mol = Chem.RWMol(_parsed(smiles))
    match = mol.GetSubstructMatch(pattern)
    if leaving:  # acid: the OH oxygen (third atom of ACID) becomes the open end
        mol.GetAtomWithIdx(match[2]).SetAtomicNum(0)
    else:
        site = mol.GetAtomWithIdx(match[0])
        if site.GetNumExplicitHs():
            site.SetNumExplicitHs(site.GetNumExplicitHs() - 1)
        mol.AddBond(match[0], mol.AddAtom(Chem.Atom(0)), Chem.BondType.SINGLE)
    Chem.SanitizeMol(mol)
    return Chem.MolToSmiles(mol)


def reaction_product(reaction: str, acid: str, partner: str) -> str:
    """The canonical SMILES of the product of a named reaction (RDKit ``RunReactants``).

    Raises:
        ValueError: when the reactants do not give exactly one product.

    >>> reaction_product("amide coupling", "CC(=O)O", "NCc1ccccc1")
    'CC(=O)NCc1ccccc1'
    """
    outcomes = _RXN[reaction].RunReactants((_parsed(acid), _parsed(partner)))
    products = set()
    for (product,) in outcomes:
        Chem.SanitizeMol(product)
        products.add(Chem.MolToSmiles(product))
    if len(products) != 1:
        raise ValueError(f"{reaction} of {acid} with {partner} gives {len(products)} products, expected one")
    return products.pop()


def _reaction(m: PoolMolecule, split: str, rng) -> tuple[str, str, str, dict]:
    role = rng.choice(_roles(m.mol))
    if role == "acid":
        name = rng.choice(sorted(REACTIONS))
        partner_name, partner = rng.choice(PARTNERS[REACTIONS[name].partner_group])
        acid, other = m.smiles, partner
        first, second = f"the carboxylic acid {acid}", f"{partner_name} ({partner})"
    else:
        name = "amide coupling" if role == "amine" else "esterification"
        partner_name, acid = rng.choice(PARTNERS["acid"])
        other = m.smiles
        first, second = f"{partner_name} ({acid})", f"the {role} {other}"
    reaction = REACTIONS[name]
    group = reaction.partner_group
    answer = reaction_product(name, acid, other)
    partner_pattern, where = (AMINE, "N") if group == "amine" else (ALCOHOL, "O")
    # no full stop after a SMILES: '.' would read as a second fragment
    solution = (
        f"{name.capitalize()}: acid C(=O)OH + {group} {where}-H gives {reaction.joined} + water.\n"
        f"Acid without OH: {_with_open_end(acid, ACID, leaving=True)}\n"
        f"{group.capitalize()} without one H on {where}: {_with_open_end(other, partner_pattern, leaving=False)}\n"
        f"Join the two * ends into the {reaction.product}.\n"
        f"\\boxed{{{answer}}}"
    )
    question = _template("reaction_product", split, rng).format(
        Reaction=name.capitalize(), reaction=name, first=first, second=second, product=reaction.product
    )
    meta = {"kind": "smiles", "reaction": name, "reactants": [acid, other]}
    return question, answer, solution, meta


_BUILDERS = {
    "molecular_formula": _formula,
    "molecular_weight": _weight,
    "hbond_donors_acceptors": _hbond,
    "ring_count": _ring_count,
    "aromatic_rings": _aromatic_rings,
    "functional_group": _functional_group,
    "reaction_product": _reaction,
}


# ------------------------------------------------------------------------------------ tool-using traces


def lookup_solution(example: Example) -> str | None:
    r"""The solution with RDKit look-ups (the ``rdkit`` tool) for a molecular-property question, else None.

    Each call's result is written by :func:`srmzoo.tools.rdkit_lookup`, the function that answers the call
    at inference, so the trace and the tool never disagree; masses are rounded to the asked decimals after
    the look-up (half up), which stays within the verifier's tolerance of RDKit's value.

    >>> ex = generate_chemistry("molecular_weight", "train", 0, 0)
    >>> print(lookup_solution(ex))
    Exact mass: <<exact_mass(CC1CCOCO1)>> = 102.0681 Da.
    To 3 decimals: 102.068.
    \boxed{102.068}
    >>> lookup_solution(generate_chemistry("reaction_product", "train", 0, 0)) is None
    True
    """
    from srmzoo.tools import rdkit_lookup

    smiles, family = example.meta.get("molecule"), example.family
    if not smiles or smiles not in example.question:
        return None
    if family == "molecular_weight":
        kind = example.meta["mass"]
        _, places, _, unit = _MASS_KINDS[kind]
        name, label = ("mw", "Average molecular weight") if kind == "average" else ("exact_mass", "Exact mass")
        value = rdkit_lookup(name, smiles)
        answer = str(_quantize(Decimal(value), places))
        lines = [f"{label}: <<{name}({smiles})>> = {value} {unit}.", f"To {places} decimals: {answer}."]
    elif family in _LOOKUPS:
        values = [rdkit_lookup(name, smiles) for _, name in _LOOKUPS[family]]
        lines = [f"{label}: <<{name}({smiles})>> = {v}." for (label, name), v in zip(_LOOKUPS[family], values)]
        answer = ", ".join(values)
    else:
        return None
    return "\n".join([*lines, f"\\boxed{{{answer}}}"])


# family -> the look-ups its trace makes, in answer order (masses, by the asked kind: above)
_LOOKUPS = {
    "molecular_formula": [("Formula", "formula")],
    "hbond_donors_acceptors": [("Donors", "hbd"), ("Acceptors", "hba")],
    "ring_count": [("Rings", "rings")],
    "aromatic_rings": [("Aromatic rings", "aromatic_rings")],
}


def generate_chemistry(family: str, split: str, seed: int, index: int) -> Example:
    """The ``index``-th example of a chemistry ``family`` in ``split`` for ``seed``.

    >>> ex = generate_chemistry("molecular_formula", "train", 0, 0)
    >>> ex.id, ex.solution.endswith("\\\\boxed{" + ex.answer + "}")
    ('science/train/molecular_formula/00000', True)
    """
    pool = _shuffled_pool(split, family, seed)
    molecule = pool[index % len(pool)]
    rng = stable_rng("science", split, family, seed, index)
    question, answer, solution, meta = _BUILDERS[family](molecule, split, rng)
    meta = {**meta, "molecule": molecule.smiles, "source": molecule.source}
    return Example(example_id(split, family, seed, index), family, question, answer, solution, meta)
