"""Train/test overlap checks: splits are disjoint by construction, and this measures that they are.

Two detectors, both recorded in every data manifest:

* exact n-gram overlap: the fraction of held-out items sharing any whitespace-token 13-gram with the
  training set (the GPT-3 / Llama contamination test);
* near duplicates: TF-IDF over character 3-5-grams, cosine similarity of each held-out item to its nearest
  training item; items at or above ``threshold`` count as near-duplicates.

Template-generated problems share wording by design, so near-duplicate rates are reported as measured,
with the threshold, and the exact check is on questions *with* their numbers.

The evaluation-only sets of a domain (the ``natural`` split and each ``external:NAME`` benchmark) get one
more check, :func:`verbatim_leaks`: no item's question, normalised (lowercased, whitespace collapsed), may
appear anywhere in the training text (questions and worked solutions). :func:`evaluation_sets_block` puts
both, with each set's size, sha256 (:func:`qa_digest`) and source, into every data manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .domain import EXTERNAL_PREFIX, NATURAL_SPLIT

if TYPE_CHECKING:
    from .domain import Domain, Example

__all__ = [
    "evaluation_sets",
    "evaluation_sets_block",
    "ngram_overlap",
    "normalise",
    "overlap_report",
    "qa_digest",
    "verbatim_leaks",
]


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    toks = text.lower().split()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def ngram_overlap(train: Sequence[str], test: Sequence[str], n: int = 13) -> int:
    """How many ``test`` strings share at least one word ``n``-gram with any ``train`` string.

    >>> ngram_overlap(["a b c d"], ["x a b c", "d e f g"], n=3)
    1
    """
    seen: set[tuple[str, ...]] = set()
    for text in train:
        seen |= _ngrams(text, n)
    return sum(1 for text in test if _ngrams(text, n) & seen)


def overlap_report(
    train: Sequence[str], test: Sequence[str], *, threshold: float = 0.9, ngram: int = 13
) -> dict[str, Any]:
    """Exact-duplicate, n-gram and TF-IDF near-duplicate counts of ``test`` against ``train``.

    >>> r = overlap_report(["Tom has 3 apples and buys 4 more."] * 2, ["Tom has 3 apples and buys 4 more.", "x y"])
    >>> r["exact_duplicates"], r["near_duplicates"]
    (1, 1)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    train_set = set(train)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1, sublinear_tf=True)
    x_train = vec.fit_transform(train)
    x_test = vec.transform(test)
    # cosine on L2-normalised TF-IDF rows; brute force is exact and fast enough at 10k x 1k
    nn = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute").fit(x_train)
    dist, _ = nn.kneighbors(x_test)
    sims = 1.0 - dist[:, 0]
    return {
        "n_train": len(train),
        "n_test": len(test),
        "exact_duplicates": sum(1 for t in test if t in train_set),
        f"shared_{ngram}gram": ngram_overlap(train, test, ngram),
        "near_duplicates": int((sims >= threshold).sum()),
        "near_duplicate_threshold": threshold,
        "max_similarity": round(float(sims.max()), 4) if len(sims) else 0.0,
        "mean_similarity": round(float(sims.mean()), 4) if len(sims) else 0.0,
        "method": "tfidf char_wb 3-5 cosine (sklearn) + exact word n-grams",
    }


# ------------------------------------------------------------------------------------ evaluation-only sets


def normalise(text: str) -> str:
    r"""Text as the contamination checks compare it: lowercased (``str.casefold``: the micro sign and the
    Greek mu agree), every run of white space one space.

    >>> normalise("  Tom has\n3  Apples. ")
    'tom has 3 apples.'
    """
    return " ".join(text.casefold().split())


def qa_digest(examples: Sequence[Example]) -> str:
    r"""SHA-256 of the question/answer rows: one ``{"answer": ..., "question": ...}`` canonical JSON object
    (sorted keys, UTF-8) per line, in order, each line ending in a newline. It identifies an evaluation set's
    items whatever its loader keeps in ``meta``.

    >>> from srmzoo.domain import Example
    >>> qa_digest([Example("a", "f", "1 + 1?", "2", "")]) == hashlib.sha256(b'{"answer": "2", "question": "1 + 1?"}\n').hexdigest()
    True
    """
    digest = hashlib.sha256()
    for example in examples:
        row = {"answer": example.answer, "question": example.question}
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def verbatim_leaks(training_texts: Sequence[str], items: Sequence[str]) -> list[int]:
    r"""The indices of ``items`` whose normalised text appears verbatim in some normalised training text.

    >>> verbatim_leaks(["Q: What is  2+2?\nA: 4", "other"], ["what is 2+2?", "what is 3+3?"])
    [0]
    """
    corpus = "\x00".join(normalise(t) for t in training_texts)  # NUL never occurs in text: no match spans two
    return [i for i, item in enumerate(items) if (needle := normalise(item)) and needle in corpus]


