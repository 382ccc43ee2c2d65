r"""Tool-augmented reasoning: the model writes a computation, the reasoner computes it.

Most errors of a 135M reasoner are arithmetic inside otherwise right steps ("19 + 13 = 32"). With a tool,
the model writes the expression in a call and the reasoner writes the result::

    The price changed by <<70 - 56>> = 14.

The model generates ``<<70 - 56>>``; as soon as ``>>`` closes the call, the reasoner evaluates the
expression with :func:`calculate` and forces the tokens of `` = 14`` into the sequence, then the model goes
on. The result is part of the text the model reads next, exactly as in training, where the traces carry
the same calls (:func:`annotate` rewrites a domain's worked solutions, checking every call it writes).

The calculator is a small exact parser (numbers, ``+ - × ÷ * / ^``, Python's ``//`` and ``%`` on whole
numbers, brackets, ``sqrt``, ``ln`` and
``round(x, d)`` for measurements, ``min``/``max`` for bounds, ``frac(x)`` for an answer due as a fraction),
never ``eval``: model text is hostile input. Expressions that are too
long (200 characters), nested too deeply (32 levels of brackets, minus signs and powers), too large or
malformed give ``?`` as result, and so does any other failure inside a tool: a call never raises out of
decoding. Numbers are ASCII digits only (``٣`` and ``３`` are not numbers to the calculator). The ``rdkit`` tool answers chemistry look-ups
(``<<formula(CCO)>> = C2H6O``, :data:`RDKIT_LOOKUPS`) with RDKit's SMILES parser and descriptors; the
``biopython`` tool answers DNA look-ups (``<<revcomp(ATGC)>> = GCAT``, :data:`SEQUENCE_LOOKUPS`) with
Biopython.

>>> annotate("Take away the gap: 80 - 28 = 52.\nZoe is 52 ÷ 2 = 26.")
'Take away the gap: <<80 - 28>> = 52.\nZoe is <<52 ÷ 2>> = 26.'
>>> strip_calls("The price changed by <<70 - 56>> = 14.")
'The price changed by 70 - 56 = 14.'
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from .errors import SrmzooError, UnknownNameError

log = logging.getLogger(__name__)

__all__ = [
    "AsFraction",
    "CALL_CLOSE",
    "CALL_OPEN",
    "TOOLS",
    "ToolCaller",
    "ToolError",
    "annotate",
    "calculate",
    "check_tools",
    "format_number",
    "lookup_call",
    "rdkit_lookup",
    "sequence_lookup",
    "strip_calls",
]

CALL_OPEN, CALL_CLOSE = "<<", ">>"
UNKNOWN_RESULT = "?"
MAX_EXPRESSION_CHARS = 200
MAX_MAGNITUDE = 10**15
MAX_EXPONENT = 12
MAX_NESTING = 32  # brackets, minus signs and powers inside each other; traces use at most a few


class ToolError(ValueError):
    """A tool call the tool cannot answer (malformed, too large, division by zero)."""


class AsFraction(Fraction):
    """The value of ``frac(expr)``: written ``a/b`` by :func:`format_number` (any arithmetic on it gives a
    plain :class:`~fractions.Fraction`, so only an outermost ``frac`` decides the format)."""


def format_number(x: Fraction | int | float) -> str:
    """An exact number as the solutions write it: an integer, a short decimal, or ``a/b`` in lowest terms.

    Decimals are used only when they terminate within four places (so an exact value is never rounded);
    anything else stays a fraction. Floats (from ``sqrt``) are rounded to four decimals.

    >>> format_number(Fraction(84)), format_number(Fraction(5, 2)), format_number(Fraction(-3, 8))
    ('84', '2.5', '-0.375')
    >>> format_number(Fraction(2, 3)), format_number(math.sqrt(2))
    ('2/3', '1.4142')
    """
    if isinstance(x, AsFraction):  # frac(...): a/b even where a decimal terminates
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, float):
        text = f"{x:.4f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    scaled = x * 10_000
    if scaled.denominator == 1:
        whole, frac = divmod(abs(scaled.numerator), 10_000)
        return f"{'-' if x < 0 else ''}{whole}.{frac:04d}".rstrip("0")
    return f"{x.numerator}/{x.denominator}"


# ---------------------------------------------------------------------------------------------- calculator

# [0-9], not \d: \d also matches Arabic-Indic, full-width and every other Unicode digit, which Fraction()
# would read as numbers the model never wrote in ASCII.
_TOKEN = re.compile(r"\s*(?:([0-9]+(?:\.[0-9]+)?)|(sqrt|ln|round|min|max|frac)|(//|[-+×÷*/^%(),]))")
MAX_ROUND_DECIMALS = 4  # what format_number writes without switching to a fraction
_OPS = {"×": "*", "÷": "/"}
_ASCII_DIGITS = frozenset("0123456789")


def _is_number(tok: str) -> bool:
    return tok[0] in _ASCII_DIGITS


def _tokens(expr: str) -> list[str]:
    tokens, pos = [], 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ToolError(f"unexpected {expr[pos:].strip()[:10]!r}")
        tokens.append(m.group(1) or m.group(2) or _OPS.get(m.group(3), m.group(3)))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over ``expr := term (± term)*``, ``term := power ((*|/|//|%) power)*``,
    ``power := unary (^ power)?``, ``unary := -unary | atom``,
    ``atom := number | (expr) | sqrt(expr) | ln(expr) | round(expr, digits) | min(expr, expr) | max(expr, expr)
    | frac(expr)``."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def nest(self) -> None:
        """One level deeper (a bracket, a minus sign, a power): refused beyond :data:`MAX_NESTING`, so the
        recursion stays a few hundred frames however the 200 characters are spent."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ToolError(f"nested deeper than {MAX_NESTING} levels")

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ToolError(f"expected {expected or 'a number'}, got {tok or 'the end'}")
        self.i += 1
        return tok

    def expr(self) -> Fraction | float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            value = _check(value + self.term() if op == "+" else value - self.term())
        return value

    def term(self) -> Fraction | float:
        value = self.power()
        while self.peek() in ("*", "/", "//", "%"):
            op = self.take()
            right = self.power()
            if op != "*" and right == 0:
                raise ToolError("division by zero")
            if op in ("//", "%"):  # Python's floor division and remainder (the sign of the divisor)
                if not all(isinstance(x, Fraction) and x.denominator == 1 for x in (value, right)):
                    raise ToolError(f"{op} takes whole numbers")
                value = Fraction(value // right if op == "//" else value % right)
            else:
                value = _check(value * right if op == "*" else value / right)
        return value

    def power(self) -> Fraction | float:
        base = self.unary()
        if self.peek() != "^":
            return base
        self.take()
        self.nest()
        exponent = self.power()
        self.depth -= 1
        if abs(exponent) > MAX_EXPONENT:
            raise ToolError(f"exponent {exponent} is not a small number")
        if exponent != int(exponent):  # a root, e.g. RR^(1/3): positive bases only, inexact
            if base <= 0:
                raise ToolError("fractional power of a non-positive number")
            return _check(float(base) ** float(exponent))
        if base == 0 and exponent < 0:
            raise ToolError("division by zero")
        return _check(base ** int(exponent))

    def unary(self) -> Fraction | float:
        if self.peek() == "-":
            self.take()
            self.nest()
            value = -self.unary()
            self.depth -= 1
            return value
        return self.atom()

    def atom(self) -> Fraction | float:
        tok = self.take()
        if _is_number(tok):
            return _check(Fraction(tok))
        self.nest()  # a bracket or a function's arguments
        value = self.bracketed(tok)
        self.depth -= 1
        return value

    def bracketed(self, tok: str) -> Fraction | float:
        if tok == "(":
            value = self.expr()
            self.take(")")
            return value
        if tok == "round":
            self.take("(")
            value = self.expr()
            self.take(",")
            digits = self.take()
            self.take(")")
            if not (digits.isascii() and digits.isdigit()) or int(digits) > MAX_ROUND_DECIMALS:
                raise ToolError(f"round to 0-{MAX_ROUND_DECIMALS} decimals, not {digits!r}")
            return round_half_up(value, int(digits))
        if tok in ("min", "max"):  # bounds and piecewise rules (MELD-Na's 1.0 floor, the 4-2-1 rule)
            self.take("(")
            first = self.expr()
            self.take(",")
            second = self.expr()
            self.take(")")
            return min(first, second) if tok == "min" else max(first, second)
        if tok == "frac":  # an exact answer asked for in lowest terms: 5/4, not 1.25
            self.take("(")
            value = self.expr()
            self.take(")")
            if isinstance(value, float):
                raise ToolError("frac of an inexact number (a root or logarithm)")
            return AsFraction(value)
        if tok == "ln":
            self.take("(")
            value = self.expr()
            self.take(")")
            if value <= 0:
                raise ToolError("logarithm of a non-positive number")
            return math.log(value)
        if tok == "sqrt":
            self.take("(")
            value = self.expr()
            self.take(")")
            if value < 0:
                raise ToolError("square root of a negative number")
            exact = Fraction(value)
            num, den = math.isqrt(exact.numerator), math.isqrt(exact.denominator)
            if num * num == exact.numerator and den * den == exact.denominator:
                return Fraction(num, den)
            return math.sqrt(value)
        raise ToolError(f"unexpected {tok!r}")


def round_half_up(value: Fraction | float, digits: int) -> Fraction:
    """``value`` rounded to ``digits`` decimals, halves away from zero (the clinical convention), exactly.

    >>> round_half_up(Fraction(5, 2), 0), round_half_up(Fraction(-1, 8), 2), round_half_up(2.675, 2)
    (Fraction(3, 1), Fraction(-13, 100), Fraction(67, 25))
    """
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)  # 2.675, not 2.67499...
    scale = 10**digits
    magnitude = math.floor(abs(exact) * scale + Fraction(1, 2))
    return Fraction(-magnitude if exact < 0 else magnitude, scale)


