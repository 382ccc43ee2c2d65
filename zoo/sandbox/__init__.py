"""Run model-written Python without trusting it: the sandbox behind the coding verifier and tool calls.

Every program runs in a fresh child process, never in this one. On Linux as root the child gets:

* its own **network namespace** (no interfaces but a downed loopback: every connection fails at once);
* its own **IPC and UTS namespaces**: SysV shared memory, semaphores and message queues and POSIX queues
  are private to the run and die with it; the hostname is ``srmzoo-sandbox``;
* its own **mount namespace**: the whole filesystem read-only and ``nosuid``; ``/root``, ``/home``,
  ``/run``, ``/var/run``, ``/mnt``, ``/opt``, ``/srv`` and ``/media`` covered by empty read-only tmpfs (no
  host socket under them can be reached); a private size-capped tmpfs as ``/tmp`` (also behind
  ``/var/tmp``) that is its working directory and vanishes with it; a **/dev of its own** with only
  ``null``, ``zero``, ``full``, ``random``, ``urandom`` (no ttys, no ptys, not the host's devpts);
* its own **pid namespace**: it sees and can signal only its own processes, and every descendant dies
  with the run, even one that called ``setsid()``;
* a **cgroup leaf** it runs in alone (cgroup v2 where the parent's cgroup delegates memory and pids, else
  the v1 memory and pids hierarchies): the memory of all its processes and its scratch files together is
  capped at ``memory_mb + disk_mb`` (swap included), and its processes at ``max_processes``;
* an **unprivileged uid** (65534 "nobody", or a sibling uid when several runs overlap, so that their
  process limits do not add up), no supplementary groups, ``no_new_privs`` (setuid binaries stay
  powerless), resource limits (address space, CPU time, file size, open files, processes, no core dumps);
* a **seccomp filter**: the kernel keyrings (``keyctl``, ``add_key``, ``request_key``), new user namespaces
  (``unshare``/``clone`` with ``CLONE_NEWUSER``; ``clone3`` answers ENOSYS so the C library falls back to
  ``clone``), io_uring, ``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``, ``bpf``,
  ``perf_event_open``, ``userfaultfd`` and unix-domain sockets (``socketpair`` stays) are refused with
  EPERM; a system call of another ABI (i386, x32) kills the process. Built by hand for x86_64 and aarch64;
* an isolated interpreter (``python -I -S -B -u``: no site-packages, no ``PYTHON*`` variables), a minimal
  environment (no ``HF_TOKEN`` or other secret of the parent), its own session, bounded output, and a
  wall-clock timeout that kills the whole sandbox.

No ``preexec_fn`` is used (it is not thread-safe), so :func:`run_many` can run sandboxes from several
threads. A small trusted launcher (:mod:`.launcher`), started once per process as a fork server under the
sandbox's own interpreter, forks one child per run that applies the protections and then ``execve``s a
fresh isolated interpreter for the program (:mod:`.runner` is this side of it). The launcher reports on a
private channel the program cannot write to, so a program cannot fake a setup failure.

:func:`run_tests` does not run the candidate's code in the process that judges it (:mod:`.verdicts`,
:mod:`.judge`): the sandbox's program is a judge that forks the candidate into a child without the
verdict descriptor, runs the tests itself, and takes only plain data back from the child; the tests and
the verdict's nonce reach it after the fork. So an early exit, a printed or written "pass", frame-walking,
monkeypatching ``os.write`` or ``builtins.exec``, an object whose ``__eq__`` is always true, or a forked
helper aimed at the verdict file all end in fail or error, never in a pass.

Where a protection cannot be had (not root, no namespaces, no writable cgroup, another OS) the sandbox
still runs, states the missing protections once in a logged warning, lists them in
:func:`sandbox_capabilities` (and ``python -m srmzoo.sandbox``), and refuses with
:class:`~srmzoo.errors.SrmzooError` when the caller passes ``require_full_isolation=True``; the coding
verifier passes it unless the user opts in to weaker isolation.

What it does not do: files the host leaves world-readable outside the hidden directories (``/etc``,
``/usr``, ``/var``, ``/sys``, ``/proc/sys``, ...) stay readable. The seccomp filter refuses a short list, it
is not an allow-list: the rest of the kernel's system calls are reachable, so a kernel bug is a way out.
CPU is limited in time per process (RLIMIT_CPU, and the wall clock for the run), not in share: a run may
keep every core busy until its deadline. A uid's cgroup leaf serves that uid's runs one after another (a
fork is born in its parent's cgroup, while moving a process into one costs 5-12 ms here), so page cache an
earlier run read may still be charged to the leaf; the kernel reclaims it before it kills anything. Without
a delegated cgroup v2 subtree or writable v1 memory and pids hierarchies there is no per-run cap, and
``run_cgroup`` is reported missing. The judge keeps the candidate's process away from the tests' expected
values and from the verdict, but the tests' inputs cross to it as call arguments, so a candidate may still
special-case the inputs it is given; arguments are copies (a program that changes one in place changes
nothing the tests see), and tests that hand the program a function get an error. :func:`run_python` gives
back what the program printed: a caller that reads a verdict from it trusts the program. Concurrent runs are
kept apart by uid, namespaces, cgroups and private scratch space.

>>> run_python("print(6 * 7)").stdout
'42\\n'
>>> run_tests("def add(a, b):\\n    return a + b\\n", "assert add(2, 3) == 5").outcome.value
'pass'
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence

from ..errors import SrmzooError
from .runner import (
    HIDDEN_PATHS,
    PROTECTIONS,
    SANDBOX_GID,
    SANDBOX_UIDS,
    SandboxCapabilities,
    SandboxResult,
    SandboxStatus,
    run_python,
    sandbox_capabilities,
)
from .verdicts import Candidate, Outcome, Verification, run_many, run_tests

__all__ = [
    "HIDDEN_PATHS",
    "PROTECTIONS",
    "SANDBOX_GID",
    "SANDBOX_UIDS",
    "Candidate",
    "Outcome",
    "SandboxCapabilities",
    "SandboxResult",
    "SandboxStatus",
    "Verification",
    "run_many",
    "run_python",
    "run_tests",
    "sandbox_capabilities",
]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m srmzoo.sandbox``: print this machine's sandbox capabilities as JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m srmzoo.sandbox", description=main.__doc__)
    parser.add_argument("--interpreter", help="probe this Python instead of the default choice")
    args = parser.parse_args(argv)
    try:
        caps = sandbox_capabilities(args.interpreter)
    except SrmzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(dataclasses.asdict(caps), indent=2))
    return 0 if caps.full_isolation else 1
