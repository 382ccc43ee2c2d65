"""The local Hub against the real huggingface_hub client: publish, download, history, refs, auth, cards,
tampering that the client's own checks do or do not catch, dropped requests, and request bodies it caps."""

from __future__ import annotations

import doctest
import hashlib
import http.client
import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest_hub import HUB_TOKEN, HUB_USER
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    ModelCard,
    ModelCardData,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from srmzoo.errors import SrmzooError
from srmzoo.testing.hub_server import DEFAULT_MAX_BODY_BYTES, HubServer, _commit_id, _tree_ids, git_blob_id

REPO = f"{HUB_USER}/math-135m-lora"
WEIGHTS = bytes(range(256)) * 8  # 2 KiB that stand in for adapter weights


@pytest.fixture
def api(hub_server: HubServer) -> HfApi:
    return HfApi(endpoint=hub_server.url, token=HUB_TOKEN)


def _download(
    hub: HubServer, path: str, cache: Path, *, revision: str | None = None, token=HUB_TOKEN
) -> bytes:
    local = hf_hub_download(REPO, path, revision=revision, cache_dir=cache, endpoint=hub.url, token=token)
    return Path(local).read_bytes()


def _adapter_folder(root: Path) -> dict[str, bytes]:
    files = {
        "README.md": b"---\nlicense: apache-2.0\ntags:\n- srmzoo\n---\n# math-135m-lora\n",
        "adapter_config.json": json.dumps({"r": 16, "lora_alpha": 32}).encode(),
        "adapter_model.safetensors": WEIGHTS,
        "eval/results.json": b'{"accuracy": 0.283}',
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def test_create_repo_public_private_exist_ok_and_foreign_namespace(api, hub_server):
    url = api.create_repo("math-135m-lora")
    assert (url.repo_id, url.endpoint) == (REPO, hub_server.url)
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(REPO)
    assert conflict.value.response.status_code == 409
    assert api.create_repo(REPO, exist_ok=True) == url

    api.create_repo(f"{HUB_USER}/secret", private=True)
    assert api.model_info(f"{HUB_USER}/secret").private is True
    assert api.model_info(REPO).private is False
    with pytest.raises(HfHubHTTPError) as foreign:
        api.create_repo("someone-else/stolen")
    assert foreign.value.response.status_code == 403

    # The Hub's initial commit adds its standard LFS .gitattributes.
    assert api.list_repo_files(REPO) == [".gitattributes"]
    assert [c.title for c in api.list_repo_commits(REPO)] == ["initial commit"]


def test_upload_folder_then_hf_hub_download_and_snapshot_download(api, hub_server, tmp_path):
    api.create_repo(REPO)
    files = _adapter_folder(tmp_path / "adapter")
    commit = api.upload_folder(folder_path=tmp_path / "adapter", repo_id=REPO, commit_message="Add adapter")
    assert sorted(api.list_repo_files(REPO)) == sorted([".gitattributes", *files])
    assert api.model_info(REPO).sha == commit.oid

    assert _download(hub_server, "adapter_model.safetensors", tmp_path / "cache") == WEIGHTS
    snapshot = Path(
        snapshot_download(REPO, cache_dir=tmp_path / "snap", endpoint=hub_server.url, token=HUB_TOKEN)
    )
    assert snapshot.name == commit.oid
    for name, data in files.items():
        assert (snapshot / name).read_bytes() == data

    # *.safetensors matches the .gitattributes LFS rules: described as LFS, ETag = sha256, like the Hub.
    tree = {f.path: f for f in api.list_repo_tree(REPO, recursive=True) if hasattr(f, "blob_id")}
    assert tree["adapter_model.safetensors"].lfs.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert tree["adapter_config.json"].lfs is None
    assert tree["adapter_config.json"].blob_id == git_blob_id(files["adapter_config.json"])
    url = hf_hub_url(REPO, "adapter_model.safetensors", endpoint=hub_server.url)
    meta = get_hf_file_metadata(url, token=HUB_TOKEN)
    assert (meta.etag, meta.size, meta.commit_hash) == (
        hashlib.sha256(WEIGHTS).hexdigest(),
        len(WEIGHTS),
        commit.oid,
    )

    # preupload's oid lets the client see nothing changed: no second commit.
    api.upload_folder(folder_path=tmp_path / "adapter", repo_id=REPO)
    assert len(api.list_repo_commits(REPO)) == 2


def test_older_commits_stay_downloadable_after_a_file_changes(api, hub_server, tmp_path):
    api.create_repo(REPO)
    first = api.create_commit(
        REPO,
        [
            CommitOperationAdd("adapter_model.safetensors", WEIGHTS),
            CommitOperationAdd("notes.txt", b"draft"),
            CommitOperationAdd("eval/gsm8k.json", b"{}"),
        ],
        commit_message="v1",
    )
    second = api.create_commit(
        REPO,
        [
            CommitOperationAdd("adapter_model.safetensors", WEIGHTS[::-1]),
            CommitOperationDelete("notes.txt"),
            CommitOperationDelete("eval/"),
        ],
        commit_message="v2",
        commit_description="retrained",
    )
    assert sorted(api.list_repo_files(REPO)) == [".gitattributes", "adapter_model.safetensors"]
    assert "eval/gsm8k.json" in api.list_repo_files(REPO, revision=first.oid)
    assert api.model_info(REPO, revision=first.oid).sha == first.oid
    assert _download(hub_server, "adapter_model.safetensors", tmp_path / "a", revision=first.oid) == WEIGHTS
    assert _download(hub_server, "adapter_model.safetensors", tmp_path / "b") == WEIGHTS[::-1]
    assert _download(hub_server, "notes.txt", tmp_path / "c", revision=first.oid) == b"draft"
    with pytest.raises(RemoteEntryNotFoundError):
        _download(hub_server, "notes.txt", tmp_path / "d")

    history = api.list_repo_commits(REPO)
    assert [c.commit_id for c in history[:2]] == [second.oid, first.oid]
    assert [(c.title, c.message, c.authors) for c in history[:2]] == [
        ("v2", "retrained", [HUB_USER]),
        ("v1", "", [HUB_USER]),
    ]
    last = {e.path: e.last_commit.oid for e in api.list_repo_tree(REPO, expand=True)}
    assert last == {".gitattributes": history[-1].commit_id, "adapter_model.safetensors": second.oid}


def test_tags_branches_and_commit_preconditions(api, hub_server, tmp_path):
    api.create_repo(REPO)
    first = api.upload_file(path_or_fileobj=b"v1", path_in_repo="weights.txt", repo_id=REPO)
    api.create_tag(REPO, tag="v1.0", revision=first.oid)
    api.create_branch(REPO, branch="exp/dpo")
    api.upload_file(path_or_fileobj=b"dpo", path_in_repo="weights.txt", repo_id=REPO, revision="exp/dpo")

    refs = api.list_repo_refs(REPO)
    assert {b.name for b in refs.branches} == {"main", "exp/dpo"}
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", first.oid)]
    assert _download(hub_server, "weights.txt", tmp_path / "a", revision="v1.0") == b"v1"
    assert _download(hub_server, "weights.txt", tmp_path / "b", revision="exp/dpo") == b"dpo"
    assert _download(hub_server, "weights.txt", tmp_path / "c") == b"v1"

    with pytest.raises(HfHubHTTPError) as duplicate:
        api.create_tag(REPO, tag="v1.0")
    assert duplicate.value.response.status_code == 409
    api.create_tag(REPO, tag="v1.0", exist_ok=True)
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO, revision="no-such-branch")
    with pytest.raises(HfHubHTTPError) as stale:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO, parent_commit="0" * 40)
    assert stale.value.response.status_code == 412

    api.delete_tag(REPO, tag="v1.0")
    api.delete_branch(REPO, branch="exp/dpo")
    with pytest.raises(RevisionNotFoundError):
        _download(hub_server, "weights.txt", tmp_path / "d", revision="v1.0")
    assert [b.name for b in api.list_repo_refs(REPO).branches] == ["main"]


