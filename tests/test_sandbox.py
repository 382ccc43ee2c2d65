"""The code sandbox: what programs see and get back, the verifier's verdicts, degraded modes, and the
hostile programs of tests/hostile/ (each asserted contained, the host checked afterwards)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import srmzoo.sandbox as sandbox
import srmzoo.sandbox.runner as runner
from srmzoo.errors import SrmzooError
from srmzoo.sandbox import (
    Candidate,
    Outcome,
    SandboxCapabilities,
    SandboxStatus,
    run_many,
    run_python,
    run_tests,
    sandbox_capabilities,
)

REPO = Path(__file__).resolve().parents[1]
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="full isolation needs root")


def _load_hostile():
    spec = importlib.util.spec_from_file_location(
        "hostile_programs", REPO / "tests" / "hostile" / "hostile_programs.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


hostile = _load_hostile()


# --- what a program sees and what comes back ---------------------------------------------------------


def test_stdout_stderr_stdin_and_exit_status():
    r = run_python(
        "import sys\nprint(sys.stdin.read()[::-1])\nprint('warn', file=sys.stderr)\nsys.exit(3)", stdin="abc"
    )
    assert (r.status, r.returncode, r.stdout, r.stderr) == (SandboxStatus.ERROR, 3, "cba\n", "warn\n")
    assert not r.stdout_truncated and not r.stderr_truncated and 0 < r.wall_s < 5


def test_uncaught_exception_is_an_error_with_its_traceback():
    r = run_python("raise KeyError('boom')")
    assert r.status is SandboxStatus.ERROR and r.returncode == 1
    assert "KeyError: 'boom'" in r.stderr


def test_a_signal_is_killed_by_limit_with_its_name():
    r = run_python("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)")
    assert (r.status, r.returncode, r.signal_name) == (SandboxStatus.KILLED, -signal.SIGTERM, "SIGTERM")


def test_timeout_ends_the_run_promptly():
    started = time.perf_counter()
    r = run_python("import time\ntime.sleep(30)", timeout=0.5)
    assert r.status is SandboxStatus.TIMEOUT and r.returncode is None
    assert 0.5 <= r.wall_s < 1.5 and time.perf_counter() - started < 2.0


def test_output_is_bounded_and_flagged():
    r = run_python("print('a' * 5000)\nimport sys\nsys.stderr.write('b' * 10)", max_output_bytes=1000)
    assert r.stdout == "a" * 1000 and r.stdout_truncated
    assert r.stderr == "b" * 10 and not r.stderr_truncated


def test_invalid_utf8_output_is_replaced_not_raised():
    r = run_python("import sys\nsys.stdout.buffer.write(b'ok\\xff\\xfe')")
    assert r.ok and r.stdout == "ok\ufffd\ufffd"


def test_the_program_runs_isolated_in_a_fresh_scratch_directory():
    code = (
        "import json, os, sys\nopen('scratch.txt', 'w').write('x')\n"
        "print(json.dumps({'cwd': os.getcwd(), 'files': sorted(os.listdir('.')), 'flags': [sys.flags.isolated, "
        "sys.flags.no_site], 'site': 'site' in sys.modules}))"
    )
    first, second = (json.loads(run_python(code).stdout) for _ in range(2))
    assert first["flags"] == [1, 1] and not first["site"]
    # The harness file is main.py; nothing of the first run is left for the second.
    assert first["files"] == second["files"] == ["main.py", "scratch.txt"]


def test_secrets_in_the_parent_environment_do_not_reach_the_program(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_fakeSecretForTheSandboxTest")
    monkeypatch.setenv("PYTHONPATH", "/nonexistent/injected")
    runner._shutdown_servers()  # the next fork server starts with the secret in this process's environment
    code = (
        "import json, os, sys\nseen = [json.dumps(dict(os.environ)), json.dumps(sys.path)]\n"
        "for p in ['self'] + [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    try:\n        seen.append(open('/proc/%s/environ' % p, 'rb').read().decode('latin-1'))\n"
        "    except OSError:\n        pass\nprint('\\n'.join(seen))"
    )
    r = run_python(code)
    assert r.ok and "HOME" in r.stdout
    assert "hf_fakeSecret" not in r.stdout and "/nonexistent/injected" not in r.stdout


@needs_root
def test_runs_as_an_unprivileged_uid_without_groups():
    r = run_python(
        "import os, json\nprint(json.dumps([os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]))"
    )
    uid, euid, gid, groups = json.loads(r.stdout)
    assert uid == euid and uid in sandbox.SANDBOX_UIDS and gid == sandbox.SANDBOX_GID and groups == []


def test_bad_arguments_raise_one_clear_error():
    for call, words in [
        (lambda: run_python(b"print(1)"), "must be a str"),
        (lambda: run_python("pass", timeout=0), "timeout=0"),
        (lambda: run_python("pass", timeout="5"), "timeout="),
        (lambda: run_python("pass", memory_mb=8), "memory_mb=8"),
        (lambda: run_python("pass", stdin=None), "stdin must be a str"),
        (lambda: run_tests("x = 1", "assert x ==", entry_point=None), "tests do not compile"),
        (lambda: run_tests("def f(): pass", "assert f() is None", entry_point="f"), "define no check()"),
        (
            lambda: run_tests("def f(): pass", "def check(c): pass", entry_point="not valid"),
            "not a Python identifier",
        ),
        (lambda: run_tests("x = 1", "assert x", memory=3), "unknown sandbox option"),
        (lambda: run_many([Candidate("x = 1", "assert x")], workers=0), "workers=0"),
        (lambda: run_many([("x = 1", "assert x")]), "not a Candidate"),
    ]:
        with pytest.raises(SrmzooError, match=words):
            call()


# --- the coding verifier ---------------------------------------------------------------------------

SQUARE_TESTS = "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(-2) == 4\n"


@pytest.mark.parametrize(
    ("program", "outcome", "detail"),
    [
        ("def square(x):\n    return x * x\n", Outcome.PASS, ""),
        ("def square(x):\n    return 2 * x\n", Outcome.FAIL, "AssertionError"),
        ("def square(x):\n    return x.bit_length()\n", Outcome.FAIL, "AssertionError"),
        ("def square(x):\n    raise ValueError('nope')\n", Outcome.FAIL, "ValueError: nope"),
        ("def square(x)\n    return x * x\n", Outcome.ERROR, "SyntaxError"),
        ("raise RuntimeError('at import')\n", Outcome.ERROR, "RuntimeError: at import"),
        ("def cube(x):\n    return x ** 3\n", Outcome.FAIL, "defines no 'square'"),
        ("def square(x):\n    while True:\n        pass\n", Outcome.TIMEOUT, ""),
    ],
)
def test_run_tests_outcomes(program, outcome, detail):
    v = run_tests(program, SQUARE_TESTS, entry_point="square", timeout=1.0)
    assert v.outcome is outcome, (v.detail, v.result.stderr)
    assert detail in v.detail


@pytest.mark.parametrize(
    "cheat",
    [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "exit()\n",
        "import os\nos.write(3, b'0123456789abcdef0123456789abcdef pass\\n')\nos._exit(0)\n",
        "import os\nos.close(1)\nos.close(2)\nos.close(3)\n",
    ],
)
def test_a_program_cannot_pass_without_the_tests_running(cheat):
    v = run_tests(cheat + "def square(x):\n    return 0\n", SQUARE_TESTS, entry_point="square", timeout=1.0)
    assert not v.passed and v.outcome in (Outcome.ERROR, Outcome.FAIL), v


@pytest.mark.parametrize(
    ("returns", "test", "outcome"),
    [
        # exact plain data crosses exactly: big ints, signed zeros, NaN, complex, bytes, sets, nesting
        ("10**400 + 1", "assert f() == 10**400 + 1", Outcome.PASS),
        ("-0.0", "import math\nassert math.copysign(1, f()) == -1", Outcome.PASS),
        ("float('nan')", "assert f() != f()", Outcome.PASS),
        ("(1+2j, b'x', frozenset({1}), {(1, 2): [None, True]})", "assert f() == (1+2j, b'x', frozenset({1}), {(1, 2): [None, True]})", Outcome.PASS),
        ("'\\ud800'", "assert f() == '\\ud800'", Outcome.PASS),
        ("bytearray(b'ab')", "assert f() == b'ab'", Outcome.PASS),
        # ... and types are kept: a list is not a tuple, True is not 1 under `is`
        ("[1, 2]", "assert f() == (1, 2)", Outcome.FAIL),
        ("1", "assert f() is True", Outcome.FAIL),
        # anything else is refused, whatever it claims about itself
        ("(x for x in [1])", "assert list(f()) == [1]", Outcome.FAIL),
        ("type('Int', (int,), {'__eq__': lambda s, o: True})(0)", "assert f() == 9", Outcome.FAIL),
        ("type('T', (), {'__bool__': lambda s: True})()", "assert f()", Outcome.FAIL),
    ],
)
def test_only_plain_data_crosses_from_the_program(returns, test, outcome):
    v = run_tests(f"def f():\n    return {returns}\n", test, timeout=2.0)
    assert v.outcome is outcome, (v.detail, v.result.stderr[-300:])


def test_refused_data_says_why():
    v = run_tests("def f():\n    return (x for x in [1])\n", "assert list(f()) == [1]")
    assert v.outcome is Outcome.FAIL
    assert v.detail.startswith("NotPlainData: calling the program's function f gave a generator, not plain data")


def test_the_program_s_classes_and_exceptions_work_through_handles():
    program = (
        "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n"
        "    def span(self):\n        return self.b - self.a\n"
        "def longest(pairs):\n    return max(p.span() for p in pairs)\n"
        "def check_positive(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n"
    )
    tests = (
        "p = Pair(5, 24)\nassert p.a == 5 and p.span() == 19\np.b = 30\nassert p.span() == 25\n"
        "assert longest([Pair(1, 2), p, Pair(0, 3)]) == 25\n"
        "try:\n    check_positive(-1)\n    raise AssertionError('no error')\nexcept ValueError as exc:\n"
        "    assert str(exc) == 'negative'\n"
    )
    v = run_tests(program, tests)
    assert v.outcome is Outcome.PASS, (v.detail, v.result.stderr[-500:])


def test_arguments_cross_as_copies_and_unsendable_ones_are_an_error():
    v = run_tests("def grow(xs):\n    xs.append(1)\n    return len(xs)\n", "xs = []\nassert grow(xs) == 1\nassert xs == []\n")
    assert v.outcome is Outcome.PASS, v.detail
    v = run_tests("def apply(f):\n    return f(2)\n", "assert apply(lambda x: x + 1) == 3\n")
    assert (v.outcome, v.detail) == (
        Outcome.ERROR,
        "the tests hand the program a function, which cannot cross into its process",
    )


def test_the_program_cannot_shadow_builtins_for_the_tests_but_may_be_the_entry_point():
    shadow = run_tests("def len(x):\n    return 3\ndef f():\n    return [1]\n", "assert len(f()) == 3")
    assert shadow.outcome is Outcome.FAIL
    entry = run_tests("def sum(xs):\n    return 7\n", "def check(c):\n    assert c([1]) == 7\n", entry_point="sum")
    assert entry.outcome is Outcome.PASS, entry.detail


def test_the_prelude_s_helpers_are_the_tests_helpers():
    prelude = "def helper(x):\n    return x + 1\n"
    program = prelude + "def helper(x):\n    return 0\ndef f(x):\n    return helper(x)\n"
    tests = "def check(c):\n    assert helper(1) == 2\n    assert c(1) == 0\n"
    assert run_tests(program, tests, entry_point="f", prelude=prelude).passed
    assert run_tests(program, tests, entry_point="f").outcome is Outcome.FAIL  # without it, the program's


def test_the_tests_and_the_nonce_never_reach_the_program_s_process():
    spy = (
        "import os, sys\nseen = []\nf = sys._getframe()\nwhile f is not None:\n"
        "    seen += [v for v in list(f.f_locals.values()) if isinstance(v, (str, bytes))]\n    f = f.f_back\n"
        "for path in ['/proc/self/fd/0'] + ['/tmp/' + name for name in os.listdir('/tmp')]:\n"
        "    seen.append(open(path, 'rb').read())\n"
        "mark = b'SECRET' + b'-EXPECTED'  # not in this source, which the program's process does hold\n"
        "found = any(mark in (s if isinstance(s, bytes) else s.encode('utf-8', 'replace')) for s in seen)\n"
        "def f():\n    return found\n"
    )
    v = run_tests(spy, "assert f() is False  # SECRET-EXPECTED\n")
    assert v.passed, v.detail


@needs_root
def test_the_judge_is_out_of_the_program_s_reach_through_proc():
    probe = (
        "import os\ndef probe():\n    out = {}\n    for leaf in ('mem', 'fd/0', 'fd/3', 'environ', 'status'):\n"
        "        try:\n            open('/proc/%d/%s' % (os.getppid(), leaf), 'rb').close()\n            out[leaf] = 'open'\n"
        "        except OSError as exc:\n            out[leaf] = exc.strerror\n    return out\n"
        "def gids():\n    return os.getresgid()\n"
    )
    tests = (
        "assert probe() == {'mem': 'Permission denied', 'fd/0': 'Permission denied', 'fd/3': 'Permission denied', "
        "'environ': 'Permission denied', 'status': 'open'}, probe()\n"
        "import os\nassert gids() == os.getresgid() == (65534, 65534, 65534), (gids(), os.getresgid())\n"
    )
    v = run_tests(probe, tests)
    assert v.passed, v.detail


@needs_root
def test_runs_are_born_in_their_uid_s_cgroup_which_holds_nothing_after_them_and_goes_with_the_server():
    code = "print(open('/proc/self/cgroup').read())\nimport os\nos.fork() or __import__('time').sleep(0.2)"
    r = run_python(code)
    leaves = {line.rsplit("/", 1)[-1] for line in r.stdout.splitlines() if "srmzoo-sandbox-" in line}
    assert len(leaves) == 1 and next(iter(leaves)).endswith("-u65534"), r.stdout
    # This server's leaves only: a leaf another (killed) server left behind is swept by the next server to
    # start, not by this one, and is no business of this test.
    leaf_dirs = [p for p in Path("/sys/fs/cgroup").rglob(leaves.pop()) if p.is_dir()]
    assert leaf_dirs, "the slot's leaves exist while its server runs"
    # After the run only the slot itself is left in the leaf: the program and its fork are gone.
    assert {len((d / "cgroup.procs").read_text().split()) for d in leaf_dirs} == {1}
    runner._shutdown_servers()
    assert [p for p in leaf_dirs if p.exists()] == []


def test_the_seccomp_tables_cover_the_same_calls_on_both_architectures():
    from srmzoo.sandbox import launcher

    x86, arm = (launcher.SECCOMP_TABLES[m][1] for m in ("x86_64", "aarch64"))
    assert set(x86) == set(arm) >= set(launcher.SECCOMP_DENIED) | {"unshare", "clone", "clone3", "socket"}
    for machine in ("x86_64", "aarch64"):
        program = launcher.seccomp_program(machine)
        assert len(program) % 8 == 0 and len(program) // 8 < 256  # well inside BPF_MAXINSNS
    # x86_64 alone carries the x32 check: two instructions more
    assert len(launcher.seccomp_program("x86_64")) == len(launcher.seccomp_program("aarch64")) + 16


def test_mbpp_style_asserts_and_main_guard_skipped():
    program = (
        "def add(a, b):\n    return a + b\n\nif __name__ == '__main__':\n    print(add(int(input()), 1))\n"
    )
    v = run_tests(program, "assert add(1, 2) == 3\nassert add(-1, 1) == 0\n")
    assert v.passed and v.result.stdout == ""


def test_run_many_keeps_order_and_mixes_outcomes():
    jobs = [
        Candidate("def f():\n    return 1\n", "assert f() == 1"),
        Candidate("def f():\n    return 2\n", "assert f() == 1"),
        Candidate("def f(:\n", "assert f() == 1"),
        Candidate("def f():\n    return 1\n", "def check(c):\n    assert c() == 1\n", "f"),
    ]
    got = [v.outcome for v in run_many(jobs, workers=2, timeout=2.0)]
    assert got == [Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.PASS]


def test_run_many_runs_workers_at_once():
    sleeper = Candidate("import time\ntime.sleep(0.6)\n", "")
    started = time.perf_counter()
    assert all(v.passed for v in run_many([sleeper] * 4, workers=4, timeout=3.0))
    assert time.perf_counter() - started < 4 * 0.6 - 0.4  # sequential would take 2.4 s


@needs_root
def test_one_runs_fork_bomb_does_not_starve_a_concurrent_run():
    # RLIMIT_NPROC counts per uid: concurrent runs get different uids, so the second one can still fork.
    bomb = Candidate(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", ""
    )
    forks = Candidate(
        "import subprocess, time\ntime.sleep(0.3)\nout = subprocess.run(['/bin/echo', 'hi'], capture_output=True).stdout\n",
        "assert out == b'hi\\n'",
    )
    results = run_many([bomb, forks], workers=2, timeout=1.5)
    assert results[0].outcome is Outcome.TIMEOUT
    assert results[1].passed, results[1]


# --- capabilities and degraded modes ---------------------------------------------------------------


@needs_root
def test_full_isolation_here_and_the_check_passes():
    caps = sandbox_capabilities()
    assert caps.full_isolation and caps.missing == {}
    assert set(caps.applied) == set(sandbox.PROTECTIONS)
    assert run_python("print(1)", require_full_isolation=True).stdout == "1\n"


def test_an_interpreter_that_cannot_run_in_the_sandbox_is_refused():
    with pytest.raises(
        SrmzooError, match="no Python interpreter can run inside the code sandbox.*not an executable"
    ):
        sandbox_capabilities("/nonexistent/python3")


@needs_root
@pytest.mark.skipif(
    not os.path.realpath(sys.executable).startswith("/root/"),
    reason="needs this Python under /root (mode 700)",
)
def test_an_interpreter_the_sandbox_uid_cannot_read_is_refused():
    with pytest.raises(SrmzooError, match="cannot be executed"):
        sandbox_capabilities(sys.executable)


@pytest.fixture
def without_namespaces(monkeypatch):
    """Pretend this machine has no namespaces (as in a container without CAP_SYS_ADMIN): the probe finds
    them missing, and the next sandbox_capabilities() call probes afresh."""
    real = sandbox_capabilities()
    missing = {
        "net_namespace": "pretend: EPERM",
        "mount_namespace": "pretend: EPERM",
        "hidden_paths": "needs mount_namespace",
        "private_dev": "needs mount_namespace",
        "pid_namespace": "pretend",
    }
    degraded = SandboxCapabilities(
        real.interpreter, real.python_version, tuple(p for p in real.applied if p not in missing), missing
    )
    monkeypatch.setattr(
        runner, "_probe", lambda path: (degraded, "") if path == real.interpreter else (None, "skip")
    )
    monkeypatch.setattr(runner, "_capabilities", {})
    monkeypatch.setattr(runner, "_warned", set())
    return degraded


def test_degraded_mode_warns_once_and_can_be_refused(without_namespaces, caplog):
    with caplog.at_level(logging.WARNING, logger="srmzoo.sandbox"):
        assert sandbox_capabilities() is sandbox_capabilities() is not None
    warnings = [r.getMessage() for r in caplog.records if "missing protections" in r.getMessage()]
    assert len(warnings) == 1 and "net_namespace (pretend: EPERM)" in warnings[0]
    with pytest.raises(SrmzooError, match="lacks protections.*net_namespace.*mount_namespace"):
        run_python("print(1)", require_full_isolation=True)


@needs_root
def test_degraded_mode_really_runs_without_them_and_still_cleans_up(without_namespaces):
    # Honest degradation: without a network namespace the host's loopback is reachable ...
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        r = run_python(
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('in')"
        )
        assert r.stdout == "in\n"
    finally:
        server.close()
    # ... but the uid drop still holds, and a detached daemon is swept away after the run.
    mark = str(time.time_ns())
    r = run_python(
        "import os\nif os.fork() == 0:\n    os.setsid()\n    os.execv('/bin/sleep', ['sleep', '600.MARK'])\n".replace(
            "MARK", mark
        )
        + "print(os.getuid(), os.getcwd())"
    )
    uid, cwd = r.stdout.split()
    assert int(uid) in sandbox.SANDBOX_UIDS and cwd.startswith("/tmp/srmzoo-sandbox-")
    assert not hostile.host_processes_with(f"600.{mark}")
    assert not os.path.exists(cwd), "the host scratch directory is removed after the run"


@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_a_non_root_parent_gets_a_loud_degraded_sandbox():
    script = (
        "import json, logging, sys\nsys.path.insert(0, sys.argv[1])\nlogging.basicConfig(level=logging.WARNING)\n"
        "from zoo.sandbox import run_python, sandbox_capabilities\ncaps = sandbox_capabilities()\n"
        "r = run_python('import os; print(os.getuid())')\n"
        "print(json.dumps({'missing': sorted(caps.missing), 'uid': r.stdout.strip()}))\n"
    )
    p = subprocess.run(
        [
            "setpriv",
            "--reuid=4242",
            "--regid=4242",
            "--clear-groups",
            "/usr/bin/python3",
            "-I",
            "-c",
            script,
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
    )
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["uid"] == "4242"
    assert {"uid_drop", "net_namespace", "mount_namespace", "pid_namespace", "process_limit"} <= set(
        got["missing"]
    )
    assert "missing protections: " in p.stderr and "uid_drop (not root" in p.stderr


def test_a_dead_fork_server_is_restarted():
    run_python("pass")
    server = runner._servers[sandbox_capabilities().interpreter]
    server.proc.kill()
    server.proc.wait()
    assert run_python("print(2)").stdout == "2\n"
    assert runner._servers[sandbox_capabilities().interpreter] is not server


def test_a_forked_copy_of_the_parent_gets_its_own_fork_server():
    assert run_python("print(1)").stdout == "1\n"  # the parent's server exists before the fork
    pid = os.fork()
    if pid == 0:
        ok = run_python("print(5)").stdout == "5\n"
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert run_python("print(2)").stdout == "2\n"  # and the parent's server was not disturbed


def test_module_cli_prints_the_capabilities():
    p = subprocess.run([sys.executable, "-m", "srmzoo.sandbox"], capture_output=True, text=True, timeout=60)
    caps = json.loads(p.stdout)
    assert p.returncode == (0 if not caps["missing"] else 1)
    assert "rlimits" in caps["applied"] and caps["interpreter"]


# --- hostile programs ------------------------------------------------------------------------------


def test_the_hostile_table_is_large_and_named_uniquely():
    names = [case.name for case in hostile.CASES]
    assert len(names) >= 30 and len(set(names)) == len(names)


def test_hostile_module_examples():
    import doctest

    result = doctest.testmod(hostile, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture(scope="module")
def hostile_run():
    """Every hostile case, run once (two at a time), plus the host checks made after all of them."""
    with hostile.hostile_world() as world:
        outcomes = {o.case.name: o for o in hostile.run_cases(world)}
        after = hostile.aftermath(world)
    return outcomes, after


@needs_root
@pytest.mark.parametrize("name", [case.name for case in hostile.CASES])
def test_hostile_program_is_contained(hostile_run, name):
    outcome = hostile_run[0][name]
    assert outcome.contained, f"{name}: {outcome.evidence}\nstderr: {outcome.result.stderr[-500:]}"


@needs_root
def test_after_the_hostile_programs_the_host_is_intact(hostile_run):
    failed = {name: evidence for name, (ok, evidence) in hostile_run[1].items() if not ok}
    assert not failed


def test_a_prelude_stub_is_the_programs_and_a_prelude_helper_stays_the_datasets():
    from srmzoo.sandbox.verdicts import _program_names

    prelude = "def helper(x):\n    return x + 1\n\n\ndef solve(x):\n    \"\"\"Return helper(x) doubled.\"\"\"\n"
    assert _program_names("assert solve(1) == helper(3)", None, prelude) == ("solve",)
    # as the coding verifier does, the program is the prelude followed by the completion
    program = prelude + "def helper(x):\n    return 0\n\ndef solve(x):\n    return 2 * helper(x)\n"
    # the tests see the dataset's helper (4), the program's own solve uses its own helper (0): fail, not pass
    assert run_tests(program, "assert solve(1) == helper(3)", prelude=prelude).outcome.value == "fail"
    honest = prelude + "def solve(x):\n    return 2 * helper(x)\n"
    assert run_tests(honest, "assert solve(1) == helper(3)", prelude=prelude).outcome.value == "pass"
