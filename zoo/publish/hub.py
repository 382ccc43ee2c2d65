"""Publish a trained adapter to a Hugging Face Hub and download it back, verified.

:func:`publish` uploads one adapter as one commit on a branch of a model repo: the PEFT files, the
tokenizer and srmzoo's prompt format and metadata, the run's records (recipe, metrics, loss curve,
training summary, eval results), the entry's data manifest when srmzoo ships one, a model card
(``README.md``) and ``srmzoo_files.json``, the sha256 and size of every other file in the commit. The branch
then holds exactly these files (plus the Hub's ``.gitattributes``): files an older publish left there are
deleted in the same commit.

:func:`pull` downloads a repo at a pinned revision into the standard Hugging Face cache and checks every
file against ``srmzoo_files.json`` before returning the snapshot directory. This matters because
huggingface_hub 2.4 checks only the *size* of what it downloads: a file whose bytes were changed on the way
(same length) would otherwise be loaded as if nothing happened. Pull fails closed:

- ``srmzoo_files.json`` is downloaded first and checked against the git blob id (or LFS sha256) the Hub
  advertises for it at that commit. When the Hub cannot be asked, only a commit this machine verified
  online before is accepted (a record per commit in ``srmzoo_verified/`` beside the cache's
  ``snapshots/``, holding the sha256 of the verified ``srmzoo_files.json``); anything else is refused.
- The list must name the adapter config, the weights, the prompt format and ``srmzoo_adapter.json``.
- Only the listed files are downloaded, and each must have the listed sha256 and size. A snapshot that
  fails is removed from the cache (its snapshot folder and the damaged blobs), so a retry downloads it again.
- Files in the snapshot that the list does not name (added to the repo outside ``srmzoo publish``, or left
  by another tool) are removed from the snapshot folder before its path is returned, with a warning; only
  the Hub's ``.gitattributes`` may stay.

Tokens come from ``token=`` or wherever huggingface_hub looks (``HF_TOKEN``, the file ``hf auth login``
writes). srmzoo never prints, logs or writes them, and removes them from any error text it passes on. An
endpoint URL carrying credentials (``https://user:password@host``) is refused before any request is made,
so neither srmzoo nor the HTTP client's request log can print them.

Importing this module does not import torch or huggingface_hub.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from ..artifacts import (
    ADAPTER_CONFIG_FILE,
    ADAPTER_META_FILE,
    ADAPTER_WEIGHTS_FILE,
    DATA_MANIFEST_FILE,
    RUN_FILES,
)
from ..errors import SrmzooError
from ..prompting import PROMPT_FILE
from ..store import find_adapter

__all__ = [
    "DATA_MANIFEST_FILE",
    "FILES_MANIFEST",
    "PUBLISHED_FILE",
    "PublishResult",
    "REQUIRED_FILES",
    "VERIFIED_DIR",
    "check_repo_id",
    "publish",
    "pull",
]

log = logging.getLogger(__name__)

FILES_MANIFEST = "srmzoo_files.json"  # {path: {"sha256": ..., "size": ...}} for every other published file
PUBLISHED_FILE = "published.json"  # written into the adapter directory: where it was published last
CARD_FILE = "README.md"
DEFAULT_ENDPOINT = "https://huggingface.co"
# What loading an adapter reads: publish refuses to leave one out of srmzoo_files.json, pull refuses a list
# without one (an unlisted file would be loaded unverified).
REQUIRED_FILES = (ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, PROMPT_FILE, ADAPTER_META_FILE)
VERIFIED_DIR = "srmzoo_verified"  # beside snapshots/ in the cache: <commit>.json per commit verified online

# Never staged from the adapter directory: replaced (card, file list), local state, or the Hub's own.
_NOT_PUBLISHED = frozenset({CARD_FILE, FILES_MANIFEST, PUBLISHED_FILE, ".gitattributes"})
_HUB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_ENDPOINT = re.compile(r"https?://[^/\s?#@]+(?:/[^\s?#]*)?")
# scheme://userinfo@ in any URL of a message; greedy up to the authority's last '@', as urlsplit reads it
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#]*@")


@dataclass(frozen=True)
class PublishResult:
    """Where :func:`publish` put an adapter: repo, branch, commit sha, web URL and the files committed."""

    repo: str
    revision: str
    commit: str
    url: str
    files: tuple[str, ...]


# --------------------------------------------------------------------------------------------------- checks


def check_repo_id(repo: str) -> str:
    """``repo`` if it is a Hub model repo id of the form ``namespace/name``.

    Raises:
        SrmzooError: anything else, saying what a valid id looks like.

    >>> check_repo_id("srmzoo/math-135m-lora")
    'srmzoo/math-135m-lora'
    >>> check_repo_id("math-135m-lora")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: invalid Hub repo id 'math-135m-lora': expected 'namespace/name'
      hint: name the user or organisation and the repo, e.g. --repo your-name/math-135m-lora
    """
    if not isinstance(repo, str) or repo.count("/") != 1:
        raise SrmzooError(
            f"invalid Hub repo id {repo!r}: expected 'namespace/name'",
            hint="name the user or organisation and the repo, e.g. --repo your-name/math-135m-lora",
        )
    namespace, name = repo.split("/")
    for part, what in ((namespace, "namespace"), (name, "name")):
        if not _HUB_NAME.fullmatch(part) or "--" in part or ".." in part or part.endswith(".git"):
            raise SrmzooError(
                f"invalid Hub repo id {repo!r}: {what} {part!r} is not a valid Hub name",
                hint="use letters, digits, '-', '_' and '.', 1-96 characters, starting and ending with a "
                "letter or digit, without '--' or '..' (e.g. your-name/math-135m-lora)",
            )
    return repo


def _check_branch(revision: str) -> str:
    """A branch name publish may commit to (not a commit sha, no '..', no leading/trailing '/').

    >>> _check_branch("exp/dpo")
    'exp/dpo'
    >>> _check_branch("a..b")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: invalid branch name 'a..b'
      hint: publish commits to a branch: use letters, digits, '-', '_', '.' and '/', e.g. --revision v2
    """
    if (
        not isinstance(revision, str)
        or not _BRANCH.fullmatch(revision)
        or ".." in revision
        or "//" in revision
        or revision.endswith(("/", ".lock", "."))
        or _SHA1.fullmatch(revision)
    ):
        raise SrmzooError(
            f"invalid branch name {revision!r}",
            hint="publish commits to a branch: use letters, digits, '-', '_', '.' and '/', e.g. --revision v2",
        )
    return revision


def _endpoint(endpoint: str | None) -> str:
    """The Hub's URL without a trailing '/', checked before any request is made.

    A URL with ``user:password@`` is refused without echoing it: sent, it would reach the HTTP client's
    request log and every error text that quotes the URL.

    >>> _endpoint("http://127.0.0.1:8080/")
    'http://127.0.0.1:8080'
    >>> _endpoint("https://alice:s3cret@hub.example")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: the Hub endpoint URL (--endpoint) carries credentials; nothing was sent
      hint: pass a token with HF_TOKEN, `hf auth login` or token= instead of 'user:password@' in the URL
    """
    source = "--endpoint"
    if endpoint is None:
        from huggingface_hub import constants

        endpoint, source = constants.ENDPOINT, "HF_ENDPOINT"  # read when huggingface_hub was imported
    if isinstance(endpoint, str) and _URL_USERINFO.match(endpoint.strip()):
        raise SrmzooError(
            f"the Hub endpoint URL ({source}) carries credentials; nothing was sent",
            hint="pass a token with HF_TOKEN, `hf auth login` or token= instead of 'user:password@' in the URL",
        )
    if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint):
        shown = re.split(r"[?#]", _scrub(endpoint), maxsplit=1)[0] if isinstance(endpoint, str) else endpoint
        raise SrmzooError(
            f"invalid Hub endpoint {shown!r} ({source})",
            hint="give a URL such as https://huggingface.co (no spaces, query or fragment)",
        )
    return endpoint.rstrip("/")


def _scrub(text: str, token: str | None = None) -> str:
    """``text`` without the token, nor the ``user:password@`` of any URL in it (error texts quote requests).

    >>> _scrub("401 for hf_secret", "hf_secret")
    '401 for hf_***'
    >>> _scrub("cannot reach http://alice:s3cret@hub.example/api")
    'cannot reach http://***@hub.example/api'
    """
    if token:
        text = text.replace(token, "hf_***")
    return _URL_USERINFO.sub(r"\1***@", text)


# --------------------------------------------------------------------------------------------- hub errors


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the Hub could not be reached (huggingface_hub's HTTP client varies by version)."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]  # OfflineModeIsEnabled included
    for module in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError, AttributeError):
            errors.append(importlib.import_module(module).TransportError)
    return tuple(errors)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@contextlib.contextmanager
def _hub_errors(
    action: str,
    *,
    repo: str,
    endpoint: str,
    token: str | None,
    api: Any = None,
    on_corrupted: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Turn what huggingface_hub raises while ``action`` into one SrmzooError, the token scrubbed out.

    ``on_corrupted`` runs before the error for a download that failed huggingface_hub's size check.
    """
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    login = "set HF_TOKEN or run `hf auth login` (or pass token=)"
    try:
        yield
    except SrmzooError:
        raise
    except RevisionNotFoundError:
        raise SrmzooError(
            f"cannot {action}: {repo} on {endpoint} has no such revision",
            hint=f"use a branch, tag or commit sha that exists: {endpoint}/{repo}/tree/main",
        ) from None
    except RepositoryNotFoundError:
        who = "without a token" if not token else "with this token"
        raise SrmzooError(
            f"cannot {action}: repo {repo} not found on {endpoint}, or it is private and cannot be read {who}",
            hint=f"check the name; for a private repo {login} with a token that can read it",
        ) from None
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else None
        if status == 401:
            raise SrmzooError(
                f"cannot {action}: the Hub at {endpoint} rejected the token (invalid or expired)",
                hint=f"create a token with write access at {endpoint}/settings/tokens, then {login}",
            ) from None
        if status == 403:
            namespace, name = repo.split("/")
            user = _user_name(api)
            raise SrmzooError(
                f"cannot {action}: this token may not write to namespace {namespace!r} on {endpoint}",
                hint="publish under your own name or an organisation you belong to"
                + (f", e.g. --repo {user}/{name}" if user else "")
                + ", or use a token with write access to it",
            ) from None
        raise SrmzooError(
            f"cannot {action}: the Hub at {endpoint} answered {status}: {_scrub(_first_line(err), token)}",
            hint="retry later; if it persists, check the repo and the Hub's status",
        ) from None
    except OfflineModeIsEnabled:
        raise SrmzooError(
            f"cannot {action}: huggingface_hub is in offline mode (HF_HUB_OFFLINE=1)",
            hint="unset HF_HUB_OFFLINE, or load a local adapter directory instead",
        ) from None
    except LocalEntryNotFoundError:  # snapshot_download: no Hub, and no complete copy in the cache
        raise SrmzooError(
            f"cannot {action}: the Hub at {endpoint} is unreachable and the cache has no complete copy of it",
            hint="go online (or unset HF_HUB_OFFLINE), point HF_ENDPOINT / --endpoint at a reachable Hub, "
            "or load a local adapter directory instead",
        ) from None
    except _transport_errors() as err:
        raise SrmzooError(
            f"cannot {action}: the Hub at {endpoint} is unreachable ({_scrub(_first_line(err), token)})",
            hint="check the connection; set HF_ENDPOINT / --endpoint to a reachable Hub, or use a local path",
        ) from None
    except ValueError as err:
        detail = _scrub(" ".join(str(err).split()), token)
        if "README.md" not in detail:
            raise SrmzooError(f"cannot {action}: {detail}") from None
        raise SrmzooError(  # huggingface_hub validates the card's metadata with the Hub before uploading
            f"cannot {action}: the Hub at {endpoint} refused the model card: {detail}",
            hint="fix the model card's YAML metadata (license, tags, base_model) and publish again",
        ) from None
    except OSError as err:
        if "Consistency check failed" in str(err):  # huggingface_hub's size check
            if on_corrupted is not None:
                on_corrupted()
            raise SrmzooError(
                f"cannot {action}: the download is corrupted or tampered: {_scrub(_first_line(err), token)}",
                hint="retry; if it happens again, the Hub or a proxy on the way serves damaged files",
            ) from None
        raise SrmzooError(
            f"cannot {action}: {_scrub(_first_line(err), token)}",
            hint="check free disk space and that the cache directory is writable",
        ) from None


