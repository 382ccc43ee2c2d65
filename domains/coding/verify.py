r"""The coding verifier: completions judged by running their code in the sandbox, or by their boxed output.

Verdict policy (one verifier serves evaluation and RL rewards, and never raises on model output):

==============================================  ==============
completion                                      verdict
==============================================  ==============
code: every test passes                         CORRECT
code: a test fails, or the code raises          WRONG
code: does not parse (syntax error)             WRONG
code: runs past the timeout or CPU limit        WRONG
code: exits early, crashes, is killed           WRONG
code: no closed, non-blank python block         UNVERIFIABLE
output: boxed text equals the printed output    CORRECT
output: boxed text differs                      WRONG
output: no (or an empty) ``\boxed{}``           UNVERIFIABLE
==============================================  ==============

A syntax error or a timeout is an answer that does not work, so it scores 0, not ``None``: RL must not
learn that an endless loop is safer than a wrong one. Only a completion that commits to no code at all is
unverifiable.

Model-written code runs **only** in :mod:`srmzoo.sandbox` (a fresh, isolated child process per
completion, :func:`~srmzoo.sandbox.run_many` with two workers for a batch), and only with every one of the
sandbox's protections: where this machine lacks one (``python -m srmzoo.sandbox`` lists them), the verifier
raises :class:`~srmzoo.errors.SrmzooError` rather than run the code less isolated, unless the user sets
``SRMZOO_ALLOW_WEAK_SANDBOX=1``. The verdict comes from the sandbox's judge, which runs the tests in a
process the candidate's code never runs in and takes only plain data back from it, so a custom
``__eq__``, an early exit or a patched ``os.write`` is a wrong answer, not a pass. Parsing with
:func:`ast.parse` is the one thing done here: it executes nothing, and it saves a sandbox run for code
that cannot run.

What a code example's ``meta`` holds: ``tests`` (asserts, or HumanEval's ``def check(candidate)``),
``entry_point`` (HumanEval only: the function handed to ``check``), ``prelude`` (code run before the
candidate's; HumanEval's prompt, for its imports and helper functions) and ``timeout_s``. An error in
these is the dataset's, so it raises :class:`~srmzoo.errors.SrmzooError`.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping, Sequence
from typing import Any

from srmzoo.domain import Check, Example, Verdict, completion_text, last_boxed
from srmzoo.errors import SrmzooError
from srmzoo.sandbox import Candidate, Outcome, Verification, run_many, sandbox_capabilities
from srmzoo.verifiers import Verifier

from .answer_format import extract_code, normalise_output, python_block

__all__ = [
    "CODE_TESTS_VERIFIER",
    "DEFAULT_TIMEOUT_S",
    "SANDBOX_WORKERS",
    "WEAK_SANDBOX_VARIABLE",
    "answer_kind",
    "check_completions",
    "check_output",
    "code_candidate",
]

DEFAULT_TIMEOUT_S = 3.0  # the generated tests take milliseconds; HumanEval's slowest canonical ~0.1 s
SANDBOX_WORKERS = 2  # this project's machines have two cores
WEAK_SANDBOX_VARIABLE = "SRMZOO_ALLOW_WEAK_SANDBOX"  # "1": run model code even with protections missing

_VERDICTS = {
    Outcome.PASS: Verdict.CORRECT,
    Outcome.FAIL: Verdict.WRONG,
    Outcome.TIMEOUT: Verdict.WRONG,
    Outcome.ERROR: Verdict.WRONG,
}


def answer_kind(meta: Any) -> str:
    """``"code"`` or ``"output"``: how an example is checked, from its ``meta``.

    Raises:
        SrmzooError: ``meta`` is not a mapping, names an unknown kind, or a code example has no tests.

    >>> answer_kind({"answer_kind": "code", "tests": "assert f() == 1"}), answer_kind({})
    ('code', 'output')
    """
    if not isinstance(meta, Mapping):
        raise SrmzooError(
            f"a coding example's meta must be a mapping, got {type(meta).__name__}",
            hint="decode the dataset's JSON meta column first (Domain.score_completions does)",
        )
    kind = meta.get("answer_kind", "code" if "tests" in meta else "output")
    if kind not in ("code", "output"):
        raise SrmzooError(f"unknown coding answer_kind {kind!r}", hint="use 'code' or 'output'")
    if kind == "code" and not isinstance(meta.get("tests"), str):
        raise SrmzooError(
            "a code example's meta has no 'tests' string", hint="store the unit tests as meta['tests']"
        )
    return kind


def check_output(completion: str, gold: str) -> Check:
    r"""Judge an output prediction: the last ``\boxed{}`` against the printed output, as text.

    >>> check_output(r"x = 7, so y = 19. The output is \boxed{19}.", "19").verdict.value
    'correct'
    >>> check_output(r"\boxed{'GARDEN'}", "GARDEN").verdict.value, check_output("19", "19").verdict.value
    ('wrong', 'unverifiable')
    """
    predicted = last_boxed(completion)
    if predicted is None or not predicted.strip():
        return Check(Verdict.UNVERIFIABLE, None, "no boxed output")
    same = normalise_output(predicted) == normalise_output(gold)
    return Check(Verdict.CORRECT if same else Verdict.WRONG, predicted)


def code_candidate(completion: str, meta: Mapping[str, Any]) -> Candidate | Check:
    """The sandbox job for a code completion, or the verdict already, when there is nothing to run.

    >>> code_candidate("no code here", {"tests": "assert f() == 1"}).verdict.value
    'unverifiable'
    >>> code_candidate("```python\\ndef f(:\\n```", {"tests": "assert f() == 1"}).verdict.value
    'wrong'
    >>> code_candidate("```python\\ndef f():\\n    return 1\\n```", {"tests": "assert f() == 1"}).program
    'def f():\\n    return 1\\n'
    """
    code = extract_code(completion)
    if code is None:
        return Check(Verdict.UNVERIFIABLE, None, "no ```python block")
    prelude = meta.get("prelude") or ""
    program = f"{prelude}\n{code}" if prelude else code
    try:
        ast.parse(program)
    except Exception as exc:  # SyntaxError; ValueError (null bytes); RecursionError on absurd nesting
        return Check(Verdict.WRONG, code, f"does not parse: {type(exc).__name__}: {exc}"[:300])
    # The prelude (HumanEval's prompt) is the dataset's: the judge runs it too, so the tests use its
    # helpers, not the completion's redefinitions of them.
    return Candidate(program, meta["tests"], meta.get("entry_point"), prelude)


def _timeout(meta: Mapping[str, Any]) -> float:
    value = meta.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 600:
        raise SrmzooError(f"meta timeout_s={value!r} is invalid", hint="a number of seconds in (0, 600]")
    return float(value)


def check_completions(
    completions: Sequence[str], examples: Sequence[Example], *, workers: int = SANDBOX_WORKERS
) -> list[Check]:
    """Judge a batch of completions, each against its example; code runs ``workers`` sandboxes at a time.

    Args:
        completions: the completions' text.
        examples: one example per completion (its ``answer`` and ``meta`` are what count).
        workers: sandboxes running at once.

    Returns:
        One :class:`~srmzoo.domain.Check` per completion, in order. For code, ``predicted`` is the
        extracted code and ``detail`` the sandbox's outcome and reason.

    Raises:
        SrmzooError: the lists differ in length, an example's meta is malformed, or the sandbox cannot run
            here, or lacks a protection and ``$SRMZOO_ALLOW_WEAK_SANDBOX`` is not ``1`` (never because of
            what a completion contains).

    >>> ex = Example("e", "function_synthesis", "q", "double", "", {"answer_kind": "code", "tests": "assert double(2) == 4"})
    >>> good, bad = "```python\\ndef double(x):\\n    return 2 * x\\n```", "```python\\ndef double(x):\\n    return x\\n```"
    >>> [c.verdict.value for c in check_completions([good, bad], [ex, ex])]
    ['correct', 'wrong']
    """
    if len(completions) != len(examples):
        raise SrmzooError(
            f"{len(completions)} completions for {len(examples)} examples",
            hint="pass one example per completion",
        )
    checks: list[Check | None] = [None] * len(completions)
    jobs: dict[float, list[tuple[int, Candidate]]] = {}  # run_many takes one timeout per call
    for i, (completion, example) in enumerate(zip(completions, examples, strict=True)):
        if answer_kind(example.meta) == "output":
            checks[i] = check_output(completion, example.answer)
            continue
        job = code_candidate(completion, example.meta)
        if isinstance(job, Check):
            checks[i] = job
        else:
            jobs.setdefault(_timeout(example.meta), []).append((i, job))
    strict = os.environ.get(WEAK_SANDBOX_VARIABLE, "") != "1"
    if jobs and strict and (missing := sandbox_capabilities().missing_summary()):
        raise SrmzooError(
            f"refusing to run model-written code: the sandbox lacks protections on this machine: {missing}",
            hint="run as root on Linux >= 5.12 with namespaces and a writable cgroup (python -m srmzoo.sandbox "
            f"shows what is missing), or set {WEAK_SANDBOX_VARIABLE}=1 to accept weaker isolation",
        )
    for timeout, batch in jobs.items():
        results = run_many(
            [job for _, job in batch], workers=workers, timeout=timeout, require_full_isolation=strict
        )
        for (i, job), result in zip(batch, results, strict=True):
            checks[i] = _code_check(job, result, example=examples[i])
    done = [c for c in checks if c is not None]
    if len(done) != len(checks):  # every row is either judged here or sent to the sandbox above
        raise RuntimeError("a completion was left unjudged")
    return done


def _code_check(job: Candidate, result: Verification, *, example: Example) -> Check:
    prelude = example.meta.get("prelude") or ""
    code = job.program[len(prelude) + 1 :] if prelude else job.program
    detail = result.outcome.value + (f": {result.detail}" if result.detail else "")
    return Check(_VERDICTS[result.outcome], code, detail[:500])


def _tests_parse(tests: str) -> str | None:
    """Why the unit tests in an answer column cannot run (None when they parse as Python)."""
    try:
        ast.parse(tests)
    except Exception as exc:  # SyntaxError; ValueError (null bytes); RecursionError
        return f"are not Python the sandbox can run ({type(exc).__name__}: {str(exc)[:80]})"
    return None if "assert" in tests or "def check" in tests else "hold no assert (nothing would be tested)"


CODE_TESTS_VERIFIER = Verifier(
    name="code-tests",
    description="the last ```python block run in the sandbox against the answer column's asserts (the unit tests)",
    judge=lambda completion, example: check_completions([completion_text(completion)], [example])[0],
    check_batch=check_completions,
    options={"timeout_s": DEFAULT_TIMEOUT_S},
    answer_format="Give the complete Python code in one ```python block at the end; unit tests are run on it.",
    extract=extract_code,
    answer_completion=python_block,
    needs_solution=True,
    check_gold=_tests_parse,
    answer_cue=None,
    checks_solutions=False,  # a sandbox run per row: srmzoo.domains.coding.audit_examples checks them on demand
    example_meta=lambda tests: {"answer_kind": "code", "tests": tests},
)
