"""llama.cpp generation of many prompts at once (:class:`srmzoo.backends.llamacpp.LlamaCppBatchGenerator`):
greedy tokens equal torch's whatever the grouping, sampled ones depend on their seed alone, stop strings
and budgets end a sequence and hand its slot on, and the evaluation harness runs on it unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import toy_domain  # noqa: F401 — registers toy-addition

from srmzoo.errors import SrmzooError

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.skipif(
        __import__("importlib").util.find_spec("llama_cpp") is None,
        reason='llama-cpp-python is not installed (make llama, or pip install -e ".[llama]")',
    ),
]

BASE = "qwen2.5-coder-0.5b-instruct"  # the registered base whose tokenizer preparation the tiny one gets


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    from tiny_qwen import tiny_qwen_dir, write_tiny_qwen_gguf

    out = tiny_qwen_dir(tmp_path_factory.mktemp("batch") / "model", tie=False)
    return out, write_tiny_qwen_gguf(out, out.parent / "tiny.gguf")


@pytest.fixture(scope="module")
def tok(tiny):
    from srmzoo.bases import gguf_tokenizer

    return gguf_tokenizer(BASE, tiny[1])


def chat(tok, question: str) -> str:
    return tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                   add_generation_prompt=True)


# Not "The answer is 42.": on it this random model's top two logits are 5.1555 and 5.1511, a near-tie that
# f32 rounding decides differently in torch and in llama.cpp (llama.cpp's one-prompt generator differs too).
QUESTIONS = ["What is 2 + 3?", "def add(a, b):", "for i in range(10): print(i * 2) and then some more words",
             "12 + 30", "Why?", "print(i)"]


def test_greedy_completions_are_torchs_for_any_grouping_and_come_back_in_order(tiny, tok):
    import torch
    from transformers import AutoModelForCausalLM

    from srmzoo.backends.hf import GenerationStats, generate
    from srmzoo.backends.llamacpp import LlamaCppBatchGenerator

    model = AutoModelForCausalLM.from_pretrained(tiny[0], dtype=torch.float32).eval()
    prompts = [chat(tok, q) for q in QUESTIONS]
    want = [generate(model, tok, [p], max_new_tokens=12)[0] for p in prompts]
    for parallel, n_batch in ((1, 512), (4, 512), (3, 40)):  # n_batch 40: prompts arrive over several steps
        gen = LlamaCppBatchGenerator(tiny[1], tok, parallel=parallel, threads=1, n_batch=n_batch)
        stats = GenerationStats()
        got = gen.generate(prompts, max_new_tokens=12, stats=stats)
        assert got == want, (parallel, n_batch)
        assert stats.prompts == len(prompts) and 0 < stats.new_tokens <= 12 * len(prompts)
        gen.close()


def test_sampled_completions_depend_on_their_seed_alone(tiny, tok):
    from srmzoo.backends.llamacpp import LlamaCppBatchGenerator

    prompts = [chat(tok, q) for q in QUESTIONS[:3]]
    runs = []
    for parallel in (1, 4):
        gen = LlamaCppBatchGenerator(tiny[1], tok, parallel=parallel, threads=1)
        runs.append(gen.generate(prompts, max_new_tokens=10, do_sample=True, temperature=1.5,
                                 num_return_sequences=2, seed=7))
        gen.close()
    assert runs[0] == runs[1] and all(len(r) == 2 for r in runs[0])
    assert len({c for r in runs[0] for c in r}) > 1  # the samples differ from one another


def test_a_stop_string_ends_its_sequence_and_is_kept(tiny, tok):
    from srmzoo.backends.llamacpp import LlamaCppBatchGenerator

    gen = LlamaCppBatchGenerator(tiny[1], tok, parallel=2, threads=1)
    prompts = [chat(tok, q) for q in QUESTIONS]
    free = gen.generate(prompts, max_new_tokens=16)
    stop = next(c[0] for c in free if len(c[0]) > 4)[2:4]  # a piece one completion is sure to write
    cut = gen.generate(prompts, max_new_tokens=16, stop_strings=[stop])
    for whole, part in zip(free, cut, strict=True):
        if stop in whole[0]:
            assert part[0].endswith(stop) or stop in part[0][-len(stop) - 8 :]
            assert whole[0].startswith(part[0]) and len(part[0]) <= len(whole[0])
        else:
            assert part == whole
    gen.close()


def test_the_harness_evaluates_on_the_generator_as_on_torch(tiny, tok):
    import torch
    from transformers import AutoModelForCausalLM

    from srmzoo.backends.llamacpp import LlamaCppBatchGenerator
    from srmzoo.domain import get_domain
    from srmzoo.eval.harness import evaluate
    from srmzoo.prompting import PromptFormat

    domain = get_domain("toy-addition")
    examples = domain.examples("test", 5)
    fmt = PromptFormat.for_tokenizer(tok, system_prompt=domain.system_prompt)
    model = AutoModelForCausalLM.from_pretrained(tiny[0], dtype=torch.float32).eval()
    on_torch = evaluate(model, tok, fmt, domain, examples, max_new_tokens=10, batch_size=1, progress=False)
    gen = LlamaCppBatchGenerator(tiny[1], tok, parallel=3, threads=1)
    on_llama = evaluate(None, tok, fmt, domain, examples, max_new_tokens=10, batch_size=4, progress=False,
                        generator=gen)
    assert [r["completions"] for r in on_llama.records] == [r["completions"] for r in on_torch.records]
    assert on_llama.n == 5 and on_llama.new_tokens == on_torch.new_tokens
    with pytest.raises(SrmzooError, match="budget curve"):
        evaluate(None, tok, fmt, domain, examples, max_new_tokens=10, batch_size=4, progress=False,
                 generator=gen, budgets=[4])
    gen.close()


def test_bad_settings_are_clear_errors(tiny, tok):
    from srmzoo.backends.llamacpp import LlamaCppBatchGenerator

    with pytest.raises(ValueError, match="parallel must be at least 1"):
        LlamaCppBatchGenerator(tiny[1], tok, parallel=0)
    gen = LlamaCppBatchGenerator(tiny[1], tok, parallel=2, threads=1)
    with pytest.raises(ValueError, match="needs do_sample"):
        gen.generate([chat(tok, "hi")], num_return_sequences=2)
    with pytest.raises(SrmzooError, match="empty prompt"):
        gen.generate([""])
    assert gen.generate([], max_new_tokens=4) == []
    gen.close()
