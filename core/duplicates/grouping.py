"""Turning similar pairs into groups: deterministic star clustering.

Connected components chain: in a burst, frame 1 is like frame 2, frame 2 like frame 3, ... and at a
loose threshold half a library becomes one group (the complaint users of other tools make). Here each
group has a centre that every member is directly similar to: the most connected item still free
becomes a centre and takes its free neighbours; then the next. Items are numbered in a stable order
(by path) and ties go to the lower number, so the same library always gives the same groups.

A pair the user decided about ("not duplicates", a reviewed group) is no edge, and a member is never
put in a group beside an item it was decided against.
"""

from __future__ import annotations

import numpy as np


def star_groups(
    n: int, a: np.ndarray, b: np.ndarray, apart: set[tuple[int, int]] = frozenset()  # type: ignore[assignment]
) -> list[list[int]]:
    """Groups (centre first, then members by item number) of the items 0..n-1 linked by edges a[i]-b[i].

    `apart`: pairs (x, y) with x < y that must not share a group."""
    if a.size == 0:
        return []
    starts, neighbours = _adjacency(n, a, b)
    degree = np.diff(starts)
    order = np.lexsort((np.arange(n), -degree))  # most connected first; ties: lower number first
    free = np.ones(n, bool)
    groups: list[list[int]] = []
    for centre in order.tolist():
        if degree[centre] == 0:
            break
        if not free[centre]:
            continue
        group = [centre]
        for other in neighbours[starts[centre] : starts[centre + 1]].tolist():
            if free[other] and not any(_pair(other, m) in apart for m in group):
                group.append(other)
        if len(group) > 1:
            free[group] = False
            groups.append(group)
    return groups


def _adjacency(n: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR adjacency: neighbours of i are neighbours[starts[i]:starts[i+1]], in ascending order."""
    src = np.concatenate([a, b]).astype(np.int64)
    dst = np.concatenate([b, a]).astype(np.int64)
    order = np.lexsort((dst, src))
    starts = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=starts[1:])
    return starts, dst[order]


def _pair(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)
