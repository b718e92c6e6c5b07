"""`ThumbDelegate`: draws one thumbnail cell (grid and results alike): the picture centred in a square,
a placeholder until it is ready, an optional caption line below, and the selection/focus highlight."""

from __future__ import annotations

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


class ThumbDelegate(QStyledItemDelegate):
    def __init__(self, cache: ThumbnailCache, size: int, captions: bool = False) -> None:
        super().__init__()
        self.cache = cache
        self.size = size
        self.captions = captions

    def caption_height(self, option: QStyleOptionViewItem) -> int:
        return option.fontMetrics.height() + CAPTION_GAP if self.captions else 0

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.size + 2 * PAD, self.size + 2 * PAD + self.caption_height(option))

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
        box = QRect(cell.x() + PAD, cell.y() + PAD, self.size, self.size)
        self._paint_picture(painter, box, str(index.data(PathRole)), palette)
        if self.captions:
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
            line = QRect(cell.x() + 2, box.bottom() + CAPTION_GAP, cell.width() - 4,
                         option.fontMetrics.height())  # type: ignore[attr-defined]
            painter.setPen(palette.text().color())  # the highlight is translucent: normal text reads best
            elided = option.fontMetrics.elidedText(  # type: ignore[attr-defined]
                text, Qt.TextElideMode.ElideMiddle, line.width())
            painter.drawText(line, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, elided)
        if option.state & QStyle.StateFlag.State_HasFocus:  # type: ignore[attr-defined]
            painter.setPen(QPen(palette.highlight().color(), 2))
            painter.drawRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6)
        painter.restore()

    def _paint_picture(self, painter: QPainter, box: QRect, path: str, palette: object) -> None:
        pixmap = self.cache.pixmap(path, self.size)
        if pixmap is not None:
            w = round(pixmap.width() / pixmap.devicePixelRatio())
            h = round(pixmap.height() / pixmap.devicePixelRatio())
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
