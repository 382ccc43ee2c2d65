"""Hostile Hubs, proxies, endpoints and requests: what `srmzoo pull` and the test Hub server must refuse.

Each case mounts one attack against a local `HubServer` in a fresh folder and returns what happened as one
string; tests/test_hostile_inputs.py asserts it equals the case's ``expected``. The adapter repos here are
synthetic (the files an adapter has, with stand-in bytes): pull verifies files, it does not load them, and
training a model would make a case slow. Variable parts of a message (the server's URL, a commit sha) are
written as ``<hub>`` and ``<commit>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from srmzoo.errors import SrmzooError
from srmzoo.publish.hub import FILES_MANIFEST, REQUIRED_FILES, pull
from srmzoo.testing.hub_server import DEFAULT_MAX_BODY_BYTES, HubServer

HERE = Path(__file__).resolve().parent


# Loaded only by tests/hostile/cases.py (load_cases), which registers itself as "hostile_cases" first.
Case = sys.modules["hostile_cases"].Case

USER = "srmzoo-tester"
TOKEN = "hf_hostile_hub_token"
REPO = f"{USER}/toy-lora"
WEIGHTS = "adapter_model.safetensors"
PASSWORD = "pa55-w0rd-in-the-url"
UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1: connection refused at once
ADAPTER = {
    "adapter_config.json": b'{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"]}',
    WEIGHTS: bytes(range(256)) * 16,  # stands in for the weights; described as LFS, as on the Hub
    "srmzoo_prompt.json": b'{"system": "Answer with a number."}',
    "srmzoo_adapter.json": b'{"entry": "toy", "domain": "toy-addition"}',
    "README.md": b"---\nlicense: apache-2.0\n---\n# toy\n",
}


def _manifest(files: dict[str, bytes], leave_out: tuple[str, ...] = ()) -> bytes:
    listed = {
        path: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for path, data in files.items()
        if path not in leave_out
    }
    return (json.dumps(listed, indent=2, sort_keys=True) + "\n").encode()


def _flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


@contextlib.contextmanager
def _client() -> Iterator[None]:
    """huggingface_hub with offline mode lifted (it would refuse the local Hub too) and no progress bars."""
    import huggingface_hub.constants as hf_constants
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    offline, quiet = hf_constants.HF_HUB_OFFLINE, are_progress_bars_disabled()
    hf_constants.HF_HUB_OFFLINE = False
    disable_progress_bars()
    try:
        yield
    finally:
        hf_constants.HF_HUB_OFFLINE = offline
        if not quiet:
            enable_progress_bars()


@contextlib.contextmanager
def _hub() -> Iterator[HubServer]:
    """A running local Hub, and huggingface_hub set up for it (see `_client`)."""
    with _client(), HubServer(tokens={TOKEN: USER}) as hub:
        yield hub


def _publish(hub: HubServer, files: dict[str, bytes] | None = None, manifest: bytes | None = None) -> str:
    """Commit an adapter repo the way `srmzoo publish` lays it out; returns the commit sha."""
    files = dict(ADAPTER if files is None else files)
    hub.create_repo(REPO)
    return hub.commit(REPO, {**files, FILES_MANIFEST: manifest if manifest is not None else _manifest(files)})


def _pull(hub_url: str, cache: Path, revision: str | None = None) -> Path:
    return pull(REPO, revision, token=False, endpoint=hub_url, cache_dir=cache)


def _refusal(err: SrmzooError, hub_url: str, commit: str) -> str:
    message = err.message.replace(hub_url, "<hub>").replace(commit, "<commit>")
    return "SrmzooError: " + message.replace(commit[:12], "<commit>")


def _outcome(attempt: Callable[[], str], hub_url: str, commit: str) -> str:
    try:
        return attempt()
    except SrmzooError as err:
        return _refusal(err, hub_url, commit)


@contextlib.contextmanager
def _captured_logs() -> Iterator[list[str]]:
    """Every record srmzoo, huggingface_hub and the HTTP client log meanwhile, at every level."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep(logging.DEBUG)
    loggers = [logging.getLogger(n) for n in ("", "srmzoo", "huggingface_hub", "httpx", "httpx2", "httpcore")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)


# -------------------------------------------------------------------------------------------------- pull


def _forged_pair(tmp: Path, *, drop_paths_info: bool) -> str:
    with _hub() as hub:
        commit = _publish(hub)
        forged = {**ADAPTER, WEIGHTS: _flipped(ADAPTER[WEIGHTS])}  # same sizes: the client's check passes
        hub.tamper(REPO, WEIGHTS, mode="replace", data=forged[WEIGHTS])
        hub.tamper(REPO, FILES_MANIFEST, mode="replace", data=_manifest(forged))
        if drop_paths_info:
            hub.drop("*/paths-info/*")
        cache = tmp / "hf-cache"
        outcome = _outcome(lambda: f"pulled {_pull(hub.url, cache).name}", hub.url, commit)
        fetched = "yes" if any(cache.rglob(WEIGHTS)) else "no"
        return f"{outcome} | weights downloaded: {fetched}"


