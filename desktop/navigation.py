"""`Navigation`: Back and Forward across the window's places, as in a web browser or a file manager.

A place is where the user was: the main area's mode and the query whose answer was shown. Visiting a
new place drops the forward history; going back or forward hands the place to the window, which shows
it again (a query is asked again: its answer may have changed since, and a search is cheap). Visiting
the place the user is already at adds nothing, so re-running a query after a filter change, or a
mode button pressed twice, never fills the history with copies. Qt-free except for its signal.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.composed_query import ComposedQuery
from desktop.qt import QIcon, QObject, QToolButton, Signal

# Enough for any session; the oldest places go first. A pasted image in a query costs its bytes.
MAX_PLACES = 100


@dataclass(frozen=True)
class Place:
    mode: str
    query: ComposedQuery = ComposedQuery()


class Navigation(QObject):
    changed = Signal()  # whether Back / Forward can be used changed
    go = Signal(object)  # Back or Forward: show this Place again

    def __init__(self) -> None:
        super().__init__()
        self._places: list[Place] = []
        self._at = -1

    @property
    def current(self) -> Place | None:
        return self._places[self._at] if self._at >= 0 else None

    def can_go_back(self) -> bool:
        return self._at > 0

    def can_go_forward(self) -> bool:
        return self._at < len(self._places) - 1

    def visit(self, place: Place) -> None:
        """The user went to `place` (not by Back or Forward): it becomes the newest place."""
        if place == self.current:
            return
        del self._places[self._at + 1:]
        self._places.append(place)
        if len(self._places) > MAX_PLACES:
            del self._places[0]
        self._at = len(self._places) - 1
        self.changed.emit()

    def back(self) -> None:
        if self.can_go_back():
            self._move(-1)

    def forward(self) -> None:
        if self.can_go_forward():
            self._move(1)

    def _move(self, step: int) -> None:
        self._at += step
        self.changed.emit()
        self.go.emit(self._places[self._at])


def nav_button(icon: str, tooltip: str) -> QToolButton:
    """A Back or Forward button: the desktop theme's arrow, or a plain one where the theme has none."""
    button = QToolButton()
    themed = QIcon.fromTheme(icon)
    if themed.isNull():
        button.setText("◀" if icon == "go-previous" else "▶")
    else:
        button.setIcon(themed)
    button.setToolTip(tooltip)
    button.setAccessibleName(tooltip.split(" (")[0])
    button.setAutoRaise(True)
    return button
