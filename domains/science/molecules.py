"""The molecules the chemistry families ask about: sets RDKit ships, split by Murcko scaffold.

Sources, both under ``rdkit.RDConfig.RDDataDir`` (installed with RDKit, nothing is downloaded):

* ``NCI/first_5K.smi``: the first 4,999 structures of the NCI/DTP open database, for ``train`` and ``test``;
* ``Pains/test_data/wehi_mols.csv``: 10,000 WEHI screening compounds from RDKit's PAINS tests, for
  ``ood`` (only the first :data:`WEHI_ROWS` rows are read, to keep loading quick).

Every molecule must parse, be one fragment, be neutral overall (nitro-style charge separation is fine),
have no radicals or isotope labels, contain carbon and only the elements C H N O S P F Cl Br I. Stereo
is removed (questions are about flat structures) and duplicates are merged on canonical SMILES.

**Scaffold split.** A molecule's scaffold is its Bemis-Murcko scaffold (RDKit's ``MurckoScaffoldSmiles``);
acyclic molecules all share the empty scaffold (the usual convention: giving each its own would put
homologues one CH2 apart on both sides of the split), so they are all train and held-out molecules all
have rings.

* ``train`` / ``test``: NCI molecules with 3-20 heavy atoms. A scaffold held by more than
  :data:`COMMON_SCAFFOLD_SIZE` of them (acyclic, benzene, pyridine, naphthalene, ...) goes to train: these
  are the chemistry every model must know, and one of them hashed into test would make test a
  benzene-derivative set. Every other scaffold is hashed (SHA-256 of its SMILES) into 100 buckets:
  buckets 0-74 are train, 75-99 test. A scaffold, and so a molecule, is in exactly one of the two.
* ``ood``: WEHI molecules with 12-26 heavy atoms (larger than train on the whole) whose scaffold no
  train or test molecule has: unseen scaffolds from the other data file.
"""

from __future__ import annotations

import csv
import functools
import itertools
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdkit import Chem, RDConfig, RDLogger
from rdkit.Chem.Scaffolds import MurckoScaffold

from srmzoo.errors import SrmzooError

from .sampling import stable_bucket

__all__ = [
    "COMMON_SCAFFOLD_SIZE",
    "WEHI_ROWS",
    "PoolMolecule",
    "molecule_pool",
    "murcko_scaffold",
    "scaffold_split_summary",
    "standardise",
]

RDLogger.DisableLog("rdApp.*")  # malformed SMILES are expected input (model output, data noise)

_CARBON = Chem.MolFromSmarts("[#6]")
_FOREIGN_ELEMENT = Chem.MolFromSmarts(  # anything but C H N O S P F Cl Br I
    "[!#1;!#6;!#7;!#8;!#9;!#15;!#16;!#17;!#35;!#53]"
)
IN_DISTRIBUTION_HEAVY_ATOMS = (3, 20)
OOD_HEAVY_ATOMS = (12, 26)
COMMON_SCAFFOLD_SIZE = 30
TEST_BUCKETS = range(75, 100)
WEHI_ROWS = 3000

# one match per atom written in a SMILES; the count equals RDKit's heavy-atom count on both files, and
# lets the loader skip parsing molecules that are too large anyway
_SMILES_ATOM = re.compile(r"\[\d*([A-Z][a-z]?|[a-z]{1,2})[^\]]*\]|Br|Cl|[BCNOPSFIbcnops]")

NCI_FILE = "NCI/first_5K.smi"
WEHI_FILE = "Pains/test_data/wehi_mols.csv"


@dataclass(frozen=True)
class PoolMolecule:
    """One molecule of a split's pool.

    Attributes:
        smiles: RDKit canonical SMILES (no stereo).
        scaffold: Murcko scaffold SMILES (``""`` when acyclic).
        heavy_atoms: number of non-hydrogen atoms.
        source: ``"nci"`` or ``"wehi"``.
        mol: the parsed RDKit molecule (shared; do not modify).
    """

    smiles: str
    scaffold: str
    heavy_atoms: int
    source: str
    mol: Chem.Mol = field(compare=False, repr=False)


