"""The science domain class: RDKit chemistry and Biopython biology with exact answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from srmzoo.domain import Check, Domain, Example, completion_text, last_boxed

from . import biology, chemistry
from .biology import BIOLOGY_FAMILIES, generate_biology
from .chemistry import CHEMISTRY_FAMILIES, generate_chemistry
from .natural import NATURAL_BIOLOGY, NATURAL_CHEMISTRY, NATURAL_FAMILIES, natural_examples
from .surface import SURFACE_FORMS
from .verify import ANSWER_KINDS, answer_parses, judge, vote_key

__all__ = ["SYSTEM_PROMPT", "ScienceDomain"]

SYSTEM_PROMPT = (
    "Solve the chemistry or biology problem step by step in short lines, then give the final answer as "
    "\\boxed{...}. Formulas in Hill order (C, H, then alphabetical). Masses as a number, within 0.05 g/mol "
    "(average) or 0.01 Da (monoisotopic); percentages as the number of percent, within 0.1. A molecule as "
    "one SMILES (any SMILES of the same structure; a tautomer is a different answer). DNA, RNA and protein "
    "5' to 3' in one-letter codes. Positions 1-based, counts in digits, yes/no as yes or no, multiple "
    "choice as the letter."
)


class ScienceDomain(Domain):
    r"""Molecules (formula, mass, H-bond counts, rings, groups, reactions) and DNA sequences.

    >>> science = ScienceDomain()
    >>> ex = science.examples("train", 2)[1]
    >>> ex.family, science.check(ex.solution, ex).verdict.value
    ('molecular_weight', 'correct')
    >>> science.extract_answer(r"so \boxed{C2H6O}")
    'C2H6O'
    """

    name = "science"
    description = (
        "Chemistry checked by RDKit (formulas, masses, H-bond counts, rings, functional groups, reaction "
        "products) and biology checked by Biopython (complements, transcription, translation, GC, motifs)"
    )
    system_prompt = SYSTEM_PROMPT
    families = CHEMISTRY_FAMILIES + BIOLOGY_FAMILIES
    # natural-split families join their groups, so a natural evaluation reports chemistry and biology too
    family_groups = {
        "chemistry": CHEMISTRY_FAMILIES + NATURAL_CHEMISTRY,
        "biology": BIOLOGY_FAMILIES + NATURAL_BIOLOGY,
    }
    natural_families = NATURAL_FAMILIES
    surface_forms = SURFACE_FORMS
    license = "Apache-2.0"
    data_version = "2"  # 2: biology traces spell the sequence base by base
    split_policy = (
        "Chemistry questions draw molecules from a Bemis-Murcko scaffold split (NCI molecules with 3-20 heavy "
        "atoms, their scaffolds hashed 75/25 into train/test, the most common scaffolds train-only; ood: WEHI "
        "molecules with 12-26 heavy atoms whose scaffolds neither has, in held-out templates), and biology "
        "sequences are hashed 90/10 into train/test at 12-30 nt while ood sequences are 31-60 nt in held-out "
        "templates, so no molecule, scaffold or sequence is in two splits."
    )
    # Attribution for the molecules the generated questions are about (recorded in manifests and cards).
    data_sources = (
        "RDKit Data/NCI/first_5K.smi: NCI/DTP open database structures, as shipped with RDKit (BSD-3-Clause)",
        "RDKit Data/Pains/test_data/wehi_mols.csv: WEHI compounds from RDKit's PAINS tests (BSD-3-Clause)",
    )

    def examples(
        self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None
    ) -> list[Example]:
        """``n`` generated examples of ``split``, round-robin over ``families`` (default: all).

        Example ``i`` is the ``i // len(families)``-th example of family ``families[i % len(families)]``,
        which depends only on (split, family, seed, that index): a longer request extends a shorter one.

        Raises:
            SrmzooError: unknown split or family, ``n`` or ``seed`` not a non-negative integer, or no family.

        >>> [e.id for e in ScienceDomain().examples("ood", 2, families=["gc_content"])]
        ['science/ood/gc_content/00000', 'science/ood/gc_content/00001']
        """
        chosen = self.checked_request(split, n, seed, families)
        out = []
        for i in range(n):
            family, index = chosen[i % len(chosen)], i // len(chosen)
            generate = generate_chemistry if family in CHEMISTRY_FAMILIES else generate_biology
            out.append(generate(family, split, seed, index))
        return out

    def natural_examples(self, n: int, *, seed: int = 0) -> list[Example]:
        """``n`` items of the held-out ``natural`` split (:mod:`.natural`): lab arithmetic with named compounds,
        pH, yields, primer Tm, mutation effects, reading frames and Hardy-Weinberg, phrased as people ask.

        >>> ScienceDomain().natural_examples(2)[1].id
        'science/natural/solution_preparation/00000'
        """
        return natural_examples(n, seed=seed)

    tool_traces = (
        "domains.science.chemistry.lookup_solution: with the rdkit tool, formula, mass, H-bond, ring and "
        "aromatic-ring questions become look-ups of the question's SMILES (`<<formula(SMILES)>> = C2H6O`), each "
        "result written by the same RDKit call that answers it at inference; masses are then rounded to the "
        "asked decimals in the text; domains.science.biology.lookup_solution: with the biopython tool, each "
        "sequence question becomes one look-up of its own sequence (`<<revcomp(ACGT)>> = ACGT`); functional "
        "groups and reactions keep their traces (calculator calls by srmzoo.tools.annotate where the "
        "calculator is a tool)"
    )

    def tool_solution(self, example: Example, tools: Sequence[str], style: str | None = None) -> str:
        r"""The trace a tool-using entry trains on: RDKit look-ups for the molecular-property families
        (:func:`.chemistry.lookup_solution`) when ``rdkit`` is a tool, a Biopython look-up for the sequence
        families (:func:`.biology.lookup_solution`) when ``biopython`` is, else the generic rewrite.

        >>> ex = ScienceDomain().examples("train", 1, families=["ring_count"])[0]
        >>> print(ScienceDomain().tool_solution(ex, ["rdkit"]))
        Rings: <<rings(COc1ccc2ncccc2c1)>> = 2.
        \boxed{2}
        """
        for tool, module in (("rdkit", chemistry), ("biopython", biology)):
            written = module.lookup_solution(example) if tool in tools else None
            if written is not None:
                return written
        return super().tool_solution(example, tools, style)

    def select_scores(self, completions: Sequence[str], examples: Sequence[Example]) -> list[float | None]:
        r"""1.0 where the final answer is well formed for the item's kind of answer, else 0.0: a SMILES that
        RDKit parses (chemistry's validity check), a formula of real elements, a sequence in its alphabet, a
        number, yes/no; no gold answer is used. None for an item whose kind is unknown (a free question).

        >>> ex = ScienceDomain().examples("test", 1, families=["reaction_product"])[0]
        >>> ScienceDomain().select_scores([ex.solution, r"\boxed{C1CC(}", "no answer"], [ex] * 3)
        [1.0, 0.0, 0.0]
        """
        scores: list[float | None] = []
        for completion, example in zip(completions, examples, strict=True):
            if example.meta.get("kind") not in ANSWER_KINDS:
                scores.append(None)
                continue
            answer = self.extract_answer(completion)
            scores.append(float(answer is not None and answer_parses(answer, example.meta)))
        return scores

    def extract_answer(self, completion: Any) -> str | None:
        """The content of the completion's last ``\\boxed{}``, or None."""
        return last_boxed(completion_text(completion))

    def vote_key(self, answer: str, example: Example) -> str:
        """Equivalent answers vote together (see :func:`.verify.vote_key`)."""
        return vote_key(answer, example.meta)

    def check(self, completion: Any, example: Example) -> Check:
        """Verify the completion's last boxed answer by the example's answer kind (see :mod:`.verify`)."""
        return judge(completion, example)
