"""`TopRow`: the row over every mode but the viewer: Back and Forward, the search box, Open image…,
Jump to a month, and the thumbnail size."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.qt import QHBoxLayout, QLabel, QPushButton, QSlider, Qt, QWidget

SIZES = (72, 320)  # the size slider's range, in pixels


class TopRow(QWidget):
    def __init__(self, arrows: Sequence[QWidget], search_box: QWidget, date_jump: QWidget, size: int) -> None:
        super().__init__()
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Find look-alikes of an image file (Ctrl+O); or drop or paste one")
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(*SIZES)
        self.zoom.setValue(size)
        self.zoom.setMaximumWidth(160)
        self.zoom.setToolTip("Thumbnail size")
        self.zoom.setAccessibleName("Thumbnail size")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        for arrow in arrows:
            row.addWidget(arrow)
        row.addWidget(search_box, 1)
        row.addWidget(self.open_button)
        row.addWidget(date_jump)
        row.addSpacing(12)
        row.addWidget(QLabel("Size"))
        row.addWidget(self.zoom)
