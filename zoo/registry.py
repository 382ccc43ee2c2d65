"""The zoo's entries, as data: every shipped recipe, where its adapter is published, and what it scored.

An entry is a recipe file plus what its runs left in the repo. A headline entry's recipe is
``recipes/<domain>/<entry>.yaml`` (one per domain and base); an ablation's, a variant that measures what one
ingredient of a headline entry is worth, is ``recipes/<domain>/ablations/<entry>.yaml``. Both load, train and
evaluate alike; only ``srmzoo list`` tells them apart (ablations with ``--all``). An entry's runs leave:

* ``model_cards/<entry>/hub.json``: the published coordinates (Hub repo and the pinned commit), written
  by ``srmzoo publish --record``;
* ``model_cards/<entry>/results_<split>.json``: the measured evaluation that the model card renders.

``srmzoo list`` prints the table; :func:`srmzoo.load` resolves an entry name, ablation or not, through
:func:`entries`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import is_adapter_dir
from .domain import split_slug
from .errors import SrmzooError, UnknownNameError
from .recipe import Recipe, load_recipe, recipe_paths

__all__ = ["ABLATIONS_DIR", "ZooEntry", "card_dir", "entries", "get_entry", "record_published"]

HUB_FILE = "hub.json"
ABLATIONS_DIR = "ablations"  # recipes/<domain>/ablations/<entry>.yaml


def card_dir(entry: str) -> Path:
    """``model_cards/<entry>`` in the installed package (the repo's folder in an editable install)."""
    import srmzoo.model_cards

    return Path(srmzoo.model_cards.__file__).parent / entry


@dataclass(frozen=True)
class ZooEntry:
    """One zoo entry.

    Attributes:
        name: the entry name (the recipe's ``name``), e.g. ``math-135m``.
        recipe: the parsed recipe.
        hub_repo: the Hub repo it is (or is to be) published to.
        hub_revision: the commit it was published at (None until ``srmzoo publish --record``).
    """

    name: str
    recipe: Recipe
    hub_repo: str | None
    hub_revision: str | None

    @property
    def domain(self) -> str:
        return self.recipe.domain

    @property
    def base(self) -> str:
        return self.recipe.model.base

    @property
    def gpu_scale(self) -> bool:
        from .bases import get_base_spec

        return get_base_spec(self.base).gpu_scale

    @property
    def size_label(self) -> str:
        from .bases import get_base_spec

        return get_base_spec(self.base).size_label

    @property
    def published(self) -> bool:
        return self.hub_revision is not None

    @property
    def ablation(self) -> bool:
        """Whether the recipe sits in ``recipes/<domain>/ablations/`` (not a headline entry).

        >>> get_entry("math-135m").ablation, get_entry("math-135m-plain").ablation
        (False, True)
        """
        return self.recipe.source is not None and Path(self.recipe.source).parent.name == ABLATIONS_DIR

    def local_adapter(self) -> Path | None:
        """The adapter in the local zoo store, if trained here."""
        from .store import store_dir

        path = store_dir() / self.name
        return path if is_adapter_dir(path) else None

    def committed_splits(self) -> list[str]:
        """The greedy splits with committed results (``test``, ``ood``, ``natural``, ``external:NAME``, ...)."""
        splits = []
        for path in sorted(card_dir(self.name).glob("results_*.json")):
            try:
                settings = json.loads(path.read_text()).get("settings", {})
            except json.JSONDecodeError:
                continue  # results() names the broken file when it is asked for
            if settings.get("split") and settings.get("samples", 1) == 1 and not settings.get("budgets"):
                splits.append(settings["split"])
        return splits

    def results(self, split: str = "test") -> dict[str, Any] | None:
        """The committed evaluation of ``split`` (``model_cards/<entry>/results_<split>.json``), if any."""
        path = card_dir(self.name) / f"results_{split_slug(split)}.json"
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise SrmzooError(f"{path} is not valid JSON: {err}", hint="regenerate it with srmzoo eval") from None

    def headline(self) -> str:
        """The adapter's measured accuracy on the held-out test split, e.g. ``"72.3% test (n=300)"``."""
        results = self.results("test")
        if not results:
            return "-"
        for report in results.get("reports", []):
            if report.get("prompting") == "adapter":
                return f"{100 * report['accuracy']:.1f}% test (n={report['n']})"
        return "-"

    def status(self) -> str:
        """``published``, ``trained locally`` or ``recipe only``."""
        if self.published:
            return "published"
        return "trained locally" if self.local_adapter() else "recipe only"

    def how_to_obtain(self) -> str:
        """What a user runs to get this entry's adapter."""
        train = f"srmzoo train {self.recipe.source or self.name}"
        if self.gpu_scale:
            return (
                f"{self.name} is trained on a GPU (QLoRA on {self.base}, whose weights come from the Hub): "
                f"on a CUDA machine with Hub access, run `{train}`"
            )
        return f"train it here with `{train}` (then `srmzoo publish {self.name} --repo ORG/NAME` to share it)"


def _hub_record(name: str) -> dict[str, Any]:
    path = card_dir(name) / HUB_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SrmzooError(f"{path} is not valid JSON: {err}", hint="re-run srmzoo publish --record") from None
    if not isinstance(record, dict) or not isinstance(record.get("repo"), str):
        raise SrmzooError(f"{path} has no 'repo' string", hint="re-run srmzoo publish --record")
    return record


def entries(include_ablations: bool = True) -> dict[str, ZooEntry]:
    """The zoo's entries by name: per domain folder its headline entries, then its ablations, by name.

    Args:
        include_ablations: also the entries of ``recipes/<domain>/ablations/`` (the default, so that every
            entry resolves by name); ``False`` gives the headline entries alone, as ``srmzoo list`` shows.

    Raises:
        SrmzooError: two recipe files define the same entry name.

    >>> [name for name in entries(include_ablations=False) if name.startswith("math")]
    ['math-135m', 'math-7b']
    >>> [name for name in entries() if name.startswith("math")][:3]
    ['math-135m', 'math-7b', 'math-135m-distill']
    """
    found: dict[str, ZooEntry] = {}
    for path in recipe_paths():
        recipe = load_recipe(path)
        if recipe.name in found:
            raise SrmzooError(
                f"zoo entry {recipe.name!r} is defined twice: {found[recipe.name].recipe.source} and {path}",
                hint="an entry name is one recipe file: delete or rename one of them",
            )
        record = _hub_record(recipe.name)
        found[recipe.name] = ZooEntry(
            name=recipe.name,
            recipe=recipe,
            hub_repo=record.get("repo") or recipe.publish.repo,
            hub_revision=record.get("revision"),
        )

    def order(name: str) -> tuple[str, bool, str]:
        entry = found[name]
        folder = Path(entry.recipe.source or "").parent
        return (str(folder.parent if entry.ablation else folder), entry.ablation, name)

    return {name: found[name] for name in sorted(found, key=order) if include_ablations or not found[name].ablation}


def get_entry(name: str) -> ZooEntry:
    """The named entry.

    >>> get_entry("math-135m").domain
    'math'
    >>> get_entry("math-13m")
    Traceback (most recent call last):
    ...
    srmzoo.errors.UnknownNameError: unknown zoo entry 'math-13m'; did you mean: math-135m, math-135m-rft, math-135m-grpo?
      hint: see `srmzoo list --all` for every entry
    """
    known = entries()
    if name not in known:
        raise UnknownNameError("zoo entry", name, known, hint="see `srmzoo list --all` for every entry")
    return known[name]


def record_published(target: str | Path, result: Any) -> Path:
    """Pin a publish (a :class:`srmzoo.publish.hub.PublishResult`) as the entry's Hub coordinates in
    ``model_cards/<entry>/hub.json``; returns that path."""
    import datetime as dt

    from .artifacts import read_adapter_meta
    from .store import find_adapter

    adapter_dir = find_adapter(target)
    meta = read_adapter_meta(adapter_dir)
    entry = meta.get("entry") or adapter_dir.name
    record = {
        "repo": result.repo,
        "branch": result.revision,
        "revision": result.commit,
        "url": result.url,
        "base": {k: meta["base"].get(k) for k in ("name", "hub_id", "sha256")},
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = card_dir(entry) / HUB_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
