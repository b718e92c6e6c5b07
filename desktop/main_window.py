"""The main window: folders on the left, the library grid in the middle, look-alikes on the right,
the status bar below. It wires the views to the `LibrarySession`; it never calls the core itself."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from core.errors import ModelUnavailableError
from core.files.paths import default_data_dir
from core.library.intents import RemoveFolder
from core.store.changes import LibraryChanges
from desktop.change_follower import ChangeFollower
from desktop.date_jump import DateJump
from desktop.duplicates_view import DuplicatesView
from desktop.errors_panel import ErrorsPanel
from desktop.filter_bar import FilterBar
from desktop.first_run import FirstRun
from desktop.folder_removal import FolderRemoval, UndoBar
from desktop.folders_panel import FoldersPanel
from desktop.image_input import dropped_folders, image_source
from desktop.library_session import LibrarySession
from desktop.main_menus import build_menus
from desktop.main_modes import MainModes
from desktop.model_dialogs import DownloadDialog, ask_for_local_model
from desktop.photo_grid import PhotoGrid, PhotoGridModel
from desktop.photo_viewer import PhotoViewer
from desktop.plurals import counted
from desktop.qt import (
    QAction,
    QDockWidget,
    QFileDialog,
    QGuiApplication,
    QLabel,
    QMainWindow,
    QPoint,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.results_pane import ResultsPane
from desktop.results_placement import RESULTS_MODE, ResultsPlacement
from desktop.search_box import SearchBox
from desktop.search_controls import SEARCH_FAILED, SearchControls, Searcher
from desktop.status_bar import StatusBar
from desktop.tasks import TaskManager
from desktop.thumbnail_cache import ThumbnailCache
from desktop.top_row import TopRow
from desktop.window_geometry import restore_window, save_window
from desktop.window_places import VIEWER_MODE, WindowPlaces

DEFAULT_THUMB = 136
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.gif *.tif *.tiff *.bmp *.heic *.heif *.avif)"


class MainWindow(QMainWindow):
    paste_action: QAction  # made by desktop.main_menus
    names_action: QAction
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
        self.first_run = FirstRun()  # the main area of an open library without folders
        self.removal = FolderRemoval(self.session)  # a removed folder, hidden while Undo is offered
        self.undo_bar = UndoBar(self.removal)
        self.status = StatusBar()
        self.errors = ErrorsPanel(self)
        self.search_box = SearchBox()
        self.places = WindowPlaces()  # the modes, the viewer, Back and Forward
        self.navigation = self.places.navigation
        self.back_button, self.forward_button = self.places.back_button, self.places.forward_button
        self.grid_caption = QLabel("")
        self.filter_bar = FilterBar()  # narrows the grid and every search
        self.date_jump = DateJump(self.grid, self.grid_model)
        self.top_row = TopRow((self.back_button, self.forward_button), self.search_box, self.date_jump, DEFAULT_THUMB)
        self.zoom = self.top_row.zoom
        self.search_controls = SearchControls()
        self.searcher = Searcher(self.session, self.results, self.search_controls, lambda: self.filter_bar.filter,
                                 lambda: self.session.settings.results_k)
        self._subfolders: set[str] = set()
        self._painted = False
        self._status: Any = None  # the last LibraryStatus, shown again when a removal starts or ends
        self._closed = False
        self._download: DownloadDialog | None = None
        self._initial_image: str | None = None
        self.compare_panel: Any = None  # desktop.compare_panel.ComparePanel, made on first use
        self.compare_dock: QDockWidget | None = None
        self.follower = ChangeFollower(self.session)
        self._build()
        self._connect()
        restore_window(self, DEFAULT_THUMB)

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setStatusBar(self.status)
        self.status.insertPermanentWidget(0, self.undo_bar)  # permanent: no passing message hides Undo
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(6, 0, 6, 0)
        column.addWidget(self.grid_caption)
        column.addWidget(self.grid, 1)
        column.addWidget(self.first_run, 1)
        self.first_run.hide()
        self.splitter = QSplitter()
        self.splitter.addWidget(self.folders)
        self.splitter.addWidget(centre)
        right = QWidget()
        results_column = QVBoxLayout(right)
        results_column.setContentsMargins(0, 0, 0, 0)
        results_column.addWidget(self.search_controls)
        results_column.addWidget(self.results, 1)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([230, 700, 470])
        self.placement = ResultsPlacement(right, self.results, self.splitter, self.zoom.value)
        self.duplicates = DuplicatesView(self.session, self.cache)
        self.modes = MainModes()  # one main area: Library, Results, Duplicates (and the viewer)
        self.modes.add_mode("Library", self.splitter, "Browse and search the library (Ctrl+1)")
        self.modes.add_mode(RESULTS_MODE, self.placement.page, "The current search's results, large (Ctrl+2)")
        self.modes.add_mode("Duplicates", self.duplicates, "Review duplicates and near-duplicates (Ctrl+D)")
        self.viewer = PhotoViewer(self.cache, self.tasks)
        self.modes.add_mode(VIEWER_MODE, self.viewer, in_bar=False)  # entered from a photo, never a button
        main = QWidget()
        layout = QVBoxLayout(main)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.top_row)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.modes, 1)
        self.setCentralWidget(main)
        build_menus(self)

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
        s.raise_requested.connect(self.come_to_front)
        self.tasks.failed.connect(lambda exc: self._show_error(str(exc)))
        self.folders.add_requested.connect(self.add_folder)
        self.folders.remove_requested.connect(self.removal.start)
        self.removal.started.connect(self._removal_changed)
        self.removal.ended.connect(self._removal_changed)
        self.first_run.pick_requested.connect(self.folders.pick_folder)
        self.first_run.folder_dropped.connect(self.add_folder)
        self.status.pause_requested.connect(self.pause_indexing)
        self.status.resume_requested.connect(self.resume_indexing)
        self.status.errors_requested.connect(self.show_errors)
        self.grid.chosen.connect(self.search_path)
        self.results.find_lookalikes.connect(self.search_path)
        for view in (self.grid, self.results.view):  # their menus offer "Add to the query", "Not like this"
            view.composing = True
            view.add_to_query.connect(self.searcher.add)
            view.not_like.connect(self.searcher.avoid)
        self.top_row.open_button.clicked.connect(self.open_image_dialog)
        self.search_box.returnPressed.connect(lambda: self.search_text(self.search_box.text()))
        self.search_box.image_pasted.connect(self.search_image)
        self.search_box.cleared.connect(self.searcher.clear)
        self.zoom.valueChanged.connect(self.grid.set_thumb_size)
        self.zoom.valueChanged.connect(self.placement.set_large_size)
        self.places.attach(self)

    def go_back(self) -> None:
        self.places.go_back()

    def show_names(self) -> None:
        """View ▸ Show file names: each photo's name under its thumbnail, in the grid and the results."""
        for view in (self.grid, self.results.view):
            view.set_names(self.names_action.isChecked())

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
        if self.removal.pending:  # a photo of the folder being removed is not shown (missing row: leaves)
            rows = {i: p for i, p in rows.items() if not self.removal.hides(p.path)}
        if self.filter_bar.filter.active:  # whether a changed photo passes is the core's to say
            self.session.load_photos(self.filter_bar.filter)
        else:
            self.grid_model.apply_changes(changes, rows)
        self.results.apply_changes(changes, rows)
        self.viewer.apply_changes(changes, rows)
        if self.compare_panel is not None:
            self.compare_panel.apply_changes(changes, rows)
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
        """The window goes at once; stopping the running batch at its next commit and saving the
        index (seconds on a large library) happen behind it, never with a frozen window on screen."""
        self._closed = True
        save_window(self)
        self.errors.close()
        self.hide()
        QGuiApplication.processEvents()  # let the window system take it off the screen now
        removing = self.removal.take()  # closed while Undo was offered: the removal still happens
        self.session.close(then=(RemoveFolder(removing),) if removing else ())
        super().closeEvent(event)

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
        self._status = status
        folders = [f for f in status.folders if not self.removal.hides(f.path)]
        self.folders.set_folders(folders, self.session.indexing)
        self.filter_bar.set_folders([f.path for f in folders], self._subfolders)
        self._show_welcome(not folders)  # only an open library reports its status: never before we know
        hidden = [f for f in status.folders if self.removal.hides(f.path)]  # counted as gone already
        self.status.set_photo_count(status.counts.photos - sum(f.photos for f in hidden),
                                    status.counts.indexed - sum(f.indexed for f in hidden))
        self.status.set_failures(len(status.failures))
        self.errors.set_failures(status.failures)
        self._show_count(self.grid_model.rowCount())  # an empty library is only known once its folders are

    def _show_welcome(self, on: bool) -> None:
        """An open library without folders shows the welcome alone: adding a folder is the one next step."""
        self.first_run.setVisible(on)
        for part in (self.grid, self.grid_caption, self.folders, self.placement.column):
            part.setVisible(not on)
        self.filter_bar.setVisible(not on and self.modes.mode in ("Library", RESULTS_MODE))

    def _on_photos(self, photos: list) -> None:
        if self.removal.pending:
            photos = [p for p in photos if not self.removal.hides(p.path)]
        self.grid_model.set_photos(photos)
        self._show_count(len(photos))
        if not self.filter_bar.filter.active:  # the folder filter offers every folder holding photos
            self._subfolders = {os.path.dirname(p.path) for p in photos}

    def _show_count(self, n: int) -> None:
        if self.filter_bar.filter.active:
            self.grid_caption.setText(f"{counted(n, 'photo')} pass{'es' if n == 1 else ''} the filter")
            return
        if n:
            self.grid_caption.setText(counted(n, "photo"))
        elif self.session.library is None or not self.folders.known:
            self.grid_caption.setText("Opening library…")  # not yet known to be empty: no call to action
        elif self.folders.list.count() == 0:
            self.grid_caption.setText("Add a folder (File ▸ Add folder…, or drop one here) to fill the library.")
        else:
            self.grid_caption.setText("")  # folders being scanned, or their photos being listed: not empty

    def _on_indexed(self, report: Any) -> None:
        self.status.set_indexing(False)
        # Photos that changed were announced by `changed` (and refreshed then); re-reading all of them
        # here would cost a stall on a large library after every no-op update. After a failure, re-read.
        self.session.refresh_status() if report is not None else self.refresh()
        if report is not None:
            # The unreadable count is the library's, on the errors button beside this; this run's own
            # count (often 0 on a re-run) would contradict it.
            s = report.summary()
            new = f", {s['embedded']:,} newly indexed" if s["embedded"] else ""  # "0 newly" reads as a failure
            self.status.showMessage(f"Up to date: {counted(s['scanned'], 'photo')}{new}", 6000)

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
            # The error that led here is answered: it must not stay beside the model now loading.
            self.status.clearMessage()
            if self.results.title.text().startswith(SEARCH_FAILED):
                self.results.show_message("Loading the chosen model…", "Search again once it is ready.")

    def _show_error(self, message: str) -> None:
        self.status.show_error(message)  # a failed search also says why in the results (Searcher)

    # -- folders ------------------------------------------------------------------------------------
    def add_folder(self, path: str) -> None:
        """Add a folder (picker, drop, welcome); adding back the folder being removed is its Undo."""
        if self.removal.pending is not None and os.path.abspath(path) == self.removal.pending:
            self.removal.undo()
        else:
            self.session.add_folder(path)

    def _removal_changed(self, _folder: str) -> None:
        """A removal started or ended: the folder panel and grid show the library as it will be."""
        if self._status is not None:
            self._on_status(self._status)
        self.session.load_photos(self.filter_bar.filter)

    # -- searching ------------------------------------------------------------------------------
    def search_path(self, path: str) -> None:
        self.searcher.like(path)
        if self.compare_panel is not None and self.compare_panel.isVisible():
            self.compare_panel.compare(path)

    def show_photo_asked_elsewhere(self, path: str) -> None:
        """`lookalike photo.jpg` (Open With) while this window runs: show it here, in front."""
        if self.session.library is None:  # asked while the library opens: search once it is open
            self._initial_image = path
        else:
            self.search_path(path)
        self.come_to_front()

    def come_to_front(self) -> None:
        """`lookalike` started again while this window runs: un-minimise it and bring it forward."""
        # Clearing only "minimised" keeps a maximised window maximised (showNormal would not).
        self.setWindowState((self.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
        self.show()
        self.raise_()
        self.activateWindow()

    def show_compare(self) -> None:
        """Show the side-by-side model comparison in a dock under the grid; it follows every photo
        clicked from now on, in the grid or in the results."""
        from desktop.compare_panel import dock_compare_panel

        if self.compare_dock is None:
            self.compare_dock = dock_compare_panel(self, self.session, self.cache)
            self.compare_panel = self.compare_dock.widget()
        self.compare_panel.refresh_models()
        self.compare_dock.show()
        self.compare_dock.raise_()
        if self.searcher.query.images and isinstance(first := self.searcher.query.images[0], str):
            self.compare_panel.compare(first)  # what is shown now, without a click

    def search_bytes(self, data: bytes) -> None:
        self.searcher.like(data)

    def search_image(self, image: str | bytes) -> None:
        self.search_bytes(image) if isinstance(image, bytes) else self.search_path(image)

    def search_text(self, text: str) -> None:
        """A typed text; with example photos in the query it joins them ("this one, but at night").
        Its answer fills the main area (Results mode): a text's matches are there to be looked through."""
        if text.strip():
            self.places.in_one_step(RESULTS_MODE, lambda: self.searcher.type_text(text))

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
            self.add_folder(folder)
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