def _check(value: Fraction | float) -> Fraction | float:
    if abs(value) > MAX_MAGNITUDE or (isinstance(value, Fraction) and value.denominator > MAX_MAGNITUDE):
        raise ToolError("number too large")
    return value


def calculate(expr: str) -> str:
    """Evaluate an arithmetic expression exactly and format the result with :func:`format_number`.

    >>> calculate("7 + 3 × (12 - 4) ÷ 6"), calculate("(13 × 17)/(10 × 11)"), calculate("sqrt(144.8 * 76.5 / 3600)")
    ('11', '221/110', '1.7541')
    >>> calculate("round(57.6 / 1.727^2, 1)"), calculate("round(314 / 0.504^(1/3), 0)"), calculate("round(ln(3), 3)")
    ('19.3', '395', '1.099')
    >>> calculate("min(max(0.7, 1), 4)"), calculate("4 * min(14.5, 10) + 2 * min(max(14.5 - 10, 0), 10) + max(14.5 - 20, 0)")
    ('1', '49')
    >>> calculate("(5/6) × (3/2)"), calculate("frac((5/6) × (3/2))"), calculate("frac(6 ÷ 3)")
    ('1.25', '5/4', '2')
    >>> calculate("7 // 2 + 19"), calculate("-7 // 2"), calculate("35 % 3 * 4"), calculate("-11 % 4")
    ('22', '-4', '8', '1')
    >>> calculate("__import__('os')")
    Traceback (most recent call last):
    ...
    srmzoo.tools.ToolError: unexpected '__import__'
    >>> calculate("9 ^ 9 ^ 9")
    Traceback (most recent call last):
    ...
    srmzoo.tools.ToolError: exponent 387420489 is not a small number
    >>> calculate("(" * 33 + "1" + ")" * 33)
    Traceback (most recent call last):
    ...
    srmzoo.tools.ToolError: nested deeper than 32 levels
    >>> calculate("٣ + ３")
    Traceback (most recent call last):
    ...
    srmzoo.tools.ToolError: unexpected '٣ + ３'

    Raises:
        ToolError: malformed (digits other than ASCII ``0-9`` included), longer than 200 characters, nested
            deeper than 32 levels, a number beyond 10**15, division by zero, ``//`` or ``%`` of a number that
            is not whole.
    """
    if len(expr) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    parser = _Parser(_tokens(expr))
    if not parser.tokens:
        raise ToolError("empty expression")
    value = parser.expr()
    if parser.peek() is not None:
        raise ToolError(f"unexpected {parser.peek()!r}")
    return format_number(value)


