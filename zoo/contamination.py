"""Train/test overlap checks: splits are disjoint by construction, and this measures that they are.

Two detectors, both recorded in every data manifest:

* exact n-gram overlap: the fraction of held-out items sharing any whitespace-token 13-gram with the
  training set (the GPT-3 / Llama contamination test);
* near duplicates: TF-IDF over character 3-5-grams, cosine similarity of each held-out item to its nearest
  training item; items at or above ``threshold`` count as near-duplicates.

Template-generated problems share wording by design, so near-duplicate rates are reported as measured,
with the threshold, and the exact check is on questions *with* their numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["ngram_overlap", "overlap_report"]


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
