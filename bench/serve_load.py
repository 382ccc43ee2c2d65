"""``srmzoo serve`` under bounded load on 127.0.0.1, against the same backend called directly.

    python bench/serve_load.py          # writes bench/results/serve_load.json (about 6 minutes)

One server process (``python -m srmzoo.serve``, torch backend, CPU) serves the real SmolLM2-135M-Instruct
base with the math domain's prompt (``--base``), or a trained entry from the local store (``--entry``).
The benchmark process measures, in rounds so that a neighbour's load falls on every arm alike:

* ``direct``: the same model and prompts through :func:`srmzoo.backends.hf.generate` (what
  ``Reasoner.generate`` runs) in this process, batch 1, greedy, one request after another;
* ``served_c<k>``: k clients of the official ``openai`` package, each streaming greedy requests one after
  another (``stream=True``, usage on): aggregate completion tokens/s, latency p50/p95, time to first token
  p50/p95.

Each arm runs for ``--seconds`` per round and then lets its requests in flight finish (each is bounded by
``--max-tokens``), at most ``--max-requests`` a round: every loop stops by itself. The server's resident
memory is sampled every second over the whole run (peak, first and last sample). Only 127.0.0.1 is ever
contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "serve_load.json"
HOST = "127.0.0.1"  # never another address


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration, subprocess.SubprocessError):
        return platform.processor() or "unknown"


class RssSampler(threading.Thread):
    """The server's resident memory, once a second, until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.stopped.wait(1.0):
            try:
                self.samples.append((round(time.monotonic() - start, 1), self.process.memory_info().rss))
            except Exception:  # noqa: BLE001 — the server ended
                return

    def summary(self) -> dict:
        rss = [r for _, r in self.samples]
        mib = lambda b: round(b / 2**20, 1)  # noqa: E731
        third = max(1, len(rss) // 3)
        return {"samples": len(rss), "first_mib": mib(rss[0]), "last_mib": mib(rss[-1]), "peak_mib": mib(max(rss)),
                "mean_first_third_mib": mib(statistics.mean(rss[:third])),
                "mean_last_third_mib": mib(statistics.mean(rss[-third:])),
                "growth_last_vs_first_third": round(statistics.mean(rss[-third:]) / statistics.mean(rss[:third]), 3)}


def direct_arm(model, tokenizer, prompts: list[str], *, seconds: float, max_tokens: int, max_requests: int,
               start_at: int) -> dict:
    from srmzoo.backends.hf import GenerationStats, generate

    latencies, tokens = [], 0
    started = time.perf_counter()
    i = start_at
    while (not latencies or time.perf_counter() - started < seconds) and len(latencies) < max_requests:
        stats = GenerationStats()
        t0 = time.perf_counter()
        generate(model, tokenizer, [prompts[i % len(prompts)]], max_new_tokens=max_tokens, batch_size=1, stats=stats)
        latencies.append(time.perf_counter() - t0)
        tokens += stats.new_tokens
        i += 1
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "tokens": tokens, "seconds": wall, "latency": latencies, "ttft": []}


def served_arm(base_url: str, model: str, questions: list[str], *, clients: int, seconds: float, max_tokens: int,
               max_requests: int, start_at: int) -> dict:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0, timeout=600)
    lock = threading.Lock()
    next_item = [start_at]
    latencies, ttfts, errors = [], [], []
    tokens = [0]
    started = time.perf_counter()

    def worker() -> None:
        while True:
            with lock:  # every arm sends at least one request, then runs for its seconds
                if next_item[0] > start_at and time.perf_counter() - started >= seconds:
                    return
                if len(latencies) + len(errors) >= max_requests:
                    return
                i = next_item[0]
                next_item[0] += 1
            t0 = time.perf_counter()
            first, used = None, 0
            try:
                stream = client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": questions[i % len(questions)]}],
                    max_tokens=max_tokens, temperature=0, stream=True, stream_options={"include_usage": True})
                for chunk in stream:
                    if first is None and chunk.choices and chunk.choices[0].delta.content:
                        first = time.perf_counter() - t0
                    if chunk.usage is not None:
                        used = chunk.usage.completion_tokens
            except openai.APIError as err:
                with lock:
                    errors.append(f"{type(err).__name__}: {err}")
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)
                ttfts.append(first if first is not None else latencies[-1])
                tokens[0] += used

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 600)
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "tokens": tokens[0], "seconds": wall, "latency": latencies, "ttft": ttfts,
            "errors": errors}


