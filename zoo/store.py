"""The local zoo store: where trained adapters live on this machine, by entry name.

``srmzoo train`` writes a run directory (``runs/<entry>`` by default) and, when training finishes,
installs its adapter into the store at ``$SRMZOO_CACHE/zoo/<entry>/`` (the adapter in PEFT layout with
its prompt format and base identity, plus the run's recipe, metrics, loss curve and training summary).
Evaluation, ``load`` and ``publish`` find adapters here by name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .artifacts import RUN_FILES, is_adapter_dir
from .bases import atomic_directory, cache_dir
from .errors import SrmzooError

__all__ = ["find_adapter", "install_run", "store_dir"]



def store_dir() -> Path:
    """The local zoo store (``$SRMZOO_CACHE/zoo``)."""
    return cache_dir() / "zoo"


def install_run(run_dir: str | Path, entry: str, adapter: str | Path | None = None) -> Path:
    """Copy a finished run's adapter (default ``run_dir/adapter``; a multi-stage run's last stage writes
    elsewhere) and records into the store, replacing an older copy atomically."""
    run_dir = Path(run_dir)
    adapter = Path(adapter) if adapter is not None else run_dir / "adapter"
    if not is_adapter_dir(adapter):
        raise SrmzooError(f"no finished adapter in {run_dir}", hint="train it first: srmzoo train RECIPE")
    target = store_dir() / entry
    old = target.with_name(f".{entry}.old")
    with atomic_directory(target.with_name(f"{entry}.new")) as tmp:
        shutil.copytree(adapter, tmp, dirs_exist_ok=True)
        for name in RUN_FILES:
            if (run_dir / name).is_file():
                shutil.copy2(run_dir / name, tmp / name)
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    target.with_name(f"{entry}.new").rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def find_adapter(name_or_path: str | Path) -> Path:
    """An adapter directory from an explicit path or an entry name in the local store.

    Raises:
        SrmzooError: when neither exists, saying how to obtain it.
    """
    path = Path(name_or_path).expanduser()
    if is_adapter_dir(path):
        return path
    if is_adapter_dir(path / "adapter"):  # a run directory
        return path / "adapter"
    stored = store_dir() / str(name_or_path)
    if is_adapter_dir(stored):
        return stored
    raise SrmzooError(
        f"no adapter for {str(name_or_path)!r}: not a path with adapter_config.json, nor in the local store {store_dir()}",
        hint=f"train it: srmzoo train {name_or_path} (or pass the adapter directory)",
    )
