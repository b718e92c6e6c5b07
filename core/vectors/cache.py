"""`IndexCache`: one model's FAISS index, a cache derived from SQLite.

On first use the index file is loaded if its stamp agrees with SQLite (model, generation, count), else
it is rebuilt from the vectors in SQLite and saved. Every write to the library updates it in memory;
`save()` writes it atomically, stamped with the generation it matches. Callers hold the library's
writer lock around changes, so SQLite and the index never disagree while a save runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import StorageError
from core.store.database import Store
from core.store.scan_plan import AppliedPlan
from core.vectors.index import IndexFileError, VectorIndex


def index_file(data_dir: Path, model_key: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_key)
    return data_dir / "index" / f"{safe}.faiss"


class IndexCache:
    def __init__(self, store: Store, data_dir: Path, model_key: str, readonly: bool,
                 lock: threading.RLock) -> None:
        self.store, self.model_key, self.readonly, self._lock = store, model_key, readonly, lock
        self.path = index_file(data_dir, model_key)
        self.loaded: VectorIndex | None = None
        self._file_generation: int | None = None  # the SQLite generation the file on disk matches
        self._loaded_generation: int | None = None  # the generation `loaded` was read at

    def get(self) -> VectorIndex | None:
        """The index, loaded or rebuilt on first use; None while this model has embedded nothing."""
        with self._lock:
            # A reader's index goes stale when the writing process changes the library.
            if self.readonly and self._loaded_generation != self.store.generation(self.model_key):
                self.loaded = None
            if self.loaded is not None:
                return self.loaded
            dim = self.store.model_dim(self.model_key)
            if dim is None:
                return None
            self._loaded_generation = self.store.generation(self.model_key)
            self.loaded = self._load_file(dim) or self._rebuild(dim)
            return self.loaded

    def add(self, ids: Sequence[int]) -> None:
        """Put these photos' current vectors in the index (those that have one and are online)."""
        if self.loaded is None or not ids:
            return  # not loaded: it will be checked against SQLite when first needed
        got, vecs = self.store.vectors_for_photos(self.model_key, self.loaded.dim, ids)
        if len(got):
            self.loaded.add(got, vecs)

    def remove(self, ids: Sequence[int]) -> None:
        if self.loaded is not None and ids:
            self.loaded.remove(np.asarray(ids, dtype=np.int64))

    def apply(self, applied: AppliedPlan) -> None:
        """Follow a scan the store applied: gone, offline and edited photos leave (an edited one returns
        once embedded again), new and back-online ones join if their content has a vector. A moved
        photo is in neither list: same id, same vector, so its entry stays as it is."""
        self.remove(applied.index_remove)
        self.add(applied.index_add)

    def save(self) -> None:
        """Persist the index atomically, stamped with the SQLite generation it matches."""
        if self.readonly:
            return
        with self._lock:
            if self.loaded is None:
                return
            generation = self.store.generation(self.model_key)
            stamp = {"model": self.model_key, "generation": generation, "count": len(self.loaded)}
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.loaded.save(self.path, stamp)
            except OSError as exc:
                raise StorageError(
                    f"could not save the search index to {self.path}: {exc.strerror or exc}"
                ) from exc
            self._file_generation = generation

    def save_if_stale(self) -> None:
        """Save only when memory is ahead of the file (a scan that removed photos saves nothing)."""
        with self._lock:
            if self.loaded is not None and self._file_generation != self.store.generation(self.model_key):
                self.save()

    def _load_file(self, dim: int) -> VectorIndex | None:
        try:
            index, stamp = VectorIndex.load(self.path)
        except IndexFileError:
            return None
        fresh = (
            stamp.get("model") == self.model_key
            and stamp.get("generation") == self.store.generation(self.model_key)
            and index.dim == dim
            and len(index) == self.store.count_indexable(self.model_key)
        )
        if not fresh:
            return None
        self._file_generation = stamp.get("generation")
        return index

    def _rebuild(self, dim: int) -> VectorIndex:
        parts = list(self.store.indexable(self.model_key, dim))
        ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        vecs = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, dim), np.float32)
        del parts
        self.loaded = VectorIndex.build(dim, ids, vecs)
        self.save()
        return self.loaded
