"""Biology families: questions about generated DNA sequences whose answers Biopython computes.

Sequences are drawn uniformly over ACGT from a generator seeded by ``(split, family, seed, index)``, so each
split has its own seed stream, and they are kept apart by construction:

* ``train`` and ``test``: 12-30 nt (translation: 4-10 whole codons). A sequence belongs to ``test`` when
  the SHA-256 of its letters falls in buckets 90-99 of 100 and to ``train`` otherwise; a draw that lands
  in the other split's buckets is redrawn, so no sequence is in both.
* ``ood``: 31-60 nt (translation: 11-20 codons), a length no train or test sequence has, asked with
  question templates train and test never use.

Truths: ``Seq.reverse_complement``, ``Seq.transcribe``, ``Seq.translate(to_stop=True)`` (standard table),
``Bio.SeqUtils.gc_fraction``, ``Seq.find`` and ``Seq.count_overlap``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from Bio.Data import CodonTable
from Bio.Seq import Seq
from Bio.SeqUtils import gc_fraction

from srmzoo.domain import Example

from .sampling import example_id, stable_bucket, stable_rng

__all__ = [
    "BIOLOGY_FAMILIES",
    "LENGTHS",
    "TEMPLATES",
    "generate_biology",
    "lookup_solution",
    "sequence_split",
    "spell",
]

LENGTHS = {"train": (12, 30), "test": (12, 30), "ood": (31, 60)}
TEST_BUCKETS = range(90, 100)

_STANDARD = CodonTable.unambiguous_dna_by_id[1]
_SENSE_CODONS = sorted(_STANDARD.forward_table)
_STOP_CODONS = sorted(_STANDARD.stop_codons)

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "reverse_complement": {
        "in": (
            "Give the reverse complement of the DNA sequence {seq}.",
            "What is the reverse complement (5'->3') of {seq}?",
        ),
        "ood": ("Write the complementary DNA strand of 5'-{seq}-3', read from its 5' end.",),
    },
    "translation": {
        "in": (
            "Translate the DNA coding sequence {seq} into protein with the standard genetic code, stopping at "
            "the first stop codon. Use one-letter amino acid codes.",
            "Using the standard codon table, what protein does {seq} encode (read from the first base, stop at "
            "the first stop codon)? One-letter codes.",
        ),
        "ood": (
            "A gene fragment reads {seq} on the coding strand. Give its amino-acid sequence (standard code, "
            "frame 1, up to the first stop) in one-letter code.",
        ),
    },
    "gc_content": {
        "in": (
            "What is the GC content of {seq}, as a percentage to 2 decimals?",
            "Compute the percentage of G and C bases in the DNA sequence {seq} (2 decimals).",
        ),
        "ood": ("Report the G+C percentage of the fragment {seq}, rounded to 2 decimals.",),
    },
    "transcription": {
        "in": (
            "Transcribe the DNA coding strand {seq} into mRNA.",
            "What mRNA is transcribed from a gene whose coding strand is {seq}?",
        ),
        "ood": ("Give the RNA transcript (5'->3') that corresponds to the coding-strand DNA {seq}.",),
    },
    "first_atg": {
        "in": (
            "At which position (1-based) does the first ATG begin in {seq}?",
            "Find the first ATG start codon in the DNA sequence {seq}; give its starting position (first base = 1).",
        ),
        "ood": ("Scanning {seq} from the 5' end, where does the earliest ATG start (1-based position)?",),
    },
    "motif_count": {
        "in": (
            "How many times does {motif} occur in {seq}? Count overlapping occurrences.",
            "Count the occurrences of the motif {motif} in the DNA sequence {seq}, overlaps included.",
        ),
        "ood": ("Including overlaps, how often does the motif {motif} appear in the fragment {seq}?",),
    },
}


def sequence_split(seq: str) -> str:
    """The split a sequence belongs to: ``ood`` by length, else ``test`` or ``train`` by its hash bucket.

    >>> sequence_split("ACGT" * 10)
    'ood'
    >>> sequence_split("ACGTACGTACGTA") in ("train", "test")
    True
    """
    if len(seq) > LENGTHS["train"][1]:
        return "ood"
    return "test" if stable_bucket(seq.upper()) in TEST_BUCKETS else "train"


def _draw(rng: Random, split: str, make: Callable[[Random], str]) -> str:
    """A sequence from ``make`` that belongs to ``split``, redrawing ones that belong to another split."""
    while True:
        seq = make(rng)
        if sequence_split(seq) == split:
            return seq


def _random_dna(rng: Random, split: str) -> str:
    low, high = LENGTHS[split]
    return _draw(rng, split, lambda r: "".join(r.choice("ACGT") for _ in range(r.randint(low, high))))


def _template(family: str, split: str, rng: Random) -> str:
    return rng.choice(TEMPLATES[family]["ood" if split == "ood" else "in"])


def spell(seq: str) -> str:
    """A sequence one base per token (SmolLM2's BPE merges runs of bases into irregular chunks such as
    ``GT|CT|AAAA``, which a small model cannot map, reverse or count base by base): ``G T C``.

    >>> spell("GTC")
    'G T C'
    """
    return " ".join(seq)


def _reverse_complement(split: str, rng: Random) -> tuple[str, str, str, dict]:
    seq = _random_dna(rng, split)
    answer = str(Seq(seq).reverse_complement())
    complement = str(Seq(seq).complement())
    solution = (
        f"Bases: {spell(seq)}\nComplement each base (A<->T, C<->G): {spell(complement)}\n"
        f"Reverse the order: {spell(answer)}\n\\boxed{{{answer}}}"
    )
    question = _template("reverse_complement", split, rng).format(seq=seq)
    return question, answer, solution, {"kind": "sequence", "alphabet": "DNA", "sequence": seq}


def _transcription(split: str, rng: Random) -> tuple[str, str, str, dict]:
    seq = _random_dna(rng, split)
    answer = str(Seq(seq).transcribe())
    solution = (
        "The mRNA has the coding strand's sequence with U in place of T.\n"
        f"Bases: {spell(seq)}\nT -> U: {spell(answer)}\n\\boxed{{{answer}}}"
    )
    question = _template("transcription", split, rng).format(seq=seq)
    return question, answer, solution, {"kind": "sequence", "alphabet": "RNA", "sequence": seq}


def _coding_sequence(rng: Random, split: str) -> str:
    shortest, longest = LENGTHS[split]
    low, high = -(-shortest // 3), longest // 3  # whole codons inside the split's length range

    def make(r: Random) -> str:
        codons = [r.choice(_SENSE_CODONS) for _ in range(r.randint(low, high))]
        if r.random() < 0.7:
            codons[0] = "ATG"
        if r.random() < 0.6:  # most fragments end early at a stop codon; the rest run to the end
            codons[r.randrange(2, len(codons))] = r.choice(_STOP_CODONS)
        return "".join(codons)

    return _draw(rng, split, make)


def _translation(split: str, rng: Random) -> tuple[str, str, str, dict]:
    seq = _coding_sequence(rng, split)
    answer = str(Seq(seq).translate(to_stop=True))
    steps = []
    for i in range(0, len(seq), 3):
        codon = seq[i : i + 3]
        if codon in _STANDARD.stop_codons:
            steps.append(f"{codon}=stop")
            break
        steps.append(f"{codon}={_STANDARD.forward_table[codon]}")
    ending = "Protein up to the first stop" if steps[-1].endswith("stop") else "No stop codon; protein"
    codons = " ".join(seq[i : i + 3] for i in range(0, len(seq), 3))
    solution = f"Bases: {spell(seq)}\nCodons: {codons}\n{', '.join(steps)}.\n{ending}: {answer}.\n\\boxed{{{answer}}}"
    question = _template("translation", split, rng).format(seq=seq)
    return question, answer, solution, {"kind": "sequence", "alphabet": "protein", "sequence": seq}


def _gc_content(split: str, rng: Random) -> tuple[str, str, str, dict]:
    seq = _random_dna(rng, split)
    g, c = seq.count("G"), seq.count("C")
    percent = (Decimal(g + c) * 100 / len(seq)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    answer = str(percent)
    solution = (
        f"G: {g}, C: {c}, so G+C = {g + c}.\nLength: {len(seq)} nt.\n"
        f"GC = {g + c} / {len(seq)} × 100 = {answer}%.\n\\boxed{{{answer}}}"
    )
    question = _template("gc_content", split, rng).format(seq=seq)
    meta = {
        "kind": "number",
        "value": round(gc_fraction(seq) * 100, 6),
        "tolerance": 0.1,
        "unit": "%",
        "sequence": seq,
    }
    return question, answer, solution, meta


def _orf_motif(split: str, rng: Random) -> tuple[str, str, str, dict]:
    if rng.random() < 0.5:
        seq = _draw(rng, split, lambda r: _with_atg(r, _random_dna(r, split)))
        position = Seq(seq).find("ATG") + 1
        triplets = [f"{i + 1} {seq[i : i + 3]}" for i in range(position) if seq[i] == "A"]
        answer = str(position)
        solution = (
            f"Triplets from each A, 5' to 3': {', '.join(triplets)}.\n"
            f"The first ATG starts at {answer}.\n\\boxed{{{answer}}}"
        )
        question = _template("first_atg", split, rng).format(seq=seq)
        return question, answer, solution, {"kind": "integer", "task": "first_atg", "sequence": seq}
    motif = "".join(rng.choice("ACGT") for _ in range(rng.choice((2, 3))))
    seq = _random_dna(rng, split)
    count = Seq(seq).count_overlap(motif)
    starts = [str(i + 1) for i in range(len(seq) - len(motif) + 1) if seq.startswith(motif, i)]
    answer = str(count)
    solution = (
        f"Start positions of {motif}: {', '.join(starts) if starts else 'none'}.\n"
        f"Count: {answer}.\n\\boxed{{{answer}}}"
    )
    question = _template("motif_count", split, rng).format(seq=seq, motif=motif)
    return (
        question,
        answer,
        solution,
        {"kind": "integer", "task": "motif_count", "motif": motif, "sequence": seq},
    )


def _with_atg(rng: Random, seq: str) -> str:
    """``seq`` with an ATG written in at a random place when it has none, so a first ATG exists."""
    if "ATG" in seq:
        return seq
    at = rng.randrange(len(seq) - 2)
    return seq[:at] + "ATG" + seq[at + 3 :]


_BUILDERS = {
    "reverse_complement": _reverse_complement,
    "translation": _translation,
    "gc_content": _gc_content,
    "transcription": _transcription,
    "orf_motif": _orf_motif,
}
BIOLOGY_FAMILIES = tuple(_BUILDERS)


def generate_biology(family: str, split: str, seed: int, index: int) -> Example:
    """The ``index``-th example of a biology ``family`` in ``split`` for ``seed``.

    >>> ex = generate_biology("transcription", "test", 0, 4)
    >>> ex.answer == ex.meta["sequence"].replace("T", "U")
    True
    """
    rng = stable_rng("science", split, family, seed, index)
    question, answer, solution, meta = _BUILDERS[family](split, rng)
    return Example(example_id(split, family, seed, index), family, question, answer, solution, meta)


# family (or orf_motif's task) -> the trace's label and its look-up; ``{motif}`` is the item's motif
_LOOKUPS = {
    "reverse_complement": ("Reverse complement", "revcomp({seq})", ""),
    "transcription": ("mRNA (T -> U)", "transcribe({seq})", ""),
    "translation": ("Protein (standard code, to the first stop)", "translate({seq})", ""),
    "gc_content": ("GC content", "gc({seq})", "%"),
    "first_atg": ("First ATG starts at", "find({seq}, ATG)", ""),
    "motif_count": ("Occurrences of {motif}, overlaps included", "count({seq}, {motif})", ""),
}


def lookup_solution(example: Example) -> str | None:
    r"""The solution as one Biopython look-up (the ``biopython`` tool) of the question's own sequence, or
    None for an example that is not a biology item written with its sequence.

    The call's result is written by :func:`srmzoo.tools.sequence_lookup`, the function that answers it at
    inference, so the trace and the tool never disagree.

    >>> print(lookup_solution(generate_biology("reverse_complement", "train", 0, 0)))
    Reverse complement: <<revcomp(GGCCGTGCGAGTGGGTAGCGGCGTACCGGA)>> = TCCGGTACGCCGCTACCCACTCGCACGGCC.
    \boxed{TCCGGTACGCCGCTACCCACTCGCACGGCC}
    """
    from srmzoo.tools import lookup_call, sequence_lookup

    seq = example.meta.get("sequence")
    key = example.meta.get("task", example.family)
    if not seq or seq not in example.question or key not in _LOOKUPS:
        return None
    label, call, unit = (part.format(seq=seq, motif=example.meta.get("motif", "")) for part in _LOOKUPS[key])
    value = sequence_lookup(*lookup_call(call))
    return f"{label}: <<{call}>> = {value}{unit}.\n\\boxed{{{value}}}"

