"""The trusted launcher of the code sandbox: a fork server, run by the sandbox's own interpreter.

This file is not imported by srmzoo at run time: :mod:`srmzoo.sandbox.runner` reads its text and starts
it as ``python -I -S -B -c <this text> <socket fd>`` under the interpreter the sandboxed programs use, as the
parent's user (root for full isolation). So it imports only the standard library and runs on Python >= 3.8.

Started once per parent process and interpreter, it forks one child per run, which applies the protections
and execs a fresh isolated interpreter for the program (a fork costs about a millisecond; an interpreter
start ten or more). The server exits when the parent's end of its socket closes.

Protocol on a run's status descriptor, one line each: ``applied NAME``, ``missing NAME REASON``, ``init PID``
(with a pid namespace) or ``group PGID`` (without), ``exec``, ``exit WAITSTATUS``. Outside a probe, anything
the run cannot apply is fatal: the program never runs.
"""

import array
import contextlib
import ctypes
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys
import time

FAILED = 121

LIBC = None
if sys.platform.startswith("linux"):
    LIBC = ctypes.CDLL(None, use_errno=True)
    LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    LIBC.syscall.restype = ctypes.c_long

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 22, 36, 38
CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER = 0x04000000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS = 0x20000000, 0x40000000, 0x00020000
HOSTNAME = b"srmzoo-sandbox"
DEVICES = ("null", "zero", "full", "random", "urandom")
# /dev/shm is the private /tmp; the rest are what programs expect of /dev/fd and friends.
DEV_LINKS = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("shm", "/tmp"),
)

# --- seccomp --------------------------------------------------------------------------------------------
# A classic BPF program over struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6];}, built by hand
# (no libseccomp in the standard library). Syscall numbers per architecture, from the kernel's tables.
SECCOMP_TABLES = {
    "x86_64": (
        0xC000003E,  # AUDIT_ARCH_X86_64
        {
            "keyctl": 250, "add_key": 248, "request_key": 249, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
            "pidfd_getfd": 438, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
            "unshare": 272, "clone": 56, "clone3": 435, "socket": 41,
        },
    ),
    "aarch64": (
        0xC00000B7,  # AUDIT_ARCH_AARCH64
        {
            "keyctl": 219, "add_key": 217, "request_key": 218, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
            "pidfd_getfd": 438, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
            "unshare": 97, "clone": 220, "clone3": 435, "socket": 198,
        },
    ),
}
# Refused outright with EPERM: the kernel keyrings (they outlive a run and are shared per uid), io_uring,
# tracing and reading or writing another process's memory or descriptors, eBPF, perf and userfaultfd.
SECCOMP_DENIED = (
    "keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace",
    "process_vm_readv", "process_vm_writev", "pidfd_getfd", "bpf", "perf_event_open", "userfaultfd",
)
AF_UNIX = 1
X32_SYSCALL_BIT = 0x40000000
BPF_LD_W_ABS, BPF_JEQ, BPF_JGE, BPF_JSET, BPF_RET = 0x20, 0x15, 0x35, 0x45, 0x06
SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ERRNO, SECCOMP_RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
SECCOMP_MODE_FILTER = 2
EPERM, ENOSYS = 1, 38


