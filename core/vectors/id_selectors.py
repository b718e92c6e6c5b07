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
        return _of(np.asarray(allowed, np.int64))
    skipped = _of(np.fromiter((int(i) for i in skip), np.int64, len(skip)))
    return Selector(_faiss.IDSelectorNot(skipped.faiss), (skipped,))


def _of(ids: np.ndarray) -> Selector:
    ids = np.ascontiguousarray(np.unique(ids))
    top = int(ids[-1]) + 1 if ids.size else 0
    if top <= BITMAP_MAX_BITS:
        bits = np.zeros((top + 7) // 8, np.uint8)
        np.bitwise_or.at(bits, ids >> 3, (1 << (ids & 7)).astype(np.uint8))
        # FAISS takes the bitmap's length in bytes: an id past it is simply not selected.
        return Selector(_faiss.IDSelectorBitmap(bits.size, _faiss.swig_ptr(bits)), (bits,))
    return Selector(_faiss.IDSelectorBatch(ids.size, _faiss.swig_ptr(ids)), (ids,))
