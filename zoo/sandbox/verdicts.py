"""Programs against their tests: :func:`run_tests` and :func:`run_many`, with a verdict the program cannot forge.

The sandbox's program is the judge (:mod:`.judge`), not the candidate: it forks a child that runs the
candidate and answers calls, runs the tests itself, and writes the verdict with a per-run nonce to fd 3,
which the child never holds. The tests and the nonce reach the judge on stdin after the fork. Only plain
data crosses from the candidate, so neither a custom ``__eq__``, nor patching ``os.write`` or
``builtins.exec``, nor walking frames, nor exiting early, nor a forked helper can turn a wrong answer into a
pass. See :mod:`.judge` for the protocol.

>>> run_tests("def add(a, b):\\n    return a + b\\n", "assert add(2, 3) == 5").outcome.value
'pass'
"""

from __future__ import annotations

import ast
import builtins
import enum
import functools
import marshal
import secrets
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SrmzooError
from .judge import JUDGE_FAILED
from .runner import Limits, SandboxResult, SandboxStatus, run_checked, sandbox_capabilities, sandbox_result

__all__ = ["Candidate", "Outcome", "Verification", "run_many", "run_tests"]

# The judge's source and call, the same in every run (the launcher compiles it once per process).
_JUDGE_PROGRAM = Path(__file__).with_name("judge.py").read_text(encoding="utf-8") + "\nmain_from_stdin()\n"
_BUILTIN_NAMES = frozenset(dir(builtins))
_LIMIT_NAMES = ("memory_mb", "file_size_mb", "disk_mb", "max_processes", "max_open_files", "max_output_bytes")


class Outcome(str, enum.Enum):
    """The verdict of running a program against its tests.

    >>> Outcome.PASS.value
    'pass'
    """

    PASS = "pass"  # every test ran and passed
    FAIL = "fail"  # the tests ran and one raised (a failed assert, or the candidate raised under test)
    TIMEOUT = "timeout"  # the wall clock or the CPU-time limit ran out
    ERROR = "error"  # the program did not get as far as its tests: syntax error, exception, exit, crash


@dataclass(frozen=True)
class Candidate:
    """A program and the tests that judge it (HumanEval/MBPP style), the unit of :func:`run_many`.

    Attributes:
        program: the candidate's source, e.g. a HumanEval prompt plus a model's completion.
        tests: test code that calls the program: plain asserts, or a ``check`` function.
        entry_point: if given, ``check(<entry_point>)`` is called after the tests are defined.
        prelude: the dataset's own code the program starts with (a HumanEval prompt), run by the judge
            too: the tests see its helpers, not the program's redefinitions of them.

    >>> Candidate("def f():\\n    return 1\\n", "assert f() == 1").entry_point is None
    True
    """

    program: str
    tests: str
    entry_point: str | None = None
    prelude: str = ""


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`run_tests`, with the evidence.

    Attributes:
        outcome: pass / fail / timeout / error.
        detail: why, in one line (the exception and its message, the exit status, the limit hit);
            empty on a pass.
        result: the sandboxed run itself (stdout, stderr, wall time).

    >>> v = Verification(Outcome.FAIL, "AssertionError: ", SandboxResult(SandboxStatus.OK, 0, "", "", False, False, 0.0))
    >>> v.passed
    False
    """

    outcome: Outcome
    detail: str
    result: SandboxResult

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS



def _check_candidate(program: str, tests: str, entry_point: str | None) -> None:
    if not isinstance(program, str) or not isinstance(tests, str):
        raise SrmzooError(
            f"program and tests must be str, got {type(program).__name__} and {type(tests).__name__}"
        )
    if entry_point is not None and (not isinstance(entry_point, str) or not entry_point.isidentifier()):
        raise SrmzooError(
            f"entry_point={entry_point!r} is not a Python identifier", hint="pass the tested function's name"
        )
    # The tests are trusted (they come with the dataset), so they may be compiled here: a broken test
    # file is the caller's error, not the candidate's failure.
    try:
        tree = ast.parse(tests, "<tests>")
    except (SyntaxError, ValueError) as exc:
        raise SrmzooError(
            f"the tests do not compile: {exc}", hint="check the dataset row's test code"
        ) from exc
    if entry_point is not None and not any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign)) and _defines(node, "check")
        for node in tree.body
    ):
        raise SrmzooError(
            f"entry_point={entry_point!r} is given but the tests define no check() to call with it",
            hint="pass entry_point only for HumanEval-style tests (def check(candidate): ...)",
        )


def _defines(node: ast.stmt, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name == name
    return any(isinstance(t, ast.Name) and t.id == name for t in getattr(node, "targets", []))


def _bound_at_top(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level (definitions, imports, assignments)."""
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    bound.add(child.id)
    return bound


