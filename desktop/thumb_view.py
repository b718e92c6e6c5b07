"""`ThumbView`: the virtualised icon-mode list both the library grid and the results use.

Uniform item sizes let Qt lay out 100,000 cells arithmetically and paint only the visible ones; the
delegate asks the thumbnail cache for each visible cell, so only what is on screen is ever decoded.
Click or Enter chooses a photo (find its look-alikes); double-click opens it; right-click offers more.
"""

from __future__ import annotations

from desktop.photo_actions import open_or_say, show_photo_menu
from desktop.qt import QAbstractItemView, QListView, QModelIndex, QPoint, QSize, Qt, Signal
from desktop.thumb_delegate import ItemRole, PathRole, ThumbDelegate
from desktop.thumbnail_cache import ThumbnailCache


class ThumbView(QListView):
    chosen = Signal(str)  # path of a photo clicked or entered: show its look-alikes
    add_to_query = Signal(str)  # "Add to the query" (offered once `composing` is set)
    not_like = Signal(str)  # "Not like this"

    def __init__(self, cache: ThumbnailCache, size: int, captions: bool = False) -> None:
        super().__init__()
        self.cache = cache
        self.composing = False  # the window sets it where the menu offers composed queries
        self.thumb_delegate = ThumbDelegate(cache, size, captions)
        self.setItemDelegate(self.thumb_delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setDragEnabled(False)
        self.setSpacing(2)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.clicked.connect(self._choose)
        self.doubleClicked.connect(lambda i: open_or_say(self, str(i.data(PathRole))))
        cache.ready.connect(lambda _path: self.viewport().update())
        self.set_thumb_size(size)

    def set_thumb_size(self, size: int) -> None:
        self.thumb_delegate.size = size
        hint = self.thumb_delegate.sizeHint(self.viewOptions_(), QModelIndex())
        self.setGridSize(QSize(hint.width() + 4, hint.height() + 4))
        self.verticalScrollBar().setSingleStep(max(20, size // 4))
        self.scheduleDelayedItemsLayout()

    def viewOptions_(self):  # type: ignore[no-untyped-def]
        from desktop.qt import QStyleOptionViewItem

        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        return option

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._choose(self.currentIndex())
            return
        super().keyPressEvent(event)

    def _choose(self, index: QModelIndex) -> None:
        if index.isValid():
            self.chosen.emit(str(index.data(PathRole)))

    def _menu(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if index.isValid():
            show_photo_menu(self, self.viewport().mapToGlobal(pos), str(index.data(PathRole)),
                            self.chosen.emit, getattr(index.data(ItemRole), "companions", ()),
                            (self.add_to_query.emit, self.not_like.emit) if self.composing else None)
