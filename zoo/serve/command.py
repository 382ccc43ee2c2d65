"""``srmzoo serve``: its command-line flags, the reasoners it loads, and the server it runs.

:func:`add_serve_command` registers the subcommand on the ``srmzoo`` parser (``srmzoo.cli``), and
``python -m srmzoo.serve`` runs the same command on its own. This module imports neither FastAPI nor
torch until the command runs, so building the parser stays cheap.

>>> import argparse
>>> sub = argparse.ArgumentParser(prog="srmzoo").add_subparsers(dest="command")
>>> args = add_serve_command(sub).parse_args(["math-135m", "--port", "9000"])
>>> args.entry, args.host, args.port, args.backend
(['math-135m'], '127.0.0.1', 9000, 'auto')
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from collections.abc import Sequence
from typing import Any

from ..errors import SrmzooError

__all__ = ["add_serve_arguments", "add_serve_command", "base_reasoner", "load_reasoners", "serve_command"]

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install -e ".[serve]" (FastAPI and uvicorn)'


def add_serve_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``srmzoo serve`` on ``p``."""
    p.add_argument("entry", nargs="*", help="zoo entries to serve (`srmzoo list`), adapter dirs or ORG/NAME Hub repos; "
                   "each is a model id of the API")
    p.add_argument("--base", action="append", default=[], metavar="BASE:DOMAIN",
                   help="also serve a base model without adapter, prompted with DOMAIN's system prompt and checked by "
                   "its verifier, e.g. smollm2-135m-instruct:math (its model id is the base's name)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; another address needs --api-key)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (default 8000; 0: any free port)")
    p.add_argument("--api-key", default=os.environ.get("SRMZOO_API_KEY"),
                   help="require 'Authorization: Bearer KEY' on /v1 routes (default: $SRMZOO_API_KEY, else none)")
    p.add_argument("--backend", choices=["auto", "torch", "llama.cpp"], default="auto",
                   help="auto (default): llama.cpp on the entry's GGUF export when llama-cpp-python is installed and "
                   "the base exports, else torch; torch batches concurrent requests, llama.cpp decodes one at a time")
    p.add_argument("--gguf-quantization", choices=["f16", "q8_0", "f32"], default="f16",
                   help="weights of the llama.cpp backend's export")
    p.add_argument("--device", choices=["cpu", "cuda"], help="torch device (default: cuda when available)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--max-batch", type=int, default=16, help="sequences decoded together at most (default 16)")
    p.add_argument("--batch-window-ms", type=float, default=20.0,
                   help="how long the scheduler waits after a first request for others to batch with (default 20)")
    p.add_argument("--max-queue", type=int, default=64,
                   help="requests waiting at most; past it the server answers 429 (default 64)")
    p.add_argument("--max-tokens", type=int, default=1024, help="the largest max_tokens a request may ask for (default 1024)")
    p.add_argument("--default-max-tokens", type=int, default=256, help="the budget of a request naming none (default 256)")
    p.add_argument("--max-body-kb", type=int, default=256, help="the largest request body in KiB; past it 413 (default 256)")
    p.add_argument("--base-path", help="explicit local source of the entries' base")
    p.add_argument("--allow-base-mismatch", action="store_true",
                   help="experts: load an adapter on a base whose identity differs from the recorded one")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info",
                   help="uvicorn's log level (info logs each request)")
    return p


