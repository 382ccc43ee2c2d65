"""Data manifests: exactly what data a zoo entry trains and is evaluated on, and proof that it reproduces.

A manifest (``data_manifests/<entry>.json``) materialises the entry's data as the code draws it:

* ``train``: ``domain.training_examples(data.train_size, seed=data.seed, families=data.families,
  phrasing=data.phrasing)`` (the ``train`` split, restyled for ``phrasing: varied``), the
  call :func:`srmzoo.train.stages.train` makes (before it drops examples longer than ``data.max_length``
  tokens, which needs the tokenizer and is counted in the run's metrics);
* each split in ``eval.splits``: ``domain.examples(split, eval.n, seed=0)``, the items
  :func:`srmzoo.eval.run.run_eval` draws with its default seed.

For each split it records the request, the size, the per-family counts and the SHA-256 of the canonical
JSON Lines text (one ``json.dumps(example.to_dict(), sort_keys=True, ensure_ascii=False)`` per line, in
generation order, each line ending in a newline), so anyone can regenerate the data and compare. It also
records the generator (domain class, ``data_version``, srmzoo version), the license, the domain's own
statement of how its splits are disjoint, and the measured train-vs-eval overlap of the questions
(:func:`srmzoo.contamination.overlap_report`).

``evaluation_sets`` records every evaluation-only set of the domain as ``srmzoo eval --split S`` scores it
(``eval.n`` items, seed 0): the ``natural`` split where the domain has one and each ``external:NAME``
benchmark that loads offline, with its size, per-family counts, the sha256 of its question/answer rows,
its licence and source, and its overlap with everything the entry trains on (SFT examples, RFT and GRPO
problems): n-gram and TF-IDF figures, normalised exact duplicates and verbatim containment
(:func:`srmzoo.contamination.evaluation_sets_block`). Sets that need the network are listed under
``not_checked``; :func:`check_manifest` reloads the rest and compares their sizes and digests.

For an entry on the user's own data (``domain: dataset``, :mod:`srmzoo.user_data`) the manifest also
records, under ``dataset``, each source (file or Hub dataset, revision, split, column mapping), the file's
SHA-256, the rows read and kept, and the verifier; ``srmzoo train`` writes it into the run directory as
``data_manifest.json``, and :func:`check_manifest` re-reads the files and compares.

Only ``created`` varies between two builds of the same data; :func:`check_manifest` ignores it.

Building takes seconds for every shipped domain (the science domain reads RDKit's molecule files once,
a few seconds).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from ..contamination import evaluation_sets, evaluation_sets_block, overlap_report, qa_digest
from ..domain import Domain, Example
from ..errors import SrmzooError
from ..recipe import Recipe, find_recipe, load_recipe, recipe_root
from ..user_data import DatasetDomain, adapter_domain, examples_sha256, recipe_domain

__all__ = [
    "SCHEMA",
    "build_manifest",
    "check_manifest",
    "manifest_dir",
    "manifest_paths",
    "split_digest",
    "write_manifest",
]

SCHEMA = "srmzoo.data-manifest/1"
EVAL_SEED = 0  # run_eval's default item seed, which `srmzoo eval` uses unless --seed is given


def manifest_dir() -> Path:
    """The directory of the manifests that ship with srmzoo (``data_manifests/`` in a checkout).

    >>> manifest_dir().name
    'data_manifests'
    """
    return Path(str(resources.files("srmzoo.data_manifests")))


def manifest_paths(directory: str | Path | None = None) -> list[Path]:
    """Every ``*.json`` manifest in ``directory`` (default: :func:`manifest_dir`), sorted.

    >>> all(p.suffix == ".json" for p in manifest_paths())
    True
    """
    return sorted(Path(directory or manifest_dir()).glob("*.json"))


def split_digest(examples: Sequence[Example]) -> str:
    """SHA-256 of the examples as canonical JSON Lines (sorted keys, UTF-8, one line each, in order).

    >>> split_digest([])
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    >>> from srmzoo.domain import get_domain
    >>> len(split_digest(get_domain("math").examples("test", 2)))
    64
    """
    return examples_sha256(examples)


def _requests(recipe: Recipe) -> dict[str, dict[str, Any]]:
    """The ``examples()`` calls that give the entry's data, by split name."""
    families = list(recipe.data.families) if recipe.data.families is not None else None
    requests = {"train": {"n": recipe.data.train_size, "seed": recipe.data.seed, "families": families}}
    requests["train"].update(_phrasing(recipe))  # template manifests keep the request they always had
    for split in recipe.eval.splits:
        if split == "train":
            raise SrmzooError(
                f"recipe {recipe.name!r} evaluates on its train split",
                hint="eval.splits should be held-out splits: test, ood",
            )
        requests[split] = {"n": recipe.eval.n, "seed": EVAL_SEED, "families": None}
    return requests


