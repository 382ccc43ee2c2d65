"""Publishing adapters to a Hub and pulling them back, verified, against the local HubServer: the files a
publish commits, loading what was pulled (srmzoo and plain PEFT) with outputs identical to the original,
history, private repos, tampered and truncated downloads, pull failing closed (no Hub confirmation, an
incomplete files list, unlisted files), tokens and endpoint credentials kept out of every file, message and
log, the CLI."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest_hub import HUB_TOKEN, HUB_USER

sys.path.insert(0, str(Path(__file__).parent))
import toy_domain  # noqa: E402,F401  (registers "toy-addition")

from srmzoo.errors import SrmzooError  # noqa: E402
from srmzoo.publish.hub import (  # noqa: E402
    FILES_MANIFEST,
    PUBLISHED_FILE,
    REQUIRED_FILES,
    VERIFIED_DIR,
    publish,
    pull,
)
from srmzoo.store import install_run  # noqa: E402

REPO = f"{HUB_USER}/toy-tiny-lora"
ENTRY = "toy-tiny"
CARD = "---\nlicense: apache-2.0\nlibrary_name: peft\ntags:\n- srmzoo\n---\n# toy-tiny\n"
QUESTIONS = ["What is 12 + 30?", "What is 7 + 5?"]
ADAPTER_FILES = {
    "adapter_config.json",
    "adapter_model.safetensors",
    "chat_template.jinja",
    "srmzoo_adapter.json",
    "srmzoo_prompt.json",
    "tokenizer.json",
    "tokenizer_config.json",
}
RECORDS = {"recipe.yaml", "metrics.jsonl", "loss_curve.png", "train_summary.json"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def no_saved_token(monkeypatch, tmp_path):
    """No Hub token but the ones a test passes: not the developer's HF_TOKEN, nor their token file."""
    import huggingface_hub.constants as hf_constants

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-stored-tokens"))


@pytest.fixture
def entry(tiny_run, isolated_cache) -> Path:
    """The adapter installed in an empty local store, with an eval result and its samples beside it."""
    adapter = install_run(tiny_run, ENTRY)
    (adapter / "eval").mkdir()
    (adapter / "eval" / "results_test.json").write_text('{"reports": []}\n')
    (adapter / "eval" / "samples_test.jsonl").write_text('{"id": "toy/test/00000"}\n')
    (adapter / "eval" / "scaling_test_k8.png").write_bytes(b"\x89PNG stand-in")  # a sampled eval's curves
    return adapter


def _inputs(tokenizer, prompt_format):
    texts = [prompt_format.render(tokenizer, prompt_format.messages(q)) for q in QUESTIONS]
    return [tokenizer(t, return_tensors="pt", add_special_tokens=False) for t in texts]


def _greedy(model, inputs) -> list[list[int]]:
    import torch

    with torch.no_grad():
        return [model.generate(**x, max_new_tokens=6, do_sample=False)[0].tolist() for x in inputs]


def _logits(model, inputs):
    import torch

    with torch.no_grad():
        return model(**inputs[0]).logits


def _srmzoo_outputs(adapter_dir: Path, base_dir: Path):
    from srmzoo.artifacts import load_adapter

    model, tokenizer, fmt, _ = load_adapter(adapter_dir, base_path=base_dir, device="cpu")
    inputs = _inputs(tokenizer, fmt)
    return inputs, _greedy(model, inputs), _logits(model, inputs)


