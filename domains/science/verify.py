r"""Answer checkers for the science domain: one per kind of answer, chosen by ``meta["kind"]``.

Kinds and what counts as equal:

* ``formula``: same element counts, in any order (``H2OC`` equals ``CH2O``; condensed ``CH3COOH`` equals
  ``C2H4O2``). Element symbols are case-sensitive (``Co`` is cobalt, ``CO`` carbon monoxide).
* ``number``: within ``meta["tolerance"]`` of ``meta["value"]`` (RDKit's or Biopython's unrounded truth);
  a unit after the number (``g/mol``, ``Da``, ``%``) is allowed.
* ``integer`` / ``count_pair``: the same integer, or the same two integers in order (donors, acceptors).
* ``yes_no``: yes / no (also true/false, present/absent), any case.
* ``smiles``: the same molecule: equal RDKit canonical SMILES, so any valid SMILES of it counts
  (randomised atom order, Kekulé or aromatic form). Policy: tautomers are *different* answers (2-pyridone
  is not 2-hydroxypyridine) because the reactions asked for give one definite structure; stereo marks
  count, and the gold products carry none.
* ``sequence``: the same letters ignoring case, spaces, dashes and 5'/3' labels; DNA, RNA and protein are
  not interchanged (a T in an mRNA answer is wrong). A protein may end with ``*`` for the stop.
* ``choice``: the same option letter (``B``, ``(b)``, ``B) ...``).

A completion with no ``\boxed{}`` answer (or an empty one) is UNVERIFIABLE; a boxed answer that does not
parse as its kind (an invalid SMILES, a formula with unknown elements) is the model's wrong answer: WRONG.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from rdkit import Chem, RDLogger

from srmzoo.domain import Check, Example, Verdict, completion_text, last_boxed
from srmzoo.errors import SrmzooError
from srmzoo.verifiers import Verifier

__all__ = [
    "ANSWER_KINDS",
    "SMILES_VERIFIER",
    "judge_smiles",
    "answer_parses",
    "canonical_smiles",
    "judge",
    "parse_choice",
    "parse_formula",
    "parse_number",
    "parse_sequence",
    "parse_yes_no",
]

RDLogger.DisableLog("rdApp.*")  # model output is full of invalid SMILES; each would log an error

_PT = Chem.GetPeriodicTable()
_ELEMENTS = frozenset(_PT.GetElementSymbol(z) for z in range(1, 119))
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹−", "01234567890123456789-")
_LATEX_WRAPPER = re.compile(r"\\(?:text|mathrm|mathbf|textbf|mbox|operatorname)\s*\{([^{}]*)\}")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# units that carry digits of their own and must not count as a second number
_UNIT_WITH_DIGITS = re.compile(r"mol\s*\^?\s*\{?\s*-\s*1\s*\}?")


def _plain(text: str) -> str:
    """``text`` without LaTeX wrappers, math delimiters and thin spaces."""
    for _ in range(3):  # nested wrappers such as \text{\mathrm{...}}
        text = _LATEX_WRAPPER.sub(r"\1", text)
    return text.replace("$", "").replace("\\,", "").replace("\\%", "%").replace("\\ ", " ").strip()


def parse_formula(text: str) -> Counter[str] | None:
    """Element counts of a molecular formula in any order, or None when it is not one.

    >>> parse_formula("H2OC") == parse_formula("CH2O")
    True
    >>> parse_formula("C_{2}H_{6}O") == Counter({"C": 2, "H": 6, "O": 1})
    True
    >>> parse_formula("c2h6o") is None
    True
    """
    flat = re.sub(r"[\s_{}]", "", _plain(text).translate(_SUBSCRIPTS))
    if not flat or not re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", flat):
        return None
    counts: Counter[str] = Counter()
    for symbol, digits in re.findall(r"([A-Z][a-z]?)(\d*)", flat):
        if symbol not in _ELEMENTS:
            return None
        counts[symbol] += int(digits) if digits else 1
    return +counts


def parse_number(text: str) -> float | None:
    """The one number in ``text`` (a unit may follow it), or None when there is none or more than one.

    >>> parse_number("150.18 g/mol"), parse_number(r"45.00\\%"), parse_number("1,234.5 g mol^-1")
    (150.18, 45.0, 1234.5)
    >>> parse_number("150 or 151") is None
    True
    """
    plain = _UNIT_WITH_DIGITS.sub("", _plain(text).translate(_SUBSCRIPTS))
    plain = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", plain)  # thousands separators only
    numbers = _NUMBER.findall(plain)
    if len(numbers) != 1:
        return None
    return float(numbers[0])


def _integers(text: str) -> list[int] | None:
    plain = _plain(text).translate(_SUBSCRIPTS)
    numbers = _NUMBER.findall(plain)
    if not numbers or any(float(n) != int(float(n)) for n in numbers):
        return None
    return [int(float(n)) for n in numbers]


_YES = {"yes", "y", "true", "present"}
_NO = {"no", "n", "false", "absent"}


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no (by the first word, any case), None otherwise.

    >>> parse_yes_no("Yes."), parse_yes_no(r"\\text{NO}"), parse_yes_no("maybe")
    (True, False, None)
    """
    first = re.match(r"\s*([A-Za-z]+)", _plain(text))
    if first is None:
        return None
    word = first.group(1).lower()
    return True if word in _YES else False if word in _NO else None


