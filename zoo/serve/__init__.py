"""``srmzoo serve``: zoo entries behind an OpenAI-compatible HTTP API, with streaming, server-side tool
calls, the domain verifier and a web page.

Three parts, each knowing only the one below it: :mod:`.protocol` (the request and response shapes),
:mod:`.engine` (a scheduler that batches concurrent requests onto a reasoner's backend, knowing nothing of
HTTP) and :mod:`.app` (the FastAPI routes: validate, queue, stream). :mod:`.command` is the command line.
Nothing outside this package imports it except the ``srmzoo`` command line.

    srmzoo serve math-135m                      # or: python -m srmzoo.serve math-135m
    curl -s localhost:8000/v1/chat/completions -H 'Content-Type: application/json' \\
        -d '{"model": "math-135m", "messages": [{"role": "user", "content": "What is 15% of 80?"}]}'

This module imports neither FastAPI nor torch (the command line builds its parser from it).
"""

from __future__ import annotations

from .command import add_serve_arguments, add_serve_command, base_reasoner, load_reasoners, serve_command

__all__ = ["add_serve_arguments", "add_serve_command", "base_reasoner", "load_reasoners", "serve_command"]
