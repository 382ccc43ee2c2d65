"""The ``srmzoo`` command line: thin wrappers over the library, one subcommand each."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .artifacts import RECIPE_FILE, is_adapter_dir
from .errors import SrmzooError
from .publish.export import GGUF_QUANTIZATIONS

log = logging.getLogger("srmzoo")

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    COMMANDS[fn.__name__.removeprefix("cmd_")] = fn
    return fn


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


@command
def cmd_bases(args: argparse.Namespace) -> int:
    from .bases import BASES, run_bases_install, source_status

    if getattr(args, "bases_action", None) == "install":
        print(run_bases_install(args))
        return 0

    rows = [
        [s.name, s.size_label, s.architecture, s.license, "GPU" if s.gpu_scale else "CPU ok", source_status(s), s.hub_id]
        for s in BASES.values()
    ]
    print(_table(rows, ["base", "params", "arch", "license", "train on", "source", "hub id"]))
    return 0


@command
def cmd_serve(args: argparse.Namespace) -> int:
    from .serve.command import serve_command

    return serve_command(args)


@command
def cmd_chat(args: argparse.Namespace) -> int:
    from .backends.hf import GenerationStats, chat
    from .bases import load_base

    started = time.perf_counter()
    base = load_base(args.base, dtype=args.dtype, quantize=args.quantize, path=args.path)
    log.info("loaded %s from %s in %.1fs", base.resolved.spec.name, base.resolved.source, time.perf_counter() - started)
    stats = GenerationStats()
    answer = chat(base.model, base.tokenizer, args.prompt, max_new_tokens=args.max_new_tokens, stats=stats)
    print(answer)
    log.info("%d new tokens at %.1f tokens/s", stats.new_tokens, stats.tokens_per_second)
    return 0


@command
def cmd_train(args: argparse.Namespace) -> int:
    from .recipe import find_recipe, load_recipe

    recipe = load_recipe(find_recipe(args.recipe), args.overrides)
    if args.dry_run:
        from .train.estimate import dry_run

        report = dry_run(recipe, max_steps=args.max_steps)
        print(json.dumps(report, indent=2))
        return 0
    from .publish.export import gguf_for
    from .store import install_run
    from .train.stages import train

    run_dir = Path(args.run_dir or Path("runs") / recipe.name)
    result = train(recipe, run_dir, resume=args.resume, max_steps=args.max_steps, progress=not args.quiet,
                   entry_gguf=gguf_for)
    if _is_main_process():
        print(f"trained {recipe.name}: {result.steps} steps, loss {result.train_loss:.4f}, "
              f"{result.trained_tokens:,} tokens in {result.seconds / 60:.1f} min -> {result.adapter_dir}")
        if recipe.data.dataset is not None:
            _record_user_data(recipe, run_dir)
        if not args.no_install:
            print(f"installed in the local zoo store: {install_run(run_dir, recipe.name, result.adapter_dir)}")
    return 0


def _record_user_data(recipe: Any, run_dir: Path) -> None:
    """An entry on the user's own data gets its data manifest in the run directory (the store, the card and
    the Hub carry it from there): the sources' SHA-256, row counts and the train/test overlap."""
    from .artifacts import DATA_MANIFEST_FILE
    from .publish.manifests import build_manifest

    manifest = build_manifest(recipe)
    (run_dir / DATA_MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    overlap = ", ".join(f"{s}: {o['exact_duplicate_questions']} exact, {o['near_duplicates']} near duplicates"
                        for s, o in manifest["overlap"].items())
    print(f"data manifest: {run_dir / DATA_MANIFEST_FILE} (train vs {overlap})")
    for split, o in manifest["overlap"].items():
        if o["exact_duplicate_questions"]:
            log.warning("%d %s question(s) also appear in the train data: the %s accuracy overstates what the "
                        "entry does on new questions; remove them from one side", o["exact_duplicate_questions"],
                        split, split)


@command
def cmd_distill(args: argparse.Namespace) -> int:
    """Distill the recipe's teacher into verified traces (a ``datasets`` dataset and its manifest)."""
    from .publish.export import gguf_for
    from .recipe import find_recipe, load_recipe
    from .train.distill import run_distill

    recipe = load_recipe(find_recipe(args.recipe), args.overrides)
    result = run_distill(recipe, args.out, resume=args.resume, progress=not args.quiet, entry_gguf=gguf_for)
    a, t = result.manifest["acceptance"], result.manifest["throughput"]
    print(f"distilled {recipe.name} from {recipe.distill.teacher} ({result.manifest['teacher']['backend']}): "
          f"{result.manifest['dataset']['rows']} traces for {a['questions_with_a_trace']} of {a['questions']} "
          f"questions, {100 * a['acceptance_rate']:.1f}% of {a['samples']} samples accepted, "
          f"{t['tokens_per_s']} tokens/s -> {result.dataset_dir}")
    return 0


def _token_budgets(text: str) -> list[int]:
    """``--budgets 32,64,128`` as a list of ints (argparse turns the ValueError into a usage error)."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"budgets are comma-separated token counts, e.g. 32,64,128; got {text!r}") from None


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


@command
def cmd_eval(args: argparse.Namespace) -> int:
    from .artifacts import eval_config_for
    from .eval.run import EvalOptions, run_eval
    from .store import find_adapter

    cfg = eval_config_for(find_adapter(args.target))
    # flags left unset fall back to the recipe's eval section (from_config), the rest to their defaults
    given = {name: getattr(args, name) for name in ("n", "few_shot", "max_new_tokens", "batch_size", "compare",
                                                   "compare_adapters") if getattr(args, name) is not None}
    options = EvalOptions.from_config(
        cfg, **given, samples=args.samples, temperature=args.temperature, out_dir=args.out_dir,
        include_base=not args.no_base, seed=args.seed, device=args.device,
        allow_base_mismatch=args.allow_base_mismatch, base_path=args.base_path, progress=not args.quiet,
        budgets=args.budgets or (), tool_ablation=not args.no_tool_ablation,
    )
    for split in args.split or cfg.splits:
        run_eval(args.target, options.replace(split=split))
    return 0


@command
def cmd_forgetting(args: argparse.Namespace) -> int:
    from .eval.forgetting import format_forgetting, measure_forgetting

    results = measure_forgetting(args.target, n=args.n, seed=args.seed, compare_adapters=args.compare_adapters or (),
                                 batch_size=args.batch_size, device=args.device, out_dir=args.out_dir,
                                 progress=not args.quiet)
    print(format_forgetting(results))
    print(f"written: {results['path']}")
    return 0


@command
def cmd_data(args: argparse.Namespace) -> int:
    """``data manifest``: write an entry's data manifest; ``data check``: regenerate and compare (exit 1 on a difference)."""
    from .publish import manifests

    if args.action == "manifest":
        started = time.perf_counter()
        path = manifests.write_manifest(args.recipe, args.out_dir)
        m = json.loads(path.read_text(encoding="utf-8"))
        sizes = ", ".join(f"{s} {r['n']} ({r['sha256'][:12]})" for s, r in m["splits"].items())
        overlap = ", ".join(f"{s}: {o['exact_duplicate_questions']} exact, {o['near_duplicates']} near "
                            f"(max sim {o['max_similarity']})" for s, o in m["overlap"].items())
        print(f"wrote {path} in {time.perf_counter() - started:.1f}s: {sizes}; train overlap {overlap}")
        return 0
    paths = [Path(p) for p in args.manifests] or manifests.manifest_paths()
    if not paths:
        raise SrmzooError(f"no manifests in {manifests.manifest_dir()}",
                          hint="write one with `srmzoo data manifest RECIPE`")
    failed = 0
    for path in paths:
        differences = manifests.check_manifest(path)
        failed += bool(differences)
        print(f"{'DIFFERS' if differences else 'ok':8} {path}")
        for line in differences:
            print(f"         {line}")
    return 1 if failed else 0


@command
def cmd_publish(args: argparse.Namespace) -> int:
    """Upload an adapter to a Hub repo; the token comes from HF_TOKEN or `hf auth login`, never the command line."""
    from .publish.hub import publish

    result = publish(args.target, args.repo, private=args.private, revision=args.revision, endpoint=args.endpoint)
    print(f"published {args.target}\nrepo:   {result.repo}\nbranch: {result.revision}\n"
          f"commit: {result.commit}\nurl:    {result.url}")
    if args.record:
        from .registry import record_published

        print(f"recorded in {record_published(args.target, result)}")
    return 0


@command
def cmd_pull(args: argparse.Namespace) -> int:
    """Download a published adapter, verify every file, print the local directory (for scripts)."""
    from .publish.hub import pull

    print(pull(args.repo, args.revision, endpoint=args.endpoint, cache_dir=args.cache_dir))
    return 0


QUICK_OVERRIDES = ["data.train_size=256", "train.save_steps=8", "train.logging_steps=2"]


def _trained_with(store: Path, recipe: Any) -> bool:
    """Whether the store's adapter was trained with exactly this recipe (its resolved recipe.yaml)."""
    from .recipe import read_yaml

    path = store / RECIPE_FILE
    if not is_adapter_dir(store) or not path.is_file():
        return False
    stored = read_yaml(path) or {}
    if not isinstance(stored, dict):
        return False
    return {k: v for k, v in stored.items() if k != "source"} == recipe.to_dict()


@command
def cmd_demo(args: argparse.Namespace) -> int:
    """The README's main job, end to end on the embedded base: train, evaluate, load, solve and check."""
    import dataclasses
    import shutil

    from .eval.run import run_eval
    from .recipe import find_recipe, load_recipe
    from .store import install_run, store_dir
    from .train.stages import train

    recipe = load_recipe(find_recipe(args.entry), QUICK_OVERRIDES if args.quick else [])
    if args.quick:  # a short run never replaces the real entry in the store
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}-quick")
    run_dir = Path(args.run_dir) / recipe.name
    store = store_dir() / recipe.name
    if _trained_with(store, recipe) and not args.retrain:
        print(f"== 1/3 {recipe.name} is already trained with this recipe in {store} (--retrain to train again)")
    else:
        what = "short run: " + " ".join(QUICK_OVERRIDES) if args.quick else f"the full recipe {recipe.source}"
        print(f"== 1/3 train {recipe.name} ({what})")
        if run_dir.exists():
            shutil.rmtree(run_dir)
        result = train(recipe, run_dir, progress=not args.quiet)
        store = install_run(run_dir, recipe.name)
        print(f"trained in {result.seconds / 60:.1f} min, final loss {result.train_loss:.3f}; installed at {store}")

    print(f"== 2/3 evaluate on {args.n} held-out test items (base zero-shot vs adapter, same items)")
    run_eval(recipe.name, split="test", n=args.n, few_shot=0, max_new_tokens=recipe.eval.max_new_tokens,
             batch_size=recipe.eval.batch_size, progress=not args.quiet, out_dir=run_dir / "eval")

    print(f"== 3/3 load {recipe.name} as a reasoner and solve a new problem")
    from .reasoner import load

    reasoner = load(recipe.name, merge=True)
    example = reasoner.domain.examples("test", 1, seed=12345)[0]
    solution = reasoner.solve(example.question, max_new_tokens=recipe.eval.max_new_tokens)
    check = reasoner.check(solution.answer, example)
    print(f">>> from srmzoo import load; m = load({recipe.name!r}); s = m.solve(...)\n"
          f"Q: {example.question}\n{solution.completion.strip()}\n"
          f"answer {solution.answer!r}, gold {example.answer!r}: m.check -> {check.verdict.value}")
    if reasoner.disclaimer:
        print(f"NOTE: {reasoner.disclaimer}")
    return 0


