"""`FirstRun`: what an open library with no folders shows in the main area, so adding a photo folder
is the obvious next step: a title, what Lookalike does in one sentence, one big button, and the whole
area is a drop target for folders.

The window shows it only once the library has opened and reported no folders (before that it does not
know yet, and a welcome flashing past on every start would be worse than none).
"""

from __future__ import annotations

from typing import Any

from desktop.image_input import dropped_folders
from desktop.qt import QLabel, QPushButton, Qt, QVBoxLayout, QWidget, Signal

WHAT_IT_DOES = ("Lookalike finds look-alikes among your photos: click a photo, drop an image or type "
                "what you are looking for. Your photos stay where they are.")


class FirstRun(QWidget):
    pick_requested = Signal()  # the button: the window opens its folder picker
    folder_dropped = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setAccessibleName("Welcome")
        self.title = QLabel("Welcome to Lookalike")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.title.setFont(font)
        self.sentence = QLabel(WHAT_IT_DOES)
        self.sentence.setWordWrap(True)
        # A fixed size: centred in a layout, a wrapping label is otherwise given one line's height and cut.
        self.sentence.setFixedWidth(460)
        self.sentence.setMinimumHeight(self.sentence.heightForWidth(460))
        self.add_button = QPushButton("Add a photo folder…")
        self.add_button.setDefault(True)
        button_font = self.add_button.font()
        button_font.setPointSizeF(button_font.pointSizeF() * 1.3)
        self.add_button.setFont(button_font)
        self.add_button.setMinimumSize(260, 48)
        self.add_button.clicked.connect(self.pick_requested.emit)
        self.hint = QLabel("or drop a folder here")
        self.hint.setEnabled(False)  # greyed: the secondary way
        column = QVBoxLayout(self)
        column.addStretch(1)
        for label in (self.title, self.sentence, self.hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.title, self.sentence, self.add_button, self.hint):
            column.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
            column.addSpacing(8)
        column.addStretch(1)

    def dragEnterEvent(self, event: Any) -> None:
        if dropped_folders(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        folders = dropped_folders(event.mimeData())
        for folder in folders:
            self.folder_dropped.emit(folder)
        if folders:
            event.acceptProposedAction()