def seccomp_program(machine):
    """The filter's instructions (8 bytes each) for one architecture."""
    arch, nr = SECCOMP_TABLES[machine]
    out = []

    def op(code, k, jt=0, jf=0):
        out.append(struct.pack("=HBBI", code, jt, jf, k))

    op(BPF_LD_W_ABS, 4)  # seccomp_data.arch: another ABI (i386 on x86_64, say) would bypass the numbers
    op(BPF_JEQ, arch, 1, 0)
    op(BPF_RET, SECCOMP_RET_KILL_PROCESS)
    op(BPF_LD_W_ABS, 0)  # seccomp_data.nr
    if machine == "x86_64":  # the x32 ABI shares the arch value; its numbers carry this bit
        op(BPF_JGE, X32_SYSCALL_BIT, 0, 1)
        op(BPF_RET, SECCOMP_RET_KILL_PROCESS)
    for name in SECCOMP_DENIED:
        op(BPF_JEQ, nr[name], 0, 1)
        op(BPF_RET, SECCOMP_RET_ERRNO | EPERM)
    # clone3 passes its flags in a struct the filter cannot read: ENOSYS makes the C library fall back to
    # clone(), whose flags it can.
    op(BPF_JEQ, nr["clone3"], 0, 1)
    op(BPF_RET, SECCOMP_RET_ERRNO | ENOSYS)
    for name in ("unshare", "clone"):  # flags are the first argument of both, on both architectures
        op(BPF_JEQ, nr[name], 0, 4)
        op(BPF_LD_W_ABS, 16)  # low word of args[0]
        op(BPF_JSET, CLONE_NEWUSER, 0, 1)
        op(BPF_RET, SECCOMP_RET_ERRNO | EPERM)
        op(BPF_RET, SECCOMP_RET_ALLOW)
    # No unix-domain sockets: a path socket on the host is reachable through any bind-mounted directory,
    # whatever the network namespace. socketpair() stays (it reaches nothing outside).
    op(BPF_JEQ, nr["socket"], 0, 4)
    op(BPF_LD_W_ABS, 16)
    op(BPF_JEQ, AF_UNIX, 0, 1)
    op(BPF_RET, SECCOMP_RET_ERRNO | EPERM)
    op(BPF_RET, SECCOMP_RET_ALLOW)
    op(BPF_RET, SECCOMP_RET_ALLOW)
    return b"".join(out)


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_filter_for_this_machine():
    """The struct sock_fprog prctl(PR_SET_SECCOMP) takes, built once per server; None on another arch."""
    machine = os.uname().machine
    if machine not in SECCOMP_TABLES:
        return None
    program = seccomp_program(machine)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    fprog.buffer = buffer  # the instructions must live as long as the struct that points at them
    return fprog


SECCOMP_FILTER = seccomp_filter_for_this_machine()


# --- small helpers --------------------------------------------------------------------------------------


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def need_linux():
    if LIBC is None:
        raise OSError("needs Linux")


def mount(source, target, fstype, flags, data=None):
    check(LIBC.mount(source, target.encode(), fstype, flags, data), f"mount {target}")


def unshare(flag, what):
    need_linux()
    check(LIBC.unshare(flag), f"unshare({what})")