@command
def cmd_list(args: argparse.Namespace) -> int:
    from .registry import entries

    every = list(entries().values())
    shown = [e for e in every if args.all or not e.ablation]
    header = ["entry", "domain", "base", "size", "status", "headline", "hub repo"]
    rows = [[e.name, e.domain, e.base, e.size_label, e.status(), e.headline(), e.hub_repo or "-"] for e in shown]
    if args.all:
        header.insert(1, "kind")
        for row, e in zip(rows, shown):
            row.insert(1, "ablation" if e.ablation else "headline")
    print(_table(rows, header))
    if not args.all:
        print(f"\n{len(shown)} headline entries; `srmzoo list --all` adds the {len(every) - len(shown)} ablations "
              "(recipes/<domain>/ablations/, docs/ablations.md).")
    return 0


@command
def cmd_verifiers(args: argparse.Namespace) -> int:
    from .verifiers import get_verifier, verifier_names

    rows = []
    for name in verifier_names():
        v = get_verifier(name)
        options = ", ".join(f"{k}={d!r}" for k, d in v.options.items()) or "-"
        rows.append([name, options, v.description])
    print(_table(rows, ["verifier", "options (defaults)", "what it checks"]))
    return 0


@command
def cmd_rewards(args: argparse.Namespace) -> int:
    from . import user_data  # noqa: F401  (registers dataset_correct)
    from .domain import get_reward, reward_names

    rows = [[name, ((get_reward(name).__doc__ or "").strip().splitlines() or [""])[0]] for name in reward_names()]
    print(_table(rows, ["reward", "what it scores"]))
    return 0