def _phrasing(recipe: Recipe) -> dict[str, str]:
    """A training request's ``phrasing``, recorded only where it is not the templates'."""
    return {} if recipe.data.phrasing == "template" else {"phrasing": recipe.data.phrasing}


def _phrasing_record(domain: Domain, examples: Sequence[Example], phrasing: str) -> dict[str, Any]:
    """How often each surface form was drawn for the restyled training questions, and how many distinct
    combinations each family got (the split digest above is of the restyled examples); for ``unhinted``, how
    many questions lost their hints."""
    forms = [e.meta.get("surface", {}) for e in examples]
    per_family: dict[str, set] = {}
    for e, form in zip(examples, forms):
        per_family.setdefault(e.family, set()).add(tuple(sorted(form.items())))
    record = {
        "phrasing": phrasing,
        "how": "srmzoo.phrasing.restyle_question with the domain's surface_forms: openers and closers, the ask "
        "moved, distractor sentences, units spelled out, small numbers in words; solutions unchanged",
        "form_counts": {key: sum(bool(f.get(key)) for f in forms)
                        for key in ("opener", "closer", "moved", "distractor", "units", "words")},
        "distinct_forms_per_family": {fam: len(v) for fam, v in per_family.items()},
    }
    if phrasing == "unhinted":
        record["unhinted"] = {"how": domain.hints, "questions": sum(bool(e.meta.get("unhinted")) for e in examples),
                              "of": len(examples)}
    return record


def _general_record(recipe: Recipe) -> tuple[dict[str, Any], list[Example]]:
    """The replay slice (``data.general_size``): its prompts' request and sha256, and the prompts as
    examples for the evaluation sets' overlap check (the replies are generated at training time by the base
    and recorded, with their sha256, in the run's train_summary.json)."""
    from ..general import TOPIC_SPLITS, general_prompts, prompts_sha256

    size, seed = recipe.data.general_size, recipe.data.seed
    prompts = general_prompts("train", size, seed=seed)
    record = {
        "request": {"split": "train", "n": size, "seed": seed},
        "prompts_sha256": prompts_sha256(prompts),
        "how": "srmzoo.general.general_prompts: everyday requests (tasks x topics); the forgetting probe "
        f"(srmzoo forgetting) draws from {len(TOPIC_SPLITS['heldout'])} other topics, none shared",
        "replies": "the base's own greedy replies in its own chat template, generated when training starts; "
        "train_summary.json records how many were kept and their sha256",
    }
    return record, [Example(id=f"general/train/{i:05d}", family="general", question=p, answer="", solution="")
                    for i, p in enumerate(prompts)]


def _materialise(domain: Domain, requests: dict[str, dict[str, Any]]) -> dict[str, list[Example]]:
    return {
        split: domain.training_examples(req["n"], seed=req["seed"], families=req["families"],
                                        phrasing=req.get("phrasing", "template"))
        if split == "train" else domain.examples(split, req["n"], seed=req["seed"], families=req["families"])
        for split, req in requests.items()
    }


def _family_counts(domain: Domain, examples: Sequence[Example]) -> dict[str, int]:
    counts = Counter(e.family for e in examples)
    order = {fam: i for i, fam in enumerate(domain.families)}
    return {fam: counts[fam] for fam in sorted(counts, key=lambda f: (order.get(f, len(order)), f))}


def _split_record(domain: Domain, request: dict[str, Any], examples: Sequence[Example]) -> dict[str, Any]:
    return {
        "request": dict(request),
        "n": len(examples),
        "families": _family_counts(domain, examples),
        "sha256": split_digest(examples),
    }


def _overlap(train: Sequence[Example], held_out: Sequence[Example]) -> dict[str, Any]:
    report = overlap_report([e.question for e in train], [e.question for e in held_out])
    return {
        "compared": "question text",
        "exact_duplicate_questions": report["exact_duplicates"],
        "disjoint": report["exact_duplicates"] == 0,
        "shared_13gram": report["shared_13gram"],
        "near_duplicates": report["near_duplicates"],
        "near_duplicate_threshold": report["near_duplicate_threshold"],
        "max_similarity": report["max_similarity"],
        "mean_similarity": report["mean_similarity"],
        "method": report["method"],
    }