def test_private_repo_needs_its_owners_token(tmp_path):
    with HubServer(tokens={HUB_TOKEN: HUB_USER, "hf_other": "mallory"}) as hub:
        owner = HfApi(endpoint=hub.url, token=HUB_TOKEN)
        owner.create_repo(REPO, private=True)
        owner.upload_file(path_or_fileobj=b"secret", path_in_repo="w.txt", repo_id=REPO)

        for token, status in ((False, 401), ("hf_other", 404)):
            with pytest.raises(RepositoryNotFoundError) as info:
                HfApi(endpoint=hub.url, token=token).model_info(REPO)
            assert info.value.response.status_code == status
            with pytest.raises(RepositoryNotFoundError) as download:
                hf_hub_download(
                    REPO, "w.txt", endpoint=hub.url, token=token, cache_dir=tmp_path / f"c{status}"
                )
            assert download.value.response.status_code == status
        with pytest.raises(HfHubHTTPError) as forged:
            HfApi(endpoint=hub.url, token="hf_forged").model_info(REPO)
        assert forged.value.response.status_code == 401
        assert not isinstance(
            forged.value, RepositoryNotFoundError
        )  # a bad token is told apart, as on the Hub

        owner.update_repo_settings(REPO, private=False)
        assert HfApi(endpoint=hub.url, token=False).model_info(REPO).private is False
        with pytest.raises(HfHubHTTPError) as anonymous_write:
            HfApi(endpoint=hub.url, token=False).upload_file(
                path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO
            )
        assert anonymous_write.value.response.status_code == 401