@command
def cmd_solve(args: argparse.Namespace) -> int:
    from .reasoner import load

    reasoner = load(args.entry, revision=args.revision, device=args.device, base_path=args.base_path,
                    allow_base_mismatch=args.allow_base_mismatch, merge=True, backend=args.backend)
    if reasoner.disclaimer:
        print(f"NOTE: {reasoner.disclaimer}\n")
    solution = reasoner.solve(args.problem, samples=args.samples, temperature=args.temperature,
                              max_new_tokens=args.max_new_tokens, tools=not args.no_tools, select=not args.no_select,
                              budget=args.budget)
    print(solution.completion.strip())
    print(f"\nanswer: {solution.answer}")
    if args.gold is not None:
        check = reasoner.check(solution.answer, args.gold)
        print(f"check against {args.gold!r}: {check.verdict.value}")
    if reasoner.disclaimer:
        print(f"\nNOTE: {reasoner.disclaimer}")
    return 0


@command
def cmd_card(args: argparse.Namespace) -> int:
    from .publish.cards import card_dir, refresh_headline, write_card

    if args.headline_only:
        path = refresh_headline(args.out_dir or card_dir(args.entry))
        print(f"rewrote the headline of {path}")
        return 0
    path = write_card(args.entry, out_dir=args.out_dir, repo=args.repo)
    print(f"wrote {path} (and the artifacts it renders, beside it)")
    return 0