# ---------------------------------------------------------------------------------- chemistry look-ups

# name -> what it answers (and the RDKit function behind it); the ``rdkit`` tool answers ``<<name(SMILES)>>``.
RDKIT_LOOKUPS: dict[str, str] = {
    "formula": "molecular formula in Hill order (rdMolDescriptors.CalcMolFormula)",
    "mw": "average molecular weight in g/mol to 3 decimals (Descriptors.MolWt)",
    "exact_mass": "monoisotopic exact mass in Da to 4 decimals (Descriptors.ExactMolWt)",
    "hbd": "hydrogen-bond donors (Lipinski.NumHDonors)",
    "hba": "hydrogen-bond acceptors (Lipinski.NumHAcceptors)",
    "rings": "rings of the SSSR (rdMolDescriptors.CalcNumRings)",
    "aromatic_rings": "aromatic rings (rdMolDescriptors.CalcNumAromaticRings)",
}
_SMILES_CHARS = re.compile(r"[A-Za-z0-9@+\-\[\]()=#$%/\\.:*~]+")

# ----------------------------------------------------------------------------------- biology look-ups

# name -> what it answers; the ``biopython`` tool answers ``<<name(DNA)>>`` and ``<<name(DNA, MOTIF)>>``.
SEQUENCE_LOOKUPS: dict[str, str] = {
    "revcomp": "reverse complement, 5'->3' (Seq.reverse_complement)",
    "transcribe": "mRNA of a coding strand (Seq.transcribe)",
    "translate": "protein of whole codons, standard table, to the first stop (Seq.translate(to_stop=True))",
    "gc": "G+C percentage to 2 decimals, halves up",
    "count": "occurrences of MOTIF, overlaps included: count(DNA, MOTIF) (Seq.count_overlap)",
    "find": "1-based start of the first MOTIF, 0 if none: find(DNA, MOTIF) (Seq.find)",
}
_TWO_ARGUMENTS = {"count", "find"}
_DNA = re.compile(r"[ACGTacgt]+")
MAX_MOTIF_CHARS = 12