def test_whoami_names_the_tokens_user_and_rejects_others(api, hub_server):
    assert api.whoami()["name"] == HUB_USER
    with pytest.raises(HfHubHTTPError) as bad:
        HfApi(endpoint=hub_server.url).whoami(token="hf_wrong")
    assert bad.value.response.status_code == 401


def test_model_card_push_load_and_metadata_validation(hub_defaults, tmp_path):
    api = HfApi()  # no endpoint, no token: hub_defaults made the local Hub the default
    api.create_repo(REPO)
    data = ModelCardData(
        license="apache-2.0", base_model="HuggingFaceTB/SmolLM2-135M-Instruct", tags=["srmzoo"]
    )
    ModelCard(f"---\n{data.to_yaml()}\n---\n# math-135m-lora\n").push_to_hub(REPO)

    loaded = ModelCard.load(REPO)
    assert (loaded.data.license, loaded.data.base_model, loaded.data.tags) == (
        "apache-2.0",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        ["srmzoo"],
    )
    assert api.model_info(REPO).card_data.license == "apache-2.0"
    assert str(tmp_path / "hf-cache") in str(hf_hub_download(REPO, "README.md"))

    commits = len(api.list_repo_commits(REPO))
    with pytest.raises(ValueError, match="did you mean apache-2.0"):
        ModelCard("---\nlicense: apache2.0\n---\n# x\n").push_to_hub(REPO)  # text/plain validation path
    with pytest.raises(ValueError, match='"tags" must be a list'):
        api.upload_file(path_or_fileobj=b"---\ntags: 3\n---\n", path_in_repo="README.md", repo_id=REPO)
    model_index = b"---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n---\n"
    with pytest.raises(ValueError, match="dataset needs string 'type' and 'name'"):
        api.upload_file(path_or_fileobj=model_index, path_in_repo="README.md", repo_id=REPO)
    assert len(api.list_repo_commits(REPO)) == commits  # rejected cards never reached a commit
    with pytest.warns(UserWarning, match="Empty or missing yaml metadata"):
        api.upload_file(path_or_fileobj=b"# no metadata\n", path_in_repo="README.md", repo_id=REPO)


def test_patch_hub_defaults_puts_everything_back():
    import conftest_hub

    result = doctest.testmod(conftest_hub, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_delete_repo_and_recreate_from_scratch(api):
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=REPO)
    api.delete_repo(REPO)
    assert not api.repo_exists(REPO)
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(REPO)
    api.delete_repo(REPO, missing_ok=True)
    api.create_repo(REPO)
    assert api.list_repo_files(REPO) == [".gitattributes"]


def test_tamper_flip_passes_the_clients_checks_but_not_a_content_hash(api, hub_server, tmp_path):
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=WEIGHTS, path_in_repo="adapter_model.safetensors", repo_id=REPO)
    hub_server.tamper(REPO, "adapter_model.safetensors", mode="flip")

    url = hf_hub_url(REPO, "adapter_model.safetensors", endpoint=hub_server.url)
    meta = get_hf_file_metadata(url, token=HUB_TOKEN)
    assert (meta.etag, meta.size) == (hashlib.sha256(WEIGHTS).hexdigest(), len(WEIGHTS))  # still advertised
    served = _download(
        hub_server, "adapter_model.safetensors", tmp_path / "cache"
    )  # huggingface_hub accepts it
    assert len(served) == len(WEIGHTS) and served != WEIGHTS
    assert hashlib.sha256(served).hexdigest() != meta.etag

    report = api.verify_repo_checksums(REPO, cache_dir=tmp_path / "cache")
    assert [m["path"] for m in report.mismatches] == ["adapter_model.safetensors"]

    hub_server.untamper()
    assert _download(hub_server, "adapter_model.safetensors", tmp_path / "clean") == WEIGHTS


