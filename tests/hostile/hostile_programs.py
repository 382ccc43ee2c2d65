"""Hostile programs the code sandbox must contain, each with the check that shows it was contained.

tests/test_sandbox.py asserts every case; this module also writes the security report from the same run:

    .venv/bin/python tests/hostile/hostile_programs.py --report bench/results/sandbox_security.md

A program is a template: ``@NAME@`` placeholders are filled from the :class:`World`, the host-side state
the attacks aim at (the parent's pid, a canary file, listening sockets, a fake ``HF_TOKEN``, ...). Each
program prints one JSON line of what it observed; each check reads that line, the run's status and the
host, and returns whether the attack was contained, with the evidence. A case with ``tests`` is a
verdict forgery: a wrong ``square`` (it returns 0) run through :func:`~srmzoo.sandbox.run_tests`, whose
outcome must be exactly the case's ``verdict``, never a pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from srmzoo.sandbox import (
    SANDBOX_UIDS,
    Outcome,
    SandboxResult,
    SandboxStatus,
    Verification,
    run_python,
    run_tests,
    sandbox_capabilities,
)

TIMEOUT_S = 1.0
MEMORY_MB = 512
FILE_SIZE_MB = 16
DISK_MB = 64
MAX_OUTPUT_BYTES = 64 * 1024
REPORT_COMMAND = (
    ".venv/bin/python tests/hostile/hostile_programs.py --report bench/results/sandbox_security.md"
)


@dataclass(frozen=True)
class World:
    """The host-side state the hostile programs attack, and the values their checks compare against."""

    parent_pid: int
    parent_pgid: int
    escape: str  # host path prefix: a file at f"{escape}-<case>" must never appear
    canary: Path  # a file in a world-writable directory outside /tmp; it must survive unchanged
    canary_text: str
    suid_id: Path  # a setuid-root copy of /usr/bin/id: running it must not yield uid 0
    token: str  # a fake HF_TOKEN in the parent's environment; no program may see it
    mark: str  # a unique number in the argv of processes that must not be visible or outlive a run
    host_sleeper: subprocess.Popen  # a process outside the sandbox running as uid 65534
    listener: socket.socket  # a TCP server on the host's loopback; nothing may connect to it
    unix_listeners: tuple[socket.socket, ...]  # path sockets (mode 0666) in /run and in the canary directory
    ipc_key: int  # the SysV IPC key the ipc cases create objects under; none may show on the host

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def fill(self, template: str, case: str) -> str:
        values = {
            "PARENT_PID": str(self.parent_pid),
            "PARENT_PGID": str(self.parent_pgid),
            "ESCAPE": f"{self.escape}-{case}",
            "CANARY": str(self.canary),
            "CANARY_DIR": str(self.canary.parent),
            "SUID_ID": str(self.suid_id),
            "MARK": self.mark,
            "HOST_SLEEPER": str(self.host_sleeper.pid),
            "PORT": str(self.port),
            "RUN_SOCKET": self.unix_listeners[0].getsockname(),
            "OPEN_SOCKET": self.unix_listeners[-1].getsockname(),
            "IPC_KEY": str(self.ipc_key),
        }
        return re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], template)


@contextlib.contextmanager
def hostile_world() -> Iterator[World]:
    """Set up the host-side targets, and remove them afterwards (restoring the environment).

    >>> with hostile_world() as world:
    ...     world.canary.read_text() == world.canary_text
    True
    """
    tag = secrets.token_hex(6)
    # Outside /tmp and outside the hidden directories: only the read-only root guards it.
    base = next((d for d in ("/var/lib", "/var/cache") if os.access(d, os.W_OK)), None)
    canary_dir = Path(tempfile.mkdtemp(prefix=f"srmzoo-canary-{tag}-", dir=base))
    canary_dir.chmod(0o777)  # world-writable and not sticky: anyone the filesystem lets in may delete
    canary = canary_dir / "canary.txt"
    canary_text = f"canary {tag}\n"
    canary.write_text(canary_text)
    canary.chmod(0o666)
    suid_id = canary_dir / "id-suid"
    shutil.copy2("/usr/bin/id", suid_id)
    if os.geteuid() == 0:
        os.chown(suid_id, 0, 0)
    suid_id.chmod(0o4755)
    mark = str(secrets.randbelow(10**9)).rjust(9, "1")
    as_nobody = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
    sleeper = subprocess.Popen(["/bin/sleep", f"600.{mark}"], **as_nobody)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    unix_listeners = []
    for directory in [d for d in ("/run",) if os.access(d, os.W_OK)] + [str(canary_dir)]:
        path = os.path.join(directory, f"srmzoo-socket-{tag}")
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        os.chmod(path, 0o666)
        server.listen(8)
        server.setblocking(False)
        unix_listeners.append(server)
    old_token = os.environ.get("HF_TOKEN")
    token = f"hf_srmzooFakeSecret{tag}"
    os.environ["HF_TOKEN"] = token
    try:
        yield World(
            parent_pid=os.getpid(),
            parent_pgid=os.getpgid(0),
            escape=f"/tmp/srmzoo-escape-{tag}",
            canary=canary,
            canary_text=canary_text,
            suid_id=suid_id,
            token=token,
            mark=mark,
            host_sleeper=sleeper,
            listener=listener,
            unix_listeners=tuple(unix_listeners),
            ipc_key=0x5A000000 + int(mark) % 0x00FFFFFF,
        )
    finally:
        if old_token is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = old_token
        listener.close()
        for server in unix_listeners:
            with contextlib.suppress(OSError):
                os.unlink(server.getsockname())
            server.close()
        sleeper.kill()
        sleeper.wait()
        shutil.rmtree(canary_dir, ignore_errors=True)
        for leftover in Path("/tmp").glob(f"srmzoo-escape-{tag}*"):
            leftover.unlink()


# Every program starts with this: attempt() records an action's result or the exception it raised.
PRELUDE = """\
import json, os, sys, time
def attempt(fn, *args, **kwargs):
    try:
        return ["ok", repr(fn(*args, **kwargs))[:300]]
    except BaseException as exc:
        return [type(exc).__name__, str(exc)[:300]]
"""

# For system calls the standard library does not wrap: syscall(name, *args) -> [return value, errno name].
SYSCALL = """\
import ctypes, errno, platform
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_NR = {"x86_64": {"unshare": 272, "clone": 56, "clone3": 435, "keyctl": 250, "add_key": 248,
                  "io_uring_setup": 425, "ptrace": 101, "process_vm_readv": 310, "pidfd_getfd": 438,
                  "bpf": 321, "getpid": 39},
       "aarch64": {"unshare": 97, "clone": 220, "clone3": 435, "keyctl": 219, "add_key": 217,
                   "io_uring_setup": 425, "ptrace": 117, "process_vm_readv": 270, "pidfd_getfd": 438,
                   "bpf": 280, "getpid": 172}}[platform.machine()]
