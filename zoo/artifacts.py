"""The one home of an adapter directory: what ``srmzoo train`` writes, and how it is read back and checked.

An adapter directory holds the plain PEFT files (``adapter_config.json``, ``adapter_model.safetensors``),
the tokenizer with its chat template, ``srmzoo_prompt.json`` (the prompt format) and ``srmzoo_adapter.json``
(entry, domain, base identity, training summary). Callers never spell these file names: they use the
constants and functions here. The finished-stage protocol of multi-stage runs lives here too.

Importing this module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

from .bases import load_base
from .errors import SrmzooError
from .hardware import release_memory
from .prompting import PromptFormat
from .recipe import EvalConfig, Recipe, read_yaml
from .user_data import dataset_record
from .version import __version__

log = logging.getLogger(__name__)


ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"


ADAPTER_CONFIG_FILE = "adapter_config.json"


class LoadedAdapter(NamedTuple):
    """A base with its LoRA adapter attached: unpacks as ``model, tokenizer, prompt_format, meta``."""

    model: Any
    tokenizer: Any
    prompt_format: PromptFormat
    meta: dict[str, Any]


def read_adapter_meta(adapter_dir: str | Path) -> dict[str, Any]:
    """The ``srmzoo_adapter.json`` of an adapter directory, checked for the fields evaluation needs.

    Raises:
        SrmzooError: when the file is missing, not JSON, or lacks the domain or the base identity.

    >>> read_adapter_meta("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: /no/such/adapter is not an srmzoo adapter: srmzoo_adapter.json is missing
      hint: pass the adapter directory written by `srmzoo train` (or its entry name in the local store)
    """
    path = Path(adapter_dir) / ADAPTER_META_FILE
    if not path.is_file():
        raise SrmzooError(
            f"{adapter_dir} is not an srmzoo adapter: {ADAPTER_META_FILE} is missing",
            hint="pass the adapter directory written by `srmzoo train` (or its entry name in the local store)",
        )
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SrmzooError(
            f"corrupted adapter metadata {path}: {err}", hint="re-download or retrain the adapter"
        ) from None
    base = meta.get("base") if isinstance(meta, dict) else None
    if not isinstance(base, dict) or not base.get("name") or not meta.get("domain"):
        raise SrmzooError(
            f"adapter metadata {path} lacks its domain or base identity (keys 'domain', 'base.name')",
            hint="re-download or retrain the adapter",
        )
    return meta


def _check_adapter_files(adapter_dir: Path) -> None:
    """Fail before the (slow) base load when the PEFT files are missing or damaged."""
    from safetensors import safe_open

    config = adapter_dir / ADAPTER_CONFIG_FILE
    weights = adapter_dir / ADAPTER_WEIGHTS_FILE
    fix = "re-download or retrain the adapter"
    for path in (config, weights):
        if not path.is_file():
            raise SrmzooError(f"adapter {adapter_dir} is incomplete: {path.name} is missing", hint=fix)
    try:
        json.loads(config.read_text())
    except (OSError, ValueError) as err:
        raise SrmzooError(f"corrupted adapter config {config}: {err}", hint=fix) from None
    try:
        with safe_open(str(weights), "pt") as f:  # reads and checks the header: truncation shows here
            if not list(f.keys()):
                raise SrmzooError(f"adapter weights {weights} hold no tensors", hint=fix)
    except SrmzooError:
        raise
    except Exception as err:  # noqa: BLE001 — safetensors' error type is not importable by a stable name
        raise SrmzooError(f"corrupted adapter weights {weights}: {err}", hint=fix) from None


def _base_source(identity: dict[str, Any], base_path: str | os.PathLike | None) -> dict[str, Any]:
    """``load_base`` arguments that reload the base an adapter recorded (its origin says where it was)."""
    if base_path is not None:
        return {"path": base_path}
    origin = str(identity.get("origin", ""))
    kind, _, where = origin.partition(":")
    if kind in ("dir", "file"):
        if not Path(where).exists():
            raise SrmzooError(
                f"the adapter's base {identity['name']!r} was loaded from {where}, which no longer exists",
                hint="pass the base's weights explicitly (load_adapter(..., base_path=...) / --base-path)",
            )
        return {"path": where}
    if kind == "hub":
        return {"revision": identity.get("revision")}
    return {}  # an offline package or the cache: the registry name finds it


def load_adapter(
    adapter_dir: str | Path,
    *,
    device: str | None = None,
    allow_base_mismatch: bool = False,
    base_path: str | os.PathLike | None = None,
    quantize: str | None = None,
    merge: bool = False,
) -> LoadedAdapter:
    """Load an adapter onto the exact base it was trained on.

    The base named in ``srmzoo_adapter.json`` is loaded with :func:`srmzoo.bases.load_base` (fp32 on a
    CPU, bf16 on a GPU) from where training found it, its identity sha256 is compared with the one the
    adapter recorded, and the LoRA weights are attached with ``PeftModel.from_pretrained``.

    Args:
        adapter_dir: a directory written by ``srmzoo train`` (PEFT files + srmzoo metadata).
        device: ``cpu`` or ``cuda``; default: cuda when available.
        allow_base_mismatch: load even when the base's sha256 differs from the recorded one (logged).
        base_path: load the base from this local source instead of the recorded origin.
        quantize: load the base quantized (``"nf4"`` or ``"int8"``, bitsandbytes); the LoRA stays unmerged.
        merge: fold the LoRA weights into the base (``merge_and_unload``): the same function, with no
            adapter matmuls per token, so generation runs at the base's speed. Ignored when quantized.

    Returns:
        ``(model, tokenizer, prompt_format, meta)``: the PEFT model in eval mode, the base's tokenizer,
        the prompt format the adapter was trained with, and the adapter's metadata.

    Raises:
        SrmzooError: missing or corrupted files, or a base whose sha256 differs from the recorded one.

    >>> load_adapter("/no/such/adapter")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: /no/such/adapter is not an srmzoo adapter: srmzoo_adapter.json is missing
      hint: pass the adapter directory written by `srmzoo train` (or its entry name in the local store)
    """
    adapter_dir = Path(adapter_dir)
    meta = read_adapter_meta(adapter_dir)
    prompt_format = PromptFormat.load(adapter_dir)
    _check_adapter_files(adapter_dir)
    recorded = meta["base"]
    base = load_base(recorded["name"], device=device, quantize=quantize, **_base_source(recorded, base_path))
    want, got = recorded.get("sha256"), base.identity.get("sha256")
    if want != got:
        message = (
            f"adapter {adapter_dir} was trained on base {recorded['name']!r} with sha256 {want}, "
            f"but the base loaded from {base.resolved.path} has sha256 {got}"
        )
        if not allow_base_mismatch:
            del base
            release_memory()
            raise SrmzooError(
                message,
                hint="load the base it was trained on (base_path= / --base-path), or accept the difference "
                "with allow_base_mismatch=True (--allow-base-mismatch)",
            )
        log.warning("%s; loading anyway (allow_base_mismatch)", message)
    from peft import PeftModel

    try:
        model = PeftModel.from_pretrained(base.model, str(adapter_dir), is_trainable=False)
    except Exception as err:  # noqa: BLE001 — peft raises anything from KeyError to RuntimeError here
        del base
        release_memory()
        raise SrmzooError(
            f"cannot attach adapter {adapter_dir} to base {recorded['name']!r}: {type(err).__name__}: {err}",
            hint="the adapter does not fit this base; re-download or retrain it",
        ) from None
    if merge and not quantize:
        model = model.merge_and_unload()
    model.eval()
    return LoadedAdapter(model, base.tokenizer, prompt_format, meta)


def merge_for_generation(model: Any) -> bool:
    """Fold a PEFT model's LoRA weights into its base layers in place (``merge_adapter``); returns whether it did.

    The merged model computes the same function (up to float rounding) without the adapter's extra
    matmuls per token, which roughly doubles CPU generation speed for a 135M model. Quantized bases are
    left unmerged (merging into 4-bit weights would round them). ``unmerge_adapter`` undoes it.
    """
    if not hasattr(model, "merge_adapter") or getattr(model, "is_loaded_in_4bit", False) or getattr(
        model, "is_loaded_in_8bit", False
    ):
        return False
    model.merge_adapter()
    return True


def eval_config_for(adapter_dir: str | Path) -> EvalConfig:
    """The ``eval`` section of the recipe an adapter was trained with, else the defaults.

    The local store keeps ``recipe.yaml`` beside the adapter; a run directory keeps it one level up.

    >>> eval_config_for("/no/such/adapter").n
    300
    """

    adapter_dir = Path(adapter_dir)
    for path in (adapter_dir / RECIPE_FILE, adapter_dir.parent / RECIPE_FILE):
        if path.is_file():  # a pulled adapter's recipe.yaml is untrusted: read_yaml bounds it
            return Recipe.from_dict(read_yaml(path), source=str(path)).eval
    return EvalConfig()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


ADAPTER_META_FILE = "srmzoo_adapter.json"

# What a run directory holds beside its adapter(s); the local store and a publish carry these along.
RECIPE_FILE = "recipe.yaml"
METRICS_FILE = "metrics.jsonl"
LOSS_CURVE_FILE = "loss_curve.png"
TRAIN_SUMMARY_FILE = "train_summary.json"
STAGES_SUMMARY_FILE = "stages_summary.json"
RFT_SUMMARY_FILE = "rft_summary.json"
GRPO_SUMMARY_FILE = "grpo_summary.json"
REWARD_CURVE_FILE = "reward_curve.png"
DATA_MANIFEST_FILE = "data_manifest.json"  # an entry on the user's own data: its manifest, written by srmzoo train
RUN_FILES = (RECIPE_FILE, METRICS_FILE, LOSS_CURVE_FILE, TRAIN_SUMMARY_FILE, STAGES_SUMMARY_FILE, RFT_SUMMARY_FILE,
             GRPO_SUMMARY_FILE, REWARD_CURVE_FILE, DATA_MANIFEST_FILE)


def stage_history(start_adapter: str | Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The stages behind ``start_adapter`` (an SFT adapter counts as one ``sft`` stage) plus this one."""
    previous = read_adapter_meta(start_adapter).get("training", {})
    return [*previous.get("stages", [{"stage": "sft", **previous}] if previous else []), summary]


def stage_summaries(adapter_dir: Path) -> list[dict[str, Any]]:
    return read_adapter_meta(adapter_dir).get("training", {}).get("stages", [])


def save_adapter(model: Any, tokenizer: Any, fmt: PromptFormat, adapter_dir: Path, *, recipe: Recipe,
                 base_identity: dict[str, Any], summary: dict[str, Any], domain: Any = None) -> None:
    """Save a PEFT adapter plus everything srmzoo needs to use it without guessing.

    ``adapter_config.json`` + ``adapter_model.safetensors`` (plain PEFT), the tokenizer with the chat
    template the adapter was trained with, ``srmzoo_prompt.json`` and ``srmzoo_adapter.json`` (entry,
    domain, base identity, training summary; for an entry on the user's own data, its ``data.dataset`` and
    each source's SHA-256 and row counts, from ``domain``, the :class:`~srmzoo.user_data.DatasetDomain`
    trained on, when given).
    """

    adapter_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    fmt.save(adapter_dir)
    meta = {
        "entry": recipe.name,
        "domain": recipe.domain,
        "base": base_identity,
        "lora": recipe.to_dict()["lora"],
        "training": summary,
        "srmzoo_version": __version__,
    }
    if (dataset := dataset_record(recipe, domain)) is not None:
        meta["dataset"] = dataset
    (adapter_dir / ADAPTER_META_FILE).write_text(json.dumps(meta, indent=2) + "\n")



def is_adapter_dir(path: str | Path) -> bool:
    """Whether ``path`` holds an adapter's PEFT files (checked in full when it loads).

    >>> is_adapter_dir("/no/such/adapter")
    False
    """
    return (Path(path) / ADAPTER_CONFIG_FILE).is_file()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines record (metrics, samples); none for a missing file, and a torn last line (an
    interrupted write) is dropped.

    >>> read_jsonl(Path("/no/such/metrics.jsonl"))
    []
    """
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def write_json(path: Path, data: Any) -> None:
    """Write a summary or record file: indented JSON ending in a newline."""
    path.write_text(json.dumps(data, indent=2) + "\n")


def finished_stage(stage_dir: Path, summary_file: str, adapter_dir: Path, *, resume: bool, stage: str
                   ) -> dict[str, Any] | None:
    """The resume protocol of a training stage: its summary if it finished, else None (the stage runs).

    A stage writes its adapter, then its summary last, so both present means finished. A directory with
    anything else in it is an interrupted stage, which only ``resume`` may continue.

    Raises:
        SrmzooError: ``stage_dir`` holds an unfinished stage and ``resume`` is off.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> finished_stage(d, "summary.json", d / "adapter", resume=False, stage="rft round 1") is None
    True
    """
    summary = stage_dir / summary_file
    if summary.is_file() and (adapter_dir / ADAPTER_META_FILE).is_file():
        log.info("%s already finished in %s", stage, stage_dir)
        return json.loads(summary.read_text())
    if stage_dir.exists() and any(stage_dir.iterdir()) and not resume:
        raise SrmzooError(f"{stage_dir} holds an unfinished {stage}",
                          hint="pass --resume to continue it, or --run-dir to start a new run")
    return None