def _user_name(api: Any) -> str | None:
    if api is None:
        return None
    try:
        return api.whoami().get("name")
    except Exception:  # noqa: BLE001 — only improves a hint
        return None


# ---------------------------------------------------------------------------------------------- staging


def _digest(path: Path) -> dict[str, Any]:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
    return {"sha256": sha.hexdigest(), "size": path.stat().st_size}


def _repo_path(path: str) -> str:
    """A relative POSIX path inside a repo, or an error.

    >>> _repo_path("notes/extra.md")
    'notes/extra.md'
    """
    pure = PurePosixPath(str(path))
    if not str(path) or pure.is_absolute() or ".." in pure.parts or "\\" in str(path) or str(pure) == ".":
        raise SrmzooError(
            f"invalid path in repo {path!r}", hint="use a relative path without '..', e.g. notes/extra.md"
        )
    return str(pure)


def _data_manifest(entry: str) -> Path | None:
    """The data manifest srmzoo ships for ``entry`` (``data_manifests/<entry>.json``), if there is one."""
    try:
        path = Path(str(resources.files("srmzoo.data_manifests"))) / f"{entry}.json"
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def _publishable_files(adapter_dir: Path, entry: str) -> dict[str, Path]:
    """Path in repo -> local file: the adapter, its run's records, eval results and the data manifest."""
    files = {
        p.name: p
        for p in sorted(adapter_dir.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.name not in _NOT_PUBLISHED
    }
    # A run directory keeps its records beside adapter/; the store keeps them inside the entry.
    run_dir = adapter_dir.parent if adapter_dir.name == "adapter" else None
    for name in RUN_FILES:
        if name not in files and run_dir is not None and (run_dir / name).is_file():
            files[name] = run_dir / name
    for result in sorted((adapter_dir / "eval").glob("results_*.json")):
        files[f"eval/{result.name}"] = result
    for pattern in ("scaling_*.png", "budget_*.png"):  # the card shows them from the root
        for plot in sorted((adapter_dir / "eval").glob(pattern)):
            files[plot.name] = plot
    if (manifest := _data_manifest(entry)) is not None:
        files[DATA_MANIFEST_FILE] = manifest
    return files


def _extra_files(
    extra: Mapping[str, str | os.PathLike] | Sequence[str | os.PathLike] | None,
) -> dict[str, Path]:
    if extra is None:
        return {}
    pairs = extra.items() if isinstance(extra, Mapping) else ((Path(p).name, p) for p in extra)
    out: dict[str, Path] = {}
    for in_repo, local in pairs:
        in_repo = _repo_path(in_repo)
        if in_repo in _NOT_PUBLISHED:
            raise SrmzooError(
                f"extra file {in_repo!r} would replace a file srmzoo writes itself",
                hint="use another name (pass card= to give your own README.md)",
            )
        if not Path(local).is_file():
            raise SrmzooError(f"extra file not found: {local}", hint="pass existing files in extra_files=")
        out[in_repo] = Path(local)
    return out


def _card(adapter_dir: Path, repo: str) -> str:
    from .cards import render_card

    return render_card(adapter_dir, repo=repo)


def _portable_adapter_config(path: Path, meta: dict[str, Any]) -> None:
    """Point the staged ``adapter_config.json`` at the base's Hub id instead of this machine's path.

    PEFT records ``base_model_name_or_path`` as whatever the base was loaded from (here a cache
    directory); on the Hub that would leak a local path and break ``AutoPeftModelForCausalLM``.
    """
    config = json.loads(path.read_text())
    hub_id = meta["base"].get("hub_id")
    if hub_id:
        config["base_model_name_or_path"] = hub_id
        path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _stage(
    adapter_dir: Path, meta: dict[str, Any], repo: str, folder: Path, card: str | None, extra: dict[str, Path]
) -> list[str]:
    """Copy everything publish uploads into ``folder``; returns the paths in the repo, sorted."""
    files = _publishable_files(adapter_dir, str(meta.get("entry") or adapter_dir.name))
    if clash := sorted(set(files) & set(extra)):
        raise SrmzooError(
            f"extra files would replace adapter files: {', '.join(clash)}", hint="give them other names"
        )
    if missing := [name for name in REQUIRED_FILES if name not in files]:
        raise SrmzooError(
            f"cannot publish {adapter_dir}: it lacks {', '.join(missing)}, which loading the adapter reads",
            hint="pass the adapter directory `srmzoo train` wrote (or train it again)",
        )
    files.update(extra)
    for in_repo, local in files.items():
        (folder / in_repo).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, folder / in_repo)
    _portable_adapter_config(folder / ADAPTER_CONFIG_FILE, meta)
    (folder / CARD_FILE).write_text(card if card is not None else _card(adapter_dir, repo), encoding="utf-8")
    listed = sorted([*files, CARD_FILE])
    manifest = {path: _digest(folder / path) for path in listed}
    (folder / FILES_MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return sorted([*listed, FILES_MANIFEST])


def _write_published(adapter_dir: Path, result: PublishResult, endpoint: str) -> None:
    record: dict[str, Any] = {"repo": result.repo, "revision": result.revision, "commit": result.commit}
    record["url"] = result.url
    if endpoint != DEFAULT_ENDPOINT:
        record["endpoint"] = endpoint
    record["date"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    path = adapter_dir / PUBLISHED_FILE
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as err:
        log.warning("published, but could not record it in %s: %s", path, err)


# ------------------------------------------------------------------------------------------------ publish


def publish(
    target: str | os.PathLike,
    repo: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    card: str | None = None,
    extra_files: Mapping[str, str | os.PathLike] | Sequence[str | os.PathLike] | None = None,
    commit_message: str | None = None,
) -> PublishResult:
    """Upload an adapter to a Hub model repo as one commit, and record where in ``published.json``.

    The repo is created when missing (``private`` then decides its visibility; an existing public repo is
    refused when ``private=True`` rather than published to in the open), and so is the branch. The commit
    holds the adapter directory's files (PEFT weights and config, tokenizer, ``srmzoo_prompt.json``,
    ``srmzoo_adapter.json``), the run's ``recipe.yaml``, ``metrics.jsonl``, ``loss_curve.png`` and
    ``train_summary.json``, ``eval/results_*.json``, the entry's data manifest (as ``data_manifest.json``),
    the card as ``README.md``, any ``extra_files``, and ``srmzoo_files.json`` with the sha256 and size of each
    of them; files from an older publish that are not part of this one are deleted. Publishing unchanged
    files makes no new commit and returns the branch's current one.

    Args:
        target: an entry name in the local store, an adapter directory, or a run directory.
        repo: ``namespace/name`` on the Hub; the token must be allowed to write there.
        private: create the repo private.
        revision: the branch to commit to (created from ``main`` when missing); default ``main``.
        token: a Hub token with write access; default: huggingface_hub's (``HF_TOKEN``, ``hf auth login``).
        endpoint: the Hub's URL; default: ``HF_ENDPOINT`` or https://huggingface.co.
        card: the model card's text; default: ``srmzoo.publish.cards.render_card``, or a minimal card.
        extra_files: more files to publish: paths (put at the top level) or ``{path in repo: local path}``.
        commit_message: the commit's title; default names the entry and the srmzoo version.

    Returns:
        The repo, branch, commit sha, URL and committed files.

    Raises:
        SrmzooError: no adapter, a malformed repo id or branch, no token or one the Hub rejects, a namespace
            the token may not write to, an unreachable Hub, or a card whose metadata the Hub refuses.

    >>> publish("/no/such/adapter", "alice/math-135m")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: no adapter for '/no/such/adapter': ...
      hint: train it: srmzoo train /no/such/adapter (or pass the adapter directory)
    """
    from ..artifacts import read_adapter_meta

    adapter_dir = find_adapter(target)
    meta = read_adapter_meta(adapter_dir)
    check_repo_id(repo)
    branch = _check_branch(revision) if revision is not None else "main"
    if card is not None and not isinstance(card, str):
        raise SrmzooError(f"card must be the model card's text, got {type(card).__name__}")
    extra = _extra_files(extra_files)
    endpoint = _endpoint(endpoint)

    from huggingface_hub import HfApi, get_token

    token = token or get_token()
    if not token:
        raise SrmzooError(
            f"publishing to {endpoint} needs a Hub token with write access, and none was found",
            hint=f"create one at {endpoint}/settings/tokens, then run `hf auth login` or export HF_TOKEN",
        )
    api = HfApi(endpoint=endpoint, token=token, library_name="srmzoo")
    entry = str(meta.get("entry") or adapter_dir.name)
    with tempfile.TemporaryDirectory(prefix="srmzoo-publish-") as tmp:
        folder = Path(tmp)
        files = _stage(adapter_dir, meta, repo, folder, card, extra)
        with _hub_errors(f"publish {entry} to {repo}", repo=repo, endpoint=endpoint, token=token, api=api):
            api.whoami()  # a rejected token fails here, before anything is created
            api.create_repo(repo, private=private, exist_ok=True)
            if private and not api.repo_info(repo).private:
                raise SrmzooError(
                    f"{repo} already exists on {endpoint} and is public; refusing to publish with private=True",
                    hint=f"make it private in {endpoint}/{repo}/settings, or publish without --private",
                )
            if branch != "main":
                refs = api.list_repo_refs(repo)
                if branch in {t.name for t in refs.tags}:
                    raise SrmzooError(
                        f"{branch!r} is a tag in {repo}, not a branch", hint="publish to a branch name"
                    )
                if branch not in {b.name for b in refs.branches}:
                    api.create_branch(repo, branch=branch, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo,
                folder_path=folder,
                revision=branch,
                commit_message=commit_message or f"Publish {entry} (srmzoo {_version()})",
                delete_patterns="*",  # the branch mirrors this adapter (.gitattributes is always kept)
            )
    url = f"{endpoint}/{repo}" + ("" if branch == "main" else f"/tree/{branch}")
    result = PublishResult(repo=repo, revision=branch, commit=commit.oid, url=url, files=tuple(files))
    _write_published(adapter_dir, result, endpoint)
    log.info("published %s to %s@%s (commit %s)", entry, repo, branch, result.commit)
    return result


def _version() -> str:
    from ..version import __version__

    return __version__


# --------------------------------------------------------------------------------------------------- pull


def pull(
    repo: str,
    revision: str | None = None,
    *,
    token: str | bool | None = None,
    endpoint: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Download a published adapter at a pinned revision and verify every file before returning it.

    The files go to the standard Hugging Face cache (or ``cache_dir``) as one snapshot per commit.
    ``srmzoo_files.json`` is downloaded first and must match the hash the Hub advertises for it at that
    commit; when the Hub cannot be asked, only a commit verified online on this machine before is accepted
    (checked against the record of that verification). It must list the adapter config, the weights,
    ``srmzoo_prompt.json`` and ``srmzoo_adapter.json``. Then only the listed files are downloaded, and each
    must have the listed sha256 and size. Files the list does not name are removed from the snapshot
    (they were added outside ``srmzoo publish`` and cannot be verified), with a warning. A snapshot that
    fails a hash is removed from the cache, so a retry downloads it again.

    Args:
        repo: ``namespace/name`` on the Hub.
        revision: a branch, tag or commit sha; default ``main``. A commit sha pins the exact files.
        token: for private repos; default: huggingface_hub's (``HF_TOKEN``, ``hf auth login``); False: none.
        endpoint: the Hub's URL; default: ``HF_ENDPOINT`` or https://huggingface.co. One with
            ``user:password@`` is refused before any request.
        cache_dir: the Hugging Face cache to use; default: ``HF_HUB_CACHE``.

    Returns:
        The snapshot directory, ready for :func:`srmzoo.artifacts.load_adapter` or
        ``PeftModel.from_pretrained``; its name is the commit sha.

    Raises:
        SrmzooError: a malformed repo id or endpoint; a repo, revision or file that does not exist or cannot
            be read (private without the right token); an unreachable Hub with nothing cached, or with a
            cached commit never verified online; a files list that lacks an adapter file; a corrupted or
            tampered download.

    >>> pull("not a repo")
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: invalid Hub repo id 'not a repo': expected 'namespace/name'
      hint: name the user or organisation and the repo, e.g. --repo your-name/math-135m-lora
    """
    check_repo_id(repo)
    if revision is not None and (not isinstance(revision, str) or not revision.strip()):
        raise SrmzooError(f"invalid revision {revision!r}", hint="give a branch, tag or commit sha")
    endpoint = _endpoint(endpoint)
    from huggingface_hub import HfApi, get_token, snapshot_download

    secret = get_token() if token is None else token if isinstance(token, str) else None
    at = f"{repo}@{revision or 'main'}"
    discard = lambda: _discard_partial_snapshot(repo, revision, cache_dir)  # noqa: E731

    def download(at_revision: str | None, paths: list[str]) -> Path:
        # glob.escape: huggingface_hub reads allow_patterns as globs; a listed name must match only itself
        with _hub_errors(f"download {at}", repo=repo, endpoint=endpoint, token=secret, on_corrupted=discard):
            folder = snapshot_download(
                repo,
                revision=at_revision,
                cache_dir=cache_dir,
                endpoint=endpoint,
                token=token,
                library_name="srmzoo",
                allow_patterns=[glob.escape(p) for p in paths],
            )
        return Path(folder)

    # The list first: nothing else is downloaded before the Hub (or an earlier verification) vouches for it.
    snapshot = download(revision, [FILES_MANIFEST])
    api = HfApi(endpoint=endpoint, token=token, library_name="srmzoo")
    entries, online = _trusted_manifest(snapshot, repo, at, api, secret)
    snapshot = download(snapshot.name, [FILES_MANIFEST, *entries])
    _check_listed_files(snapshot, at, entries)
    _remove_unlisted_files(snapshot, at, entries)
    if online:
        _record_verified(snapshot, repo, endpoint)
    log.info("verified %d files of %s (commit %s)", len(entries), at, snapshot.name)
    return snapshot


def _git_blob_id(data: bytes) -> str:
    """The git object id of a file's bytes (what the Hub lists as a regular file's ``blob_id``).

    >>> _git_blob_id(b"")
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _hub_advertises(api: Any, repo: str, commit: str, path: str, data: bytes) -> tuple[bool | None, str]:
    """Whether ``data`` is what the Hub lists for ``path`` at ``commit``, and why not.

    ``(None, reason)`` when the Hub could not be asked (unreachable, offline mode, the answer dropped). An
    HTTP error answer is raised, for :func:`_hub_errors` to turn into a refusal.
    """
    try:
        infos = api.get_paths_info(repo, [path], revision=commit)
    except _transport_errors() as err:
        return None, type(err).__name__
    info = next((i for i in infos if getattr(i, "path", None) == path), None)
    if info is None:
        return False, "the Hub does not list it"
    if getattr(info, "lfs", None) is not None:
        return info.lfs.sha256 == hashlib.sha256(data).hexdigest(), "sha256 differs"
    return info.blob_id == _git_blob_id(data), "git blob id differs"


def _parse_manifest(data: bytes) -> dict[str, tuple[int, str]] | None:
    """``{path: (size, sha256)}`` of a ``srmzoo_files.json``; None if it is not one.

    >>> _parse_manifest(b'{"a.json": {"sha256": "ab", "size": 2}}')
    {'a.json': (2, 'ab')}
    >>> _parse_manifest(b'{"../a": {"sha256": "ab", "size": 2}}') is None
    True
    """
    try:
        manifest = json.loads(data)
        entries = {_repo_path(p): (int(e["size"]), str(e["sha256"])) for p, e in manifest.items()}
    except (ValueError, TypeError, KeyError, AttributeError, SrmzooError):
        return None
    entries.pop(FILES_MANIFEST, None)  # a list cannot hash itself
    return entries


def _trusted_manifest(
    snapshot: Path, repo: str, at: str, api: Any, token: str | None
) -> tuple[dict[str, tuple[int, str]], bool]:
    """The entries of a snapshot's ``srmzoo_files.json`` once the Hub, or a record of it, vouches for them.

    Returns the entries and whether the Hub confirmed the list just now (False: an earlier online
    verification on this machine did). Refuses a list the Hub contradicts (removing the snapshot), one
    nothing vouches for, and one that leaves out a file in :data:`REQUIRED_FILES`.
    """
    listing = snapshot / FILES_MANIFEST
    if not listing.is_file():
        raise SrmzooError(
            f"{at} is not an srmzoo adapter repo: {FILES_MANIFEST} is missing",
            hint="publish adapters with `srmzoo publish`; load plain PEFT repos with PeftModel.from_pretrained",
        )
    data = listing.read_bytes()
    commit = snapshot.name
    with _hub_errors(f"check {FILES_MANIFEST} of {at}", repo=repo, endpoint=api.endpoint, token=token):
        advertised, why = _hub_advertises(api, repo, commit, FILES_MANIFEST, data)
    if advertised is False:
        _discard_snapshot(snapshot, [FILES_MANIFEST])
        raise SrmzooError(
            f"download of {at} is corrupted or tampered: {FILES_MANIFEST} differs from what the Hub lists "
            "for it; the download was removed from the cache",
            hint="retry the download; if it fails again, the Hub or a proxy on the way serves damaged files",
        )
    if advertised is None:
        verified = _verified_before(snapshot, data)
        if verified is None:
            raise SrmzooError(
                f"cannot verify {at}: the Hub at {api.endpoint} did not confirm {FILES_MANIFEST} of commit "
                f"{commit[:12]} ({why}) and this machine never verified that commit online; its files "
                "were not used",
                hint="retry when the Hub answers (a commit verified online once can be pulled offline "
                "later), or load a local adapter directory",
            )
        log.info(
            "the Hub at %s did not confirm %s of %s (%s); commit %s was verified online on this machine "
            "at %s, so its cached files are checked against that record",
            api.endpoint,
            FILES_MANIFEST,
            at,
            why,
            commit[:12],
            verified,
        )
    entries = _parse_manifest(data)
    if entries is None:
        raise SrmzooError(
            f"{at} has a malformed {FILES_MANIFEST}: expected {{path: {{sha256, size}}}} with relative paths",
            hint="publish the adapter again with `srmzoo publish`",
        )
    if missing := [name for name in REQUIRED_FILES if name not in entries]:
        raise SrmzooError(
            f"{at} cannot be verified: its {FILES_MANIFEST} does not list {', '.join(missing)}",
            hint="publish the adapter again with `srmzoo publish`, which lists every adapter file",
        )
    return entries, advertised is True


def _check_listed_files(snapshot: Path, at: str, entries: Mapping[str, tuple[int, str]]) -> None:
    """Every listed file is in the snapshot with its listed size and sha256, or the snapshot is removed."""
    bad: list[str] = []
    problems: list[str] = []
    for path, (size, sha256) in sorted(entries.items()):
        local = snapshot / path
        if not local.is_file():
            bad.append(path)
            problems.append(f"{path} is missing")
            continue
        got = _digest(local)
        if got["size"] != size or got["sha256"] != sha256:
            bad.append(path)
            problems.append(
                f"{path} has sha256 {got['sha256'][:16]}… ({got['size']} bytes), "
                f"{FILES_MANIFEST} lists {sha256[:16]}… ({size} bytes)"
            )
    if problems:
        _discard_snapshot(snapshot, bad)
        raise SrmzooError(
            f"download of {at} is corrupted or tampered: {'; '.join(problems)}; "
            "the download was removed from the cache",
            hint="retry the download; if it fails again, the Hub or a proxy on the way serves damaged files",
        )


def _remove_unlisted_files(snapshot: Path, at: str, entries: Mapping[str, tuple[int, str]]) -> None:
    """Unlink what the list does not name from the snapshot folder, so it holds verified files only.

    Their blobs stay in the cache: a later pull relinks them without a download, and removes them again.
    """
    keep = {*entries, FILES_MANIFEST, ".gitattributes"}  # the Hub writes .gitattributes; nothing loads it
    removed: list[str] = []
    for folder, dirs, files in os.walk(snapshot, topdown=False):
        here = Path(folder)
        for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
            path = here / name
            relative = path.relative_to(snapshot).as_posix()
            if relative in keep:
                continue
            try:
                path.unlink()
            except OSError as err:  # left there, it would be loaded unverified: refuse the snapshot instead
                raise SrmzooError(
                    f"cannot use {at}: {relative} in {snapshot} is not in {FILES_MANIFEST} and cannot be "
                    f"removed ({err.strerror or err})",
                    hint="make the Hugging Face cache writable, or pass another cache_dir / --cache-dir",
                ) from None
            removed.append(relative)
        if here != snapshot and not any(here.iterdir()):
            with contextlib.suppress(OSError):  # an empty folder loads nothing
                here.rmdir()
    if removed:
        log.warning(
            "removed %d files from the snapshot of %s that %s does not list (added outside `srmzoo publish`, "
            "unverified): %s",
            len(removed),
            at,
            FILES_MANIFEST,
            ", ".join(sorted(removed)),
        )


def _record_file(snapshot: Path) -> Path | None:
    """Where the record of verifying ``snapshot`` online goes; None outside a Hugging Face cache layout."""
    storage = snapshot.parent.parent
    if snapshot.parent.name != "snapshots" or not storage.name.startswith("models--"):
        return None
    if not _SHA1.fullmatch(snapshot.name):
        return None
    return storage / VERIFIED_DIR / f"{snapshot.name}.json"


def _record_verified(snapshot: Path, repo: str, endpoint: str) -> None:
    """Record that ``snapshot``'s commit was verified online, with the sha256 of its verified files list."""
    path = _record_file(snapshot)
    if path is None:
        return
    record = {
        "repo": repo,
        "commit": snapshot.name,
        "files_manifest_sha256": hashlib.sha256((snapshot / FILES_MANIFEST).read_bytes()).hexdigest(),
        "endpoint": endpoint,
        "verified": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(exist_ok=True)
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as err:
        log.warning("verified %s, but could not record it in %s (%s): offline pulls of it will be refused",
                    snapshot.name, path, err)  # fmt: skip


def _verified_before(snapshot: Path, data: bytes) -> str | None:
    """When this commit was verified online here, if its record names exactly this files list."""
    path = _record_file(snapshot)
    try:
        record = json.loads(path.read_text()) if path is not None else None
    except (OSError, ValueError):
        return None
    if (
        not isinstance(record, dict)
        or record.get("commit") != snapshot.name
        or record.get("files_manifest_sha256") != hashlib.sha256(data).hexdigest()
    ):
        return None
    return str(record.get("verified") or "an unknown date")


def _discard_partial_snapshot(repo: str, revision: str | None, cache_dir: str | os.PathLike | None) -> None:
    """Remove the snapshot folder a failed download of ``repo`` at ``revision`` left (its good blobs stay)."""
    from huggingface_hub import constants

    storage = Path(cache_dir if cache_dir is not None else constants.HF_HUB_CACHE)
    storage = storage / ("models--" + repo.replace("/", "--"))
    commit = revision or "main"
    if not _SHA1.fullmatch(commit):
        ref = storage / "refs" / commit
        commit = ref.read_text().strip() if ref.is_file() else ""
    if commit and (storage / "snapshots" / commit).is_dir():
        _discard_snapshot(storage / "snapshots" / commit, [])


def _discard_snapshot(snapshot: Path, bad: list[str]) -> None:
    """Remove a snapshot folder and the cached blobs behind its ``bad`` files, and nothing else.

    Only a folder laid out as huggingface_hub's cache (``models--ns--name/snapshots/<sha>``) is touched,
    and only blobs inside that repo's ``blobs/`` folder. Good blobs stay: other snapshots may share them.
    """
    storage = snapshot.parent.parent
    if snapshot.parent.name != "snapshots" or not storage.name.startswith("models--"):
        log.warning("not removing %s: not a snapshot folder of the Hugging Face cache", snapshot)
        return
    if (record := _record_file(snapshot)) is not None:
        record.unlink(missing_ok=True)  # what was verified is gone; the next pull verifies online again
    blobs = (storage / "blobs").resolve()
    for path in bad:
        link = snapshot / path
        if link.is_symlink():
            target = link.resolve()
            if target.parent == blobs:
                target.unlink(missing_ok=True)
    shutil.rmtree(snapshot, ignore_errors=True)
