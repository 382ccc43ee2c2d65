"""Bring your own data and domain: a recipe on the user's files or a Hub dataset with a named verifier, its
errors, its manifest, the walkthrough of docs/bring-your-own.md on a tiny model, a plug-in domain found
through the ``srmzoo.domains`` entry-point group, and ``train.report_to``."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from srmzoo import domain as domain_module
from srmzoo.cli import main
from srmzoo.domain import Example, domain_names, get_domain
from srmzoo.errors import SrmzooError
from srmzoo.publish.manifests import build_manifest, check_manifest, write_manifest
from srmzoo.recipe import DatasetConfig, Recipe, load_recipe
from srmzoo.user_data import DatasetDomain, adapter_domain, dataset_correct, held_out, recipe_domain
from srmzoo.verifiers import verifier_names

FIXTURES = Path(__file__).parent / "fixtures"
BYO = FIXTURES / "byo"
PLUGIN_SITE = FIXTURES / "plugin_site"
ROWS = [json.loads(line) for line in (BYO / "questions.jsonl").read_text().splitlines()]


@pytest.fixture
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def dataset(train: dict, **kw) -> DatasetDomain:
    return DatasetDomain(DatasetConfig.from_dict({"train": train, **kw}))


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def recipe_dict(**data) -> dict:
    return {"name": "mine", "domain": "dataset", "model": {"base": "smollm2-135m-instruct"},
            "data": {"dataset": {"train": {"path": "q.jsonl"}, **data}}, "eval": {"splits": ["test"]}}


# ------------------------------------------------------------------------------------------ the recipe


@pytest.mark.parametrize("change, message", [
    ({"domain": "math"}, "data.dataset is the user's own data, but the recipe's domain is 'math'"),
    ({"data": {}}, "domain: dataset trains on the user's data, and data.dataset is missing"),
    ({"data": {"dataset": {"train": {"path": "q.jsonl", "hub": "org/q"}}}}, "data.dataset.train: give a local "
     "file (path:) or a Hub dataset id (hub:), not both"),
    ({"data": {"dataset": {"train": {"path": "q.jsonl", "revision": "v1"}}}}, "data.dataset.train.revision "
     "applies to a Hub dataset"),
    ({"data": {"dataset": {"train": {"path": "q.jsonl"}, "holdout": 1.0}}}, "data.dataset.holdout must be in [0, 1)"),
    ({"data": {"dataset": {"train": {"path": "q.jsonl"}, "test": {"path": "t.jsonl"}, "holdout": 0.3}}},
     "data.dataset.holdout is set, and so is data.dataset.test"),
    ({"eval": {"splits": ["test", "ood"]}}, "eval.splits names 'ood', which data.dataset does not have"),
    ({"data": {"dataset": {"train": {"path": "q.jsonl", "columns": {"questoin": "q"}}}}},
     "unknown key data.dataset.train.columns.questoin (did you mean question?)"),
    ({"train": {"report_to": "tensorbord"}}, "train.report_to: unknown tracker 'tensorbord' (did you mean "
     "tensorboard?)"),
])
def test_a_bad_recipe_is_one_error_naming_the_key(change, message):
    with pytest.raises(SrmzooError) as info:
        Recipe.from_dict({**recipe_dict(), **change}, source="mine.yaml")
    assert str(info.value).startswith(f"mine.yaml: {message}"), str(info.value)
    assert info.value.hint


def test_the_dataset_section_round_trips_and_generated_recipes_are_unchanged():
    recipe = Recipe.from_dict(recipe_dict(verifier="numeric", verifier_options={"rel_tol": 0.01}))
    assert Recipe.from_dict(recipe.to_dict()) == recipe
    assert recipe.data.dataset.splits() == ("train", "test")
    shipped = load_recipe(BYO.parent.parent.parent / "recipes" / "math" / "math-135m.yaml")
    assert shipped.data.dataset is None and shipped.train.report_to == "none"
    assert recipe_domain(shipped).name == "math"


def test_the_dataset_domain_is_never_built_by_name():
    with pytest.raises(SrmzooError, match="built from a recipe's data.dataset"):
        get_domain("dataset")


# ---------------------------------------------------------------------------------------------- reading


def test_jsonl_csv_and_parquet_with_a_column_mapping_read_the_same_rows(tmp_path):
    from datasets import Dataset

    renamed = Dataset.from_list([{"q": r["question"], "a": r["answer"], "worked": r["solution"]} for r in ROWS])
    renamed.to_csv(str(tmp_path / "q.csv"), index=False)
    renamed.to_parquet(str(tmp_path / "q.parquet"))
    columns = {"question": "q", "answer": "a", "solution": "worked"}
    want = dataset({"path": str(BYO / "questions.jsonl")}, holdout=0).examples("train", 100)
    assert len(want) == 60 and want[0] == Example(
        "dataset/train/00001", "dataset", ROWS[0]["question"], "27", ROWS[0]["solution"],
        {"verifier": "exact", "ignore_case": False})
    for name in ("q.csv", "q.parquet"):
        got = dataset({"path": str(tmp_path / name), "columns": columns}, holdout=0).examples("train", 100)
        assert got == want, name


def test_without_a_solution_column_sft_trains_on_the_answer_in_the_verifier_format(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"question": "6 x 7?", "answer": 42}, {"question": "2+2?", "answer": 4}])
    numeric = dataset({"path": str(path)}, holdout=0, verifier="numeric")
    assert [e.solution for e in numeric.examples("train", 2)] == ["The answer is \\boxed{42}.", "The answer is \\boxed{4}."]
    assert numeric.system_prompt.endswith("End with the final answer in \\boxed{}, for example \\boxed{42}.")


def test_a_hub_dataset_is_loaded_at_its_revision_split_and_config(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, *, split, revision):
        calls.append((path, name, split, revision))
        return datasets.Dataset.from_list([{"problem": r["question"], "answer": r["answer"]} for r in ROWS[:10]])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    domain = dataset({"hub": "someone/word-problems", "config": "easy", "split": "validation", "revision": "abc123",
                      "columns": {"question": "problem"}}, verifier="numeric")
    records = domain.records()
    assert calls == [("someone/word-problems", "easy", "validation", "abc123")]
    assert records["train"]["hub"] == "someone/word-problems" and records["train"]["revision"] == "abc123"
    assert records["train"]["file_sha256"] is None and len(records["train"]["rows_sha256"]) == 64
    assert records["train"]["rows"] == 10 and records["train"]["columns"] == {"question": "problem", "answer": "answer"}

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(SrmzooError, match=r"could not load the Hub dataset someone/word-problems .*no network") as info:
        dataset({"hub": "someone/word-problems"}).examples("train", 1)
    assert "give path: instead" in info.value.hint


def _error(tmp_path: Path, text: str, suffix: str = ".jsonl", **kw) -> SrmzooError:
    path = tmp_path / f"q{len(list(tmp_path.iterdir()))}{suffix}"  # a new name each: datasets caches by path
    path.write_text(text)
    with pytest.raises(SrmzooError) as info:
        dataset({"path": str(path), **kw.pop("source", {})}, holdout=0, **kw).examples("train", 10)
    return info.value


def test_every_data_problem_is_one_error_naming_the_file_the_column_and_the_fix(tmp_path):
    def q(suffix: str = ".jsonl") -> str:  # the file _error writes next
        return str(tmp_path / f"q{len(list(tmp_path.iterdir()))}{suffix}")

    name = q()
    err = _error(tmp_path, "")
    assert err.message == f"data.dataset.train: {name} is empty" and "'question'" in err.hint
    name = q()
    err = _error(tmp_path, '{"question": "2+2?", "result": 4}\n')
    assert err.message == f"data.dataset.train: {name} has no column 'answer' for the answer (its columns: question, result)"
    assert err.hint == "rename that column in the data, or map it: data.dataset.train.columns.answer: COLUMN"
    name = q()
    err = _error(tmp_path, '{"question": "a?", "answer": 4}\n{"question": "b?", "answer": [4]}\n')
    assert err.message == f"data.dataset.train: {name} row 2: the answer (column 'answer') is list '[4]', not text"
    assert "write the answer as a string" in err.hint
    name = q(".csv")
    err = _error(tmp_path, 'question,answer\n"2+2?",4\n,5\n', suffix=".csv")
    assert err.message == f"data.dataset.train: {name} row 2: the question (column 'question') is empty"
    name = q()
    err = _error(tmp_path, '{"question": "Is 4 even?", "answer": true}\n')
    assert err.message == f"data.dataset.train: {name} row 1: the answer (column 'answer') is bool 'True', not text"
    name = q()
    err = _error(tmp_path, '{"question": "2+2?", "answer": "four"}\n', verifier="numeric")
    assert err.message == (f"data.dataset.train: {name} row 1: the answer (column 'answer') 'four' is not a "
                           "number (the numeric verifier compares numbers)")
    assert "data.dataset.verifier" in err.hint
    name = q()
    err = _error(tmp_path, '{"question": "2+2?", "answer": 4, "solution": "2 + 2 = 4."}\n', verifier="numeric")
    assert err.message.startswith(f"data.dataset.train: {name} row 1: the solution (column 'solution') does "
                                  "not reach its answer '4' as the numeric verifier reads it")
    assert "\\boxed{}" in err.hint and "The answer is \\\\boxed{ANSWER}." in err.hint
    name = q()
    err = _error(tmp_path, '{"k": 1, "question": "a?", "answer": 1}\n{"k": 1, "question": "b?", "answer": 2}\n',
                 source={"columns": {"id": "k"}})
    assert err.message == f"data.dataset.train: {name} row 2: the id (column 'k') '1' repeats row 1's"
    name = q()
    err = _error(tmp_path, '{"question": "f?", "answer": "assert f() == 1"}\n', verifier="code-tests")
    assert err.message == (f"data.dataset.train: the code-tests verifier needs a worked solution per row, and "
                           f"{name} has none")
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SrmzooError, match="data.dataset.train: file not found: .*nope.jsonl"):
        dataset({"path": str(missing)}).examples("train", 1)
    with pytest.raises(SrmzooError, match="unsupported data.dataset.train file type '.txt'"):
        (tmp_path / "q.txt").write_text("x")
        dataset({"path": str(tmp_path / "q.txt")}).examples("train", 1)


def test_verifier_names_and_options_are_checked_before_any_data_is_read():
    with pytest.raises(SrmzooError, match="unknown verifier 'numerical'; did you mean: numeric"):
        dataset({"path": "never-read.jsonl"}, verifier="numerical")
    with pytest.raises(SrmzooError, match="data.dataset.verifier_options.rel_tol: expected float, got str"):
        dataset({"path": "never-read.jsonl"}, verifier="numeric", verifier_options={"rel_tol": "1%"})
    assert {"numeric", "exact", "math-verify", "smiles", "code-tests"} <= set(verifier_names())


# --------------------------------------------------------------------------------------------- verifiers


@pytest.mark.parametrize("verifier, options, gold, right, wrong", [
    ("numeric", {"rel_tol": 0.01}, "200", r"\boxed{201.5}", r"\boxed{203}"),
    ("numeric", {"abs_tol": 0.5}, "3/4", r"\boxed{\frac{3}{4}}", r"\boxed{1.3}"),
    ("exact", {"ignore_case": True}, "Paris", r"\boxed{ paris }", r"\boxed{Lyon}"),
    ("exact", {}, "Paris", r"\boxed{Paris}", r"\boxed{paris}"),
    ("math-verify", {}, "\\frac{1}{2}", r"\boxed{0.5}", r"\boxed{1/3}"),
    ("smiles", {}, "CCO", r"\boxed{OCC}", r"\boxed{CCC}"),
])
def test_each_named_verifier_with_its_options(verifier, options, gold, right, wrong, tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"question": "q?", "answer": gold}])
    domain = dataset({"path": str(path)}, holdout=0, verifier=verifier, verifier_options=options)
    example = domain.examples("train", 1)[0]
    assert domain.check(right, example).correct
    assert domain.check(wrong, example).verdict.value == "wrong"
    assert domain.check("no final answer", example).verdict.value == "unverifiable"
    # a bare gold answer (Reasoner.check) gets the recipe's options too
    bare = Example("check", "", "", gold, "")
    assert domain.check(right, bare).correct


def test_the_rl_reward_reads_the_verifier_and_options_from_each_row(tmp_path):
    domain = dataset({"path": str(BYO / "questions.jsonl")}, verifier="numeric", verifier_options={"abs_tol": 1.0})
    columns = domain.dataset("train", 4).to_dict()
    answers = [str(int(a) + 1) for a in columns["answer"]]  # off by one: within abs_tol 1
    scores = dataset_correct([f"\\boxed{{{a}}}" for a in answers], **{k: v for k, v in columns.items()})
    assert scores == [1.0, 1.0, 1.0, 1.0]
    assert dataset_correct(["no box"] * 4, **columns) == [None] * 4


# ----------------------------------------------------------------------------------- splits and manifest


def test_the_held_out_split_is_disjoint_deterministic_and_keeps_duplicates_on_one_side(tmp_path):
    rows = [*ROWS, {**ROWS[0], "question": ROWS[0]["question"].upper()}]
    domain = dataset({"path": str(write_jsonl(tmp_path / "q.jsonl", rows))})
    train, test = domain.examples("train", 1000), domain.examples("test", 1000)
    assert len(train) + len(test) == 61 and 6 <= len(test) <= 20
    assert not {e.question.casefold() for e in train} & {e.question.casefold() for e in test}
    assert [e.question for e in test] == [r["question"] for r in rows if held_out(r["question"], 0.2)]
    assert domain.examples("train", 5, seed=1) != domain.examples("train", 5, seed=2)  # a seeded sample
    assert domain.examples("train", 5, seed=1) == dataset({"path": str(tmp_path / "q.jsonl")}).examples("train", 5, seed=1)


def test_the_manifest_records_the_files_sha256_rows_and_the_overlap_of_a_test_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "q.jsonl", ROWS[:40])
    write_jsonl(tmp_path / "t.jsonl", ROWS[38:50])  # two test questions are also train questions
    data = {"train_size": 30, "dataset": {"train": {"path": "q.jsonl"}, "test": {"path": "t.jsonl"},
                                          "verifier": "numeric", "license": "CC0-1.0"}}
    recipe = Recipe.from_dict({**recipe_dict(), "data": data})
    manifest = build_manifest(recipe)
    sources = manifest["dataset"]["sources"]
    assert sources["train"]["file_sha256"] == hashlib.sha256((tmp_path / "q.jsonl").read_bytes()).hexdigest()
    assert (sources["train"]["rows"], sources["test"]["rows"]) == (40, 12)
    assert (manifest["splits"]["train"]["n"], manifest["splits"]["test"]["n"]) == (30, 12)  # train_size caps
    assert manifest["overlap"]["test"]["exact_duplicate_questions"] <= 2 and manifest["license"] == "CC0-1.0"
    assert manifest["generator"]["domain_class"] == "srmzoo.user_data.DatasetDomain"
    assert manifest["dataset"]["verifier"] == "numeric"
    full = build_manifest(Recipe.from_dict({**recipe_dict(), "data": {**data, "train_size": 40}}))
    assert full["overlap"]["test"]["exact_duplicate_questions"] == 2
    path = write_manifest(recipe, tmp_path / "manifests")
    assert check_manifest(path) == []
    with (tmp_path / "t.jsonl").open("a") as f:
        f.write(json.dumps(ROWS[55]) + "\n")
    (difference,) = check_manifest(path)
    assert difference.startswith("data.dataset.test: t.jsonl has changed since this entry was trained")


# ------------------------------------------------------------------------- the walkthrough, tiny model


def _walkthrough_dir(tmp_path: Path) -> Path:
    work = tmp_path / "my-entry"
    work.mkdir()
    for name in ("questions.jsonl", "recipe.yaml"):
        shutil.copy(BYO / name, work / name)
    return work


def test_the_walkthrough_trains_evaluates_cards_and_publishes_an_entry_on_a_users_jsonl(
    tiny_base_dir, isolated_cache, hub_defaults, tmp_path, monkeypatch, capsys, one_thread
):
    """docs/bring-your-own.md, command by command, on the fixture data and a tiny model."""
    work = _walkthrough_dir(tmp_path)
    monkeypatch.chdir(work)
    assert main(["-q", "train", "recipe.yaml", f"model.path={tiny_base_dir}", "train.max_steps=2"]) == 0
    out = capsys.readouterr().out
    assert "trained my-word-problems: 2 steps" in out and "data manifest: runs/my-word-problems/data_manifest.json" in out
    run = work / "runs" / "my-word-problems"
    meta = json.loads((run / "adapter" / "srmzoo_adapter.json").read_text())
    assert meta["domain"] == "dataset" and meta["dataset"]["config"]["verifier"] == "numeric"
    train_record = meta["dataset"]["sources"]["train"]
    assert train_record["file_sha256"] == hashlib.sha256((work / "questions.jsonl").read_bytes()).hexdigest()
    assert train_record["rows"] == 60 and train_record["rows_kept_for_train"] + meta["dataset"]["sources"]["test"]["rows"] == 60

    assert main(["-q", "eval", "my-word-problems", "--max-new-tokens", "12", "--compare"]) == 0
    results = json.loads((isolated_cache / "zoo" / "my-word-problems" / "eval" / "results_test.json").read_text())
    n_test = meta["dataset"]["sources"]["test"]["rows"]
    assert results["domain"] == "dataset" and results["settings"]["n"] == n_test
    assert sorted((r["prompting"], r["n"]) for r in results["reports"]) == [
        ("adapter", n_test), ("few-shot (k=1)", n_test), ("zero-shot", n_test)]

    assert main(["card", "my-word-problems", "--out-dir", str(tmp_path / "card")]) == 0
    card = (tmp_path / "card" / "README.md").read_text()
    assert "![training loss](loss_curve.png)" in card and (tmp_path / "card" / "loss_curve.png").stat().st_size > 0
    assert "the user's own questions and answers, **questions.jsonl**" in card
    assert f"- train: `questions.jsonl`, 60 rows, file sha256 `{train_record['file_sha256'][:16]}" in card
    assert "held out of train (holdout 0.2, by the SHA-256 of each question)" in card
    assert "answers checked by the `numeric` verifier" in card and "license CC0-1.0" in card
    assert "trained on generated" not in card

    repo = "srmzoo-tester/my-word-problems"
    assert main(["publish", "my-word-problems", "--repo", repo, "--endpoint", hub_defaults.url]) == 0
    assert main(["pull", repo, "--endpoint", hub_defaults.url, "--cache-dir", str(tmp_path / "hf")]) == 0
    pulled = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert (pulled / "data_manifest.json").is_file()

    from srmzoo import load

    monkeypatch.chdir(tmp_path)  # elsewhere, without the data: the verifier comes from the metadata
    reasoner = load(str(pulled), base_path=str(tiny_base_dir))
    assert reasoner.domain.name == "dataset" and reasoner.check("27.0", "27").correct

    monkeypatch.chdir(work)  # the data changed since training: evaluation refuses it
    with (work / "questions.jsonl").open("a") as f:
        f.write(json.dumps({"question": "What is 1 + 1?", "answer": 2, "solution": "\\boxed{2}"}) + "\n")
    assert main(["eval", "my-word-problems", "--no-base", "--max-new-tokens", "4"]) == 2
    assert "questions.jsonl has changed since this entry was trained" in capsys.readouterr().err


def test_adapter_metadata_without_its_data_section_is_refused():
    with pytest.raises(SrmzooError, match="does not record its data.dataset"):
        adapter_domain({"domain": "dataset", "base": {"name": "x"}})


# ------------------------------------------------------------------------------- a plug-in domain


@pytest.fixture
def plugin_site(monkeypatch):
    """The example plug-in package and its dist-info on sys.path, as `pip install` would leave them; the
    domain registry is restored afterwards."""
    domain_names()  # the built-in domains register in the real registry, before it is swapped for a copy
    monkeypatch.setattr(domain_module, "_DOMAINS", dict(domain_module._DOMAINS))
    monkeypatch.syspath_prepend(str(PLUGIN_SITE))
    return PLUGIN_SITE


def test_a_plugin_domain_from_the_entry_point_group_trains_and_evaluates_with_no_change_to_srmzoo(
    plugin_site, tiny_base_dir, isolated_cache, tmp_path, monkeypatch, capsys, one_thread
):
    assert "example-vowels" in domain_names()
    plugin = get_domain("example-vowels")
    assert type(plugin).__module__ == "srmzoo_example_domain"
    recipe = tmp_path / "vowels.yaml"
    recipe.write_text(
        "name: vowels-tiny\ndomain: example-vowels\nmodel: {base: smollm2-135m-instruct}\n"
        "data: {train_size: 24, max_length: 96}\n"
        "train: {batch_size: 4, max_steps: 2, logging_steps: 1, save_steps: 100}\n"
        "eval: {splits: [test, ood], n: 4, max_new_tokens: 8, few_shot: 1}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "train", str(recipe), f"model.path={tiny_base_dir}"]) == 0
    assert main(["-q", "eval", "vowels-tiny", "--no-base"]) == 0
    for split in ("test", "ood"):
        results = json.loads((isolated_cache / "zoo" / "vowels-tiny" / "eval" / f"results_{split}.json").read_text())
        assert results["domain"] == "example-vowels" and results["reports"][0]["n"] == 4
    manifest = build_manifest(load_recipe(recipe))
    assert manifest["generator"]["domain_class"] == "srmzoo_example_domain.VowelCount"
    assert manifest["overlap"]["test"]["exact_duplicate_questions"] == 0


def test_a_broken_plugin_is_named_and_does_not_hide_the_other_domains(plugin_site, tmp_path, monkeypatch, caplog):
    info = tmp_path / "broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[srmzoo.domains]\nbroken = no_such_module_srmzoo:Domain\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SrmzooError) as err:
        get_domain("broken")
    assert err.value.message.startswith("plug-in domain 'broken' (no_such_module_srmzoo:Domain, entry point group "
                                        "srmzoo.domains) failed to load: ModuleNotFoundError")
    assert "pip uninstall" in err.value.hint
    assert {"math", "example-vowels"} <= set(domain_names())
    assert "plug-in domain 'broken'" in caplog.text


# --------------------------------------------------------------------------------- train.report_to


def test_report_to_is_passed_to_the_trainers_and_a_missing_tracker_is_a_clear_error(tiny_base_dir, monkeypatch):
    import importlib.util

    from srmzoo.train.sft import training_args

    def recipe(tracker: str) -> Recipe:
        return Recipe.from_dict({"name": "toy", "domain": "math", "model": {"base": "smollm2", "path": str(tiny_base_dir)},
                                 "train": {"report_to": tracker}})

    assert training_args(recipe("none"), Path("/tmp/x"), 1, False).report_to == []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trackio" else real_find_spec(name, *a))
    with pytest.raises(SrmzooError, match="train.report_to: trackio needs the trackio package") as info:
        training_args(recipe("trackio"), Path("/tmp/x"), 1, False)
    assert info.value.hint.startswith("pip install trackio")
    pytest.importorskip("tensorboard")
    args = training_args(recipe("tensorboard"), Path("/tmp/x"), 1, False)
    assert args.report_to == ["tensorboard"] and args.run_name == "toy"


def test_a_tensorboard_run_writes_its_events_beside_srmzoos_own_records(tiny_base_dir, tmp_path, one_thread):
    pytest.importorskip("tensorboard")
    from srmzoo.train.stages import train

    work = _walkthrough_dir(tmp_path)
    recipe = load_recipe(work / "recipe.yaml", [f"model.path={tiny_base_dir}", "train.max_steps=2",
                                                "train.report_to=tensorboard",
                                                f"data.dataset.train.path={work / 'questions.jsonl'}"])
    train(recipe, tmp_path / "run", progress=False)
    events = list((tmp_path / "run").rglob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    assert (tmp_path / "run" / "loss_curve.png").is_file() and (tmp_path / "run" / "metrics.jsonl").is_file()


def test_the_loss_curve_is_drawn_from_the_log_history(tmp_path):
    from srmzoo.train.sft import plot_loss_curve

    history = [{"step": 1, "loss": 2.0, "learning_rate": 1e-3}, {"step": 2, "loss": 1.5, "learning_rate": 5e-4},
               {"step": 2, "train_loss": 1.75}]
    path = plot_loss_curve(tmp_path, history)
    assert path == tmp_path / "loss_curve.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert plot_loss_curve(tmp_path / "none", []) is None