def _text_of_every_file(*roots: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("latin-1") for root in roots for p in root.rglob("*") if p.is_file()
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _perturb_weights(adapter_dir: Path) -> None:
    """Change every LoRA B matrix, as another training step would, and re-save the weights."""
    import torch
    from safetensors.torch import load_file, save_file

    weights = adapter_dir / "adapter_model.safetensors"
    tensors = load_file(weights)
    generator = torch.Generator().manual_seed(1)
    for name, tensor in tensors.items():
        if "lora_B" in name:
            tensors[name] = tensor + 0.5 * torch.randn(tensor.shape, generator=generator)
    save_file(tensors, weights, metadata={"format": "pt"})


# --------------------------------------------------------------------------------------------- round trip


def test_publish_then_pull_loads_identically_with_srmzoo_and_plain_peft(
    entry, tiny_base_dir, hub_server, tmp_path, caplog, capsys, monkeypatch
):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    hub_logger = logging.getLogger("huggingface_hub")
    monkeypatch.setattr(hub_logger, "propagate", True)  # huggingface_hub logs to its own handler otherwise
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="huggingface_hub")
    extra = tmp_path / "extra.md"
    extra.write_text("notes\n")
    result = publish(
        ENTRY,
        REPO,
        token=HUB_TOKEN,
        endpoint=hub_server.url,
        card=CARD,
        extra_files={"notes/extra.md": extra},
    )
    expected = ADAPTER_FILES | RECORDS | {"README.md", FILES_MANIFEST, "eval/results_test.json"}
    expected |= {"notes/extra.md", "scaling_test_k8.png"}  # at the root, where the card links it
    assert set(result.files) == expected  # eval samples, the PEFT stub card and published.json stay home
    assert (result.repo, result.revision, result.url) == (REPO, "main", f"{hub_server.url}/{REPO}")
    record = json.loads((entry / PUBLISHED_FILE).read_text())
    assert {k: record[k] for k in ("repo", "revision", "commit", "endpoint")} == {
        "repo": REPO,
        "revision": "main",
        "commit": result.commit,
        "endpoint": hub_server.url,
    }

    pulled = pull(REPO, result.commit, endpoint=hub_server.url, cache_dir=tmp_path / "hf-cache")
    assert pulled.name == result.commit and pulled.is_relative_to(tmp_path / "hf-cache")
    assert pull(REPO, endpoint=hub_server.url, cache_dir=tmp_path / "hf-cache") == pulled  # main, same commit
    listed = json.loads((pulled / FILES_MANIFEST).read_text())
    assert set(listed) == expected - {FILES_MANIFEST} and set(REQUIRED_FILES) <= set(listed)
    for name in (ADAPTER_FILES | RECORDS) - {"adapter_config.json"}:
        assert (pulled / name).read_bytes() == (entry / name).read_bytes(), name
    # the published PEFT config names the base's Hub id, not this machine's cache path
    local, published = (json.loads((d / "adapter_config.json").read_text()) for d in (entry, pulled))
    assert published.pop("base_model_name_or_path") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert local.pop("base_model_name_or_path") == str(tiny_base_dir) and published == local
    assert (pulled / "README.md").read_text() == CARD

    inputs, original_ids, original_logits = _srmzoo_outputs(entry, tiny_base_dir)
    _, srmzoo_ids, srmzoo_logits = _srmzoo_outputs(pulled, tiny_base_dir)
    plain = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base_dir), pulled).eval()
    assert srmzoo_ids == original_ids == _greedy(plain, inputs)
    assert srmzoo_logits.equal(original_logits) and _logits(plain, inputs).equal(original_logits)

    # The token is nowhere: not in the store entry (published.json), what the Hub received, the cache, the
    # logs or the output.
    captured = capsys.readouterr()
    assert HUB_TOKEN not in _text_of_every_file(entry, hub_server.root, tmp_path / "hf-cache")
    assert "does not list" not in caplog.text and "srmzoo.publish.hub" in caplog.text  # every file listed
    assert HUB_TOKEN not in caplog.text + captured.out + captured.err


def test_a_second_publish_is_a_new_commit_and_the_old_one_still_loads(
    entry, tiny_base_dir, hub_server, tmp_path
):
    from huggingface_hub import HfApi

    kw = {"token": HUB_TOKEN, "endpoint": hub_server.url, "card": CARD}
    first = publish(ENTRY, REPO, **kw)
    assert publish(ENTRY, REPO, **kw).commit == first.commit  # nothing changed: no new commit

    _perturb_weights(entry)
    shutil.rmtree(entry / "eval")
    second = publish(ENTRY, REPO, **kw)
    assert second.commit != first.commit
    api = HfApi(endpoint=hub_server.url, token=HUB_TOKEN)
    assert [c.commit_id for c in api.list_repo_commits(REPO)][:2] == [second.commit, first.commit]
    assert "eval/results_test.json" not in api.list_repo_files(REPO)  # the branch mirrors the adapter
    assert json.loads((entry / PUBLISHED_FILE).read_text())["commit"] == second.commit

    cache = tmp_path / "hf-cache"
    old = pull(REPO, first.commit, endpoint=hub_server.url, cache_dir=cache)
    new = pull(REPO, endpoint=hub_server.url, cache_dir=cache)
    assert (old.name, new.name) == (first.commit, second.commit)
    assert (old / "eval" / "results_test.json").is_file()
    _, _, old_logits = _srmzoo_outputs(old, tiny_base_dir)
    _, _, new_logits = _srmzoo_outputs(new, tiny_base_dir)
    _, _, current_logits = _srmzoo_outputs(entry, tiny_base_dir)
    assert new_logits.equal(current_logits) and not old_logits.equal(new_logits)

    # A branch of its own: created on first use, pulled by name.
    branch = publish(ENTRY, REPO, revision="exp/r2", **kw)
    assert (branch.revision, branch.url) == ("exp/r2", f"{hub_server.url}/{REPO}/tree/exp/r2")
    assert pull(REPO, "exp/r2", endpoint=hub_server.url, cache_dir=cache).name == branch.commit
    assert api.list_repo_commits(REPO)[0].commit_id == second.commit  # main did not move


