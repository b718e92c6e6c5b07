"""How many lists a filtered IVF search probes: the lists nearest the query, until they hold enough of
the photos that pass.

Probing every list whenever few pass is exact but costs a bitmap test per photo of the library (a
filter keeping 10% of 1M photos: ~70 ms). Counting the passing photos per list and probing the nearest
lists until they hold a fixed share of what an unfiltered search compares keeps a random filter cheap
(it finds passing photos in every list) and still reaches a filter that picks one album or one date
range, wherever its photos sit (benchmarks/filtered_search.py measures both, recall included).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.vectors import ivf

SHARE_OF_UNFILTERED = 0.3  # the probed lists hold >= 30% as many passing photos as an unfiltered search scans


class ListMap:
    """Which list each id of an IVF index sits in, aligned with the index's sorted ids; rebuilt when the
    index or its ids change (both are replaced, never changed in place)."""

    def __init__(self) -> None:
        # (index, its sorted ids, lists): one tuple, swapped whole, so concurrent searches (which call
        # this under the index's read lock) never see a map paired with another index's ids.
        self._known: tuple[Any, np.ndarray, np.ndarray] | None = None

    def lists(self, index: Any, sorted_ids: np.ndarray) -> np.ndarray:
        known = self._known
        if known is not None and known[0] is index and known[1] is sorted_ids:
            return known[2]
        ids, lists = [], []
        for list_no, (list_ids, _) in enumerate_lists(index):
            ids.append(np.asarray(list_ids, np.int64))
            lists.append(np.full(len(list_ids), list_no, np.int32))
        order = np.argsort(np.concatenate(ids), kind="stable") if ids else np.zeros(0, np.int64)
        mapped = np.concatenate(lists)[order] if lists else np.zeros(0, np.int32)
        self._known = (index, sorted_ids, mapped)
        return mapped


def enumerate_lists(index: Any) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    from core.vectors.similar_pairs import enumerate_ivf

    return enumerate_ivf(index)


def probe_count(index: Any, query: np.ndarray, allowed: np.ndarray, sorted_ids: np.ndarray, lists: np.ndarray) -> int:
    """Lists to probe for `query` so that they hold enough of the `allowed` ids (sorted)."""
    pos = np.minimum(np.searchsorted(sorted_ids, allowed), max(sorted_ids.size - 1, 0))
    present = pos[sorted_ids[pos] == allowed] if sorted_ids.size else pos[:0]
    per_list = np.bincount(lists[present], minlength=index.nlist)
    passing = int(per_list.sum())
    if passing == 0:
        return int(index.nlist)
    _, nearest = index.quantizer.search(ivf.normalized(query.reshape(1, -1)), index.nlist)
    held = np.cumsum(per_list[nearest[0]])
    unfiltered = index.nprobe * sorted_ids.size / index.nlist
    target = min(passing, max(1.0, SHARE_OF_UNFILTERED * unfiltered))
    needed = int(np.searchsorted(held, target)) + 1
    return int(min(index.nlist, max(index.nprobe, needed)))
