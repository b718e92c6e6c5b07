"""Duplicate finding for one library: candidates found once per library state, the user's decisions,
and the clean-up. The `Library` facade exposes it; the grouping itself lives in core.duplicates.

The similar pairs (the slow part: a minute at a million photos) are kept until photos are added or
their vectors change; photos removed (a clean-up to the trash) are only dropped from them, and a
decision only regroups. So a similarity slider, a second `groups()` call or the next group after a
clean-up costs milliseconds, not another comparison of every photo.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np

from core.duplicates.candidates import Candidates, Sources
from core.duplicates.cleanup import CleanupPlan, TrashReport, trash_others
from core.duplicates.records import FLOOR
from core.errors import LibraryError
from core.imaging.pixel_print import PRINT_VERSION
from core.library.raw_pairs import Pairs, RawPairs
from core.store import duplicates as rows
from core.store.changes import LibraryChanges
from core.store.database import Store
from core.tasks.progress import TaskHandle
from core.vectors.index import VectorIndex
from core.vectors.similar_pairs import PairList


class LibraryDuplicates:
    def __init__(self, store: Store, raw_pairs: RawPairs) -> None:
        self._store = store
        self._raw_pairs = raw_pairs
        self._lock = threading.Lock()
        self._pairs: tuple[str, PairList] | None = None  # (model key, pairs)
        self._cached: tuple[tuple[str, bool], Candidates] | None = None

    def follow(self, changes: LibraryChanges) -> None:
        """Keep what `changes` leaves true: removals and renames keep the pairs (minus the removed)."""
        with self._lock:
            self._cached = None
            if changes.added or changes.updated:
                self._pairs = None
            elif changes.removed and self._pairs is not None:
                key, pairs = self._pairs
                self._pairs = (key, pairs.without(np.asarray(changes.removed, np.int64)))

    def _regroup(self) -> None:
        with self._lock:
            self._cached = None

    def candidates(
        self, model_key: str, index: VectorIndex | None, one_per_pair: bool, handle: TaskHandle | None = None
    ) -> Candidates:
        """Everything groups are made from, for the library as it is now (cached until it changes)."""
        key = (model_key, one_per_pair)
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
            known = self._pairs[1] if self._pairs is not None and self._pairs[0] == model_key else None
        pairs = known if known is not None else self._find_pairs(index, handle)
        with self._lock:
            self._pairs = (model_key, pairs)
        found = Candidates(self._sources(pairs, self._raw_pairs.current() if one_per_pair else Pairs()))
        with self._lock:
            self._cached = (key, found)
        return found

    @staticmethod
    def _find_pairs(index: VectorIndex | None, handle: TaskHandle | None) -> PairList:
        return index.similar_pairs(FLOOR, handle) if index is not None and len(index) else PairList.empty()

    def _sources(self, pairs: PairList, raw: Pairs) -> Sources:
        with self._store.read() as conn:
            copies = rows.shared_content_ids(conn)
            decided = rows.decided_pairs(conn)
        ids = set(copies) | set(pairs.a.tolist()) | set(pairs.b.tolist())
        ids |= {raw.shown_by[i] for i in ids if i in raw.shown_by}
        ids |= {raw_id for raw_id, jpeg_id in raw.shown_by.items() if jpeg_id in ids}
        photos = {pid: p for pid, p in self._store.photos_by_ids(ids).items() if p.status == "ok"}
        with self._store.read() as conn:
            prints = rows.prints(conn, {p.hash for p in photos.values() if p.hash}, PRINT_VERSION)
        shown_by = {r: j for r, j in raw.shown_by.items() if r in photos and j in photos}
        return Sources(pairs, photos, copies, shown_by, prints, decided)

    # -- decisions ---------------------------------------------------------------------------------------
    def decide(self, hashes: Sequence[str], decision: str) -> int:
        """Record `decision` ("distinct": not duplicates; "kept": reviewed, all stay) for every pair
        among `hashes`, and for the identical copies of each; such pairs are never grouped again.
        Returns how many pairs were recorded."""
        unique = sorted(set(hashes))
        if not unique:
            raise LibraryError("a decision needs photos")
        pairs = [*combinations(unique, 2), *((h, h) for h in unique)]
        with self._store.write() as conn:
            count = rows.save_decisions(conn, pairs, decision)
        self._regroup()
        return count

    def hashes_of(self, paths: Iterable[str]) -> list[str]:
        """The content hashes of library photos at `paths`; LibraryError naming one that is not one."""
        out = []
        for path in paths:
            photo = self._store.photo_by_path(path)
            if photo is None:
                raise LibraryError(f"{path} is not a photo in this library")
            if not photo.hash:
                raise LibraryError(f"{path} has not been read yet: run `lookalike index` first")
            out.append(photo.hash)
        return out

    # -- clean-up ----------------------------------------------------------------------------------------
    def trash(self, plan: CleanupPlan, roots: Sequence[str]) -> TrashReport:
        return trash_others(plan, roots)
