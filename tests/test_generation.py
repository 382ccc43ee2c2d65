"""Greedy decoding that drops finished sequences from the batch gives ``model.generate``'s outputs."""

from __future__ import annotations

import pytest
import torch

from srmzoo.generation import GenerationStats, generate, greedy_decode

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tiny_base_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    tokenizer.padding_side = "left"
    return model, tokenizer


PROMPTS = ["What is 2 + 2?", "Name a prime number larger than one hundred, please.", "Hi", "Count: 1, 2, 3,"]


def _hf_greedy(model, tokenizer, batch, max_new_tokens, eos):
    out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=eos)
    rows = []
    for row in out[:, batch["input_ids"].shape[1]:].tolist():
        kept = []
        for t in row:
            kept.append(t)
            if t in eos:
                break
        rows.append(kept)
    return rows


def test_pruned_greedy_equals_generate_when_sequences_end_at_different_steps(tiny):
    model, tokenizer = tiny
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        free = _hf_greedy(model, tokenizer, batch, 12, [tokenizer.eos_token_id])
        # make sequences end early: the token each row emits at some step becomes an "end" token
        eos = sorted({free[0][3], free[1][6], tokenizer.eos_token_id})
        expected = _hf_greedy(model, tokenizer, batch, 12, eos)
        got = greedy_decode(model, batch["input_ids"], batch["attention_mask"], max_new_tokens=12,
                            eos_token_ids=eos)
    assert got == expected
    assert len({len(r) for r in got}) > 1  # rows really left the batch at different steps


def test_stop_strings_end_a_sequence_and_stay_in_its_output(tiny):
    model, tokenizer = tiny
    batch = tokenizer(PROMPTS[:2], return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        full = greedy_decode(model, batch["input_ids"], batch["attention_mask"], max_new_tokens=10,
                             eos_token_ids=[tokenizer.eos_token_id])
        text = tokenizer.decode(full[0][:5], skip_special_tokens=True)
        stop = text[-3:]
        cut = greedy_decode(model, batch["input_ids"], batch["attention_mask"], max_new_tokens=10,
                            eos_token_ids=[tokenizer.eos_token_id], stop_strings=[stop], tokenizer=tokenizer)
    first = tokenizer.decode(cut[0], skip_special_tokens=True)
    assert stop in first and len(cut[0]) <= 5
    assert cut[0] == full[0][: len(cut[0])]


def test_generate_counts_only_real_new_tokens(tiny):
    model, tokenizer = tiny
    stats = GenerationStats()
    outs = generate(model, tokenizer, PROMPTS, max_new_tokens=7, batch_size=3, stats=stats)
    assert [len(o) for o in outs] == [1] * len(PROMPTS)
    assert 0 < stats.new_tokens <= 7 * len(PROMPTS) and stats.prompts == len(PROMPTS)