def test_a_private_repo_pulls_only_with_its_token(entry, hub_server, tmp_path):
    result = publish(ENTRY, REPO, private=True, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    with pytest.raises(SrmzooError, match="private and cannot be read without a token") as err:
        pull(REPO, result.commit, endpoint=hub_server.url, cache_dir=tmp_path / "anonymous")
    assert "HF_TOKEN" in str(err.value)
    pulled = pull(REPO, result.commit, token=HUB_TOKEN, endpoint=hub_server.url, cache_dir=tmp_path / "c")
    assert (pulled / "adapter_model.safetensors").is_file()

    hub_server.create_repo(f"{HUB_USER}/public")
    with pytest.raises(SrmzooError, match="is public; refusing to publish with private=True"):
        publish(
            ENTRY, f"{HUB_USER}/public", private=True, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD
        )


# ----------------------------------------------------------------------------------------------- tampering


@pytest.mark.parametrize(
    ("path", "mode", "expected"),
    [
        ("adapter_model.safetensors", "flip", r"corrupted or tampered: adapter_model.safetensors has sha256"),
        ("srmzoo_adapter.json", "flip", r"corrupted or tampered: srmzoo_adapter.json has sha256"),
        (FILES_MANIFEST, "flip", rf"corrupted or tampered: {FILES_MANIFEST} differs from what the Hub lists"),
        ("adapter_model.safetensors", "truncate", r"corrupted or tampered: Consistency check failed"),
    ],
)
def test_a_tampered_download_is_refused_and_removed_so_a_retry_downloads_again(
    entry, hub_server, tmp_path, path, mode, expected
):
    result = publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    cache = tmp_path / "hf-cache"
    hub_server.tamper(REPO, path, mode=mode)
    with pytest.raises(SrmzooError, match=expected) as err:
        pull(REPO, result.commit, endpoint=hub_server.url, cache_dir=cache)
    assert "hint: retry" in str(err.value)
    storage = cache / f"models--{HUB_USER}--toy-tiny-lora"
    assert not (storage / "snapshots" / result.commit).exists()
    left = {p.name: _sha256(p) for p in (storage / "blobs").iterdir()}

    hub_server.untamper()
    pulled = pull(REPO, result.commit, endpoint=hub_server.url, cache_dir=cache)
    if path != FILES_MANIFEST:
        assert (pulled / path).read_bytes() == (entry / path).read_bytes()
    clean = {_sha256(p) for p in pulled.rglob("*") if p.is_file()}
    assert set(left.values()) <= clean  # what the failed pull left in the cache is all undamaged


def test_a_listed_file_missing_from_the_repo_is_refused(entry, hub_server, tmp_path):
    publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    hub_server.commit(REPO, {"tokenizer.json": None})  # someone deletes a file outside srmzoo
    with pytest.raises(SrmzooError, match="corrupted or tampered: tokenizer.json is missing"):
        pull(REPO, endpoint=hub_server.url, cache_dir=tmp_path / "hf-cache")


# ------------------------------------------------------------------------------------------- failing closed


def _served(hub_server, commit: str, path: str) -> bytes:
    with urllib.request.urlopen(f"{hub_server.url}/{REPO}/resolve/{commit}/{path}") as answer:
        return answer.read()


def test_pull_refuses_a_forged_pair_when_the_hub_check_is_dropped_until_verified_online(
    entry, hub_server, tmp_path, caplog
):
    weights = "adapter_model.safetensors"
    result = publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    real = _served(hub_server, result.commit, weights)
    forged = real[: len(real) // 2] + bytes([real[len(real) // 2] ^ 1]) + real[len(real) // 2 + 1 :]
    listing = json.loads(_served(hub_server, result.commit, FILES_MANIFEST))
    listing[weights]["sha256"] = hashlib.sha256(forged).hexdigest()
    forged_listing = (json.dumps(listing, indent=2, sort_keys=True) + "\n").encode()
    assert len(forged_listing) == len(_served(hub_server, result.commit, FILES_MANIFEST))  # sizes pass
    hub_server.tamper(REPO, weights, mode="replace", data=forged)
    hub_server.tamper(REPO, FILES_MANIFEST, mode="replace", data=forged_listing)
    hub_server.drop("*/paths-info/*")
    cache = tmp_path / "hf-cache"

    with pytest.raises(SrmzooError) as err:
        pull(REPO, endpoint=hub_server.url, cache_dir=cache)
    assert err.value.message == (
        f"cannot verify {REPO}@main: the Hub at {hub_server.url} did not confirm {FILES_MANIFEST} of commit "
        f"{result.commit[:12]} (RemoteProtocolError) and this machine never verified that commit online; its "
        "files were not used"
    )
    assert "retry when the Hub answers" in err.value.hint
    assert not list(cache.rglob(weights))  # only the list was downloaded, nothing it lists
    assert [r.status for r in hub_server.requests if "/paths-info/" in r.path] == [0]

    # The Hub answers again, still serving the forged pair: its answer contradicts the list.
    hub_server.drop()
    with pytest.raises(SrmzooError, match=f"{FILES_MANIFEST} differs from what the Hub lists for it"):
        pull(REPO, endpoint=hub_server.url, cache_dir=cache)

    # Honest bytes, verified online once; afterwards a dropped check falls back to that record, said so.
    hub_server.untamper()
    pulled = pull(REPO, endpoint=hub_server.url, cache_dir=cache)
    assert (pulled / weights).read_bytes() == real
    hub_server.drop("*/paths-info/*")
    caplog.set_level("INFO", logger="srmzoo")
    assert pull(REPO, endpoint=hub_server.url, cache_dir=cache) == pulled
    assert f"commit {result.commit[:12]} was verified online on this machine at " in caplog.text

    # Rewriting the cached list (and weights) after that verification voids the record.
    (pulled / weights).resolve().write_bytes(forged)
    (pulled / FILES_MANIFEST).resolve().write_bytes(forged_listing)
    with pytest.raises(SrmzooError, match="this machine never verified that commit online"):
        pull(REPO, endpoint=hub_server.url, cache_dir=cache)


def test_pull_refuses_a_files_list_without_an_adapter_file_and_publish_never_writes_one(
    entry, hub_server, tmp_path
):
    publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    complete = json.loads(_served(hub_server, "main", FILES_MANIFEST))
    for name in REQUIRED_FILES:
        listing = {path: e for path, e in complete.items() if path != name}
        commit = hub_server.commit(REPO, {FILES_MANIFEST: json.dumps(listing).encode()})
        with pytest.raises(SrmzooError) as err:
            pull(REPO, commit, endpoint=hub_server.url, cache_dir=tmp_path / "hf-cache")
        assert (
            err.value.message
            == f"{REPO}@{commit} cannot be verified: its {FILES_MANIFEST} does not list {name}"
        )

    adapter = shutil.copytree(entry, tmp_path / "no-prompt")
    (adapter / "srmzoo_prompt.json").unlink()
    with pytest.raises(SrmzooError) as err:
        publish(adapter, REPO, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    assert err.value.message == (
        f"cannot publish {adapter}: it lacks srmzoo_prompt.json, which loading the adapter reads"
    )


def test_files_the_list_does_not_name_are_removed_from_the_snapshot(entry, hub_server, tmp_path, caplog):
    from huggingface_hub import snapshot_download

    publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=hub_server.url, card=CARD)
    commit = hub_server.commit(
        REPO, {"adapter_model.bin": b"\x80\x04 a pickle", "tools/run.py": b"import os"}
    )
    cache = tmp_path / "hf-cache"
    # Another tool downloaded everything into the same snapshot first.
    plain = Path(snapshot_download(REPO, revision=commit, cache_dir=cache, endpoint=hub_server.url))
    assert (plain / "adapter_model.bin").is_file() and (plain / "tools" / "run.py").is_file()

    caplog.set_level("WARNING", logger="srmzoo")
    pulled = pull(REPO, commit, endpoint=hub_server.url, cache_dir=cache)
    assert pulled == plain
    listed = set(json.loads((pulled / FILES_MANIFEST).read_text()))
    assert {p.relative_to(pulled).as_posix() for p in pulled.rglob("*")} == listed | {
        FILES_MANIFEST,
        "eval",
        ".gitattributes",  # the Hub's own, left by the plain download; nothing loads it
    }
    assert (
        f"removed 2 files from the snapshot of {REPO}@{commit} that {FILES_MANIFEST} does not list "
        "(added outside `srmzoo publish`, unverified): adapter_model.bin, tools/run.py" in caplog.text
    )
    # A fresh cache never downloads them at all.
    fresh = pull(REPO, commit, endpoint=hub_server.url, cache_dir=tmp_path / "fresh")
    assert not (fresh / "adapter_model.bin").exists() and not (fresh / "tools").exists()


def test_an_endpoint_with_credentials_is_refused_before_any_request_and_never_echoed(
    entry, hub_server, tmp_path, caplog, capsys, monkeypatch
):
    import huggingface_hub.constants as hf_constants

    from srmzoo.cli import main

    for name in ("huggingface_hub", "httpx2"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    caplog.set_level("DEBUG")
    password = "pa55-w0rd-in-the-url"
    endpoint = f"http://{HUB_USER}:{password}@{urlsplit(hub_server.url).netloc}"
    expected = "the Hub endpoint URL (--endpoint) carries credentials; nothing was sent"
    hint = "pass a token with HF_TOKEN, `hf auth login` or token= instead of 'user:password@' in the URL"
    for attempt in (
        lambda: pull(REPO, endpoint=endpoint, cache_dir=tmp_path / "c"),
        lambda: publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=endpoint, card=CARD),
        lambda: publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=f"https://{password}@hub.example", card=CARD),
    ):
        with pytest.raises(SrmzooError) as err:
            attempt()
        assert (err.value.message, err.value.hint) == (expected, hint)
        assert password not in str(err.value)

    monkeypatch.setattr(hf_constants, "ENDPOINT", endpoint)  # HF_ENDPOINT=... when huggingface_hub loaded
    with pytest.raises(SrmzooError) as err:
        pull(REPO, cache_dir=tmp_path / "c")
    assert err.value.message == expected.replace("--endpoint", "HF_ENDPOINT")

    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    assert main(["pull", REPO, "--endpoint", endpoint, "--cache-dir", str(tmp_path / "c")]) == 2
    assert main(["publish", ENTRY, "--repo", REPO, "--endpoint", endpoint]) == 2
    captured = capsys.readouterr()
    assert captured.err.count(f"srmzoo: error: {expected}") == 2
    assert password not in caplog.text + captured.out + captured.err
    assert hub_server.requests == []  # nothing reached the Hub, so no request log could print the URL


# --------------------------------------------------------------------------------------------------- errors


def test_publish_errors_are_one_clear_message_without_the_token(entry, hub_server, tmp_path):
    url = hub_server.url
    with pytest.raises(SrmzooError, match="needs a Hub token") as err:
        publish(ENTRY, REPO, endpoint=url, card=CARD)
    assert "HF_TOKEN" in str(err.value)
    wrong = "hf_wrong_secret_token"
    with pytest.raises(SrmzooError, match="rejected the token") as err:
        publish(ENTRY, REPO, token=wrong, endpoint=url, card=CARD)
    assert wrong not in str(err.value)
    with pytest.raises(SrmzooError, match="may not write to namespace 'someone-else'") as err:
        publish(ENTRY, "someone-else/toy", token=HUB_TOKEN, endpoint=url, card=CARD)
    assert f"--repo {HUB_USER}/toy" in str(err.value)
    for repo in ("toy-tiny-lora", "a/b/c", f"{HUB_USER}/bad name", f"{HUB_USER}/a--b"):
        with pytest.raises(SrmzooError, match="invalid Hub repo id"):
            publish(ENTRY, repo, token=HUB_TOKEN, endpoint=url, card=CARD)
    with pytest.raises(SrmzooError, match="no adapter for 'no-such-entry'"):
        publish("no-such-entry", REPO, token=HUB_TOKEN, endpoint=url, card=CARD)
    with pytest.raises(SrmzooError, match="invalid branch name"):
        publish(ENTRY, REPO, revision="a" * 40, token=HUB_TOKEN, endpoint=url, card=CARD)
    with pytest.raises(SrmzooError, match="refused the model card: Invalid metadata.*apache-2.0") as err:
        publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=url, card="---\nlicense: apache2.0\n---\n")
    assert "hint: fix the model card" in str(err.value)
    with pytest.raises(SrmzooError, match="would replace a file srmzoo writes"):
        publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=url, extra_files={"README.md": entry / "recipe.yaml"})
    with pytest.raises(SrmzooError, match="is unreachable") as err:
        publish(ENTRY, REPO, token=HUB_TOKEN, endpoint="http://127.0.0.1:1", card=CARD)
    assert "HF_ENDPOINT" in str(err.value)
    assert not (entry / PUBLISHED_FILE).exists()  # nothing was published


