"""The replay slice (data.general_size) and the forgetting probe (srmzoo forgetting): general prompts split by
topic, the base's own replies (cached), per-token NLL scored on exactly the reply's tokens, and the real
SmolLM2-135M path end to end: train with a slice, then measure drift against an adapter trained without."""

from __future__ import annotations

import json
import math

import pytest

from srmzoo import general
from srmzoo.backends import replies
from srmzoo.domain import Example
from srmzoo.errors import SrmzooError
from srmzoo.general import GENERAL_MAX_NEW_TOKENS, TASKS, TOPIC_SPLITS, general_prompts
from srmzoo.recipe import Recipe


def test_prompts_are_split_by_topic_and_deterministic():
    train = general_prompts("train", len(TASKS) * len(TOPIC_SPLITS["train"]))
    heldout = general_prompts("heldout", len(TASKS) * len(TOPIC_SPLITS["heldout"]), seed=5)
    assert len(set(train)) == len(train) and len(set(heldout)) == len(heldout)
    for prompt in heldout:  # no held-out prompt names a training topic
        assert not any(topic in prompt for topic in TOPIC_SPLITS["train"]), prompt
    assert general_prompts("train", 20, seed=1) == general_prompts("train", 20, seed=1)
    assert general_prompts("train", 20, seed=1) != general_prompts("train", 20, seed=2)
    # the first prompts cover distinct topics before any repeats
    first = general_prompts("heldout", len(TOPIC_SPLITS["heldout"]))
    assert sorted(next(t for t in TOPIC_SPLITS["heldout"] if t in p) for p in first) == sorted(TOPIC_SPLITS["heldout"])


@pytest.mark.parametrize("n", [-1, 10_000, 2.5])
def test_bad_prompt_counts_are_refused(n):
    with pytest.raises(SrmzooError, match="general prompts"):
        general_prompts("train", n)


def test_unknown_split_is_named():
    with pytest.raises(SrmzooError, match="heldout"):
        general_prompts("test", 3)


def test_recipe_general_size_is_checked():
    base = {"name": "x", "domain": "math", "model": {"base": "smollm2-135m-instruct"}}
    assert Recipe.from_dict(base).data.general_size == 0
    with pytest.raises(SrmzooError, match="data.general_size: -3 is negative"):
        Recipe.from_dict({**base, "data": {"general_size": -3}})
    with pytest.raises(SrmzooError, match="data.general_size: expected int"):
        Recipe.from_dict({**base, "data": {"general_size": "lots"}})


