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
        # The last filter's passing photos per list: the same filter serves many searches (PassingIds
        # hands out one array per filter), and counting a million ids costs ~40 ms.
        self._counted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

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


    def per_list(self, index: Any, sorted_ids: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """How many of `allowed` (sorted ids) each list holds."""
        lists = self.lists(index, sorted_ids)
        counted = self._counted
        if counted is not None and counted[0] is allowed and counted[1] is lists:
            return counted[2]
        pos = np.minimum(np.searchsorted(sorted_ids, allowed), max(sorted_ids.size - 1, 0))
        present = pos[sorted_ids[pos] == allowed] if sorted_ids.size else pos[:0]
        per_list = np.bincount(lists[present], minlength=index.nlist)
        self._counted = (allowed, lists, per_list)
        return per_list


def enumerate_lists(index: Any) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    from core.vectors.similar_pairs import enumerate_ivf

    return enumerate_ivf(index)


def probe_count(index: Any, query: np.ndarray, per_list: np.ndarray, total: int) -> int:
    """Lists to probe for `query` so that they hold enough passing photos (`per_list` of them per list;
    `total`: the index's size)."""
    passing = int(per_list.sum())
    if passing == 0:
        return int(index.nlist)
    _, nearest = index.quantizer.search(ivf.normalized(query.reshape(1, -1)), index.nlist)
    held = np.cumsum(per_list[nearest[0]])
    unfiltered = index.nprobe * total / index.nlist
    target = min(passing, max(1.0, SHARE_OF_UNFILTERED * unfiltered))
    needed = int(np.searchsorted(held, target)) + 1
    return int(min(index.nlist, max(index.nprobe, needed)))
