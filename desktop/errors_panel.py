"""The errors panel: photos that could not be read and why, gathered in one window the user opens from
the status bar, instead of a dialog per bad file."""

from __future__ import annotations

from desktop.photo_actions import show_in_folder_or_say
from desktop.plurals import counted
from desktop.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class ErrorsPanel(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Photos that could not be read")
        self.resize(760, 360)
        self.summary = QLabel()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Photo", "Reason"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.cellDoubleClicked.connect(self._show_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.set_failures([])

    def set_failures(self, failures: list[tuple[str, str]]) -> None:
        self.failures = list(failures)
        self.summary.setText(
            f"{counted(len(failures), 'photo')} could not be read and {'was' if len(failures) == 1 else 'were'} "
            "skipped. They stay out of the index until they change; "
            "double-click one to show its folder." if failures else "Every photo was read.")
        self.table.setRowCount(len(failures))
        for row, (path, reason) in enumerate(failures):
            self.table.setItem(row, 0, QTableWidgetItem(path))
            self.table.setItem(row, 1, QTableWidgetItem(reason))
        self.table.resizeColumnToContents(0)

    def _show_folder(self, row: int, _column: int) -> None:
        if (item := self.table.item(row, 0)) is not None:
            show_in_folder_or_say(self, item.text())
