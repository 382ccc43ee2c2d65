"""Zero-shot of the registered bases on every domain's splits, greedy, one token budget for all.

The bases are the zoo's reference points: an entry is worth training only where it beats its own base and
the 3x-larger generalist on the same items. Each (base, domain, split) row evaluates the same items for
every base (deterministic in ``--n`` and ``--seed``), with the domain's system prompt and the base's own
chat template, and is written to ``--out`` as soon as it finishes, so a killed run resumes where it stopped.
Paired differences (bootstrap 95% CI) between every pair of bases go in the same file; ``--table`` prints
the markdown table that docs/bases.md carries.

    nice -n 10 .venv/bin/python bench/zero_shot.py --out bench/results/zero_shot_bases.json
    .venv/bin/python bench/zero_shot.py --table bench/results/zero_shot_bases.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import combinations
from pathlib import Path

BASES = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"]
SPLITS = [
    "math:test", "math:ood", "coding:test", "coding:ood", "science:test", "science:ood", "healthcare:test",
    "healthcare:ood", "coding:external:humaneval@164",
]


def _parse_split(split: str, default_n: int) -> tuple[str, str, int]:
    """``DOMAIN:SPLIT[@N]`` -> (domain, split, n).

    >>> _parse_split("coding:external:humaneval@164", 40), _parse_split("math:test", 40)
    (('coding', 'external:humaneval', 164), ('math', 'test', 40))
    """
    head, _, n = split.partition("@")
    domain, _, name = head.partition(":")
    return domain, name, int(n) if n else default_n


def _row_key(base: str, split: str, args: argparse.Namespace) -> str:
    return f"{base}|{split}|n={args.n}|seed={args.seed}|tokens={args.max_new_tokens}"


def _model(base: str, args: argparse.Namespace) -> tuple[object, object, object, dict, str]:
    """(model, tokenizer, generator, identity, backend) of one base: llama.cpp on the GGUF its offline
    package ships when there is one (``--backend auto``), else torch."""
    from srmzoo.bases import base_gguf, gguf_tokenizer, load_base

    found = base_gguf(base) if args.backend != "torch" else None
    if args.backend == "llama.cpp" and found is None:
        raise SystemExit(f"{base} has no GGUF here for --backend llama.cpp (srmzoo bases install {base})")
    if found is not None:
        from srmzoo.backends.llamacpp import LlamaCppBatchGenerator

        gguf, identity = found
        tokenizer = gguf_tokenizer(base, gguf)
        generator = LlamaCppBatchGenerator(gguf, tokenizer, parallel=args.parallel, threads=2)
        return None, tokenizer, generator, identity, f"llama.cpp ({gguf.name}, {args.parallel} sequences)"
    loaded = load_base(base, dtype=args.dtype, device="cpu")
    return loaded.model, loaded.tokenizer, None, loaded.identity, f"torch {args.dtype}, batch {args.batch_size}"


def _evaluate(base: str, splits: list[str], args: argparse.Namespace, results: dict) -> None:
    from srmzoo.domain import get_domain
    from srmzoo.eval.harness import evaluate
    from srmzoo.hardware import release_memory
    from srmzoo.prompting import PromptFormat

    todo = [s for s in splits if _row_key(base, s, args) not in results["rows"]]
    if not todo:
        return
    started = time.perf_counter()
    model, tokenizer, generator, identity, backend = _model(base, args)
    results["bases"][base] = identity | {"load_s": round(time.perf_counter() - started, 1), "backend": backend}
    for split in todo:
        domain_name, split_name, n = _parse_split(split, args.n)
        domain = get_domain(domain_name)
        examples = domain.eval_examples(split_name, n, seed=args.seed)
        fmt = PromptFormat.for_tokenizer(tokenizer, system_prompt=domain.system_prompt or None)
        report = evaluate(model, tokenizer, fmt, domain, examples, max_new_tokens=args.max_new_tokens,
                          batch_size=args.batch_size, model_label=base, prompting="zero-shot", generator=generator)
        row = report.to_dict(records=True)
        row["records"] = [{"id": r["id"], "family": r["family"], "correct": r["verdicts"][0] == "correct"}
                          for r in report.records]
        row |= {"base": base, "split": split, "backend": backend,
                "per_item_tokens": round(report.new_tokens / max(1, report.n), 1),
                "per_item_seconds": round(report.wall_seconds / max(1, report.n), 2)}
        results["rows"][_row_key(base, split, args)] = row
        _paired(results, args)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        sys.stderr.write(f"{base} {split}: {report.accuracy:.1%} [{report.ci_low:.1%}, {report.ci_high:.1%}] "
                         f"n={report.n}, {report.tokens_per_second:.1f} tok/s, {report.wall_seconds:.0f} s\n")
    if generator is not None:
        generator.close()
    del model, generator
    release_memory()


def _paired(results: dict, args: argparse.Namespace) -> None:
    """Every pair of bases on each split's shared items: difference (larger minus smaller) with its CI."""
    from srmzoo.eval.stats import paired_bootstrap

    by_split: dict[str, dict[str, dict[str, bool]]] = {}
    for row in results["rows"].values():
        by_split.setdefault(row["split"], {})[row["base"]] = {r["id"]: r["correct"] for r in row["records"]}
    paired = []
    for split, per_base in by_split.items():
        names = [b for b in BASES if b in per_base] + sorted(set(per_base) - set(BASES))
        for small, large in combinations(names, 2):
            ids = [i for i in per_base[small] if i in per_base[large]]
            if not ids:
                continue
            diff, low, high = paired_bootstrap([per_base[large][i] for i in ids], [per_base[small][i] for i in ids])
            paired.append({"split": split, "minus": small, "model": large, "n": len(ids), "difference": round(diff, 4),
                           "ci_low": round(low, 4), "ci_high": round(high, 4)})
    results["paired"] = paired