def test_tamper_truncate_trips_the_clients_size_check_and_revision_scoping(api, hub_server, tmp_path):
    api.create_repo(REPO)
    first = api.create_commit(
        REPO,
        [CommitOperationAdd("w.safetensors", WEIGHTS), CommitOperationAdd("config.json", b'{"r": 16}')],
        commit_message="adapter",
    )
    # Both kinds of file: an LFS one (size from X-Linked-Size) and a regular one (from Content-Length).
    for path, size in (("w.safetensors", len(WEIGHTS)), ("config.json", 9)):
        hub_server.tamper(REPO, path, mode="truncate")
        assert (
            get_hf_file_metadata(hf_hub_url(REPO, path, endpoint=hub_server.url), token=HUB_TOKEN).size
            == size
        )
        with pytest.raises(OSError, match="Consistency check failed"):
            _download(hub_server, path, tmp_path / "a")
    hub_server.untamper()

    api.upload_file(path_or_fileobj=WEIGHTS[::-1], path_in_repo="w.safetensors", repo_id=REPO)
    hub_server.tamper(REPO, "w.safetensors", revision=first.oid, mode="truncate")  # only the old commit
    assert _download(hub_server, "w.safetensors", tmp_path / "b") == WEIGHTS[::-1]
    with pytest.raises(OSError, match="Consistency check failed"):
        _download(hub_server, "w.safetensors", tmp_path / "c", revision=first.oid)


def test_range_requests_error_headers_and_keep_alive_bodies(hub_server):
    hub_server.create_repo(REPO)
    sha = hub_server.commit(REPO, {"w.bin": WEIGHTS})
    host = urlsplit(hub_server.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=5)

    def ask(method: str, path: str, body=None, headers=None) -> http.client.HTTPResponse:
        headers = headers or {}
        conn.request(method, path, body=body, headers=headers, encode_chunked="Transfer-Encoding" in headers)
        response = conn.getresponse()
        response.data = response.read()
        return response

    path = f"/{REPO}/resolve/main/w.bin"
    part = ask("GET", path, headers={"Range": "bytes=10-19"})
    assert (part.status, part.data, part.headers["Content-Range"]) == (
        206,
        WEIGHTS[10:20],
        f"bytes 10-19/{len(WEIGHTS)}",
    )
    assert ask("GET", path, headers={"Range": "bytes=-3"}).data == WEIGHTS[-3:]
    assert ask("GET", path, headers={"Range": "bytes=100000-"}).status == 416

    missing = ask("HEAD", f"/{REPO}/resolve/main/nope.bin")
    assert (missing.status, missing.headers["X-Error-Code"], missing.headers["X-Repo-Commit"]) == (
        404,
        "EntryNotFound",
        sha,
    )
    assert ask("HEAD", f"/{REPO}/resolve/nope/w.bin").headers["X-Error-Code"] == "RevisionNotFound"
    assert ask("HEAD", f"/{HUB_USER}/nope/resolve/main/w.bin").headers["X-Error-Code"] == "RepoNotFound"

    # Bodies sent to routes that fail are still read to the end, or the next request on the connection
    # would start inside them.
    assert ask("POST", "/api/unknown", body=b"x" * 100_000).status == 404
    assert (
        ask(
            "POST",
            "/api/unknown",
            body=iter([b"a" * 5000, b"b" * 7]),
            headers={"Transfer-Encoding": "chunked"},
        ).status
        == 404
    )
    assert ask("GET", path).data == WEIGHTS
    assert [r.status for r in hub_server.requests][-3:] == [404, 404, 200]

    # A body that cannot be framed gets a 400 and the connection is closed rather than misread.
    conn.putrequest("POST", "/api/unknown")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders(b"not-hex\r\n")
    broken = conn.getresponse()
    assert (broken.status, broken.headers["Connection"]) == (400, "close")
    conn.close()


