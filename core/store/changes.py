"""`LibraryChanges`: the record every write returns, naming the photos it touched by id.

It drives everything derived from the library without re-reading it: the FAISS cache, the watcher,
the GUI's models (which insert, remove and update rows by id) and progress lines. Records of
neighbouring writes merge, so a burst of batches reaches a view as one record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LibraryChanges:
    added: tuple[int, ...] = ()  # photo ids new to the library
    removed: tuple[int, ...] = ()  # photo ids gone from it
    moved: tuple[int, ...] = ()  # same photo (id and vector), new path: renamed or moved
    updated: tuple[int, ...] = ()  # edited, newly indexed, unreadable, offline or back online
    folders: bool = False  # the folder list or a folder's state changed

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.moved or self.updated or self.folders)

    def merged(self, later: LibraryChanges) -> LibraryChanges:
        """This record followed by `later`, as one. A photo added then removed within the two was never
        seen, so it is in neither list; an id removed then added again (SQLite may reuse the highest id)
        is in both, and views apply removals before additions."""
        vanished = set(self.added) & set(later.removed)
        removed = set(self.removed) | (set(later.removed) - vanished)  # a reused id's first photo stays gone
        added = (set(self.added) - vanished) | set(later.added)
        fresh = removed | added | vanished  # views drop or re-read these whole

        def rest(*ids: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(sorted({i for part in ids for i in part} - fresh))

        return LibraryChanges(
            added=tuple(sorted(added)),
            removed=tuple(sorted(removed)),
            moved=rest(self.moved, later.moved),
            updated=rest(self.updated, later.updated),
            folders=self.folders or later.folders,
        )
