"""Every pair of photos whose vectors are at least `floor` alike: the raw material of duplicate groups.

All pairs by brute force is n^2: 100k photos take ~2 minutes of matrix products on the 2-core
reference machine, 1M take hours. Near-duplicates are so close that they fall in the same region of
the vector space, so the search is blocked by region, IVF-style but with matrix products (BLAS runs
~5x faster than FAISS's per-query scan here, 133 vs 27 GFLOPS): the vectors are split into coarse
lists around k-means centroids, and each list is compared with itself and the `probe` lists whose
centroids are nearest to its own. A pair is missed only when its two photos sit in lists that are not
neighbours; benchmarks/duplicates_speed.py measures the recall of pairs above the threshold against
exhaustive search.

The lists are the library's own: an IVF search index already holds its vectors grouped by list (read
in place, no copy); an exact index (up to 150k photos) is clustered here into a temporary sorted copy
(at most ~460 MB). Small sets are compared all against all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from core.vectors import ivf

_faiss: Any = faiss

EXHAUSTIVE_BELOW = 8_000  # all against all: 8k^2 x 768 is ~0.8 s of BLAS
# Lists each vector is compared with: its own and the 7 next nearest. Measured at 1M (benchmarks/
# duplicates_speed.py, 1,000 lists): the share of exhaustive pairs >= 0.80 whose two photos sit in lists
# one probes is 0.973 at 4, 0.983 at 6, 0.993 at 8, 0.997 at 12; 100k (316 lists) reaches 0.997 at 4.
PROBE = 8
BLOCK = 4_096  # rows per matrix product when comparing all against all: bounds the score block (64 MB)

Block = tuple[np.ndarray, np.ndarray]  # (ids, L2-normalised float32 vectors), one coarse list


@dataclass(frozen=True)
class PairList:
    """Pairs of ids (a != b, each pair once) with their cosine."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.a.size)

    def without(self, ids: np.ndarray) -> PairList:
        """These pairs less those naming one of `ids` (photos that left the library)."""
        keep = ~(np.isin(self.a, ids) | np.isin(self.b, ids))
        return PairList(self.a[keep], self.b[keep], self.score[keep])

    @classmethod
    def empty(cls) -> PairList:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    @classmethod
    def joined(cls, parts: Sequence[PairList]) -> PairList:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("a", "b", "score")))


def pairs_above(
    centroids: np.ndarray | None, blocks: Sequence[Block], floor: float, probe: int = PROBE,
    tick: Callable[[], None] = lambda: None, near: Sequence[np.ndarray] | None = None,
) -> PairList:
    """The pairs at cosine >= floor among the vectors in `blocks` (one block: all against all).

    `near`: per block, each vector's `probe` nearest lists when already known (clustered_blocks finds
    them while assigning). `tick()` is called once per block (progress, and a checkpoint where
    cancelling may raise)."""
    if centroids is None or len(blocks) <= 1:
        ids = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, np.int64)
        vecs = np.concatenate([b[1] for b in blocks]) if len(blocks) > 1 else (blocks[0][1] if blocks else None)
        out = _all_against_all(ids, vecs, floor) if vecs is not None else PairList.empty()
        tick()
        return out
    if near is None:
        unit_centroids = ivf.normalized(centroids)
        near = [_nearest_lists(vecs, unit_centroids, probe) for _, vecs in blocks]
    visitors = _visitors(near, len(blocks))
    parts: list[PairList] = []
    for target, (ids, vecs) in enumerate(blocks):
        if ids.size:
            # One product per list, with itself and its visitors: half the BLAS calls of two.
            parts.append(_within(ids.size, *_gather(blocks, visitors[target], (ids, vecs)), floor))
        tick()
    return _unique(PairList.joined(parts))


def _nearest_lists(vecs: np.ndarray, centroids: np.ndarray, probe: int) -> np.ndarray:
    """(len(vecs), probe) int32: the lists whose centroids are nearest to each vector, nearest first."""
    probe = min(probe, len(centroids))
    out = np.empty((len(vecs), probe), np.int32)
    for start in range(0, len(vecs), BLOCK):
        scores = vecs[start : start + BLOCK] @ centroids.T
        top = np.argpartition(-scores, probe - 1, axis=1)[:, :probe]
        by_score = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[start : start + BLOCK] = np.take_along_axis(top, by_score, axis=1)
    return out


