"""The ``srmzoo`` command line: thin wrappers over the library, one subcommand each."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence

from .errors import SrmzooError

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
    from .bases import BASES, source_status

    rows = [
        [s.name, s.size_label, s.architecture, s.license, "GPU" if s.gpu_scale else "CPU ok", source_status(s), s.hub_id]
        for s in BASES.values()
    ]
    print(_table(rows, ["base", "params", "arch", "license", "train on", "source", "hub id"]))
    return 0


@command
def cmd_chat(args: argparse.Namespace) -> int:
    from .bases import load_base
    from .generation import GenerationStats, chat

    started = time.perf_counter()
    base = load_base(args.base, dtype=args.dtype, quantize=args.quantize, path=args.path)
    log.info("loaded %s from %s in %.1fs", base.resolved.spec.name, base.resolved.source, time.perf_counter() - started)
    stats = GenerationStats()
    answer = chat(base.model, base.tokenizer, args.prompt, max_new_tokens=args.max_new_tokens, stats=stats)
    print(answer)
    log.info("%d new tokens at %.1f tokens/s", stats.new_tokens, stats.tokens_per_second)
    return 0


@command
def cmd_demo(args: argparse.Namespace) -> int:
    """The README's main job: what the zoo can do on this machine, end to end."""
    from .bases import load_base
    from .generation import GenerationStats, chat

    started = time.perf_counter()
    base = load_base(args.base)
    print(f"base {base.resolved.spec.name} ({base.resolved.source}, sha256 {base.identity.get('sha256', '?')[:12]}) "
          f"loaded in {time.perf_counter() - started:.1f}s")
    stats = GenerationStats()
    question = "A train travels 60 km in 1.5 hours. What is its average speed in km/h?"
    print(f"Q: {question}\nA: {chat(base.model, base.tokenizer, question, max_new_tokens=96, stats=stats)}")
    print(f"({stats.new_tokens} tokens at {stats.tokens_per_second:.1f} tokens/s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srmzoo",
        description="A zoo of domain-specialised small reasoning models (LoRA/QLoRA fine-tunes with verifiers).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("bases", help="list the base models and where their weights would come from")

    p = sub.add_parser("chat", help="answer one prompt with a base model", description="Answer one prompt greedily.")
    p.add_argument("base", help="base name, alias or Hub id (see `srmzoo bases`)")
    p.add_argument("prompt", help="the user message")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--dtype", default="auto", help="auto (fp32 on CPU, bf16 on GPU), float32, bfloat16")
    p.add_argument("--quantize", choices=["nf4", "int8"], help="load the base quantized with bitsandbytes")
    p.add_argument("--path", help="explicit local source: a transformers directory or a .gguf file")

    p = sub.add_parser("demo", help="the README's main job: load, train, evaluate and use a zoo entry")
    p.add_argument("--base", default="smollm2-135m-instruct")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not args.verbose:
        # transformers' own INFO chatter (and its GGUF progress bars) would bury ours
        logging.getLogger("transformers").setLevel(logging.WARNING)
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
