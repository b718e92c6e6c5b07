"""`ThumbView`: the virtualised icon-mode list both the library grid and the results use.

Uniform item sizes let Qt lay out 100,000 cells arithmetically and paint only the visible ones; the
delegate asks the thumbnail cache for each visible cell, so only what is on screen is ever decoded.
Click or Enter chooses a photo (find its look-alikes); double-click or Space shows it large; right-click offers more.

The rows fill the width exactly, as in Google Photos or Immich: as many columns as cells of the wanted
size fit (`fit_columns`), each cell stretched to the width / columns, the thumbnail drawn (and asked
for) at the stretched size; the few pixels a whole division leaves become equal side margins.
"""

from __future__ import annotations

from typing import Any

from desktop.photo_actions import open_or_say, show_photo_menu
from desktop.qt import QAbstractItemView, QListView, QModelIndex, QPoint, QSize, Qt, Signal
from desktop.thumb_delegate import PAD, ItemRole, PathRole, ThumbDelegate
from desktop.thumbnail_cache import ThumbnailCache

GAP = 4  # between neighbouring cells


def fit_columns(width: int, wanted: int) -> tuple[int, int]:
    """(columns, cell width) for a row `width` pixels wide of cells at least `wanted` wide: as many as
    fit (at least one), each widened so the row has no partial column."""
    columns = max(1, width // max(1, wanted))
    return columns, max(1, width // columns)


class ThumbView(QListView):
    chosen = Signal(str)  # path of a photo clicked or entered: show its look-alikes
    add_to_query = Signal(str)  # "Add to the query" (offered once `composing` is set)
    not_like = Signal(str)  # "Not like this"
    view_requested = Signal(int)  # double-click or Space on this row (once `opens_in_app` is set)

    def __init__(self, cache: ThumbnailCache, size: int, captions: bool = False) -> None:
        super().__init__()
        self.cache = cache
        self.composing = False  # the window sets it where the menu offers composed queries
        self.opens_in_app = False  # the window sets it where the built-in viewer shows a photo large
        self.thumb_delegate = ThumbDelegate(cache, size, captions)
        self.setItemDelegate(self.thumb_delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Always there: the cells' height follows the width, so a bar that came and went with the rows
        # it makes fit would change the width again, and the layout could flip back and forth.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setDragEnabled(False)
        self.setSpacing(0)  # the gap is inside each cell (GAP): spacing would push the last column over
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.clicked.connect(self._choose)
        self.doubleClicked.connect(self._view)
        cache.ready.connect(self._thumbnail_ready)  # a method: Qt drops the connection with the view
        self.wanted_size = size
        self.set_thumb_size(size)

    def set_thumb_size(self, size: int) -> None:
        """The size slider: thumbnails at least `size` pixels, as many columns as fit."""
        self.wanted_size = size
        self.fit_cells()

    def _thumbnail_ready(self, _path: str) -> None:
        self.viewport().update()

    def set_names(self, on: bool) -> None:
        """Show each photo's file name under its thumbnail (the cells grow by a line)."""
        self.thumb_delegate.names = on
        self.fit_cells()
        self.viewport().update()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_cells()

    def fit_cells(self) -> None:
        """Stretch the cells so that whole columns fill the width (the view's width or the slider changed)."""
        margins = self.viewportMargins()
        width = self.viewport().width() + margins.left() + margins.right()
        # Qt wraps a cell reaching the last pixel (its layout compares with the bounds' right(), width - 1).
        columns, cell = fit_columns(width - 1, self.wanted_size + 2 * PAD + GAP)
        spare = width - 1 - columns * cell  # fewer pixels than columns
        if (margins.left(), margins.right()) != (spare // 2, spare - spare // 2):
            self.setViewportMargins(spare // 2, 0, spare - spare // 2, 0)  # resizes the viewport: back here once
        self.thumb_delegate.set_box(cell - 2 * PAD - GAP)
        hint = self.thumb_delegate.sizeHint(self.viewOptions_(), QModelIndex())
        grid = QSize(cell, hint.height() + GAP)
        if grid != self.gridSize():
            self.setGridSize(grid)
            self.verticalScrollBar().setSingleStep(max(20, cell // 4))
            self.scheduleDelayedItemsLayout()

    def columns(self) -> int:
        """How many cells a row holds now."""
        return max(1, self.viewport().width() // max(1, self.gridSize().width()))

    def viewOptions_(self):  # type: ignore[no-untyped-def]
        from desktop.qt import QStyleOptionViewItem

        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        return option

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._choose(self.currentIndex())
            return
        if event.key() == Qt.Key.Key_Space and self.currentIndex().isValid():
            self._view(self.currentIndex())
            return
        super().keyPressEvent(event)

    def _view(self, index: QModelIndex) -> None:
        """Show the photo large: in the app's viewer where there is one, else in the system's."""
        if not index.isValid():
            return
        if self.opens_in_app:
            self.view_requested.emit(index.row())
        else:
            open_or_say(self, str(index.data(PathRole)))

    def _choose(self, index: QModelIndex) -> None:
        if index.isValid():
            self.chosen.emit(str(index.data(PathRole)))

    def _menu(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if index.isValid():
            show_photo_menu(self, self.viewport().mapToGlobal(pos), str(index.data(PathRole)),
                            self.chosen.emit, getattr(index.data(ItemRole), "companions", ()),
                            (self.add_to_query.emit, self.not_like.emit) if self.composing else None)
