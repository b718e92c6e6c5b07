"""`LibrarySession`: the GUI's handle on the core `Library`, with every call run by the task manager.

Views never call the `Library` directly: they call a method here and get the answer as a signal on the
GUI thread. Library change notifications arrive on the writing thread and are re-emitted here, queued.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import Cancelled, ModelUnavailableError
from core.library.settings import Settings
from desktop.qt import QObject, Signal
from desktop.tasks import TaskManager

if TYPE_CHECKING:
    from core.library.facade import Library
    from core.tasks.progress import Progress, TaskHandle

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
    results_ready = Signal(object, list)  # query (path, bytes, text or id), list[SearchResult]
    error = Signal(str)
    notice = Signal(str)  # something the user should know once (e.g. a folder is polled, not watched)

    def __init__(
        self, tasks: TaskManager, data_dir: str | Path | None = None, model: str | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__()
        self.tasks = tasks
        self.library: Library | None = None
        self.settings = Settings()
        self._data_dir, self._model, self._workers = data_dir, model, workers
        self._handle: TaskHandle | None = None
        self._update_again = False
        self._cancel_download = False
        self._unsubscribe: Any = None
        self.watcher: Any = None
        self._opening: Library | None = None

    # -- opening --------------------------------------------------------------------------------
    def open(self) -> None:
        """Open the library off the GUI thread (it may rebuild its index); `opened` says when."""
        self.tasks.write(self._open, lambda lib: self._on_opened(lib), self.open_failed.emit)

    def _open(self) -> Library:
        from core.files.paths import default_data_dir
        from core.library.facade import Library

        data_dir = Path(self._data_dir) if self._data_dir else default_data_dir()
        self.settings = Settings.load(data_dir)
        lib = Library(
            data_dir, model=self._model or self.settings.model, device=self.settings.device,
            workers=self._workers, exclude=self.settings.exclude,
        )
        self._unsubscribe = lib.subscribe(lambda ch: self.tasks.call_on_gui(lambda: self.changed.emit(ch)))
        from desktop.watching import start_watcher

        # Here on the writer thread: starting the watcher registers every folder, which can take a while.
        gui = self.tasks.call_on_gui
        self.watcher = start_watcher(
            lib,
            on_notice=lambda text: gui(lambda: self.notice.emit(text)),
            on_error=lambda exc: gui(lambda: self._report(exc)),
            on_progress=lambda p: gui(lambda: self.progress.emit(p)),
        )
        self._opening = lib
        return lib

    def _on_opened(self, lib: Library) -> None:
        self.library = lib
        self.opened.emit()

    def close(self) -> None:
        """Stop indexing, the watcher and the workers, then close the library. Blocks briefly: a
        running batch finishes first (the handle is cancelled, so it stops at the next checkpoint)."""
        if self._handle is not None:
            self._handle.cancel()
        self._cancel_download = True
        from desktop.watching import stop_watcher

        self.tasks.shutdown(wait=True)
        # After shutdown: an open still running when the window closed has finished by now, and its
        # library (never delivered to the GUI) is in self._opening.
        stop_watcher(self.watcher)
        self.watcher = None
        if self._unsubscribe is not None:
            self._unsubscribe()
        lib = self.library or self._opening
        self.library = self._opening = None
        if lib is not None:
            lib.close()

    # -- reading --------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        if (lib := self.library) is not None:
            self.tasks.read(lib.status, self.status_ready.emit, self._report)

    def load_photos(self) -> None:
        if (lib := self.library) is not None:
            self.tasks.read(lib.photos, self.photos_ready.emit, self._report)

    def search_image(self, source: str | bytes | int, k: int = 50) -> None:
        if (lib := self.library) is None:
            self.error.emit("The library is still opening; try again in a moment.")
            return
        self.tasks.read(
            lambda: lib.search_image(source, k=k, exclude_self=True),
            lambda results: self.results_ready.emit(source, results), self._report,
        )

    def search_text(self, text: str, k: int = 50) -> None:
        if (lib := self.library) is None or not text.strip():
            return
        self.tasks.read(
            lambda: lib.search_text(text, k=k),
            lambda results: self.results_ready.emit(text, results), self._report,
        )

    # -- the model ------------------------------------------------------------------------------
    def load_model(self) -> None:
        """Load the model in the background (downloading it on a first run); `model_state` follows."""
        lib = self.library
        if lib is None or lib.model_loaded:
            if lib is not None:
                self.model_state.emit("ready")
            return
        self._cancel_download = False
        self.model_state.emit("loading")
        self.tasks.read(
            lambda: lib.embedder(download_progress=self._on_download),
            lambda _: self.model_state.emit("ready"), self._model_failed,
        )

    def cancel_download(self) -> None:
        self._cancel_download = True

    def _on_download(self, done: int, total: int) -> None:
        # On a hub download thread: raising here aborts the download (it resumes on the next try).
        if self._cancel_download:
            raise Cancelled("download cancelled")
        self.tasks.call_on_gui(lambda: self.download_progress.emit(done, total))

    def _model_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ModelUnavailableError):
            self.model_state.emit("unavailable")
            self.model_unavailable.emit(exc)
        else:
            self.model_state.emit("failed")
            self._report(exc)

    # -- writing --------------------------------------------------------------------------------
    def add_folder(self, path: str) -> None:
        if (lib := self.library) is not None:
            self.tasks.write(lambda: lib.add_folder(path), lambda _: self.update(), self._report)

    def remove_folder(self, path: str) -> None:
        if (lib := self.library) is not None:
            self.tasks.write(lambda: lib.remove_folder(path), None, self._report)

    def update(self) -> None:
        """Scan every folder and index what is new. While one runs, a second request runs after it."""
        lib = self.library
        if lib is None:
            return
        if self._handle is not None:
            self._update_again = True
            return
        from core.tasks.progress import TaskHandle

        last = [0.0]

        def on_progress(p: Progress) -> None:  # on the writer thread
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL_S or p.done >= p.total:
                last[0] = now
                self.tasks.call_on_gui(lambda: self.progress.emit(p))

        self._handle = handle = TaskHandle(on_progress=on_progress)
        self.indexing_started.emit()
        self.tasks.write(lambda: lib.update(handle), self._update_done, self._update_failed)

    def _update_done(self, report: Any) -> None:
        self._handle = None
        self.indexing_finished.emit(report)
        if self._update_again:
            self._update_again = False
            self.update()

    def _update_failed(self, exc: BaseException) -> None:
        self._handle = None
        self.indexing_finished.emit(None)
        if isinstance(exc, ModelUnavailableError):
            self._model_failed(exc)
        elif not isinstance(exc, Cancelled):
            self._report(exc)

    @property
    def indexing(self) -> bool:
        return self._handle is not None

    @property
    def paused(self) -> bool:
        return self._handle is not None and self._handle.paused

    def pause(self) -> None:
        if self._handle is not None:
            self._handle.pause()

    def resume(self) -> None:
        if self._handle is not None:
            self._handle.resume()

    def apply_settings(self, settings: Settings) -> None:
        """Save preferences and apply them without a restart: exclusions and device at once, a new
        model by re-indexing with it (its vectors are kept per model, so switching back is free)."""
        lib = self.library
        if lib is None:
            return
        old = self.settings
        self.settings = settings

        def apply() -> bool:
            settings.save(lib.data_dir)
            lib.exclude = list(settings.exclude)
            model_changed = bool(settings.model) and settings.model != lib.model_source
            if settings.device != lib.device:
                lib.unload_model()
                lib.device = settings.device
            if model_changed:
                lib.set_model(settings.model)  # type: ignore[arg-type]
            return model_changed or settings.exclude != old.exclude

        def done(rescan: bool) -> None:
            if rescan:
                self.model_state.emit("not loaded")
                self.update()

        self.tasks.write(apply, done, self._report)

    def _report(self, exc: BaseException) -> None:
        self.error.emit(str(exc) or type(exc).__name__)
