"""`MainModes`: the window's one main area, shown in one mode at a time ("Library", "Results",
"Duplicates", and the "Viewer", which has no button), with a segmented switch above it.

Each mode is a widget added once; switching only raises it, so a mode keeps its state (the duplicates
list, the grid's scroll position) while another is shown. A mode widget with an `activate()` method is
told when it is shown (the duplicates workspace finds its groups then, not at start-up).
"""

from __future__ import annotations

from desktop.qt import QButtonGroup, QHBoxLayout, QStackedWidget, QToolButton, QVBoxLayout, QWidget, Signal


class MainModes(QWidget):
    mode_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.stack = QStackedWidget()
        self.buttons = QButtonGroup(self)
        self.buttons.setExclusive(True)
        self._names: list[str] = []
        self.previous = ""  # the mode shown before this one (the viewer goes back to it)
        self.bar = QHBoxLayout()
        self.bar.setContentsMargins(6, 6, 6, 0)
        self.bar.setSpacing(0)  # the buttons touch: one segmented control
        self.bar.addStretch(1)
        self.bar.addStretch(1)  # the switch sits centred between the two
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(self.bar)
        column.addWidget(self.stack, 1)
        self.buttons.idClicked.connect(lambda i: self.set_mode(self._names[i]))

    def add_mode(self, name: str, widget: QWidget, tooltip: str = "", in_bar: bool = True) -> None:
        """Add a mode; one not `in_bar` (the viewer) is entered by what the user does, never by a button."""
        button = QToolButton()
        button.setText(name)
        button.setCheckable(True)
        button.setToolTip(tooltip)
        button.setAccessibleName(f"{name} mode")
        self.buttons.addButton(button, len(self._names))
        self.bar.insertWidget(1 + len(self._names), button)
        button.setVisible(in_bar)
        self._names.append(name)
        self.stack.addWidget(widget)
        if len(self._names) == 1:
            button.setChecked(True)

    def button(self, name: str) -> QToolButton:
        return self.buttons.button(self._names.index(name))  # type: ignore[return-value]

    @property
    def mode(self) -> str:
        return self._names[self.stack.currentIndex()]

    def set_mode(self, name: str) -> None:
        i = self._names.index(name)
        self.buttons.button(i).setChecked(True)
        if i != self.stack.currentIndex():
            self.previous = self.mode
            self.stack.setCurrentIndex(i)
            self.mode_changed.emit(name)
        activate = getattr(self.stack.widget(i), "activate", None)
        if callable(activate):
            activate()
