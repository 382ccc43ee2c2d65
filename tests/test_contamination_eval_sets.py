"""No evaluation item of a natural or external set appears in any domain's training data.

The training data is what the shipped (non-7B) recipes draw: each recipe's SFT examples, its RFT and
GRPO problems and the questions its distillation teacher answers, at the recipes' sizes and seeds, in both wordings (``data.phrasing``: the templates and the
varied surface forms of training data v2). Every evaluation-only set of every domain is compared with
every domain's training text (questions and worked solutions), normalised (lowercased, white space
collapsed): an item whose text appears verbatim anywhere in it fails the test.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from srmzoo.contamination import evaluation_sets, normalise, verbatim_leaks
from srmzoo.domain import NATURAL_SPLIT, get_domain
from srmzoo.recipe import PHRASINGS, load_recipe, recipe_paths

DOMAINS = ("math", "coding", "healthcare", "science")
EVAL_N = 300  # the recipes' eval.n: what `srmzoo eval --split natural` scores; external sets are taken whole


def training_requests() -> dict[str, dict[tuple, int]]:
    """domain -> {(seed, families, phrasing): the largest n} over every shipped recipe's SFT, RFT and GRPO
    draws."""
    requests: dict[str, dict[tuple, int]] = defaultdict(dict)
    for path in recipe_paths():
        recipe = load_recipe(path)
        if "7b" in recipe.name or recipe.domain not in DOMAINS:
            continue  # 7B recipes draw 20,000 examples from the same generators: the 135M sizes stand for them
        families = tuple(recipe.data.families) if recipe.data.families else None
        draws = [(recipe.data.seed, recipe.data.train_size)]
        if "rft" in recipe.stages:
            draws += [(recipe.rft.seed + k, recipe.rft.problems) for k in range(recipe.rft.rounds)]
        if "grpo" in recipe.stages:
            draws.append((recipe.grpo.seed, recipe.grpo.problems))
        if recipe.distill.use:  # the questions its teacher answers (the answers: the distill manifest's check)
            d = recipe.distill
            assert d.families is None, "a recipe distilling other families than it trains on: key them here"
            draws.append((recipe.data.seed if d.seed is None else d.seed, d.questions or recipe.data.train_size))
        for seed, n in draws:
            # every wording of every draw: a recipe may switch to data.phrasing: varied or unhinted (training
            # data v2; unhinted where the domain's questions state hints)
            for phrasing in PHRASINGS:
                if phrasing == "unhinted" and get_domain(recipe.domain).hints is None:
                    continue
                key = (seed, families, phrasing)
                requests[recipe.domain][key] = max(n, requests[recipe.domain].get(key, 0))
    return requests


@pytest.fixture(scope="module")
def training_text() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for name, draws in training_requests().items():
        domain = get_domain(name)
        texts[name] = [
            text
            for (seed, families, phrasing), n in draws.items()
            for e in domain.training_examples(n, seed=seed, families=families, phrasing=phrasing)
            for text in (e.question, e.solution)
        ]
    return texts


@pytest.fixture(scope="module")
def evaluation_items() -> dict[str, list]:
    items = {}
    for name in DOMAINS:
        domain = get_domain(name)
        sets, _ = evaluation_sets(domain, n=EVAL_N)
        for split, examples in sets.items():
            whole = examples if split == NATURAL_SPLIT else domain.eval_examples(split, 100_000)
            items[f"{name} {split}"] = whole
    return items


def test_the_varied_training_data_is_checked_too():
    phrasings = {key[2] for draws in training_requests().values() for key in draws}
    assert phrasings == {"template", "varied", "unhinted"}


def test_the_training_data_is_recipe_sized(training_text):
    assert set(training_text) == set(DOMAINS)
    sizes = {name: len(texts) // 2 for name, texts in training_text.items()}
    assert sizes["math"] >= 2000 and sizes["coding"] >= 1200 and sizes["healthcare"] >= 1000, sizes


def test_there_are_evaluation_sets_to_check(evaluation_items):
    assert {"math external:gsm-symbolic", "healthcare external:medcalc", "coding external:humaneval"} <= set(
        evaluation_items
    )
    assert sum(len(v) for v in evaluation_items.values()) >= 500 + 252 + 164


def test_no_evaluation_item_appears_in_any_training_data(training_text, evaluation_items):
    leaks = {}
    for train_domain, texts in training_text.items():
        for label, examples in evaluation_items.items():
            found = verbatim_leaks(texts, [e.question for e in examples])
            if found:
                leaks[f"{label} in {train_domain} training"] = [examples[i].id for i in found[:3]]
    assert leaks == {}


def test_the_check_finds_a_planted_item(training_text, evaluation_items):
    """The same check, on training text with one evaluation item hidden inside (other case and spacing)."""
    item = evaluation_items["healthcare external:medcalc"][7]
    planted = [
        *training_text["healthcare"][:50],
        "Worked example.\n" + item.question.upper().replace(" ", " \n "),
    ]
    questions = [e.question for e in evaluation_items["healthcare external:medcalc"]]
    assert verbatim_leaks(planted, questions) == [7]
    assert normalise(item.question) in normalise(planted[-1])


def test_no_evaluation_item_appears_in_the_general_prompts(evaluation_items):
    """The replay slice's whole prompt pool (data.general_size draws from it). Its replies are the base's own,
    generated when training starts (their sha256 is in the run's summary), so only the prompts can be checked
    ahead."""
    from srmzoo.general import TASKS, TOPIC_SPLITS, general_prompts

    pool = general_prompts("train", len(TASKS) * len(TOPIC_SPLITS["train"]))
    leaks = {label: verbatim_leaks(pool, [e.question for e in examples]) for label, examples in evaluation_items.items()}
    assert {label: found for label, found in leaks.items() if found} == {}
