"""`LibrarySession`: the GUI's handle on the core, mirroring `core.session.owner.LibraryOwner`.

Views never call the core directly: they call a method here and get the answer as a signal on the GUI
thread. Every write becomes an intent on the owner's one write queue (the same queue the watcher and
commands handed over by other processes use), so the status bar shows, and Pause holds, any of them.
Reads (searches, status) run on the task manager's read pool. Change records and queue events arrive
on the core's threads and are re-emitted here, queued to the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import Cancelled, ModelUnavailableError
from core.library.intents import AddFolder, ApplySettings, Intent, Refresh, RemoveFolder, Update
from core.library.settings import Settings
from desktop.qt import QObject, Signal
from desktop.tasks import TaskManager

if TYPE_CHECKING:
    from core.library.facade import Library
    from core.library.filters import PhotoFilter
    from core.library.searching import SearchQuery
    from core.library.write_queue import JobEvent
    from core.session.owner import LibraryOwner

INDEXING = (Update, Refresh)  # the jobs the status bar shows as indexing

# Progress callbacks fire per batch; the status bar needs no more than a few updates a second.
PROGRESS_INTERVAL_S = 0.1


class LibrarySession(QObject):
    opened = Signal()
    open_failed = Signal(object)  # LookalikeError
    changed = Signal(object)  # LibraryChanges, on the GUI thread
    status_ready = Signal(object)  # LibraryStatus
    photos_ready = Signal(list)  # list[Photo], browse order
    progress = Signal(object)  # Progress
    indexing_started = Signal()
    indexing_finished = Signal(object)  # UpdateReport, or None after an error
    model_state = Signal(str)  # "not loaded" | "loading" | "downloading" | "ready" | "unavailable" | "failed"
    model_unavailable = Signal(object)  # the ModelUnavailableError (its fields word the GUI's advice)
    download_progress = Signal(int, int)  # bytes done, bytes total
    answer_ready = Signal(object, object)  # the search's tag, SearchAnswer
    error = Signal(str)
    search_failed = Signal(object, str)  # the search's tag, why it failed (also in `error`)
    notice = Signal(str)  # something the user should know once (e.g. a folder is polled, not watched)
    show_requested = Signal(str)  # another process asked to show this photo's look-alikes
    raise_requested = Signal()  # another process (`lookalike` again) asked for this window in front
    duplicates_progress = Signal(object)  # Progress of finding duplicate candidates (the first time)

    def __init__(
        self, tasks: TaskManager, data_dir: str | Path | None = None, model: str | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__()
        self.tasks = tasks
        self.library: Library | None = None
        self.owner: LibraryOwner | None = None
        self._data_dir, self._model, self._workers = data_dir, model, workers
        self._indexing = False
        self._last_report: Any = None  # of the last indexing job, for "Up to date: ..."
        self._last_progress = 0.0
        self._cancel_download = False
        self._model_shown = "not loaded"  # what the status bar says about the model
        self._opening: LibraryOwner | None = None
        self._waiting: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None] | None]] = {}

    # -- opening --------------------------------------------------------------------------------
    def open(self) -> None:
        """Open the library off the GUI thread (it may rebuild its index); `opened` says when."""
        self.tasks.write(self._open, lambda lib: self._on_opened(lib), self.open_failed.emit)

    @property
    def running_settings(self) -> Settings:
        """The settings in force in this process (what Preferences shows; defaults until open)."""
        return self.library.running_settings if self.library is not None else Settings()

    @property
    def settings(self) -> Settings:
        """The library's settings, owned by the core (defaults until the library is open)."""
        return self.library.settings if self.library is not None else Settings()

    def _open(self) -> Library:
        from core.library.facade import Library
        from core.session.owner import LibraryOwner

        lib = Library(self._data_dir, model=self._model, workers=self._workers)
        gui = self.tasks.call_on_gui
        lib.subscribe(lambda ch: gui(lambda: self.changed.emit(ch)))
        self._opening = owner = LibraryOwner(
            lib, watch=True, serve=True,
            on_show=lambda path: gui(lambda: self.show_requested.emit(path)),
            on_raise=lambda: gui(self.raise_requested.emit),
            on_error=lambda exc: gui(lambda: self._report(exc)),
            on_notice=lambda text: gui(lambda: self.notice.emit(text)),
        )
        owner.queue.subscribe(self._on_job)
        owner.start()  # registering every folder with the OS can take a while: here, off the GUI thread
        return lib

    def _on_opened(self, lib: Library) -> None:
        self.library, self.owner = lib, self._opening
        self.opened.emit()

    def close(self, then: Sequence[Intent] = ()) -> None:
        """Stop the owner (the running batch stops at its next commit, the index is saved) and close
        the library. Blocks briefly. `then`: writes the user was promised, done before the library
        closes even when a job was running (`LibraryOwner.close`)."""
        self._cancel_download = True
        self.tasks.shutdown(wait=True)
        # After shutdown: an open still running when the window closed has finished by now, and its
        # owner (never delivered to the GUI) is in self._opening.
        owner = self.owner or self._opening
        self.library = self.owner = self._opening = None
        if owner is not None:
            owner.close(then=then)

    # -- reading --------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        if (lib := self.library) is not None:
            self.tasks.read(lib.status, self.status_ready.emit, self._report)

    def load_photos(self, f: PhotoFilter | None = None) -> None:
        """The grid's listing: every photo, or those passing `f` (`photos_ready`, browse order)."""
        if (lib := self.library) is not None:
            read = (lambda: lib.photos_passing(f)) if f is not None and f.active else lib.photos
            self.tasks.read(read, self.photos_ready.emit, self._report)

    def fetch_rows(self, changes: Any, on_rows: Any, on_failed: Any) -> None:
        """The current rows of the photos a change record names: `on_rows(changes, rows)`, or
        `on_failed()` after the error is reported, on the GUI thread."""
        if (lib := self.library) is None:
            on_failed()
            return
        ids = {*changes.added, *changes.moved, *changes.updated}

        def failed(exc: BaseException) -> None:
            self._report(exc)
            on_failed()

        self.tasks.read(lambda: lib.photos_by_ids(ids), lambda rows: on_rows(changes, rows), failed)

    def search(self, query: SearchQuery, tag: object) -> None:
        """Run a composed, filtered search on the read pool; `answer_ready(tag, SearchAnswer)`."""
        if (lib := self.library) is None:
            self.search_failed.emit(tag, "The library is still opening; try again in a moment.")
            return
        def answered(answer: Any) -> None:
            self.sync_model_state()  # the search loaded the model if it was not
            self.answer_ready.emit(tag, answer)

        self.tasks.read(lambda: lib.search(query), answered, lambda exc: self._search_failed(tag, exc))

    def _search_failed(self, tag: object, exc: BaseException) -> None:
        self.search_failed.emit(tag, str(exc) or type(exc).__name__)
        self._report(exc)

    # -- duplicates: the slow first search runs on the read pool, with progress -------------------------
    def duplicate_groups(self, tier: str, threshold: float, sort: str, on_done: Callable[[Any], None],
                         on_failed: Callable[[BaseException], None] | None = None) -> None:
        """`on_done(list[DuplicateGroup])`, keeper first by the library's rules."""
        if (lib := self.library) is not None:
            handle = self._duplicates_handle()
            self.tasks.read(lambda: lib.duplicate_groups(tier, threshold, sort=sort, handle=handle),
                            on_done, on_failed or self._report)

    def duplicate_count(self, tier: str, threshold: float, on_done: Callable[[int], None]) -> None:
        if (lib := self.library) is not None:
            handle = self._duplicates_handle()
            self.tasks.read(lambda: lib.duplicate_candidates(handle).count(tier, threshold), on_done, self._report)

    def camera_names(self, paths: Sequence[str], on_done: Callable[[list[str | None]], None]) -> None:
        """The camera of each photo, read from its EXIF off the GUI thread."""
        from core.imaging.meta import camera_name

        self.tasks.read(lambda: [camera_name(p) for p in paths], on_done, self._report)

    def _duplicates_handle(self) -> Any:
        from core.tasks.progress import TaskHandle

        gui = self.tasks.call_on_gui
        return TaskHandle(lambda p: gui(lambda: self.duplicates_progress.emit(p)))

    # -- the model ------------------------------------------------------------------------------
    def load_model(self) -> None:
        """Load the model in the background (downloading it on a first run); `model_state` follows."""
        lib = self.library
        if lib is None or lib.model_loaded:
            if lib is not None:
                self._show_model_state("ready")
            return
        self._cancel_download = False
        self._show_model_state("loading")
        self.tasks.read(
            lambda: lib.embedder(download_progress=self._on_download),
            lambda _: self._show_model_state("ready"), self._model_failed,
        )

    def _show_model_state(self, state: str) -> None:
        self._model_shown = state
        self.model_state.emit(state)

    def sync_model_state(self) -> None:
        """Show whether the model is loaded as it is now: index runs and searches load it themselves, a
        model change or the idle timer unloads it, and none of them goes through `load_model`."""
        if (lib := self.library) is None:
            return
        if lib.model_loaded:
            if self._model_shown != "ready":
                self._show_model_state("ready")
        elif self._model_shown == "ready":  # "loading", "failed"... stay until their own outcome
            self._show_model_state("not loaded")

    def cancel_download(self) -> None:
        self._cancel_download = True

    def _on_download(self, done: int, total: int) -> None:
        # On a hub download thread: raising here aborts the download (it resumes on the next try).
        if self._cancel_download:
            raise Cancelled("download cancelled")
        self.tasks.call_on_gui(lambda: self.download_progress.emit(done, total))

    def _model_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ModelUnavailableError):
            self._show_model_state("unavailable")
            self.model_unavailable.emit(exc)
        else:
            self._show_model_state("failed")
            self._report(exc)

    # -- writing: intents on the owner's queue ------------------------------------------------------------
    def add_folder(self, path: str) -> None:
        if self.owner is not None:
            self.owner.submit(AddFolder(path))  # followed by an update of the whole library

    def remove_folder(self, path: str) -> None:
        if self.owner is not None:
            self.owner.submit(RemoveFolder(path))

    def submit(self, intent: Intent, on_done: Callable[[Any], None] | None = None,
               on_failed: Callable[[BaseException], None] | None = None) -> None:
        """Queue `intent`; `on_done(result)` (or `on_failed(error)`, else the error path) on the GUI thread."""
        if self.owner is None:
            return
        job = self.owner.submit(intent)
        if on_done is not None:  # registered before the finish can arrive: both run on the GUI thread
            self._waiting[job.id] = (on_done, on_failed)

    def update(self) -> None:
        """Scan every folder and index what is new; a request while one waits merges into it."""
        if self.owner is not None:
            self.owner.submit(Update(("asked in the app",)))

    def apply_settings(self, settings: Settings) -> None:
        """Save preferences and apply them without a restart: exclusions and device at once, a new
        model by re-indexing with it (its vectors are kept per model, so switching back is free)."""
        if self.owner is None or self.library is None:
            return
        # Compared with what runs, not with what is saved: a dialog confirmed unchanged applies nothing.
        changed = self.library.running_settings.differences(settings)
        if not changed:
            return
        if "model" in changed and self._indexing:
            self.notice.emit("Switching to the new model: this indexing run stops and starts again with it.")
        self.owner.submit(ApplySettings.of(**changed))

    @property
    def indexing(self) -> bool:
        return self._indexing

    @property
    def paused(self) -> bool:
        return self.owner is not None and self.owner.queue.paused

    def pause(self) -> None:
        if self.owner is not None:
            self.owner.queue.pause()

    def resume(self) -> None:
        if self.owner is not None:
            self.owner.queue.resume()

    def _on_job(self, event: JobEvent) -> None:  # on the write queue's thread
        gui = self.tasks.call_on_gui
        if event.kind == "progress" and event.progress is not None:
            p, now = event.progress, time.monotonic()
            if now - self._last_progress >= PROGRESS_INTERVAL_S or p.done >= p.total:
                self._last_progress = now
                gui(lambda: self._progressed(p))
        elif event.kind == "started" and isinstance(event.job.intent, INDEXING):
            gui(self._indexing_started)
        elif event.kind == "finished":
            owner = self.owner or self._opening  # jobs may finish before the GUI hears the library opened
            job, idle = event.job, owner is not None and owner.queue.idle
            gui(lambda: self._job_finished(job, idle))

    def _progressed(self, p: Any) -> None:
        self.sync_model_state()  # the index run loads the model itself
        self.progress.emit(p)

    def _indexing_started(self) -> None:
        if not self._indexing:
            self._indexing = True
            self.indexing_started.emit()

    def _job_finished(self, job: Any, idle: bool) -> None:
        on_done, on_failed = self._waiting.pop(job.id, (None, None))
        if on_done is not None and job.error is None:
            on_done(job.result)
        elif on_failed is not None and job.error is not None:
            on_failed(job.error)
        elif job.error is not None and not isinstance(job.error, Cancelled):
            self._model_failed(job.error) if isinstance(job.error, ModelUnavailableError) else self._report(job.error)
        self.sync_model_state()  # a model change unloaded it; an index run loaded it
        if isinstance(job.intent, INDEXING):
            self._last_report = job.result if job.error is None else None
        if self._indexing and idle:  # the status bar shows indexing until the queue has nothing left
            self._indexing = False
            self.indexing_finished.emit(self._last_report)

    def _report(self, exc: BaseException) -> None:
        self.error.emit(str(exc) or type(exc).__name__)
