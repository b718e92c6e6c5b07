"""`ZoomCanvas`: one picture drawn fitted to the widget, or zoomed around the cursor and panned by dragging.

Geometry is in the photo's own pixels (`source_size`, its full upright size), whatever picture stands
for it: the small grid thumbnail first, the screen-sized decode when it arrives. So 100% means one
photo pixel per screen pixel, and swapping the thumbnail for the large image keeps the zoom and place.
"""

from __future__ import annotations

from desktop.qt import QPainter, QPixmap, QPointF, QRect, QSize, Qt, QWidget, Signal

MIN_SCALE = 0.02
MAX_SCALE = 8.0
STEP = 1.25  # one + or - key, one wheel notch


class ZoomCanvas(QWidget):
    zoom_changed = Signal(float)  # the shown scale (photo pixels to screen pixels)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(120, 90)
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the viewer
        self.pixmap = QPixmap()
        self.source_size = QSize()
        self.fit = True
        self._scale = 1.0
        self._offset = QPointF()  # the photo's top-left in widget coordinates, when zoomed
        self._drag_from: QPointF | None = None

    # --- what is shown ---------------------------------------------------------------------------------

    def set_picture(self, pixmap: QPixmap, source_size: QSize, new_photo: bool) -> None:
        """Show `pixmap` standing for a photo of `source_size`; a new photo starts fitted."""
        self.pixmap = pixmap
        self.source_size = source_size if source_size.isValid() and not source_size.isEmpty() else (
            pixmap.deviceIndependentSize().toSize())
        if new_photo:
            self.fit = True
        self._clamp()
        self.update()
        self.zoom_changed.emit(self.scale())

    def scale(self) -> float:
        return self._fit_scale() if self.fit else self._scale

    def image_rect(self) -> QRect:
        """Where the photo is drawn, in widget coordinates."""
        s = self.scale()
        size = QSize(round(self.source_size.width() * s), round(self.source_size.height() * s))
        if self.fit:
            return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                         size.width(), size.height())
        return QRect(round(self._offset.x()), round(self._offset.y()), size.width(), size.height())

    # --- zoom ------------------------------------------------------------------------------------------

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        self.zoom_to(self.scale() * factor, at)

    def zoom_to(self, scale: float, at: QPointF | None = None) -> None:
        """Zoom keeping the photo point under `at` (the centre by default) where it is."""
        if self.source_size.isEmpty():
            return
        at = at if at is not None else QPointF(self.width() / 2, self.height() / 2)
        old_rect, old = self.image_rect(), self.scale()
        photo_point = (at - QPointF(old_rect.topLeft())) / old
        self._scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        self.fit = False
        self._offset = at - photo_point * self._scale
        self._clamp()
        self.update()
        self.zoom_changed.emit(self.scale())

    def toggle_fit(self, at: QPointF | None = None) -> None:
        """Fitted <-> 100% (around `at`), as `0` and a double-click do."""
        if self.fit:
            self.zoom_to(1.0, at)
        else:
            self.fit = True
            self.update()
            self.zoom_changed.emit(self.scale())

    def _fit_scale(self) -> float:
        if self.source_size.isEmpty():
            return 1.0
        # Fit shrinks a large photo to the window but never blows a small one up past 100%.
        return min(1.0, self.width() / self.source_size.width(), self.height() / self.source_size.height())

    def _clamp(self) -> None:
        """Keep a zoomed photo over the widget: centred along a side it does not fill, else no gap."""
        if self.fit:
            return
        w = self.source_size.width() * self._scale
        h = self.source_size.height() * self._scale
        x, y = self._offset.x(), self._offset.y()
        x = (self.width() - w) / 2 if w <= self.width() else min(0.0, max(self.width() - w, x))
        y = (self.height() - h) / 2 if h <= self.height() else min(0.0, max(self.height() - h, y))
        self._offset = QPointF(x, y)

    # --- events ----------------------------------------------------------------------------------------

    def paintEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if not self.pixmap.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 2)
            painter.drawPixmap(self.image_rect(), self.pixmap)

    def resizeEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        self._clamp()
        if self.fit:
            self.zoom_changed.emit(self.scale())

    def wheelEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and event.angleDelta().y():
            self.zoom_by(STEP if event.angleDelta().y() > 0 else 1 / STEP, event.position())
            event.accept()
        else:
            event.ignore()

    def mouseDoubleClickEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.toggle_fit(event.position())

    def mousePressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.button() == Qt.MouseButton.LeftButton and not self.fit:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self._drag_from is not None:
            self._offset += event.position() - self._drag_from
            self._drag_from = event.position()
            self._clamp()
            self.update()

    def mouseReleaseEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        self._drag_from = None
        self.unsetCursor()
