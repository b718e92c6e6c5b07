"""`Candidates`: everything duplicate groups are made from, found once, grouped again in milliseconds.

Finding the similar pairs is the slow part (core.vectors.similar_pairs, seconds to minutes); it runs
once at the lowest threshold offered (FLOOR), and `groups(tier, threshold)` then only filters and
clusters, so a similarity slider can show the number of groups live.

The unit of grouping is an item: one content (hash). Exact copies are one item with several photos;
a RAW+JPEG pair is one member, shown by its JPEG, its RAW travelling along as a companion.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.duplicates.grouping import star_groups
from core.duplicates.keeper import keeper_first
from core.duplicates.records import DEFAULT_THRESHOLD, FLOOR, TIERS, DuplicateGroup, DuplicateMember
from core.errors import LibraryError
from core.imaging.pixel_print import PRINT_BYTES
from core.store.database import Photo
from core.vectors.similar_pairs import PairList

# Of 256 bits (core.imaging.pixel_print): re-encoded, resized or stripped copies measured at 0-2, the next
# frame of a burst at 6-18. Strict on purpose: a "same" group is offered for clean-up, and a burst shot
# wrongly called a copy is a photo lost; a copy re-compressed to ruin (6-10) is still found as "near".
SAME_MAX_BITS = 4
SAME_MAX_ASPECT_CHANGE = 0.02  # a resize keeps the aspect ratio; a crop usually changes it


@dataclass(frozen=True)
class Sources:
    """What the library hands over to build candidates from (all read beforehand)."""

    pairs: PairList  # photo-id pairs at cosine >= FLOOR
    photos: Mapping[int, Photo]  # every photo the pairs and copies name, RAW companions included
    copies: Sequence[int]  # photos whose content another photo shares
    shown_by: Mapping[int, int]  # RAW photo id -> the JPEG id that stands for the pair
    prints: Mapping[str, bytes]  # content hash -> pixel print
    decided: set[tuple[str, str]]  # content-hash pairs the user decided about (hash_a < hash_b)


class Candidates:
    def __init__(self, sources: Sources) -> None:
        self._photos = sources.photos
        self._shown_by = dict(sources.shown_by)
        self._companions = _companions(sources.shown_by, sources.photos)
        members = self._member_ids(sources)
        self.items, self.item_photos = _items(members, sources.photos)
        index = {h: i for i, h in enumerate(self.items)}
        self.a, self.b, self.score = self._item_pairs(sources.pairs, index)
        self.same = self._same_picture(sources.prints)
        self.apart = {
            _ordered(index[x], index[y]) for x, y in sources.decided if x in index and y in index and x != y
        }
        # Contents whose identical copies the user kept on purpose: no group of copies alone.
        self.copies_kept = {index[x] for x, y in sources.decided if x == y and x in index}

    # -- building ----------------------------------------------------------------------------------
    def _member_ids(self, sources: Sources) -> set[int]:
        ids = set(sources.copies) | set(sources.pairs.a.tolist()) | set(sources.pairs.b.tolist())
        shown = {self._shown_by.get(i, i) for i in ids}
        return {i for i in shown if i in sources.photos and sources.photos[i].hash}

    def _item_pairs(self, pairs: PairList, index: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Photo pairs as item pairs (x < y), each once with its best score; pairs within an item dropped."""
        def item_of(pid: int) -> int:
            photo = self._photos.get(self._shown_by.get(pid, pid))
            return index.get(photo.hash, -1) if photo is not None and photo.hash else -1

        x = np.fromiter((item_of(p) for p in pairs.a.tolist()), np.int64, len(pairs))
        y = np.fromiter((item_of(p) for p in pairs.b.tolist()), np.int64, len(pairs))
        keep = (x >= 0) & (y >= 0) & (x != y)
        lo, hi, score = np.minimum(x, y)[keep], np.maximum(x, y)[keep], pairs.score[keep]
        order = np.lexsort((-score, hi, lo))  # per pair of items, the best score first
        lo, hi, score = lo[order], hi[order], score[order]
        first = np.ones(lo.size, bool)
        first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
        return lo[first], hi[first], score[first]

    def _same_picture(self, prints: Mapping[str, bytes]) -> np.ndarray:
        """Per item pair: the same picture by its pixels (prints close, aspect ratio kept)."""
        table = np.zeros((len(self.items), PRINT_BYTES), np.uint8)
        has = np.zeros(len(self.items), bool)
        aspect = np.zeros(len(self.items))
        for i, h in enumerate(self.items):
            if h in prints and len(prints[h]) == PRINT_BYTES:
                table[i] = np.frombuffer(prints[h], np.uint8)
                has[i] = True
            p = self._photos[self.item_photos[i][0]]
            aspect[i] = (p.width / p.height) if p.width and p.height else 0.0
        bits = np.unpackbits(table[self.a] ^ table[self.b], axis=1).sum(axis=1)
        ratio = np.abs(aspect[self.a] - aspect[self.b]) / np.maximum(aspect[self.a], 1e-9)
        return has[self.a] & has[self.b] & (bits <= SAME_MAX_BITS) & (ratio <= SAME_MAX_ASPECT_CHANGE)

    # -- grouping ----------------------------------------------------------------------------------
    def item_groups(self, tier: str, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
        """Groups of item numbers (centre first); copies of one content are a group of one item."""
        _check(tier, threshold)
        grouped: list[list[int]] = []
        if tier != "exact":
            mask = self.score >= threshold
            if tier == "same":
                mask &= self.same
            grouped = star_groups(len(self.items), self.a[mask], self.b[mask], self.apart)
        taken = {i for g in grouped for i in g}
        alone = [
            [i] for i, photos in enumerate(self.item_photos)
            if len(photos) > 1 and i not in taken and i not in self.copies_kept
        ]
        return grouped + alone

    def count(self, tier: str, threshold: float = DEFAULT_THRESHOLD, folder: str | None = None) -> int:
        groups = self.item_groups(tier, threshold)
        if folder is None:
            return len(groups)
        return sum(1 for g in groups if self._touches(g, folder))

    def groups(
        self, tier: str, threshold: float = DEFAULT_THRESHOLD, *, folder: str | None = None,
        rules: Sequence[str] = (), preferred: Sequence[str] = (), sort: str = "space",
    ) -> list[DuplicateGroup]:
        """The groups, each with its keeper first; `folder`: only groups with a member inside it."""
        if sort not in ("space", "date"):
            raise LibraryError(f"sort must be space or date, not {sort!r}")
        out = []
        for items in self.item_groups(tier, threshold):
            if folder is None or self._touches(items, folder):
                out.append(self._group(items, rules, preferred))
        if sort == "space":
            out.sort(key=lambda g: (-g.reclaimable_bytes, g.keeper.path))
        else:
            out.sort(key=lambda g: (g.taken_at is None, -(g.taken_at or 0.0), g.keeper.path))
        return out

    def _group(self, items: list[int], rules: Sequence[str], preferred: Sequence[str]) -> DuplicateGroup:
        centre = items[0]
        members: list[DuplicateMember] = []
        tier = "exact" if len(items) == 1 else "same"
        for item in items:
            score, same = (1.0, True) if item == centre else self._edge(centre, item)
            tier = tier if same else "near"
            members.extend(self._member(pid, score) for pid in self.item_photos[item])
        ordered, reasons = keeper_first(members, rules, preferred)
        return DuplicateGroup(tier, tuple(ordered), reasons)

    def _edge(self, x: int, y: int) -> tuple[float, bool]:
        lo, hi = _ordered(x, y)
        at = self._find(lo, hi)
        return (float(self.score[at[0]]), bool(self.same[at[0]])) if at.size else (0.0, False)

    def _find(self, lo: int, hi: int) -> np.ndarray:
        """The position of item pair (lo, hi): pairs are sorted by (a, b)."""
        start, stop = np.searchsorted(self.a, lo, "left"), np.searchsorted(self.a, lo, "right")
        pos = start + np.searchsorted(self.b[start:stop], hi)
        return np.array([pos]) if pos < stop and self.b[pos] == hi else np.zeros(0, np.int64)

    def _member(self, photo_id: int, score: float) -> DuplicateMember:
        p = self._photos[photo_id]
        return DuplicateMember(
            p.id, p.path, p.hash or "", p.size, p.mtime_ns, p.width, p.height, p.taken_at, score,
            self._companions.get(p.id, ()),
        )

    def _touches(self, items: Iterable[int], folder: str) -> bool:
        root = os.path.join(os.path.abspath(folder), "")
        paths = (self._photos[pid].path for i in items for pid in self.item_photos[i])
        return any(p.startswith(root) for p in paths)


def _items(members: set[int], photos: Mapping[int, Photo]) -> tuple[list[str], list[list[int]]]:
    """Contents numbered in a stable order (by their first path), each with its photos (by path)."""
    by_hash: dict[str, list[int]] = {}
    for pid in members:
        by_hash.setdefault(photos[pid].hash or "", []).append(pid)
    for ids in by_hash.values():
        ids.sort(key=lambda i: photos[i].path)
    hashes = sorted(by_hash, key=lambda h: photos[by_hash[h][0]].path)
    return hashes, [by_hash[h] for h in hashes]


def _companions(shown_by: Mapping[int, int], photos: Mapping[int, Photo]) -> dict[int, tuple[tuple[str, int, int], ...]]:
    out: dict[int, tuple[tuple[str, int, int], ...]] = {}
    for raw_id, jpeg_id in sorted(shown_by.items()):
        raw = photos.get(raw_id)
        if raw is not None:
            out[jpeg_id] = (*out.get(jpeg_id, ()), (raw.path, raw.size, raw.mtime_ns))
    return out


def _check(tier: str, threshold: float) -> None:
    if tier not in TIERS:
        raise LibraryError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    if not FLOOR <= threshold <= 1.0:
        raise LibraryError(f"the threshold must be between {FLOOR} and 1.0, not {threshold}")


def _ordered(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)
