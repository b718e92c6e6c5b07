"""RAW+JPEG pairs: a camera set to RAW+JPEG writes IMG_0001.CR2 beside IMG_0001.JPG, one shot in two files.

To the user they are one photo: by default a pair is one entry in results, shown by its JPEG (what other
programs show), and the RAW's path travels with it (`SearchResult.companions`) for the context menu. The
`raw_pairs` setting "both" shows them as separate photos. A pair is a RAW and a JPEG in the same folder
whose names differ only in the extension (case-insensitively: cameras write IMG_0001.CR2 + IMG_0001.JPG).

Pairs are found from the paths alone, once per change to the library (callers `invalidate()` on every
change record), so a search costs a set lookup.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.store.database import Store

RAW_SUFFIXES = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".rw2", ".raf", ".pef", ".srw"})
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe"})


@dataclass(frozen=True)
class Pairs:
    hidden: frozenset[int] = frozenset()  # RAW photos represented by their JPEG
    companions: dict[int, tuple[str, ...]] = field(default_factory=dict)  # JPEG id -> its RAW's path
    shown_by: dict[int, int] = field(default_factory=dict)  # RAW id -> the JPEG id that stands for both


def find_pairs(photos: list[tuple[int, str]]) -> Pairs:
    """The pairs among (id, path) rows: a RAW and a JPEG with the same folder and name."""
    jpegs: dict[str, int] = {}
    raws: list[tuple[str, int, str]] = []
    for photo_id, path in photos:
        stem, suffix = os.path.splitext(path)
        suffix = suffix.lower()
        if suffix in JPEG_SUFFIXES:
            jpegs[stem.casefold()] = photo_id
        elif suffix in RAW_SUFFIXES:
            raws.append((stem.casefold(), photo_id, path))
    shown_by: dict[int, int] = {}
    companions: dict[int, tuple[str, ...]] = {}
    for stem, raw_id, raw_path in raws:
        jpeg_id = jpegs.get(stem)
        if jpeg_id is not None:
            shown_by[raw_id] = jpeg_id
            companions[jpeg_id] = (*companions.get(jpeg_id, ()), raw_path)
    return Pairs(frozenset(shown_by), companions, shown_by)


class RawPairs:
    """The library's current pairs, found again after a change. Thread-safe."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pairs: Pairs | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._pairs = None

    def current(self) -> Pairs:
        with self._lock:
            if self._pairs is None:
                self._pairs = find_pairs(self._store.paths_with_suffixes(RAW_SUFFIXES | JPEG_SUFFIXES))
            return self._pairs