_LOOKUP_CALL = re.compile(r"\s*([a-z_]+)\((.+)\)\s*$")


def lookup_call(expr: str) -> tuple[str, str] | None:
    """``(name, argument text)`` when ``expr`` is a look-up call of :data:`RDKIT_LOOKUPS` or
    :data:`SEQUENCE_LOOKUPS`, ``name(...)``, else None (an arithmetic call).

    >>> lookup_call("formula(CC(=O)O)"), lookup_call("round(2.5, 0)"), lookup_call("sqrt(4)")
    (('formula', 'CC(=O)O'), None, None)
    >>> lookup_call("count(ACGAC, AC)")
    ('count', 'ACGAC, AC')
    """
    match = _LOOKUP_CALL.match(expr)
    if not match or match.group(1) not in _LOOKUP_TOOL:
        return None
    return match.group(1), match.group(2)


def rdkit_lookup(name: str, smiles: str) -> str:
    """One property of the molecule ``smiles``, computed by RDKit (the ``rdkit`` tool).

    Model text reaches RDKit only as a SMILES string of bounded length and plain SMILES characters, parsed
    by RDKit's SMILES parser (never executed); a string RDKit cannot parse is a :class:`ToolError`.

    >>> rdkit_lookup("formula", "OCC(=O)Cl"), rdkit_lookup("mw", "CCO"), rdkit_lookup("rings", "c1ccccc1C1CC1")
    ('C2H3ClO2', '46.069', '2')
    >>> rdkit_lookup("exact_mass", "CCO"), rdkit_lookup("hbd", "CCO"), rdkit_lookup("hba", "CC(=O)N")
    ('46.0419', '1', '1')
    >>> rdkit_lookup("formula", "C1CC")
    Traceback (most recent call last):
    ...
    srmzoo.tools.ToolError: RDKit cannot parse the SMILES 'C1CC'
    """
    if name not in RDKIT_LOOKUPS:
        raise ToolError(f"unknown look-up {name!r}; known: {', '.join(RDKIT_LOOKUPS)}")
    if len(smiles) > MAX_EXPRESSION_CHARS or not _SMILES_CHARS.fullmatch(smiles):
        raise ToolError(f"not a SMILES string: {smiles[:40]!r}")
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Descriptors, Lipinski, rdMolDescriptors

    RDLogger.DisableLog("rdApp.*")  # a bad SMILES is an answer ("?"), not a message on stderr
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        raise ToolError(f"RDKit cannot parse the SMILES {smiles!r}")
    compute = {
        "formula": rdMolDescriptors.CalcMolFormula,
        "mw": lambda m: f"{Descriptors.MolWt(m):.3f}",
        "exact_mass": lambda m: f"{Descriptors.ExactMolWt(m):.4f}",
        "hbd": Lipinski.NumHDonors,
        "hba": Lipinski.NumHAcceptors,
        "rings": rdMolDescriptors.CalcNumRings,
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings,
    }
    return str(compute[name](mol))


