"""Greedy decoding that drops finished sequences from the batch gives ``model.generate``'s outputs."""

from __future__ import annotations

import pytest
import torch

from srmzoo.backends.hf import GenerationStats, generate, greedy_decode

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


def test_pruned_sampling_draws_from_the_tempered_softmax_with_one_prefill_per_prompt(tiny):
    model, tokenizer = tiny
    batch = tokenizer(PROMPTS[:2], return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        position_ids = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        logits = model(**batch, position_ids=position_ids).logits[:, -1, :].float()
        torch.manual_seed(0)
        k, temperature = 4000, 0.05
        first = greedy_decode(model, batch["input_ids"], batch["attention_mask"], max_new_tokens=1,
                              eos_token_ids=[tokenizer.eos_token_id], temperature=temperature, num_return_sequences=k)
    assert len(first) == 2 * k
    for i in range(2):  # prompt-major rows: prompt i's samples are rows i*k .. i*k+k-1
        probs = (logits[i] / temperature).softmax(-1)
        top = probs.topk(2)
        drawn = torch.tensor([row[0] for row in first[i * k : (i + 1) * k]])
        for p, token in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            share = (drawn == token).float().mean().item()
            assert abs(share - p) < 5 * (p * (1 - p) / k) ** 0.5 + 1e-3, (i, token, share, p)


def test_pruned_sampling_with_a_tiny_nucleus_is_greedy_and_seeds_repeat(tiny):
    model, tokenizer = tiny
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True, add_special_tokens=False)
    kw = {"max_new_tokens": 8, "eos_token_ids": [tokenizer.eos_token_id]}
    with torch.inference_mode():
        greedy = greedy_decode(model, batch["input_ids"], batch["attention_mask"], **kw)
        nucleus = greedy_decode(model, batch["input_ids"], batch["attention_mask"], **kw, temperature=1.0,
                                top_p=1e-9, num_return_sequences=2)
        assert nucleus == [row for row in greedy for _ in range(2)]
        runs = []
        for _ in range(2):
            torch.manual_seed(7)
            runs.append(greedy_decode(model, batch["input_ids"], batch["attention_mask"], **kw, temperature=1.0,
                                      num_return_sequences=3))
    assert runs[0] == runs[1] and len({tuple(r) for r in runs[0]}) > 1


def test_generate_samples_k_per_prompt_with_either_decoder(tiny):
    model, tokenizer = tiny
    for decoder in ("pruned", "generate"):
        torch.manual_seed(0)
        out = generate(model, tokenizer, PROMPTS[:3], max_new_tokens=5, batch_size=2, do_sample=True,
                       temperature=1.0, num_return_sequences=3, decoder=decoder)
        assert [len(o) for o in out] == [3, 3, 3] and all(isinstance(t, str) for o in out for t in o)
    with pytest.raises(ValueError, match="needs do_sample"):
        generate(model, tokenizer, PROMPTS[:1], num_return_sequences=2)