def add_serve_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``serve`` on an argparse sub-parsers object; the parsed namespace's ``handler`` is
    :func:`serve_command`. Returns the new parser."""
    p = subparsers.add_parser(
        "serve", help="serve zoo entries over an OpenAI-compatible HTTP API, with a web page",
        description="Serve zoo entries over an OpenAI-compatible API (GET /v1/models, POST /v1/chat/completions, "
        "streaming or not), srmzoo's verifier (POST /v1/srmzoo/check) and a web page at /. Tool calls are "
        "answered during decoding and reported apart from the text; concurrent requests are batched.")
    add_serve_arguments(p)
    p.set_defaults(handler=serve_command)
    return p


def base_reasoner(base: str, domain: str, *, device: str | None = None) -> Any:
    """A :class:`~srmzoo.reasoner.Reasoner` on a base model without adapter: the domain's system prompt through
    the base's chat template (the zero-shot row of an evaluation), the domain's extractor and verifier.

    >>> r = base_reasoner("smollm2-135m-instruct", "math")   # doctest: +SKIP
    >>> r.name, r.domain.name, r.prompt_format.tools          # doctest: +SKIP
    ('smollm2-135m-instruct', 'math', ())
    """
    from ..bases import load_base
    from ..domain import get_domain
    from ..prompting import PromptFormat
    from ..reasoner import Reasoner

    plugin = get_domain(domain)
    loaded = load_base(base, device=device)
    spec = loaded.resolved.spec
    return Reasoner(
        name=spec.name, model=loaded.model, tokenizer=loaded.tokenizer,
        prompt_format=PromptFormat.for_tokenizer(loaded.tokenizer, system_prompt=plugin.system_prompt or None),
        domain=plugin, meta={"entry": None, "domain": plugin.name, "base": {"name": spec.name}},
        source={"kind": "base", "location": str(loaded.resolved.path)},
    )


def _load_entry(entry: str, backend: str, **kwargs: Any) -> Any:
    from ..backends.llamacpp import import_llama_cpp
    from ..reasoner import load

    if backend != "auto":
        return load(entry, merge=True, backend=backend, **kwargs)
    try:
        import_llama_cpp()
    except SrmzooError:
        log.info("%s: on torch (llama-cpp-python is not installed; pip install -e \".[llama]\" for llama.cpp)", entry)
        return load(entry, merge=True, backend="torch", **kwargs)
    try:
        return load(entry, merge=True, backend="llama.cpp", **kwargs)
    except SrmzooError as err:
        log.warning("%s: on torch, since the llama.cpp backend cannot load it: %s", entry, err.message)
        return load(entry, merge=True, backend="torch", **kwargs)


def load_reasoners(entries: Sequence[str], *, bases: Sequence[str] = (), backend: str = "auto",
                   device: str | None = None, base_path: str | None = None, allow_base_mismatch: bool = False,
                   gguf_quantization: str = "f16") -> list[Any]:
    """Load what ``srmzoo serve`` serves: each entry (:func:`srmzoo.load`, merged) and each ``BASE:DOMAIN``.

    Raises:
        SrmzooError: nothing to serve, a malformed ``--base``, two models of one name, or a load failure.
    """
    reasoners = []
    for spec in bases:
        base, _, domain = spec.partition(":")
        if not base or not domain:
            raise SrmzooError(f"--base takes BASE:DOMAIN, got {spec!r}", hint="e.g. --base smollm2-135m-instruct:math")
        reasoners.append(base_reasoner(base, domain, device=device))
    kwargs: dict[str, Any] = {"device": device, "base_path": base_path, "allow_base_mismatch": allow_base_mismatch}
    if backend in ("auto", "llama.cpp"):
        kwargs["gguf_quantization"] = gguf_quantization
    reasoners += [_load_entry(entry, backend, **kwargs) for entry in entries]
    if not reasoners:
        raise SrmzooError("nothing to serve", hint="name an entry (srmzoo serve math-135m) or a base "
                          "(srmzoo serve --base smollm2-135m-instruct:math)")
    names = [r.name for r in reasoners]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SrmzooError(f"two models would be served as {', '.join(twice)}", hint="serve each entry once")
    return reasoners


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(args: argparse.Namespace) -> int:
    """Run ``srmzoo serve`` with parsed ``args`` until interrupted; returns the exit status."""
    try:
        import uvicorn

        from .app import create_app
        from .engine import Engine
    except ImportError as err:
        raise SrmzooError(f"srmzoo serve needs FastAPI and uvicorn ({err.name} is not installed)",
                          hint=INSTALL_HINT) from None
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if not _is_loopback(args.host) and not args.api_key:
        log.warning("serving on %s without --api-key: anyone who reaches this address can use the models", args.host)
    reasoners = load_reasoners(args.entry, bases=args.base, backend=args.backend, device=args.device,
                               base_path=args.base_path, allow_base_mismatch=args.allow_base_mismatch,
                               gguf_quantization=args.gguf_quantization)
    for r in reasoners:
        log.info("serving %s (%s, %s)%s", r.name, r.domain.name, "torch" if r.backend is None else "llama.cpp",
                 f": {r.disclaimer}" if r.disclaimer else "")
    engine = Engine(reasoners, max_batch=args.max_batch, batch_window=args.batch_window_ms / 1000,
                    max_queue=args.max_queue, max_tokens=args.max_tokens, default_max_tokens=args.default_max_tokens)
    app = create_app(engine, api_key=args.api_key, max_body_bytes=args.max_body_kb * 1024)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