def _raw(hub: HubServer, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """Send ``head`` (and ``body``) on a fresh connection; the answer's status and JSON body.

    A server that tried to read a body never sent would leave this waiting: the 5 s timeout then fails it.
    """
    url = urlsplit(hub.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(head + body)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, json.loads(answer.read())


def test_request_bodies_over_the_cap_get_413_unread_and_the_server_keeps_serving():
    assert DEFAULT_MAX_BODY_BYTES == 64 * 1024 * 1024
    post = b"POST /api/unknown HTTP/1.1\r\nHost: hub\r\n"
    too_big = (
        "request body of {} bytes is over this test Hub's limit of 1024 bytes (HubServer(max_body_bytes=...))"
    )
    malformed = "malformed Content-Length or chunked body: "
    with HubServer(tokens={HUB_TOKEN: HUB_USER}, max_body_bytes=1024) as hub:
        # An unauthenticated 10 GB declaration: answered at once, the body never read (nor sent).
        assert _raw(hub, post + b"Content-Length: 10737418240\r\n\r\n") == (
            413,
            {"error": too_big.format(10737418240)},
        )
        # A client that sends the whole body before reading (http.client, httpx) still gets the 413, not a
        # broken pipe: the server drops what keeps coming for a while before it closes.
        host = urlsplit(hub.url)
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=5)
        conn.request("POST", "/api/repos/create", body=b"{" + b" " * 8_000_000 + b"}")
        answer = conn.getresponse()
        assert (answer.status, answer.headers["Connection"]) == (413, "close")
        assert json.loads(answer.read()) == {"error": too_big.format(8_000_002)}
        conn.close()
        chunked = post + b"Transfer-Encoding: chunked\r\n\r\n"
        assert _raw(hub, chunked, b"400\r\n" + b"a" * 1024 + b"\r\n400\r\n") == (
            413,
            {"error": too_big.format(2048)},
        )
        assert _raw(hub, chunked, b"280000000\r\n") == (413, {"error": too_big.format(10737418240)})
        # At the cap exactly, the body is read and routed (this route does not exist).
        assert _raw(hub, post + b"Content-Length: 1024\r\n\r\n", b"x" * 1024)[0] == 404
        for header, shown in [
            (b"Content-Length: -1", "['-1']"),
            (b"Content-Length: lots", "['lots']"),
            (b"Content-Length: 1e3", "['1e3']"),
            (b"Content-Length: 3\r\nContent-Length: 4", "['3', '4']"),
        ]:
            assert _raw(hub, post + header + b"\r\n\r\n") == (
                400,
                {"error": f"{malformed}Content-Length must be one byte count, got {shown}"},
            )
        assert _raw(hub, chunked, b"-5\r\nhello\r\n0\r\n\r\n") == (
            400,
            {"error": f"{malformed}bad chunk size line b'-5\\r\\n'"},
        )
        assert HfApi(endpoint=hub.url, token=HUB_TOKEN).whoami()["name"] == HUB_USER
        assert [r.status for r in hub.requests] == [413, 413, 413, 413, 404, 400, 400, 400, 400, 400, 200]

    for bad in (-1, 1.5, True, "64M"):
        with pytest.raises(SrmzooError, match="max_body_bytes must be a byte count >= 0"):
            HubServer(max_body_bytes=bad)


def test_replace_serves_forged_bytes_and_drop_leaves_requests_unanswered(api, hub_server, tmp_path):
    import httpx2

    hub_server.create_repo(REPO)
    sha = hub_server.commit(REPO, {"w.bin": WEIGHTS})
    forged = bytes(reversed(WEIGHTS))
    hub_server.tamper(REPO, "w.bin", mode="replace", data=forged)
    assert _download(hub_server, "w.bin", tmp_path / "c") == forged  # same size: the client accepts it
    meta = get_hf_file_metadata(hf_hub_url(REPO, "w.bin", endpoint=hub_server.url), token=HUB_TOKEN)
    assert meta.etag == hashlib.sha256(WEIGHTS).hexdigest()  # the HEAD still describes the stored file
    with pytest.raises(SrmzooError, match="tamper mode 'replace' needs data="):
        hub_server.tamper(REPO, "w.bin", mode="replace")
    with pytest.raises(SrmzooError, match="tamper mode 'flip' takes no data="):
        hub_server.tamper(REPO, "w.bin", data=b"x")

    hub_server.drop("*/paths-info/*")
    with pytest.raises(httpx2.RemoteProtocolError):
        api.get_paths_info(REPO, ["w.bin"], revision=sha)
    assert api.model_info(REPO).sha == sha  # other requests are answered
    hub_server.drop()
    assert [i.path for i in api.get_paths_info(REPO, ["w.bin"], revision=sha)] == ["w.bin"]
    assert [r.status for r in hub_server.requests if "/paths-info/" in r.path] == [0, 200]
    with pytest.raises(SrmzooError, match="drop pattern 'paths-info' must match a URL path"):
        hub_server.drop("paths-info")


def test_repos_survive_a_restart_on_the_same_root(tmp_path):
    tokens = {HUB_TOKEN: HUB_USER}
    with HubServer(tokens, root=tmp_path / "hub") as hub:
        api = HfApi(endpoint=hub.url, token=HUB_TOKEN)
        api.create_repo(REPO)
        commit = api.upload_file(path_or_fileobj=WEIGHTS, path_in_repo="w.bin", repo_id=REPO)
        api.create_tag(REPO, tag="v1")
    with HubServer(tokens, root=tmp_path / "hub") as hub:
        assert _download(hub, "w.bin", tmp_path / "cache", revision="v1") == WEIGHTS
        assert HfApi(endpoint=hub.url).model_info(REPO).sha == commit.oid
    assert (tmp_path / "hub" / "hub.json").is_file()


def test_git_object_ids_match_git_and_the_lfs_threshold():
    # Reference ids from `git mktree` and `git commit-tree` on the same content; the names are chosen so
    # that git's ordering (a folder sorts as "name/") differs from plain sorting.
    empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert _tree_ids({})[""] == empty_tree
    contents = {"a-c": b"1", "a.txt": b"2", "a/b": b"3", "a0": b"4", "a/z/y": b"", "b": b"5"}
    tree = _tree_ids({path: git_blob_id(data) for path, data in contents.items()})
    assert tree[""] == "614e9c7167a3b9e4c51d1b2df1a3d1e9956cb93e"
    first = _commit_id(empty_tree, [], "alice", 1700000000, "initial commit")
    assert first == "3eb59b334169754e470a035e9a0db085785c568e"
    assert _commit_id(empty_tree, [first], "alice", 1700000000, "v2\n\nretrained") == (
        "03bf70070fd2897f33c37d2440edca857850cdcf"
    )

    with HubServer(lfs_threshold=100) as hub:
        hub.create_repo(REPO)
        hub.commit(REPO, {"small.txt": b"s" * 100, "big.txt": b"b" * 101})
        info = {
            p.path: p for p in HfApi(endpoint=hub.url).get_paths_info(REPO, ["small.txt", "big.txt", "gone"])
        }
        assert info["small.txt"].lfs is None
        assert info["big.txt"].lfs.sha256 == hashlib.sha256(b"b" * 101).hexdigest()
        # An LFS file's git oid is its pointer's, as git-lfs stores it.
        pointer = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{info['big.txt'].lfs.sha256}\nsize 101\n"
        )
        assert info["big.txt"].blob_id == git_blob_id(pointer.encode())


