"""FAISS id selectors for filtered searches: which ids a scan may return.

A bitmap over the id range when ids are dense (SQLite's photo ids are): one bit test per vector scanned,
the cheapest FAISS offers; a hash set (IDSelectorBatch) when they are too sparse for a bitmap. The
numpy arrays behind a selector must outlive the search: `Selector` keeps them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

_faiss: Any = faiss
BITMAP_MAX_BITS = 1 << 27  # 16 MB: beyond this id range a hash set is smaller


@dataclass(frozen=True)
class Selector:
    faiss: Any
    keep_alive: tuple[Any, ...]


def selector(allowed: np.ndarray | None, skip: Collection[int] = ()) -> Selector:
    """Ids in `allowed` (None: every id) and not in `skip`."""
    if allowed is not None:
        return _of(sorted_unique(allowed))
    skipped = _of(sorted_unique(np.fromiter((int(i) for i in skip), np.int64, len(skip))))
    return Selector(_faiss.IDSelectorNot(skipped.faiss), (skipped,))


def sorted_unique(ids: np.ndarray) -> np.ndarray:
    """`ids` sorted without repeats, as int64; no copy when they already are (SQLite hands them sorted).

    Not np.unique: with numpy 2.4 it took 170-400 ms for 100k ids that a sort orders in 1 ms, which made
    a filter keeping 100k photos cost 0.5 s per query (benchmarks/filtered_search.py)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64).ravel()
    if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return ids
    ids = np.sort(ids)
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))]


def without(sorted_ids: np.ndarray, drop: Collection[int]) -> np.ndarray:
    """`sorted_ids` (sorted, unique) less the few ids in `drop`: one binary search each, no set operation."""
    if not drop:
        return sorted_ids
    drop_ids = np.fromiter((int(i) for i in drop), np.int64, len(drop))
    pos = np.minimum(np.searchsorted(sorted_ids, drop_ids), max(sorted_ids.size - 1, 0))
    hit = pos[sorted_ids[pos] == drop_ids] if sorted_ids.size else pos[:0]
    return np.delete(sorted_ids, hit)


def _of(ids: np.ndarray) -> Selector:
    """A selector of `ids` (sorted, unique)."""
    top = int(ids[-1]) + 1 if ids.size else 0
    if top <= BITMAP_MAX_BITS:
        # A bool per id packed little-endian (bit i & 7 of byte i >> 3, FAISS's layout): 8x faster than
        # np.bitwise_or.at at 100k ids.
        marks = np.zeros(top, bool)
        marks[ids] = True
        bits = np.packbits(marks, bitorder="little")
        # FAISS takes the bitmap's length in bytes: an id past it is simply not selected.
        return Selector(_faiss.IDSelectorBitmap(bits.size, _faiss.swig_ptr(bits)), (bits,))
    return Selector(_faiss.IDSelectorBatch(ids.size, _faiss.swig_ptr(ids)), (ids,))
