"""`Library`: the one front door to the engine, used by the command line and the desktop app alike.

Contract: every method may be called from any thread; writes are serialised on one lock (SQLite and
FAISS change together), searches run concurrently with indexing. Long operations take a `TaskHandle`
for progress, pause and cancel. Nothing here prints or imports Qt; failures are `LookalikeError`s.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from filelock import FileLock

from core.duplicates.candidates import Candidates
from core.duplicates.cleanup import CleanupPlan, TrashReport
from core.duplicates.records import DEFAULT_THRESHOLD, DEFAULT_TIER, DuplicateGroup
from core.embedding.model_slot import ModelSlot
from core.embedding.registry import DEFAULT_MODEL, resolve_model
from core.errors import LibraryError, StorageError
from core.files.paths import default_data_dir
from core.imaging.pixel_print import PRINT_VERSION
from core.indexing.pipeline import IndexReport, Pipeline
from core.indexing.scanner import ScanReport, move_paths, scan, scan_paths
from core.library import searching
from core.library.browsing import listed_photos
from core.library.duplicates import LibraryDuplicates
from core.library.facts import read_missing_facts
from core.library.filters import PhotoFilter
from core.library.model_peers import ModelPeers
from core.library.precision import PrecisionChoice
from core.library.query_images import ImageSource
from core.library.raw_pairs import Pairs, RawPairs
from core.library.records import (
    LibraryStatus,
    ModelInfo,
    PrecisionStatus,
    SearchResult,
    SettingsChange,
    UpdateReport,
)
from core.library.searching import SearchAnswer, SearchQuery
from core.library.settings import Settings
from core.library.status_report import library_status
from core.library.vector_import import ImportReport, VectorBatch, import_batch
from core.library.writer_lock import acquire_writer_lock
from core.store.changes import LibraryChanges
from core.store.database import Folder, Photo, Store
from core.tasks.progress import TaskHandle
from core.vectors.cache import IndexCache, index_file

if TYPE_CHECKING:
    from core.embedding.embedder import Embedder

DB_NAME = "library.sqlite3"

Subscriber = Callable[[LibraryChanges], None]


@dataclass(frozen=True)
class _ActiveModel:
    source: str  # what loads it: a registry key or a local folder
    key: str  # its storage key
    slot: ModelSlot
    cache: IndexCache


def _auto_is_none(precision: str) -> str | None:
    return None if precision == "auto" else precision


class Library:
    """A photo library in `data_dir`: folders, photos, vectors (SQLite) and a FAISS index per model."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        model: str | None = None,
        device: str | None = None,
        readonly: bool = False,
        workers: int | None = None,
        exclude: Sequence[str] | None = None,
        precision: str | None = None,
        idle_unload_s: float | None = None,
        lock_timeout_s: float = 0,
    ) -> None:
        """Open (or create) the library in `data_dir`. Its settings (core.library.settings) decide the
        model, device, precision and exclusions; an argument given here overrides one for this process
        only, except `model` (or LOOKALIKE_MODEL) on a writable library, which becomes its model.
        A writer waits up to `lock_timeout_s` (-1: for ever) while another process owns the library."""
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.readonly = readonly
        self.workers = workers
        self._idle_unload_s = idle_unload_s  # the model (~0.4-1.5 GB) is freed after this long unused
        self._lock = threading.RLock()  # one writer: SQLite and FAISS change together under it
        self._process_lock: FileLock | None = None
        self._subscribers: list[Subscriber] = []
        self._peers = ModelPeers(
            lambda model: Library(self.data_dir, model=model, device=self.device, readonly=True))
        self._open_storage(lock_timeout_s)
        try:
            self.settings = self._initial_settings(model or os.environ.get("LOOKALIKE_MODEL"))
            self.device = device or self.settings.device
            # The user's explicit precision (this argument, else the settings; LOOKALIKE_PRECISION below
            # both); None: the precision check chooses (core.library.precision).
            self.precision = precision or _auto_is_none(self.settings.precision)
            self._pairs = RawPairs(self.store)
            self._duplicates = LibraryDuplicates(self.store, self._pairs)
            self._passing = searching.PassingIds(self.store)
            self._precisions = PrecisionChoice(self.store, readonly, self.precision,
                                               "--precision" if precision else "settings", self.device)
            self.exclude = list(self.settings.exclude if exclude is None else exclude)
            self._active = self._new_active(self.settings.model or DEFAULT_MODEL)
        except BaseException:
            # A library that failed to open (a full disk, an unknown model) must not keep the writer lock
            # until the garbage collector finds it: the user's next attempt would be refused as busy.
            self._close_storage()
            raise

    # -- lifecycle ------------------------------------------------------------------------------
    def _open_storage(self, lock_timeout_s: float = 0) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the library folder {self.data_dir}: {exc.strerror}") from exc
        if not self.readonly:
            self._process_lock = acquire_writer_lock(self.data_dir, lock_timeout_s)
        try:
            self.store = Store(self.data_dir / DB_NAME)
        except BaseException:
            self._release_process_lock()
            raise

    def _initial_settings(self, chosen: str | None) -> Settings:
        """The saved settings; a model chosen when opening becomes the library's model (saved when
        writable). The model used to live in SQLite's meta table: a library from then adopts it."""
        settings = Settings.load(self.data_dir)
        model = chosen or settings.model or self.store.get_meta("model")
        if model != settings.model:
            resolve_model(model or DEFAULT_MODEL)  # a clear ModelError for an unknown model, before anything is saved
            settings = replace(settings, model=model)
            if not self.readonly:
                settings.save(self.data_dir)
        return settings

    def _close_storage(self) -> None:
        self.store.close()
        self._release_process_lock()

    def _release_process_lock(self) -> None:
        if self._process_lock is not None:
            self._process_lock.release()
            self._process_lock = None

    def close(self) -> None:
        self._peers.close()
        with self._lock:
            self.unload_model()
            self._close_storage()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- model (loading and idle unloading: core.embedding.model_slot) ------------------------------------
    def embedder(self, download_progress: Callable[[int, int], None] | None = None) -> Embedder:
        """The model, loaded on first use (seconds: torch is imported here, never at start-up).

        `download_progress(done_bytes, total_bytes)` is called on download threads on a first run."""
        return self._model.get(download_progress)

    def _new_active(self, source: str) -> _ActiveModel:
        key = resolve_model(source).key
        slot = ModelSlot(lambda progress: self._load_embedder(source, progress), self._idle_unload_s)
        return _ActiveModel(source, key, slot, IndexCache(self.store, self.data_dir, key, self.readonly, self._lock))

    def _load_embedder(self, source: str, download_progress: Callable[[int, int], None] | None) -> Embedder:
        from core.embedding.embedder import load_embedder

        plan = self._precisions.plan(source, active=source == self.model_source)
        embedder = load_embedder(
            source, device=plan.device, precision=plan.precision, download_progress=download_progress,
            keep_float=plan.keep_float,
        )
        if not self.readonly:
            self.store.ensure_model(embedder.key, embedder.dim)
            # Remember where a key's model comes from, so a comparison can load it later.
            self.store.set_meta(f"model_source:{embedder.key}", source)
        return embedder

    # One snapshot of the active model: a search takes it once, so its query vector and the index it
    # searches always come from the same model even when the model is switched meanwhile.
    @property
    def model_source(self) -> str:
        return self._active.source

    @property
    def model_key(self) -> str:
        return self._active.key

    @property
    def _model(self) -> ModelSlot:
        return self._active.slot

    @property
    def _cache(self) -> IndexCache:
        return self._active.cache

    @property
    def model_loaded(self) -> bool:
        return self._model.loaded

    def unload_model(self) -> None:
        self._model.unload()

    @property
    def running_settings(self) -> Settings:
        """The settings as they run in this process: the saved ones with this process's overrides (a
        model, device, precision or exclusions given when opening) and the default model named. What a
        preferences screen shows, so that confirming it unchanged changes nothing."""
        return replace(self.settings, model=self.model_source, device=self.device,
                       precision=self.precision or "auto", exclude=tuple(self.exclude))

    def set_model(self, model: str) -> None:
        """Switch the active model; its missing vectors are made by the next `update()`."""
        self.apply_settings(replace(self.settings, model=model))

    def apply_settings(self, settings: Settings) -> SettingsChange:
        """Save `settings` and apply them now: a new model or device unloads the model (the next use
        loads the new one), new exclusions apply from the next scan. The caller runs `update()` when
        the change says it is needed (a new model's missing vectors, newly excluded photos)."""
        change = SettingsChange.between(self.settings, settings)
        new_active = self._new_active(settings.model or DEFAULT_MODEL) if change.model else None
        with self._lock:
            if not self.readonly:
                settings.save(self.data_dir)
            self.settings = settings
            self.exclude = list(settings.exclude)
            if change.device or change.precision:
                self.device, self.precision = settings.device, _auto_is_none(settings.precision)
                self._precisions.configure(self.precision, "settings", self.device)
                self.unload_model()
            if new_active is not None:
                self._precisions.forget()
                old, self._active = self._active, new_active
                old.slot.unload()
                # Save what only memory knows (a scan that removed photos), or switching back would rebuild.
                old.cache.save_if_stale()
        return change

    # -- precision (core.library.precision) --------------------------------------------------------------
    def precision_status(self) -> PrecisionStatus:
        """The active model's precision and the check's evidence for it (never imports torch)."""
        return self._precisions.status(self.model_key)

    # -- change notifications -------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(LibraryChanges)` after every write. It runs on the writing thread (a worker,
        the watcher's thread...): a GUI must hop to its own thread. Returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _notify(self, changes: LibraryChanges) -> None:
        if not changes:
            return
        self._pairs.invalidate()
        self._duplicates.follow(changes)
        self._passing.invalidate()
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
            self._cache.remove(removed)
            self.store.delete_orphan_vectors()
        self._notify(LibraryChanges(removed=tuple(removed), folders=True))

    # -- updating -------------------------------------------------------------------------------
    def scan(self, handle: TaskHandle | None = None) -> ScanReport:
        """Bring the photo table in line with the disk; cheap when little changed (no model load)."""
        self._require_writable()
        with self._lock:
            report = scan(self.store, handle, self.exclude)
            self._cache.apply(report)
        self._notify(report.changes)
        return report

    def index(
        self, handle: TaskHandle | None = None, *, save: bool = True, inline_below: int = 0
    ) -> IndexReport:
        """Embed every photo that has no vector for the active model yet.

        `save=False` leaves saving the FAISS file to the caller (the watcher saves at most once a
        second). Fewer than `inline_below` pending photos are decoded on a thread of this process:
        starting decoding processes costs seconds, far more than a handful of photos takes."""
        self._require_writable()
        handle = handle or TaskHandle()
        read_missing_facts(self.store, self._lock, handle, self._notify)
        readable = lambda: [p.path for p in self.store.list_photos(self.model_key) if p.status == "ok"]  # noqa: E731
        stale = self._precisions.settle(self.model_source, self.model_key, self._model, readable, handle)
        pending = self.store.pending_photos(self.model_key, stale, PRINT_VERSION)
        if not pending:
            handle.start("indexing", 0)
            return IndexReport()
        with self._model.in_use():
            embedder = self.embedder()
            self._cache.get()
            workers = 0 if len(pending) < inline_below else self.workers
            pipeline = Pipeline(
                self.store, embedder, handle, self._on_committed, workers, lock=self._lock, stale=stale
            )
            report = pipeline.run(pending)
        if save:
            self._cache.save()
        return report

    def update(self, handle: TaskHandle | None = None) -> UpdateReport:
        """Scan, then index what is missing, then drop vectors no photo uses any more."""
        report = UpdateReport(scan=self.scan(handle))
        report.index = self.index(handle)
        if not report.index.cancelled:
            self.store.delete_orphan_vectors()
        return report

    # -- live updates (core.watch.watcher) ------------------------------------------------------------
    def refresh(
        self, paths: Sequence[str], handle: TaskHandle | None = None, *, save: bool = True,
        inline_below: int = 32,
    ) -> UpdateReport:
        """Apply what changed at `paths` only (files or folders, present or gone), then embed what is
        new. Costs follow the paths, not the library. Vectors left without a photo are kept until the
        next `update()`: a delete seen now may be half of a move whose other half is still to come."""
        self._require_writable()
        with self._lock:
            report = scan_paths(self.store, paths, self.exclude)
            self._cache.apply(report)
        self._notify_scan(report)
        out = UpdateReport(scan=report)
        out.index = self.index(handle, save=save, inline_below=inline_below)
        return out

    def apply_moves(self, moves: Sequence[tuple[str, str]]) -> ScanReport:
        """Follow renames of files or folders the OS reported as (src, dest): paths updated in place, no
        hashing, no embedding. Pairs that do not check out on disk are left for `refresh`."""
        self._require_writable()
        with self._lock:
            report = move_paths(self.store, moves, self.exclude)
            self._cache.apply(report)
        self._notify_scan(report)
        return report

    def import_vectors(self, batch: VectorBatch, handle: TaskHandle | None = None) -> ImportReport:
        """Attach vectors made on another machine once they check out (core.library.vector_import)."""
        self._require_writable()
        return import_batch(self, batch, handle or TaskHandle(), self._lock, self._on_committed)

    def _notify_scan(self, report: ScanReport) -> None:
        self._notify(report.changes)

    def _on_committed(self, hashes: list[str]) -> None:
        ids = self.store.ids_with_hashes(hashes)
        self._cache.add(ids)
        self._notify(LibraryChanges(updated=tuple(ids)))

    # -- the FAISS cache (core.vectors.cache) ----------------------------------------------------
    def index_path(self, key: str | None = None) -> Path:
        return index_file(self.data_dir, key or self.model_key)

    def save_index(self) -> None:
        """Persist the active model's index atomically (indexing runs do this themselves)."""
        self._cache.save()

    # -- searching ------------------------------------------------------------------------------
    def search_image(self, source: ImageSource, k: int = 20, exclude_self: bool = False) -> list[SearchResult]:
        """Look-alikes of a library photo (id or path), an image file anywhere, image bytes or a PIL image."""
        return self.search(SearchQuery(images=(source,), k=k, exclude_self=exclude_self, min_score=-1)).results

    def models(self) -> list[ModelInfo]:
        """Every model that has embedded photos of this library, with how many are indexed for it."""
        out = []
        for key in self.store.model_keys():
            source = self.store.get_meta(f"model_source:{key}") or key
            out.append(ModelInfo(key, source, self.store.count_indexable(key), key == self.model_key))
        return out

    def search_with_model(
        self, model: str, source: ImageSource, k: int = 20, exclude_self: bool = False
    ) -> list[SearchResult]:
        """Look-alikes as another model sees them, without switching: a read-only view of this library
        on that model's vectors and index (used to compare models side by side)."""
        if resolve_model(model).key == self.model_key:
            return self.search_image(source, k, exclude_self)
        peer = cast(Library, self._peers.get(model))  # ModelPeers holds what the lambda above opens
        return peer.search_image(source, k, exclude_self)

    def search_text(self, query: str, k: int = 20) -> list[SearchResult]:
        """The k photos nearest a text, each with the model's match probability (no relevance cut)."""
        return self.search(SearchQuery(text=query, k=k, min_score=-1)).results

    def search(self, query: SearchQuery) -> SearchAnswer:
        """A composed, filtered search with its relevance cut (core.library.searching)."""
        active = self._active  # one model for the query vector and the index it searches
        pairs = self._pairs.current() if self.settings.raw_pairs == "one" else Pairs()
        return searching.answer(self.store, active.key, active.slot, active.cache.get(), pairs, self._passing,
                                query)

    # -- duplicates (core.library.duplicates, core.duplicates) -----------------------------------------
    def duplicate_candidates(self, handle: TaskHandle | None = None) -> Candidates:
        """What groups are made from: found once (seconds to minutes), reused until the library changes."""
        one_per_pair = self.settings.raw_pairs == "one"
        return self._duplicates.candidates(self.model_key, self._cache.get(), one_per_pair, handle)

    def duplicate_groups(
        self, tier: str = DEFAULT_TIER, threshold: float = DEFAULT_THRESHOLD, folder: str | None = None,
        sort: str = "space", handle: TaskHandle | None = None,
    ) -> list[DuplicateGroup]:
        """Groups of duplicates (`tier` and the ones above it), keeper first by the library's rules."""
        return self.duplicate_candidates(handle).groups(
            tier, threshold, folder=folder, rules=self.settings.keeper_rules,
            preferred=self.settings.preferred_folders, sort=sort,
        )

    def decide_duplicates(self, hashes: Sequence[str], decision: str) -> int:
        """Remember that these photos are not duplicates ("distinct") or were reviewed and all stay
        ("kept"): they are never grouped together again."""
        self._require_writable()
        with self._lock:
            return self._duplicates.decide(hashes, decision)

    def photo_hashes(self, paths: Sequence[str]) -> list[str]:
        return self._duplicates.hashes_of(paths)

    def trash_duplicates(self, plan: CleanupPlan) -> TrashReport:
        """Move each group's non-keepers to the system trash (core.duplicates.cleanup), then drop them
        from the library at once. Never deletes a file, never touches one outside the library."""
        self._require_writable()
        report = self._duplicates.trash(plan, [f.path for f in self.store.folders()])
        if report.moved:
            self.refresh([o.path for o in report.moved])
        return report

    # -- reading --------------------------------------------------------------------------------
    def photo(self, photo_id: int) -> Photo | None:
        return self.store.photo(photo_id)

    def photos_by_ids(self, ids: Iterable[int]) -> dict[int, Photo]:
        """The current rows of these photos as listed (deleted ones and hidden RAW halves left out)."""
        hidden = self._hidden_raws()
        return {i: p for i, p in self.store.photos_by_ids(ids).items() if i not in hidden}

    def photos(self, offset: int = 0, limit: int | None = None, filters: PhotoFilter | None = None) -> list[Photo]:
        """The grid's list (core.library.browsing): newest first, filtered, a RAW+JPEG pair once."""
        return listed_photos(self.store, self.model_key, self._passing, filters, self._hidden_raws(), offset, limit)

    def photos_passing(self, f: PhotoFilter) -> list[Photo]:
        return self.photos(filters=f)

    def _hidden_raws(self) -> frozenset[int]:
        return self._pairs.current().hidden if self.settings.raw_pairs == "one" else frozenset()

    def status(self) -> LibraryStatus:
        args = (self.store, self.data_dir, self.model_key, self.index_path(), DB_NAME)
        return library_status(*args, self.precision_status())

    def _require_writable(self) -> None:
        if self.readonly:
            raise LibraryError("this library was opened read-only")