def table(results: dict) -> str:
    """The markdown table: one line per split, one column per base (accuracy and Wilson CI)."""
    bases = [b for b in BASES if any(r["base"] == b for r in results["rows"].values())]
    splits = list(dict.fromkeys(r["split"] for r in results["rows"].values()))
    lines = ["| split | " + " | ".join(f"`{b}`" for b in bases) + " |", "|---" * (len(bases) + 1) + "|"]
    for split in splits:
        cells = []
        for base in bases:
            row = next((r for r in results["rows"].values() if r["base"] == base and r["split"] == split), None)
            cells.append("-" if row is None else
                         f"{row['accuracy']:.1%} [{row['ci_low']:.0%}, {row['ci_high']:.0%}], {row['per_item_tokens']:.0f} tok")
        n = next(r["n"] for r in results["rows"].values() if r["split"] == split)
        lines.append(f"| {split} (n={n}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", nargs="+", default=BASES)
    parser.add_argument("--splits", nargs="+", default=SPLITS,
                        help="DOMAIN:SPLIT[@N], e.g. math:natural or coding:external:humaneval@164 (N overrides --n)")
    parser.add_argument("--n", type=int, default=40, help="items per split (HumanEval: its first n problems)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dtype", default="float32", help="torch backend: the weights' dtype")
    parser.add_argument("--backend", choices=["auto", "torch", "llama.cpp"], default="auto",
                        help="auto: llama.cpp on the GGUF a base's offline package ships (the Qwen2.5-Coder bases), "
                        "torch for the others")
    parser.add_argument("--parallel", type=int, default=8, help="llama.cpp: sequences decoded together")
    parser.add_argument("--out", type=Path, default=Path("bench/results/zero_shot_bases.json"))
    parser.add_argument("--table", type=Path, metavar="RESULTS", help="print the markdown table of a results file")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return 0
    import torch

    from srmzoo.hardware import describe_hardware

    torch.set_num_threads(2)
    results = (json.loads(args.out.read_text()) if args.out.is_file()
               else {"machine": describe_hardware(), "bases": {}, "rows": {}, "paired": []})
    results["command"] = (f"bench/zero_shot.py --n {args.n} --seed {args.seed} --max-new-tokens {args.max_new_tokens} "
                          f"--batch-size {args.batch_size} --dtype {args.dtype} --backend {args.backend} "
                          f"--parallel {args.parallel} --splits {' '.join(args.splits)}")
    for base in args.bases:
        _evaluate(base, args.splits, args, results)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
