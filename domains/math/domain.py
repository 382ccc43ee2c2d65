"""The math domain class: generated grade-school problems, boxed answers, a math-verify checker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from srmzoo.domain import Check, Domain, Example, completion_text, last_boxed
from srmzoo.phrasing import SurfaceForms

from .breadth import BREADTH_FAMILIES
from .gsm_symbolic import GSM_SYMBOLIC_SOURCE, gsm_symbolic_examples
from .natural import NATURAL_FAMILIES, natural_examples
from .splits import FAMILIES, generate_examples
from .surface import EXPRESSION_FAMILIES, EXPRESSION_FORMS, SURFACE_FORMS
from .tool_traces import DIRECT_FAMILIES, direct_solution
from .verify import check_answer

__all__ = ["SYSTEM_PROMPT", "MathDomain"]

SYSTEM_PROMPT = (
    "Solve the problem step by step, writing out each calculation (for example 3 × 14 = 42). "
    "End with the final answer in \\boxed{}, for example \\boxed{42}. The answer is a single number: "
    "a fraction in lowest terms as a/b, a percentage as the number of percent (25 for 25%), no units."
)


class MathDomain(Domain):
    r"""Arithmetic, fractions, percentages, linear equations and word problems with exact answers.

    >>> math = MathDomain()
    >>> ex = math.examples("train", 1)[0]
    >>> ex.family, math.check(ex.solution, ex).verdict.value
    ('arithmetic', 'correct')
    >>> math.extract_answer(r"so \boxed{7}")
    '7'
    """

    name = "math"
    description = (
        "Grade-school math: multi-step arithmetic, fractions, percentages, linear equations, word problems"
    )
    system_prompt = SYSTEM_PROMPT
    answer_cue = "\nThe answer is \\boxed{"
    families = tuple(FAMILIES)
    extra_families = tuple(BREADTH_FAMILIES)
    natural_families = NATURAL_FAMILIES
    trace_styles = {
        "direct": "domains.math.tool_traces: arithmetic and fraction items are one calculator call on the "
        "question's expression (fractions bracketed), program-aided style; the other families keep the "
        "default traces",
    }
    surface_forms = SURFACE_FORMS
    license = "Apache-2.0"
    data_version = "1"
    benchmarks = {"gsm-symbolic": GSM_SYMBOLIC_SOURCE}
    split_policy = (
        "Each problem's mathematical content (structure and numbers, not wording) is hashed (SHA-256) so one "
        "key in five belongs to test and the rest to train, each split redrawing until a key lands on its own "
        "side, while ood uses phrasing templates train/test never use, more operations or steps and value "
        "ranges train/test never draw; every (split, family, seed, index) has its own SHA-256-seeded stream."
    )

    def examples(
        self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None
    ) -> list[Example]:
        """``n`` generated examples of ``split``, round-robin over ``families`` (default: all).

        Raises:
            SrmzooError: unknown split or family, ``n`` or ``seed`` not a non-negative integer, or no family.

        >>> [e.id for e in MathDomain().examples("ood", 2, families=["fractions"])]
        ['math/ood/fractions/00000', 'math/ood/fractions/00001']
        """
        chosen = self.checked_request(split, n, seed, families)
        return generate_examples(split, n, seed=seed, families=chosen)

    def benchmark_examples(self, name: str, n: int, *, seed: int = 0) -> list[Example]:
        """The first ``n`` items of the fixed GSM-Symbolic set (:mod:`.gsm_symbolic`, evaluation only);
        ``seed`` is unused (the set is one fixed draw, so its sha256 identifies it).

        >>> [e.id for e in MathDomain().benchmark_examples("gsm-symbolic", 2)]
        ['gsm-symbolic/test/00000', 'gsm-symbolic/test/00001']
        """
        if name == "gsm-symbolic":
            return gsm_symbolic_examples(n)
        return super().benchmark_examples(name, n, seed=seed)

    def natural_examples(self, n: int, *, seed: int = 0) -> list[Example]:
        """``n`` items of the held-out ``natural`` split (:mod:`.natural`): question families no training data
        uses, phrased as people ask them; evaluation only.

        >>> [e.family for e in MathDomain().natural_examples(2)]
        ['recipe_scaling', 'combined_work']
        """
        return natural_examples(n, seed=seed)

    def restyle_forms(self, example: Example) -> SurfaceForms:
        """Every surface form for word problems and percentages; arithmetic, fractions and equations keep their
        expression as written (:mod:`.surface`)."""
        return EXPRESSION_FORMS if example.family in EXPRESSION_FAMILIES else SURFACE_FORMS

    def tool_solution(self, example: Example, tools: Sequence[str], style: str | None = None) -> str:
        r"""The default tool trace, or with ``style="direct"`` one call on the expression for arithmetic
        and fractions (:mod:`.tool_traces`).

        >>> ex = MathDomain().examples("train", 1)[0]
        >>> print(MathDomain().tool_solution(ex, ["calculator"], "direct"))
        <<13 - 16 ÷ 4>> = 9.
        The answer is \boxed{9}.
        """
        if style == "direct" and "calculator" in tools and example.family in DIRECT_FAMILIES:
            return direct_solution(example)
        return super().tool_solution(example, tools, style)

    def extract_answer(self, completion: Any) -> str | None:
        """The content of the completion's last ``\\boxed{}``, or None."""
        return last_boxed(completion_text(completion))

    def check(self, completion: Any, example: Example) -> Check:
        """Verify the completion's last boxed answer against the example (see :mod:`.verify`)."""
        return check_answer(completion_text(completion), example.answer, example.meta)