def _is_stub(node: ast.stmt) -> bool:
    """A function the program is to write: its body is only a docstring, ``pass`` or ``...``."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in node.body)


def _prelude_helpers(prelude: str) -> set[str]:
    """What a prelude defines for the tests to keep: every top-level name but the stubs the program completes."""
    tree = ast.parse(prelude, "<prelude>")
    return _bound_at_top(tree) - {node.name for node in tree.body if _is_stub(node)}


@functools.lru_cache(maxsize=1024)
def _program_names(tests: str, entry_point: str | None, prelude: str) -> tuple[str, ...]:
    """The names the judge takes from the program: those the tests use and do not bind themselves.

    Never a builtin's name (but the entry point): a program that defines ``tuple`` or ``abs`` must not
    change what the tests compute. Never a helper the prelude defines (but the entry point): the tests see
    the dataset's helpers, not the program's; a stub of the prelude (a signature and docstring, HumanEval's
    function to write) is the program's.
    """
    tree = ast.parse(tests, "<tests>")
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    try:
        from_prelude = _prelude_helpers(prelude) if prelude else set()
    except (SyntaxError, ValueError) as exc:
        raise SrmzooError(f"the prelude does not compile: {exc}", hint="check the dataset row's prompt") from exc
    names = used - _bound_at_top(tree) - _BUILTIN_NAMES - from_prelude
    if entry_point is not None:
        names.add(entry_point)
    return tuple(sorted(names))


def run_tests(
    program: str,
    tests: str,
    *,
    entry_point: str | None = None,
    prelude: str = "",
    timeout: float = 5.0,
    **sandbox: Any,
) -> Verification:
    """Run a candidate program against its tests in the sandbox, HumanEval/MBPP style.

    The program runs first (not as ``__main__``), in a process of its own; then the tests run in the
    judge, where the names they use that the program defines (functions, classes, values) stand for the
    program's, and ``check(<entry_point>)`` is called if an entry point is given. The program can only
    hand back plain data (None, bool, int, float, complex, str, bytes, and tuples, lists, dicts, sets of
    them); its other objects are opaque handles that cannot be compared. Arguments cross as copies: a
    program that changes an argument in place changes nothing the tests hold. A pass needs every test to
    finish; the program exiting, even with status 0, is an error.

    Args:
        program: the candidate's source (e.g. the HumanEval prompt plus the model's completion).
        tests: the test code: asserts, or (with ``entry_point``) a ``def check(candidate)``.
        entry_point: the name of the function to hand to ``check``.
        prelude: the dataset's code the program starts with (HumanEval's prompt); the judge runs it too,
            and the tests use its helpers rather than the program's versions of them.
        timeout: wall-clock seconds for the whole run.
        **sandbox: further keyword arguments of :func:`~srmzoo.sandbox.run_python` (``memory_mb``, ...).

    Returns:
        pass / fail / timeout / error, a one-line detail, and the run itself.

    Raises:
        SrmzooError: for invalid arguments or tests that do not compile (the caller's error, not the
            candidate's), or when the sandbox cannot be set up.

    >>> tests = "def check(f):\\n    assert f(3) == 9\\n"
    >>> run_tests("def square(x):\\n    return x * x\\n", tests, entry_point="square").outcome.value
    'pass'
    >>> v = run_tests("def square(x):\\n    return x + x\\n", tests, entry_point="square")
    >>> v.outcome.value, v.detail
    ('fail', 'AssertionError: ')
    >>> liar = "class Liar:\\n    def __eq__(self, other):\\n        return True\\ndef square(x):\\n    return Liar()\\n"
    >>> run_tests(liar, tests, entry_point="square").outcome.value
    'fail'
    """
    _check_candidate(program, tests, entry_point)
    if not isinstance(prelude, str):
        raise SrmzooError(f"prelude must be a str, got {type(prelude).__name__}")
    if "stdin" in sandbox:
        raise SrmzooError("run_tests takes no stdin", hint="the tests call the program's functions directly")
    unknown = set(sandbox) - set(_LIMIT_NAMES) - {"interpreter", "require_full_isolation"}
    if unknown:
        raise SrmzooError(
            f"unknown sandbox option(s): {', '.join(sorted(unknown))}", hint=f"known: {', '.join(_LIMIT_NAMES)}"
        )
    limits = Limits(**{k: v for k, v in sandbox.items() if k in _LIMIT_NAMES})
    if isinstance(limits.max_processes, int) and limits.max_processes < 2:
        raise SrmzooError(
            f"max_processes={limits.max_processes} is too few for run_tests",
            hint="pass max_processes >= 2: the judge and the program each need one",
        )
    nonce = secrets.token_hex(16)
    job = {"tests": tests, "entry_point": entry_point, "nonce": nonce}
    # The head is read by the judge before it forks, so the program's process holds it: the program, the
    # prelude and the names the tests use, none of them secret. The job (tests, nonce) is read after.
    head = marshal.dumps((program, prelude, list(_program_names(tests, entry_point, prelude))), 2)
    launch = run_checked(
        _JUDGE_PROGRAM,
        stdin=len(head).to_bytes(4, "big") + head + marshal.dumps(job, 2),
        precompile=True,
        timeout=timeout,
        limits=limits,
        interpreter=sandbox.get("interpreter"),
        require_full_isolation=sandbox.get("require_full_isolation", False),
        verdict=True,
    )
    result = sandbox_result(launch)
    line = launch.verdict.decode("utf-8", "replace").partition("\n")[0]
    if line.startswith(nonce + " "):
        kind, _, detail = line[len(nonce) + 1 :].partition(" ")
        return Verification(Outcome(kind), detail, result)
    if result.returncode == JUDGE_FAILED:
        raise SrmzooError(
            "the sandbox's judge could not be set up: " + (result.stderr.strip().splitlines() or ["?"])[-1],
            hint="run python -m srmzoo.sandbox to see the sandbox's state",
        )
    # No verdict: the judge itself was stopped (the whole sandbox at the deadline, or a limit).
    if result.status is SandboxStatus.TIMEOUT:
        return Verification(Outcome.TIMEOUT, f"still running after {timeout:g} s", result)
    if result.returncode == -signal.SIGXCPU:
        return Verification(Outcome.TIMEOUT, "CPU-time limit reached (SIGXCPU)", result)
    if result.status is SandboxStatus.KILLED:
        return Verification(
            Outcome.ERROR, f"killed by {result.signal_name} before the tests finished", result
        )
    return Verification(
        Outcome.ERROR, f"exited with status {result.returncode} before the tests finished", result
    )


def run_many(
    candidates: Iterable[Candidate], *, workers: int = 2, timeout: float = 5.0, **sandbox: Any
) -> list[Verification]:
    """Run many candidates against their tests, ``workers`` sandboxes at a time, in input order.

    Args:
        candidates: the programs with their tests.
        workers: sandboxes running at once (threads here, each waiting on its own sandbox).
        timeout: wall-clock seconds per candidate.
        **sandbox: further keyword arguments of :func:`run_python`, for every run.

    Returns:
        One :class:`Verification` per candidate, in the order given.

    Raises:
        SrmzooError: for invalid arguments (checked for every candidate before any runs).

    >>> tests = "assert double(2) == 4"
    >>> jobs = [Candidate("def double(x):\\n    return 2 * x\\n", tests), Candidate("def double(x):\\n    return x\\n", tests)]
    >>> [v.outcome.value for v in run_many(jobs)]
    ['pass', 'fail']
    """
    from concurrent.futures import ThreadPoolExecutor

    jobs = list(candidates)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SrmzooError(f"workers={workers!r} is invalid", hint="pass an int >= 1")
    for i, job in enumerate(jobs):
        if not isinstance(job, Candidate):
            raise SrmzooError(f"candidate {i} is a {type(job).__name__}, not a Candidate")
        try:
            _check_candidate(job.program, job.tests, job.entry_point)
            _program_names(job.tests, job.entry_point, job.prelude)
        except SrmzooError as exc:
            raise SrmzooError(f"candidate {i}: {exc.message}", hint=exc.hint) from exc
    sandbox_capabilities(sandbox.get("interpreter"))  # probe once, not once per thread

    def one(job: Candidate) -> Verification:
        return run_tests(
            job.program, job.tests, entry_point=job.entry_point, prelude=job.prelude, timeout=timeout, **sandbox
        )

    if workers == 1 or len(jobs) <= 1:
        return [one(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="srmzoo-sandbox") as pool:
        return list(pool.map(one, jobs))


