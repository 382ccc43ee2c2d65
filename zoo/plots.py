"""The figures srmzoo draws (loss and reward curves, scaling and budget plots), headless and closed after use.

Importing this module does not import matplotlib; :func:`figure` does, with the Agg backend, so plotting
works on a machine without a display and never leaves a figure open across a long run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["figure"]


@contextlib.contextmanager
def figure(path: Path, *, figsize: tuple[float, float], dpi: int = 120, ncols: int = 1) -> Iterator[tuple[Any, Any]]:
    """A matplotlib figure and its axes (one, or a list of ``ncols``), written to ``path`` when the block
    ends without an error, and closed either way.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "line.png"
    >>> with figure(out, figsize=(2, 2)) as (fig, ax):
    ...     _ = ax.plot([0, 1], [1, 0])
    >>> out.stat().st_size > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=figsize, dpi=dpi, squeeze=False)
    try:
        yield fig, (list(axes[0]) if ncols > 1 else axes[0][0])
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
