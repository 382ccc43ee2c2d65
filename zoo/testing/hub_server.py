"""A writable Hugging Face Hub on 127.0.0.1, so publish/download code can be tested without the network.

`HubServer` speaks the HTTP API that ``huggingface_hub`` 2.4 calls for a whole publish/download cycle:
create/delete repo, whoami, model-card validation, repo info, tree, paths-info, preupload, NDJSON
commits, commit history, refs, tags, branches, settings and ``resolve`` (HEAD and GET, with Range). Repos
are stored as git commits (real git object ids: blob, tree and commit shas are what git would compute),
on branches and tags, so a file at any past commit stays downloadable. Users are token -> name pairs;
private repos answer 401 (no token) or 404 (someone else's token) with ``X-Error-Code: RepoNotFound``,
as the real Hub does. Standard library only; PyYAML, which huggingface_hub itself requires, is imported
lazily (through ``srmzoo.recipe.load_yaml``) to read card metadata.

Where it differs from the real Hub, on purpose:

- preupload answers ``"regular"`` for every file, so contents travel base64-inline in the commit and no
  Xet/LFS storage service is needed. Files the real Hub keeps in LFS (matched by ``filter=lfs`` in the
  repo's ``.gitattributes``, or larger than ``lfs_threshold`` bytes) are still *described* as LFS files:
  their tree entries carry ``lfs.oid`` (sha256) and resolve answers with ``X-Linked-Etag`` (sha256) and
  ``X-Linked-Size``. They carry no ``xetHash``, so clients fetch them with a plain HTTP GET.
- No pull requests, discussions, gating, Space runtimes, ``.gitignore`` enforcement or rate limits.
- Request bodies are capped (``max_body_bytes``, 64 MiB by default): a larger ``Content-Length`` (or
  chunked total) gets a 413 with a JSON error before any of the body is read; a ``Content-Length`` that is
  not a plain byte count gets a 400. Either way the connection is closed and the server keeps serving.

What huggingface_hub 2.4 checks when it downloads (``file_download.py``): ``http_get`` counts the bytes
it received and compares them with the size from the metadata HEAD (``X-Linked-Size``, else
``Content-Length``); a difference raises ``OSError("Consistency check failed: ...")``. Nothing hashes the
downloaded bytes: the ETag only names the blob in the cache. (In ``local_dir`` mode it hashes an
*existing* local file to skip a download when its sha256 equals an LFS ETag; that is not a check of what
it downloads.) ``HfApi.verify_repo_checksums`` is the one place that hashes local files against the
Hub's tree (git sha1, or sha256 for LFS files), and only when called explicitly. `HubServer.tamper`
corrupts the bytes ``resolve`` serves while the HEAD, the tree and paths-info keep advertising the
original ETag, size and hashes, so both behaviours can be exercised; ``tamper(..., mode="replace",
data=...)`` serves chosen bytes (a forger's), and `HubServer.drop` makes chosen requests go unanswered, as a
proxy that drops them would.

>>> import urllib.request
>>> with HubServer(tokens={"hf_testtoken": "alice"}) as hub:
...     _ = hub.create_repo("alice/demo")
...     _ = hub.commit("alice/demo", {"config.json": b'{"r": 8}'})
...     urllib.request.urlopen(f"{hub.url}/alice/demo/resolve/main/config.json").read()
b'{"r": 8}'
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import json
import logging
import mimetypes
import re
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import SrmzooError, close_names

__all__ = [
    "DEFAULT_GITATTRIBUTES",
    "DEFAULT_MAX_BODY_BYTES",
    "HUB_LICENSES",
    "HubRequest",
    "HubServer",
    "TamperMode",
    "git_blob_id",
]

logger = logging.getLogger(__name__)

TamperMode = Literal["flip", "truncate", "replace"]
_TAMPER_MODES: tuple[str, ...] = ("flip", "truncate", "replace")
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_LINE_LIMIT = 65536  # bytes in one chunk-size or trailer line, as http.server limits header lines
# After a 413, the body still coming is read and dropped: for at most this long, and until the client is
# idle for _LINGER_IDLE_S.
_LINGER_S = 5.0
_LINGER_IDLE_S = 1.0
_REPO_TYPES = ("model", "dataset", "space")

# The .gitattributes the Hub writes into the initial commit of a new repo (its standard LFS list).
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
        "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
        "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
        "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
    )
)  # fmt: skip

# License ids the Hub accepts in card metadata (hub-docs "Licenses" table plus later additions).
_LICENSE_TABLE = """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda
    cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
    cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0
    cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0
    etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research
    intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql
    ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license fair-noncommercial-research-license
    llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma unknown other
"""
HUB_LICENSES = frozenset(_LICENSE_TABLE.split())

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_FRONT_MATTER = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")  # huggingface_hub's own
_EMPTY_CARD_WARNING = "Empty or missing yaml metadata in repo card"
_STATE_FILE = "hub.json"


def git_blob_id(data: bytes) -> str:
    """The git object id of a blob holding ``data``: what the Hub reports as a regular file's oid and ETag.

    Args:
        data: The file's bytes.

    Returns:
        40 lowercase hex digits.

    >>> git_blob_id(b"")
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _tree_ids(files: Mapping[str, str]) -> dict[str, str]:
    """Git tree ids of every folder ("" is the root) of a flat ``{path: git blob id}`` listing."""
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path, oid in files.items():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            children.setdefault(folder, {})
            children["/".join(parts[: depth - 1])][parts[depth - 1]] = ("40000", folder)
        children["/".join(parts[:-1])][parts[-1]] = ("100644", oid)
    ids: dict[str, str] = {}
    for folder in sorted(children, key=lambda f: f.count("/") + 1 if f else 0, reverse=True):
        entries = children[folder]
        body = b"".join(
            f"{mode} {name}".encode() + b"\0" + bytes.fromhex(ids[ref] if mode == "40000" else ref)
            for name, (mode, ref) in sorted(
                entries.items(), key=lambda item: item[0] + "/" if item[1][0] == "40000" else item[0]
            )
        )
        ids[folder] = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
    return ids


def _commit_id(tree: str, parents: list[str], author: str, timestamp: int, message: str) -> str:
    ident = f"{author} <{author}@users.noreply.huggingface.co> {timestamp} +0000"
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents), f"author {ident}", f"committer {ident}"]
    body = ("\n".join(lines) + f"\n\n{message}\n").encode()
    return hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()


def _now() -> tuple[int, str]:
    now = datetime.now(timezone.utc)
    return int(now.timestamp()), now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _lfs_rules(gitattributes: str) -> list[tuple[str, bool]]:
    rules = []
    for line in gitattributes.splitlines():
        pattern, *attrs = line.split() or [""]
        if not pattern or pattern.startswith("#"):
            continue
        if "filter=lfs" in attrs:
            rules.append((pattern, True))
        elif any(a in ("-filter", "!filter") or a.startswith("filter=") for a in attrs):
            rules.append((pattern, False))
    return rules


def _attribute_matches(pattern: str, path: str) -> bool:
    if "/" not in pattern:  # like .gitignore: a slash-free pattern matches the name at any depth
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern.lstrip("/"))


