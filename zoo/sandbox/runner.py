"""The host side of the code sandbox: the fork server's client, the capabilities probe, and one run.

Programs never run in this process. :func:`run_python` hands each one to the trusted launcher
(:mod:`.launcher`, a fork server under the sandbox's own interpreter), which applies the protections of
:data:`PROTECTIONS` and execs a fresh isolated interpreter; this module waits, enforces the wall clock,
and collects what the run left in its private descriptors. The package docstring says what the
protections are and what they do not cover.

>>> run_python("print(6 * 7)").stdout
'42\\n'
"""

from __future__ import annotations

import array
import atexit
import contextlib
import enum
import fcntl
import json
import logging
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SrmzooError

__all__ = [
    "PROTECTIONS",
    "SANDBOX_GID",
    "SANDBOX_UIDS",
    "Launch",
    "Limits",
    "SandboxCapabilities",
    "SandboxResult",
    "SandboxStatus",
    "run_checked",
    "run_python",
    "sandbox_capabilities",
    "sandbox_result",
]

log = logging.getLogger("srmzoo.sandbox")

HIDDEN_PATHS = ("/root", "/home", "/run", "/var/run", "/mnt", "/opt", "/srv", "/media")

PROTECTIONS: dict[str, str] = {
    "rlimits": "address space, CPU time, file size, open files and core dumps limited per process (setrlimit)",
    "process_limit": "a cap on processes and threads (RLIMIT_NPROC; needs uid_drop to mean anything)",
    "run_cgroup": "a cgroup leaf the run has to itself caps the memory (memory_mb + disk_mb, swap included) "
    "and the processes (max_processes) of the whole run, not of each process",
    "uid_drop": "runs as an unprivileged uid/gid with no supplementary groups, irreversibly",
    "no_new_privileges": "no_new_privs: setuid binaries and file capabilities grant nothing",
    "seccomp_filter": "seccomp: keyrings (keyctl, add_key, request_key), new user namespaces (unshare or "
    "clone with CLONE_NEWUSER; clone3 answers ENOSYS), io_uring, ptrace, process_vm_readv/writev, "
    "pidfd_getfd, bpf, perf_event_open, userfaultfd and unix-domain sockets refused with EPERM; "
    "another syscall ABI is killed",
    "net_namespace": "own network namespace: no network at all, not even loopback",
    "ipc_namespace": "own IPC namespace: SysV shared memory, semaphores, message queues and POSIX queues "
    "are private to the run and vanish with it",
    "uts_namespace": "own UTS namespace: the hostname is srmzoo-sandbox, not the host's",
    "mount_namespace": "filesystem read-only and nosuid, private size-capped tmpfs as /tmp (and /var/tmp)",
    "hidden_paths": "empty read-only tmpfs over " + ", ".join(HIDDEN_PATHS) + " (home "
    "directories, and the host's sockets and mounts under /run, /opt, ...)",
    "private_dev": "a /dev of its own: null, zero, full, random, urandom, fd links and shm (the private "
    "/tmp); no ttys, no ptys, not the host's devpts",
    "pid_namespace": "own pid namespace: no view of other processes; every descendant dies with the run",
    "new_session": "own session and process group",
    "isolated_interpreter": "python -I -S -B: no site-packages, user site or PYTHON* variables",
    "minimal_environment": "environment holds only PATH, HOME, TMPDIR, LANG and LC_ALL",
}

# Applied by the parent itself (command line, environment, Popen), so they cannot be missing on POSIX.
_ALWAYS = ("new_session", "isolated_interpreter", "minimal_environment")
# Applied by the launcher (hidden_paths is part of its mount step, judged here: see _probe).
_LAUNCHER_STEPS = (
    "run_cgroup",
    "net_namespace",
    "ipc_namespace",
    "uts_namespace",
    "mount_namespace",
    "private_dev",
    "pid_namespace",
    "rlimits",
    "process_limit",
    "uid_drop",
    "no_new_privileges",
    "seccomp_filter",
)

SANDBOX_GID = 65534
# "nobody" first; overlapping runs take the unassigned uids just below it (65520-65533 lie above
# systemd's DynamicUser range), because RLIMIT_NPROC counts every process of a uid: one run's fork bomb
# must not make another run's fork fail.
SANDBOX_UIDS = tuple(range(65534, 65519, -1))
_INTERPRETER_FLAGS = ("-I", "-S", "-B", "-u")
_ENV_INTERPRETER = "SRMZOO_SANDBOX_PYTHON"
# The launcher's source, run by the sandbox's interpreter with -c (it is never imported here).
_LAUNCHER = (Path(__file__).with_name("launcher.py")).read_text(encoding="utf-8")
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
        limits=Limits(),
    )
    if launch.timed_out:
        return None, "the probe run timed out"
    missing: dict[str, str] = {}
    for line in launch.status:
        if line.startswith("missing "):
            name, _, reason = line[len("missing ") :].partition(" ")
            missing[name] = reason
    # A step can be applied and then fail later (the cgroup is made by the launcher, joined by the run's init).
    applied = [
        line.split(" ", 1)[1]
        for line in launch.status
        if line.startswith("applied ") and line.split(" ", 1)[1] not in missing
    ]
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
        for name in ("uid_drop", "net_namespace", "ipc_namespace", "uts_namespace", "mount_namespace", "private_dev"):
            if name in missing:
                missing[name] = f"not root: {missing[name]}"
    if "mount_namespace" not in applied:
        missing["hidden_paths"] = "needs mount_namespace"
    elif kept := _unhidden(interpreter):
        missing["hidden_paths"] = (
            f"{', '.join(kept)} holds the interpreter {interpreter}, so it stays visible; point "
            f"${_ENV_INTERPRETER} at a Python outside {', '.join(HIDDEN_PATHS)}"
        )
    else:
        applied.append("hidden_paths")
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


