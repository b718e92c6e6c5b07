"""The main window: folders on the left, the library grid in the middle, look-alikes on the right,
the status bar below. It wires the views to the `LibrarySession`; it never calls the core itself."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from core.errors import ModelUnavailableError
from core.files.paths import default_data_dir
from core.store.changes import LibraryChanges
from desktop.change_follower import ChangeFollower
from desktop.date_jump import DateJump
from desktop.duplicates_view import DuplicatesView
from desktop.errors_panel import ErrorsPanel
from desktop.filter_bar import FilterBar
from desktop.folders_panel import FoldersPanel
from desktop.image_input import dropped_folders, image_source
from desktop.library_session import LibrarySession
from desktop.main_modes import MainModes
from desktop.model_dialogs import DownloadDialog, ask_for_local_model
from desktop.photo_grid import PhotoGrid, PhotoGridModel
from desktop.plurals import counted
from desktop.qt import (
    QAction,
    QFileDialog,
    QGuiApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPoint,
    QPushButton,
    QSlider,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.results_pane import ResultsPane
from desktop.search_controls import SearchControls, Searcher
from desktop.status_bar import StatusBar
from desktop.tasks import TaskManager
from desktop.thumbnail_cache import ThumbnailCache
from desktop.window_state import WindowState, load_window_state, save_window_state

DEFAULT_THUMB = 136
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.gif *.tif *.tiff *.bmp *.heic *.heif *.avif)"


class MainWindow(QMainWindow):
    first_paint = Signal()
    results_shown = Signal()  # a search's results are in the pane (thumbnails may still be loading)

    def __init__(
        self, data_dir: str | Path | None = None, model: str | None = None, workers: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Lookalike")
        self.setAcceptDrops(True)
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.tasks = TaskManager()
        self.session = LibrarySession(self.tasks, self.data_dir, model, workers)
        self.cache = ThumbnailCache(self.tasks, cache_dir)
        self.cache.dpr = self.devicePixelRatioF()
        self.grid_model = PhotoGridModel()
        self.grid = PhotoGrid(self.grid_model, self.cache, DEFAULT_THUMB)
        self.results = ResultsPane(self.cache)
        self.folders = FoldersPanel()
        self.status = StatusBar()
        self.errors = ErrorsPanel(self)
        self.search_box = QLineEdit()
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.grid_caption = QLabel("")
        self.filter_bar = FilterBar()  # narrows the grid and every search
        self.date_jump = DateJump(self.grid, self.grid_model)
        self.search_controls = SearchControls()
        self.searcher = Searcher(self.session, self.results, self.search_controls, lambda: self.filter_bar.filter,
                                 lambda: self.session.settings.results_k)
        self._subfolders: set[str] = set()
        self._painted = False
        self._closed = False
        self._download: DownloadDialog | None = None
        self._initial_image: str | None = None
        self.compare_window: Any = None  # desktop.compare_window.CompareWindow, made on first use
        self.follower = ChangeFollower(self.session)
        self._build()
        self._connect()
        self._restore_geometry()

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setStatusBar(self.status)
        self.search_box.setPlaceholderText("Search by text, e.g. “a dog on a beach” — Enter")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Text search")
        open_button = QPushButton("Open image…")
        open_button.setToolTip("Find look-alikes of an image file (Ctrl+O); or drop or paste one")
        open_button.clicked.connect(self.open_image_dialog)
        self.zoom.setRange(72, 320)
        self.zoom.setValue(DEFAULT_THUMB)
        self.zoom.setMaximumWidth(160)
        self.zoom.setToolTip("Thumbnail size")
        self.zoom.setAccessibleName("Thumbnail size")
        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(open_button)
        top.addWidget(self.date_jump)
        top.addSpacing(12)
        top.addWidget(QLabel("Size"))
        top.addWidget(self.zoom)
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(6, 6, 6, 0)
        column.addLayout(top)
        column.addWidget(self.filter_bar)
        column.addWidget(self.grid_caption)
        column.addWidget(self.grid, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.folders)
        self.splitter.addWidget(centre)
        right = QWidget()
        results_column = QVBoxLayout(right)
        results_column.setContentsMargins(0, 6, 0, 0)
        results_column.addWidget(self.search_controls)
        results_column.addWidget(self.results, 1)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([230, 700, 470])
        self.duplicates = DuplicatesView(self.session, self.cache)
        self.modes = MainModes()  # one main area; later issues add "Results" and "Viewer"
        self.modes.add_mode("Library", self.splitter, "Browse and search the library (Ctrl+1)")
        self.modes.add_mode("Duplicates", self.duplicates, "Review duplicates and near-duplicates (Ctrl+D)")
        self.setCentralWidget(self.modes)
        self._build_menus()

    def _build_menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self._action(file, "&Add folder…", self.folders.pick_folder, QKeySequence.StandardKey.New)
        self._action(file, "&Open image…", self.open_image_dialog, QKeySequence.StandardKey.Open)
        self.paste_action = self._action(file, "&Paste image", self.paste_image, QKeySequence.StandardKey.Paste)
        file.addSeparator()
        self._action(file, "&Update library", self.session.update, QKeySequence.StandardKey.Refresh)
        self._action(file, "P&references…", self.open_preferences, QKeySequence.StandardKey.Preferences)
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        view = self.menuBar().addMenu("&View")
        self._action(view, "&Unreadable photos…", self.show_errors)
        self._action(view, "Find in &library", self.search_box.setFocus, QKeySequence.StandardKey.Find)
        self._action(view, "&Compare models…", self.show_compare, "Ctrl+M")
        view.addSeparator()
        self._action(view, "&Library", lambda: self.modes.set_mode("Library"), "Ctrl+1")
        self._action(view, "&Duplicates", lambda: self.modes.set_mode("Duplicates"), "Ctrl+D")

    def _action(self, menu: Any, text: str, slot: Any, key: Any = None) -> QAction:
        action = QAction(text, self)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _connect(self) -> None:
        s = self.session
        s.opened.connect(self._on_opened)
        s.open_failed.connect(lambda exc: self._show_error(f"Could not open the library: {exc}"))
        self.follower.rows_ready.connect(self._on_rows)
        self.follower.failed.connect(self.refresh)  # re-read once rather than show stale rows
        s.status_ready.connect(self._on_status)
        s.photos_ready.connect(self._on_photos)
        s.progress.connect(lambda p: self.status.set_progress(p, s.paused))  # paused: the queue's truth
        s.indexing_started.connect(lambda: self.status.set_indexing(True))
        s.indexing_finished.connect(self._on_indexed)
        s.model_state.connect(self._on_model_state)
        s.model_unavailable.connect(self._on_model_unavailable)
        s.download_progress.connect(self._on_download)
        self.searcher.shown.connect(self._on_shown)
        self.filter_bar.changed.connect(self._filter_changed)
        s.error.connect(self._show_error)
        s.notice.connect(lambda text: self.status.showMessage(text, 15_000))
        s.show_requested.connect(self.show_photo_asked_elsewhere)
        self.tasks.failed.connect(lambda exc: self._show_error(str(exc)))
        self.folders.add_requested.connect(s.add_folder)
        self.folders.remove_requested.connect(s.remove_folder)
        self.status.pause_requested.connect(self.pause_indexing)
        self.status.resume_requested.connect(self.resume_indexing)
        self.status.errors_requested.connect(self.show_errors)
        self.grid.chosen.connect(self.search_path)
        self.results.find_lookalikes.connect(self.search_path)
        for view in (self.grid, self.results.view):  # their menus offer "Add to the query", "Not like this"
            view.composing = True
            view.add_to_query.connect(self.searcher.add)
            view.not_like.connect(self.searcher.avoid)
        self.search_box.returnPressed.connect(lambda: self.search_text(self.search_box.text()))
        self.zoom.valueChanged.connect(self.grid.set_thumb_size)

    # -- life cycle -----------------------------------------------------------------------------
    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # After this paint is on screen: only then start opening the library (in the background).
            QTimer.singleShot(0, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.first_paint.emit()
        if not self._closed:
            self.session.open()

    def open_when_painted(self, image: str | None) -> None:
        """Search by `image` (the command line's photo) as soon as the library is open."""
        self._initial_image = image

    def _on_opened(self) -> None:
        self.status.showMessage(f"Library: {self.data_dir}", 4000)
        self.refresh()
        self.session.load_model()
        self.session.update()  # catch up with what changed on disk while the app was closed
        if self._initial_image:
            self.search_path(self._initial_image)
            self._initial_image = None

    def _on_rows(self, changes: LibraryChanges, rows: dict) -> None:
        """A change record with the rows it names: each view inserts, removes and updates by id."""
        if self.filter_bar.filter.active:  # whether a changed photo passes is the core's to say
            self.session.load_photos(self.filter_bar.filter)
        else:
            self.grid_model.apply_changes(changes, rows)
        self.results.apply_changes(changes, rows)
        if self.compare_window is not None:
            self.compare_window.apply_changes(changes, rows)
        self._show_count(self.grid_model.rowCount())
        self.session.refresh_status()  # counts and folder rows: one cheap query

    def refresh(self) -> None:
        self.session.refresh_status()
        self.session.load_photos(self.filter_bar.filter)

    def _filter_changed(self, f: Any) -> None:
        """A new filter: the grid lists the photos that pass, and the current search asks again."""
        self.session.load_photos(f)
        self.searcher.rerun()

    def closeEvent(self, event: Any) -> None:
        self._closed = True
        self._save_geometry()
        self.errors.close()
        self.session.close()
        super().closeEvent(event)

    def _restore_geometry(self) -> None:
        state = load_window_state(self.data_dir)
        if state.geometry is None or not self.restoreGeometry(state.geometry):
            self.resize(1360, 860)
        if state.splitter is not None:
            self.splitter.restoreState(state.splitter)
        self.zoom.setValue(DEFAULT_THUMB if state.zoom is None else state.zoom)

    def _save_geometry(self) -> None:
        save_window_state(self.data_dir, WindowState(
            geometry=bytes(self.saveGeometry().data()), splitter=bytes(self.splitter.saveState().data()),
            zoom=self.zoom.value(),
        ))

    def grid_thumbnails_shown(self) -> bool:
        """True when every photo visible in the grid shows its thumbnail (or is known unreadable)."""
        view, size = self.grid, self.grid.thumb_delegate.size
        first = view.indexAt(view.viewport().rect().topLeft() + QPoint(8, 8)).row()
        if first < 0:
            return self.grid_model.rowCount() == 0
        visible = [r for r in range(first, min(first + 200, self.grid_model.rowCount()))
                   if view.visualRect(self.grid_model.index(r)).intersects(view.viewport().rect())]
        return all(self.cache.has(self.grid_model.photo_at(r).path, size) for r in visible)

    # -- what the session reports ---------------------------------------------------------------
    def _on_status(self, status: Any) -> None:
        self.folders.set_folders(status.folders, self.session.indexing)
        self.filter_bar.set_folders([f.path for f in status.folders], self._subfolders)
        self.status.set_photo_count(status.counts.photos, status.counts.indexed)
        self.status.set_failures(len(status.failures))
        self.errors.set_failures(status.failures)

    def _on_photos(self, photos: list) -> None:
        self.grid_model.set_photos(photos)
        self._show_count(len(photos))
        if not self.filter_bar.filter.active:  # the folder filter offers every folder holding photos
            self._subfolders = {os.path.dirname(p.path) for p in photos}

    def _show_count(self, n: int) -> None:
        if self.filter_bar.filter.active:
            self.grid_caption.setText(f"{counted(n, 'photo')} pass{'es' if n == 1 else ''} the filter")
            return
        self.grid_caption.setText(counted(n, "photo") if n else
                                  "Add a folder (File ▸ Add folder…, or drop one here) to fill the library.")

    def _on_indexed(self, report: Any) -> None:
        self.status.set_indexing(False)
        # Photos that changed were announced by `changed` (and refreshed then); re-reading all of them
        # here would cost a stall on a large library after every no-op update. After a failure, re-read.
        self.session.refresh_status() if report is not None else self.refresh()
        if report is not None:
            # The unreadable count is the library's, on the errors button beside this; this run's own
            # count (often 0 on a re-run) would contradict it.
            s = report.summary()
            self.status.showMessage(f"Up to date: {counted(s['scanned'], 'photo')}, {s['embedded']:,} newly indexed",
                                    6000)

    def _on_model_state(self, state: str) -> None:
        self.status.set_model_state(state)
        if state != "loading" and self._download is not None:
            self._download.close()
            self._download = None

    def _on_download(self, done: int, total: int) -> None:
        if self._download is None:
            self.status.set_model_state("downloading")
            self._download = DownloadDialog(self.session.library.model_source if self.session.library else "", self)
            self._download.canceled.connect(self.session.cancel_download)
        self._download.update_bytes(done, total)

    def _on_model_unavailable(self, error: ModelUnavailableError) -> None:
        folder = ask_for_local_model(error, self)
        if folder and self.session.library is not None:
            self.session.apply_settings(dataclasses.replace(self.session.settings, model=folder))

    def _show_error(self, message: str) -> None:
        self.status.show_error(message)
        if self.searcher.running:  # the search that was running failed: say so where results go
            self.results.show_message("The search failed", message)
            self.searcher.running = False

    # -- searching ------------------------------------------------------------------------------
    def search_path(self, path: str) -> None:
        self.searcher.like(path)
        if self.compare_window is not None and self.compare_window.isVisible():
            self.compare_window.compare(path)

    def show_photo_asked_elsewhere(self, path: str) -> None:
        """`lookalike photo.jpg` (Open With) while this window runs: show it here, in front."""
        self.search_path(path)
        self.raise_()
        self.activateWindow()

    def show_compare(self) -> None:
        """Open the side-by-side model comparison; it follows every photo clicked from now on."""
        from desktop.compare_window import CompareWindow

        if self.compare_window is None:
            self.compare_window = CompareWindow(self.session, self.cache, self)
        self.compare_window.refresh_models()
        self.compare_window.show()
        self.compare_window.raise_()

    def search_bytes(self, data: bytes) -> None:
        self.searcher.like(data)

    def search_text(self, text: str) -> None:
        """A typed text; with example photos in the query it joins them ("this one, but at night")."""
        if text.strip():
            self.searcher.type_text(text)

    def _on_shown(self, query: Any) -> None:
        if len(query.images) == 1 and isinstance(query.images[0], str) and os.path.isfile(query.images[0]):
            self.grid.select_path(query.images[0])
        self.results_shown.emit()

    # -- image input ----------------------------------------------------------------------------
    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Find look-alikes of an image", "", IMAGE_FILTER)
        if path:
            self.search_path(path)

    def paste_image(self) -> None:
        source = image_source(QGuiApplication.clipboard().mimeData())
        if source is None:
            self.status.show_error("The clipboard holds no image")
        elif isinstance(source, bytes):
            self.search_bytes(source)
        else:
            self.search_path(source)

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        mime = event.mimeData()
        folders = dropped_folders(mime)
        for folder in folders:
            self.session.add_folder(folder)
        if not folders and (source := image_source(mime)) is not None:
            self.search_bytes(source) if isinstance(source, bytes) else self.search_path(source)
        event.acceptProposedAction()

    # -- indexing controls ----------------------------------------------------------------------
    def pause_indexing(self) -> None:
        self.session.pause()
        self.status.set_paused(self.session.paused)

    def resume_indexing(self) -> None:
        self.session.resume()
        self.status.set_paused(self.session.paused)

    def show_errors(self) -> None:
        self.errors.show()
        self.errors.raise_()

    def open_preferences(self) -> None:
        from desktop.preferences import PreferencesDialog

        lib = self.session.library
        # What runs, not what was saved: confirming the dialog unchanged must change nothing.
        dialog = PreferencesDialog(self.session.running_settings, lib.model_source if lib else "", self,
                                   lib.precision_status() if lib else None)
        if dialog.exec():
            self.session.apply_settings(dialog.chosen_settings())
