"""`export-manifest`: the photos a library still needs vectors for, as one Parquet file (MANIFEST_COLUMNS).

The list comes from the photo table only: path, size and mtime as the last scan recorded them, and the
content hash where a read for another model (or an earlier run) learnt it. No photo's bytes are read
here, so listing a 5-million-photo archive costs a query, not a pass over the disks. The caller scans
first (through the owner's write queue: core.library.intents.Scan), so the table matches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.cluster.shard_format import write_manifest
from core.embedding.registry import resolve_model
from core.library.facade import Library
from core.store.database import Photo


@dataclass(frozen=True)
class ManifestReport:
    path: str
    model: str  # the storage key the photos lack vectors for
    photos: int
    known_hashes: int  # rows whose content hash the library already knew
    everything: bool  # --all: every readable photo, vectors or not

    def summary(self) -> dict[str, Any]:
        return {"manifest": self.path, "model": self.model, "photos": self.photos,
                "known_hashes": self.known_hashes, "all": self.everything}


def manifest_photos(library: Library, model: str | None = None, everything: bool = False) -> tuple[str, list[Photo]]:
    """(model key, photos): readable photos without a vector for `model` (default: the library's model),
    or every readable photo with `everything`. Only the key of `model` is needed: nothing is loaded, and
    the library's own model setting is left as it is."""
    key = resolve_model(model).key if model else library.model_key
    if everything:
        photos = [p for p in library.store.list_photos(key) if p.status == "ok"]
        return key, sorted(photos, key=lambda p: p.id)
    # No print version and no stale precisions: only photos lacking a vector for the model at all.
    return key, library.store.pending_photos(key)


def export_manifest(library: Library, out: Path, model: str | None = None, everything: bool = False) -> ManifestReport:
    key, photos = manifest_photos(library, model, everything)
    write_manifest(Path(out), [manifest_row(p) for p in photos])
    return ManifestReport(str(out), key, len(photos), sum(1 for p in photos if p.hash), everything)


def manifest_row(photo: Photo) -> dict[str, Any]:
    return {"path": photo.path, "size": photo.size, "mtime_ns": photo.mtime_ns, "hash": photo.hash}