def die_with_parent(parent):
    # If the parent (the server, or the launcher) dies, so does this process.
    if LIBC is not None:
        check(LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(FAILED)


def write_file(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --- cgroups --------------------------------------------------------------------------------------------
# One leaf per run caps the memory and the processes of the whole run (a per-process rlimit does not: n
# processes hold n times as much). Leaves go under this server's own cgroup, so every limit above it holds.

CGROUP_PREFIX = "srmzoo-sandbox-"


def cgroup_plan():
    """("v2", {"unified": dir}) or ("v1", {"memory": dir, "pids": dir}): where this server's runs get their
    leaves; raises OSError with the reason when neither can be had."""
    need_linux()
    memberships = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                memberships[name] = path
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            mounts.append((fields[3], fields[4], fields[sep + 1], fields[sep + 3].split(",")))

    def directory(root, point, path):
        if root != "/" and path.startswith(root):
            path = path[len(root):]
        return os.path.join(point, path.lstrip("/"))

    reasons = []
    for root, point, fstype, _ in mounts:
        if fstype == "cgroup2" and "" in memberships:
            base = directory(root, point, memberships[""])
            try:
                with open(os.path.join(base, "cgroup.subtree_control")) as f:
                    enabled = f.read().split()
            except OSError as exc:
                reasons.append(f"cgroup v2 at {base}: {exc}")
                continue
            if {"memory", "pids"} <= set(enabled) and os.access(base, os.W_OK):
                return "v2", {"unified": base}
            reasons.append(f"cgroup v2 at {base} does not delegate memory and pids to its children")
    found = {}
    for root, point, fstype, options in mounts:
        for name in ("memory", "pids"):
            if fstype == "cgroup" and name in options and name in memberships and name not in found:
                base = directory(root, point, memberships[name])
                if os.path.isdir(base) and os.access(base, os.W_OK):
                    found[name] = base
    if len(found) == 2:
        return "v1", found
    reasons.append("no writable cgroup v1 memory and pids hierarchies")
    raise OSError("; ".join(reasons))


def set_limits(kind, leaves, memory_bytes, pids):
    """(Re)set a leaf's limits for the next run."""
    for controller, leaf in leaves:
        if kind == "v2":
            write_file(os.path.join(leaf, "memory.max"), str(memory_bytes))
            if os.path.exists(os.path.join(leaf, "memory.swap.max")):
                write_file(os.path.join(leaf, "memory.swap.max"), "0")
            write_file(os.path.join(leaf, "pids.max"), str(pids))
        elif controller == "memory":
            memsw = os.path.join(leaf, "memory.memsw.limit_in_bytes")
            files = [os.path.join(leaf, "memory.limit_in_bytes")] + ([memsw] if os.path.exists(memsw) else [])
            # memsw (memory and swap) may never be below the memory limit: raise it first, lower it last.
            try:
                for path in files:
                    write_file(path, str(memory_bytes))
            except OSError:
                for path in reversed(files):
                    write_file(path, str(memory_bytes))
        else:
            write_file(os.path.join(leaf, "pids.max"), str(pids))


class RunCgroup:
    """This run's own leaves, made before the mount namespace turns /sys read-only: the descriptors
    opened here still reach the host's (writable) cgroup mounts afterwards. The slow path, for a run
    without a slot (no uid drop): its init must migrate into them (see Slot for why that is slow)."""

    def __init__(self, plan, memory_bytes, pids):
        kind, bases = plan
        self.name = f"{CGROUP_PREFIX}{SERVER_PID}-{os.getpid()}"
        self.bases = []  # (directory fd of the parent, path) of each leaf made
        self.procs = []  # a cgroup.procs descriptor per leaf: writing "0" moves the writer in
        try:
            leaves = []
            for controller, base in sorted(bases.items()):
                base_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    os.mkdir(self.name, 0o700, dir_fd=base_fd)
                except BaseException:
                    os.close(base_fd)
                    raise
                self.bases.append((base_fd, base))
                leaves.append((controller, os.path.join(base, self.name)))
            set_limits(kind, leaves, memory_bytes, pids)
            for _, leaf in leaves:
                self.procs.append(os.open(os.path.join(leaf, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))
        except BaseException:
            self.remove()
            raise

    def join(self):
        for fd in self.procs:
            os.write(fd, b"0")

    def remove(self):
        for fd in self.procs:
            os.close(fd)
        self.procs = []
        for base_fd, _ in self.bases:
            for _ in range(50):  # a killed run's last task may take a moment to leave
                try:
                    os.rmdir(self.name, dir_fd=base_fd)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.002)
            os.close(base_fd)
        self.bases = []


class Slot:
    """A process that sits in one sandbox uid's cgroup leaves and forks that uid's launchers.

    Moving a process into a cgroup takes the kernel's cgroup_threadgroup_rwsem for writing, which waits
    for an RCU grace period unless another move happened just before: 5-12 ms per run here. A fork
    inherits its parent's cgroup for free, so each uid gets a slot that moved once, and its runs are born
    inside. Runs of one uid never overlap (the parent leases uids), so a leaf still holds one run at a
    time; its limits are set again before each.
    """

    def __init__(self, uid, plan):
        self.uid, self.kind = uid, plan[0]
        self.name = f"{CGROUP_PREFIX}{SERVER_PID}-u{uid}"
        self.leaves = [(c, os.path.join(base, self.name)) for c, base in sorted(plan[1].items())]
        ours, theirs = socket.socketpair()
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                keep = {theirs.fileno(), ready_w}
                for fd in [int(name) for name in os.listdir("/proc/self/fd")]:
                    if fd > 2 and fd not in keep:  # the parent's socket, other slots' sockets
                        with contextlib.suppress(OSError):
                            os.close(fd)
                self.serve(theirs, ready_w)
            finally:
                os._exit(FAILED)
        theirs.close()
        os.close(ready_w)
        answer = os.read(ready_r, 4096).decode("utf-8", "replace")
        os.close(ready_r)
        self.pid, self.sock = pid, ours
        if answer != "ok":
            self.close()
            raise OSError(answer or "the cgroup slot died")

    def serve(self, sock, ready):
        try:
            die_with_parent(SERVER_PID)
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            for _, leaf in self.leaves:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(leaf, 0o700)
            for _, leaf in self.leaves:
                write_file(os.path.join(leaf, "cgroup.procs"), "0")
        except BaseException as exc:
            os.write(ready, f"cgroup slot for uid {self.uid}: {type(exc).__name__}: {exc}".encode())
            os._exit(FAILED)
        os.write(ready, b"ok")
        os.close(ready)
        slot = os.getpid()
        while True:
            request, fds = receive(sock)
            if request is None:
                os._exit(0)
            error = ""
            try:
                # This slot and the run's launcher count among the leaf's tasks too.
                set_limits(self.kind, self.leaves, request["cgroup_memory_bytes"], request["cgroup_pids"] + 2)
            except OSError as exc:
                error = f"setting the limits of {self.name}: {exc}"
            request["cgroup_slot_error"] = error
            reply_with_run(sock, request, fds, slot)

    def launch(self, request, fds):
        send(self.sock, request, fds)
        return receive(self.sock)

    def close(self):
        self.sock.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        for _ in range(500):  # ignored SIGCHLD: the kernel reaps it; wait until it is gone
            if not os.path.exists(f"/proc/{self.pid}"):
                break
            time.sleep(0.001)
        for _, leaf in self.leaves:
            for _ in range(50):
                try:
                    os.rmdir(leaf)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.002)


def sweep_stale_cgroups(plan):
    """Remove leaves that a dead server (or a launcher killed mid-run) left behind."""
    if plan is None:
        return
    for base in plan[1].values():
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for entry in names:
            if not entry.startswith(CGROUP_PREFIX):
                continue
            server = entry[len(CGROUP_PREFIX):].split("-")[0]
            if server.isdigit() and (int(server) == SERVER_PID or not os.path.exists(f"/proc/{server}")):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(base, entry))