def summarise(runs: list[dict]) -> dict:
    tokens = sum(r["tokens"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    latency = [x for r in runs for x in r["latency"]]
    ttft = [x for r in runs for x in r["ttft"]]
    out = {"rounds": len(runs), "requests": sum(r["requests"] for r in runs), "completion_tokens": tokens,
           "seconds": round(seconds, 1), "tokens_per_s": round(tokens / seconds, 2),
           "tokens_per_s_by_round": [round(r["tokens"] / r["seconds"], 2) for r in runs],
           "latency_p50_s": _percentile(latency, 0.5), "latency_p95_s": _percentile(latency, 0.95)}
    if ttft:
        out |= {"ttft_p50_s": _percentile(ttft, 0.5), "ttft_p95_s": _percentile(ttft, 0.95)}
    errors = [e for r in runs for e in r.get("errors", [])]
    if "errors" in runs[0]:
        out["errors"] = len(errors)
        out["error_examples"] = errors[:3]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="smollm2-135m-instruct", help="base served without adapter (default)")
    parser.add_argument("--domain", default="math", help="the domain whose prompt and test questions are used")
    parser.add_argument("--entry", help="serve this trained entry from the local store instead of --base")
    parser.add_argument("--clients", default="1,4,8", help="concurrent clients of the served arms")
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds each arm runs per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all arms (interleaved)")
    parser.add_argument("--max-tokens", type=int, default=64, help="completion budget of every request")
    parser.add_argument("--max-requests", type=int, default=500, help="requests per arm and round at most")
    parser.add_argument("--threads", type=int, default=2, help="torch threads, server and direct alike")
    parser.add_argument("--prompts", type=int, default=32, help="distinct test questions, used round-robin")
    parser.add_argument("--note", default="", help="a note for the results file (e.g. who else used the CPU)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",")]

    import torch

    from srmzoo.domain import get_domain
    from srmzoo.hardware import describe_hardware
    from srmzoo.serve import base_reasoner

    torch.set_num_threads(args.threads)
    questions = [e.question for e in get_domain(args.domain).examples("test", args.prompts, seed=0)]
    if args.entry:
        import srmzoo

        reasoner = srmzoo.load(args.entry, device="cpu", merge=True)
        serve_args, model_id = [args.entry, "--backend", "torch"], reasoner.name
    else:
        reasoner = base_reasoner(args.base, args.domain, device="cpu")
        serve_args, model_id = ["--base", f"{args.base}:{args.domain}"], reasoner.name
    prompts = [reasoner.prompt(q) for q in questions]

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "srmzoo.serve", *serve_args, "--host", HOST, "--port", str(port), "--device", "cpu",
         "--threads", str(args.threads), "--log-level", "warning", "--max-tokens", str(args.max_tokens)],
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    base_url = f"http://{HOST}:{port}/v1"
    try:
        import httpx

        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://{HOST}:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not come up in 300 s")
            time.sleep(0.5)
        # warm-up, outside the clock: one request each way
        served_arm(base_url, model_id, questions, clients=1, seconds=0.0, max_tokens=8, max_requests=1, start_at=0)
        direct_arm(reasoner.model, reasoner.tokenizer, prompts, seconds=0.0, max_tokens=8, max_requests=1, start_at=0)
        sampler = RssSampler(server.pid)
        sampler.start()
        load_before = os.getloadavg()
        run_started = time.perf_counter()
        arms: dict[str, list[dict]] = {"direct": [], **{f"served_c{c}": [] for c in clients}}
        for r in range(args.rounds):
            start_at = r * 7  # each round starts elsewhere in the questions, the same for every arm
            arms["direct"].append(direct_arm(reasoner.model, reasoner.tokenizer, prompts, seconds=args.seconds,
                                             max_tokens=args.max_tokens, max_requests=args.max_requests,
                                             start_at=start_at))
            for c in clients:
                arms[f"served_c{c}"].append(served_arm(base_url, model_id, questions, clients=c, seconds=args.seconds,
                                                       max_tokens=args.max_tokens, max_requests=args.max_requests,
                                                       start_at=start_at))
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{k} {v[-1]['tokens'] / v[-1]['seconds']:.1f} tok/s" for k, v in arms.items()), flush=True)
        total = time.perf_counter() - run_started
        sampler.stopped.set()
        sampler.join(5)
        load_after = os.getloadavg()
        stats = httpx.get(f"http://{HOST}:{port}/health", timeout=5).json()["engine"]
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()

    summary = {name: summarise(runs) for name, runs in arms.items()}
    direct = summary["direct"]["tokens_per_s"]
    c1 = summary[f"served_c{clients[0]}"]["tokens_per_s"]
    ratios = {"served_c1_vs_direct": round(c1 / direct, 2)} if clients[0] == 1 else {}
    for c in clients[1:]:
        ratios[f"served_c{c}_vs_served_c1"] = round(summary[f"served_c{c}"]["tokens_per_s"] / c1, 2)
        ratios[f"served_c{c}_vs_direct"] = round(summary[f"served_c{c}"]["tokens_per_s"] / direct, 2)
    import fastapi
    import openai
    import transformers
    import uvicorn

    result = {
        "command": "python bench/serve_load.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": model_id,
        "served_as": serve_args,
        "cpu_model": _cpu_model(),
        "hardware": describe_hardware(),
        "threads": args.threads,
        "note": args.note,
        "load_average_before_after": [round(x, 2) for x in (*load_before, *load_after)],
        "run_seconds": round(total, 1),
        "settings": {"max_tokens": args.max_tokens, "greedy": True, "seconds_per_arm_round": args.seconds,
                     "rounds": args.rounds, "prompts": len(questions), "domain": args.domain},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "fastapi": fastapi.__version__,
                     "uvicorn": uvicorn.__version__, "openai": openai.__version__},
        "arms": summary,
        "ratios": ratios,
        "targets": {"served_c1_vs_direct": ">= 0.9", "served_c8_vs_served_c1": ">= 4", "memory": "flat"},
        "server_rss": sampler.summary(),
        "server_engine_counters": stats,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"arms": {k: v["tokens_per_s"] for k, v in summary.items()}, "ratios": ratios,
                      "rss": result["server_rss"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