def sequence_lookup(name: str, argument: str) -> str:
    """One fact about a DNA sequence, computed by Biopython (the ``biopython`` tool); ``argument`` is the
    call's text between the brackets: ``DNA`` or, for ``count`` and ``find``, ``DNA, MOTIF``.

    Model text reaches Biopython only as strings of A, C, G, T (any case, at most 200 and 12 letters);
    anything else, or a translation of a length that is not whole codons, is a :class:`ToolError`.

    >>> sequence_lookup("revcomp", "ATGCC"), sequence_lookup("transcribe", "ATGC"), sequence_lookup("translate", "ATGGCCTAAGGG")
    ('GGCAT', 'AUGC', 'MA')
    >>> sequence_lookup("gc", "ATGCCG"), sequence_lookup("count", "AAAA, AA"), sequence_lookup("find", "CCATGATG, ATG")
    ('66.67', '3', '3')
    >>> sequence_lookup("translate", "ATGC")
    Traceback (most recent call last):
    ...
    srmzoo.tools.ToolError: translate needs whole codons; 'ATGC' has 4 bases
    """
    if name not in SEQUENCE_LOOKUPS:
        raise ToolError(f"unknown look-up {name!r}; known: {', '.join(SEQUENCE_LOOKUPS)}")
    parts = [part.strip() for part in argument.split(",")]
    if len(parts) != (2 if name in _TWO_ARGUMENTS else 1):
        raise ToolError(f"{name} takes {'DNA, MOTIF' if name in _TWO_ARGUMENTS else 'one DNA sequence'}")
    for part, longest in zip(parts, (MAX_EXPRESSION_CHARS, MAX_MOTIF_CHARS)):
        if len(part) > longest or not _DNA.fullmatch(part):
            raise ToolError(f"not a DNA sequence of at most {longest} bases: {part[:40]!r}")
    from Bio.Seq import Seq

    seq = Seq(parts[0].upper())
    if name == "revcomp":
        return str(seq.reverse_complement())
    if name == "transcribe":
        return str(seq.transcribe())
    if name == "translate":
        if len(seq) % 3:
            raise ToolError(f"translate needs whole codons; {parts[0]!r} has {len(seq)} bases")
        return str(seq.translate(to_stop=True))
    if name == "gc":
        percent = Decimal(sum(map(seq.count, "GC")) * 100) / len(seq)
        return str(percent.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    motif = parts[1].upper()
    if name == "count":
        return str(seq.count_overlap(motif))
    return str(seq.find(motif) + 1)


def _lookup_tool(expr: str) -> str:
    call = lookup_call(expr)
    if call is None:
        raise ToolError(f"not a look-up call: {expr[:40]!r}")
    return rdkit_lookup(*call) if call[0] in RDKIT_LOOKUPS else sequence_lookup(*call)


# look-up name -> the tool that answers it
_LOOKUP_TOOL = {**dict.fromkeys(RDKIT_LOOKUPS, "rdkit"), **dict.fromkeys(SEQUENCE_LOOKUPS, "biopython")}

TOOLS: dict[str, Callable[[str], str]] = {"calculator": calculate, "rdkit": _lookup_tool, "biopython": _lookup_tool}


def check_tools(names: Sequence[str]) -> tuple[str, ...]:
    """Validate tool names (recipe, prompt format); returns them as a tuple."""
    for name in names:
        if name not in TOOLS:
            raise UnknownNameError("tool", name, TOOLS, hint=f"known tools: {', '.join(sorted(TOOLS))}")
    return tuple(names)


def run_call(expr: str, tools: Sequence[str] = ("calculator",)) -> str:
    """The result text of one call, or ``?`` when no tool of ``tools`` can answer it.

    A look-up goes to the tool that owns it (``formula(SMILES)`` to ``rdkit``, ``revcomp(DNA)`` to
    ``biopython``), anything else to the calculator.

    >>> run_call("formula(CCO)", ["calculator", "rdkit"]), run_call("2 + 3", ["calculator", "rdkit"])
    ('C2H6O', '5')
    >>> run_call("revcomp(AACG)", ["biopython"]), run_call("revcomp(AACG)", ["rdkit"])
    ('CGTT', '?')
    >>> run_call("formula(CCO)", ["calculator"]), run_call("2 + 3", ["rdkit"]), run_call("mw(C1CC)", ["rdkit"])
    ('?', '?', '?')

    It never raises: the expression is model text, and a failure of any kind inside a tool (a
    :class:`ToolError`, but also a ``RecursionError`` at a deep caller stack, a ``MemoryError``, a bug) is
    the answer ``?``, logged where the stack leaves room, so that no model output can stop a generation,
    an evaluation or an RL batch.

    >>> run_call("(" * 199 + "1"), run_call("٣ + ３")
    ('?', '?')
    """
    try:
        call = lookup_call(expr)
        name = _LOOKUP_TOOL[call[0]] if call else "calculator"
        if name not in tools:
            return UNKNOWN_RESULT
        return TOOLS[name](expr)
    except Exception as err:  # noqa: BLE001 — any failure is the tool's "?", never an escape from decoding
        failure = err
    # Logging takes a dozen frames of its own: at a stack too full for the tool it fails too, and the
    # answer must still be "?". So it is guarded inline (a helper or contextlib.suppress would be a frame).
    try:  # noqa: SIM105
        if isinstance(failure, ToolError):
            log.debug("tool call %.60r: %s", expr, failure)
        else:
            log.warning("tool call %.60r failed with %s: %.200s", expr, type(failure).__name__, failure)
    except Exception:  # noqa: BLE001, S110
        pass
    return UNKNOWN_RESULT


# ------------------------------------------------------------------------------------------------- traces

# A computation written in a trace: an arithmetic expression, " = ", a number that ends the computation.
_EXPR_CHARS = set("0123456789.()+-×÷*/^% ")
_RESULT = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")
_HAS_OPERATOR = re.compile(r"\d\s*(?://|[-+×÷*/^%])\s*[-(\d]|^\s*sqrt")


def annotate(solution: str, tools: Sequence[str] = ("calculator",)) -> str:
    """Rewrite a worked solution so that each checkable computation ``a op b = c`` is a call.

    Only computations whose result as written equals the calculator's (same text, not just same value) are
    rewritten, so the trace never disagrees with what the tool will answer at inference; everything else
    (rounded values, chained rewrites such as ``1/12 = 7/84``) stays for the model to write itself.
    ``strip_calls(annotate(s)) == s`` always.

    >>> annotate("Add 13 to both sides: 3x = 20 + 13 = 33.")
    'Add 13 to both sides: 3x = <<20 + 13>> = 33.'
    >>> annotate("x - 19 = -105 ÷ 5 = -21.")
    'x - 19 = <<-105 ÷ 5>> = -21.'
    >>> annotate("1/12 = (1 × 7)/84 = 7/84.")  # value equal, text not: left alone
    '1/12 = (1 × 7)/84 = 7/84.'
    """
    if "calculator" not in tools:
        return solution
    out, last = [], 0
    for eq in re.finditer(r" = ", solution):
        start = eq.start()
        while start > last and solution[start - 1] in _EXPR_CHARS:
            start -= 1
        while start < eq.start() and solution[start] in " )":
            start += 1
        expr = solution[start : eq.start()]
        if start > 0 and (solution[start - 1].isalnum() or solution[start - 1] in "_<"):
            continue
        if not expr or expr.count("(") != expr.count(")") or not _HAS_OPERATOR.search(expr):
            continue
        result = _RESULT.match(solution, eq.end())
        if not result:
            continue
        rest = solution[result.end() :]
        if re.match(r"\s*[-+×÷*/^(]", rest) or re.match(r"\.\d", rest):
            continue
        try:
            value = calculate(expr)
        except (ToolError, ArithmeticError, ValueError):
            continue
        if value != result.group():
            continue
        out.append(solution[last:start] + CALL_OPEN + expr + CALL_CLOSE)
        last = eq.start()
    out.append(solution[last:])
    return "".join(out)


def strip_calls(text: str) -> str:
    """The text without call brackets: what a reader wants to see."""
    return text.replace(CALL_OPEN, "").replace(CALL_CLOSE, "")


def calls(text: str) -> list[tuple[str, str]]:
    """Every ``<<expr>> = result`` in ``text`` as ``(expr, result)``.

    >>> calls("a <<2 + 3>> = 5, b <<5 × 2>> = 10.")
    [('2 + 3', '5'), ('5 × 2', '10')]
    >>> calls("Formula: <<formula(CCO)>> = C2H6O.")
    [('formula(CCO)', 'C2H6O')]
    """
    return re.findall(r"<<([^<>]*)>> = (\?|-?\d+(?:\.\d+)?(?:/\d+)?|[A-Z][A-Za-z0-9]*[+-]?)", text)


# --------------------------------------------------------------------------------------------- generation


class ToolCaller:
    """Answers calls during generation: given one sequence's new token ids, the token ids to force next.

    After each generated token, :meth:`after` looks at the sequence's text: when its last call has just
    been closed (``>>`` and nothing after it but what came in the same token), it runs the call and returns
    the tokens of `` = <result>``, which the decoder then feeds one per step instead of sampling. Decoding is
    skipped for tokens that cannot close a call, so the cost is one dictionary look-up per token.
    """

    def __init__(self, tokenizer: Any, tools: Sequence[str]):
        self.tokenizer = tokenizer
        self.tools = check_tools(tools)
        self._closes: dict[int, bool] = {}
        self._unknown_answer = list(tokenizer.encode(f" = {UNKNOWN_RESULT}", add_special_tokens=False))
        self.calls = 0
        self.failed = 0

    def _may_close(self, token: int) -> bool:
        if token not in self._closes:
            self._closes[token] = ">" in self.tokenizer.decode([token])
        return self._closes[token]

    def after(self, generated: Sequence[int]) -> list[int]:
        """Tokens to force after ``generated`` (this sequence's new tokens so far); empty for none.

        A call that closed is always answered: whatever fails inside it (the tool, logging it, encoding its
        result, even a ``RecursionError`` because the caller's stack is nearly full) forces `` = ?``.
        """
        if not generated or not self._may_close(generated[-1]):
            return []
        text = self.tokenizer.decode(list(generated[-96:]), skip_special_tokens=True)
        opened = text.rfind(CALL_OPEN)
        closed = text.find(CALL_CLOSE, opened + len(CALL_OPEN)) if opened >= 0 else -1
        if closed < 0 or text[closed + len(CALL_CLOSE) :].strip(".,;:) \n") != "":
            return []
        if not self.tokenizer.decode([generated[-1]]).rstrip(".,;:) \n").endswith(">"):
            return []
        expr = text[opened + len(CALL_OPEN) : closed]
        try:
            result = run_call(expr, self.tools)
            answer = self.tokenizer.encode(f" = {result}", add_special_tokens=False)
        except Exception:  # noqa: BLE001 — run_call answers "?" itself; this is a stack too full to even call it
            # (or to encode its answer): the "?" tokens were encoded up front, and a slice costs no frame
            result, answer = UNKNOWN_RESULT, self._unknown_answer[:]
        self.calls += 1
        self.failed += result == UNKNOWN_RESULT
        return answer


def tool_logits_processor(caller: ToolCaller, prompt_length: int):
    """A ``transformers`` logits processor that forces :class:`ToolCaller`'s tokens in ``model.generate``
    (sampling, several sequences per prompt): each row's forced tokens win with probability 1."""
    from transformers import LogitsProcessor

    class _ForceToolResults(LogitsProcessor):
        def __init__(self) -> None:
            self.pending: dict[int, list[int]] = {}

        def __call__(self, input_ids, scores):
            for row in range(input_ids.shape[0]):
                queue = self.pending.get(row) or caller.after(input_ids[row, prompt_length:].tolist())
                if queue:
                    token, self.pending[row] = queue[0], queue[1:]
                    scores[row, :] = -float("inf")
                    scores[row, token] = 0.0
            return scores

    return _ForceToolResults()


def describe(tools: Sequence[str]) -> str:
    """One sentence for prompts and cards."""
    if not tools:
        return ""
    sentences = {
        "calculator": "Write each computation as <<expression>>; a calculator fills in the result.",
        "rdkit": f"Look a molecule's property up as <<name(SMILES)>> ({', '.join(RDKIT_LOOKUPS)}); RDKit fills "
                 "in the result.",
        "biopython": f"Look a DNA sequence's fact up as <<name(DNA)>> or <<name(DNA, MOTIF)>> "
                     f"({', '.join(SEQUENCE_LOOKUPS)}); Biopython fills in the result.",
    }
    unknown = [t for t in tools if t not in sentences]
    if unknown:
        raise SrmzooError(f"no description for tools {unknown}")
    return " ".join(sentences[t] for t in tools)
