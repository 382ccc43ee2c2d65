"""Publishing adapters to a Hub and pulling them back, verified, against the local HubServer: the files a
publish commits, loading what was pulled (srmzoo and plain PEFT) with outputs identical to the original,
history, private repos, tampered and truncated downloads, tokens kept out of every file and log, the CLI."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import pytest
from conftest_hub import HUB_TOKEN, HUB_USER

sys.path.insert(0, str(Path(__file__).parent))
import toy_domain  # noqa: E402,F401  (registers "toy-addition")

from srmzoo.errors import SrmzooError  # noqa: E402
from srmzoo.publish.hub import FILES_MANIFEST, PUBLISHED_FILE, publish, pull  # noqa: E402
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
    assert set(listed) == expected - {FILES_MANIFEST}
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
    assert "not verified" not in caplog.text and "srmzoo.publish.hub" in caplog.text  # every file was listed
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
    assert pull(REPO, result.commit, endpoint="http://127.0.0.1:1", cache_dir=cache) == pulled  # from cache

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
