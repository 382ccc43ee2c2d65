"""The healthcare domain class: generated clinical calculations and loaded medical multiple choice, one
verifier. For research and education only; not for clinical decisions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from srmzoo.domain import (
    Check,
    Domain,
    Example,
    completion_text,
    last_boxed,
    register_domain,
)

from .benchmarks import check_choice, extract_choice
from .calculator_tasks import CALCULATORS, calculator_example
from .clinical_units import round_half_up
from .grounded_traces import grounded_solution
from .medcalc_vignettes import MEDCALC_SOURCE, medcalc_examples
from .natural import NATURAL_FAMILIES, natural_examples
from .surface import SURFACE_FORMS
from .tool_traces import tool_solution
from .verify import check_number, parse_number

__all__ = ["RESEARCH_DISCLAIMER", "HealthcareDomain"]

RESEARCH_DISCLAIMER = "For research and education only; not for clinical decisions."


@register_domain
class HealthcareDomain(Domain):
    """Clinical calculation tasks (generated) and medical multiple-choice QA (loaded), one verifier."""

    name = "healthcare"
    disclaimer = RESEARCH_DISCLAIMER
    description = (
        "Clinical calculations from short patient notes (17 MedCalc-Bench-style calculators) and medical "
        f"multiple-choice QA. {RESEARCH_DISCLAIMER}"
    )
    system_prompt = (
        "You solve clinical calculation and medical multiple-choice questions. For a calculation, convert "
        "units, pick the criteria from the note, apply the formula and conventions the question states, "
        "and show short steps with the arithmetic. End with the final answer alone in \\boxed{}: a number "
        "without units, or the letter of the chosen option."
    )
    families = tuple(CALCULATORS)
    natural_families = NATURAL_FAMILIES
    surface_forms = SURFACE_FORMS
    hints = (
        "domains.healthcare.HealthcareDomain.unhint: a calculator question without the formula or convention "
        "it states (`Use BMI = weight (kg) / height (m)^2.`, `Unmentioned items are absent.`) and with its "
        "rounding and tolerance cut to the unit (`Answer in kg/m^2.`; nothing for a score), as MedCalc-Bench "
        "and the natural split ask; the trace still spells the formula out"
    )
    tool_traces = (
        "domains.healthcare.tool_traces: each unit conversion and formula is one calculator call over the "
        "note's values, rounded in the call (`<<round(127 * 0.4536, 1)>> = 57.6`); score totals are calls; "
        "the answer is the last call's result"
    )
    trace_styles = {
        "grounded": "domains.healthcare.grounded_traces: the default calls, plus every criterion and the sex "
        "quoted from the note (`Vascular disease: PAD -> 1`, `CHF: not mentioned -> 0`, `Sex: 85M -> male`) "
        "and fixed min/max templates where the default trace picks a branch (4-2-1 rule, MELD-Na bounds, "
        "Cockcroft-Gault's sex factor); the answer is the last result",
    }
    license = "Apache-2.0"
    data_version = "1"
    benchmarks = {"medcalc": MEDCALC_SOURCE}
    split_policy = (
        "Each note's calculator inputs (values with units, findings) are hashed (BLAKE2b) into 20 buckets, "
        "train taking 0-15, test 16-17 and ood 18-19 and redrawing inputs from another split's buckets, so no "
        "input tuple is in two splits; ood notes also use held-out note styles, condition wordings and "
        "question wordings, and every (split, family, seed, index) has its own seed stream."
    )

    def examples(
        self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None
    ) -> list[Example]:
        """``n`` calculator tasks of ``split``, round-robin over ``families`` (all 17 by default).

        Example ``i`` is item ``i // k`` of family ``i % k`` (``k`` families), so ids and contents do not
        depend on ``n``.

        >>> [e.id for e in HealthcareDomain().examples("test", 2, families=["bmi"])]
        ['healthcare/test/bmi/00000', 'healthcare/test/bmi/00001']
        """
        chosen = self.checked_request(split, n, seed, families)
        k = len(chosen)
        return [calculator_example(chosen[i % k], split, seed, i // k) for i in range(n)]

    def natural_examples(self, n: int, *, seed: int = 0) -> list[Example]:
        """``n`` items of the held-out ``natural`` split (:mod:`.natural`): ten bedside calculations none of the
        training calculators is, told as vignettes in mixed units with the score or equation only named.

        >>> HealthcareDomain().natural_examples(2)[1].id
        'healthcare/natural/infusion_rate/00000'
        """
        return natural_examples(n, seed=seed)

    def unhint(self, example: Example) -> Example | None:
        r"""A calculator question without its formula or convention and with its answer's unit alone (the
        rounding and tolerance are the verifier's business, as in a question a person asks); None for a
        question of no training calculator.

        >>> ex = HealthcareDomain().examples("train", 1, families=["bmi"])[0]
        >>> ex.question.split("\n\n")[1]
        "What is the patient's BMI? Use BMI = weight (kg) / height (m)^2. Answer in kg/m^2 to 1 decimal (±2% accepted)."
        >>> HealthcareDomain().unhint(ex).question.split("\n\n")[1]
        "What is the patient's BMI? Answer in kg/m^2."
        """
        calc = CALCULATORS.get(example.family)
        if calc is None:
            return None
        note, sep, ask = example.question.rpartition("\n\n")
        stated = f" {calc.convention} {calc.answer_spec()}"
        if not sep or not ask.endswith(stated):
            return None  # not the generator's wording (restyled already, or a user's question)
        bare = ask[: -len(stated)] + (f" Answer in {calc.unit}." if calc.unit else "")
        return replace(example, question=f"{note}\n\n{bare}", meta={**example.meta, "unhinted": True})

    def benchmark_examples(self, name: str, n: int, *, seed: int = 0) -> list[Example]:
        """The first ``n`` items of the fixed ``medcalc`` set (:mod:`.medcalc_vignettes`: vignettes whose gold
        is medcalc-bench's); ``seed`` is unused (one fixed draw, so its sha256 identifies it).

        >>> [e.family for e in HealthcareDomain().benchmark_examples("medcalc", 2)]
        ['medcalc-bmi', 'medcalc-mean_arterial_pressure']
        """
        if name == "medcalc":
            return medcalc_examples(n)
        return super().benchmark_examples(name, n, seed=seed)

    def vote_key(self, answer: str, example: Example) -> str:
        r"""Numbers vote at the precision the question asks for (``19.27`` and ``19.3 kg/m^2`` are one
        vote for a BMI to 1 decimal); option letters as letters.

        >>> hc = HealthcareDomain()
        >>> ex = hc.examples("test", 1, families=["bmi"])[0]
        >>> hc.vote_key("19.27", ex), hc.vote_key(r"19.3\ 	ext{kg/m}^2", ex), hc.vote_key("27 or 28", ex)
        ('19.3', '19.3', '27or28')
        """
        calculator = CALCULATORS.get(example.family)
        decimals = calculator.decimals if calculator is not None else example.meta.get("decimals")
        value = parse_number(answer)
        if decimals is not None and value is not None:  # a training calculator, or a natural item's precision
            return f"{round_half_up(value, decimals):.{decimals}f}"
        letter = extract_choice(answer, "ABCDE") if decimals is None else None
        return letter or "".join(answer.split())

    def tool_solution(self, example: Example, tools: Sequence[str], style: str | None = None) -> str:
        r"""A calculator task's solution with each conversion and formula as a calculator call
        (:func:`.tool_traces.tool_solution`, or with ``style="grounded"``
        :func:`.grounded_traces.grounded_solution`); unchanged without the calculator or for multiple choice.

        >>> ex = HealthcareDomain().examples("train", 1, families=["mean_arterial_pressure"])[0]
        >>> print(HealthcareDomain().tool_solution(ex, ["calculator"]))
        SBP = 113, DBP = 89 mmHg.
        MAP = <<round(89 + (113 - 89) / 3, 1)>> = 97 mmHg.
        \boxed{97}
        """
        if "calculator" not in tools:
            return example.solution
        return grounded_solution(example) if style == "grounded" else tool_solution(example)

    def extract_answer(self, completion: str) -> str | None:
        r"""The boxed answer, else an explicitly stated option letter ("The answer is (C)").

        >>> HealthcareDomain().extract_answer(r"AG = 12 \boxed{12}"), HealthcareDomain().extract_answer("Answer: b")
        ('12', 'B')
        """
        text = completion_text(completion)
        boxed = last_boxed(text)
        return boxed if boxed is not None else extract_choice(text, "ABCDE")

    def check(self, completion: str, example: Example) -> Check:
        r"""Verify a completion: an option letter for multiple choice, else a number under the tolerance in
        ``example.meta`` (exact when none is given).

        >>> ex = HealthcareDomain().examples("test", 1, families=["anion_gap"])[0]
        >>> HealthcareDomain().check(ex.solution, ex).verdict.value
        'correct'
        """
        text = completion_text(completion)
        kind = example.meta.get("answer_kind")
        if kind is None:  # rows rebuilt without meta: a lone letter is a choice answer
            kind = "choice" if re.fullmatch(r"[A-Ea-e]", example.answer.strip()) else "number"
        if kind == "choice":
            return check_choice(text, example.answer, example.meta)
        return check_number(text, example.answer, example.meta)
