"""The judge of :func:`srmzoo.sandbox.run_tests`: it runs inside the sandbox and never runs the program.

This file is not imported by srmzoo at run time: the program of a run_tests sandbox is its text followed
by ``main_from_stdin()``, compiled once per process by the launcher and run from ``main.pyc`` by the
sandbox's interpreter (``-I -S``: standard library only, Python >= 3.8). The judge holds the verdict
descriptor (fd 3). It forks a child that closes fd 3 and its stdin, runs the program, reports the values
of the names the tests use, and from then on only answers the judge's calls, attribute reads and writes
over two pipes. The tests themselves run here, in the judge, so nothing the program does to its own
interpreter (``os.write``, ``builtins.exec``, frames, ``os._exit``, forked helpers) reaches the code that
compares and writes the verdict.

What crosses from the program is plain data only: None, bool, int, float, complex, str, bytes, and
tuples, lists, dicts, sets and frozensets of them, in marshal's version-2 format but read by a parser of
its own here (marshal.loads is not meant for hostile bytes) that can build nothing else. Objects of the
program's own classes, and its functions, come back as opaque handles: they can be called, and their
attributes read and set, but comparing one or asking its truth raises :class:`NotPlainData`, so a custom
``__eq__`` or ``__bool__`` counts for nothing. Arguments cross as copies.

Stdin has two parts: the program, the prelude and the names (none of them secret) come first and are read
before the fork; the tests, the entry point and the verdict's nonce are read after it, so the program's
process never holds them. The judge is non-dumpable before it forks (the launcher execs it with a transient
effective gid, which the kernel answers by applying fs.suid_dumpable; the judge then drops that gid), so
the program cannot read them from ``/proc/<judge>/mem`` or reopen the judge's descriptors through
``/proc/<judge>/fd``; the launcher's seccomp filter also refuses ptrace, process_vm_readv/writev and
pidfd_getfd.
"""

import builtins
import marshal
import os
import sys

