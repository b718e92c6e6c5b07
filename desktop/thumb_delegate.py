"""`ThumbDelegate`: draws one thumbnail cell (grid and results alike): the picture centred in a square,
a placeholder until it is ready, an optional caption line below, and the selection/focus highlight.

`box` is the square the picture fills (the view stretches it so the columns fill the width); `size`, what
the thumbnail cache is asked for, is `box` rounded up to a step, so dragging a window's edge pixel by
pixel asks for a new thumbnail only every few pixels, scaled down to the box when drawn."""

from __future__ import annotations

import os

from desktop.qt import (
    QColor,
    QModelIndex,
    QPainter,
    QPainterPath,
    QPen,
    QPersistentModelIndex,
    QRect,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
)
from desktop.thumbnail_cache import ThumbnailCache

PathRole = Qt.ItemDataRole.UserRole + 1  # str: the photo's path
ItemRole = Qt.ItemDataRole.UserRole + 2  # the row's object (Photo or SearchResult)
PAD = 6
CAPTION_GAP = 4
SIZE_STEP = 16


class ThumbDelegate(QStyledItemDelegate):
    def __init__(self, cache: ThumbnailCache, size: int, captions: bool = False) -> None:
        super().__init__()
        self.cache = cache
        self.captions = captions  # the model's DisplayRole line (a result's similarity)
        self.names = False  # the file's name on a line of its own (View ▸ Show file names)
        self.box = self.size = size
        self.set_box(size)

    def set_box(self, box: int) -> None:
        """Draw pictures in squares of `box` pixels (and ask the cache for the next step up)."""
        self.box = max(1, box)
        self.size = -(-self.box // SIZE_STEP) * SIZE_STEP

    def caption_height(self, option: QStyleOptionViewItem) -> int:
        lines = int(self.captions) + int(self.names)
        return lines * option.fontMetrics.height() + CAPTION_GAP if lines else 0

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.box + 2 * PAD, self.box + 2 * PAD + self.caption_height(option))

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        cell = option.rect  # type: ignore[attr-defined]
        palette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        if selected:
            bg = QColor(palette.highlight().color())
            bg.setAlpha(90)
            path = QPainterPath()
            path.addRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6)
            painter.fillPath(path, bg)
        box = QRect(cell.x() + (cell.width() - self.box) // 2, cell.y() + PAD, self.box, self.box)
        self._paint_picture(painter, box, str(index.data(PathRole)), palette)
        texts = [str(index.data(Qt.ItemDataRole.DisplayRole) or "")] if self.captions else []
        if self.names:
            texts.append(os.path.basename(str(index.data(PathRole))))
        top = box.bottom() + CAPTION_GAP
        painter.setPen(palette.text().color())  # the highlight is translucent: normal text reads best
        for text in texts:
            height = option.fontMetrics.height()  # type: ignore[attr-defined]
            line = QRect(cell.x() + 2, top, cell.width() - 4, height)
            elided = option.fontMetrics.elidedText(  # type: ignore[attr-defined]
                text, Qt.TextElideMode.ElideMiddle, line.width())
            painter.drawText(line, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, elided)
            top += height
        if option.state & QStyle.StateFlag.State_HasFocus:  # type: ignore[attr-defined]
            painter.setPen(QPen(palette.highlight().color(), 2))
            painter.drawRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6)
        painter.restore()

    def _paint_picture(self, painter: QPainter, box: QRect, path: str, palette: object) -> None:
        pixmap = self.cache.pixmap(path, self.size)
        if pixmap is not None:
            w = pixmap.width() / pixmap.devicePixelRatio()
            h = pixmap.height() / pixmap.devicePixelRatio()
            fit = min(1.0, box.width() / max(w, h, 1))  # the cached size is a step above the box
            w, h = round(w * fit), round(h * fit)
            painter.drawPixmap(QRect(box.x() + (box.width() - w) // 2, box.y() + (box.height() - h) // 2, w, h),
                               pixmap)
            return
        placeholder = QColor(palette.mid().color())  # type: ignore[attr-defined]
        placeholder.setAlpha(60)
        rounded = QPainterPath()
        rounded.addRoundedRect(box.adjusted(4, 4, -4, -4), 4, 4)
        painter.fillPath(rounded, placeholder)
        if self.cache.failed(path):
            painter.setPen(palette.text().color())  # type: ignore[attr-defined]
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "unreadable")
