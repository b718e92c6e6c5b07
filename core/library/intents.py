"""Write intents: what a front end (the app, a command, the watcher, a handed-off request) asks of the
library. They are queued on the one `WriteQueue` and run there, in order, one at a time.

An intent says what, not how: `run(library, handle)` does it through the `Library` facade. Neighbours
merge (`absorb`) while they wait, so a burst of watcher events or a double-clicked "Update" costs one
run: a full update covers any targeted refresh, refreshes join their paths, moves join their pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.duplicates.cleanup import CleanupPlan
    from core.library.facade import Library
    from core.library.vector_import import VectorBatch
    from core.tasks.progress import TaskHandle


@dataclass(frozen=True)
class Intent:
    label = "working"  # what the status line says while it runs

    def run(self, library: Library, handle: TaskHandle) -> Any:
        raise NotImplementedError

    def absorb(self, later: Intent) -> Intent | None:
        """One intent doing both this and `later` (queued right after it), or None when they can't merge."""
        return None

    def follow_up(self, result: Any) -> Intent | None:
        """What must run after this one, given its result (queued behind whatever waits already)."""
        return None

    def supersedes(self, running: Intent) -> bool:
        """True when queuing this makes `running` pointless: the queue cancels it (what it committed
        stays) so this one runs now rather than after it."""
        return False


@dataclass(frozen=True)
class AddFolder(Intent):
    path: str
    label = "adding a folder"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.add_folder(self.path)

    def follow_up(self, result: Any) -> Intent | None:
        return Update(("folder added",))


@dataclass(frozen=True)
class Scan(Intent):
    """Add these folders (those not in the library yet) and bring the photo table in line with the disk,
    without embedding anything (`Library.scan`): `export-manifest` lists what is left to embed elsewhere."""

    folders: tuple[str, ...] = ()
    label = "scanning"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        known = {f.path for f in library.folders()}
        for folder in self.folders:
            if folder not in known:
                library.add_folder(folder)
        return library.scan(handle)


@dataclass(frozen=True)
class RemoveFolder(Intent):
    path: str
    label = "removing a folder"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.remove_folder(self.path)


@dataclass(frozen=True)
class Update(Intent):
    """Scan every folder, embed what is missing, drop vectors nothing uses (`Library.update`)."""

    reasons: tuple[str, ...] = ()
    label = "indexing"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.update(handle)

    def absorb(self, later: Intent) -> Intent | None:
        if isinstance(later, Update):
            return Update(self.reasons + tuple(r for r in later.reasons if r not in self.reasons))
        if isinstance(later, Refresh):
            return self  # a full scan that has not started yet finds those paths too
        return None


@dataclass(frozen=True)
class Refresh(Intent):
    """Apply what changed at these paths only, then embed what is new (`Library.refresh`)."""

    paths: frozenset[str] = field(default_factory=frozenset)
    label = "indexing changes"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        # The FAISS file is saved by a SaveIndex the watcher queues at most once a second, not per batch.
        return library.refresh(sorted(self.paths), handle, save=False)

    def absorb(self, later: Intent) -> Intent | None:
        if isinstance(later, Refresh):
            return Refresh(self.paths | later.paths)
        if isinstance(later, Update):
            return later  # the full scan covers these paths too
        return None


@dataclass(frozen=True)
class Moves(Intent):
    """Follow renames the OS reported, by path: no hashing, no embedding (`Library.apply_moves`)."""

    pairs: tuple[tuple[str, str], ...] = ()
    label = "following renames"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.apply_moves(list(self.pairs))

    def absorb(self, later: Intent) -> Intent | None:
        return Moves(self.pairs + later.pairs) if isinstance(later, Moves) else None


@dataclass(frozen=True)
class SaveIndex(Intent):
    label = "saving the search index"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        library.save_index()

    def absorb(self, later: Intent) -> Intent | None:
        return self if isinstance(later, SaveIndex) else None


@dataclass(frozen=True)
class ApplySettings(Intent):
    """Set some settings on top of the current ones when it runs (so two queued changes of different
    keys both hold), save and apply them (`Library.apply_settings`); returns the `SettingsChange`."""

    values: tuple[tuple[str, Any], ...]  # (Settings field, validated value)
    label = "applying settings"

    @classmethod
    def of(cls, **values: Any) -> ApplySettings:
        return cls(tuple(sorted(values.items())))

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.apply_settings(replace(library.settings, **dict(self.values)))

    def absorb(self, later: Intent) -> Intent | None:
        if isinstance(later, ApplySettings):
            return ApplySettings(tuple(sorted({**dict(self.values), **dict(later.values)}.items())))
        return None

    def follow_up(self, result: Any) -> Intent | None:
        return Update(("settings changed",)) if result.needs_update else None

    def supersedes(self, running: Intent) -> bool:
        # An index run with the old model would go on for hours on a large library while the user waits
        # for the model they chose. Cancelling it loses nothing: its vectors are kept per model, and the
        # Update that follows a model change scans everything a cancelled Refresh would have applied.
        return "model" in dict(self.values) and isinstance(running, (Update, Refresh))


@dataclass(frozen=True)
class DecideDuplicates(Intent):
    """Remember a decision about photos the duplicate finder grouped (`Library.decide_duplicates`)."""

    hashes: tuple[str, ...]
    decision: str  # "distinct" (not duplicates) or "kept" (reviewed: all stay)
    label = "remembering a duplicates decision"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.decide_duplicates(self.hashes, self.decision)


@dataclass(frozen=True)
class TrashDuplicates(Intent):
    """Move duplicate groups' non-keepers to the system trash (`Library.trash_duplicates`)."""

    plan: CleanupPlan
    label = "moving duplicates to the trash"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.trash_duplicates(self.plan)


@dataclass(frozen=True)
class ImportVectors(Intent):
    """Attach vectors made on another machine, once they check out (`Library.import_vectors`)."""

    batch: VectorBatch
    label = "importing vectors"

    def run(self, library: Library, handle: TaskHandle) -> Any:
        return library.import_vectors(self.batch, handle)