VERDICT_FD = 3
JUDGE_FAILED = 122  # the judge itself could not be set up: the host raises, it is no verdict on the program
MAX_MESSAGE = 64 << 20
MAX_DEPTH = 400
PR_SET_DUMPABLE = 4
SIGNALS = {6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM", 24: "SIGXCPU"}
SIGXCPU = 24
PLAIN = "plain data (None, bool, int, float, complex, str, bytes, and tuples, lists, dicts and sets of them)"
# Modules the program imported that the tests may use without importing them: the judge imports its own.
MODULES = frozenset(
    {
        "bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions", "functools", "hashlib",
        "heapq", "itertools", "math", "operator", "random", "re", "statistics", "string", "typing",
    }
)


class NotPlainData(BaseException):
    """The program handed the tests something other than plain data. A BaseException, so that no test's
    ``except Exception`` swallows it."""


class Unsendable(BaseException):
    """The tests tried to hand the program something that cannot cross into its process."""


class ProgramGone(BaseException):
    """The program's process ended (or closed its channel) before the tests finished."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def describe(exc):
    return f"{type(exc).__name__}: {exc}"[:500]


# --- the wire: 4-byte length, then marshal version 2 --------------------------------------------------


def write_message(fd, message):
    data = marshal.dumps(message, 2)
    data = len(data).to_bytes(4, "big") + data
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_exact(fd, size):
    chunks, got = [], 0
    while got < size:
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def plain_value(data):
    """Parse marshal (version 2) bytes, building plain data only; ValueError for anything else.

    >>> plain_value(marshal.dumps([1, (2.5, "x"), {None: b"y"}, {3}, 10**30, -(2**40), True, 1j], 2))
    [1, (2.5, 'x'), {None: b'y'}, {3}, 1000000000000000000000000000000, -1099511627776, True, 1j]
    >>> plain_value(marshal.dumps(plain_value.__code__, 2))
    Traceback (most recent call last):
    ...
    ValueError: not plain data (marshal type 'c')
    """
    if sys.byteorder != "little":
        raise ValueError("the judge reads marshal floats on little-endian machines only")
    end = len(data)
    pos = 0

    def take(n):
        nonlocal pos
        if n < 0 or pos + n > end:
            raise ValueError("truncated")
        chunk = data[pos : pos + n]
        pos += n
        return chunk

    def count():
        n = int.from_bytes(take(4), "little", signed=True)
        if n < 0 or n > end - pos:
            raise ValueError("bad length")
        return n

    def digits_value(digits, lo, hi):
        # Little-endian 15-bit digits; halves joined by shifts, so a huge int costs n log n, not n**2.
        if hi - lo <= 32:
            value = 0
            for i in range(hi - 1, lo - 1, -1):
                value = (value << 15) | digits[i]
            return value
        mid = (lo + hi) // 2
        return digits_value(digits, lo, mid) | (digits_value(digits, mid, hi) << (15 * (mid - lo)))

    def value(depth):
        if depth > MAX_DEPTH:
            raise ValueError("nested too deeply")
        code = chr(take(1)[0])
        if code == "N":
            return None
        if code == "F":
            return False
        if code == "T":
            return True
        if code == "i":
            return int.from_bytes(take(4), "little", signed=True)
        if code == "l":
            n = int.from_bytes(take(4), "little", signed=True)
            raw = memoryview(take(2 * abs(n))).cast("H")
            if any(d >= 1 << 15 for d in raw):
                raise ValueError("bad long digit")
            magnitude = digits_value(raw, 0, len(raw))
            return -magnitude if n < 0 else magnitude
        if code == "g":
            return memoryview(take(8)).cast("d")[0]
        if code == "y":
            real, imag = memoryview(take(16)).cast("d")
            return complex(real, imag)
        if code == "s":
            return bytes(take(count()))
        if code in "tu":
            return take(count()).decode("utf-8", "surrogatepass")
        if code in "([<>":
            items = [value(depth + 1) for _ in range(count())]
            return {"(": tuple, "[": list, "<": set, ">": frozenset}[code](items)
        if code == "{":
            out = {}
            while pos < end and data[pos] != ord("0"):
                key = value(depth + 1)
                out[key] = value(depth + 1)
            take(1)
            return out
        raise ValueError(f"not plain data (marshal type {code!r})")

    try:
        result = value(0)
    except TypeError as exc:  # an unhashable key or set member
        raise ValueError(f"not plain data ({exc})") from None
    if pos != end:
        raise ValueError("trailing bytes")
    return result


# --- the child: the program, and its answers ----------------------------------------------------------


def run_program(program, names, requests, replies):
    """In the forked child: drop the judge's channels, run the program, report the values of ``names`` (the
    ones the tests use), then answer requests; never returns."""
    os.close(VERDICT_FD)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # stdin held the tests and the nonce
    os.close(null)
    namespace = {"__name__": "__candidate__", "__builtins__": builtins}
    objects = {}

    def handle(obj):
        objects[id(obj)] = obj  # kept alive while the judge may name it
        kind = f"function {obj.__name__}" if hasattr(obj, "__code__") else f"{type(obj).__name__} object"
        if isinstance(obj, type):
            kind = f"class {obj.__name__}"
        return ("object", id(obj), kind[:100])

    def answer(value):
        if value is None or type(value) in (bool, int, float, str):
            return ("ok", value)
        try:
            marshal.dumps(value, 2)
            return ("ok", value)
        except (ValueError, TypeError, RecursionError):
            pass
        if callable(value) or getattr(type(value), "__module__", None) == "__candidate__":
            return handle(value)
        return ("unplain", f"a {type(value).__name__}")

    def unwrap(value):
        kind = type(value)
        if kind is tuple:
            if value and value[0] is Ellipsis:
                return objects[value[1]] if len(value) == 2 else tuple(unwrap(v) for v in value[2])
            return tuple(unwrap(v) for v in value)
        if kind is list:
            return [unwrap(v) for v in value]
        if kind is dict:
            return {unwrap(k): unwrap(v) for k, v in value.items()}
        if kind in (set, frozenset):
            return kind(unwrap(v) for v in value)
        return value

    def raised(exc):
        try:
            text = str(exc)[:2000]
            args = exc.args
            marshal.dumps(args, 2)
        except BaseException:
            text, args = "", None
        return ("raised", type(exc).__name__[:100], args, text)

    def entry(value):
        if type(value).__name__ == "module":
            return ("module", value.__name__)
        reply = answer(value)
        return ("plain", reply[1]) if reply[0] == "ok" else reply

    def drop_channel():
        # In a process the program forks: without this, a descendant holding the pipe would keep the
        # judge from seeing the program's process end (it would wait for the wall clock instead).
        for fd in (requests, replies):
            try:  # noqa: SIM105 (contextlib would be one more import in every run)
                os.close(fd)
            except OSError:
                pass

    os.register_at_fork(after_in_child=drop_channel)
    try:
        exec(compile(program, "<program>", "exec"), namespace)
    except BaseException as exc:  # SystemExit too: the program did not get as far as its tests
        import traceback

        traceback.print_exc()
        write_message(replies, ("raised", describe(exc)))
        os._exit(0)
    found = {}
    for name in names:
        if name in namespace:
            try:
                found[name] = entry(namespace[name])
            except BaseException as exc:
                found[name] = raised(exc)
    try:
        write_message(replies, ("ready", found))
    except (ValueError, TypeError, RecursionError):
        write_message(replies, ("ready", {}))
    while True:
        header = read_exact(requests, 4)
        body = header and read_exact(requests, int.from_bytes(header, "big"))
        if not body:
            os._exit(0)
        request = marshal.loads(body)  # from the judge, which is trusted
        op = request[0]
        try:
            if op == "call":
                args, kwargs = request[2] if not request[3] else unwrap(request[2])
                reply = answer(objects[request[1]](*args, **kwargs))
            elif op == "getattr":
                reply = answer(getattr(objects[request[1]], request[2]))
            elif op == "setattr":
                new = request[3] if not request[4] else unwrap(request[3])
                setattr(objects[request[1]], request[2], new)
                reply = ("ok", None)
            else:
                reply = ("unplain", f"an unknown request {op!r}")
        except BaseException as exc:
            reply = raised(exc)
        try:
            write_message(replies, reply)
        except (ValueError, TypeError, RecursionError):
            write_message(replies, ("unplain", "an answer that marshal cannot write"))


# --- the judge's side of the channel ------------------------------------------------------------------


class Channel:
    """The judge's ends of the pipes to the program's process, and that process itself."""

    def __init__(self, child, requests, replies):
        self.child, self.requests, self.replies = child, requests, replies

    def gone(self):
        # The pipe's end shows before the exit status does: give a dying child a moment to finish dying.
        import time

        for _ in range(200):
            pid, status = os.waitpid(self.child, os.WNOHANG)
            if pid:
                break
            time.sleep(0.001)
        if pid == 0:
            os.kill(self.child, 9)
            os.waitpid(self.child, 0)
            return ProgramGone("error", "the program closed its channel to the tests before they finished")
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            if number == SIGXCPU:
                return ProgramGone("timeout", "CPU-time limit reached (SIGXCPU)")
            name = SIGNALS.get(number, f"signal {number}")
            return ProgramGone("error", f"killed by {name} before the tests finished")
        return ProgramGone("error", f"exited with status {os.WEXITSTATUS(status)} before the tests finished")

    def receive(self):
        header = read_exact(self.replies, 4)
        if header is None:
            raise self.gone()
        size = int.from_bytes(header, "big")
        if size > MAX_MESSAGE:
            raise NotPlainData(f"the program's answer is over {MAX_MESSAGE >> 20} MiB")
        body = read_exact(self.replies, size)
        if body is None:
            raise self.gone()
        try:
            message = plain_value(body)
        except (ValueError, RecursionError, MemoryError) as exc:
            raise NotPlainData(f"the program's process answered with something other than {PLAIN}: {exc}") from None
        if type(message) is not tuple or not message or type(message[0]) is not str:
            raise NotPlainData("the program's process answered out of protocol")
        return message

    def request(self, message, what):
        try:
            write_message(self.requests, message)
        except BrokenPipeError:
            raise self.gone() from None
        reply = self.receive()
        tag = reply[0]
        if tag == "ok" and len(reply) == 2:
            return reply[1]
        if tag == "object" and len(reply) == 3 and type(reply[1]) is int and type(reply[2]) is str:
            return Remote(self, reply[1], reply[2])
        if tag == "unplain" and len(reply) == 2:
            raise NotPlainData(f"{what} gave {reply[1]}, not {PLAIN}")
        if tag == "raised" and len(reply) == 4:
            raise rebuilt(reply[1], reply[2], reply[3])
        raise NotPlainData("the program's process answered out of protocol")


def rebuilt(name, args, text):
    """The program's exception as one the tests can catch: a builtin type by name, else a stand-in."""
    name = str(name)[:100]
    kind = getattr(builtins, name, None)
    if not (isinstance(kind, type) and issubclass(kind, BaseException)):
        kind = type(name, (Exception,), {"__module__": "__program__"})
    try:
        return kind(*args) if type(args) is tuple else kind(text)
    except BaseException:
        return RuntimeError(f"{name}: {text}")