def canonical_smiles(text: str) -> str | None:
    """RDKit's canonical SMILES of ``text``, or None when it is not a valid, non-empty SMILES.

    >>> canonical_smiles("C1=CC=CC=C1") == canonical_smiles("c1ccccc1")
    True
    >>> canonical_smiles("C1CC") is None
    True
    """
    smiles = text.strip()
    wrapped = re.fullmatch(r"\\(?:text|mathrm)\{(.*)\}", smiles)  # SMILES may hold '\', so unwrap only whole
    if wrapped:
        smiles = wrapped.group(1).strip()
    smiles = smiles.strip("`'\" ")
    if not smiles or len(smiles) > 1000 or any(ch.isspace() for ch in smiles):
        return None
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return Chem.MolToSmiles(mol)


def parse_sequence(text: str, alphabet: str) -> str | None:
    """The sequence in upper case without spaces, dashes or 5'/3' labels, or None if not one of ``alphabet``.

    >>> parse_sequence("5'-augc-3'", "RNA"), parse_sequence("MAF*", "protein"), parse_sequence("ATGU", "DNA")
    ('AUGC', 'MAF', None)
    """
    letters = {"DNA": "ACGT", "RNA": "ACGU", "protein": "ACDEFGHIKLMNPQRSTVWY"}[alphabet]
    flat = re.sub(r"[53][\'′’]|[\s\-–]", "", _plain(text)).upper()
    if alphabet == "protein" and flat.endswith("*"):
        flat = flat[:-1]
    if not flat or any(ch not in letters for ch in flat):
        return None
    return flat


def parse_choice(text: str, letters: str = "ABCD") -> str | None:
    """The option letter a multiple-choice answer names, or None.

    >>> parse_choice("(b)"), parse_choice("Answer: C) 42 kJ"), parse_choice("E")
    ('B', 'C', None)
    """
    match = re.match(
        r"\s*(?:answer|option)?\s*:?\s*\(?([A-Za-z])\)?(?=[\s.):]|$)", _plain(text), re.IGNORECASE
    )
    if match is None or match.group(1).upper() not in letters:
        return None
    return match.group(1).upper()


# ------------------------------------------------------------------------------------------------ judging


def _formula(predicted: str, example: Example) -> tuple[bool, str]:
    counts = parse_formula(predicted)
    if counts is None:
        return False, "not a molecular formula"
    return counts == parse_formula(example.answer), ""


def _number(predicted: str, example: Example) -> tuple[bool, str]:
    value = parse_number(predicted)
    if value is None:
        return False, "not a single number"
    truth = float(example.meta.get("value", example.answer))
    tolerance = float(example.meta.get("tolerance", 0.0))
    return abs(value - truth) <= tolerance + 1e-9, f"|{value} - {truth}| vs tolerance {tolerance}"


def _integer(predicted: str, example: Example) -> tuple[bool, str]:
    numbers = _integers(predicted)
    if numbers is None or len(numbers) != 1:
        return False, "not a single integer"
    return numbers[0] == int(example.answer), ""


def _count_pair(predicted: str, example: Example) -> tuple[bool, str]:
    numbers = _integers(predicted)
    if numbers is None or len(numbers) != 2:
        return False, "not two integers"
    return numbers == _integers(example.answer), ""


def _yes_no(predicted: str, example: Example) -> tuple[bool, str]:
    said = parse_yes_no(predicted)
    if said is None:
        return False, "not yes or no"
    return said == parse_yes_no(example.answer), ""


def _smiles(predicted: str, example: Example) -> tuple[bool, str]:
    canonical = canonical_smiles(predicted)
    if canonical is None:
        return False, "invalid SMILES"
    return canonical == canonical_smiles(example.answer), ""


def _sequence(predicted: str, example: Example) -> tuple[bool, str]:
    alphabet = example.meta.get("alphabet", "DNA")
    seq = parse_sequence(predicted, alphabet)
    if seq is None:
        return False, f"not a {alphabet} sequence"
    return seq == parse_sequence(example.answer, alphabet), ""


def _choice(predicted: str, example: Example) -> tuple[bool, str]:
    letter = parse_choice(predicted, example.meta.get("letters", "ABCD"))
    if letter is None:
        return False, "not an option letter"
    return letter == example.answer.strip().upper(), ""


_JUDGES: dict[str, Callable[[str, Example], tuple[bool, str]]] = {
    "formula": _formula,
    "number": _number,
    "integer": _integer,
    "count_pair": _count_pair,
    "yes_no": _yes_no,
    "smiles": _smiles,
    "sequence": _sequence,
    "choice": _choice,
}
ANSWER_KINDS = tuple(_JUDGES)

