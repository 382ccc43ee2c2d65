"""Check generated data against real Python: every reference solution and program, run in the sandbox.

The generators compute their truths in-process from reference behaviours (:mod:`.function_tasks`,
:mod:`.program_tracing`) and never run the code they emit. This audit runs it, in one sandboxed process
for a whole batch (each example in a fresh namespace, under a per-example time limit), and reports every
disagreement:

* a code example's reference solution (the last python block of its ``solution``) must pass its tests;
* a bug-fix example's buggy code must fail them;
* an output example's program must print exactly its ``answer``.

It is a data check for the generators' authors (the test suite runs it on every family and split), not
the verifier: :mod:`.verify` judges model completions, one sandbox per completion.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from srmzoo.domain import Example
from srmzoo.errors import SrmzooError
from srmzoo.sandbox import run_python

from .answer_format import extract_code
from .verify import answer_kind

__all__ = ["audit_examples"]

_HARNESS = r"""
import contextlib, io, json, signal, sys

class Overtime(Exception):
    pass

def overtime(signum, frame):
    raise Overtime("took over %s s" % PER_EXAMPLE_S)

signal.signal(signal.SIGALRM, overtime)

def run(code, tests=None):
    namespace = {"__name__": "__audit__"}
    printed = io.StringIO()
    signal.setitimer(signal.ITIMER_REAL, PER_EXAMPLE_S)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "<program>", "exec"), namespace)
            if tests is not None:
                exec(compile(tests, "<tests>", "exec"), namespace)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return printed.getvalue()

jobs = json.loads(sys.stdin.read())
problems = []
for job in jobs:
    try:
        if job["kind"] == "output":
            printed = run(job["program"])
            if printed.rstrip("\n") != job["answer"]:
                problems.append([job["id"], "prints %r, not %r" % (printed, job["answer"])])
            continue
        run(job["code"], job["tests"])
    except BaseException as exc:
        problems.append([job["id"], "%s: %s" % (type(exc).__name__, exc)])
        continue
    if job.get("buggy") is not None:
        try:
            run(job["buggy"], job["tests"])
        except BaseException:
            pass
        else:
            problems.append([job["id"], "the buggy code passes the tests"])
print(json.dumps({"checked": len(jobs), "problems": problems}))
"""


def audit_examples(
    examples: Sequence[Example], *, timeout: float = 300.0, per_example_s: float = 2.0
) -> list[str]:
    """Run every example's reference code in the sandbox; return one line per disagreement (none: ``[]``).

    Args:
        examples: generated (or benchmark) examples of the coding domain.
        timeout: wall-clock seconds for the whole batch.
        per_example_s: time limit of each example's run.

    Raises:
        SrmzooError: an example's meta is malformed, or the batch did not finish (timeout, crash).

    >>> from srmzoo.domain import get_domain
    >>> audit_examples(get_domain("coding").examples("test", 6))
    []
    """
    jobs = []
    for ex in examples:
        if answer_kind(ex.meta) == "output":
            jobs.append({"id": ex.id, "kind": "output", "program": ex.meta["program"], "answer": ex.answer})
            continue
        code = extract_code(ex.solution)
        if code is None:
            jobs.append(
                {"id": ex.id, "kind": "code", "code": "raise SystemExit('no python block')", "tests": ""}
            )
            continue
        prelude = ex.meta.get("prelude") or ""
        tests = ex.meta["tests"] + (
            f"\ncheck({ex.meta['entry_point']})\n" if ex.meta.get("entry_point") else ""
        )
        jobs.append(
            {
                "id": ex.id,
                "kind": "code",
                "code": f"{prelude}\n{code}" if prelude else code,
                "tests": tests,
                "buggy": ex.meta.get("buggy_code"),
            }
        )
    harness = f"PER_EXAMPLE_S = {float(per_example_s)!r}\n{_HARNESS}"
    result = run_python(harness, stdin=json.dumps(jobs), timeout=timeout, max_output_bytes=4 << 20)
    try:
        report = json.loads(result.stdout)
        assert report["checked"] == len(jobs)
    except (ValueError, KeyError, TypeError, AssertionError) as err:
        raise SrmzooError(
            f"the audit did not finish ({result.status.value}, exit {result.returncode}): {result.stderr[-500:]}",
            hint="audit fewer examples at a time, or raise timeout",
        ) from err
    return [f"{example_id}: {problem}" for example_id, problem in report["problems"]]