def test_bad_input_gets_one_clear_error(hub_server):
    with pytest.raises(SrmzooError, match="token"):
        HubServer(tokens={"": HUB_USER})
    with pytest.raises(SrmzooError, match="not a valid Hub name"):
        HubServer(tokens={HUB_TOKEN: "bad name!"})
    with pytest.raises(SrmzooError, match="members without a token: bob"):
        HubServer(tokens={HUB_TOKEN: HUB_USER}, orgs={"srmzoo": [HUB_USER, "bob"]})
    with pytest.raises(SrmzooError, match="before start"):
        _ = HubServer().url
    with pytest.raises(SrmzooError, match="cannot keep a test Hub"):
        HubServer(root=Path(__file__))  # a file, not a folder
    with pytest.raises(SrmzooError, match="already running"):
        hub_server.start()

    hub_server.create_repo(REPO)
    with pytest.raises(SrmzooError, match="already has"):
        hub_server.create_repo(REPO)
    with pytest.raises(SrmzooError, match="unknown tamper mode"):
        hub_server.tamper(REPO, ".gitattributes", mode="scramble")
    with pytest.raises(SrmzooError, match="did you mean: srmzoo-tester/math-135m-lora"):
        hub_server.tamper(f"{HUB_USER}/math-135m-lorra", ".gitattributes")
    with pytest.raises(SrmzooError, match="no such file"):
        hub_server.tamper(REPO, "missing.bin")
    with pytest.raises(SrmzooError, match="doesn't exist"):
        hub_server.commit(REPO, {"missing.bin": None})
    with pytest.raises(SrmzooError, match="invalid path"):
        hub_server.commit(REPO, {"../escape": b""})


@pytest.fixture
def offline_mode(monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)  # as HF_HUB_OFFLINE=1 at import would


def test_hub_server_fixture_lifts_offline_mode_for_the_local_hub(offline_mode, hub_server):
    assert HfApi(endpoint=hub_server.url, token=HUB_TOKEN).whoami()["name"] == HUB_USER