def test_reply_nll_is_the_mean_loss_over_the_reply_tokens(tiny_base_dir):
    """The probe's number equals transformers' own loss with every non-reply token masked."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srmzoo.eval.forgetting import reply_nll
    from srmzoo.prompting import PromptFormat
    from srmzoo.train.sft import (
        tokenize_examples,  # the training rows: the probe must score exactly these tokens
    )

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir)
    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    fmt = PromptFormat.for_tokenizer(tok, system_prompt="Be brief.")
    prompts, replies = ["Describe glaciers in simple words.", "Hi"], ["Glaciers are slow rivers of ice.", "Hello there, friend!"]
    got = reply_nll(model, tok, fmt, prompts, replies, batch_size=2)  # padded batch
    for p, r, value in zip(prompts, replies, got, strict=True):
        row = tokenize_examples([Example(id="0", family="general", question=p, answer="", solution=r)],
                                tok, fmt, 10_000, annotate_tools=False)[0][0]
        ids = torch.tensor([row["input_ids"]])
        labels = torch.tensor([[t if m else -100 for t, m in zip(row["input_ids"], row["completion_mask"], strict=True)]])
        with torch.no_grad():
            expected = model(input_ids=ids, labels=labels).loss.item()
        assert value == pytest.approx(expected, rel=1e-4)


def test_base_replies_are_cached(tiny_base_dir, tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import srmzoo.backends.hf as hf

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir)
    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    cache = tmp_path / "replies.json"
    prompts = general_prompts("train", 3)
    first = replies.base_replies(model, tok, prompts, max_new_tokens=8, progress=False, cache=cache)
    assert first == [None, None, None]  # a random tiny model never ends its turn within 8 tokens: all cut off
    monkeypatch.setattr(hf, "generate", lambda *a, **k: pytest.fail("the cached replies were regenerated"))
    assert replies.base_replies(model, tok, prompts, max_new_tokens=8, progress=False, cache=cache) == first
    # another token limit is another key: regenerated
    with pytest.raises(pytest.fail.Exception, match="regenerated"):
        replies.base_replies(model, tok, prompts, max_new_tokens=9, progress=False, cache=cache)


def test_a_base_that_finishes_no_reply_is_a_clear_error(tiny_base_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir)
    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    with pytest.raises(SrmzooError, match="finished none of its 2 replies") as err:
        replies.general_examples(model, tok, 2, max_new_tokens=8, progress=False)
    assert "data.general_size: 0" in err.value.hint


def test_forgetting_cli_refuses_a_bad_count(capsys):
    from srmzoo.cli import main

    assert main(["forgetting", "no-such-entry", "--n", "5000"]) == 2
    err = capsys.readouterr().err
    assert "general prompts" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------- the real base


@pytest.mark.real_model
def test_replay_slice_and_probe_on_the_real_base(tmp_path_factory, isolated_cache, capsys):
    """SmolLM2-135M answers 8 general prompts, those replies train beside the domain's examples, and the
    probe scores the base's own replies: low NLL for the base in its own template (they are its greedy
    replies), a drift per adapter with an interval around it, and a paired difference between adapters."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import toy_domain  # noqa: F401  (registers "toy-addition")

    from srmzoo.cli import main
    from srmzoo.train.stages import train

    def recipe(name: str, general_size: int) -> Recipe:
        return Recipe.from_dict({
            "name": name, "domain": "toy-addition", "model": {"base": "smollm2-135m-instruct"},
            "data": {"train_size": 16, "max_length": 256, "general_size": general_size},
            "train": {"batch_size": 8, "max_steps": 2, "lr": 2e-3, "logging_steps": 1, "save_steps": 100,
                      "warmup_ratio": 0.0},
        })

    root = tmp_path_factory.mktemp("replay")
    train(recipe("toy-replay", 8), root / "with", progress=False)
    summary = json.loads((root / "with" / "train_summary.json").read_text())
    info = summary["general"]
    assert info["prompts"] == 8 and 0 < info["replies_kept"] <= 8 and info["examples"] == info["replies_kept"]
    assert info["prompts_sha256"] == general.prompts_sha256(general_prompts("train", 8))
    assert summary["examples"] == 16 + info["examples"]
    cached = list((isolated_cache / "general").glob("smollm2-135m-instruct-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["key"]["max_new_tokens"] == GENERAL_MAX_NEW_TOKENS
    train(recipe("toy-plain", 0), root / "without", progress=False)

    assert main(["forgetting", str(root / "with"), "--n", "10", "--compare-adapter", str(root / "without")]) == 0
    out = capsys.readouterr().out
    assert "drift vs base" in out and "toy-replay (adapter)" in out and "toy-plain (adapter)" in out
    res = json.loads((root / "with" / "adapter" / "eval" / "forgetting.json").read_text())
    assert res["probe"]["prompts"] == 10 and 0 < res["probe"]["replies_kept"] <= 10
    own = next(r for r in res["rows"] if r["prompt"] == "own")
    assert own["nll"] < 1.0  # the base's own greedy replies are likely under it: the right tokens are scored
    assert math.isclose(own["perplexity"], math.exp(own["nll"]))
    assert [d["adapter"] for d in res["drift"]] == ["toy-replay (adapter)", "toy-plain (adapter)"]
    for d in res["drift"]:
        assert d["ci_low"] <= d["drift_nats_per_token"] <= d["ci_high"]
    (between,) = res["between_adapters"]
    assert between["ci_low"] <= between["nll_difference"] <= between["ci_high"]
    assert len(res["per_item_nll"]["toy-replay (adapter)"]) == res["probe"]["replies_kept"]
    assert res["command"].startswith("srmzoo forgetting")

    # the card of the probed adapter shows the probe (and copies it); the compared adapter's card does not
    from srmzoo.publish.cards import write_card

    card = write_card(root / "with", out_dir=root / "card").read_text()
    assert "### Forgetting: drift on general prompts" in card and "| toy-replay (adapter) | " in card
    assert "the replay slice" in card and (root / "card" / "forgetting.json").is_file()
    assert "Forgetting" not in write_card(root / "without", out_dir=root / "card-plain").read_text()
