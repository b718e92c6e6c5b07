"""Retrieval metrics for a labelled image set: every image queries all the others.

Definitions (standard information retrieval, "leave one out"):
- Each image `q` is a query against every OTHER image (`q` itself is never in its own ranking).
- The ranking of `q` orders the others by score, best first. Equal scores are broken by position in the
  input, which callers sort by path, so ties resolve the same way on every run.
- An image is *relevant* to `q` when it has the same label.
- precision@k = (relevant images in the top k) / k. The denominator is k even when fewer than k other
  images exist.
- recall@k = (relevant images in the top k) / (relevant images in the whole collection for `q`).
- AP (average precision) of `q` = the mean, over every relevant image, of precision@r where r is that
  image's rank in the full ranking.
- Every averaged number (mAP, precision@k, recall@k) is the mean over the queries that have at least one
  relevant image; a query whose class has no other member has no defined AP or recall and is left out
  of all of them (and counted in `queries_without_relevant`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PRECISION_KS = (1, 5, 10)
RECALL_K = 10

# Rows of the score matrix computed at once: bounds memory to chunk x N floats for large sets.
CHUNK_ROWS = 512


@dataclass(frozen=True)
class RetrievalMetrics:
    mAP: float  # noqa: N815 - the standard name
    precision: dict[int, float]  # k -> mean precision@k
    recall_at_10: float
    queries: int  # queries averaged (those with at least one relevant image)
    queries_without_relevant: int

    def as_dict(self) -> dict[str, float]:
        out = {"mAP": self.mAP}
        out.update({f"precision@{k}": v for k, v in self.precision.items()})
        out[f"recall@{RECALL_K}"] = self.recall_at_10
        return out


def label_codes(labels: Sequence[str]) -> np.ndarray:
    """Labels as small integers (equal label, equal code), for fast comparisons."""
    index: dict[str, int] = {}
    codes = (index.setdefault(label, len(index)) for label in labels)
    return np.fromiter(codes, dtype=np.int64, count=len(labels))


def rank_others(scores: np.ndarray, query_ids: np.ndarray) -> np.ndarray:
    """For each row of `scores` (the query `query_ids[i]` against all N items), the indices of the other
    N - 1 items, best first; equal scores keep input order (a stable sort)."""
    scores = np.asarray(scores, dtype=np.float64)
    rows, n = scores.shape
    order = np.argsort(-scores, axis=1, kind="stable")
    keep = order != np.asarray(query_ids)[:, None]
    return order[keep].reshape(rows, n - 1)


@dataclass(frozen=True)
class PerQuery:
    """Each query's numbers (NaN for AP and recall where the query has no relevant image)."""

    ap: np.ndarray
    precision: dict[int, np.ndarray]  # k -> precision@k per query
    recall_at_10: np.ndarray
    relevant: np.ndarray  # how many relevant images each query has

    @staticmethod
    def concat(parts: Sequence[PerQuery]) -> PerQuery:
        return PerQuery(
            np.concatenate([p.ap for p in parts]),
            {k: np.concatenate([p.precision[k] for p in parts]) for k in PRECISION_KS},
            np.concatenate([p.recall_at_10 for p in parts]),
            np.concatenate([p.relevant for p in parts]),
        )

    def summary(self) -> RetrievalMetrics:
        used = self.relevant > 0
        n = int(used.sum())

        def mean(values: np.ndarray) -> float:
            return float(values[used].mean()) if n else 0.0

        return RetrievalMetrics(
            mAP=mean(self.ap),
            precision={k: mean(v) for k, v in self.precision.items()},
            recall_at_10=mean(self.recall_at_10),
            queries=n,
            queries_without_relevant=len(used) - n,
        )


def per_query(scores: np.ndarray, query_ids: np.ndarray, codes: np.ndarray) -> PerQuery:
    """The numbers of the queries `query_ids`, whose rows of the score matrix are `scores`."""
    query_ids = np.asarray(query_ids)
    order = rank_others(scores, query_ids)
    return from_relevance(codes[order] == codes[query_ids][:, None])


def from_relevance(ranked_relevant: np.ndarray) -> PerQuery:
    """The numbers of rankings given as rows of booleans: is the item at each rank relevant to the query.
    Shared by image queries (the others, ranked) and text queries (every image, ranked)."""
    relevant = np.asarray(ranked_relevant, dtype=np.float64)
    others = relevant.shape[1]
    hits = np.cumsum(relevant, axis=1)  # hits[:, r - 1] = relevant images in the top r
    n_relevant = hits[:, -1]
    ranks = np.arange(1, others + 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # no relevant image: NaN, left out of means
        ap = (hits / ranks * relevant).sum(axis=1) / n_relevant
        recall = hits[:, min(RECALL_K, others) - 1] / n_relevant
    precision = {k: hits[:, min(k, others) - 1] / k for k in PRECISION_KS}
    return PerQuery(ap, precision, recall, n_relevant)


def metrics_from_scores(scores: np.ndarray, labels: Sequence[str]) -> RetrievalMetrics:
    """Metrics from a full N x N score matrix (higher = more alike; the diagonal is ignored)."""
    scores = np.asarray(scores)
    _check(len(scores), labels)
    return per_query(scores, np.arange(len(scores)), label_codes(labels)).summary()


def metrics_from_vectors(vectors: np.ndarray, labels: Sequence[str]) -> RetrievalMetrics:
    """Metrics for L2-normalised vectors scored by cosine similarity (inner product), in row chunks."""
    vectors = np.asarray(vectors, dtype=np.float32)
    _check(len(vectors), labels)
    codes = label_codes(labels)
    parts = []
    for start in range(0, len(vectors), CHUNK_ROWS):
        rows = np.arange(start, min(start + CHUNK_ROWS, len(vectors)))
        parts.append(per_query(vectors[rows] @ vectors.T, rows, codes))
    return PerQuery.concat(parts).summary()


def _check(n: int, labels: Sequence[str]) -> None:
    if n != len(labels):
        raise ValueError(f"{n} images but {len(labels)} labels")
    if n < 2:
        raise ValueError("retrieval metrics need at least two images")