def syscall(name, *args):
    args = [ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    rc = _libc.syscall(ctypes.c_long(_NR[name]), *args)
    return [rc, errno.errorcode.get(ctypes.get_errno(), "?") if rc < 0 else ""]
"""

# The tests of every verdict forgery; each forgery's square(x) returns 0, so a pass is always forged.
SQUARE_TESTS = "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(-2) == 4\n"

Check = Callable[[SandboxResult, World], "tuple[bool, str]"]


@dataclass(frozen=True)
class HostileCase:
    """One attack: its name, what it tries, the program, and the check that it was contained."""

    name: str
    attack: str
    program: str
    check: Check
    timeout: float = TIMEOUT_S
    memory_mb: int = MEMORY_MB
    tests: str | None = None  # a verdict forgery: run through run_tests against these tests
    verdict: Outcome | None = None  # ... and this must be its outcome


@dataclass(frozen=True)
class CaseOutcome:
    """A case as run: the sandbox's result, run_tests's verdict for a forgery, and the check's verdict."""

    case: HostileCase
    result: SandboxResult
    contained: bool
    evidence: str
    verification: Verification | None = None


def observed(result: SandboxResult) -> dict:
    """The JSON line the program printed last (empty if it printed none).

    >>> observed(SandboxResult(SandboxStatus.OK, 0, 'noise\\n{"a": 1}\\n', "", False, False, 0.0))
    {'a': 1}
    """
    for line in reversed(result.stdout.splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    return {}


def refused(outcome: list) -> bool:
    """Whether an attempt() record shows the action failed.

    >>> refused(["PermissionError", "denied"]), refused(["ok", "3"])
    (True, False)
    """
    return bool(outcome) and outcome[0] != "ok"


def host_processes_with(text: str) -> list[int]:
    """Pids of host processes whose command line contains ``text``.

    >>> host_processes_with("no-such-command-line-" + "x" * 20)
    []
    """
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def sandbox_uid_processes() -> list[tuple[int, int, str]]:
    """(pid, uid, command line) of host processes whose real uid is one of the sandbox's uids.

    >>> isinstance(sandbox_uid_processes(), list)
    True
    """
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                uid_line = next(
                    line for line in (entry / "status").read_text().splitlines() if line.startswith("Uid:")
                )
                uid = int(uid_line.split()[1])
                if uid in SANDBOX_UIDS:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append((int(entry.name), uid, command.strip()[:80]))
    return found


def _ended_by_sandbox(r: SandboxResult, w: World) -> tuple[bool, str]:
    ok = r.status in (SandboxStatus.TIMEOUT, SandboxStatus.KILLED) and r.wall_s < TIMEOUT_S + 1.5
    return ok, f"{r.status.value} after {r.wall_s:.2f} s" + (f" ({r.signal_name})" if r.signal_name else "")


def _all_refused(*keys: str) -> Check:
    def check(r: SandboxResult, w: World) -> tuple[bool, str]:
        seen = observed(r)
        ok = bool(seen) and all(refused(seen.get(k, [])) for k in keys)
        return ok, "; ".join(f"{k}: {' '.join(seen.get(k, ['not run']))}" for k in keys)[:300]

    return check


def _no_escape_file(r: SandboxResult, w: World, case: str) -> tuple[bool, str]:
    path = Path(f"{w.escape}-{case}")
    seen = observed(r)
    return (
        not path.exists(),
        f"inside the sandbox: {' '.join(seen.get('write', ['not run']))}; on the host {path} {'EXISTS' if path.exists() else 'absent'}",
    )


def _escape_check(case: str) -> Check:
    return lambda r, w: _no_escape_file(r, w, case)


def _secret_absent(r: SandboxResult, w: World) -> tuple[bool, str]:
    leaked = w.token in r.stdout or w.token in r.stderr
    return bool(r.stdout) and not leaked, (
        "the token LEAKED" if leaked else "token not seen"
    ) + f"; {len(r.stdout)} bytes read"


def _root_unreadable(seen: dict) -> tuple[bool, str]:
    listing, token = seen.get("list", []), seen.get("token", [])
    ok = (refused(listing) or listing == ["ok", "[]"]) and refused(token)
    return ok, f"/root: {' '.join(listing) or 'not run'}; token file: {' '.join(token) or 'not run'}"


def _env_minimal(r: SandboxResult, w: World) -> tuple[bool, str]:
    env = observed(r).get("env", {})
    allowed = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"}
    ok = bool(env) and set(env) <= allowed and w.token not in json.dumps(env)
    return ok, f"environment keys: {sorted(env)}"


def _no_marked_survivor(r: SandboxResult, w: World) -> tuple[bool, str]:
    time.sleep(0.05)
    survivors = [p for p in host_processes_with(f"600.{w.mark}") if p != w.host_sleeper.pid]
    ok = r.status is SandboxStatus.OK and r.wall_s < TIMEOUT_S and not survivors
    return (
        ok,
        f"{r.status.value} in {r.wall_s:.2f} s; detached sleepers left on the host: {survivors or 'none'}",
    )


def _output_bounded(stream: str) -> Check:
    def check(r: SandboxResult, w: World) -> tuple[bool, str]:
        text, cut = (r.stdout, r.stdout_truncated) if stream == "stdout" else (r.stderr, r.stderr_truncated)
        ok = cut and len(text.encode()) <= MAX_OUTPUT_BYTES and r.status is not SandboxStatus.OK
        return (
            ok,
            f"{r.status.value} after {r.wall_s:.2f} s; kept {len(text.encode())} bytes, truncated={cut}",
        )

    return check


def _no_host_ipc(w: World) -> tuple[bool, str]:
    """Nothing under the world's keys on the host, and a later run cannot find what an earlier one left."""
    on_host = []
    for kind in ("shm", "msg", "sem"):
        with contextlib.suppress(OSError):
            rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
            on_host += [kind for row in rows if row.split() and w.ipc_key <= int(row.split()[0]) < w.ipc_key + 8]
    later = observed(
        run_python(
            PRELUDE + SYSCALL + "def find(fn, *args):\n    rc = fn(*args)\n"
            "    return [rc, errno.errorcode.get(ctypes.get_errno(), '?') if rc < 0 else '']\n"
            f"print(json.dumps({{'shm': find(_libc.shmget, {w.ipc_key}, 0, 0), 'msg': find(_libc.msgget, {w.ipc_key}, 0)}}))\n",
            timeout=5.0,
        )
    )
    gone = later.get("shm") == [-1, "ENOENT"] and later.get("msg") == [-1, "ENOENT"]
    return not on_host and gone, f"on the host: {on_host or 'nothing'}; a later run looking for them: {later}"


def _ipc_left_behind(r: SandboxResult, w: World) -> tuple[bool, str]:
    seen = observed(r)
    isolated, evidence = _no_host_ipc(w)
    return seen.get("shm", -1) >= 0 and seen.get("sent") == 0 and isolated, f"inside: {seen}; {evidence}"


def _shm_past_memory(r: SandboxResult, w: World) -> tuple[bool, str]:
    pinned = observed(r).get("pinned_mib", 10**6)
    isolated, evidence = _no_host_ipc(w)
    ok = r.status is SandboxStatus.KILLED and r.signal_name == "SIGKILL" and pinned <= 64 + DISK_MB and isolated
    return ok, (
        f"{r.status.value} ({r.signal_name}) after pinning {pinned} MiB (the run's cap: {64 + DISK_MB} MiB); {evidence}"
    )


def _errno_refused(*keys: str, code: str = "EPERM") -> Check:
    def check(r: SandboxResult, w: World) -> tuple[bool, str]:
        seen = observed(r)
        ok = bool(seen) and all(seen.get(k) == [-1, code] for k in keys)
        return ok, "; ".join(f"{k}: {seen.get(k, 'not run')}" for k in keys)

    return check


def _size_capped(key: str, cap_mb: int) -> Check:
    def check(r: SandboxResult, w: World) -> tuple[bool, str]:
        seen = observed(r)
        written = seen.get(key, -1)
        ok = 0 <= written <= cap_mb << 20 and refused(seen.get("error", []))
        return ok, f"stopped at {written / 2**20:.1f} MiB by {' '.join(seen.get('error', ['nothing']))}"

    return check


CASES: list[HostileCase] = [
    # --- processes and time ------------------------------------------------------------------------
    HostileCase(
        "fork_bomb",
        "fork in an endless loop, every child too",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        _ended_by_sandbox,
    ),
    HostileCase(
        "detached_daemons",
        "fork children that setsid() away from the process group and sleep on after the program exits",
        PRELUDE
        + "for _ in range(4):\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
        "            os.execv('/bin/sleep', ['sleep', '600.@MARK@'])\n        os._exit(0)\n"
        "time.sleep(0.1)\nprint(json.dumps({'started': 4}))\n",
        _no_marked_survivor,
    ),
    HostileCase(
        "memory_bomb",
        "allocate 2 GiB at once",
        PRELUDE + "print(json.dumps({'alloc': attempt(bytearray, 2 * 1024**3)}))\n",
        lambda r, w: (
            refused(observed(r).get("alloc", [])),
            f"allocation: {' '.join(observed(r).get('alloc', ['not run']))}",
        ),
    ),
    HostileCase(
        "memory_creep",
        "allocate and touch 32 MiB chunks until something stops it",
        PRELUDE
        + "chunks = []\ntry:\n    while True:\n        chunks.append(bytearray(32 << 20))\nexcept MemoryError:\n    pass\n"
        "print(json.dumps({'mib': 32 * len(chunks)}))\n",
        lambda r, w: (
            0 < observed(r).get("mib", 10**9) <= MEMORY_MB,
            f"stopped by MemoryError at {observed(r).get('mib')} MiB (limit {MEMORY_MB} MiB)",
        ),
        timeout=4.0,  # touching half a GiB takes a while on a loaded machine
    ),
    HostileCase("infinite_loop", "spin forever", "while True:\n    pass\n", _ended_by_sandbox),
    HostileCase(
        "busy_threads",
        "eight threads spinning forever",
        "import threading\n\ndef spin():\n    while True:\n        pass\n\n"
        "for _ in range(8):\n    threading.Thread(target=spin).start()\n",
        _ended_by_sandbox,
    ),
    HostileCase("sleep_past_deadline", "sleep for 30 s", "import time\ntime.sleep(30)\n", _ended_by_sandbox),
    HostileCase(
        "ignore_signals",
        "ignore SIGTERM, SIGINT, SIGHUP and SIGXCPU, then sleep",
        "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):\n"
        "    signal.signal(s, signal.SIG_IGN)\ntime.sleep(30)\n",
        _ended_by_sandbox,
    ),
    HostileCase(
        "stop_own_group",
        "SIGSTOP its own process group, hoping to wedge the supervisor",
        "import os, signal\nos.kill(0, signal.SIGSTOP)\n",
        _ended_by_sandbox,
    ),
    # --- network -----------------------------------------------------------------------------------
    HostileCase(
        "net_external_tcp",
        "TCP connect to 1.1.1.1:53",
        PRELUDE + "import socket\nt = time.perf_counter()\n"
        "r = attempt(socket.create_connection, ('1.1.1.1', 53), timeout=5)\n"
        "print(json.dumps({'connect': r, 'ms': 1000 * (time.perf_counter() - t)}))\n",
        lambda r, w: (
            refused(observed(r).get("connect", [])) and observed(r).get("ms", 1e9) < 500,
            f"{' '.join(observed(r).get('connect', ['not run']))} after {observed(r).get('ms', float('nan')):.1f} ms",
        ),
    ),
    HostileCase(
        "net_external_udp",
        "UDP datagram to 8.8.8.8:53",
        PRELUDE + "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "print(json.dumps({'send': attempt(s.sendto, b'x', ('8.8.8.8', 53))}))\n",
        _all_refused("send"),
    ),
    HostileCase(
        "net_loopback_parent",
        "TCP connect to a server listening on the host's 127.0.0.1",
        PRELUDE
        + "import socket\nprint(json.dumps({'connect': attempt(socket.create_connection, ('127.0.0.1', @PORT@), timeout=2)}))\n",
        _all_refused("connect"),
    ),
    HostileCase(
        "net_dns",
        "resolve pypi.org",
        PRELUDE
        + "import socket\nprint(json.dumps({'resolve': attempt(socket.getaddrinfo, 'pypi.org', 443)}))\n",
        _all_refused("resolve"),
    ),
    HostileCase(
        "net_raw_socket",
        "open a raw ICMP socket",
        PRELUDE
        + "import socket\nprint(json.dumps({'raw': attempt(socket.socket, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)}))\n",
        _all_refused("raw"),
    ),
    HostileCase(
        "net_interfaces",
        "list the network interfaces it could use",
        PRELUDE + "import socket\nprint(json.dumps({'ifaces': [n for _, n in socket.if_nameindex()]}))\n",
        lambda r, w: (observed(r).get("ifaces") == ["lo"], f"interfaces: {observed(r).get('ifaces')}"),
    ),
    HostileCase(
        "user_namespace_network",
        "make a user + network namespace of its own (ctypes unshare), then connect out",
        PRELUDE + SYSCALL + "import socket\n"
        "print(json.dumps({'unshare': syscall('unshare', 0x10000000 | 0x40000000), "
        "'connect': attempt(socket.create_connection, ('1.1.1.1', 53), timeout=2)}))\n",
        lambda r, w: (
            observed(r).get("unshare") == [-1, "EPERM"] and refused(observed(r).get("connect", [])),
            f"unshare: {observed(r).get('unshare')}; connect: {' '.join(observed(r).get('connect', ['not run']))}",
        ),
    ),
    # --- filesystem --------------------------------------------------------------------------------
    HostileCase(
        "read_root",
        "list /root and read the Hugging Face token file in it",
        PRELUDE + "print(json.dumps({'list': attempt(os.listdir, '/root'), "
        "'token': attempt(lambda: open('/root/.cache/huggingface/token').read())}))\n",
        lambda r, w: _root_unreadable(observed(r)),
    ),
    HostileCase(
        "read_shadow",
        "read /etc/shadow",
        PRELUDE + "print(json.dumps({'read': attempt(lambda: open('/etc/shadow').read())}))\n",
        _all_refused("read"),
    ),
    HostileCase(
        "write_tmp",
        "write /tmp/srmzoo-escape-... (the host's /tmp is world-writable)",
        PRELUDE + "print(json.dumps({'write': attempt(lambda: open('@ESCAPE@', 'w').write('escaped'))}))\n",
        _escape_check("write_tmp"),
    ),
    HostileCase(
        "write_dev_shm",
        "write into /dev/shm (world-writable on the host)",
        PRELUDE + "name = '/dev/shm/' + os.path.basename('@ESCAPE@')\n"
        "print(json.dumps({'write': attempt(lambda: open(name, 'w').write('escaped'))}))\n",
        lambda r, w: (
            not Path("/dev/shm", Path(f"{w.escape}-write_dev_shm").name).exists(),
            f"inside: {' '.join(observed(r).get('write', ['not run']))}; on the host: "
            + ("EXISTS" if Path("/dev/shm", Path(f"{w.escape}-write_dev_shm").name).exists() else "absent"),
        ),
    ),
    HostileCase(
        "write_var_tmp",
        "write into /var/tmp (world-writable on the host)",
        PRELUDE + "name = '/var/tmp/' + os.path.basename('@ESCAPE@')\n"
        "print(json.dumps({'write': attempt(lambda: open(name, 'w').write('escaped'))}))\n",
        lambda r, w: (
            not Path("/var/tmp", Path(f"{w.escape}-write_var_tmp").name).exists(),
            f"inside: {' '.join(observed(r).get('write', ['not run']))}; on the host: "
            + ("EXISTS" if Path("/var/tmp", Path(f"{w.escape}-write_var_tmp").name).exists() else "absent"),
        ),
    ),
    HostileCase(
        "write_world_writable_dir",
        "create a file in a world-writable host directory outside /tmp, and in /etc",
        PRELUDE + "print(json.dumps({'dir': attempt(lambda: open('@CANARY_DIR@/planted', 'w').write('x')), "
        "'etc': attempt(lambda: open('/etc/srmzoo-planted', 'w').write('x'))}))\n",
        lambda r, w: (
            not (w.canary.parent / "planted").exists() and not Path("/etc/srmzoo-planted").exists(),
            f"dir: {' '.join(observed(r).get('dir', ['not run']))}; /etc: {' '.join(observed(r).get('etc', ['not run']))}",
        ),
    ),
    HostileCase(
        "delete_canary",
        "delete, truncate and rename a canary file in a world-writable host directory",
        PRELUDE + "print(json.dumps({'remove': attempt(os.remove, '@CANARY@'), "
        "'truncate': attempt(lambda: open('@CANARY@', 'w').close()), "
        "'rename': attempt(os.rename, '@CANARY@', '@CANARY@.moved')}))\n",
        lambda r, w: (
            w.canary.exists() and w.canary.read_text() == w.canary_text,
            "canary intact"
            if w.canary.exists() and w.canary.read_text() == w.canary_text
            else "canary DAMAGED",
        ),
    ),
    HostileCase(
        "huge_file",
        "write a 1 GiB file in its working directory",
        PRELUDE
        + "n = 0\nerror = ['ok', '']\ntry:\n    with open('big.bin', 'wb') as f:\n        while n < 1 << 30:\n"
        "            f.write(b'x' * (1 << 20))\n            n += 1 << 20\nexcept OSError as exc:\n"
        "    error = [type(exc).__name__, str(exc)]\nprint(json.dumps({'bytes': n, 'error': error}))\n",
        _size_capped("bytes", FILE_SIZE_MB),
    ),
    HostileCase(
        "fill_disk",
        "fill its scratch space with many 8 MiB files",
        PRELUDE
        + "n = 0\nerror = ['ok', '']\ntry:\n    for i in range(1000):\n        with open('f%d' % i, 'wb') as f:\n"
        "            for _ in range(8):\n                f.write(b'x' * (1 << 20))\n                n += 1 << 20\n"
        "except OSError as exc:\n    error = [type(exc).__name__, str(exc)]\nprint(json.dumps({'bytes': n, 'error': error}))\n",
        _size_capped("bytes", DISK_MB),
    ),
    HostileCase(
        "many_open_files",
        "open files until something stops it",
        PRELUDE
        + "files = []\nerror = ['ok', '']\ntry:\n    while len(files) < 100000:\n        files.append(open('/dev/null'))\n"
        "except OSError as exc:\n    error = [type(exc).__name__, str(exc)]\nprint(json.dumps({'open': len(files), 'error': error}))\n",
        lambda r, w: (
            refused(observed(r).get("error", [])) and observed(r).get("open", 10**6) < 64,
            f"stopped after {observed(r).get('open')} files by {' '.join(observed(r).get('error', ['nothing']))}",
        ),
    ),
    # --- the parent and other processes ------------------------------------------------------------
    HostileCase(
        "kill_parent",
        "SIGKILL and SIGTERM the parent's pid",
        PRELUDE + "import signal\nprint(json.dumps({'kill': attempt(os.kill, @PARENT_PID@, signal.SIGKILL), "
        "'term': attempt(os.kill, @PARENT_PID@, signal.SIGTERM), 'ppid': attempt(os.kill, os.getppid(), signal.SIGKILL)}))\n",
        _all_refused("kill", "term", "ppid"),
    ),
    HostileCase(
        "kill_parent_group",
        "SIGKILL the parent's process group",
        PRELUDE
        + "import signal\nprint(json.dumps({'killpg': attempt(os.killpg, @PARENT_PGID@, signal.SIGKILL)}))\n",
        _all_refused("killpg"),
    ),
    HostileCase(
        "kill_everything",
        "kill(-1, SIGKILL), and SIGKILL a host process that runs as uid 65534",
        PRELUDE + "import signal\nr = {'host': attempt(os.kill, @HOST_SLEEPER@, signal.SIGKILL)}\n"
        "print(json.dumps(r), flush=True)\nos.kill(-1, signal.SIGKILL)\n",
        lambda r, w: (
            w.host_sleeper.poll() is None and refused(observed(r).get("host", [])),
            f"host process: {' '.join(observed(r).get('host', ['not run']))}; "
            + ("still alive" if w.host_sleeper.poll() is None else "KILLED"),
        ),
    ),
    HostileCase(
        "signal_init",
        "SIGKILL pid 1",
        PRELUDE + "import signal\nprint(json.dumps({'kill1': attempt(os.kill, 1, signal.SIGKILL)}))\n",
        _all_refused("kill1"),
    ),
    HostileCase(
        "see_host_processes",
        "look through /proc for the host's processes",
        PRELUDE
        + "pids = [p for p in os.listdir('/proc') if p.isdigit()]\nhits = []\nfor p in pids:\n    try:\n"
        "        if b'600.@MARK@' in open('/proc/%s/cmdline' % p, 'rb').read():\n            hits.append(p)\n"
        "    except OSError:\n        pass\nprint(json.dumps({'pids': len(pids), 'hits': hits}))\n",
        lambda r, w: (
            "pids" in observed(r) and not observed(r).get("hits"),
            f"{observed(r).get('pids')} processes visible; host marker found: {observed(r).get('hits') or 'no'}",
        ),
    ),
    HostileCase(
        "ptrace_init",
        "ptrace-attach to pid 1 (ctypes)",
        PRELUDE + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nrc = libc.ptrace(16, 1, 0, 0)\n"
        "print(json.dumps({'attach': ['ok', ''] if rc == 0 else ['errno', os.strerror(ctypes.get_errno())]}))\n",
        _all_refused("attach"),
    ),
    HostileCase(
        "enter_host_namespace",
        "setns() into pid 1's and the parent's network namespace",
        PRELUDE + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "def enter(path):\n    fd = os.open(path, os.O_RDONLY)\n    if libc.setns(fd, 0) != 0:\n"
        "        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))\n"
        "print(json.dumps({'init': attempt(enter, '/proc/1/ns/net'), 'parent': attempt(enter, '/proc/@PARENT_PID@/ns/net')}))\n",
        _all_refused("init", "parent"),
    ),
    # --- secrets -----------------------------------------------------------------------------------
    HostileCase(
        "env_secrets",
        "read HF_TOKEN and the rest of its environment",
        PRELUDE + "print(json.dumps({'env': dict(os.environ), 'hf': os.environ.get('HF_TOKEN')}))\n",
        _env_minimal,
    ),
    HostileCase(
        "proc_environ",
        "read /proc/self/environ, /proc/1/environ and every other /proc/*/environ",
        PRELUDE
        + "out = {}\nfor p in ['self'] + [p for p in os.listdir('/proc') if p.isdigit()] + ['@PARENT_PID@']:\n"
        "    out[p] = attempt(lambda: open('/proc/%s/environ' % p, 'rb').read().decode('latin-1'))\n"
        "print(json.dumps(out))\n",
        _secret_absent,
    ),
    # --- privileges --------------------------------------------------------------------------------
    HostileCase(
        "setuid_root",
        "os.setuid(0), os.setgid(0), os.setgroups([0])",
        PRELUDE + "print(json.dumps({'setuid': attempt(os.setuid, 0), 'setgid': attempt(os.setgid, 0), "
        "'setgroups': attempt(os.setgroups, [0]), 'uid': os.getuid()}))\n",
        lambda r, w: (
            all(refused(observed(r).get(k, [])) for k in ("setuid", "setgid", "setgroups"))
            and observed(r).get("uid") != 0,
            f"uid {observed(r).get('uid')}; setuid: {' '.join(observed(r).get('setuid', ['not run']))}",
        ),
    ),
    HostileCase(
        "ctypes_setresuid",
        "libc setresuid(0, 0, 0) through ctypes",
        PRELUDE + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nrc = libc.setresuid(0, 0, 0)\n"
        "print(json.dumps({'setresuid': ['ok', ''] if rc == 0 else ['errno', os.strerror(ctypes.get_errno())], 'euid': os.geteuid()}))\n",
        lambda r, w: (
            refused(observed(r).get("setresuid", [])) and observed(r).get("euid") not in (0, None),
            f"setresuid: {' '.join(observed(r).get('setresuid', ['not run']))}; euid {observed(r).get('euid')}",
        ),
    ),
    HostileCase(
        "setuid_binary",
        "run a setuid-root binary (a setuid copy of id) to get euid 0",
        PRELUDE
        + "import subprocess\np = subprocess.run(['@SUID_ID@', '-u'], capture_output=True, text=True)\n"
        "print(json.dumps({'euid': p.stdout.strip(), 'rc': p.returncode}))\n",
        lambda r, w: (
            observed(r).get("euid") not in ("0", None),
            f"the setuid-root binary ran with euid {observed(r).get('euid')!r}",
        ),
    ),
    HostileCase(
        "spawn_shell",
        "spawn /bin/sh to run id, read /etc/shadow and write /etc",
        PRELUDE
        + "import subprocess\np = subprocess.run(['/bin/sh', '-c', 'id -u; cat /etc/shadow; touch /etc/srmzoo-shell-escape'], "
        "capture_output=True, text=True)\nprint(json.dumps({'uid': p.stdout.split()[0] if p.stdout.split() else '', 'err': p.stderr}))\n",
        lambda r, w: (
            observed(r).get("uid") not in ("0", "", None) and not Path("/etc/srmzoo-shell-escape").exists(),
            f"the shell ran as uid {observed(r).get('uid')}; {observed(r).get('err', '').strip()[:160]}",
        ),
    ),
    HostileCase(
        "raise_rlimits",
        "raise every resource limit back to unlimited",
        PRELUDE
        + "import resource\nout = {}\nfor name in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_CORE'):\n"
        "    which = getattr(resource, name)\n    before = resource.getrlimit(which)\n"
        "    tried = attempt(resource.setrlimit, which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "    out[name] = tried if resource.getrlimit(which) == before else ['ok', 'raised']\n"
        "print(json.dumps(out))\n",
        _all_refused(
            "RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE"
        ),
    ),
    HostileCase(
        "mount_over_etc",
        "mount a tmpfs over /etc (ctypes mount)",
        PRELUDE
        + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nrc = libc.mount(b'none', b'/etc', b'tmpfs', 0, None)\n"
        "print(json.dumps({'mount': ['ok', ''] if rc == 0 else ['errno', os.strerror(ctypes.get_errno())]}))\n",
        _all_refused("mount"),
    ),
    # --- crashes and output ------------------------------------------------------------------------
    HostileCase(
        "deep_recursion",
        "recurse without bound after sys.setrecursionlimit(10**7)",
        "import sys\nsys.setrecursionlimit(10**7)\n\ndef f(n):\n    return f(n + 1)\n\nf(0)\n",
        lambda r, w: (
            r.status is not SandboxStatus.OK and r.wall_s < TIMEOUT_S + 1.5,
            f"{r.status.value}"
            + (f" ({r.signal_name})" if r.signal_name else "")
            + f" after {r.wall_s:.2f} s",
        ),
    ),
    HostileCase(
        "ctypes_segfault",
        "dereference NULL through ctypes",
        "import ctypes\nctypes.string_at(0)\n",
        lambda r, w: (r.status is SandboxStatus.KILLED, f"{r.status.value} ({r.signal_name})"),
    ),
    HostileCase(
        "flood_stdout",
        "write to stdout without end",
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
        _output_bounded("stdout"),
    ),
    HostileCase(
        "flood_stderr",
        "write to stderr without end",
        "import sys\nwhile True:\n    sys.stderr.write('y' * 65536)\n",
        _output_bounded("stderr"),
    ),
    # --- channels between runs and to the host ------------------------------------------------------
    HostileCase(
        "unix_socket_in_hidden_dir",
        "connect to a unix socket (mode 0666) the host listens on under /run",
        PRELUDE + "import socket\n"
        "def connect(path):\n    s = socket.socket(socket.AF_UNIX)\n    s.connect(path)\n"
        "print(json.dumps({'exists': os.path.exists('@RUN_SOCKET@'), 'connect': attempt(connect, '@RUN_SOCKET@')}))\n",
        lambda r, w: (
            observed(r).get("exists") is False and refused(observed(r).get("connect", [])),
            f"the socket's path is {'visible' if observed(r).get('exists') else 'hidden'}; "
            f"connect: {' '.join(observed(r).get('connect', ['not run']))}",
        ),
    ),
    HostileCase(
        "unix_socket_in_visible_dir",
        "connect to a unix socket (mode 0666) in a world-writable host directory the sandbox can see",
        PRELUDE + "import socket\n"
        "def connect(path):\n    s = socket.socket(socket.AF_UNIX)\n    s.connect(path)\n"
        "print(json.dumps({'exists': os.path.exists('@OPEN_SOCKET@'), 'connect': attempt(connect, '@OPEN_SOCKET@'), "
        "'socketpair': attempt(lambda: len(socket.socketpair()))}))\n",
        lambda r, w: (
            observed(r).get("exists") is True
            and observed(r).get("connect", [""])[0] == "PermissionError"
            and observed(r).get("socketpair") == ["ok", "2"],
            f"the socket's path is visible; connect: {' '.join(observed(r).get('connect', ['not run']))}; "
            f"socketpair: {' '.join(observed(r).get('socketpair', ['not run']))}",
        ),
    ),
    HostileCase(
        "hidden_host_directories",
        "list /run, /var/run, /mnt, /opt, /srv and /media (host sockets, mounts, installed software)",
        PRELUDE + "print(json.dumps({d: attempt(os.listdir, d) for d in "
        "('/run', '/var/run', '/mnt', '/opt', '/srv', '/media', '/root', '/home') if os.path.lexists(d)}))\n",
        lambda r, w: (
            bool(observed(r)) and all(v == ["ok", "[]"] for v in observed(r).values()),
            "; ".join(f"{d}: {' '.join(v)}" for d, v in observed(r).items()) or "nothing listed",
        ),
    ),
    HostileCase(
        "sysv_ipc_left_behind",
        "create a SysV shared-memory segment and message queue with a message, and leave them for a later run",
        PRELUDE + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = ctypes.c_void_p\n"
        "shm = libc.shmget(@IPC_KEY@, 1 << 20, 0o1000 | 0o666)\naddr = libc.shmat(shm, None, 0)\n"
        "ctypes.memmove(addr, b'left by an earlier run', 22)\nmsg = libc.msgget(@IPC_KEY@, 0o1000 | 0o666)\n"
        "buf = ctypes.create_string_buffer(b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00secret', 14)\n"
        "print(json.dumps({'shm': shm, 'msg': msg, 'sent': libc.msgsnd(msg, buf, 6, 0)}))\n",
        _ipc_left_behind,
        timeout=4.0,
    ),
    HostileCase(
        "sysv_shm_past_memory",
        "pin 6 x 32 MiB of SysV shared memory from short-lived children under memory_mb=64",
        PRELUDE + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = ctypes.c_void_p\n"
        "pinned = 0\nfor i in range(6):\n    pid = os.fork()\n    if pid == 0:\n"
        "        sid = libc.shmget(@IPC_KEY@ + 1 + i, 32 << 20, 0o1000 | 0o666)\n        addr = libc.shmat(sid, None, 0)\n"
        "        ctypes.memset(addr, 1, 32 << 20)\n        os._exit(0)\n    _, status = os.waitpid(pid, 0)\n"
        "    pinned += 32 if status == 0 else 0\n    print(json.dumps({'pinned_mib': pinned, 'children': i + 1}), flush=True)\n",
        _shm_past_memory,
        timeout=4.0,
        memory_mb=64,
    ),
    HostileCase(
        "forks_past_memory",
        "8 forked children each touch 32 MiB and hold it, under memory_mb=64",
        PRELUDE + "r, w = os.pipe()\nkids = []\nfor i in range(8):\n    pid = os.fork()\n    if pid == 0:\n"
        "        os.close(r)\n        b = bytearray(32 << 20)\n        b[::4096] = b'\\x01' * (len(b) // 4096)\n"
        "        os.write(w, bytes([i]))\n        time.sleep(30)\n    kids.append(pid)\nos.close(w)\ntime.sleep(1.0)\n"
        "os.set_blocking(r, False)\nwritten = set(os.read(r, 100))\nkilled = alive = 0\n"
        "for i, pid in enumerate(kids):\n    done, status = os.waitpid(pid, os.WNOHANG)\n"
        "    killed += bool(done) and os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9\n"
        "    alive += not done and i in written\n"
        "print(json.dumps({'held_mib': 32 * alive, 'killed': killed}))\nos.killpg(0, 9)\n",
        lambda r, w: (
            0 < observed(r).get("held_mib", 10**6) <= 64 + DISK_MB and observed(r).get("killed", 0) >= 1,
            f"{observed(r).get('held_mib')} MiB held at once (the run's cap: {64 + DISK_MB} MiB); "
            f"{observed(r).get('killed')} children killed by the kernel at the cap",
        ),
        timeout=4.0,
        memory_mb=64,
    ),
    HostileCase(
        "kernel_keyring",
        "store a value in the uid's kernel keyring for the next run (add_key), and read the keyring (keyctl)",
        PRELUDE + SYSCALL
        + "print(json.dumps({'add_key': syscall('add_key', b'user', b'srmzoo-@MARK@', b'secret', 6, -4), "
        "'keyctl': syscall('keyctl', 0, -4, 0)}))\n",
        _errno_refused("add_key", "keyctl"),
    ),
    HostileCase(
        "host_ptys",
        "open pseudo-terminals on the host's devpts and list /dev",
        PRELUDE + "print(json.dumps({'dev': sorted(os.listdir('/dev')), 'openpty': attempt(os.openpty), "
        "'ptmx': attempt(os.open, '/dev/ptmx', os.O_RDWR), 'pts': attempt(os.listdir, '/dev/pts'), "
        "'tty': attempt(os.open, '/dev/tty', os.O_RDWR), 'null': attempt(lambda: open('/dev/null', 'w').write('x'))}))\n",
        lambda r, w: (
            observed(r).get("dev")
            == ["fd", "full", "null", "random", "shm", "stderr", "stdin", "stdout", "urandom", "zero"]
            and all(refused(observed(r).get(k, [])) for k in ("openpty", "ptmx", "pts", "tty"))
            and observed(r).get("null") == ["ok", "1"],
            f"/dev holds {observed(r).get('dev')}; openpty: {' '.join(observed(r).get('openpty', ['not run']))}",
        ),
    ),
    HostileCase(
        "hostname",
        "read the host's name and set another",
        PRELUDE + "import socket\nprint(json.dumps({'name': socket.gethostname(), "
        "'set': attempt(socket.sethostname, 'owned')}))\n",
        lambda r, w: (
            observed(r).get("name") == "srmzoo-sandbox" and refused(observed(r).get("set", [])),
            f"hostname {observed(r).get('name')!r}; sethostname: {' '.join(observed(r).get('set', ['not run']))}",
        ),
    ),
    HostileCase(
        "new_user_namespace",
        "unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER) and clone3 (whose flags seccomp cannot read)",
        PRELUDE + SYSCALL + "print(json.dumps({'unshare': syscall('unshare', 0x10000000), "
        "'clone': syscall('clone', 0x10000000 | 17, 0, 0, 0, 0), 'clone3': syscall('clone3', 0, 0)}))\n",
        lambda r, w: (
            observed(r).get("unshare") == [-1, "EPERM"]
            and observed(r).get("clone") == [-1, "EPERM"]
            and observed(r).get("clone3") == [-1, "ENOSYS"],
            f"unshare: {observed(r).get('unshare')}; clone: {observed(r).get('clone')}; clone3: {observed(r).get('clone3')}",
        ),
    ),
    HostileCase(
        "io_uring",
        "set up an io_uring (it bypasses much of the system-call filtering and has a record of kernel bugs)",
        PRELUDE + SYSCALL + "params = ctypes.create_string_buffer(120)\n"
        "print(json.dumps({'io_uring_setup': syscall('io_uring_setup', 8, ctypes.addressof(params))}))\n",
        _errno_refused("io_uring_setup"),
    ),
    HostileCase(
        "ptrace_own_child",
        "ptrace-attach to its own child (same uid), PTRACE_TRACEME, and read its memory (process_vm_readv)",
        PRELUDE + SYSCALL + "child = os.fork()\nif child == 0:\n    time.sleep(30)\n"
        "out = {'attach': syscall('ptrace', 16, child, 0, 0), 'traceme': syscall('ptrace', 0, 0, 0, 0), "
        "'process_vm_readv': syscall('process_vm_readv', child, 0, 0, 0, 0, 0), "
        "'pidfd_getfd': syscall('pidfd_getfd', 0, 0, 0)}\nos.kill(child, 9)\nprint(json.dumps(out))\n",
        _errno_refused("attach", "traceme", "process_vm_readv", "pidfd_getfd"),
    ),
    HostileCase(
        "other_syscall_abi",
        "call getpid through the x32 system-call ABI, past a filter written for the x86_64 numbers",
        PRELUDE + SYSCALL + "print(json.dumps({'x32_getpid': syscall('getpid') if platform.machine() != 'x86_64' "
        "else _libc.syscall(ctypes.c_long(0x40000000 | 39))}))\n",
        lambda r, w: (
            (r.status is SandboxStatus.KILLED and r.signal_name == "SIGSYS")
            if platform.machine() == "x86_64"
            else r.ok,
            f"{r.status.value}" + (f" ({r.signal_name})" if r.signal_name else "") + f"; saw {observed(r) or 'nothing'}",
        ),
    ),
    # --- verdict forgeries: a wrong square(x) (it returns 0) through run_tests -----------------------
    HostileCase(
        "verdict_nonce_from_frames",
        "find the verdict's nonce in the harness's frames, write '<nonce> pass' to every descriptor, os._exit(0)",
        "import os, sys\nf, nonce = sys._getframe(), None\nwhile f is not None:\n"
        "    for v in list(f.f_locals.values()):\n        if isinstance(v, str) and len(v) == 32:\n            nonce = v\n"
        "    f = f.f_back\nfor fd in range(3, 20):\n    try:\n        os.write(fd, ('%s pass\\n' % nonce).encode())\n"
        "    except OSError:\n        pass\nos._exit(0)\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.ERROR,
    ),
    HostileCase(
        "verdict_harness_function_from_frames",
        "find the harness's own verdict-writing function in the frames and call it with 'pass', then os._exit(0)",
        "import os, sys\nf = sys._getframe()\nwhile f is not None:\n    for v in list(f.f_locals.values()):\n"
        "        if callable(v) and getattr(v, '__name__', '') in ('verdict', 'write_message', 'report'):\n"
        "            try:\n                v('pass')\n            except BaseException:\n                pass\n"
        "    f = f.f_back\nos._exit(0)\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.ERROR,
    ),
    HostileCase(
        "verdict_patch_os_write",
        "replace os.write so that the harness's 'fail' line is written as 'pass'",
        "import os\nreal = os.write\ndef write(fd, data):\n    data = bytes(data)\n"
        "    for word in (b' fail ', b' error '):\n        data = data.replace(word, b' pass ')\n    return real(fd, data)\n"
        "os.write = write\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.FAIL,
    ),
    HostileCase(
        "verdict_patch_builtins_exec",
        "replace builtins.exec so that the tests never run and check() does nothing",
        "import builtins\nreal = builtins.exec\ndef fake(code, ns=None, *rest):\n"
        "    if ns is not None and getattr(code, 'co_filename', '') == '<tests>':\n"
        "        ns['check'] = lambda candidate: None\n        return None\n    return real(code, ns, *rest)\n"
        "builtins.exec = fake\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.FAIL,
    ),
    HostileCase(
        "verdict_eq_always_true",
        "return an object whose __eq__ is always True (and __ne__ False, __bool__ True)",
        "class Liar:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"
        "    def __bool__(self):\n        return True\ndef square(x):\n    return Liar()\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.FAIL,
    ),
    HostileCase(
        "verdict_forked_rewriter",
        "a forked child rewrites 'fail' to 'pass' in the verdict file, through fd 3 and /proc/<pid>/fd/3",
        "import os, time\nif os.fork() == 0:\n    targets = [3] + ['/proc/%s/fd/3' % p for p in os.listdir('/proc') if p.isdigit()]\n"
        "    deadline = time.time() + 2\n    while time.time() < deadline:\n        for t in targets:\n            try:\n"
        "                fd = t if isinstance(t, int) else os.open(t, os.O_RDWR)\n                line = os.pread(fd, 4096, 0)\n"
        "                if b' fail ' in line or b' error ' in line:\n"
        "                    os.pwrite(fd, line.replace(b' fail ', b' pass ').replace(b' error ', b' pass '), 0)\n"
        "            except OSError:\n                pass\n    os._exit(0)\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.FAIL,
    ),
    HostileCase(
        "verdict_read_the_tests",
        "look for the tests' expected values (frames, stdin, /tmp, the judge's /proc files) and return them",
        "import os, re, sys\ntexts = []\nf = sys._getframe()\nwhile f is not None:\n"
        "    texts += [v for v in list(f.f_locals.values()) if isinstance(v, str)]\n    f = f.f_back\n"
        "for path in ['/proc/self/fd/0'] + ['/tmp/' + n for n in os.listdir('/tmp')] + "
        "['/proc/%s/%s' % (p, leaf) for p in os.listdir('/proc') if p.isdigit() for leaf in ('fd/0', 'mem', 'cmdline')]:\n"
        "    try:\n        texts.append(open(path, 'rb').read(1 << 20).decode('latin-1'))\n    except OSError:\n        pass\n"
        "expected = {int(a): int(b) for t in texts for a, b in re.findall(r'candidate\\((-?\\d+)\\) == (-?\\d+)', t)}\n"
        "def square(x):\n    return expected.get(x, 0)\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.FAIL,
    ),
    HostileCase(
        "verdict_shadow_builtins",
        "redefine abs and tuple for the tests, so that abs(candidate(x) - y) < eps always holds",
        "def abs(x):\n    return 0\ndef tuple(x):\n    return ()\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests="def check(candidate):\n    assert abs(candidate(3) - 9) < 1e-9\n    assert tuple([candidate(2)]) == tuple([4])\n",
        verdict=Outcome.FAIL,
    ),
    HostileCase(
        "verdict_kill_the_judge",
        "SIGKILL its parent, the process that judges it",
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.ERROR,
    ),
    HostileCase(
        "verdict_stop_the_judge",
        "SIGSTOP its parent, the process that judges it",
        "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\ndef square(x):\n    return 0\n",
        lambda r, w: (True, ""),
        tests=SQUARE_TESTS,
        verdict=Outcome.TIMEOUT,
    ),
]


def run_cases(world: World, cases: list[HostileCase] | None = None, *, workers: int = 2) -> list[CaseOutcome]:
    """Run the hostile cases in the sandbox, ``workers`` at a time, and check each.

    >>> with hostile_world() as world:
    ...     [o.contained for o in run_cases(world, [c for c in CASES if c.name == "read_shadow"])]
    [True]
    """

    def one(case: HostileCase) -> CaseOutcome:
        limits = {
            "timeout": case.timeout,
            "memory_mb": case.memory_mb,
            "file_size_mb": FILE_SIZE_MB,
            "disk_mb": DISK_MB,
            "max_output_bytes": MAX_OUTPUT_BYTES,
        }
        program = world.fill(case.program, case.name)
        if case.tests is None:
            result = run_python(program, **limits)
            contained, evidence = case.check(result, world)
            return CaseOutcome(case, result, contained, evidence)
        verification = run_tests(program, case.tests, entry_point="square", **limits)
        held, evidence = case.check(verification.result, world)
        contained = verification.outcome is case.verdict and held
        evidence = f"{verification.outcome.value} (expected {case.verdict.value}): {verification.detail}" + (
            f"; {evidence}" if evidence else ""
        )
        return CaseOutcome(case, verification.result, contained, evidence[:300], verification)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, CASES if cases is None else cases))