@command
def cmd_export(args: argparse.Namespace) -> int:
    from .publish.export import export_gguf, export_merged

    if args.format == "gguf":
        path = export_gguf(
            args.entry, args.out, quantization=args.quantization or "f16", device=args.device, base_path=args.base_path
        )
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB; srmzoo_prompt.json beside it)")
        return 0
    if args.quantization is not None:
        raise SrmzooError("--quantization applies to GGUF only", hint="add --format gguf")
    out = export_merged(args.entry, args.out, device=args.device, base_path=args.base_path)
    print(f"wrote a standalone transformers model to {out}")
    return 0


@command
def cmd_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce

    report = reproduce(args.entry, train=args.train, splits=args.split, run_dir=args.run_dir)
    print(report.table())
    if report.outside:
        print(f"\n{len(report.outside)} figure(s) fell outside the committed 95% interval.")
        return 1
    print("\nevery figure is within the committed 95% intervals.")
    return 0


def _add_bases(sub: argparse._SubParsersAction) -> None:
    from .bases import add_bases_command

    add_bases_command(sub)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    from .serve.command import add_serve_command

    add_serve_command(sub)


def _add_chat(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="answer one prompt with a base model", description="Answer one prompt greedily.")
    p.add_argument("base", help="base name, alias or Hub id (see `srmzoo bases`)")
    p.add_argument("prompt", help="the user message")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--dtype", default="auto", help="auto (fp32 on CPU, bf16 on GPU), float32, bfloat16")
    p.add_argument("--quantize", choices=["nf4", "int8"], help="load the base quantized with bitsandbytes")
    p.add_argument("--path", help="explicit local source: a transformers directory or a .gguf file")


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a zoo entry from its recipe",
        description="Train a zoo entry: the recipe's stages in order — LoRA/QLoRA SFT, then rejection-sampling "
        "fine-tuning (stages: [sft, rft]) — with checkpoints, metrics and loss curves; --resume skips finished "
        "stages. SFT runs under `torchrun --nproc_per_node N -m srmzoo.cli train ...` or `accelerate launch` for DDP.",
    )
    p.add_argument("recipe", help="recipe file (recipes/<domain>/<entry>.yaml) or entry name, e.g. math-135m")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. train.lr=1e-4")
    p.add_argument("--run-dir", help="run directory (default: runs/<entry>)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run: finished stages are skipped, the rest continue from their newest "
                   "checkpoint (and RFT from its saved samples)")
    p.add_argument("--max-steps", type=int, help="stop after N optimizer steps")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the recipe, resolve base and data, print trainable parameters, memory and time")
    p.add_argument("--no-install", action="store_true", help="do not copy the adapter into the local zoo store")


