"""What the `Library` facade answers with: typed, immutable records for front ends. `Photo`, `Folder`
and `Counts` are the store's own records, handed on from here so front ends never import the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.indexing.pipeline import IndexReport
from core.indexing.scanner import ScanReport
from core.library.settings import Settings
from core.store.database import Counts, Folder, Photo

__all__ = ["Counts", "Folder", "FolderStatus", "LibraryStatus", "ModelInfo", "Photo", "SearchResult",
           "SettingsChange", "UpdateReport"]


@dataclass(frozen=True)
class SearchResult:
    photo_id: int
    path: str
    score: float  # cosine similarity, 1.0 = identical
    width: int | None
    height: int | None
    taken_at: float | None


@dataclass(frozen=True)
class FolderStatus:
    path: str
    online: bool
    photos: int
    indexed: int
    failed: int


@dataclass(frozen=True)
class LibraryStatus:
    data_dir: str
    model: str
    folders: list[FolderStatus]
    counts: Counts
    failures: list[tuple[str, str]]  # (path, reason)
    index_bytes: int
    database_bytes: int


@dataclass(frozen=True)
class ModelInfo:
    key: str  # storage key
    source: str  # what to pass as `model` to load it (a registry key or a local folder)
    indexed: int  # photos with a vector from this model
    active: bool


@dataclass
class UpdateReport:
    scan: ScanReport = field(default_factory=ScanReport)
    index: IndexReport = field(default_factory=IndexReport)

    def summary(self) -> dict[str, int]:
        return {
            "scanned": self.scan.scanned,
            "embedded": self.index.embedded,
            "reused": self.scan.moved + self.index.reused,
            "removed": self.scan.removed,
            "failed": self.index.failed,
        }


@dataclass(frozen=True)
class SettingsChange:
    """Which settings a change touched, so the owner knows what to redo."""

    model: bool = False
    device: bool = False
    precision: bool = False
    exclude: bool = False

    @classmethod
    def between(cls, old: Settings, new: Settings) -> SettingsChange:
        return cls(old.model != new.model, old.device != new.device, old.precision != new.precision,
                   old.exclude != new.exclude)

    @property
    def needs_update(self) -> bool:
        """A new model has vectors to make; new exclusions have photos to drop or bring back."""
        return self.model or self.exclude