def standardise(smiles: str, max_heavy_atoms: int | None = None) -> Chem.Mol | None:
    """The flat RDKit molecule for ``smiles`` if it passes the pool's filters, else None.

    >>> Chem.MolToSmiles(standardise("C[C@H](N)C(=O)O"))
    'CC(N)C(=O)O'
    >>> standardise("[Na+].[Cl-]") is None
    True
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or (max_heavy_atoms is not None and mol.GetNumHeavyAtoms() > max_heavy_atoms):
        return None
    if len(Chem.GetMolFrags(mol)) != 1 or Chem.GetFormalCharge(mol) != 0:
        return None
    if not mol.HasSubstructMatch(_CARBON) or mol.HasSubstructMatch(_FOREIGN_ELEMENT):
        return None
    # isotopes and radicals can only come from bracket atoms; skip the per-atom walk without them
    if "[" in smiles and any(a.GetIsotope() or a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        return None
    Chem.RemoveStereochemistry(mol)
    return mol


def murcko_scaffold(mol: Chem.Mol) -> str:
    """The molecule's Bemis-Murcko scaffold SMILES; the empty string for an acyclic molecule.

    >>> murcko_scaffold(Chem.MolFromSmiles("CCc1ccc(O)cc1")), murcko_scaffold(Chem.MolFromSmiles("CCO"))
    ('c1ccccc1', '')
    """
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol)


def _data_path(relative: str) -> Path:
    path = Path(RDConfig.RDDataDir) / relative
    if not path.is_file():
        raise SrmzooError(
            f"RDKit data file not found: {path}",
            hint="the science domain needs the data RDKit ships; reinstall it with `pip install --force-reinstall rdkit`",
        )
    return path


def _read_smiles(source: str) -> list[str]:
    if source == "nci":
        with _data_path(NCI_FILE).open() as fh:
            return [line.split()[0] for line in fh if line.strip()]
    with _data_path(WEHI_FILE).open(newline="") as fh:
        return [row[0] for row in itertools.islice(csv.reader(fh), WEHI_ROWS) if row]


def _load(source: str, heavy_atoms: tuple[int, int]) -> dict[str, PoolMolecule]:
    low, high = heavy_atoms
    pool: dict[str, PoolMolecule] = {}
    for raw in _read_smiles(source):
        if sum(1 for atom in _SMILES_ATOM.finditer(raw) if atom.group(1) != "H") > high:
            continue
        mol = standardise(raw, max_heavy_atoms=high)
        if mol is None or mol.GetNumHeavyAtoms() < low:
            continue
        smiles = Chem.MolToSmiles(mol)
        if smiles not in pool:
            pool[smiles] = PoolMolecule(smiles, murcko_scaffold(mol), mol.GetNumHeavyAtoms(), source, mol)
    return pool


@functools.cache
def _in_distribution() -> dict[str, tuple[PoolMolecule, ...]]:
    pool = _load("nci", IN_DISTRIBUTION_HEAVY_ATOMS)
    sizes: dict[str, int] = {}
    for m in pool.values():
        sizes[m.scaffold] = sizes.get(m.scaffold, 0) + 1

    def is_test(scaffold: str) -> bool:
        return sizes[scaffold] <= COMMON_SCAFFOLD_SIZE and stable_bucket(scaffold) in TEST_BUCKETS

    ordered = sorted(pool.values(), key=lambda m: m.smiles)
    return {
        "train": tuple(m for m in ordered if not is_test(m.scaffold)),
        "test": tuple(m for m in ordered if is_test(m.scaffold)),
    }


@functools.cache
def _ood() -> tuple[PoolMolecule, ...]:
    seen = {m.scaffold for split in _in_distribution().values() for m in split}
    pool = _load("wehi", OOD_HEAVY_ATOMS)
    return tuple(sorted((m for m in pool.values() if m.scaffold not in seen), key=lambda m: m.smiles))


def molecule_pool(split: str) -> tuple[PoolMolecule, ...]:
    """The molecules of ``split`` (``train``, ``test`` or ``ood``), sorted by SMILES; loaded once.

    >>> pool = molecule_pool("test")
    >>> {m.scaffold for m in pool} & {m.scaffold for m in molecule_pool("train")}
    set()
    """
    if split == "ood":
        return _ood()
    if split not in ("train", "test"):
        raise SrmzooError(
            f"unknown split {split!r} for the molecule pool", hint="use one of: train, test, ood"
        )
    return _in_distribution()[split]


def scaffold_split_summary() -> dict[str, Any]:
    """Molecule and scaffold counts per split, heavy-atom medians, and the shared scaffolds (all zero).

    >>> s = scaffold_split_summary()
    >>> s["shared_scaffolds"], s["shared_molecules"]
    ({'train/test': 0, 'train/ood': 0, 'test/ood': 0}, {'train/test': 0, 'train/ood': 0, 'test/ood': 0})
    """
    pools = {split: molecule_pool(split) for split in ("train", "test", "ood")}
    scaffolds = {split: {m.scaffold for m in pool} for split, pool in pools.items()}
    smiles = {split: {m.smiles for m in pool} for split, pool in pools.items()}
    pairs = [("train", "test"), ("train", "ood"), ("test", "ood")]
    return {
        "molecules": {split: len(pool) for split, pool in pools.items()},
        "scaffolds": {split: len(s) for split, s in scaffolds.items()},
        "median_heavy_atoms": {
            split: statistics.median(m.heavy_atoms for m in pool) for split, pool in pools.items()
        },
        "shared_scaffolds": {f"{a}/{b}": len(scaffolds[a] & scaffolds[b]) for a, b in pairs},
        "shared_molecules": {f"{a}/{b}": len(smiles[a] & smiles[b]) for a, b in pairs},
        "sources": {"train": NCI_FILE, "test": NCI_FILE, "ood": f"{WEHI_FILE} (first {WEHI_ROWS} rows)"},
    }