def _unhidden(interpreter: str) -> list[str]:
    """The hidden paths that must stay visible because the interpreter lives under them."""
    real = os.path.realpath(interpreter)
    return [p for p in HIDDEN_PATHS if real.startswith(os.path.realpath(p).rstrip("/") + "/")]


# ---------------------------------------------------------------------------------------------------------
# Launching one sandbox.


@dataclass(frozen=True)
class Limits:
    """The resource limits of one run (the keyword arguments of :func:`run_python` of the same names).

    >>> Limits(memory_mb=8).validate()
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: sandbox limit memory_mb=8 is invalid
      hint: pass an int >= 64
    """

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
class Launch:
    """What a run left behind: the launcher's status lines, the exit, the outputs and the verdict bytes."""

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
        if not isinstance(reply.get("pid"), int) or reply["pid"] <= 0:
            raise ConnectionError(f"the sandbox server answered {reply!r}")
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
    limits: Limits,
    verdict: bool = False,
    precompile: bool = False,
) -> Launch:
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
            "hide": [p for p in HIDDEN_PATHS if p not in _unhidden(interpreter)],
            "disk_mb": limits.disk_mb,
            "memory_mb": limits.memory_mb,
            # The CPU limit backs up the wall clock (threads burn CPU time faster than wall time).
            "cpu_s": math.ceil(timeout) + 1,
            "file_size_mb": limits.file_size_mb,
            "open_files": limits.max_open_files,
            "processes": limits.max_processes,
            # The whole run: its processes' memory and its scratch files (tmpfs pages are charged to it).
            "cgroup_memory_bytes": (limits.memory_mb + limits.disk_mb) << 20,
            "cgroup_pids": limits.max_processes + 1,  # and the run's init
            "interpreter": interpreter,
            "flags": list(_INTERPRETER_FLAGS),
            "precompile": precompile,
            # The judge's exec only (see the launcher's drop()): a gid from the sandbox's own range.
            "transient_gid": (uid if uid != SANDBOX_GID else SANDBOX_GID - 1) if precompile and drop_uid else None,
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
        return Launch(
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
            The whole run (all its processes and its scratch files) is held to ``memory_mb + disk_mb``
            of memory by its cgroup (``run_cgroup``); past that the kernel kills one of its processes.
        file_size_mb: largest file the program may write (RLIMIT_FSIZE), captured stdout/stderr included.
        disk_mb: size of the private tmpfs the program may write into.
        max_processes: processes and threads the sandbox uid may have (RLIMIT_NPROC), and the run
            (its cgroup's pids.max, with the run's init).
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
    launch = run_checked(
        code,
        stdin=stdin,
        timeout=timeout,
        limits=Limits(memory_mb, file_size_mb, disk_mb, max_processes, max_open_files, max_output_bytes),
        interpreter=interpreter,
        require_full_isolation=require_full_isolation,
    )
    return sandbox_result(launch)


def run_checked(
    code: str,
    *,
    stdin: str | bytes,
    timeout: float,
    limits: Limits,
    interpreter: str | None,
    require_full_isolation: bool,
    verdict: bool = False,
    precompile: bool = False,
) -> Launch:
    """Validate, check the isolation asked for, and run ``code`` once; raise if the sandbox failed to set up.

    The common path of :func:`run_python` and :func:`~srmzoo.sandbox.run_tests` (``verdict=True`` adds
    the verdict descriptor, fd 3 of the program; ``precompile=True`` has the launcher run ``code`` from
    bytecode it compiled once, for a program that is the same in every run). ``stdin`` as bytes is the
    callers' own payload.
    """
    if not isinstance(code, str):
        raise SrmzooError(f"the program must be a str of Python source, got {type(code).__name__}")
    if not isinstance(stdin, (str, bytes)):
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
        stdin=stdin.encode("utf-8", "surrogatepass") if isinstance(stdin, str) else stdin,
        limits=limits,
        verdict=verdict,
        precompile=precompile,
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


def sandbox_result(launch: Launch) -> SandboxResult:
    """The public view of a finished launch."""
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


