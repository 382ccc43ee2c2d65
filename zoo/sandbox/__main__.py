"""``python -m srmzoo.sandbox``: print this machine's sandbox capabilities as JSON (exit 1 without full
isolation)."""

import logging
import sys

from . import main

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
sys.exit(main())