# --- one run --------------------------------------------------------------------------------------------


def launch(cfg, fds, server):
    """One run, in a fresh fork of the server (or of its uid's slot, ``server`` then); never returns."""
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
        return f"{type(exc).__name__}: {exc}"

    def attempt(name, step):
        if name not in wanted:
            return False
        try:
            step()
        except Exception as exc:
            report(f"missing {name} {describe(exc)}")
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

    def new_uts():
        unshare(CLONE_NEWUTS, "CLONE_NEWUTS")
        check(LIBC.sethostname(HOSTNAME, len(HOSTNAME)), "sethostname")

    def private_filesystem():
        unshare(CLONE_NEWNS, "CLONE_NEWNS")
        mount(None, "/", None, MS_REC | MS_PRIVATE)

        # mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, {RDONLY | NOSUID}): every mount at once (Linux 5.12+).
        attr = MountAttr(0x1 | 0x2, 0, 0, 0)
        ret = LIBC.syscall(ctypes.c_long(442), ctypes.c_int(-100), b"/", ctypes.c_uint(0x8000),
                           ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
        check(0 if ret == 0 else -1, "mount_setattr(/, read-only, recursive)")
        hidden = []
        for path in cfg["hide"]:
            real = os.path.realpath(path)  # /var/run is usually a link to /run
            if real in hidden or not os.path.isdir(real):
                continue
            if hidden:  # the same empty tmpfs again: a bind costs less than a new filesystem
                mount(hidden[0].encode(), real, None, MS_BIND)
            else:
                mount(b"tmpfs", real, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0755")
            hidden.append(real)
        options = f"size={cfg['disk_mb']}m,mode=0700,uid={uid},gid={gid}"
        mount(b"tmpfs", "/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
        if os.path.isdir("/var/tmp") and os.path.realpath("/var/tmp") != "/tmp":
            mount(b"/tmp", "/var/tmp", None, MS_BIND)

    def private_dev():
        if not mounted:
            raise OSError("needs mount_namespace")
        # Handles on the host's device nodes first: the tmpfs about to cover /dev hides their paths.
        handles = [(name, os.open("/dev/" + name, os.O_PATH | os.O_CLOEXEC)) for name in DEVICES]
        try:
            mount(b"tmpfs", "/dev", b"tmpfs", MS_NOSUID | MS_NOEXEC, b"size=16k,nr_inodes=32,mode=0755")
            for name, fd in handles:
                path = "/dev/" + name
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                mount(f"/proc/self/fd/{fd}".encode(), path, None, MS_BIND)
        finally:
            for _, fd in handles:
                os.close(fd)
        for name, target in DEV_LINKS:
            os.symlink(target, "/dev/" + name)
        mount(None, "/dev", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC)

    cgroup = None

    def run_cgroup():
        nonlocal cgroup
        if "cgroup_slot_error" in cfg:  # forked by this uid's slot: already inside its leaves
            if cfg["cgroup_slot_error"]:
                raise OSError(cfg["cgroup_slot_error"])
            return
        if cfg["cgroup_plan"] is None:
            raise OSError(cfg["cgroup_reason"])
        cgroup = RunCgroup(cfg["cgroup_plan"], cfg["cgroup_memory_bytes"], cfg["cgroup_pids"])

    def new_pids():
        if not mounted:
            raise OSError("needs mount_namespace (for a private /proc)")
        unshare(CLONE_NEWPID, "CLONE_NEWPID")

    attempt("run_cgroup", run_cgroup)  # first: /sys is still writable
    attempt("net_namespace", lambda: unshare(CLONE_NEWNET, "CLONE_NEWNET"))
    attempt("ipc_namespace", lambda: unshare(CLONE_NEWIPC, "CLONE_NEWIPC"))
    attempt("uts_namespace", new_uts)
    mounted = attempt("mount_namespace", private_filesystem)
    attempt("private_dev", private_dev)
    own_pids = attempt("pid_namespace", new_pids)

    def join():
        if cgroup is not None:
            try:
                cgroup.join()
            except Exception as exc:
                report(f"missing run_cgroup {describe(exc)}")
                if not probe:
                    os._exit(FAILED)

    if own_pids:
        init = os.fork()
        if init:
            report(f"init {init}")
            while True:
                try:
                    os.waitpid(init, 0)
                    break
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
            if cgroup is not None:
                cgroup.remove()
            os._exit(0)
        # pid 1 of the new namespace: a /proc that shows only this namespace, then supervise.
        try:
            mount(b"proc", "/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            check(LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
        except Exception as exc:
            report("missing pid_namespace " + describe(exc))
            os._exit(FAILED)
        join()
    elif LIBC is not None:
        # Orphaned descendants come to this supervisor, not to the host's init, so it can reap them.
        LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    workdir = "/tmp" if mounted else cfg["workdir"]
    main_path = os.path.join(workdir, "main.pyc" if cfg.get("precompile") else "main.py")
    fd = os.open(main_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    os.write(fd, compiled(code) if cfg.get("precompile") else code)
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
        transient = cfg.get("transient_gid")
        if transient is not None:
            # An effective gid other than the real one makes the exec a secure one (AT_SECURE), which
            # leaves the new process non-dumpable (fs.suid_dumpable, 0 by default): what run_tests's
            # judge needs before it forks the program. The judge sets all its gids back to ``gid`` first.
            os.setresgid(gid, transient, transient)
        os.setuid(uid)
        if (os.getuid(), os.geteuid(), os.getgid(), os.getegid()) != (uid, uid, gid, transient or gid):
            raise OSError("uid/gid did not change")
        try:
            os.setuid(0)
        except PermissionError:
            return
        raise OSError("setuid(0) still succeeds after the drop")

    def no_new_privileges():
        need_linux()
        check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")

    def seccomp_filter():
        need_linux()
        if SECCOMP_FILTER is None:
            raise OSError(f"no seccomp syscall table for {os.uname().machine} (known: x86_64, aarch64)")
        if "no_new_privileges" not in applied:
            raise OSError("needs no_new_privileges")
        check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(SECCOMP_FILTER), 0, 0),
              "prctl(PR_SET_SECCOMP)")

    applied = set()

    def become_program():
        if not own_pids:
            os.setpgid(0, 0)  # its own process group, which the parent kills at the deadline
            join()
        os.chdir(workdir)
        if own_pids:
            # At the run's memory limit the kernel kills the biggest process in its cgroup, which must
            # not be the supervisor (the run's exit status would go with it). Raising one's own score is
            # always allowed; lowering init's would need CAP_SYS_RESOURCE, which containers often lack.
            write_file("/proc/self/oom_score_adj", "1000")
        attempt("rlimits", limits)
        attempt("process_limit", process_limit)
        attempt("uid_drop", drop)
        if attempt("no_new_privileges", no_new_privileges):
            applied.add("no_new_privileges")
        if not own_pids and LIBC is not None:
            # set*uid cleared the parent-death signal; the supervisor is this process's parent.
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if verdict_fd is not None:
            os.dup2(verdict_fd, 3)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir,
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        interpreter = cfg["interpreter"]
        # Last before exec: from here on this process itself is filtered.
        attempt("seccomp_filter", seccomp_filter)
        report("exec")
        try:
            os.execve(interpreter, [interpreter] + cfg["flags"] + [main_path], env)
        except OSError as exc:
            report(f"missing interpreter {interpreter} cannot be executed: {describe(exc)}")

    program = os.fork()
    if program == 0:
        try:
            become_program()
        except BaseException as exc:
            report("missing launcher " + describe(exc))
        os._exit(FAILED)
    if not own_pids:
        with contextlib.suppress(OSError):
            os.setpgid(program, program)  # also here, so the group exists before "group" is reported
        report(f"group {program}")
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
        if cgroup is not None:
            cgroup.remove()
    report(f"exit {wait_status}")
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


# --- the server -----------------------------------------------------------------------------------------


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


def send(sock, message, fds=()):
    body = json.dumps(message).encode()
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())] if fds else []
    data = len(body).to_bytes(4, "big") + body
    sent = sock.sendmsg([data], ancillary)
    if sent < len(data):
        sock.sendall(data[sent:])


COMPILED = {}


def compiled(source):
    """``source`` as the bytes of a .pyc for this interpreter, compiled once per process: the judge of
    run_tests is the same long program in every run, and compiling it costs more than running it."""
    pyc = COMPILED.get(source)
    if pyc is None:
        import importlib.util
        import marshal

        code = compile(source, "<srmzoo judge>", "exec", dont_inherit=True)
        header = importlib.util.MAGIC_NUMBER + bytes(8) + (len(source) & 0xFFFFFFFF).to_bytes(4, "little")
        pyc = COMPILED[source] = header + marshal.dumps(code)
    return pyc


def reply_with_run(sock, request, fds, parent):
    """Fork the launcher of one run, and answer with its pid (and a pidfd for it, where there are pidfds)."""
    if request.get("precompile") and len(fds) > 4:
        # Here, before the fork, so that the cache outlives the run.
        size = os.fstat(fds[4]).st_size
        with contextlib.suppress(SyntaxError, ValueError):
            compiled(os.pread(fds[4], size, 0))
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            sock.close()
            os.setsid()
            launch(request, fds, parent)
        except BaseException:
            import traceback

            traceback.print_exc()  # the run's stderr, once launch() has set it up
        finally:
            os._exit(FAILED)
    for fd in fds:
        os.close(fd)
    pidfd = None
    if hasattr(os, "pidfd_open"):
        with contextlib.suppress(ProcessLookupError):  # already ended and reaped
            pidfd = os.pidfd_open(pid)
    send(sock, {"pid": pid}, [pidfd] if pidfd is not None else [])
    if pidfd is not None:
        os.close(pidfd)


def serve(sock_fd):
    sock = socket.socket(fileno=sock_fd)
    server = os.getpid()
    try:
        plan, reason = cgroup_plan(), ""
    except OSError as exc:
        plan, reason = None, (f"not root: {exc}" if os.geteuid() != 0 else str(exc))
    sweep_stale_cgroups(plan)
    slots = {}
    # The kernel reaps finished runs; the parent learns of their end from a pidfd.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        request, fds = receive(sock)
        if request is None:
            for slot in slots.values():
                if slot is not None:
                    slot.close()
            sweep_stale_cgroups(plan)
            os._exit(0)  # the parent is gone; the runs die with this process (PDEATHSIG)
        request["cgroup_plan"], request["cgroup_reason"] = plan, reason
        uid = request["uid"]
        # A slot only where the run has a uid of its own: without the drop, every run has the caller's.
        if plan is not None and "run_cgroup" in request["protections"] and "uid_drop" in request["protections"]:
            if uid not in slots:
                try:
                    slots[uid] = Slot(uid, plan)
                except OSError:
                    slots[uid] = None  # this uid's runs take the slow path: a leaf each, joined by init
            slot = slots[uid]
            if slot is not None:
                try:
                    reply, pidfds = slot.launch(request, fds)
                except OSError:
                    reply, pidfds = None, []
                if reply is not None and reply.get("pid", 0) > 0:
                    for fd in fds:
                        os.close(fd)
                    send(sock, reply, pidfds)
                    for fd in pidfds:
                        os.close(fd)
                    continue
                slot.close()  # gone: the next run of this uid makes another; this one runs without
                del slots[uid]
        reply_with_run(sock, request, fds, server)


SERVER_PID = os.getpid()

if __name__ == "__main__":
    serve(int(sys.argv[1]))
