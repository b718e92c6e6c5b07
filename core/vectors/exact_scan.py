"""Exact search of one query by a BLAS matrix-vector product over the vectors FAISS holds (read in place).

FAISS's flat scan of a single query measured 38 ms for 100k 768-d vectors on the 2-core reference machine
(2026-11-29, benchmarks/search_speed.py); numpy's product over the very same memory ~15 ms. Batches of
queries stay with FAISS, which uses a matrix product for them already. Ties rank by id, so a search
always answers the same.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np


def flat_views(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of an IndexIDMap2(IndexFlatIP); the vectors are a view, valid while it is unchanged."""
    n, d = index.ntotal, index.d
    flat: Any = faiss.downcast_index(index.index)
    return faiss.vector_to_array(index.id_map), faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)


def scan(index: Any, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """FAISS-shaped (scores (1, k), labels (1, k)) of the k best ids (only `allowed` ones: sorted ids)."""
    ids, vectors = flat_views(index)
    scores = vectors @ query.reshape(-1)
    if allowed is not None:
        pos = np.minimum(np.searchsorted(allowed, ids), max(allowed.size - 1, 0))
        scores[allowed[pos] != ids] = -np.inf
    k = min(k, scores.size)
    top = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    top = top[np.lexsort((ids[top], -scores[top]))]
    labels = np.where(np.isfinite(scores[top]), ids[top], -1)
    return scores[top].reshape(1, -1).astype(np.float32), labels.reshape(1, -1)