def _add_distill(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "distill",
        help="sample a teacher's solutions to training questions and keep the verified ones (SFT data)",
        description="Ask the recipe's distill.teacher (a registered base or a zoo entry; llama.cpp on its GGUF when "
        "llama-cpp-python is installed, else torch) distill.samples times per training question, keep the "
        "completions the domain's verifier accepts (deduplicated, the shortest first) and write them as a "
        "`datasets` dataset with a manifest (teacher sha256, sampling settings, acceptance per family, tokens/s). "
        "Kill-safe: --resume continues after the last finished question and yields the same dataset. "
        "`srmzoo train` trains on the traces when the recipe sets distill.use.",
    )
    p.add_argument("recipe", help="recipe file (recipes/<domain>/<entry>.yaml) or entry name, e.g. math-135m")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="dotted overrides, e.g. distill.teacher=qwen2.5-coder-1.5b-instruct distill.samples=8")
    p.add_argument("--out", help="the traces' directory (default: distill.out, else runs/distill/<entry>); "
                   "`srmzoo train` reads distill.out")
    p.add_argument("--resume", action="store_true", help="continue an interrupted distillation in that directory")


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate an adapter against its base (zero/few-shot) on the same held-out items",
        description="Evaluate a trained adapter, its base zero-shot and few-shot, and comparison bases on the same "
        "held-out items with the domain's verifier; accuracy with 95% Wilson intervals, per-family tables, "
        "pass@k and majority vote with --samples. Defaults come from the entry's recipe (eval section).",
    )
    p.add_argument("target", help="adapter dir, run dir, or entry name in the local zoo store (e.g. math-135m)")
    p.add_argument("--split", action="append", metavar="SPLIT",
                   help="test, ood or train; natural (held-out question families, phrased as people ask); or "
                   "external:NAME, a set nobody here generated (math: external:gsm-symbolic; healthcare: "
                   "external:medcalc; coding: external:humaneval, external:mbpp); "
                   "repeatable; default: the recipe's eval.splits")
    p.add_argument("--n", type=int, help="items per split")
    p.add_argument("--few-shot", type=int, help="worked examples in the base's few-shot prompt")
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--compare", nargs="*", metavar="BASE",
                   help="other bases, evaluated few-shot on the same items (default: the recipe's; "
                   "a bare --compare evaluates none)")
    p.add_argument("--compare-adapter", nargs="*", metavar="ADAPTER", dest="compare_adapters",
                   help="other adapters (entries or directories) of the same domain, each with its own prompt, on "
                   "the same items, e.g. the SFT entry an RFT entry started from (default: the recipe's)")
    p.add_argument("--samples", type=int, default=1, help="completions per item (k > 1: pass@k, majority vote)")
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature when --samples > 1")
    p.add_argument("--budgets", type=_token_budgets, metavar="B1,B2,...",
                   help="reasoning budgets in tokens (greedy): accuracy when the reasoning is cut at each budget "
                   "and the answer forced (budget forcing), vs cut alone; writes results_<split>_budget.json and "
                   "budget_<split>.png")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", help="where results_<split>.json goes (default: the adapter's eval/ folder)")
    p.add_argument("--no-base", action="store_true", help="evaluate only the adapter")
    p.add_argument("--no-tool-ablation", action="store_true",
                   help="an adapter with tools is evaluated with them only, not again without (the "
                   "'adapter, no tools' row)")
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--base-path", help="explicit local source of the base")
    p.add_argument("--allow-base-mismatch", action="store_true",
                   help="experts: load an adapter on a base whose identity differs from the recorded one")


def _add_forgetting(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forgetting",
        help="how far an adapter drifted from its base on general prompts (catastrophic forgetting)",
        description="Score an adapter, and other adapters of the same base, on held-out general prompts (everyday "
        "requests on topics no replay slice uses) answered by the base itself: the mean negative log-likelihood "
        "per token of the base's own replies. An adapter's drift is its increase over the base with the same "
        "prompt, with a 95% paired bootstrap interval; 0 means no forgetting. Writes forgetting.json.",
    )
    p.add_argument("target", help="adapter dir, run dir, or entry name in the local zoo store")
    p.add_argument("--compare-adapter", nargs="*", metavar="ADAPTER", dest="compare_adapters",
                   help="other adapters of the same base, scored on the same replies (e.g. the recipe without "
                   "data.general_size)")
    p.add_argument("--n", type=int, default=100, help="held-out general prompts (10 to 288; default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--out-dir", help="where forgetting.json goes (default: the adapter's eval/ folder)")


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="write or check data manifests (what an entry trains and is evaluated on)",
        description="Data manifests record exactly the data a zoo entry trains and is evaluated on: per split "
        "the request, size, per-family counts and the sha256 of its canonical JSON Lines, the generator and its "
        "version, the license, how the splits are disjoint and the measured train/eval overlap.",
    )
    data = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = data.add_parser("manifest", help="build an entry's manifest and write <out-dir>/<entry>.json",
                        description="Generate the entry's train split and eval splits as its recipe asks, and "
                        "write their manifest to <out-dir>/<entry>.json.")
    q.add_argument("recipe", help="recipe file (recipes/<domain>/<entry>.yaml) or entry name, e.g. math-135m")
    q.add_argument("--out-dir", help="where the manifest goes (default: the data_manifests/ directory)")
    q = data.add_parser("check", help="regenerate each manifest's data and compare (exit 1 on a difference)",
                        description="Regenerate every split a manifest records and compare sizes, family counts "
                        "and sha256 (and whether the entry's recipe still asks for that data). Exit status 1 "
                        "when anything differs.")
    q.add_argument("manifests", nargs="*", metavar="MANIFEST",
                   help="manifest files (default: every *.json in the data_manifests/ directory)")


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the README's main job: train, evaluate, load and use a zoo entry",
                       description="Train a zoo entry with its full recipe on the embedded SmolLM2-135M base (skipped "
                       "when the local store already holds it trained with that recipe), evaluate it against its base "
                       "on held-out items, then load it with srmzoo.load and solve and check a new problem.")
    p.add_argument("--entry", default="math-135m", help="zoo entry to demonstrate (default: math-135m)")
    p.add_argument("--retrain", action="store_true", help="train even if the store holds the entry already")
    p.add_argument("--quick", action="store_true",
                   help="a short training run (256 examples), installed as <entry>-quick, never replacing the entry")
    p.add_argument("--n", type=int, default=30, help="held-out items to evaluate (default 30)")
    p.add_argument("--run-dir", default="runs/demo", help="parent of the demo's run directory")


