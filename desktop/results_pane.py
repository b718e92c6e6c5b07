"""The look-alikes pane: `ResultsModel` (a list of SearchResult, best first) and `ResultsPane` (the query
at the top, the results below with their similarity). Reusable: a side-by-side model comparison can
put two of these next to each other; it only needs a thumbnail cache and `show_results`."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeAlias

from desktop.browse_order import is_listed
from desktop.photo_actions import describe
from desktop.plurals import counted
from desktop.qt import (
    QAbstractListModel,
    QHBoxLayout,
    QLabel,
    QModelIndex,
    QPersistentModelIndex,
    QPixmap,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.thumb_delegate import ItemRole, PathRole
from desktop.thumb_view import ThumbView
from desktop.thumbnail_cache import ThumbnailCache

if TYPE_CHECKING:
    from core.library.facade import SearchResult
    from core.library.records import Photo
    from core.store.changes import LibraryChanges

AnyIndex: TypeAlias = "QModelIndex | QPersistentModelIndex"
QUERY_SIZE = 96


class ResultsModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[SearchResult] = []

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.results)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{r.score:.3f}"  # the name is in the tooltip; a short caption stays readable
        if role == PathRole:
            return r.path
        if role == ItemRole:
            return r
        if role == Qt.ItemDataRole.ToolTipRole:
            return describe(r.path, r.width, r.height, r.taken_at, r.score, r.match)
        return None

    def set_results(self, results: list[SearchResult]) -> None:
        self.beginResetModel()
        self.results = list(results)
        self.endResetModel()

    def apply_changes(self, changes: LibraryChanges, rows: dict[int, Photo]) -> None:
        """Follow a change record (`rows` as for `PhotoGridModel.apply_changes`): a result whose photo
        was removed, or is no longer listed (gone or offline), leaves; a moved or updated one takes its
        new path and details and keeps its score and place."""
        touched = {*changes.added, *changes.moved, *changes.updated}
        removed = set(changes.removed)
        for row in reversed(range(len(self.results))):  # bottom up, so the rows above keep their numbers
            r = self.results[row]
            photo = rows.get(r.photo_id)
            if r.photo_id in removed or (r.photo_id in touched and (photo is None or not is_listed(photo))):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.results[row]
                self.endRemoveRows()
            elif r.photo_id in touched and photo is not None:
                self.results[row] = replace(r, path=photo.path, width=photo.width, height=photo.height,
                                            taken_at=photo.taken_at)
                self.dataChanged.emit(self.index(row), self.index(row))


class ResultsPane(QWidget):
    find_lookalikes = Signal(str)  # a result was clicked/entered or "Find look-alikes of this" chosen
    all_thumbnails_shown = Signal()  # every result's thumbnail is on screen (or known unreadable)

    def __init__(self, cache: ThumbnailCache, size: int = 112) -> None:
        super().__init__()
        self.cache = cache
        self.model = ResultsModel()
        self.query_picture = QLabel()
        self.query_picture.setFixedSize(QUERY_SIZE, QUERY_SIZE)
        self.query_picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("Click a photo to see its look-alikes")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.detail = QLabel("…or type a description above, drop an image here, or paste one (Ctrl+V).")
        self.detail.setWordWrap(True)
        self.view = ThumbView(cache, size, captions=True)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Look-alikes")
        self.view.chosen.connect(self.find_lookalikes.emit)
        self._query_path: str | None = None
        self._noun = "look-alike"
        self._waiting = False
        cache.ready.connect(self._thumbnail_ready)
        self._layout()

    def _layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.query_picture)
        words = QVBoxLayout()
        words.addWidget(self.title)
        words.addWidget(self.detail)
        words.addStretch(1)
        header.addLayout(words, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)

    def show_results(self, title: str, results: list[SearchResult], query_path: str | None = None,
                     query_pixmap: QPixmap | None = None, noun: str = "look-alike") -> None:
        """Show `results` (best first) for a query described by `title`, with its picture if any; `noun`
        names one result ("match" for a text's)."""
        self.title.setText(title)
        self._noun = noun
        self.detail.setText(_count_line(results, noun))
        self._query_path = query_path
        self.query_picture.setPixmap(query_pixmap or QPixmap())
        self.model.set_results(results)
        self.view.scrollToTop()
        if results:
            self.view.setCurrentIndex(self.model.index(0, 0))
        # Ask for every thumbnail now, not only the visible ones; reversed because the cache serves the
        # newest request first, so the best match appears first.
        for r in reversed(results):
            self.cache.pixmap(r.path, self.view.thumb_delegate.size)
        self._refresh_query_picture()
        self._waiting = True
        self._check_all_shown()

    def apply_changes(self, changes: LibraryChanges, rows: dict[int, Photo]) -> None:
        """Follow a library change record; see `ResultsModel.apply_changes`."""
        before = len(self.model.results)
        self.model.apply_changes(changes, rows)
        if len(self.model.results) != before:
            self.detail.setText(_count_line(self.model.results, self._noun))
        for r in self.model.results:  # a moved result's thumbnail is cached under its old path
            self.cache.pixmap(r.path, self.view.thumb_delegate.size)
        self._check_all_shown()  # the thumbnail still awaited may have been a removed result's

    def show_message(self, title: str, detail: str = "") -> None:
        self.title.setText(title)
        self.detail.setText(detail)

    def result_paths(self) -> list[str]:
        return [r.path for r in self.model.results]

    def thumbnails_shown(self) -> bool:
        size = self.view.thumb_delegate.size
        return all(self.cache.has(r.path, size) for r in self.model.results)

    def _thumbnail_ready(self, path: str) -> None:
        if path == self._query_path:
            self._refresh_query_picture()
        self._check_all_shown()

    def _refresh_query_picture(self) -> None:
        if self._query_path and os.path.exists(self._query_path):
            pixmap = self.cache.pixmap(self._query_path, QUERY_SIZE)
            if pixmap is not None:
                self.query_picture.setPixmap(pixmap)

    def _check_all_shown(self) -> None:
        if self._waiting and self.thumbnails_shown():
            self._waiting = False
            self.all_thumbnails_shown.emit()


def _count_line(results: list[SearchResult], noun: str) -> str:
    if not results:
        return f"No {counted(0, noun).split(' ', 1)[1]} found."
    return f"{counted(len(results), noun)}, best {results[0].score:.3f}"
