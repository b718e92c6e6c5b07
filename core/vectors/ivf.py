"""Building the two FAISS index shapes VectorIndex uses, and reading vectors back out of them.

Why IVF-Flat for large libraries (not HNSW): photos get deleted and edited, so the index must remove
and replace vectors. IndexIVFFlat does both (`remove_ids`, `add_with_ids`); HNSW cannot remove, which
would mean tombstones, filtered over-fetching and periodic full rebuilds. IVF-Flat keeps the raw
vectors, so scores are exact cosines and recall depends only on how many lists are probed.

A "chunk source" is a function returning a fresh iterator of (ids, vectors) views; it is walked twice
(once to sample training points, once to add), which lets a 1M-vector build or rebuild avoid ever
holding a third full copy of the vectors.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from typing import Any

import faiss
import numpy as np

# The stubs shipped with faiss miss part of its SWIG surface (callback IO, DirectMap, search params).
_faiss: Any = faiss

Chunk = tuple[np.ndarray, np.ndarray]
ChunkSource = Callable[[], Iterator[Chunk]]

ADD_CHUNK = 16_384  # rows normalised and added per FAISS call: bounds the temporary copy (48 MB)
# nlist = sqrt(n) rather than the textbook 4*sqrt(n): k-means cost grows with nlist * sample size, and
# at 1M vectors 4000 lists take minutes to train on 2 cores, while 1000 lists train in seconds and
# probing 1/16 of them still fits the latency budget (measured by benchmarks/search_speed.py).
MIN_NLIST = 16
MAX_NLIST = 8192
TRAIN_POINTS_PER_LIST = 50  # FAISS warns below 39; more points buy little for much k-means time
MIN_NPROBE = 32
# Probe 1/10 of the lists. Measured at 1M (nlist 1000) on clustered data: 1/16 -> recall@10 0.970,
# 11 ms; 1/8 -> 0.989, 22 ms. 1/10 keeps a margin above 0.95 for data less tidy than the benchmark's.
NPROBE_DIVISOR = 10


def cpu_threads() -> int:
    return max(1, os.cpu_count() or 1)


def ivf_nlist(n: int) -> int:
    return int(min(MAX_NLIST, max(MIN_NLIST, round(math.sqrt(n)))))


def ivf_nprobe(nlist: int) -> int:
    return min(nlist, max(MIN_NPROBE, nlist // NPROBE_DIVISOR))


def normalized(vectors: np.ndarray) -> np.ndarray:
    """A float32 C-contiguous L2-normalised copy of a (small) block of vectors."""
    out = np.array(vectors, dtype=np.float32, order="C", copy=True)
    faiss.normalize_L2(out)
    return out


def new_exact(dim: int) -> Any:
    # IDMap2 (not IDMap) keeps a reverse map, so remove_ids and reconstruct by id stay cheap.
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def add_chunks(index: Any, chunks: Iterator[Chunk]) -> None:
    for ids, vectors in chunks:
        for start in range(0, len(ids), ADD_CHUNK):
            stop = start + ADD_CHUNK
            index.add_with_ids(normalized(vectors[start:stop]), np.ascontiguousarray(ids[start:stop]))


def build_ivf(dim: int, n: int, source: ChunkSource, seed: int = 1234) -> Any:
    """Train an IVF-Flat index on a sample of `source` (n vectors in all), then add all of them."""
    nlist = ivf_nlist(n)
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.own_fields = True
    quantizer.this.disown()  # type: ignore[attr-defined]  # the IVF index frees its quantizer, also after save/load
    ivf.cp.spherical = True  # centroids on the unit sphere: the right k-means for cosine
    ivf.train(_sample(source, n, nlist * TRAIN_POINTS_PER_LIST, seed))
    # A hash-table direct map makes remove_ids proportional to the ids removed, not to n.
    ivf.set_direct_map_type(_faiss.DirectMap.Hashtable)
    ivf.nprobe = ivf_nprobe(nlist)
    _add_presized(ivf, source)
    return ivf


def _add_presized(ivf: Any, source: ChunkSource) -> None:
    """Add everything, with each inverted list allocated once at its final size.

    Plain add() grows every list by doubling, leaving ~1/3 of a 3 GB index as slack capacity (measured:
    +1 GB peak RSS at 1M). Assigning first lets us size each list exactly: resize(n) on an empty list
    allocates exactly n, resize(0) keeps that capacity, then add_core fills it without reallocating.
    """
    assignments = []
    for ids, vectors in source():
        for start in range(0, len(ids), ADD_CHUNK):
            _, nearest = ivf.quantizer.search(normalized(vectors[start : start + ADD_CHUNK]), 1)
            assignments.append(nearest.ravel())
    if not assignments:
        return
    assign = np.concatenate(assignments)
    for list_no, count in enumerate(np.bincount(assign, minlength=ivf.nlist).tolist()):
        if count:
            ivf.invlists.resize(list_no, count)
            ivf.invlists.resize(list_no, 0)
    done = 0
    for ids, vectors in source():
        for start in range(0, len(ids), ADD_CHUNK):
            block = normalized(vectors[start : start + ADD_CHUNK])
            block_ids = np.ascontiguousarray(ids[start : start + ADD_CHUNK], dtype=np.int64)
            block_assign = np.ascontiguousarray(assign[done : done + len(block)])
            ivf.add_core(
                len(block), _faiss.swig_ptr(block), _faiss.swig_ptr(block_ids), _faiss.swig_ptr(block_assign)
            )
            done += len(block)


def _sample(source: ChunkSource, n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keep = min(1.0, size / max(n, 1))
    parts = [vectors[rng.random(len(ids)) < keep] for ids, vectors in source()]
    return normalized(np.concatenate(parts)) if parts else np.zeros((0, 0), np.float32)


def array_chunks(ids: np.ndarray, vectors: np.ndarray) -> ChunkSource:
    def chunks() -> Iterator[Chunk]:
        for start in range(0, len(ids), ADD_CHUNK):
            yield ids[start : start + ADD_CHUNK], vectors[start : start + ADD_CHUNK]

    return chunks


def exact_chunks(index: Any) -> ChunkSource:
    """Views (no copy) of the vectors held by an IndexIDMap2(IndexFlatIP)."""

    def chunks() -> Iterator[Chunk]:
        n, d = index.ntotal, index.d
        if n == 0:
            return
        flat: Any = faiss.downcast_index(index.index)
        vectors = faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)
        ids = faiss.vector_to_array(index.id_map)
        yield from array_chunks(ids, vectors)()

    return chunks


def ivf_chunks(index: Any) -> ChunkSource:
    """Views (no copy) of the vectors held in each inverted list of an IndexIVFFlat."""

    def chunks() -> Iterator[Chunk]:
        invlists, d = index.invlists, index.d
        for list_no in range(index.nlist):
            size = invlists.list_size(list_no)
            if size == 0:
                continue
            codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * d * 4)
            ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size)
            yield ids, codes.view(np.float32).reshape(size, d)

    return chunks


def ivf_ids(index: Any) -> np.ndarray:
    parts = [ids.copy() for ids, _ in ivf_chunks(index)()]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)
