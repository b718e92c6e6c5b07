"""`FilterBar`: what narrows the library grid and every search (date range, folder, type, camera,
orientation, resolution, location), with its state in words always visible and one click to clear it.

The bar only gathers what the user typed; `core.library.filters.parse_filter` decides what it means, so
the app and `lookalike search --after ...` accept the same values. A value the core refuses shows its
`FilterError` beside the bar and changes nothing: the last good filter stays applied.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from core.library.filters import ORIENTATIONS, FilterError, PhotoFilter, parse_filter
from desktop.qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

ANY = "any"
# The types a user picks from; "raw" covers every camera maker's RAW (core.library.filters.TYPES).
TYPE_CHOICES = ("jpeg", "heic", "png", "raw", "dng", "webp", "tiff", "gif", "avif", "bmp")


class FilterBar(QWidget):
    changed = Signal(object)  # PhotoFilter, after every accepted change (an empty one when cleared)

    def __init__(self) -> None:
        super().__init__()
        self.after = _field("from", "any, e.g. 2024-08", 130)
        self.before = _field("to", "any, e.g. 2024", 120)
        self.folder = QComboBox()
        self.folder.setAccessibleName("Folder filter")
        self.folder.setMaximumWidth(220)
        self.type = _combo("Type filter", TYPE_CHOICES)
        self.camera = _field("Camera filter", "any, e.g. iPhone", 130)
        self.orientation = _combo("Orientation filter", ORIENTATIONS)
        self.megapixels = QDoubleSpinBox()
        self.megapixels.setAccessibleName("Minimum megapixels")
        self.megapixels.setRange(0, 500)
        self.megapixels.setDecimals(1)
        self.megapixels.setSpecialValueText("any MP")  # 0 shows as "any MP": no minimum
        self.megapixels.setSuffix(" MP")
        self.megapixels.setToolTip("At least this many megapixels")
        self.location = QCheckBox("with location")
        self.clear_button = QPushButton("Clear filter")
        self.clear_button.setToolTip("Show every photo again")
        self.state = QLabel()
        self.state.setAccessibleName("Filter state")
        self.message = QLabel()
        self.message.setAccessibleName("Filter error")
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setWordWrap(True)
        self.filter = PhotoFilter()
        self._roots: tuple[str, ...] = ()
        self._layout()
        self._connect()
        self.set_folders((), ())
        self._show_state()

    def _layout(self) -> None:
        # Two short rows: one row of eight fields squeezed the date fields below what a date needs.
        when = _row(("From", self.after), ("to", self.before), ("Folder", self.folder), ("Type", self.type))
        what = _row(("Camera", self.camera), ("", self.orientation), ("", self.megapixels), ("", self.location))
        what.addWidget(self.clear_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(when)
        column.addLayout(what)
        line = QHBoxLayout()
        line.addWidget(self.state)
        line.addWidget(self.message, 1)
        column.addLayout(line)

    def _connect(self) -> None:
        for edit in (self.after, self.before, self.camera):
            edit.editingFinished.connect(self.apply)
        for combo in (self.folder, self.type, self.orientation):
            combo.currentIndexChanged.connect(lambda _i: self.apply())
        self.megapixels.editingFinished.connect(self.apply)
        self.location.toggled.connect(lambda _on: self.apply())
        self.clear_button.clicked.connect(self.clear)

    # -- what the library holds --------------------------------------------------------------------
    def set_folders(self, roots: Iterable[str], subfolders: Iterable[str]) -> None:
        """The folder choices: each library folder, then the subfolders that hold photos."""
        self._roots = tuple(roots)
        chosen = self.folder.currentData()
        choices = sorted({*self._roots, *subfolders})
        self.folder.blockSignals(True)  # refilling the list is no change of filter
        self.folder.clear()
        self.folder.addItem("any folder", None)
        for path in choices:
            inside = next((r for r in self._roots if path != r and path.startswith(os.path.join(r, ""))), None)
            label = os.path.relpath(path, os.path.dirname(inside)) if inside else os.path.basename(path) or path
            self.folder.addItem(label, path)
            self.folder.setItemData(self.folder.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        found = self.folder.findData(chosen) if chosen else 0
        self.folder.setCurrentIndex(max(found, 0))
        self.folder.blockSignals(False)

    # -- applying --------------------------------------------------------------------------------
    def apply(self) -> None:
        """Parse what the bar holds; emit `changed` when it is a new valid filter, else show why not."""
        try:
            f = parse_filter(
                after=self.after.text().strip() or None, before=self.before.text().strip() or None,
                folder=self.folder.currentData(), types=_chosen(self.type), camera=self.camera.text(),
                orientation=_chosen(self.orientation), min_megapixels=self.megapixels.value() or None,
                has_location=self.location.isChecked(), library_folders=self._roots,
            )
        except FilterError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("; ".join(f.notes))
        if f != self.filter:
            self.filter = f
            self._show_state()
            self.changed.emit(f)

    def clear(self) -> None:
        """Every field back to "any", in one step (one `changed`)."""
        widgets = (self.after, self.before, self.camera, self.folder, self.type, self.orientation,
                   self.megapixels, self.location)
        for w in widgets:
            w.blockSignals(True)
        self.after.clear()
        self.before.clear()
        self.camera.clear()
        for combo in (self.folder, self.type, self.orientation):
            combo.setCurrentIndex(0)
        self.megapixels.setValue(0)
        self.location.setChecked(False)
        for w in widgets:
            w.blockSignals(False)
        self.apply()
        self.message.clear()

    def _show_state(self) -> None:
        active = self.filter.active
        self.state.setText(f"Filter: {self.filter.describe()}" if active else "Filter: none")
        font = self.state.font()
        font.setBold(active)
        self.state.setFont(font)
        self.clear_button.setEnabled(active)


def _row(*fields: tuple[str, QWidget]) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for label, widget in fields:
        if label:
            row.addWidget(QLabel(label))
        row.addWidget(widget)
    row.addStretch(1)
    return row


def _field(name: str, placeholder: str, width: int) -> QLineEdit:
    edit = QLineEdit()
    edit.setAccessibleName(f"{name.capitalize()} date" if name in ("from", "to") else name)
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.setMinimumWidth(width)
    edit.setMaximumWidth(width + 40)
    return edit


def _combo(name: str, choices: Iterable[str]) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.addItem(ANY, None)
    for choice in choices:
        combo.addItem(choice, choice)
    return combo


def _chosen(combo: QComboBox) -> str | None:
    data = combo.currentData()
    return str(data) if data else None