def _add_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="the zoo's entries: domain, base, size, status and headline result",
                       description="The zoo's headline entries (one per domain and base; --all adds the "
                       "ablations): each one's domain and base, whether it is trained in the local store, "
                       "published, or a recipe only, and its committed test accuracy.")
    p.add_argument("--all", action="store_true",
                   help="also the ablation entries (recipes/<domain>/ablations/), marked in a 'kind' column")


def _add_rewards(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("rewards", help="the reward functions a recipe's grpo.rewards can name",
                   description="Every registered reward function (the domains' verifiers as RL rewards), by name.")


def _add_verifiers(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("verifiers", help="the verifiers a recipe on your own data can name (data.dataset.verifier)",
                   description="Every registered verifier (the core's and the domains'), its options and what it "
                   "checks; a recipe on the user's own data picks one by name (docs/bring-your-own.md).")


def _add_solve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solve", help="load a zoo entry and solve one problem (reasoning, answer, check)",
                       description="Load an entry (local store, path, or Hub) as a reasoner and solve one problem "
                       "greedily; with --gold, check the answer with the domain's verifier.")
    p.add_argument("entry", help="entry name (see `srmzoo list`), adapter dir, or ORG/NAME Hub repo")
    p.add_argument("problem", help="the problem, as the user message")
    p.add_argument("--gold", help="the true answer, to check the model's answer against")
    p.add_argument("--samples", type=int, default=1,
                   help="sample k completions and take the majority answer (among those the domain's own check "
                   "ranks highest, where it has one: code against the example calls the problem shows)")
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature when --samples > 1")
    p.add_argument("--no-select", action="store_true", help="with --samples: a plain majority vote, no best-of-N")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--backend", choices=["torch", "llama.cpp"], default="torch",
                   help="llama.cpp: generate with llama-cpp-python on the entry's GGUF export (made once, cached); "
                   "several times faster at batch 1 on a CPU")
    p.add_argument("--budget", type=int, metavar="TOKENS",
                   help="reason for at most this many tokens, then state the answer (budget forcing)")
    p.add_argument("--no-tools", action="store_true",
                   help="entries trained with tools: leave their calls unanswered (the model computes itself)")
    p.add_argument("--revision", help="Hub branch, tag or commit (default: the entry's pinned commit)")
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--base-path", help="explicit local source of the base")
    p.add_argument("--allow-base-mismatch", action="store_true",
                   help="experts: load an adapter on a base whose identity differs from the recorded one")


