"""``python -m srmzoo.serve ENTRY [ENTRY ...] [flags]``: the same command as ``srmzoo serve``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ..errors import SrmzooError
from .command import add_serve_arguments, serve_command


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve; 2 on a user error (printed without a traceback), 130 on Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m srmzoo.serve",
                                     description="Serve zoo entries over an OpenAI-compatible HTTP API.")
    args = add_serve_arguments(parser).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.log_level == "debug" else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("transformers").setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return serve_command(args)
    except SrmzooError as err:
        print(f"srmzoo serve: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