def sendable(value):
    """``value`` as the child reads it: handles as (Ellipsis, ref), a real tuple that starts with Ellipsis
    escaped as (Ellipsis, None, tuple)."""
    kind = type(value)
    if kind is Remote:
        return (Ellipsis, object.__getattribute__(value, "_ref"))
    if kind is tuple:
        items = tuple(sendable(v) for v in value)
        return (Ellipsis, None, items) if items and items[0] is Ellipsis else items
    if kind is list:
        return [sendable(v) for v in value]
    if kind is dict:
        return {sendable(k): sendable(v) for k, v in value.items()}
    if kind in (set, frozenset):
        return kind(sendable(v) for v in value)
    if value is None or kind in (bool, int, float, complex, str, bytes):
        return value
    raise Unsendable(f"the tests hand the program a {kind.__name__}, which cannot cross into its process")


def outgoing(value):
    """(value, needs unwrapping): marshal as it is when it holds plain data only."""
    try:
        marshal.dumps(value, 2)
        return value, False
    except ValueError:
        return sendable(value), True


class Remote:
    """A function, class or object of the program, standing in the judge: calls and attribute access go
    to the program's process; comparisons and truth are refused."""

    __slots__ = ("_channel", "_ref", "_kind")

    def __init__(self, channel, ref, kind):
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_kind", kind)

    def __call__(self, *args, **kwargs):
        kind = object.__getattribute__(self, "_kind")
        payload, wrapped = outgoing((args, kwargs))
        what = f"calling the program's {kind}"
        return object.__getattribute__(self, "_channel").request(
            ("call", object.__getattribute__(self, "_ref"), payload, wrapped), what
        )

    def __getattr__(self, name):
        kind = object.__getattribute__(self, "_kind")
        return object.__getattribute__(self, "_channel").request(
            ("getattr", object.__getattribute__(self, "_ref"), name), f"the program's {kind}.{name}"
        )

    def __setattr__(self, name, value):
        payload, wrapped = outgoing(value)
        object.__getattribute__(self, "_channel").request(
            ("setattr", object.__getattribute__(self, "_ref"), name, payload, wrapped), f"setting {name}"
        )

    def __repr__(self):
        return f"<the program's {object.__getattribute__(self, '_kind')}>"

    def _refuse(self, *_):
        raise NotPlainData(
            f"the tests compared or tested the program's {object.__getattribute__(self, '_kind')}; only {PLAIN} "
            "can be compared"
        )

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __len__ = _refuse

    def __hash__(self):
        return id(self)