def aftermath(world: World) -> dict[str, tuple[bool, str]]:
    """Checks on the host after all cases ran: what must hold once every sandbox is gone.

    >>> with hostile_world() as world:
    ...     {check: evidence for check, (ok, evidence) in aftermath(world).items() if not ok}
    {}
    """
    time.sleep(0.1)  # a killed sandbox's last processes may take a moment to be reaped
    leftovers = [p for p in sandbox_uid_processes() if p[0] != world.host_sleeper.pid]
    escapes = sorted(str(p) for p in Path("/tmp").glob(Path(world.escape).name + "*"))
    try:
        connection, _ = world.listener.accept()
        connection.close()
        connected = True
    except BlockingIOError:
        connected = False
    canary_ok = world.canary.exists() and world.canary.read_text() == world.canary_text
    unix_connected = []
    for server in world.unix_listeners:
        try:
            server.accept()[0].close()
            unix_connected.append(server.getsockname())
        except BlockingIOError:
            pass
    return {
        "no process of a sandbox uid is left": (not leftovers, f"leftovers: {leftovers or 'none'}"),
        "the canary file is intact": (canary_ok, "intact" if canary_ok else "DAMAGED"),
        "no escape file appeared in /tmp": (not escapes, f"found: {escapes or 'none'}"),
        "nothing connected to the host's loopback listener": (
            not connected,
            "a connection came in" if connected else "none",
        ),
        "nothing connected to the host's unix sockets": (
            not unix_connected,
            f"connections on {unix_connected}" if unix_connected else f"none on {len(world.unix_listeners)} sockets",
        ),
        "the uid-65534 host process is alive": (
            world.host_sleeper.poll() is None,
            "alive" if world.host_sleeper.poll() is None else "KILLED",
        ),
        "the parent is alive, in its own process group": (
            os.getpgid(0) == world.parent_pgid,
            f"pid {os.getpid()}, process group {os.getpgid(0)}",
        ),
    }


