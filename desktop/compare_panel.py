"""`ComparePanel`: the clicked photo's look-alikes under two models, side by side.

It lives in a dock at the bottom of the main window (which the user may float), never in a window of
its own: a separate window went behind the main one at every click in the grid, the very clicks that
drive the comparison.

Each side is a `ResultsPane` on the shared thumbnail cache; the searches run on the read pool through
`Library.search_with_model`, which reads the other model's vectors without switching the library to it.
A model that has not indexed this library yet says so instead of showing an empty list.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from core.embedding.registry import KNOWN_MODELS
from desktop.qt import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.results_pane import ResultsPane

if TYPE_CHECKING:
    from core.library.facade import Library, ModelInfo, SearchResult
    from desktop.library_session import LibrarySession
    from desktop.thumbnail_cache import ThumbnailCache


class CompareSide(QWidget):
    """One column: a model picker above a results pane."""

    model_changed = Signal()

    def __init__(self, cache: ThumbnailCache, label: str) -> None:
        super().__init__()
        self.picker = QComboBox()
        self.picker.setAccessibleName(label)
        self.picker.currentIndexChanged.connect(lambda _i: self.model_changed.emit())
        self.pane = ResultsPane(cache, size=104)
        row = QHBoxLayout()
        row.addWidget(QLabel(label))
        row.addWidget(self.picker, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.pane, 1)

    def set_models(self, models: list[ModelInfo], preferred: str | None) -> None:
        current = self.model() or preferred
        self.picker.blockSignals(True)
        self.picker.clear()
        for m in models:
            name = KNOWN_MODELS[m.key].label if m.key in KNOWN_MODELS else os.path.basename(m.source)
            self.picker.addItem(f"{name} — {m.indexed} photos", m.source)
        index = self.picker.findData(current) if current else -1
        self.picker.setCurrentIndex(max(index, 0))
        self.picker.blockSignals(False)

    def model(self) -> str | None:
        data = self.picker.currentData()
        return str(data) if data else None


class ComparePanel(QWidget):
    """`compare(path)` is called for every photo the user clicks while the panel is shown."""

    compared = Signal()  # both sides show results for the current photo

    def __init__(self, session: LibrarySession, cache: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.left = CompareSide(cache, "Model A")
        self.right = CompareSide(cache, "Model B")
        self.hint = QLabel("Click a photo in the main window to compare what each model finds.")
        self.hint.setWordWrap(True)
        self._path: str | None = None
        self._pending = 0
        sides = QHBoxLayout()
        sides.addWidget(self.left, 1)
        sides.addWidget(self.right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(sides, 1)
        self.left.model_changed.connect(self._again)
        self.right.model_changed.connect(self._again)

    def refresh_models(self) -> None:
        """Fill the pickers with the models that have indexed this library (read off the GUI thread)."""
        lib = self.session.library
        if lib is not None:
            self.session.tasks.read(lib.models, self._set_models, lambda e: self.hint.setText(str(e)))

    def _set_models(self, models: list[ModelInfo]) -> None:
        active = next((m.source for m in models if m.active), None)
        other = next((m.source for m in models if not m.active), active)
        self.left.set_models(models, active)
        self.right.set_models(models, other)
        if len(models) < 2:
            self.hint.setText(
                "Only one model has indexed this library. Choose another model in Preferences: it embeds "
                "the library once (switching back is instant), then both appear here."
            )
        self._again()

    def compare(self, path: str) -> None:
        self._path = path
        lib = self.session.library
        if lib is None:
            return
        sides = [(side, model) for side in (self.left, self.right) if (model := side.model()) is not None]
        self._pending = len(sides)
        for side, model in sides:
            side.pane.show_message(f"Look-alikes of {os.path.basename(path)}", "Searching…")
            self._search(lib, side, model, path)

    def _search(self, lib: Library, side: CompareSide, model: str, path: str) -> None:
        k = self.session.settings.results_k

        def search() -> list[SearchResult]:
            return lib.search_with_model(model, path, k=k, exclude_self=True)

        def show(results: list[SearchResult]) -> None:
            self._show(side, path, results)

        def failed(exc: BaseException) -> None:
            self._failed(side, exc)

        self.session.tasks.read(search, show, failed)

    def _again(self) -> None:
        if self._path is not None:
            self.compare(self._path)

    def apply_changes(self, changes: Any, rows: dict) -> None:
        """Follow a library change record on both sides (a removed photo leaves, a moved one follows)."""
        for side in (self.left, self.right):
            side.pane.apply_changes(changes, rows)

    def _show(self, side: CompareSide, path: str, results: Any) -> None:
        if path != self._path:
            return  # a newer photo was clicked meanwhile
        side.pane.show_results(f"Look-alikes of {os.path.basename(path)}", results, query_path=path)
        self._done()

    def _failed(self, side: CompareSide, exc: BaseException) -> None:
        side.pane.show_message("This model could not search", str(exc))
        self._done()

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.compared.emit()


def dock_compare_panel(window: QMainWindow, session: LibrarySession, cache: ThumbnailCache) -> QDockWidget:
    """A ComparePanel in a dock under `window`'s main area (floatable), a little under half its height."""
    dock = QDockWidget("Compare models", window)
    dock.setObjectName("compare-models")
    dock.setWidget(ComparePanel(session, cache))
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.resizeDocks([dock], [int(window.height() * 0.45)], Qt.Orientation.Vertical)
    return dock
