"""`Library`: the one front door to the engine, used by the command line and the desktop app alike.

Contract: every method may be called from any thread; writes are serialised on one lock (SQLite and
FAISS change together), searches run concurrently with indexing. Long operations take a `TaskHandle`
for progress, pause and cancel. Nothing here prints or imports Qt; failures are `LookalikeError`s.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
from filelock import FileLock, Timeout

from core.errors import LibraryBusyError, LibraryError, StorageError
from core.models import DEFAULT_MODEL, resolve_model
from core.paths import default_data_dir
from core.pipeline import IndexReport, Pipeline
from core.progress import TaskHandle
from core.scanner import ScanReport, scan
from core.store import Counts, Folder, Photo, Store
from core.vector_index import IndexFileError, VectorIndex

if TYPE_CHECKING:
    from PIL.Image import Image

    from core.embedder import Embedder

DB_NAME = "library.sqlite3"
LOCK_NAME = "writer.lock"


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
class LibraryChanges:
    """What a write changed, broadcast to subscribers; each view picks what it cares about."""

    added: tuple[int, ...] = ()  # photo ids new to the library
    removed: tuple[int, ...] = ()  # photo ids gone from it
    updated: tuple[int, ...] = ()  # moved, edited, newly indexed, offline or back online
    folders: bool = False  # the folder list or a folder's state changed


Subscriber = Callable[[LibraryChanges], None]


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


ImageSource: TypeAlias = "str | os.PathLike[str] | bytes | int | Image"


class Library:
    """A photo library in `data_dir`: folders, photos, vectors (SQLite) and a FAISS index per model."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        model: str | None = None,
        device: str = "auto",
        readonly: bool = False,
        workers: int | None = None,
        exclude: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.readonly = readonly
        self.device = device
        self.workers = workers
        self.exclude = list(exclude)
        self._lock = threading.RLock()  # one writer: SQLite and FAISS change together under it
        self._model_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._process_lock: FileLock | None = None
        self._subscribers: list[Subscriber] = []
        self._open_storage()
        chosen = model or os.environ.get("LOOKALIKE_MODEL")
        self.model_source = chosen or self.store.get_meta("model") or DEFAULT_MODEL
        self.model_key = resolve_model(self.model_source).key
        if chosen and not readonly:
            self.store.set_meta("model", chosen)  # `status` and `search` then default to it

    # -- lifecycle ------------------------------------------------------------------------------
    def _open_storage(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the library folder {self.data_dir}: {exc.strerror}") from exc
        if not self.readonly:
            self._process_lock = FileLock(str(self.data_dir / LOCK_NAME))
            try:
                self._process_lock.acquire(timeout=0)
            except Timeout:
                raise LibraryBusyError(
                    f"another Lookalike process is updating the library in {self.data_dir}; "
                    "close it first (searching from a second process works while it runs)"
                ) from None
        self.store = Store(self.data_dir / DB_NAME)

    def close(self) -> None:
        with self._lock:
            self.unload_model()
            self.store.close()
            if self._process_lock is not None:
                self._process_lock.release()
                self._process_lock = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- model ----------------------------------------------------------------------------------
    def embedder(self) -> Embedder:
        """The model, loaded on first use (seconds: torch is imported here, never at start-up)."""
        with self._model_lock:
            if self._embedder is None:
                from core.embedder import load_embedder

                self._embedder = load_embedder(self.model_source, device=self.device)
                if not self.readonly:
                    self.store.ensure_model(self._embedder.key, self._embedder.dim)
            return self._embedder

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    def unload_model(self) -> None:
        with self._model_lock:
            if self._embedder is not None:
                self._embedder.unload()
                self._embedder = None

    def set_model(self, model: str) -> None:
        """Switch the active model; its missing vectors are made by the next `update()`."""
        key = resolve_model(model).key
        with self._lock:
            self.unload_model()
            self.model_source, self.model_key = model, key
            self._index = None
            if not self.readonly:
                self.store.set_meta("model", model)

    # -- change notifications -------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(LibraryChanges)` after every write. It runs on the writing thread (a worker,
        the watcher's thread...): a GUI must hop to its own thread. Returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _notify(self, changes: LibraryChanges) -> None:
        if not (changes.added or changes.removed or changes.updated or changes.folders):
            return
        for callback in list(self._subscribers):
            callback(changes)

    # -- folders --------------------------------------------------------------------------------
    def folders(self) -> list[Folder]:
        return self.store.folders()

    def add_folder(self, path: str | os.PathLike[str]) -> Folder:
        self._require_writable()
        folder = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if not os.path.isdir(folder):
            raise LibraryError(f"{folder} is not a folder")
        added = self.store.add_folder(folder)
        self._notify(LibraryChanges(folders=True))
        return added

    def remove_folder(self, path: str | os.PathLike[str]) -> None:
        """Forget a folder and its photos' vectors. The photos themselves are never touched."""
        self._require_writable()
        folder = os.path.abspath(os.path.expanduser(os.fspath(path)))
        match = next((f for f in self.store.folders() if f.path == folder), None)
        if match is None:
            raise LibraryError(f"{folder} is not a library folder")
        with self._lock:
            removed = self.store.remove_folder(match.id)
            if self._index is not None and removed:
                self._index.remove(np.asarray(removed, dtype=np.int64))
            self.store.delete_orphan_vectors()
        self._notify(LibraryChanges(removed=tuple(removed), folders=True))

    # -- updating -------------------------------------------------------------------------------
    def scan(self, handle: TaskHandle | None = None) -> ScanReport:
        """Bring the photo table in line with the disk; cheap when little changed (no model load)."""
        self._require_writable()
        with self._lock:
            report = scan(self.store, handle, self.exclude)
            self._apply_to_index(report)
        self._notify(LibraryChanges(
            tuple(report.added_ids), tuple(report.removed_ids), tuple(report.updated_ids),
            folders=bool(report.offline or report.back_online or report.added or report.removed),
        ))
        return report

    def index(self, handle: TaskHandle | None = None) -> IndexReport:
        """Embed every photo that has no vector for the active model yet."""
        self._require_writable()
        handle = handle or TaskHandle()
        pending = self.store.pending_photos(self.model_key)
        if not pending:
            handle.start("indexing", 0)
            return IndexReport()
        embedder = self.embedder()
        self._ensure_index()
        pipeline = Pipeline(self.store, embedder, handle, self._on_committed, self.workers, lock=self._lock)
        report = pipeline.run(pending)
        self.save_index()
        return report

    def update(self, handle: TaskHandle | None = None) -> UpdateReport:
        """Scan, then index what is missing, then drop vectors no photo uses any more."""
        report = UpdateReport(scan=self.scan(handle))
        report.index = self.index(handle)
        if not report.index.cancelled:
            self.store.delete_orphan_vectors()
        return report

    def _on_committed(self, hashes: list[str]) -> None:
        ids = self.store.ids_with_hashes(hashes)
        self._add_to_index(ids)
        self._notify(LibraryChanges(updated=tuple(ids)))

    def _apply_to_index(self, report: ScanReport) -> None:
        if self._index is None:
            return  # not loaded: it will be checked against SQLite when first needed
        if report.index_remove:
            self._index.remove(np.asarray(report.index_remove, dtype=np.int64))
        self._add_to_index(report.index_add)

    def _add_to_index(self, ids: Sequence[int]) -> None:
        if self._index is None or not ids:
            return
        got, vecs = self.store.vectors_for_photos(self.model_key, self._index.dim, ids)
        if len(got):
            self._index.add(got, vecs)

    # -- the FAISS cache ------------------------------------------------------------------------
    def index_path(self, key: str | None = None) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in (key or self.model_key))
        return self.data_dir / "index" / f"{safe}.faiss"

    def _ensure_index(self) -> VectorIndex | None:
        """Load the index file if it agrees with SQLite, else rebuild it from SQLite (and save it)."""
        with self._lock:
            if self._index is not None:
                return self._index
            dim = self.store.model_dim(self.model_key)
            if dim is None:
                return None  # this model has never embedded anything in this library
            self._index = self._load_index_file(dim) or self._rebuild_index(dim)
            return self._index

    def _load_index_file(self, dim: int) -> VectorIndex | None:
        try:
            index, stamp = VectorIndex.load(self.index_path())
        except IndexFileError:
            return None
        fresh = (
            stamp.get("model") == self.model_key
            and stamp.get("generation") == self.store.generation(self.model_key)
            and index.dim == dim
            and len(index) == self.store.count_indexable(self.model_key)
        )
        return index if fresh else None

    def _rebuild_index(self, dim: int) -> VectorIndex:
        parts = list(self.store.indexable(self.model_key, dim))
        ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        vecs = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, dim), np.float32)
        del parts
        index = VectorIndex.build(dim, ids, vecs)
        self._index = index
        if not self.readonly:
            self.save_index()
        return index

    def save_index(self) -> None:
        """Persist the index atomically, stamped with the SQLite generation it matches."""
        if self.readonly:
            return
        with self._lock:
            if self._index is None:
                return
            stamp = {
                "model": self.model_key,
                "generation": self.store.generation(self.model_key),
                "count": len(self._index),
            }
            path = self.index_path()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._index.save(path, stamp)
            except OSError as exc:
                raise StorageError(f"could not save the search index to {path}: {exc.strerror or exc}") from exc

    # -- searching ------------------------------------------------------------------------------
    def search_image(
        self, source: ImageSource, k: int = 20, exclude_self: bool = False
    ) -> list[SearchResult]:
        """Look-alikes of a library photo (id or path), an image file anywhere, image bytes or a PIL image."""
        vec, self_id = self._query_vector(source)
        exclude = {self_id} if exclude_self and self_id is not None else set()
        return self._search(vec, k, exclude)

    def search_text(self, query: str, k: int = 20) -> list[SearchResult]:
        query = query.strip()
        if not query:
            raise LibraryError("the text query is empty")
        return self._search(self.embedder().embed_texts([query])[0], k, set())

    def _search(self, vec: np.ndarray, k: int, exclude: set[int]) -> list[SearchResult]:
        index = self._ensure_index()
        if index is None:
            return []
        hits = index.search(np.asarray(vec, dtype=np.float32), k, exclude=exclude)
        photos = self.store.photos_by_ids(pid for pid, _ in hits)
        return [
            SearchResult(pid, p.path, float(score), p.width, p.height, p.taken_at)
            for pid, score in hits
            if (p := photos.get(pid)) is not None
        ]

    def _query_vector(self, source: ImageSource) -> tuple[np.ndarray, int | None]:
        from core.imageio import open_image, open_image_bytes

        photo = self._library_photo(source)
        dim = self.store.model_dim(self.model_key)
        if photo is not None and dim is not None:
            got, vecs = self.store.vectors_for_photos(self.model_key, dim, [photo.id])
            if len(got):
                return vecs[0], photo.id
        embedder = self.embedder()
        if isinstance(source, bytes):
            image = open_image_bytes(source, target=embedder.image_size)
        elif isinstance(source, (str, os.PathLike)):
            image = open_image(source, target=embedder.image_size)
        elif isinstance(source, int):
            raise LibraryError(f"photo {source} is not in the library or not indexed yet")
        else:
            image = source.convert("RGB")
        return embedder.embed_images([image])[0], photo.id if photo else None

    def _library_photo(self, source: ImageSource) -> Photo | None:
        if isinstance(source, bool):
            return None
        if isinstance(source, int):
            return self.store.photo(source)
        if isinstance(source, (str, os.PathLike)):
            return self.store.photo_by_path(os.path.abspath(os.fspath(source)))
        return None

    # -- reading --------------------------------------------------------------------------------
    def photo(self, photo_id: int) -> Photo | None:
        return self.store.photo(photo_id)

    def photos(self, offset: int = 0, limit: int | None = None) -> list[Photo]:
        return self.store.list_photos(self.model_key, offset, limit)

    def status(self) -> LibraryStatus:
        counts = self.store.counts(self.model_key)
        per_folder = self.store.folder_counts(self.model_key)
        folders = [
            FolderStatus(f.path, f.online, *per_folder.get(f.id, (0, 0, 0))) for f in self.store.folders()
        ]
        index_file = self.index_path()
        db_bytes = sum(
            (self.data_dir / n).stat().st_size
            for n in (DB_NAME, DB_NAME + "-wal")
            if (self.data_dir / n).exists()
        )
        return LibraryStatus(
            data_dir=str(self.data_dir),
            model=self.model_key,
            folders=folders,
            counts=counts,
            failures=[(p.path, p.error or "unknown error") for p in self.store.failures()],
            index_bytes=index_file.stat().st_size if index_file.exists() else 0,
            database_bytes=db_bytes,
        )

    def _require_writable(self) -> None:
        if self.readonly:
            raise LibraryError("this library was opened read-only")
