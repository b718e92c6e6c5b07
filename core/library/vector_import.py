"""Attaching vectors made on another machine (`lookalike import-vectors`, #18) without embedding again.

Nothing is written unless all of it checks out: the model (storage key, pinned revision, dimension), the
preprocessing, the precision (fp32, or one this library's precision check passed), and a spot check: a
seeded sample of the photos it would attach is embedded here again and each must come out at cosine >=
MIN_COSINE to its imported vector. Then one transaction records hashes on photos that have none and
stores vectors where (hash, model) has none; an existing vector is never replaced. Reading the shards
(Parquet) is core.cluster's; this module sees plain rows.

Memory: the vectors kept for attaching are those of this library's photos only (~1.5 KB each at 768 dims).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.embedding.model_files import fetch_model
from core.embedding.preprocess import preprocessing_version
from core.embedding.registry import resolve_model
from core.errors import LookalikeError
from core.indexing.pipeline import prepare
from core.store import transfer
from core.store.database import decode_vectors
from core.tasks.progress import TaskHandle

if TYPE_CHECKING:
    from core.embedding.embedder import Embedder
    from core.library.facade import Library

# Re-embedding here at fp32 against fp16-stored fp32 vectors gives >= 0.9999 on the same model; a model with
# other weights or other preprocessing lands far below (0.2-0.9 with the tiny test models). 0.99 leaves room
# for another device's arithmetic (a GPU's kernels) while catching any real mismatch.
MIN_COSINE = 0.99
SAMPLE_SIZE = 16  # ~1 s of CPU on a base model: cheap next to the hours an import saves
SAMPLE_SEED = 18  # seeded: the same folders are always checked on the same photos


class ImportRefused(LookalikeError):
    """The vectors cannot be attached to this library; the message says what differs. Nothing was written."""


@dataclass(frozen=True)
class VectorRow:
    path: str  # where the photo is on THIS machine (after --path-map)
    size: int
    mtime_ns: int
    hash: str | None
    vector: bytes | None  # float16 little-endian, as the library stores it
    error: str | None


@dataclass(frozen=True)
class VectorBatch:
    """Rows of vectors made elsewhere and what they were made with (core.cluster.shard_format.VectorsInfo)."""

    model: str
    revision: str | None
    dim: int
    preprocessing: str
    precision: str
    rows: tuple[VectorRow, ...]


@dataclass
class ImportReport:
    imported: int = 0  # vectors stored
    matched_photos: int = 0  # library photos that gained a vector
    unknown_hashes: int = 0  # rows matching no photo of this library
    rejected: int = 0  # rows with an error, or whose hash contradicts the library's for that file

    def summary(self) -> dict[str, int]:
        return {"imported": self.imported, "matched_photos": self.matched_photos,
                "unknown_hashes": self.unknown_hashes, "rejected": self.rejected}


@dataclass
class _Plan:
    report: ImportReport = field(default_factory=ImportReport)
    hashes: list[tuple[int, str, int, int]] = field(default_factory=list)  # photo id, hash, size, mtime_ns
    vectors: dict[str, bytes] = field(default_factory=dict)
    checkable: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # local path -> (hash, vector)


def import_batch(
    library: Library, batch: VectorBatch, handle: TaskHandle, lock: threading.RLock,
    on_committed: Callable[[list[str]], None],
) -> ImportReport:
    """Check `batch` against `library`, then attach it in one transaction (see the module's docstring)."""
    check_model(library, batch)
    plan = _plan(library, batch.rows)
    if not plan.hashes and not plan.vectors:
        return plan.report
    check_sample(library.embedder(), batch.dim, plan.checkable, handle)
    with lock:
        with library.store.write() as conn:
            recorded, stored = transfer.attach(
                conn, library.model_key, batch.dim, batch.precision, plan.hashes, list(plan.vectors.items())
            )
        gained = {pid for pid, _ in recorded} | set(library.store.ids_with_hashes(stored))
        plan.report.imported, plan.report.matched_photos = len(stored), len(gained)
        on_committed(sorted({h for _, h in recorded} | set(stored)))
    return plan.report


def check_model(library: Library, batch: VectorBatch) -> None:
    """ImportRefused naming each difference between what `batch` was made with and the library's model."""
    resolved = resolve_model(library.model_source)
    differs = _differences([("model", library.model_key, batch.model),
                                   ("revision", resolved.revision, batch.revision)])
    if not differs:
        mine = preprocessing_version(fetch_model(resolved))
        differs = _differences([("preprocessing", mine, batch.preprocessing)])
    if not differs:
        dim = library.store.model_dim(library.model_key) or library.embedder().dim
        differs = _differences([("dimension", dim, batch.dim)])
    if differs:
        raise ImportRefused(f"these vectors were made differently from this library's model: {'; '.join(differs)}. "
                            "Nothing was imported.")
    verdict = library.precision_status().verdict
    if batch.precision != "fp32" and (verdict is None or not verdict.passed(batch.precision)):
        why = "it has not run its precision check" if verdict is None else "its precision check did not pass it"
        raise ImportRefused(
            f"these vectors were made at {batch.precision}, and this library cannot vouch for {batch.precision} "
            f"on {library.model_key}: {why}. Make them at fp32, or import them on a machine whose check "
            "passed that precision. Nothing was imported."
        )


def _differences(pairs: Sequence[tuple[str, object, object]]) -> list[str]:
    return [f"{what} {theirs!r}, this library's {mine!r}" for what, mine, theirs in pairs if mine != theirs]


def _plan(library: Library, rows: Sequence[VectorRow]) -> _Plan:
    """What attaching `rows` would change, from one snapshot of the library."""
    usable = [r for r in rows if r.error is None and r.hash and r.vector is not None]
    with library.store.read() as conn:
        local = transfer.photos_at_paths(conn, (r.path for r in usable))
        known = transfer.paths_of_hashes(conn, (r.hash for r in usable if r.hash))
        have = transfer.hashes_with_vectors(conn, library.model_key, (r.hash for r in usable if r.hash))
    plan = _Plan(ImportReport(rejected=len(rows) - len(usable)))
    for row in usable:
        assert row.hash is not None and row.vector is not None
        photo = local.get(row.path)
        same_file = photo is not None and (photo.size, photo.mtime_ns) == (row.size, row.mtime_ns)
        if photo is not None and same_file and photo.hash not in (None, row.hash):
            plan.report.rejected += 1  # the library read this very file and found other content
            continue
        if photo is not None and same_file:
            path = photo.path
            if photo.hash is None:
                plan.hashes.append((photo.id, row.hash, row.size, row.mtime_ns))
                plan.checkable[path] = (row.hash, row.vector)
        elif row.hash in known:
            path = known[row.hash]
        else:
            plan.report.unknown_hashes += 1
            continue
        if row.hash not in have:
            plan.vectors.setdefault(row.hash, row.vector)
            plan.checkable.setdefault(path, (row.hash, row.vector))
    return plan


def check_sample(embedder: Embedder, dim: int, checkable: dict[str, tuple[str, bytes]], handle: TaskHandle) -> None:
    """Embed a seeded sample of the photos an import would attach, decoded exactly as indexing decodes
    them (core.indexing.pipeline.prepare); ImportRefused with the figures unless every one agrees."""
    paths = random.Random(SAMPLE_SEED).sample(sorted(checkable), min(SAMPLE_SIZE, len(checkable)))
    handle.start("checking a sample of the vectors", len(paths))
    preprocess = embedder.preprocessor()
    prepared = [prepare(i, path, embedder.image_size, preprocess) for i, path in enumerate(paths)]
    readable = [(p, path) for p, path in zip(prepared, paths, strict=True) if p.pixels is not None]
    if not readable:
        raise ImportRefused(f"none of the {len(paths)} sampled photos could be read to check the vectors "
                            f"against (e.g. {paths[0]}: {prepared[0].error}). Nothing was imported.")
    moved = [path for p, path in readable if p.hash != checkable[path][0]]
    if moved:
        raise ImportRefused(f"{len(moved)} of {len(readable)} sampled photos hold other content than the vectors "
                            f"say (e.g. {moved[0]}); is --path-map right? Nothing was imported.")
    fresh = embedder.embed_preprocessed([p.pixels for p, _ in readable])  # type: ignore[misc]
    fresh = fresh / np.linalg.norm(fresh, axis=1, keepdims=True)
    cosines = np.sum(fresh * decode_vectors([checkable[path][1] for _, path in readable], dim), axis=1)
    handle.advance(len(paths))
    low = int(np.sum(cosines < MIN_COSINE))
    if low:
        raise ImportRefused(
            f"the vectors do not match what this library's model makes of the same photos: {low} of "
            f"{len(cosines)} sampled photos below cosine {MIN_COSINE} (min {cosines.min():.4f}, median "
            f"{np.median(cosines):.4f}). Nothing was imported."
        )