def test_pull_errors_and_offline_use_of_a_cached_commit(entry, hub_server, tmp_path):
    url, cache = hub_server.url, tmp_path / "hf-cache"
    with pytest.raises(SrmzooError, match=f"repo {HUB_USER}/nope not found"):
        pull(f"{HUB_USER}/nope", endpoint=url, cache_dir=cache)
    result = publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=url, card=CARD)
    with pytest.raises(SrmzooError, match="has no such revision"):
        pull(REPO, "v9", endpoint=url, cache_dir=cache)
    with pytest.raises(SrmzooError, match="unreachable and the cache has no complete copy") as err:
        # a branch: at a commit sha, huggingface_hub retries the tree listing for ~20 s before giving up
        pull(REPO, "main", endpoint="http://127.0.0.1:1", cache_dir=cache)
    assert "HF_ENDPOINT" in str(err.value) and "local adapter directory" in str(err.value)

    pulled = pull(REPO, result.commit, endpoint=url, cache_dir=cache)
    record = json.loads((pulled.parent.parent / VERIFIED_DIR / f"{result.commit}.json").read_text())
    assert (record["commit"], record["files_manifest_sha256"]) == (
        result.commit,
        _sha256(pulled / FILES_MANIFEST),
    )
    assert pull(REPO, result.commit, endpoint="http://127.0.0.1:1", cache_dir=cache) == pulled  # from cache
    import huggingface_hub.constants as hf_constants
    from huggingface_hub import snapshot_download

    snapshot_download(REPO, revision=result.commit, cache_dir=tmp_path / "plain", endpoint=url)  # unchecked
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hf_constants, "HF_HUB_OFFLINE", True)  # as HF_HUB_OFFLINE=1: no request at all
        assert pull(REPO, result.commit, endpoint=url, cache_dir=cache) == pulled
        with pytest.raises(SrmzooError, match=r"\(OfflineModeIsEnabled\) and this machine never verified"):
            pull(REPO, result.commit, endpoint=url, cache_dir=tmp_path / "plain")

    hub_server.create_repo(f"{HUB_USER}/plain")
    hub_server.commit(f"{HUB_USER}/plain", {"adapter_config.json": b"{}"})
    with pytest.raises(SrmzooError, match=f"not an srmzoo adapter repo: {FILES_MANIFEST} is missing"):
        pull(f"{HUB_USER}/plain", endpoint=url, cache_dir=cache)


