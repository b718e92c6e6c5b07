"""FAISS wrapper: look-alike search over one model's photo vectors.

The index is a cache derived from SQLite (the truth): when its file is missing or corrupt, `load`
raises IndexFileError and the library rebuilds it with `build`.

Shape: exact search (IndexIDMap2 over IndexFlatIP) up to `exact_limit` vectors, IVF-Flat above it
(see core.vectors.ivf for why IVF and its parameters). Crossing the limit in `add` converts the
index; growing 4x past the size IVF was trained at retrains it (more lists); shrinking below half the
limit converts back to exact. Those rebuilds are geometric, so their cost per added vector is bounded.

Threads: searches run concurrently with each other; a mutation is exclusive (CPU FAISS indexes are not
safe to search while they change). Rebuilds and saves only read the index, so they run beside
searches and take the write side only for the final swap.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.tasks.progress import TaskHandle
from core.vectors import exact_scan as exact
from core.vectors import filtered_probe as probed
from core.vectors import id_selectors as select
from core.vectors import ivf as ivf
from core.vectors import similar_pairs as similar
from core.vectors.index_file import IndexFileError, read_index_file, write_index_file
from core.vectors.rwlock import RWLock

# The stubs shipped with faiss miss part of its SWIG surface (callback IO, DirectMap, search params).
_faiss: Any = faiss

__all__ = ["DEFAULT_EXACT_LIMIT", "IndexFileError", "VectorIndex"]

# Flat inner product over 768-d vectors on the 2-core reference machine, one query, one thread:
# 100k -> 11 ms, 200k -> 20 ms p50 (benchmarks/search_speed.py). 150k keeps exact search (recall 1.0)
# under ~16 ms, leaving headroom for the indexing thread that competes for the same cores.
# Re-measured 2026-11-29 on that machine: 100k -> 38 ms by FAISS's flat scan, so one query is now scanned
# by a BLAS product instead (core.vectors.exact_scan): 16 ms.
DEFAULT_EXACT_LIMIT = 150_000
RETRAIN_GROWTH = 4  # retrain IVF once it holds this many times the vectors it was trained on
# Excluded ids beyond this (a library's hidden RAW halves of RAW+JPEG pairs) are skipped by a FAISS selector
# during the scan, not by fetching k + len(exclude) results and dropping them.
OVERFETCH_LIMIT = 16


class VectorIndex:
    """Inner-product search on L2-normalised float32 vectors keyed by int64 photo ids.

    Vectors are normalised on the way in (and queries too), so scores are cosines. Adding an id that
    is present replaces its vector: an id is never held twice.
    """

    def __init__(self, dim: int, exact_limit: int = DEFAULT_EXACT_LIMIT) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = dim
        self._exact_limit = exact_limit
        self._index: Any = ivf.new_exact(dim)
        self._trained_size = 0  # vectors present when the IVF was trained; 0 while exact
        self._ids = np.zeros(0, np.int64)  # sorted; replaced (never changed in place) on mutation
        self._list_map = probed.ListMap()  # for filtered IVF searches (core.vectors.filtered_probe)
        self._rw = RWLock()
        self._mutating = threading.Lock()  # serialises writers, also across a rebuild's slow phase

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._ids.size)

    def __contains__(self, photo_id: object) -> bool:
        ids = self._ids
        if not isinstance(photo_id, int | np.integer) or ids.size == 0:
            return False
        pos = int(np.searchsorted(ids, photo_id))
        return pos < ids.size and int(ids[pos]) == int(photo_id)

    def ids(self) -> np.ndarray:
        return self._ids.copy()

    @property
    def kind(self) -> str:
        return "exact" if self._trained_size == 0 else "ivf"

    @property
    def exact_limit(self) -> int:
        return self._exact_limit

    def search(
        self, query: np.ndarray, k: int, exclude: Collection[int] = (), allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k photos most like `query` (shape (dim,)), best first, never one of `exclude`; with
        `allowed` (ids), the true top k among those only, however few they are (a filtered search)."""
        q = np.asarray(query)
        if q.shape != (self.dim,):
            raise ValueError(f"query must have shape ({self.dim},), got {q.shape}")
        skip = {int(i) for i in exclude}
        if k <= 0:
            return []
        # One thread per query: measured faster than two for a single flat or IVF query (the scan is
        # memory bound), and it leaves the other core to a concurrent search or to indexing.
        faiss.omp_set_num_threads(1)
        q = ivf.normalized(q.reshape(1, -1))
        if allowed is not None or len(skip) > OVERFETCH_LIMIT:
            rows = self._search_selected(q, k, allowed, skip)
            return _results(rows[0], rows[1], k, set())[0] if rows else []
        rows = self._search(q, k + len(skip))
        return _results(rows[0], rows[1], k, skip)[0] if rows else []

    def _search_selected(
        self, q: np.ndarray, k: int, allowed: np.ndarray | None, skip: set[int]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Search only ids in `allowed` (None: all) and not in `skip`, exactly: FAISS skips the others
        while it scans, so the k found are the best k that pass, not a post-filtered top k."""
        # As the caller keeps it per filter (Library's PassingIds): counts per list are cached against it.
        given = allowed if allowed is None or isinstance(allowed, np.ndarray) else np.asarray(allowed, np.int64)
        if allowed is not None:
            allowed = select.without(select.sorted_unique(allowed), skip)
            if allowed.size == 0:
                return None
        selector = select.selector(allowed, skip)
        with self._rw.read():
            n = self._index.ntotal
            if n == 0:
                return None
            k = min(k, n)
            if self._trained_size == 0:
                if allowed is not None and 4 * allowed.size >= n:
                    # Most pass: BLAS over everything beats FAISS's scan; few pass: FAISS computes only theirs.
                    return exact.scan(self._index, q, k, allowed)
                return self._index.search(q, k, params=_faiss.SearchParameters(sel=selector.faiss))
            if allowed is None:  # only exclusions: the lists an unfiltered search probes
                nprobe = self._index.nprobe
            else:
                # Counted on the ids as given: the few excluded ones barely change how many a list holds.
                per_list = self._list_map.per_list(self._index, self._ids, given if given is not None else allowed)
                nprobe = probed.probe_count(self._index, q, per_list, self._ids.size)
            params = _faiss.SearchParametersIVF(sel=selector.faiss, nprobe=int(nprobe))
            return self._index.search(q, k, params=params)

    def search_many(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        qs = np.asarray(queries)
        if qs.ndim != 2 or qs.shape[1] != self.dim:
            raise ValueError(f"queries must have shape (m, {self.dim}), got {qs.shape}")
        if k <= 0 or len(qs) == 0:
            return [[] for _ in range(len(qs))]
        faiss.omp_set_num_threads(ivf.cpu_threads())  # a batch parallelises over queries
        rows = self._search(ivf.normalized(qs), k)
        if not rows:
            return [[] for _ in range(len(qs))]
        return _results(rows[0], rows[1], k, set())

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        with self._rw.read():
            n = self._index.ntotal
            if n == 0:
                return None
            k = min(k, n)
            if self._trained_size == 0:
                if len(queries) == 1:
                    return exact.scan(self._index, queries[0], k)
                scores, labels = self._index.search(queries, k)
                return scores, labels
            scores, labels = self._index.search(queries, k, params=_ivf_params(self._index.nprobe))
            if (labels < 0).any():
                # The probed lists held fewer than k vectors (a tiny or lopsided index): scan them all.
                scores, labels = self._index.search(queries, k, params=_ivf_params(self._index.nlist))
            return scores, labels

    def similar_pairs(
        self, floor: float, handle: TaskHandle | None = None, probe: int = similar.PROBE
    ) -> similar.PairList:
        """Every pair of ids whose vectors have cosine >= floor (recall measured by
        benchmarks/duplicates_speed.py). Mutations wait meanwhile; searches go on. `handle` hears
        progress per coarse list and may cancel (Cancelled) between lists."""
        faiss.omp_set_num_threads(ivf.cpu_threads())
        with self._rw.read():
            centroids: np.ndarray | None
            near: list[np.ndarray] | None = None
            if self._trained_size:
                centroids, blocks = similar.ivf_blocks(self._index)
            else:
                ids, vectors = _flat(self._index)
                centroids, blocks, near = similar.clustered_blocks(ids, vectors, probe)
            handle = handle or TaskHandle()
            handle.start("comparing photos", len(blocks), unit="lists")

            def tick() -> None:
                handle.advance()
                handle.checkpoint()

            return similar.pairs_above(centroids, blocks, floor, probe, tick, near)

    # -- mutations -----------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; an id already present gets the new vector. Duplicate ids in one call: last wins."""
        ids, vectors = _checked_batch(ids, vectors, self.dim)
        if ids.size == 0:
            return
        faiss.omp_set_num_threads(ivf.cpu_threads())
        with self._mutating:
            with self._rw.write():
                self._remove_from_index(ids[_is_in_sorted(self._ids, ids)])
                ivf.add_chunks(self._index, ivf.array_chunks(ids, vectors)())
                self._ids = _insert_sorted(self._ids, ids)
            self._reshape_if_needed()

    def remove(self, ids: np.ndarray) -> None:
        """Remove vectors by id; ids not present are ignored."""
        ids = np.unique(np.asarray(ids, dtype=np.int64).ravel())
        faiss.omp_set_num_threads(ivf.cpu_threads())  # a shrink may rebuild as exact
        with self._mutating:
            present = ids[_is_in_sorted(self._ids, ids)]
            if present.size == 0:
                return
            with self._rw.write():
                self._remove_from_index(present)
                self._ids = _delete_sorted(self._ids, present)
            self._reshape_if_needed()

    def _remove_from_index(self, ids: np.ndarray) -> None:
        if ids.size == 0:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if self._trained_size == 0:
            self._index.remove_ids(faiss.IDSelectorBatch(ids.size, faiss.swig_ptr(ids)))
        else:
            # The hash-table direct map only accepts an explicit array of ids.
            self._index.remove_ids(faiss.IDSelectorArray(ids.size, faiss.swig_ptr(ids)))

    def _reshape_if_needed(self) -> None:
        """Convert or retrain when the size calls for it. Caller holds `_mutating`."""
        n = len(self)
        if self._trained_size == 0 and n > self._exact_limit:
            self._swap(ivf.build_ivf(self.dim, n, ivf.exact_chunks(self._index)), n)
        elif self._trained_size and n > RETRAIN_GROWTH * self._trained_size:
            self._swap(ivf.build_ivf(self.dim, n, ivf.ivf_chunks(self._index)), n)
        elif self._trained_size and n < self._exact_limit // 2:
            exact = ivf.new_exact(self.dim)
            ivf.add_chunks(exact, ivf.ivf_chunks(self._index)())
            self._swap(exact, 0)

    def _swap(self, index: Any, trained_size: int) -> None:
        # The new index was built from the old one while searches kept using it; only the swap waits.
        with self._rw.write():
            self._index = index
            self._trained_size = trained_size

    # -- construction and persistence ---------------------------------------------------------

    @classmethod
    def build(
        cls, dim: int, ids: np.ndarray, vectors: np.ndarray, exact_limit: int = DEFAULT_EXACT_LIMIT
    ) -> VectorIndex:
        """A new index holding `vectors`. Copies them once (into FAISS), plus 16k-row work blocks."""
        self = cls(dim, exact_limit)
        ids, vectors = _checked_batch(ids, vectors, dim)
        faiss.omp_set_num_threads(ivf.cpu_threads())
        n = ids.size
        if n > exact_limit:
            self._index = ivf.build_ivf(dim, n, ivf.array_chunks(ids, vectors))
            self._trained_size = n
        else:
            ivf.add_chunks(self._index, ivf.array_chunks(ids, vectors)())
        self._ids = np.sort(ids)
        return self

    def save(self, path: Path, stamp: dict[str, Any]) -> None:
        """Write the index and `stamp` (JSON-serialisable) to one file, atomically."""
        meta = {"stamp": stamp, "exact_limit": self._exact_limit, "trained_size": self._trained_size}
        with self._mutating:  # no mutation mid-write; searches go on (serialising only reads)
            write_index_file(Path(path), self._index, self.dim, meta)

    @classmethod
    def load(cls, path: Path) -> tuple[VectorIndex, dict[str, Any]]:
        """(index, stamp) from a file written by `save`; IndexFileError if it is missing or bad."""
        index, dim, meta = read_index_file(Path(path))
        stamp, exact_limit, trained_size = _checked_meta(meta, path)
        self = cls(dim, exact_limit)
        if isinstance(index, faiss.IndexIDMap2) and trained_size == 0:
            self._ids = np.sort(faiss.vector_to_array(index.id_map))
        elif isinstance(index, faiss.IndexIVFFlat) and trained_size > 0:
            self._ids = np.sort(ivf.ivf_ids(index))
        else:
            raise IndexFileError(f"index file {path} holds an unexpected index ({type(index).__name__})")
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexFileError(f"index file {path} holds an index with the wrong metric")
        self._index, self._trained_size = index, trained_size
        return self, stamp


# -- helpers ------------------------------------------------------------------------------------


def _flat(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of an exact index, as views of what FAISS holds (no copy)."""
    n, d = index.ntotal, index.d
    if n == 0:
        return np.zeros(0, np.int64), np.zeros((0, d), np.float32)
    flat: Any = faiss.downcast_index(index.index)
    return faiss.vector_to_array(index.id_map), faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)


def _ivf_params(nprobe: int) -> Any:
    # Per-call parameters instead of setting index.nprobe: concurrent searches never race on it.
    return _faiss.SearchParametersIVF(nprobe=int(nprobe))


def _results(scores: np.ndarray, labels: np.ndarray, k: int, skip: set[int]) -> list[list[tuple[int, float]]]:
    out = []
    for row_scores, row_labels in zip(scores, labels, strict=True):
        row = [
            (int(label), float(score))
            for label, score in zip(row_labels, row_scores, strict=True)
            if label >= 0 and int(label) not in skip
        ]
        out.append(row[:k])
    return out


def _checked_batch(ids: np.ndarray, vectors: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray(ids, dtype=np.int64).ravel()
    vectors = np.asarray(vectors)  # no copy: blocks are normalised (copied) as they are added
    if vectors.ndim != 2 or vectors.shape != (ids.size, dim):
        raise ValueError(f"vectors must have shape ({ids.size}, {dim}), got {vectors.shape}")
    if ids.size and ids.min() < 0:
        raise ValueError("photo ids must be non-negative (FAISS uses -1 for 'no result')")
    unique, first_from_end = np.unique(ids[::-1], return_index=True)
    if unique.size != ids.size:  # keep the last vector given for each id
        keep = np.sort(ids.size - 1 - first_from_end)
        ids, vectors = ids[keep], vectors[keep]
    return ids, vectors


def _checked_meta(meta: dict[str, Any], path: Path) -> tuple[dict[str, Any], int, int]:
    stamp, exact_limit, trained = meta.get("stamp"), meta.get("exact_limit"), meta.get("trained_size")
    if not isinstance(stamp, dict) or not isinstance(exact_limit, int) or not isinstance(trained, int):
        raise IndexFileError(f"index file {path} is corrupt (header lacks stamp or settings)")
    return stamp, exact_limit, trained


def _is_in_sorted(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    if sorted_ids.size == 0:
        return np.zeros(ids.size, bool)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return sorted_ids[pos] == ids


def _insert_sorted(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    # O(n) merge: re-sorting a million ids on every 32-photo batch would dominate add().
    new = np.sort(ids[~_is_in_sorted(sorted_ids, ids)])
    return np.insert(sorted_ids, np.searchsorted(sorted_ids, new), new)


def _delete_sorted(sorted_ids: np.ndarray, present: np.ndarray) -> np.ndarray:
    return np.delete(sorted_ids, np.searchsorted(sorted_ids, present))