def evaluation_sets(
    domain: Domain, *, n: int, seed: int = 0
) -> tuple[dict[str, list[Example]], dict[str, str]]:
    """The evaluation-only sets of ``domain`` as ``srmzoo eval --split S --n n --seed seed`` scores them.

    Returns:
        ``(sets, unavailable)``: split name (``natural``, ``external:NAME``) -> its items, for each set that
        loads here without the network; split name -> why not, for each that does not
        (:meth:`~srmzoo.domain.Domain.benchmark_unavailable`).

    >>> from srmzoo.domain import get_domain
    >>> sets, unavailable = evaluation_sets(get_domain("coding"), n=3)
    >>> [e.id for e in sets["external:humaneval"]], list(unavailable)
    (['humaneval/test/00000', 'humaneval/test/00001', 'humaneval/test/00002'], ['external:mbpp'])
    """
    sets: dict[str, list[Example]] = {}
    unavailable: dict[str, str] = {}
    if domain.natural_families:
        sets[NATURAL_SPLIT] = domain.natural_examples(n, seed=seed)
    for name in domain.benchmarks:
        reason = domain.benchmark_unavailable(name)
        if reason is None:
            sets[EXTERNAL_PREFIX + name] = domain.benchmark_examples(name, n, seed=seed)
        else:
            unavailable[EXTERNAL_PREFIX + name] = reason
    return sets, unavailable


def _evaluation_overlap(training: Sequence[Example], items: Sequence[Example]) -> dict[str, Any]:
    questions = [e.question for e in items]
    texts = [t for e in training for t in (e.question, e.solution) if t]
    report = overlap_report([e.question for e in training], questions) if training and items else {}
    leaks = verbatim_leaks(texts, questions)
    normalised_train = {normalise(e.question) for e in training}
    exact = sum(normalise(q) in normalised_train for q in questions)
    return {
        "compared": f"question text against the {len(training)} training examples (questions and solutions "
        "for the verbatim check), normalised: lowercased, white space collapsed",
        "exact_duplicate_questions": exact,
        "verbatim_in_training": len(leaks),
        "verbatim_examples": [items[i].id for i in leaks[:5]],
        "disjoint": exact == 0 and not leaks,
        **{
            key: report[key]
            for key in (
                "shared_13gram",
                "near_duplicates",
                "near_duplicate_threshold",
                "max_similarity",
                "mean_similarity",
                "method",
            )
            if key in report
        },
    }


def evaluation_sets_block(
    domain: Domain, training: Sequence[Example], *, n: int, seed: int = 0
) -> dict[str, Any]:
    """For a data manifest: every evaluation-only set of ``domain`` with its size, sha256, source and its
    overlap with ``training`` (all the examples an entry trains on).

    Each set is recorded as :func:`evaluation_sets` loads it (``n`` items, ``seed``): ``kind``
    (``held-out families`` or ``external``), ``request``, ``n``, ``families`` (per-family counts),
    ``sha256`` (:func:`qa_digest`), ``source`` (the benchmark's licence and source line, or the held-out
    families) and ``overlap`` (:func:`overlap_report`'s n-gram and TF-IDF figures, normalised exact
    duplicates and :func:`verbatim_leaks`). Sets that cannot load offline are listed under
    ``not_checked`` with the reason.

    >>> from srmzoo.domain import get_domain
    >>> math = get_domain("math")
    >>> block = evaluation_sets_block(math, math.examples("train", 50), n=20)
    >>> record = block["external:gsm-symbolic"]
    >>> record["n"], record["kind"], record["overlap"]["disjoint"], len(record["sha256"])
    (20, 'external', True, 64)
    """
    sets, unavailable = evaluation_sets(domain, n=n, seed=seed)
    block: dict[str, Any] = {}
    for split, items in sets.items():
        if split == NATURAL_SPLIT:
            kind = "held-out families"
            source = (
                f"{domain.name}'s natural split: question families no training data uses "
                f"({', '.join(domain.natural_families)}), generated by srmzoo, evaluation only"
            )
        else:
            kind, source = "external", domain.benchmarks[split.removeprefix(EXTERNAL_PREFIX)]
        block[split] = {
            "kind": kind,
            "request": {"n": n, "seed": seed},
            "n": len(items),
            "families": dict(Counter(e.family for e in items)),
            "sha256": qa_digest(items),
            "source": source,
            "overlap": _evaluation_overlap(training, items),
        }
    if unavailable:
        block["not_checked"] = unavailable
    return block