def _manifest_without(name: str) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        with _hub() as hub:
            commit = _publish(hub, manifest=_manifest(ADAPTER, leave_out=(name,)))
            return _outcome(lambda: f"pulled {_pull(hub.url, tmp / 'c').name}", hub.url, commit)

    return run


def _unlisted_files(tmp: Path) -> str:
    with _hub() as hub:
        # Listed: the adapter. Added outside srmzoo publish: a pickle PEFT would also read, and a script.
        commit = _publish(hub, {**ADAPTER, "adapter_model.bin": b"\x80\x04pickle", "tools/run.py": b"..."},
                          manifest=_manifest(ADAPTER))  # fmt: skip

        def held(snapshot: Path) -> list[str]:  # folders too: an emptied tools/ must not stay behind
            return sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*"))

        first = held(_pull(hub.url, tmp / "c"))
        again = held(_pull(hub.url, tmp / "c", commit))  # a second pull of the same commit stays clean
        return (
            f"pulled; snapshot holds: {', '.join(first)}; second pull: {'same' if again == first else again}"
        )


def _offline_after_online(tmp: Path) -> str:
    with _hub() as hub:
        commit = _publish(hub)
        first = _pull(hub.url, tmp / "c", commit)
    with _client(), _captured_logs() as lines:
        again = _outcome(lambda: "pulled" if _pull(UNREACHABLE, tmp / "c", commit) == first else "other",
                         UNREACHABLE, commit)  # fmt: skip
    said = [line for line in lines if "was verified online on this machine" in line]
    return f"{again}; log: {'verified-online record used' if said else 'nothing about the record'}"


def _offline_never_verified(tmp: Path) -> str:
    from huggingface_hub import snapshot_download

    with _hub() as hub:
        commit = _publish(hub)
        # Another tool filled the cache: nothing checked it.
        snapshot_download(REPO, revision=commit, cache_dir=tmp / "c", endpoint=hub.url, token=False)
    with _client():
        return _outcome(lambda: f"pulled {_pull(UNREACHABLE, tmp / 'c', commit).name}", UNREACHABLE, commit)


def _offline_record_of_another_list(tmp: Path) -> str:
    with _hub() as hub:
        commit = _publish(hub)
        snapshot = _pull(hub.url, tmp / "c", commit)
    # Someone rewrites the cached weights and list after the online verification.
    forged = {**ADAPTER, WEIGHTS: _flipped(ADAPTER[WEIGHTS])}
    for path, data in ((WEIGHTS, forged[WEIGHTS]), (FILES_MANIFEST, _manifest(forged))):
        (snapshot / path).resolve().write_bytes(data)
    with _client():
        return _outcome(lambda: f"pulled {_pull(UNREACHABLE, tmp / 'c', commit).name}", UNREACHABLE, commit)


# -------------------------------------------------------------------------------------------- endpoints


def _credentials_in(where: str) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        import huggingface_hub.constants as hf_constants

        with _hub() as hub, _captured_logs() as lines:
            host = urlsplit(hub.url).netloc
            endpoint = f"http://{USER}:{PASSWORD}@{host}"
            before = hf_constants.ENDPOINT
            try:
                if where == "HF_ENDPOINT":
                    hf_constants.ENDPOINT = endpoint  # what HF_ENDPOINT=... at import would set
                    pull(REPO, token=False, cache_dir=tmp / "c")
                else:
                    pull(REPO, token=False, endpoint=endpoint, cache_dir=tmp / "c")
                return "pulled"
            except SrmzooError as err:
                leaked = PASSWORD in str(err) + (err.hint or "") + "\n".join(lines)
                return (
                    f"SrmzooError: {err.message} | password in error, hint or log: {'yes' if leaked else 'no'}"
                    f" | requests the Hub saw: {len(hub.requests)}"
                )
            finally:
                hf_constants.ENDPOINT = before

    return run


# ------------------------------------------------------------------------------------------- hub server


