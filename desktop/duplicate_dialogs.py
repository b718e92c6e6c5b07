"""The duplicates workspace's dialogs: the keeper rules in the user's order, the clean-up confirmation,
and what a clean-up did (moved, bytes freed, and each file not moved with its reason)."""

from __future__ import annotations

from core.duplicates.cleanup import CleanupPlan, TrashReport
from core.duplicates.keeper import RULE_WORDS, checked_rules
from desktop.duplicate_groups_model import size_text
from desktop.plurals import counted
from desktop.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)

RuleRole = Qt.ItemDataRole.UserRole + 1


class KeeperRulesDialog(QDialog):
    """The keeper rules, best first: drag them, or move the selected one with the buttons."""

    def __init__(self, rules: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Which photo to keep")
        self.rules = QListWidget()
        self.rules.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        for rule in checked_rules(rules):
            item = QListWidgetItem(f"{rule}: {RULE_WORDS[rule]}")
            item.setData(RuleRole, rule)
            self.rules.addItem(item)
        self.rules.setCurrentRow(0)
        up, down = QPushButton("Move up"), QPushButton("Move down")
        up.clicked.connect(lambda: self.move_current(-1))
        down.clicked.connect(lambda: self.move_current(1))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        side.addWidget(up)
        side.addWidget(down)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.rules, 1)
        row.addLayout(side)
        column = QVBoxLayout(self)
        column.addWidget(QLabel("The first rule that tells the photos apart decides which one is kept:"))
        column.addLayout(row)
        column.addWidget(buttons)

    def move_current(self, step: int) -> None:
        row = self.rules.currentRow()
        if 0 <= row + step < self.rules.count():
            item = self.rules.takeItem(row)
            self.rules.insertItem(row + step, item)
            self.rules.setCurrentRow(row + step)

    def chosen_rules(self) -> tuple[str, ...]:
        return tuple(self.rules.item(i).data(RuleRole) for i in range(self.rules.count()))


def confirmation(plan: CleanupPlan, parent: QWidget | None) -> QMessageBox:
    """The question asked before anything moves: the plan's own words, counts and bytes."""
    box = QMessageBox(QMessageBox.Icon.Question, "Move duplicates to the trash", plan.describe(),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter twice must not move files
    box.button(QMessageBox.StandardButton.Yes).setText("Move to trash")
    return box


class TrashReportDialog(QDialog):
    """What a clean-up did: files moved and bytes freed, then every file left where it was, and why."""

    def __init__(self, report: TrashReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Duplicates moved to the trash")
        self.resize(640, 320)
        moved = len(report.moved)
        refused = len(report.refused)
        self.summary = QLabel(f"Moved {counted(moved, 'file')} ({size_text(report.bytes)}) to the system trash."
                              + (f" {counted(refused, 'file')} {'was' if refused == 1 else 'were'} not moved:"
                                 if refused else ""))
        self.summary.setWordWrap(True)
        self.refused = QListWidget()
        for outcome in report.refused:
            self.refused.addItem(f"{outcome.path} — {outcome.reason}")
        self.refused.setVisible(bool(report.refused))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(self.summary)
        column.addWidget(self.refused, 1)
        column.addWidget(buttons)