def _add_card(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("card", help="render an entry's model card into model_cards/<entry>/",
                       description="Copy a trained entry's eval results (only those of this very adapter), training "
                       "summary, loss curve and recipe into model_cards/<entry>/ and render README.md from them "
                       "with the one card template.")
    p.add_argument("entry", help="entry name in the local zoo store, adapter dir, or run dir")
    p.add_argument("--out-dir", help="where the card goes (default: model_cards/<entry>)")
    p.add_argument("--repo", metavar="ORG/NAME", help="Hub repo named in the usage snippets (default: the recipe's publish.repo)")
    p.add_argument("--headline-only", action="store_true",
                   help="rewrite only the headline (entry vs base per split) of the committed card model_cards/ENTRY "
                   "from the results files beside it; needs no adapter")


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write an entry as a standalone model (LoRA merged): transformers or GGUF",
                       description="Merge the LoRA weights into the base and save a standalone model: a transformers "
                       "model (safetensors + tokenizer + srmzoo_prompt.json) that loads with AutoModelForCausalLM "
                       "alone, or with --format gguf one GGUF file (weights + tokenizer + chat template) for "
                       "llama.cpp-style runtimes. GGUF covers Llama-family bases (SmolLM2).")
    p.add_argument("entry", help="entry name in the local zoo store, adapter dir, or run dir")
    p.add_argument("--format", choices=["safetensors", "gguf"], default="safetensors",
                   help="safetensors: a transformers model directory (default); gguf: one .gguf file")
    p.add_argument("--quantization", choices=GGUF_QUANTIZATIONS,
                   help="GGUF weight type (default f16; q8_0 is about half the size; f32 is exact)")
    p.add_argument("--merged", action="store_true", help="merge the adapter into the base (what every format does)")
    p.add_argument("--out", required=True, help="output directory (must not exist or be empty)")
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--base-path", help="explicit local source of the base")