# --- the judge ----------------------------------------------------------------------------------------


def nondumpable():
    """Make sure this process is not dumpable (so not readable through /proc by the program's process).

    The launcher execs the judge with an effective gid other than its real one, which makes the kernel
    set dumpability from fs.suid_dumpable at exec; dropping that gid here changes the credentials again,
    with the same effect. 0 (the default) or 2 protect; only 1 (debugging) needs the prctl, through
    _ctypes alone (ctypes itself costs milliseconds to import).
    """
    real = os.getgid()
    if os.getegid() != real:
        os.setresgid(real, real, real)
        try:
            with open("/proc/sys/fs/suid_dumpable", "rb") as f:
                if f.read().strip() in (b"0", b"2"):
                    return
        except OSError:
            pass
    if not sys.platform.startswith("linux"):
        return
    import _ctypes

    prctl = _ctypes.dlsym(_ctypes.dlopen(None), "prctl")
    if _ctypes.call_function(prctl, (PR_SET_DUMPABLE, 0, 0, 0, 0)) != 0:
        raise OSError("prctl(PR_SET_DUMPABLE, 0) failed")


def main(program, prelude, names):
    """Judge ``program`` against the tests that come on stdin; write the verdict to fd 3; never returns."""
    try:
        nondumpable()
    except Exception as exc:
        sys.stderr.write(f"srmzoo judge: cannot make itself non-dumpable: {describe(exc)}\n")
        os._exit(JUDGE_FAILED)
    namespace = {"__name__": "__tests__", "__builtins__": builtins}
    prelude_error = None
    if prelude:
        # The dataset's own code (a HumanEval prompt): its helpers stay the dataset's, whatever the program
        # redefines. Run before the fork, so the child finds its imports done.
        try:
            exec(compile(prelude, "<prelude>", "exec"), namespace)
        except BaseException as exc:
            prelude_error = exc
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(requests_w)
            os.close(replies_r)
            run_program(program, names, requests_r, replies_w)
        finally:
            os._exit(1)
    os.close(requests_r)
    os.close(replies_w)
    left = os.fstat(0).st_size - os.lseek(0, 0, os.SEEK_CUR)
    job = marshal.loads(read_exact(0, left) or b"")
    nonce = job["nonce"]

    def verdict(kind, detail=""):
        line = f"{nonce} {kind} {detail}".replace("\n", " ")[:2000] + "\n"
        os.write(VERDICT_FD, line.encode("utf-8", "replace"))
        try:  # noqa: SIM105 (contextlib would be one more import in every run)
            os.kill(child, 9)
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # the verdict is in; nothing of the tests' may turn it into a hang

    channel = Channel(child, requests_w, replies_r)
    try:
        first = channel.receive()
    except ProgramGone as gone:
        verdict(gone.kind, gone.detail)
    except NotPlainData as exc:
        verdict("error", str(exc))
    if first[0] == "raised":
        verdict("error", f"the program raised {first[1] if len(first) > 1 else '?'}")
    if first[0] != "ready" or len(first) != 2 or type(first[1]) is not dict:
        verdict("error", "the program's process answered out of protocol")
    if prelude_error is not None:
        verdict("error", "the prelude raised " + describe(prelude_error))
    entry_point = job["entry_point"]
    try:
        for name, found in first[1].items():
            if name not in names or type(found) is not tuple or not found:
                continue
            if found[0] == "plain" and len(found) == 2:
                namespace[name] = found[1]
            elif found[0] == "object" and len(found) == 3 and type(found[1]) is int:
                namespace[name] = Remote(channel, found[1], str(found[2]))
            elif found[0] == "module" and found[1] in MODULES:
                __import__(found[1])
                namespace[name] = sys.modules[found[1]]
        if entry_point is not None and entry_point not in first[1]:
            verdict("fail", f"the program defines no {entry_point!r}")
        exec(compile(job["tests"], "<tests>", "exec"), namespace)
        if entry_point is not None:
            namespace["check"](namespace[entry_point])
    except ProgramGone as gone:
        verdict(gone.kind, gone.detail)
    except Unsendable as exc:
        verdict("error", str(exc))
    except BaseException as exc:
        import traceback  # only on failure: importing it costs more than many a test

        traceback.print_exc()
        verdict("fail", describe(exc))
    verdict("pass")


def main_from_stdin():
    """:func:`main` with the program, the prelude and the names the tests use taken from the head of
    stdin, so that main.pyc is the same in every run and the launcher compiles it once; the rest of stdin
    (the tests and the nonce) is read after the fork."""
    size = int.from_bytes(read_exact(0, 4) or bytes(4), "big")
    program, prelude, names = marshal.loads(read_exact(0, size) or b"")
    main(program, prelude, names)