def _raw(hub_url: str, head: bytes) -> str:
    """Send a request head (and no body) on a fresh connection; the status and body of the answer."""
    parts = urlsplit(hub_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
                head_end = data.find(b"\r\n\r\n")
                if head_end >= 0:
                    length = int(next(
                        (line.split(b":", 1)[1] for line in data[:head_end].split(b"\r\n")
                         if line.lower().startswith(b"content-length:")), b"0"))  # fmt: skip
                    if len(data) >= head_end + 4 + length:
                        break
        except TimeoutError:
            return "no answer within 5 s"
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return f"{status_line.split(b' ')[1].decode()} {body.decode()}" if status_line else "connection closed"


def _still_serving(hub: HubServer) -> str:
    import urllib.request

    request = urllib.request.Request(f"{hub.url}/api/whoami-v2", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return f"then whoami: {answer.status}"


def _server_gets(header: bytes) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        with _hub() as hub:
            head = b"POST /api/repos/create HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            answer = _raw(hub.url, head + header + b"\r\n")
            return f"{answer}; {_still_serving(hub)}"

    return run


_413 = (
    f'413 {{"error": "request body of 10737418240 bytes is over this test Hub\'s limit of '
    f'{DEFAULT_MAX_BODY_BYTES} bytes (HubServer(max_body_bytes=...))"}}; then whoami: 200'
)
_NOT_VERIFIED = (
    "the Hub at <hub> did not confirm srmzoo_files.json of commit <commit> ({why}) and this machine never "
    "verified that commit online; its files were not used"
)

CASES = [
    Case(
        name="pull-forged-pair-paths-info-dropped",
        area="pull",
        attack="a proxy serves forged weights with a matching forged srmzoo_files.json (same sizes) and drops "
        "the Hub's paths-info answer",
        expected=f"SrmzooError: cannot verify {REPO}@main: {_NOT_VERIFIED.format(why='RemoteProtocolError')}"
        " | weights downloaded: no",
        run=lambda tmp: _forged_pair(tmp, drop_paths_info=True),
    ),
    Case(
        name="pull-forged-pair-paths-info-answered",
        area="pull",
        attack="the same forged pair, with the Hub's paths-info answer let through",
        expected=f"SrmzooError: download of {REPO}@main is corrupted or tampered: srmzoo_files.json differs from "
        "what the Hub lists for it; the download was removed from the cache | weights downloaded: no",
        run=lambda tmp: _forged_pair(tmp, drop_paths_info=False),
    ),
    *(
        Case(
            name=f"pull-manifest-without-{name}",
            area="pull",
            attack=f"the repo's srmzoo_files.json (advertised by the Hub) leaves {name} out, so it would load "
            "unverified",
            expected=f"SrmzooError: {REPO}@main cannot be verified: its srmzoo_files.json does not list {name}",
            run=_manifest_without(name),
        )
        for name in REQUIRED_FILES
    ),
    Case(
        name="pull-unlisted-files",
        area="pull",
        attack="files added to the repo outside srmzoo publish (adapter_model.bin, tools/run.py), not in "
        "srmzoo_files.json",
        expected="pulled; snapshot holds: README.md, adapter_config.json, adapter_model.safetensors, "
        "srmzoo_adapter.json, srmzoo_files.json, srmzoo_prompt.json; second pull: same",
        run=_unlisted_files,
    ),
    Case(
        name="pull-offline-verified-before",
        area="pull",
        attack="the Hub is unreachable, for a commit this machine verified online before",
        expected="pulled; log: verified-online record used",
        run=_offline_after_online,
    ),
    Case(
        name="pull-offline-never-verified",
        area="pull",
        attack="the Hub is unreachable, for a commit another tool put in the cache unverified",
        expected=f"SrmzooError: cannot verify {REPO}@<commit>: " + _NOT_VERIFIED.format(why="ConnectError"),
        run=_offline_never_verified,
    ),
    Case(
        name="pull-offline-cache-rewritten",
        area="pull",
        attack="after an online verification, the cached weights and srmzoo_files.json are rewritten to match, "
        "then the Hub is unreachable",
        expected=f"SrmzooError: cannot verify {REPO}@<commit>: " + _NOT_VERIFIED.format(why="ConnectError"),
        run=_offline_record_of_another_list,
    ),
    Case(
        name="endpoint-credentials-argument",
        area="endpoint",
        attack="pull with --endpoint http://user:password@host",
        expected="SrmzooError: the Hub endpoint URL (--endpoint) carries credentials; nothing was sent | "
        "password in error, hint or log: no | requests the Hub saw: 0",
        run=_credentials_in("--endpoint"),
    ),
    Case(
        name="endpoint-credentials-hf-endpoint",
        area="endpoint",
        attack="pull with HF_ENDPOINT=http://user:password@host",
        expected="SrmzooError: the Hub endpoint URL (HF_ENDPOINT) carries credentials; nothing was sent | "
        "password in error, hint or log: no | requests the Hub saw: 0",
        run=_credentials_in("HF_ENDPOINT"),
    ),
    Case(
        name="hub-server-10gb-content-length",
        area="hub server",
        attack="an unauthenticated POST declaring Content-Length: 10 GB, body never sent",
        expected=_413,
        run=_server_gets(b"Content-Length: 10737418240\r\n"),
    ),
    Case(
        name="hub-server-10gb-chunk",
        area="hub server",
        attack="a chunked POST whose first chunk declares 10 GB",
        expected=_413,
        run=_server_gets(b"Transfer-Encoding: chunked\r\n\r\n280000000"),
    ),
    Case(
        name="hub-server-negative-content-length",
        area="hub server",
        attack="Content-Length: -1",
        expected='400 {"error": "malformed Content-Length or chunked body: Content-Length must be one byte count, '
        "got ['-1']\"}; then whoami: 200",
        run=_server_gets(b"Content-Length: -1\r\n"),
    ),
    Case(
        name="hub-server-non-numeric-content-length",
        area="hub server",
        attack="Content-Length: lots",
        expected='400 {"error": "malformed Content-Length or chunked body: Content-Length must be one byte count, '
        "got ['lots']\"}; then whoami: 200",
        run=_server_gets(b"Content-Length: lots\r\n"),
    ),
]
