"""What the `Library` facade answers with: typed, immutable records for front ends. `Photo`, `Folder`
and `Counts` are the store's own records, handed on from here so front ends never import the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.embedding.precision_verdict import CandidateCheck, PrecisionVerdict
from core.imaging.formats import skip_reason
from core.indexing.pipeline import IndexReport
from core.indexing.scanner import ScanReport
from core.library.settings import Settings
from core.store.database import Counts, Folder, Photo

__all__ = ["CandidateCheck", "Counts", "Folder", "FolderStatus", "LibraryStatus", "ModelInfo", "Photo",
           "PrecisionStatus", "PrecisionVerdict", "SearchResult", "SettingsChange", "UpdateReport"]


@dataclass(frozen=True)
class SearchResult:
    photo_id: int
    path: str
    score: float  # cosine similarity, 1.0 = identical
    width: int | None
    height: int | None
    taken_at: float | None
    companions: tuple[str, ...] = ()  # the RAW of a RAW+JPEG pair shown by this JPEG (core.library.raw_pairs)
    match: float | None = None  # text searches: the model's probability that it matches (core.library.searching)


@dataclass(frozen=True)
class FolderStatus:
    path: str
    online: bool
    photos: int
    indexed: int
    failed: int


@dataclass(frozen=True)
class PrecisionStatus:
    """The active model's precision and the evidence for it (core.library.precision)."""

    in_use: str | None  # what the model runs at; None: not known yet (no check, model not loaded)
    requested: str | None  # the user's explicit precision, or None: the check chooses
    requested_by: str  # "--precision", "settings", "LOOKALIKE_PRECISION" or ""
    verdict: PrecisionVerdict | None  # the newest check for this model
    warning: str | None  # an explicit precision that failed the check
    reembedding: int  # photos whose vectors wait to be made again at a precision that passed

    def describe(self) -> str:
        """In words, for `status` and Preferences."""
        if self.verdict is None:
            asked = f"{self.requested} (set by {self.requested_by}); " if self.requested else ""
            return f"{asked}not checked yet: the check runs before the first photos are embedded"
        words = self.verdict.describe(self.in_use or self.verdict.chosen)
        if self.requested:
            words = f"{words} (set by {self.requested_by}; the check chose {self.verdict.chosen})"
        if self.reembedding:
            words += f"; re-embedding {self.reembedding:,} photos made at a precision that failed"
        return words


@dataclass(frozen=True)
class LibraryStatus:
    data_dir: str
    model: str
    folders: list[FolderStatus]
    counts: Counts
    failures: list[tuple[str, str]]  # (path, reason), skipped formats included: `counts.failed` counts them
    index_bytes: int
    database_bytes: int
    precision: PrecisionStatus | None = None

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """The failures that are files in a format we know but do not index (.psd, .jxl...): the walk
        lists them as failed photos so a user learns why they are missing (core.imaging.formats)."""
        return [(path, reason) for path, reason in self.failures if reason == skip_reason(path)]


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