def _tampered(data: bytes, mode: str, replacement: bytes | None = None) -> bytes:
    if mode == "replace":
        return replacement or b""
    if not data:
        return data
    if mode == "flip":  # one bit in the middle: the size is unchanged, only a content hash can tell
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    return data[: len(data) // 2]


# ----------------------------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class _Blob:
    size: int
    sha256: str


@dataclass(frozen=True)
class _Entry:
    oid: str  # git blob id of the content; the key of the blob store
    lfs: bool  # described as an LFS file (the repo would keep it in LFS on the real Hub)


@dataclass
class _Commit:
    sha: str
    parents: list[str]
    files: dict[str, _Entry]
    title: str
    message: str
    author: str
    date: str


@dataclass
class _Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    sdk: str | None = None
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    commits: dict[str, _Commit] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/")[0]

    @property
    def url_path(self) -> str:
        return self.repo_id if self.repo_type == "model" else f"{self.repo_type}s/{self.repo_id}"


class _HubError(Exception):
    """An HTTP error answer, with the ``X-Error-Code`` huggingface_hub maps to its exception types."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    def reply(self) -> _Reply:
        headers = {**self.headers, "X-Error-Message": self.message.encode("ascii", "replace").decode()}
        if self.code:
            headers["X-Error-Code"] = self.code
        return _json_reply({"error": self.message}, self.status, headers)


def _revision_not_found(revision: str) -> _HubError:
    return _HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")


class _Store:
    """Repos, commits and blobs, persisted as ``hub.json`` plus content-addressed blob files."""

    def __init__(self, root: Path, lfs_threshold: int):
        self.root = root
        self.lfs_threshold = lfs_threshold
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], _Repo] = {}
        self.blobs: dict[str, _Blob] = {}
        # (repo type, repo id, path) -> (commit sha or None for every commit, mode, bytes for "replace")
        self.tampering: dict[tuple[str, str, str], tuple[str | None, str, bytes | None]] = {}
        self._trees: dict[str, dict[str, str]] = {}
        try:
            (root / "blobs").mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SrmzooError(
                f"cannot keep a test Hub in {root}: {err}", hint="pass a writable folder"
            ) from err
        if (root / _STATE_FILE).exists():
            self._load()

    # persistence
    def _load(self) -> None:
        try:
            state = json.loads((self.root / _STATE_FILE).read_text())
            self.blobs = {oid: _Blob(*blob) for oid, blob in state["blobs"].items()}
            for raw in state["repos"]:
                commits = {
                    sha: _Commit(**{**c, "files": {p: _Entry(*e) for p, e in c["files"].items()}})
                    for sha, c in raw.pop("commits").items()
                }
                repo = _Repo(**raw, commits=commits)
                self.repos[(repo.repo_type, repo.repo_id)] = repo
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SrmzooError(
                f"cannot read the test Hub state in {self.root / _STATE_FILE}: {err}",
                hint="pass an empty or fresh root= directory, or delete the corrupt state file",
            ) from err

    def save(self) -> None:
        repos = []
        for repo in self.repos.values():
            raw = {f.name: getattr(repo, f.name) for f in fields(repo)}
            raw["commits"] = {
                sha: {**asdict(c), "files": {p: [e.oid, e.lfs] for p, e in c.files.items()}}
                for sha, c in repo.commits.items()
            }
            repos.append(raw)
        state = {"blobs": {oid: [b.size, b.sha256] for oid, b in self.blobs.items()}, "repos": repos}
        tmp = self.root / f"{_STATE_FILE}.tmp"
        tmp.write_text(json.dumps(state))
        tmp.replace(self.root / _STATE_FILE)

    # blobs
    def blob_path(self, oid: str) -> Path:
        return self.root / "blobs" / oid[:2] / oid[2:]

    def put_blob(self, data: bytes) -> str:
        oid = git_blob_id(data)
        if oid not in self.blobs:
            path = self.blob_path(oid)
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            self.blobs[oid] = _Blob(len(data), hashlib.sha256(data).hexdigest())
        return oid

    def read_blob(self, oid: str) -> bytes:
        return self.blob_path(oid).read_bytes()

    def git_oid(self, entry: _Entry) -> str:
        """The id git stores for the entry: the LFS pointer's id for LFS files, as on the real Hub."""
        if not entry.lfs:
            return entry.oid
        blob = self.blobs[entry.oid]
        return git_blob_id(_lfs_pointer(blob.sha256, blob.size))

    def tree_ids(self, commit: _Commit) -> dict[str, str]:
        if commit.sha not in self._trees:
            self._trees[commit.sha] = _tree_ids({p: self.git_oid(e) for p, e in commit.files.items()})
        return self._trees[commit.sha]

    # repos
    def get(self, repo_type: str, repo_id: str) -> _Repo | None:
        return self.repos.get((repo_type, repo_id))

    def create_repo(
        self, repo_type: str, repo_id: str, *, private: bool, author: str, sdk: str | None
    ) -> _Repo:
        with self.lock:
            _, created_at = _now()
            repo = _Repo(repo_type, repo_id, private, created_at, sdk)
            self.repos[(repo_type, repo_id)] = repo
            repo.branches["main"] = ""
            self.commit(repo, "main", [("add", ".gitattributes", DEFAULT_GITATTRIBUTES.encode())],
                        title="initial commit", description="", author=author)  # fmt: skip
            return repo

    def delete_repo(self, repo: _Repo) -> None:
        with self.lock:
            del self.repos[(repo.repo_type, repo.repo_id)]
            for key in [k for k in self.tampering if k[:2] == (repo.repo_type, repo.repo_id)]:
                del self.tampering[key]
            self.save()

    def resolve(self, repo: _Repo, revision: str) -> str:
        """The commit sha a branch, tag (``refs/heads/``/``refs/tags/`` forms too) or full sha names."""
        for refs, prefix in ((repo.branches, "refs/heads/"), (repo.tags, "refs/tags/")):
            name = revision.removeprefix(prefix)
            if name in refs:
                return refs[name]
        if revision in repo.commits:
            return revision
        raise _revision_not_found(revision)

    def commit(
        self,
        repo: _Repo,
        branch: str,
        operations: Iterable[tuple[str, str, Any]],
        *,
        title: str,
        description: str,
        author: str,
        parent_commit: str | None = None,
    ) -> _Commit:
        """Apply ``(kind, path, payload)`` operations on top of ``branch`` and move the branch to the result.

        Kinds: ``add`` (payload: bytes), ``add_lfs`` (payload: sha256 of a blob already stored),
        ``delete_file`` and ``delete_folder`` (no payload).
        """
        with self.lock:
            head_sha = repo.branches[branch]
            if parent_commit and not head_sha.startswith(parent_commit):
                raise _HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(repo.commits[head_sha].files) if head_sha else {}
            added: dict[str, str] = {}
            for kind, path, payload in operations:
                if kind == "add":
                    added[path] = self.put_blob(payload)
                    files[path] = _Entry(added[path], False)
                elif kind == "add_lfs":
                    oid = next((o for o, b in self.blobs.items() if b.sha256 == payload), None)
                    if oid is None:
                        raise _HubError(
                            400, f"LFS object {payload} for {path} was never uploaded to this Hub"
                        )
                    files[path] = _Entry(oid, False)
                    added[path] = oid
                elif kind == "delete_file":
                    if files.pop(path, None) is None:
                        raise _HubError(
                            404, f"A file with this name doesn't exist: {path}", code="EntryNotFound"
                        )
                    added.pop(path, None)
                else:  # delete_folder
                    doomed = [p for p in files if p.startswith(f"{path}/")]
                    if not doomed:
                        raise _HubError(
                            404, f"A folder with this name doesn't exist: {path}", code="EntryNotFound"
                        )
                    for p in doomed:
                        del files[p]
                        added.pop(p, None)
            for path in files:
                parts = path.split("/")
                for depth in range(1, len(parts)):
                    if "/".join(parts[:depth]) in files:
                        raise _HubError(400, f"cannot commit {path}: {'/'.join(parts[:depth])} is a file")
            # Like git, the attributes decide a file's storage when it is added; older files keep theirs.
            attributes = files.get(".gitattributes")
            rules = _lfs_rules(self.read_blob(attributes.oid).decode(errors="replace")) if attributes else []
            for path, oid in added.items():
                lfs = self.blobs[oid].size > self.lfs_threshold
                for pattern, is_lfs in rules:
                    if _attribute_matches(pattern, path):
                        lfs = is_lfs or self.blobs[oid].size > self.lfs_threshold
                files[path] = _Entry(oid, lfs)
            timestamp, date = _now()
            parents = [head_sha] if head_sha else []
            message = title + (f"\n\n{description}" if description else "")
            tree = _tree_ids({p: self.git_oid(e) for p, e in files.items()})[""]
            sha = _commit_id(tree, parents, author, timestamp, message)
            commit = _Commit(sha, parents, files, title, description, author, date)
            repo.commits[sha] = commit
            repo.branches[branch] = sha
            self.save()
            return commit

    def tampered(self, repo: _Repo, path: str, sha: str) -> tuple[str, bytes | None] | None:
        """The tamper mode (and replacement bytes) for ``path`` at commit ``sha``; None: serve it faithfully."""
        rule = self.tampering.get((repo.repo_type, repo.repo_id, path))
        return (rule[1], rule[2]) if rule is not None and rule[0] in (None, sha) else None


# -------------------------------------------------------------------------------------------- card checks


def _card_metadata(content: str) -> Any:
    """The card's YAML front matter, parsed (``None`` when there is none); ValueError if it is not YAML.

    Parsed with srmzoo's bounded reader (no anchors or aliases, 1 MiB, 32 levels), stricter than the
    Hub: any client can commit a README, and an alias bomb in it would blow up every repo-info answer
    that carries ``cardData``.
    """
    match = _FRONT_MATTER.search(content)
    if match is None:
        return None
    from ..recipe import load_yaml

    try:
        return load_yaml(match.group(2), source="README.md")
    except SrmzooError as err:
        raise ValueError(f"Invalid YAML in the card metadata: {err.message}") from None


def _string_list(value: Any, *, allow_string: bool) -> bool:
    if allow_string and isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _model_index_errors(model_index: Any) -> list[str]:
    if not isinstance(model_index, list):
        return ['"model-index" must be a list of models']
    errors = []
    for i, model in enumerate(model_index):
        where = f'"model-index[{i}]"'
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            errors.append(f"{where} needs a string 'name'")
            continue
        results = model.get("results")
        if not isinstance(results, list):
            errors.append(f"{where}.results must be a list")
            continue
        for j, result in enumerate(results):
            at = f"{where}.results[{j}]"
            task = result.get("task") if isinstance(result, dict) else None
            dataset = result.get("dataset") if isinstance(result, dict) else None
            metrics = result.get("metrics") if isinstance(result, dict) else None
            if not (isinstance(task, dict) and isinstance(task.get("type"), str)):
                errors.append(f"{at}.task needs a string 'type'")
            if not (
                isinstance(dataset, dict) and all(isinstance(dataset.get(k), str) for k in ("type", "name"))
            ):
                errors.append(f"{at}.dataset needs string 'type' and 'name'")
            if not (
                isinstance(metrics, list)
                and metrics
                and all(
                    isinstance(m, dict) and isinstance(m.get("type"), str) and "value" in m for m in metrics
                )
            ):
                errors.append(f"{at}.metrics must be a non-empty list of {{type, value}} mappings")
    return errors


def _card_problems(content: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a README's metadata, on the rules of the Hub that cards trip over most."""
    try:
        metadata = _card_metadata(content)
    except ValueError as err:
        return [str(err)], []
    if metadata is None or metadata == {}:
        return [], [_EMPTY_CARD_WARNING]
    if not isinstance(metadata, dict):
        return ["The card metadata must be a YAML mapping of keys to values"], []
    errors = []
    license_id = metadata.get("license")
    if license_id is not None and license_id not in HUB_LICENSES:
        close = close_names(str(license_id), HUB_LICENSES)
        errors.append(
            f'"license" must be one of the Hub\'s license ids, got {license_id!r}'
            + (f" (did you mean {', '.join(close)}?)" if close else " (use 'other' with license_name)")
        )
    for key in ("tags", "datasets", "metrics"):
        if key in metadata and not _string_list(metadata[key], allow_string=False):
            errors.append(f'"{key}" must be a list of strings')
    for key in ("language", "base_model"):
        if key in metadata and not _string_list(metadata[key], allow_string=True):
            errors.append(f'"{key}" must be a string or a list of strings')
    for key in ("pipeline_tag", "library_name", "license_name", "license_link"):
        if key in metadata and not isinstance(metadata[key], str):
            errors.append(f'"{key}" must be a string')
    relation = metadata.get("base_model_relation")
    if relation is not None and relation not in ("adapter", "merge", "quantized", "finetune"):
        errors.append('"base_model_relation" must be one of adapter, merge, quantized, finetune')
    if "model-index" in metadata:
        errors.extend(_model_index_errors(metadata["model-index"]))
    return errors, []


# ------------------------------------------------------------------------------------------------- HTTP


@dataclass
class _Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: tuple[Path, int, int] | None = None  # (blob path, start, length), streamed instead of body


def _json_reply(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Reply:
    body = json.dumps(payload, default=str).encode()  # default=str: YAML dates in card metadata
    return _Reply(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return any(v.lower() in ("1", "true") for v in query.get(name, []))


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError as err:
        raise _HubError(400, f"request body is not JSON: {err}") from err
    if not isinstance(payload, dict):
        raise _HubError(400, "request body must be a JSON object")
    return payload


def _repo_path(path: Any) -> str:
    """A file path inside a repo, checked the way the Hub rejects paths that escape or touch .git."""
    if not isinstance(path, str):
        raise _HubError(400, f"invalid path in repo: {path!r}")
    cleaned = path.strip("/")
    parts = cleaned.split("/")
    if not cleaned or "\\" in cleaned or any(p in ("", ".", "..") for p in parts) or parts[0] == ".git":
        raise _HubError(400, f"invalid path in repo: {path!r}")
    return cleaned


def _byte_range(header: str | None, total: int) -> tuple[int, int] | None:
    """``(start, stop)`` of a single ``bytes=`` range; None serves the whole file (as RFC 9110 allows)."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header or "")
    if match is None or match[1] == match[2] == "":
        return None
    if match[1] == "":
        start, stop = max(0, total - int(match[2])), total
    else:
        start, stop = int(match[1]), min(total, int(match[2]) + 1) if match[2] else total
    if start >= stop:
        raise _HubError(416, f"range {header} not satisfiable", headers={"Content-Range": f"bytes */{total}"})
    return start, stop


class _HubApp:
    """Routes requests to the store: ``(method, path, query, headers, body) -> _Reply``."""

    def __init__(self, store: _Store, tokens: Mapping[str, str], orgs: Mapping[str, frozenset[str]]):
        self.store = store
        self.tokens = dict(tokens)
        self.orgs = dict(orgs)
        self.base_url = ""

    # auth
    def caller(self, authorization: str | None) -> str | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return user

    def can_write(self, user: str | None, namespace: str) -> bool:
        return user is not None and (user == namespace or user in self.orgs.get(namespace, ()))

    def readable(self, repo_type: str, repo_id: str, user: str | None) -> _Repo:
        repo = self.store.get(repo_type, repo_id)
        if repo is None or (repo.private and not self.can_write(user, repo.namespace)):
            # The Hub cannot tell "missing" from "private" to an outsider: 401 anonymous, 404 signed in.
            raise _HubError(401 if user is None else 404, "Repository not found", code="RepoNotFound")
        return repo

    def writable(self, repo_type: str, repo_id: str, user: str | None) -> _Repo:
        repo = self.readable(repo_type, repo_id, user)
        if not self.can_write(user, repo.namespace):
            raise _HubError(
                401 if user is None else 403,
                f"You don't have write access to {repo_type} repo {repo_id}"
                + (": send a token" if user is None else f" as {user}"),
            )
        return repo

    # dispatch
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> _Reply:
        with self.store.lock:  # one request at a time touches the metadata; file bodies stream outside
            return self._dispatch(method, path, query, headers, body)

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> _Reply:
        segments = [unquote(s) for s in path.split("/")[1:]]
        user = self.caller(headers.get("Authorization"))
        route = "GET" if method == "HEAD" else method
        if segments[:1] == ["api"]:
            return self._api(route, segments[1:], query, headers, body, user)
        if route == "GET":
            repo_type = "model"
            if segments[:1] in (["datasets"], ["spaces"]):
                repo_type, segments = segments[0][:-1], segments[1:]
            if len(segments) >= 5 and segments[2] == "resolve":
                ns, name, _, revision, *file_path = segments
                file_path = "/".join(file_path)
                return self.resolve_file(
                    repo_type, f"{ns}/{name}", revision, file_path, method, headers, user
                )
        raise _HubError(404, f"this test Hub has no route for {method} {path}")

    def _api(self, method: str, segments: list[str], query, headers, body: bytes, user: str | None) -> _Reply:
        match (method, segments):
            case ("GET", ["whoami-v2"]):
                return self.whoami(user)
            case ("POST", ["validate-yaml"]):
                return self.validate_yaml(_json_body(body), headers.get("Accept", ""))
            case ("POST", ["repos", "create"]):
                return self.create_repo(_json_body(body), user)
            case ("DELETE", ["repos", "delete"]):
                payload = _json_body(body)
                repo_type = payload.get("type") or "model"
                repo_id = f"{payload.get('organization') or user}/{payload.get('name')}"
                self.store.delete_repo(self.writable(repo_type, repo_id, user))
                return _json_reply({})
            case (_, [plural, ns, name, *rest]) if plural in ("models", "datasets", "spaces"):
                return self._repo_api(method, plural[:-1], f"{ns}/{name}", rest, query, body, user)
        raise _HubError(404, f"this test Hub has no route for {method} /api/{'/'.join(segments)}")

    def _repo_api(self, method, repo_type, repo_id, rest, query, body: bytes, user: str | None) -> _Reply:
        store = self.store
        match (method, rest):
            case ("GET", []) | ("GET", ["revision", *_]):
                repo = self.readable(repo_type, repo_id, user)
                sha = store.resolve(repo, "/".join(rest[1:]) or "main")
                return _json_reply(self.info(repo, sha, query))
            case ("GET", ["tree", revision, *path]):
                repo = self.readable(repo_type, repo_id, user)
                return self.tree(repo, store.resolve(repo, revision), "/".join(path), query)
            case ("POST", ["paths-info", *revision]):
                repo = self.readable(repo_type, repo_id, user)
                return self.paths_info(repo, store.resolve(repo, "/".join(revision)), body)
            case ("POST", ["preupload", *revision]):
                repo = self.writable(repo_type, repo_id, user)
                return self.preupload(repo, store.resolve(repo, "/".join(revision)), _json_body(body))
            case ("POST", ["commit", *revision]):
                repo = self.writable(repo_type, repo_id, user)
                return self.commit(repo, "/".join(revision), query, body, user)
            case ("GET", ["commits", *revision]):
                repo = self.readable(repo_type, repo_id, user)
                return self.history(repo, store.resolve(repo, "/".join(revision)))
            case ("GET", ["refs"]):
                repo = self.readable(repo_type, repo_id, user)
                return self.refs(repo)
            case ("POST", ["tag", *revision]):
                repo = self.writable(repo_type, repo_id, user)
                return self.create_ref(
                    repo, repo.tags, _json_body(body).get("tag"), "/".join(revision), "Tag"
                )
            case ("DELETE", ["tag", *tag]):
                return self.delete_ref(self.writable(repo_type, repo_id, user), "/".join(tag), "tag")
            case ("POST", ["branch", *branch]):
                repo = self.writable(repo_type, repo_id, user)
                start = _json_body(body).get("startingPoint") or "main"
                return self.create_ref(repo, repo.branches, "/".join(branch), start, "Branch")
            case ("DELETE", ["branch", *branch]):
                return self.delete_ref(self.writable(repo_type, repo_id, user), "/".join(branch), "branch")
            case ("PUT", ["settings"]):
                return self.settings(self.writable(repo_type, repo_id, user), _json_body(body))
            case ("GET", ["auth-check"]):
                self.readable(repo_type, repo_id, user)
                return _json_reply({})
            case ("GET", ["auth-check", "write"]):
                self.writable(repo_type, repo_id, user)
                return _json_reply({})
        raise _HubError(404, f"this test Hub has no route for {method} .../{'/'.join(rest)} on {repo_id}")

    # routes
    def whoami(self, user: str | None) -> _Reply:
        if user is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        orgs = sorted(org for org, members in self.orgs.items() if user in members)
        return _json_reply(
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "isPro": False,
                "canPay": False,
                "avatarUrl": "",
                "orgs": [{"type": "org", "name": org, "fullname": org, "roleInOrg": "write"} for org in orgs],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "srmzoo-test-hub", "role": "write"},
                },
            }
        )

    def validate_yaml(self, payload: dict[str, Any], accept: str) -> _Reply:
        errors, warnings = _card_problems(str(payload.get("content", "")))
        status = 400 if errors else 200
        if "text/plain" in accept:  # ModelCard.validate asks for text and raises ValueError(response.text)
            return _Reply(status, {"Content-Type": "text/plain; charset=utf-8"}, "\n".join(errors).encode())
        return _json_reply(
            {"errors": [{"message": m} for m in errors], "warnings": [{"message": m} for m in warnings]},
            status,
        )

    def create_repo(self, payload: dict[str, Any], user: str | None) -> _Reply:
        if user is None:
            raise _HubError(401, "You must send a token to create a repo")
        repo_type = payload.get("type") or "model"
        name, namespace = payload.get("name"), payload.get("organization") or user
        if repo_type not in _REPO_TYPES:
            raise _HubError(400, f"unknown repo type {repo_type!r}; use one of {', '.join(_REPO_TYPES)}")
        for part in (namespace, name):
            if not (
                isinstance(part, str) and _NAME.fullmatch(part) and ".." not in part and "--" not in part
            ):
                raise _HubError(400, f"invalid repo name {namespace}/{name}")
        if not self.can_write(user, namespace):
            raise _HubError(
                403, f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"'
            )
        repo_id = f"{namespace}/{name}"
        existing = self.store.get(repo_type, repo_id)
        if existing is not None:
            url = f"{self.base_url}/{existing.url_path}"
            return _json_reply({"error": f"You already created this {repo_type} repo", "url": url}, 409)
        private = payload.get("visibility") == "private" or payload.get("private") is True
        repo = self.store.create_repo(
            repo_type, repo_id, private=private, author=user, sdk=payload.get("sdk")
        )
        return _json_reply({"url": f"{self.base_url}/{repo.url_path}", "name": repo_id, "id": repo_id})

    def settings(self, repo: _Repo, payload: dict[str, Any]) -> _Reply:
        if payload.get("gated") not in (None, False):
            raise _HubError(400, "gated repos are not supported by this test Hub")
        if "visibility" in payload or "private" in payload:
            repo.private = payload.get("visibility") == "private" or payload.get("private") is True
        self.store.save()
        return _json_reply({})

    def info(self, repo: _Repo, sha: str, query: dict[str, list[str]]) -> dict[str, Any]:
        store = self.store
        commit = repo.commits[sha]
        blobs = _flag(query, "blobs")
        siblings = []
        for path, entry in sorted(commit.files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                blob = store.blobs[entry.oid]
                sibling.update(size=blob.size, blobId=store.git_oid(entry))
                if entry.lfs:
                    pointer = len(_lfs_pointer(blob.sha256, blob.size))
                    sibling["lfs"] = {"sha256": blob.sha256, "size": blob.size, "pointerSize": pointer}
            siblings.append(sibling)
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo.repo_type}/{repo.repo_id}".encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.namespace,
            "sha": sha,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(store.blobs[e.oid].size for e in commit.files.values()),
        }
        readme = commit.files.get("README.md")
        if readme is not None:
            try:
                card = _card_metadata(store.read_blob(readme.oid).decode("utf-8-sig"))
            except (
                ValueError,
                UnicodeDecodeError,
            ):  # an unparsable card simply has no cardData, as on the Hub
                card = None
            if isinstance(card, dict):
                info["cardData"] = card
                info["tags"] = [t for t in card.get("tags") or [] if isinstance(t, str)]
                for key in ("library_name", "pipeline_tag"):
                    if isinstance(card.get(key), str):
                        info[key] = card[key]
        if repo.repo_type == "model":
            info.update(modelId=repo.repo_id, spaces=[])
        if repo.repo_type == "space":
            info["sdk"] = repo.sdk
        expand = query.get("expand", []) + query.get("expand[]", [])
        if expand:
            info = {key: value for key, value in info.items() if key in {"_id", "id", *expand}}
        return info

    def _path_entry(self, repo: _Repo, commit: _Commit, path: str, expand: bool) -> dict[str, Any] | None:
        store = self.store
        entry = commit.files.get(path)
        if entry is not None:
            blob = store.blobs[entry.oid]
            item: dict[str, Any] = {
                "type": "file",
                "oid": store.git_oid(entry),
                "size": blob.size,
                "path": path,
            }
            if entry.lfs:
                pointer = len(_lfs_pointer(blob.sha256, blob.size))
                item["lfs"] = {"oid": blob.sha256, "size": blob.size, "pointerSize": pointer}
        elif path in store.tree_ids(commit):
            item = {"type": "directory", "oid": store.tree_ids(commit)[path], "size": 0, "path": path}
        else:
            return None
        if expand:
            last = self._last_change(repo, commit, path, item["oid"])
            item["lastCommit"] = {"id": last.sha, "title": last.title, "date": last.date}
        return item

    def _last_change(self, repo: _Repo, commit: _Commit, path: str, oid: str) -> _Commit:
        def oid_at(c: _Commit) -> str | None:
            entry = c.files.get(path)
            return self.store.git_oid(entry) if entry else self.store.tree_ids(c).get(path)

        while commit.parents and oid_at(parent := repo.commits[commit.parents[0]]) == oid:
            commit = parent
        return commit

    def tree(self, repo: _Repo, sha: str, folder: str, query: dict[str, list[str]]) -> _Reply:
        commit = repo.commits[sha]
        folder = folder.strip("/")
        if folder and folder not in self.store.tree_ids(commit):
            raise _HubError(404, f"{folder} is not a folder at {sha}", code="EntryNotFound",
                            headers={"X-Repo-Commit": sha})  # fmt: skip
        recursive, expand = _flag(query, "recursive"), _flag(query, "expand")
        prefix = f"{folder}/" if folder else ""
        paths = {p for p in [*commit.files, *self.store.tree_ids(commit)] if p and p.startswith(prefix)}
        if not recursive:
            paths = {p for p in paths if "/" not in p[len(prefix) :]}
        entries = [self._path_entry(repo, commit, p, expand) for p in sorted(paths)]
        return _json_reply(entries)

    def paths_info(self, repo: _Repo, sha: str, body: bytes) -> _Reply:
        text = body.decode(errors="replace")
        if text.lstrip().startswith("{"):
            payload = _json_body(body)
            paths, expand = payload.get("paths") or [], bool(payload.get("expand"))
        else:  # huggingface_hub posts a form: paths=a&paths=b&expand=false
            form = parse_qs(text, keep_blank_values=True)
            paths, expand = form.get("paths", []), _flag(form, "expand")
        commit = repo.commits[sha]
        found = [
            self._path_entry(repo, commit, str(p).strip("/"), expand) for p in paths if str(p).strip("/")
        ]
        return _json_reply([item for item in found if item is not None])

    def preupload(self, repo: _Repo, sha: str, payload: dict[str, Any]) -> _Reply:
        files = repo.commits[sha].files
        answer = []
        for item in payload.get("files") or []:
            path = _repo_path(item.get("path") if isinstance(item, dict) else None)
            existing = files.get(path)
            # "regular" for all: contents come inline and no Xet/LFS service is needed. The oid lets the
            # client skip unchanged files; for a regular upload it compares git blob ids.
            answer.append({"path": path, "uploadMode": "regular", "shouldIgnore": False,
                           "oid": existing.oid if existing else None})  # fmt: skip
        return _json_reply({"files": answer, "commitOid": sha})

    def commit(self, repo: _Repo, revision: str, query, body: bytes, user: str | None) -> _Reply:
        if _flag(query, "create_pr"):
            raise _HubError(400, "pull requests are not supported by this test Hub; commit to a branch")
        branch = revision.removeprefix("refs/heads/")
        if branch not in repo.branches:
            if branch in repo.tags or branch in repo.commits:
                raise _HubError(400, f"Invalid rev id: {revision} is not a branch; commits go on branches")
            raise _revision_not_found(revision)
        try:
            items = [json.loads(line) for line in body.splitlines() if line.strip()]
        except ValueError as err:
            raise _HubError(400, f"commit body is not NDJSON: {err}") from err
        if not items or not isinstance(items[0], dict) or items[0].get("key") != "header":
            raise _HubError(400, "the first NDJSON line of a commit must be its header")
        header = items[0].get("value") or {}
        operations: list[tuple[str, str, Any]] = []
        for item in items[1:]:
            key = item.get("key") if isinstance(item, dict) else None
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, dict):
                raise _HubError(400, f"commit operation without a value: {item!r}"[:200])
            path = _repo_path(value.get("path"))
            if key == "file":
                content = value.get("content", "")
                try:
                    data = (
                        base64.b64decode(content, validate=True)
                        if value.get("encoding", "base64") == "base64"
                        else str(content).encode()
                    )
                except (binascii.Error, TypeError) as err:
                    raise _HubError(400, f"content of {path} is not valid base64: {err}") from err
                operations.append(("add", path, data))
            elif key == "lfsFile":
                operations.append(("add_lfs", path, value.get("oid")))
            elif key in ("deletedFile", "deletedFolder"):
                operations.append(("delete_file" if key == "deletedFile" else "delete_folder", path, None))
            else:
                raise _HubError(400, f"unknown commit operation {key!r}")
        commit = self.store.commit(
            repo,
            branch,
            operations,
            title=str(header.get("summary") or "Upload files"),
            description=str(header.get("description") or ""),
            author=user or "anonymous",
            parent_commit=header.get("parentCommit"),
        )
        return _json_reply(
            {
                "success": True,
                "commitOid": commit.sha,
                "commitUrl": f"{self.base_url}/{repo.url_path}/commit/{commit.sha}",
                "hookOutput": "",
                "pullRequestUrl": None,
            }
        )

    def history(self, repo: _Repo, sha: str) -> _Reply:
        history = []
        while sha:
            commit = repo.commits[sha]
            history.append(
                {
                    "id": commit.sha,
                    "title": commit.title,
                    "message": commit.message,
                    "authors": [{"user": commit.author, "avatar": None}],
                    "date": commit.date,
                }
            )
            sha = commit.parents[0] if commit.parents else ""
        return _json_reply(history)

    def refs(self, repo: _Repo) -> _Reply:
        def listed(refs: dict[str, str], prefix: str) -> list[dict[str, str]]:
            return [{"name": n, "ref": f"{prefix}{n}", "targetCommit": s} for n, s in sorted(refs.items())]

        return _json_reply(
            {
                "branches": listed(repo.branches, "refs/heads/"),
                "tags": listed(repo.tags, "refs/tags/"),
                "converts": [],
                "pullRequests": [],
            }
        )

    def create_ref(self, repo: _Repo, refs: dict[str, str], name: Any, start: str, kind: str) -> _Reply:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][\w.\-/]*", name) or ".." in name:
            raise _HubError(400, f"invalid {kind.lower()} name {name!r}")
        if name.startswith("refs/") or _SHA1.fullmatch(name):
            raise _HubError(400, f"invalid {kind.lower()} name {name!r}: it would read as a ref or a commit")
        sha = self.store.resolve(repo, start)
        if name in repo.branches or name in repo.tags:
            raise _HubError(409, f"{kind} {name} already exists (branch and tag names share one space here)")
        refs[name] = sha
        self.store.save()
        return _json_reply({})

    def delete_ref(self, repo: _Repo, name: str, kind: str) -> _Reply:
        refs = repo.branches if kind == "branch" else repo.tags
        if kind == "branch" and name == "main":
            raise _HubError(403, "the default branch main cannot be deleted")
        if name not in refs:
            raise _HubError(404, f"{kind} {name} does not exist", code="RevisionNotFound")
        del refs[name]
        self.store.save()
        return _json_reply({})

    def resolve_file(
        self, repo_type: str, repo_id: str, revision: str, path: str, method: str, headers, user
    ):
        store = self.store
        repo = self.readable(repo_type, repo_id, user)
        sha = store.resolve(repo, revision)
        entry = repo.commits[sha].files.get(path)
        if entry is None:
            # X-Repo-Commit lets the client cache the miss under .no_exist/<sha>/, as with the real Hub.
            raise _HubError(
                404, f"Entry not found: {path}", code="EntryNotFound", headers={"X-Repo-Commit": sha}
            )
        blob = store.blobs[entry.oid]
        # A HEAD always describes the stored file: tampering changes only the bytes a GET sends.
        tamper = store.tampered(repo, path, sha) if method == "GET" else None
        etag = blob.sha256 if entry.lfs else entry.oid
        reply_headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": mimetypes.guess_type(path)[0] or "application/octet-stream",
        }
        if entry.lfs:
            reply_headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(blob.size)})
        if tamper is not None:
            data = _tampered(store.read_blob(entry.oid), *tamper)
            span = _byte_range(headers.get("Range"), len(data))
            if span is None:
                return _Reply(200, reply_headers, data)
            reply_headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{len(data)}"
            return _Reply(206, reply_headers, data[span[0] : span[1]])
        span = _byte_range(headers.get("Range"), blob.size)
        if span is None:
            return _Reply(200, reply_headers, file=(store.blob_path(entry.oid), 0, blob.size))
        reply_headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{blob.size}"
        return _Reply(206, reply_headers, file=(store.blob_path(entry.oid), span[0], span[1] - span[0]))


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: _HubApp, log: list[HubRequest], max_body_bytes: int, dropping: list[str]):
        super().__init__(("127.0.0.1", 0), _HubRequestHandler)
        self.app = app
        self.log = log
        self.max_body_bytes = max_body_bytes
        self.dropping = dropping  # fnmatch patterns of request paths answered by closing the connection
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[override]
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections, so stop() leaves none behind."""
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub; so every body must be read to the end
    server: _HubHTTPServer
    timeout = 60
    # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK adds ~40 ms to
    # every request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("test hub: " + format, *args)

    def _read_body(self) -> bytes:
        """The request's body, all of it, or an error before more than ``max_body_bytes`` is read.

        Raises:
            _BodyTooLarge: the declared length (or the chunks so far) is over the limit; nothing more was read.
            ValueError: a Content-Length that is not one plain byte count, or a malformed chunked body.
        """
        limit = self.server.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while size := self._chunk_size():
                total += size
                if total > limit:
                    raise _BodyTooLarge(total)
                chunk = self.rfile.read(size)
                if len(chunk) != size:
                    raise ValueError("chunked body ended early")
                chunks.append(chunk)
                self.rfile.readline(_LINE_LIMIT)
            for _ in range(100):  # trailers, up to the blank line
                if self.rfile.readline(_LINE_LIMIT + 1) in (b"\r\n", b"\n", b""):
                    break
            else:
                raise ValueError("too many trailer lines")
            return b"".join(chunks)
        declared = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not declared:
            return b""
        if len(declared) > 1 or not re.fullmatch(r"[0-9]{1,19}", next(iter(declared))):
            raise ValueError(f"Content-Length must be one byte count, got {sorted(declared)}")
        length = int(declared.pop())
        if length > limit:
            raise _BodyTooLarge(length)
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise ValueError("body ended before its Content-Length")
        return body

    def _chunk_size(self) -> int:
        line = self.rfile.readline(_LINE_LIMIT + 1)
        digits = line.split(b";")[0].strip()
        if len(line) > _LINE_LIMIT or not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", digits):
            raise ValueError(f"bad chunk size line {line[:40]!r}")
        return int(digits, 16)

    def _handle(self, method: str) -> None:
        limit = self.server.max_body_bytes
        linger = 0
        try:
            # Read the whole body before anything can fail: leftovers would be parsed as the next request.
            body = self._read_body()
        except _BodyTooLarge as err:
            self.close_connection = True  # the unread body cannot be framed as requests
            linger = err.size
            reply = _HubError(
                413,
                f"request body of {err.size} bytes is over this test Hub's limit of {limit} bytes "
                "(HubServer(max_body_bytes=...))",
            ).reply()
        except (ValueError, OverflowError) as err:
            self.close_connection = True  # the rest of the stream cannot be framed any more
            reply = _HubError(400, f"malformed Content-Length or chunked body: {err}").reply()
        except OSError:  # the client stalled past `timeout` or went away mid-body: nobody to answer
            self.close_connection = True
            self.server.log.append(HubRequest(method, self.path, 0))
            return
        else:
            url = urlsplit(self.path)
            if any(fnmatch.fnmatchcase(url.path, pattern) for pattern in self.server.dropping):
                self.close_connection = True  # no status line at all: the client sees a dropped connection
                self.server.log.append(HubRequest(method, self.path, 0))
                return
            try:
                reply = self.server.app.handle(method, url.path, parse_qs(url.query), self.headers, body)
            except _HubError as err:
                reply = err.reply()
            except Exception as err:  # a bug in the test Hub must reach the test as a clear 500, not a hang
                logger.exception("test hub failed on %s %s", method, self.path)
                reply = _json_reply({"error": f"test Hub internal error: {err!r}"}, 500)
        self.server.log.append(HubRequest(method, self.path, reply.status))
        self._send(reply, head=method == "HEAD")
        if linger:
            self._discard(linger)

    def _discard(self, declared: int) -> None:
        """Read and drop up to ``declared`` bytes the client still sends after a 413, for a while.

        A client that writes its whole body before reading the answer (http.client, httpx) would otherwise
        get a broken pipe or a reset instead of the 413: closing a socket with unread input sends a TCP RST.
        Nothing is kept, so memory stays flat whatever was declared.
        """
        deadline = time.monotonic() + _LINGER_S
        with contextlib.suppress(OSError):
            self.connection.settimeout(_LINGER_IDLE_S)
            while declared > 0 and time.monotonic() < deadline:
                data = self.connection.recv(min(declared, 1 << 20))
                if not data:
                    break
                declared -= len(data)

    def _send(self, reply: _Reply, *, head: bool) -> None:
        try:
            self.send_response(reply.status)
            length = reply.file[2] if reply.file else len(reply.body)
            for name, value in {**reply.headers, "Content-Length": str(length)}.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            if reply.file is None:
                self.wfile.write(reply.body)
                return
            path, start, remaining = reply.file
            with path.open("rb") as blob:
                blob.seek(start)
                while remaining > 0 and (chunk := blob.read(min(remaining, 1 << 20))):
                    self.wfile.write(chunk)
                    remaining -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up mid-answer: its business
            self.close_connection = True


class _BodyTooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


# ----------------------------------------------------------------------------------------------- public


class HubRequest(NamedTuple):
    """One request the server answered: method, path with query, and the status it got.

    >>> HubRequest("HEAD", "/alice/demo/resolve/main/README.md", 200).status
    200
    """

    method: str
    path: str
    status: int


class HubServer:
    """A local, writable Hugging Face Hub for tests; point ``HfApi(endpoint=server.url)`` at it.

    Args:
        tokens: Access token -> user name. Every token may write to its user's namespace and to the orgs
            the user belongs to; requests without a token can read public repos only.
        orgs: Organisation -> member user names (each member needs a token).
        root: Directory for repos and blobs. None uses a temporary directory removed by `stop`; a given
            directory is kept, and a server started on it again finds its repos.
        lfs_threshold: Files larger than this (bytes) are described as LFS files, like those matched by
            ``filter=lfs`` in the repo's ``.gitattributes``. The Hub's limit for regular files is 10 MiB.
        max_body_bytes: The largest request body accepted; a request declaring more gets a 413 before any
            of its body is read (commit contents travel base64-inline, so a commit may carry about 3/4 of it).

    Raises:
        SrmzooError: A token, user or org name is not a string the Hub would accept, or a size limit is not
            a byte count.

    >>> from huggingface_hub import HfApi
    >>> with HubServer(tokens={"hf_testtoken": "alice"}) as hub:
    ...     api = HfApi(endpoint=hub.url, token="hf_testtoken")
    ...     api.whoami()["name"], api.create_repo("alice/adapter").repo_id
    ('alice', 'alice/adapter')
    """

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        *,
        orgs: Mapping[str, Iterable[str]] | None = None,
        root: str | Path | None = None,
        lfs_threshold: int = 10 * 1024 * 1024,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ):
        tokens = dict(tokens or {})
        users = set(tokens.values())
        for token, user in tokens.items():
            if not isinstance(token, str) or not token.strip() or any(c.isspace() for c in token):
                raise SrmzooError(f"test Hub token {token!r} must be a non-empty string without spaces")
            if not isinstance(user, str) or not _NAME.fullmatch(user):
                raise SrmzooError(
                    f"test Hub user name {user!r} is not a valid Hub name", hint="use e.g. 'alice'"
                )
        members: dict[str, frozenset[str]] = {}
        for org, names in (orgs or {}).items():
            if not isinstance(org, str) or not _NAME.fullmatch(org) or org in users:
                raise SrmzooError(f"test Hub org name {org!r} is not a valid Hub name or clashes with a user")
            members[org] = frozenset(names)
            if strangers := sorted(members[org] - users):
                raise SrmzooError(
                    f"test Hub org {org!r} lists members without a token: {', '.join(strangers)}",
                    hint="give each member a token in tokens=",
                )
        if not isinstance(lfs_threshold, int) or lfs_threshold < 0:
            raise SrmzooError(f"lfs_threshold must be a byte count >= 0, got {lfs_threshold!r}")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 0:
            raise SrmzooError(
                f"max_body_bytes must be a byte count >= 0, got {max_body_bytes!r}",
                hint=f"the default is {DEFAULT_MAX_BODY_BYTES} (64 MiB)",
            )
        self._max_body_bytes = max_body_bytes
        self._dropping: list[str] = []
        self._root = Path(tempfile.mkdtemp(prefix="srmzoo-hub-")) if root is None else Path(root)
        # A temporary root goes at stop(), or when a server that never ran is collected or Python exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, True) if root is None else None
        self._store = _Store(self._root, lfs_threshold)
        self._app = _HubApp(self._store, tokens, members)
        self._log: list[HubRequest] = []
        self._httpd: _HubHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # lifecycle
    def start(self) -> HubServer:
        """Serve on a free port of 127.0.0.1 from a background thread; returns the server itself.

        Raises:
            SrmzooError: The server is already running, or was stopped.

        >>> hub = HubServer().start()
        >>> hub.url.startswith("http://127.0.0.1:")
        True
        >>> hub.stop()
        """
        if self._httpd is not None or self._stopped:
            raise SrmzooError(
                "this HubServer is already running or was stopped",
                hint="create a new HubServer (pass the same root= to keep the repos)",
            )
        self._httpd = _HubHTTPServer(self._app, self._log, self._max_body_bytes, self._dropping)
        self._app.base_url = self.url
        # A short poll keeps stop() quick (the default 0.5 s adds up over a test suite of servers).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="srmzoo-test-hub",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and remove the temporary root (a given root is kept).

        >>> hub = HubServer().start()
        >>> hub.stop(); hub.stop()  # a second stop does nothing
        """
        if self._httpd is not None and not self._stopped:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=10)
        self._stopped = True
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint to give clients, ``http://127.0.0.1:<port>``.

        Raises:
            SrmzooError: The server has not been started.

        >>> with HubServer() as hub:
        ...     hub.url.count(":")
        2
        """
        if self._httpd is None:
            raise SrmzooError("the test Hub has no URL before start()", hint="use `with HubServer() as hub:`")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def root(self) -> Path:
        """The directory holding the repos (``hub.json``) and the blobs.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     (HubServer(root=folder).root / "blobs").is_dir()
        True
        """
        return self._root

    @property
    def requests(self) -> list[HubRequest]:
        """Every request answered so far, oldest first (a copy); status 0: dropped without an answer.

        >>> import urllib.error, urllib.request
        >>> with HubServer() as hub:
        ...     try:
        ...         _ = urllib.request.urlopen(hub.url + "/api/nowhere")
        ...     except urllib.error.HTTPError:
        ...         pass
        ...     hub.requests
        [HubRequest(method='GET', path='/api/nowhere', status=404)]
        """
        return list(self._log)

    # seeding and tampering, without going through HTTP
    def _repo(self, repo_id: str, repo_type: str) -> _Repo:
        repo = self._store.get(repo_type, repo_id)
        if repo is None:
            known = [r.repo_id for r in self._store.repos.values() if r.repo_type == repo_type]
            close = close_names(repo_id, known)
            raise SrmzooError(
                f"the test Hub has no {repo_type} repo {repo_id!r}"
                + (f"; did you mean: {', '.join(close)}?" if close else ""),
                hint="create it first with create_repo() or HfApi.create_repo()",
            )
        return repo

    def create_repo(self, repo_id: str, *, repo_type: str = "model", private: bool = False) -> str:
        """Create a repo directly (no token needed), with the Hub's initial ``.gitattributes`` commit.

        Args:
            repo_id: ``namespace/name``.
            repo_type: ``model``, ``dataset`` or ``space``.
            private: Whether only the namespace (its user or org members) may read it.

        Returns:
            The sha of the initial commit (the one that adds ``.gitattributes``).

        Raises:
            SrmzooError: Bad repo id or type, or the repo exists.

        >>> with HubServer() as hub:
        ...     len(hub.create_repo("alice/demo"))
        40
        """
        namespace, _, name = repo_id.partition("/")
        if repo_type not in _REPO_TYPES:
            raise SrmzooError(f"unknown repo type {repo_type!r}", hint=f"use one of {', '.join(_REPO_TYPES)}")
        if not (_NAME.fullmatch(namespace) and _NAME.fullmatch(name)) or ".." in repo_id or "--" in repo_id:
            raise SrmzooError(
                f"invalid repo id {repo_id!r}", hint="use 'namespace/name', e.g. 'alice/adapter'"
            )
        with self._store.lock:
            if self._store.get(repo_type, repo_id) is not None:
                raise SrmzooError(f"the test Hub already has a {repo_type} repo {repo_id!r}")
            repo = self._store.create_repo(repo_type, repo_id, private=private, author=namespace, sdk=None)
        return repo.branches["main"]

    def commit(
        self,
        repo_id: str,
        files: Mapping[str, bytes | None],
        *,
        message: str = "Upload files",
        revision: str = "main",
        repo_type: str = "model",
    ) -> str:
        """Commit files directly onto a branch, as the repo's namespace; None deletes a file.

        Args:
            repo_id: An existing repo.
            files: Path in repo -> new bytes, or None to delete that file.
            message: Commit title.
            revision: Branch to commit on.
            repo_type: ``model``, ``dataset`` or ``space``.

        Returns:
            The new commit's 40-hex sha.

        Raises:
            SrmzooError: Unknown repo or branch, a bad path, or deleting a file that does not exist.

        >>> with HubServer() as hub:
        ...     _ = hub.create_repo("alice/demo")
        ...     len(hub.commit("alice/demo", {"a.txt": b"1"}))
        40
        """
        repo = self._repo(repo_id, repo_type)
        try:
            if revision not in repo.branches:
                raise _revision_not_found(revision)
            operations = [
                ("add", _repo_path(path), data)
                if data is not None
                else ("delete_file", _repo_path(path), None)
                for path, data in files.items()
            ]
            commit = self._store.commit(
                repo, revision, operations, title=message, description="", author=repo.namespace
            )
        except _HubError as err:
            raise SrmzooError(f"cannot commit to {repo_id}@{revision}: {err.message}") from err
        return commit.sha

    def tamper(
        self,
        repo_id: str,
        path: str,
        *,
        revision: str | None = None,
        mode: TamperMode = "flip",
        data: bytes | None = None,
        repo_type: str = "model",
    ) -> None:
        """Corrupt what ``resolve`` serves for one file, leaving every advertised ETag, size and hash intact.

        HEAD, tree and paths-info keep describing the stored file; only GET bodies change. ``flip`` flips
        one bit in the middle byte: same length, so huggingface_hub 2.4 accepts it and only a content hash
        (sha256, git sha1, ``HfApi.verify_repo_checksums``) catches it. ``truncate`` serves the first half
        with an honest ``Content-Length`` for that half; the client compares it with the size from its
        HEAD and raises ``OSError("Consistency check failed ...")``. ``replace`` serves ``data`` instead: a
        forger's bytes; of the stored file's length they pass the client's size check, as ``flip`` does.

        Args:
            repo_id: An existing repo.
            path: A file in it.
            revision: Tamper only at the commit this branch/tag/sha names now; None: at every revision.
            mode: ``flip``, ``truncate`` or ``replace``.
            data: The bytes ``replace`` serves (required for it, refused for the others).
            repo_type: ``model``, ``dataset`` or ``space``.

        Raises:
            SrmzooError: Unknown mode, ``data`` missing for ``replace`` or given for another mode, unknown
                repo or revision, or the file is missing or empty there.

        >>> import urllib.request
        >>> with HubServer() as hub:
        ...     _ = hub.create_repo("alice/demo")
        ...     _ = hub.commit("alice/demo", {"w.bin": b"weights"})
        ...     hub.tamper("alice/demo", "w.bin")
        ...     urllib.request.urlopen(hub.url + "/alice/demo/resolve/main/w.bin").read()
        b'weifhts'
        """
        if mode not in _TAMPER_MODES:
            raise SrmzooError(f"unknown tamper mode {mode!r}", hint=f"use one of {', '.join(_TAMPER_MODES)}")
        if (mode == "replace") != isinstance(data, bytes):
            raise SrmzooError(
                f"tamper mode {mode!r} " + ("needs data= (the bytes to serve)" if mode == "replace" else
                                            "takes no data= (only mode='replace' does)"),
                hint="tamper(repo, path, mode='replace', data=b'...') serves chosen bytes",
            )  # fmt: skip
        repo = self._repo(repo_id, repo_type)
        with self._store.lock:
            try:
                sha = self._store.resolve(repo, revision or "main")
            except _HubError as err:
                raise SrmzooError(f"cannot tamper with {repo_id}: {err.message}") from err
            entry = repo.commits[sha].files.get(path)
            if entry is None or self._store.blobs[entry.oid].size == 0:
                raise SrmzooError(
                    f"cannot tamper with {path!r} in {repo_id}@{revision or 'main'}: "
                    + ("no such file" if entry is None else "it is empty"),
                    hint=f"files there: {', '.join(sorted(repo.commits[sha].files))}",
                )
            at = None if revision is None else sha
            self._store.tampering[(repo_type, repo_id, path)] = (at, mode, data)

    def untamper(self) -> None:
        """Serve every file faithfully again.

        >>> with HubServer() as hub:
        ...     hub.untamper()
        """
        with self._store.lock:
            self._store.tampering.clear()

    def drop(self, *patterns: str) -> None:
        """Leave requests whose path matches one of ``patterns`` unanswered: the connection just closes.

        As a proxy or a broken Hub that drops a request: the client sees a connection closed without a
        response. Patterns are ``fnmatch`` patterns of the URL path without its query (``*`` crosses
        '/'), e.g. ``"*/paths-info/*"``; the body is read first, so other requests are unaffected. Each call
        replaces the earlier patterns; ``drop()`` answers everything again. Dropped requests appear in
        `requests` with status 0.

        Raises:
            SrmzooError: A pattern is not a non-empty string starting with '/' or '*'.

        >>> import http.client, urllib.request
        >>> with HubServer() as hub:
        ...     hub.drop("/api/whoami*")
        ...     try:
        ...         _ = urllib.request.urlopen(hub.url + "/api/whoami-v2")
        ...     except http.client.RemoteDisconnected:
        ...         dropped = True
        ...     hub.drop()
        ...     dropped, hub.requests
        (True, [HubRequest(method='GET', path='/api/whoami-v2', status=0)])
        """
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.startswith(("/", "*")):
                raise SrmzooError(
                    f"drop pattern {pattern!r} must match a URL path",
                    hint="start it with '/' or '*', e.g. hub.drop('*/paths-info/*')",
                )
        self._dropping[:] = patterns