def test_publish_without_a_card_uploads_the_generated_one(entry, hub_server, tmp_path):
    result = publish(ENTRY, REPO, token=HUB_TOKEN, endpoint=hub_server.url)
    card = (
        pull(REPO, result.commit, endpoint=hub_server.url, cache_dir=tmp_path / "c") / "README.md"
    ).read_text()
    assert card.startswith("---\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\n")
    assert "library_name: peft" in card and "- toy-addition" in card  # the Hub accepted its metadata
    assert f'PeftModel.from_pretrained(base, "{REPO}")' in card  # usage snippets name the repo


# ------------------------------------------------------------------------------------------------------ CLI


def test_cli_publish_and_pull(entry, hub_server, tmp_path, monkeypatch, capsys):
    from srmzoo.cli import main

    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    assert main(["publish", ENTRY, "--repo", REPO, "--endpoint", hub_server.url]) == 0
    out = capsys.readouterr().out
    commit = json.loads((entry / PUBLISHED_FILE).read_text())["commit"]
    assert f"repo:   {REPO}" in out and "branch: main" in out and f"commit: {commit}" in out

    where = ["--endpoint", hub_server.url, "--cache-dir", str(tmp_path / "c")]
    assert main(["pull", REPO, "--revision", commit, *where]) == 0
    pulled = Path(capsys.readouterr().out.strip())
    assert pulled.name == commit and (pulled / "srmzoo_adapter.json").is_file()

    assert main(["publish", ENTRY, "--repo", "no-namespace", "--endpoint", hub_server.url]) == 2
    captured = capsys.readouterr()
    assert "srmzoo: error: invalid Hub repo id 'no-namespace'" in captured.err
    assert HUB_TOKEN not in captured.out + captured.err