def _visitors(near: Sequence[np.ndarray], n_lists: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each list, the vectors of other lists that probe it: (home lists, rows), sorted by home.

    A vector probes the `probe` lists whose centroids are nearest to it (its own among them): a
    near-duplicate sits close to it, so in one of those lists. Probing from each vector, not from its
    list's centroid, keeps the pairs that straddle a boundary between lists."""
    homes, rows, targets = [], [], []
    for home, lists in enumerate(near):
        if not len(lists):
            continue
        flat = lists.ravel()
        row = np.repeat(np.arange(len(lists), dtype=np.int32), lists.shape[1])
        away = flat != home
        homes.append(np.full(int(away.sum()), home, np.int32))
        rows.append(row[away])
        targets.append(flat[away])
    none = (np.zeros(0, np.int32), np.zeros(0, np.int32))
    if not targets:
        return [none] * n_lists
    target, home_of, row_of = np.concatenate(targets), np.concatenate(homes), np.concatenate(rows)
    order = np.lexsort((row_of, home_of, target))
    bounds = np.searchsorted(target[order], np.arange(n_lists + 1))
    return [(home_of[order[a:b]], row_of[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _gather(blocks: Sequence[Block], visitors: tuple[np.ndarray, np.ndarray], home: Block) -> Block:
    """`home`'s ids and vectors followed by those of `visitors` (home lists and rows), in one copy."""
    homes, rows = visitors
    ids, vecs = [home[0]], [home[1]]
    if homes.size:
        cuts = np.flatnonzero(np.diff(homes)) + 1
        for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [homes.size]]), strict=True):
            home_ids, home_vecs = blocks[int(homes[a])]
            ids.append(home_ids[rows[a:b]])
            vecs.append(home_vecs[rows[a:b]])
    return np.concatenate(ids), np.concatenate(vecs)


def _unique(pairs: PairList) -> PairList:
    """Each pair once, as (smaller id, larger id): a pair between two lists may be found from both."""
    lo, hi = np.minimum(pairs.a, pairs.b), np.maximum(pairs.a, pairs.b)
    order = np.lexsort((hi, lo))
    lo, hi, score = lo[order], hi[order], pairs.score[order]
    first = np.ones(lo.size, bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return PairList(lo[first], hi[first], score[first])


def _within(n: int, ids: np.ndarray, vecs: np.ndarray, floor: float) -> PairList:
    """Pairs among the first `n` vectors (each once) and between them and the rest."""
    scores = vecs[:n] @ vecs.T
    i, j = np.nonzero(scores >= floor)
    keep = (j >= n) | (i < j)  # among the first n: i < j only, never i with itself
    i, j = i[keep], j[keep]
    return PairList(ids[i], ids[j], scores[i, j].astype(np.float32))


def _compare(ids_a: np.ndarray, a: np.ndarray, ids_b: np.ndarray, b: np.ndarray, floor: float) -> PairList:
    scores = a @ b.T
    i, j = np.nonzero(scores >= floor)
    return PairList(ids_a[i], ids_b[j], scores[i, j].astype(np.float32))


def _all_against_all(ids: np.ndarray, vecs: np.ndarray, floor: float) -> PairList:
    parts = []
    for start in range(0, len(ids), BLOCK):
        stop = start + BLOCK
        rows = vecs[start:stop]
        parts.append(_within(rows.shape[0], ids[start:stop], rows, floor))
        if stop < len(ids):
            parts.append(_compare(ids[start:stop], rows, ids[stop:], vecs[stop:], floor))
    return PairList.joined(parts)


# -- where the lists come from ---------------------------------------------------------------------


def ivf_blocks(index: Any) -> tuple[np.ndarray, list[Block]]:
    """The centroids and lists of an IndexIVFFlat, read in place (views: valid while it is unchanged)."""
    centroids = index.quantizer.reconstruct_n(0, index.nlist)
    empty = (np.zeros(0, np.int64), np.zeros((0, index.d), np.float32))
    by_list = dict(enumerate_ivf(index))
    return centroids, [by_list.get(i, empty) for i in range(index.nlist)]


def enumerate_ivf(index: Any) -> list[tuple[int, Block]]:
    invlists, d, out = index.invlists, index.d, []
    for list_no in range(index.nlist):
        size = invlists.list_size(list_no)
        if size:
            codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * d * 4)
            ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size)
            out.append((list_no, (ids, codes.view(np.float32).reshape(size, d))))
    return out


def clustered_blocks(
    ids: np.ndarray, vecs: np.ndarray, probe: int = PROBE, seed: int = 1234
) -> tuple[np.ndarray | None, list[Block], list[np.ndarray] | None]:
    """Lists made here for vectors held flat (an exact index): k-means, then a copy sorted by list.

    Also each vector's `probe` nearest lists (for pairs_above), found in the same pass as its list."""
    n, d = vecs.shape
    if n < EXHAUSTIVE_BELOW:
        return None, [(ids, vecs)], None
    nlist = int(round(math.sqrt(n)))
    rng = np.random.default_rng(seed)
    sample = vecs[np.sort(rng.choice(n, min(n, nlist * ivf.TRAIN_POINTS_PER_LIST), replace=False))]
    centroids = _spherical_kmeans(np.ascontiguousarray(sample, dtype=np.float32), nlist, rng)
    near = _nearest_lists(vecs, centroids, probe)
    assign = near[:, 0].astype(np.int64)  # its own list: the nearest of its `probe` nearest
    order = np.argsort(assign, kind="stable")
    sorted_ids, sorted_vecs, sorted_near = ids[order], vecs[order], near[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=nlist))])
    cuts = list(zip(bounds[:-1], bounds[1:], strict=True))
    blocks = [(sorted_ids[a:b], sorted_vecs[a:b]) for a, b in cuts]
    return centroids, blocks, [sorted_near[a:b] for a, b in cuts]


KMEANS_ITERATIONS = 10


def _spherical_kmeans(sample: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Unit centroids of `sample` by spherical k-means, with numpy's matrix products: faiss.Kmeans
    assigns through its top-1 search, measured ~4x slower than a BLAS product plus argmax here."""
    centroids = ivf.normalized(sample[rng.choice(len(sample), k, replace=False)])
    for _ in range(KMEANS_ITERATIONS):
        assign = np.concatenate(
            [np.argmax(sample[s : s + BLOCK] @ centroids.T, axis=1) for s in range(0, len(sample), BLOCK)]
        )
        order = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=k)
        present = np.flatnonzero(counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[present]
        sums = np.add.reduceat(sample[order], starts, axis=0)
        centroids[present] = ivf.normalized(sums)
        empty = np.flatnonzero(counts == 0)  # an emptied centroid restarts at a random point
        centroids[empty] = sample[rng.choice(len(sample), empty.size, replace=False)]
    return centroids