def _command(recipe: Recipe) -> str:
    """The command that rebuilds the manifest: the shipped recipe's path from the repository root."""
    if recipe.source and Path(recipe.source).is_file():
        source = Path(recipe.source).resolve()
        root = recipe_root().resolve()
        if source.is_relative_to(root):
            return f"srmzoo data manifest recipes/{source.relative_to(root).as_posix()}"
        return f"srmzoo data manifest {recipe.source}"
    return f"srmzoo data manifest {recipe.name}"


def _as_recipe(recipe: Recipe | str | Path) -> Recipe:
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, (str, Path)):
        return load_recipe(find_recipe(str(recipe)))
    raise SrmzooError(f"expected a recipe, a recipe file or an entry name, got {type(recipe).__name__}",
                      hint="e.g. build_manifest('math-135m')")


def build_manifest(recipe: Recipe | str | Path) -> dict[str, Any]:
    """The data manifest of a zoo entry: its train and eval splits, their digests and their overlap.

    Args:
        recipe: a :class:`~srmzoo.recipe.Recipe`, a recipe file, or a shipped entry name (``math-135m``).

    Returns:
        The manifest as plain JSON-ready data (see the module docstring for the fields).

    Raises:
        SrmzooError: an unknown entry or recipe file, an unknown domain, split or family, or a recipe
            that evaluates on ``train``.

    >>> small = Recipe.from_dict({"name": "tiny", "domain": "math", "model": {"base": "smollm2"},
    ...                           "data": {"train_size": 20}, "eval": {"n": 5, "splits": ["test"]}})
    >>> m = build_manifest(small)
    >>> m["splits"]["train"]["n"], m["splits"]["test"]["n"], m["overlap"]["test"]["disjoint"]
    (20, 5, True)
    """
    from ..version import __version__

    recipe = _as_recipe(recipe)
    domain = recipe_domain(recipe)
    requests = _requests(recipe)
    data = _materialise(domain, requests)
    cls = type(domain)
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "entry": recipe.name,
        "domain": domain.name,
        "description": domain.description,
        "command": _command(recipe),
        "generator": {
            "domain_class": f"{cls.__module__}.{cls.__qualname__}",
            "data_version": domain.data_version,
            "srmzoo_version": __version__,
        },
        "license": domain.license,
    }
    sources = getattr(domain, "data_sources", None)
    if sources:
        manifest["data_sources"] = list(sources)
    if isinstance(domain, DatasetDomain):
        manifest["dataset"] = {
            "config": recipe.to_dict()["data"]["dataset"],
            "sources": domain.records(),
            "verifier": domain.verifier.name,
            "verifier_description": domain.verifier.description,
            "verifier_options": domain.options,
        }
    manifest["seeds"] = {split: req["seed"] for split, req in requests.items()}
    manifest["splits"] = {split: _split_record(domain, requests[split], data[split]) for split in requests}
    manifest["overlap"] = {split: _overlap(data["train"], data[split]) for split in requests if split != "train"}
    manifest["how_splits_are_disjoint"] = domain.split_policy
    if recipe.data.tools:
        from ..tools import calls

        style = recipe.data.traces
        traces = [calls(domain.tool_solution(e, recipe.data.tools, style)) for e in data["train"]]
        rewrite = domain.trace_styles[style] if style else domain.tool_traces
        manifest["training_traces"] = {
            "tools": list(recipe.data.tools),
            **({"style": style} if style else {}),
            "rewrite": f"{rewrite}; the split digests above are of the unrewritten examples",
            "train_calls": sum(len(c) for c in traces),
            "train_examples_with_calls": sum(bool(c) for c in traces),
        }
    if recipe.data.phrasing != "template":
        manifest["training_phrasing"] = _phrasing_record(domain, data["train"], recipe.data.phrasing)
    training = list(data["train"])  # everything the entry trains on, for the evaluation-only sets' check
    if "rft" in recipe.stages:  # RFT samples on further train-split problems; they must miss the eval splits too
        r = recipe.rft
        manifest["rft_problems"] = {}
        for round_no in range(1, r.rounds + 1):
            req = {"n": r.problems, "seed": r.seed + round_no - 1, "families": recipe.data.families,
                   **_phrasing(recipe)}
            problems = domain.training_examples(r.problems, seed=req["seed"], families=recipe.data.families,
                                                phrasing=recipe.data.phrasing)
            training += problems
            manifest["rft_problems"][f"round-{round_no}"] = {
                **_split_record(domain, req, problems),
                "shared_questions_with_sft_train": _overlap(data["train"], problems)["exact_duplicate_questions"],
                "overlap": {split: _overlap(problems, data[split]) for split in requests if split != "train"},
            }
    if "grpo" in recipe.stages:  # GRPO's prompts: more train-split problems, also apart from the eval splits
        g = recipe.grpo
        req = {"n": g.problems, "seed": g.seed, "families": recipe.data.families, **_phrasing(recipe)}
        problems = domain.training_examples(g.problems, seed=g.seed, families=recipe.data.families,
                                            phrasing=recipe.data.phrasing)
        training += problems
        manifest["grpo_problems"] = {
            **_split_record(domain, req, problems),
            "shared_questions_with_sft_train": _overlap(data["train"], problems)["exact_duplicate_questions"],
            "overlap": {split: _overlap(problems, data[split]) for split in requests if split != "train"},
        }
    if recipe.distill.use:  # the questions the teacher answers; its verified answers are SFT's data
        d = recipe.distill
        req = {"n": d.questions or recipe.data.train_size, "seed": recipe.data.seed if d.seed is None else d.seed,
               "families": d.families or recipe.data.families, **_phrasing(recipe)}
        problems = domain.training_examples(req["n"], seed=req["seed"], families=req["families"],
                                            phrasing=recipe.data.phrasing)
        training += problems
        manifest["distill_questions"] = {
            **_split_record(domain, req, problems),
            "teacher": d.teacher,
            "completions": "the teacher's answers are checked in their own manifest (srmzoo distill writes "
            "distill_manifest.json with evaluation_sets), as they are not known before it runs",
            "overlap": {split: _overlap(problems, data[split]) for split in requests if split != "train"},
        }
    if recipe.data.general_size:  # the replay slice's prompts train too; their replies are the base's own
        manifest["general_slice"], prompts = _general_record(recipe)
        training += prompts
    # the natural split and every external set that loads offline, against all of the training data
    manifest["evaluation_sets"] = evaluation_sets_block(domain, training, n=recipe.eval.n, seed=EVAL_SEED)
    manifest["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return manifest


def write_manifest(recipe: Recipe | str | Path, out_dir: str | Path | None = None) -> Path:
    """Build the entry's manifest and write it to ``<out_dir>/<entry>.json`` (default: :func:`manifest_dir`).

    >>> import tempfile
    >>> small = Recipe.from_dict({"name": "tiny", "domain": "math", "model": {"base": "smollm2"},
    ...                           "data": {"train_size": 10}, "eval": {"n": 3, "splits": ["ood"]}})
    >>> write_manifest(small, tempfile.mkdtemp()).name
    'tiny.json'
    """
    recipe = _as_recipe(recipe)
    manifest = build_manifest(recipe)
    out = Path(out_dir) if out_dir is not None else manifest_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{recipe.name}.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SrmzooError(f"manifest not found: {path}", hint="list them with `ls data_manifests/`") from None
    except json.JSONDecodeError as err:
        raise SrmzooError(f"{path}: not valid JSON: {err}",
                          hint="rebuild it with the command recorded in it, or `srmzoo data manifest RECIPE`") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise SrmzooError(f"{path}: not a {SCHEMA} manifest",
                          hint="rebuild it with `srmzoo data manifest RECIPE`")
    for key in ("entry", "domain", "splits"):
        if key not in manifest:
            raise SrmzooError(f"{path}: manifest has no {key!r}", hint="rebuild it with `srmzoo data manifest RECIPE`")
    return manifest


def check_manifest(path: str | Path) -> list[str]:
    """Regenerate a manifest's splits from its recorded requests and list what differs (empty: reproduces).

    Compares each split's size, per-family counts and SHA-256, and the generator's ``data_version``. If
    the entry is a shipped recipe, also reports when the recipe now asks for other data than the manifest
    records (the manifest is stale). ``created`` is ignored.

    Raises:
        SrmzooError: the file is missing, not JSON, or not a data manifest.

    >>> import tempfile
    >>> small = Recipe.from_dict({"name": "tiny", "domain": "math", "model": {"base": "smollm2"},
    ...                           "data": {"train_size": 10}, "eval": {"n": 3, "splits": ["test"]}})
    >>> check_manifest(write_manifest(small, tempfile.mkdtemp()))
    []
    """
    path = Path(path)
    recorded = _read(path)
    try:  # the user's data is read again, and must not have changed
        domain = adapter_domain({"domain": recorded["domain"], "dataset": recorded.get("dataset")})
        if isinstance(domain, DatasetDomain):
            domain.records()
    except SrmzooError as err:
        if not recorded.get("dataset"):
            raise
        return [err.message]
    differences: list[str] = []
    version = recorded.get("generator", {}).get("data_version")
    if version != domain.data_version:
        differences.append(f"{domain.name} data_version: manifest {version}, code {domain.data_version}")
    requests = {split: rec["request"] for split, rec in recorded["splits"].items()}
    data = _materialise(domain, requests)
    for split, rec in recorded["splits"].items():
        now = _split_record(domain, requests[split], data[split])
        if rec.get("n") != now["n"]:
            differences.append(f"{split}: n {rec.get('n')} recorded, {now['n']} generated")
        if rec.get("families") != now["families"]:
            differences.append(f"{split}: family counts {rec.get('families')} recorded, {now['families']} generated")
        if rec.get("sha256") != now["sha256"]:
            differences.append(f"{split}: sha256 {str(rec.get('sha256'))[:12]}... recorded, "
                               f"{now['sha256'][:12]}... generated")
    differences += _evaluation_set_drift(domain, recorded)
    differences += _recipe_drift(recorded)
    return differences


def _recipe_drift(recorded: dict[str, Any]) -> list[str]:
    """How the shipped recipe of the manifest's entry now differs from the requests it records."""
    from ..recipe import recipe_paths

    shipped = {p.stem: p for p in recipe_paths()}
    if recorded["entry"] not in shipped:
        return []  # built from a recipe outside the zoo: only the recorded requests can be checked
    wanted = _requests(load_recipe(shipped[recorded["entry"]]))
    have = {split: rec["request"] for split, rec in recorded["splits"].items()}
    if wanted == have:
        return []
    changed = sorted(set(wanted) | set(have))
    detail = "; ".join(f"{s}: {have.get(s)} -> {wanted.get(s)}" for s in changed if have.get(s) != wanted.get(s))
    return [f"recipe {recorded['entry']} now asks for other data ({detail}); "
            f"rebuild with `{recorded.get('command', 'srmzoo data manifest ' + recorded['entry'])}`"]


def _evaluation_set_drift(domain: Domain, recorded: dict[str, Any]) -> list[str]:
    """How the evaluation-only sets (natural, external:NAME) the code gives now differ from the recorded ones."""
    rebuild = f"rebuild with `{recorded.get('command', 'srmzoo data manifest ' + recorded['entry'])}`"
    block = recorded.get("evaluation_sets")
    if not isinstance(block, dict):
        return [f"no evaluation_sets recorded (the natural and external sets and their overlap); {rebuild}"]
    recorded_sets = {split: rec for split, rec in block.items() if split != "not_checked"}
    held_out = [rec["request"] for split, rec in recorded["splits"].items() if split != "train"]
    request = next(iter(recorded_sets.values()), {}).get("request") or (held_out[0] if held_out else None)
    if request is None:
        return []
    sets, unavailable = evaluation_sets(domain, n=request["n"], seed=request["seed"])
    differences = [f"{split}: recorded, but cannot be loaded here ({unavailable[split]})"
                   for split in recorded_sets if split in unavailable]
    differences += [f"{split}: an evaluation set the manifest does not record; {rebuild}"
                    for split in sets if split not in recorded_sets]
    for split, rec in recorded_sets.items():
        if split in unavailable:
            continue
        if split not in sets:
            differences.append(f"{split}: recorded, but {domain.name} no longer has it; {rebuild}")
            continue
        n, sha256 = len(sets[split]), qa_digest(sets[split])
        if rec.get("n") != n:
            differences.append(f"{split}: n {rec.get('n')} recorded, {n} loaded")
        if rec.get("sha256") != sha256:
            differences.append(f"{split}: sha256 {str(rec.get('sha256'))[:12]}... recorded, {sha256[:12]}... loaded")
    return differences