_PARSES: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    "formula": lambda t, m: parse_formula(t) is not None,
    "number": lambda t, m: parse_number(t) is not None,
    "integer": lambda t, m: (n := _integers(t)) is not None and len(n) == 1,
    "count_pair": lambda t, m: (n := _integers(t)) is not None and len(n) == 2,
    "yes_no": lambda t, m: parse_yes_no(t) is not None,
    "smiles": lambda t, m: canonical_smiles(t) is not None,
    "sequence": lambda t, m: parse_sequence(t, m.get("alphabet", "DNA")) is not None,
    "choice": lambda t, m: parse_choice(t, m.get("letters", "ABCD")) is not None,
}


def _kind(meta: dict[str, Any], example_id: str) -> str:
    kind = meta.get("kind")
    if kind not in _JUDGES:
        raise SrmzooError(
            f"science example {example_id!r} has answer kind {kind!r}, not one of: {', '.join(ANSWER_KINDS)}",
            hint="build examples with the science domain's examples() or load_gpqa(), and pass their meta column",
        )
    return kind


def answer_parses(answer: str, meta: dict[str, Any]) -> bool:
    """Whether a boxed answer's text parses as the kind of answer ``meta`` names.

    >>> answer_parses("O=C(O)c1ccccc1", {"kind": "smiles"}), answer_parses("C1CC", {"kind": "smiles"})
    (True, False)
    """
    return _PARSES[_kind(meta, "?")](answer, meta)


def vote_key(answer: str, meta: dict[str, Any]) -> str:
    """One spelling per answer, so equivalent answers vote together: a formula in Hill-free sorted order,
    a number on its tolerance's grid, a molecule as canonical SMILES, a sequence in capitals, a letter.
    Text that does not parse as its kind keeps its own spelling (without whitespace).

    >>> vote_key("H2OC", {"kind": "formula"}) == vote_key("C H2 O", {"kind": "formula"})
    True
    >>> vote_key("OCC", {"kind": "smiles"}) == vote_key("C(O)C", {"kind": "smiles"})
    True
    >>> vote_key("150.21 g/mol", {"kind": "number", "tolerance": 0.1}), vote_key("150.18", {"kind": "number", "tolerance": 0.1})
    ('150.2', '150.2')
    """
    kind = meta.get("kind")
    key: str | None = None
    if kind == "formula" and (counts := parse_formula(answer)) is not None:
        key = "".join(f"{el}{n}" for el, n in sorted(counts.items()))
    elif kind == "number" and (value := parse_number(answer)) is not None:
        tol = float(meta.get("tolerance", 0.0))
        key = f"{round(value / tol) * tol:.6g}" if tol > 0 else f"{value:.6g}"
    elif kind in ("integer", "count_pair") and (numbers := _integers(answer)) is not None:
        key = ",".join(map(str, numbers))
    elif kind == "yes_no" and (said := parse_yes_no(answer)) is not None:
        key = "yes" if said else "no"
    elif kind == "smiles":
        key = canonical_smiles(answer)
    elif kind == "sequence":
        key = parse_sequence(answer, meta.get("alphabet", "DNA"))
    elif kind == "choice":
        key = parse_choice(answer, meta.get("letters", "ABCD"))
    return key if key is not None else "".join(answer.split())


def judge(completion: Any, example: Example) -> Check:
    r"""Check the last ``\boxed{}`` answer of a completion against an example; never raises on model output.

    Raises:
        SrmzooError: when the example's ``meta["kind"]`` is missing or unknown (a data error).

    >>> ex = Example("x", "molecular_formula", "q", "CH2O", "s", {"kind": "formula"})
    >>> judge(r"... \boxed{H2OC}", ex).verdict.value, judge("no box", ex).verdict.value
    ('correct', 'unverifiable')
    """
    kind = _kind(example.meta, example.id)
    predicted = last_boxed(completion_text(completion))
    if not predicted:
        return Check(Verdict.UNVERIFIABLE, predicted, "no \\boxed{} answer, or an empty one")
    ok, detail = _JUDGES[kind](predicted, example)
    return Check(Verdict.CORRECT if ok else Verdict.WRONG, predicted, detail)


def judge_smiles(completion: Any, example: Example) -> Check:
    r"""The last ``\boxed{}`` molecule against the gold one, both as RDKit canonical SMILES (any valid
    spelling of the same molecule is correct): ``data.dataset.verifier: smiles``.

    >>> ex = Example("q", "", "", "c1ccccc1O", "")
    >>> judge_smiles(r"phenol: \boxed{Oc1ccccc1}", ex).verdict.value, judge_smiles(r"\boxed{C1CC}", ex).verdict.value
    ('correct', 'wrong')
    """
    return judge(completion, Example(example.id, example.family, example.question, example.answer,
                                     example.solution, {**example.meta, "kind": "smiles"}))


SMILES_VERIFIER = Verifier(
    name="smiles",
    description="the last \\boxed{} SMILES and the gold as RDKit canonical SMILES: the same molecule in any spelling",
    judge=judge_smiles,
    check_gold=lambda answer: None if canonical_smiles(answer) is not None else "is not a valid SMILES (RDKit)",
    vote_key=lambda answer: canonical_smiles(answer) or "".join(answer.split()),
)
