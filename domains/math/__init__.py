r"""The math domain: generated grade-school math with exact answers, checked by math-verify.

Families (:mod:`.splits` documents how train, test and ood are kept apart):

* ``arithmetic``: multi-step integer expressions with + - × ÷ and brackets (:mod:`.arithmetic`);
* ``fractions``: add, subtract, multiply (ood: also divide) fractions, answer in lowest terms;
* ``percentages``: percent of, percent change, discounts (ood: successive changes, reverse discounts);
* ``linear_equation``: ``ax + b = c`` and ``a(x + b) = c`` (ood: x on both sides);
* ``word_problem``: shopping, travel, sharing, ages and rates, 2-4 steps (ood: 4-5 steps).

Every solution is a few short lines of arithmetic ending in ``The answer is \boxed{...}.``; the verifier
(:mod:`.verify`) compares the last boxed answer with the gold through math-verify. GSM8K and
MATH-500 load as Example rows for evaluation only (:mod:`.benchmarks`).

>>> from srmzoo.domain import get_domain
>>> math = get_domain("math")
>>> ex = math.examples("test", 1, families=["linear_equation"])[0]
>>> math.check(ex.solution, ex).correct
True

Usage::

    math.dataset("train", 5000)                       # a datasets.Dataset for SFT/GRPO
    load_benchmark("gsm8k")                           # online; or data_files="gsm8k_test.jsonl"
    get_reward("math_correct"), get_reward("math_format")
"""

# Registered through the installed names (srmzoo.domains.math.*), so importing this package under a
# second name (e.g. ``domains.math`` from a checkout) registers the very same objects again (a no-op)
# rather than copies the reward registry rejects.
from srmzoo.domain import register_domain, register_reward
from srmzoo.domains.math.benchmarks import BENCHMARKS, load_benchmark
from srmzoo.domains.math.domain import SYSTEM_PROMPT, MathDomain
from srmzoo.domains.math.rewards import math_correct, math_format
from srmzoo.domains.math.verify import MATH_VERIFY
from srmzoo.verifiers import register_verifier

__all__ = ["BENCHMARKS", "SYSTEM_PROMPT", "MathDomain", "load_benchmark", "math_correct", "math_format"]

register_domain(MathDomain)
register_reward("math_correct")(math_correct)
register_reward("math_format")(math_format)
register_verifier(MATH_VERIFY)  # for recipes on the user's own data (data.dataset.verifier)