def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="re-run an entry's committed eval and compare (exit 1 if outside the CIs)",
                       description="Re-run the evaluation a model card reports (model_cards/<entry>/results_<split>"
                       ".json, same items and settings) on the entry's adapter, or with --train on a freshly trained "
                       "one, and print expected vs got with 95% intervals. Exit 1 when a figure falls outside.")
    p.add_argument("entry", help="zoo entry name, e.g. math-135m")
    p.add_argument("--train", action="store_true", help="train the recipe first (into --run-dir) and evaluate that")
    p.add_argument("--split", action="append", metavar="SPLIT",
                   help="split(s) to re-run, e.g. test, natural, external:humaneval (default: every committed one)")
    p.add_argument("--run-dir", default="runs/reproduce", help="parent of the run directory used with --train")


def _add_publish(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="upload a trained adapter to a Hugging Face Hub repo",
        description="Upload an adapter as one commit: PEFT weights and config, tokenizer, prompt format and srmzoo "
        "metadata, the run's recipe, metrics, loss curve and eval results, the data manifest, a model card and "
        "srmzoo_files.json (sha256 and size of every file, checked by `srmzoo pull`). The token comes from "
        "HF_TOKEN or `hf auth login`. Records the published repo, branch and commit in the adapter's "
        "published.json.",
    )
    p.add_argument("target", help="entry name in the local zoo store (e.g. math-135m), adapter dir or run dir")
    p.add_argument("--repo", required=True, metavar="ORG/NAME", help="Hub model repo, created when missing")
    p.add_argument("--private", action="store_true", help="create the repo private (refused if it exists public)")
    p.add_argument("--revision", metavar="BRANCH", help="branch to commit to, created when missing (default: main)")
    p.add_argument("--endpoint", metavar="URL", help="Hub URL (default: $HF_ENDPOINT or https://huggingface.co)")
    p.add_argument("--record", action="store_true",
                   help="pin the commit in the zoo registry (model_cards/<entry>/hub.json), so `load(entry)` "
                   "downloads exactly it; commit that file")


def _add_pull(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pull",
        help="download a published adapter, verified, and print its local directory",
        description="Download an adapter repo at a branch, tag or commit into the Hugging Face cache, check every "
        "file against its srmzoo_files.json (sha256 and size) and print the local directory. A corrupted or "
        "tampered download is refused and removed from the cache. Private repos need HF_TOKEN or `hf auth login`.",
    )
    p.add_argument("repo", metavar="ORG/NAME", help="Hub model repo")
    p.add_argument("--revision", metavar="REV", help="branch, tag or commit sha (default: main)")
    p.add_argument("--endpoint", metavar="URL", help="Hub URL (default: $HF_ENDPOINT or https://huggingface.co)")
    p.add_argument("--cache-dir", help="Hugging Face cache to download into (default: $HF_HUB_CACHE)")


# One function per subcommand, in the order `srmzoo --help` lists them.
_SUBCOMMAND_PARSERS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_bases, _add_chat, _add_train, _add_distill, _add_eval, _add_forgetting, _add_data, _add_demo, _add_list, _add_rewards,
    _add_verifiers, _add_solve, _add_card, _add_export, _add_reproduce, _add_publish, _add_pull, _add_serve,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``srmzoo`` argument parser: the global flags, then each subcommand's own parser.

    >>> build_parser().parse_args(["list", "--all"]).all
    True
    """
    parser = argparse.ArgumentParser(
        prog="srmzoo",
        description="A zoo of domain-specialised small reasoning models (LoRA/QLoRA fine-tunes with verifiers).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _SUBCOMMAND_PARSERS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not args.verbose:
        # transformers' own INFO chatter (and its GGUF progress bars) would bury ours
        logging.getLogger("transformers").setLevel(logging.WARNING)
        # bitsandbytes (imported by peft) warns on every CPU start that an optional kernels package is
        # missing, and transformers that peft calls a deprecated method: neither is the user's to act on
        logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        return COMMANDS[args.command.replace("-", "_")](args)
    except SrmzooError as err:
        print(f"srmzoo: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("srmzoo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
