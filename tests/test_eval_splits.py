"""The evaluation-only split names: ``natural`` and ``external:NAME`` beside the generated splits."""

from __future__ import annotations

import pytest

from srmzoo.domain import Domain, get_domain, split_slug
from srmzoo.errors import SrmzooError


def test_external_prefix_and_bare_benchmark_names_give_the_same_items():
    coding = get_domain("coding")
    prefixed = coding.eval_examples("external:humaneval", 3)
    assert [e.id for e in prefixed] == [e.id for e in coding.eval_examples("humaneval", 3)]
    assert [e.id for e in prefixed] == ["humaneval/test/00000", "humaneval/test/00001", "humaneval/test/00002"]
    assert "external:humaneval" in coding.evaluation_splits() and coding.is_external("external:humaneval")
    assert not coding.is_external("test") and not coding.is_external("external:nope")


def test_evaluation_only_splits_are_refused_where_training_draws():
    coding = get_domain("coding")
    for split in ("external:humaneval", "humaneval"):
        with pytest.raises(SrmzooError, match="for evaluation only"):
            coding.examples(split, 2)
    with pytest.raises(SrmzooError, match="unknown split 'external:nope'") as err:
        coding.check_split("external:nope", benchmarks=True)
    assert "external:humaneval" in err.value.hint


def test_a_domain_without_natural_families_says_so():
    class Bare(Domain):
        name = "bare"

        def examples(self, split, n, *, seed=0, families=None):
            return []

        def extract_answer(self, completion):
            return None

        def check(self, completion, example):
            raise AssertionError

    bare = Bare()
    assert "natural" not in bare.evaluation_splits()
    with pytest.raises(SrmzooError, match="unknown split 'natural'"):
        bare.eval_examples("natural", 5)
    with pytest.raises(SrmzooError, match="has no natural split"):
        bare.natural_examples(5)


def test_split_slugs_are_file_name_safe():
    assert split_slug("external:gsm-symbolic") == "external-gsm-symbolic"
    assert split_slug("natural") == "natural"