def write_report(path: Path) -> bool:
    """Run every case and write the markdown report; True when everything was contained.

    (Not run as a doctest: it takes the whole suite's time.)
    """
    caps = sandbox_capabilities()
    started = time.perf_counter()
    with hostile_world() as world:
        outcomes = run_cases(world)
        after = aftermath(world)
    took = time.perf_counter() - started
    contained = sum(o.contained for o in outcomes)
    all_ok = contained == len(outcomes) and all(ok for ok, _ in after.values())

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Code sandbox: hostile programs",
        "",
        f"Regenerate with `{REPORT_COMMAND}` (run as root on Linux for full isolation).",
        "The same cases are asserted by `tests/test_sandbox.py`.",
        "",
        f"- when: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- interpreter in the sandbox: `{caps.interpreter}` (Python {caps.python_version}); running as uid {os.geteuid()}",
        f"- protections applied: {', '.join(caps.applied)}",
        f"- protections missing: {caps.missing_summary() or 'none'}",
        f"- limits per run: timeout {TIMEOUT_S:g} s (unless a case sets its own), {MEMORY_MB} MiB address space per process "
        f"(unless a case sets its own memory_mb), memory_mb + {DISK_MB} MiB for the whole run (its cgroup), {FILE_SIZE_MB} MiB per file, "
        f"{DISK_MB} MiB scratch tmpfs, {MAX_OUTPUT_BYTES // 1024} KiB of each output stream kept",
        f"- verdict forgeries (`verdict_*`): a wrong `square` (it returns 0) through `run_tests` against "
        f"`{SQUARE_TESTS.strip().splitlines()[1].strip()}`; each must end in exactly the outcome shown, never a pass",
        f"- result: **{contained} of {len(outcomes)} hostile programs contained**, "
        f"{sum(ok for ok, _ in after.values())} of {len(after)} host checks afterwards hold; {took:.1f} s in all",
        "",
        "| # | case | attack | status | wall s | contained | evidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, o in enumerate(outcomes, 1):
        status = o.result.status.value + (f" ({o.result.signal_name})" if o.result.signal_name else "")
        if o.verification is not None:
            status = f"verdict {o.verification.outcome.value}"
        lines.append(
            f"| {i} | `{o.case.name}` | {cell(o.case.attack)} | {status} | {o.result.wall_s:.2f} | "
            f"{'yes' if o.contained else '**NO**'} | {cell(o.evidence)} |"
        )
    lines += ["", "## After all cases", "", "| check | holds | evidence |", "|---|---|---|"]
    lines += [
        f"| {name} | {'yes' if ok else '**NO**'} | {cell(evidence)} |"
        for name, (ok, evidence) in after.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    """Write the report; exit status 1 if anything escaped."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, required=True, help="where to write the markdown report")
    args = parser.parse_args(argv)
    ok = write_report(args.report)
    print(f"wrote {args.report}: {'all contained' if ok else 'SOMETHING ESCAPED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
