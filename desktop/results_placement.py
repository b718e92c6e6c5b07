"""`ResultsPlacement`: where the search results are shown. In Library mode they sit in the side pane
beside the grid (click a photo, see its look-alikes while browsing); in Results mode the same pane,
with its controls, fills the main area at the grid's thumbnail size (a text search's answer is
something to look through, not a strip at the side).

There is one results column, moved between the two places, so one model, one query line and one
set of controls hold the answer: nothing is mirrored or kept in step. Qt moves a widget out of the
splitter when it is given another parent; the splitter's sizes are kept and restored around it.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.qt import QSplitter, QVBoxLayout, QWidget
from desktop.results_pane import ResultsPane

RESULTS_MODE = "Results"
SIDE_SIZE = 112  # the side pane's thumbnails: three columns in its default width


class ResultsPlacement:
    def __init__(self, column: QWidget, pane: ResultsPane, splitter: QSplitter,
                 large_size: Callable[[], int]) -> None:
        self.column, self.pane, self.splitter = column, pane, splitter
        self._large_size = large_size
        self.page = QWidget()
        self.page.setAccessibleName("Results")
        self._layout = QVBoxLayout(self.page)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._side_index = splitter.indexOf(column)
        self._sizes: list[int] = []

    @property
    def large(self) -> bool:
        return self.column.parent() is self.page

    def follow(self, mode: str) -> None:
        """The main area now shows `mode`: put the results where that mode shows them."""
        if mode == RESULTS_MODE and not self.large:
            self._sizes = self.splitter.sizes()
            self._layout.addWidget(self.column)
            self.column.show()
            self.pane.view.set_thumb_size(self._large_size())
        elif mode != RESULTS_MODE and self.large:
            self.splitter.insertWidget(self._side_index, self.column)
            self.column.show()
            if self._sizes:
                self.splitter.setSizes(self._sizes)
            self.pane.view.set_thumb_size(SIDE_SIZE)

    def library_sizes(self) -> list[int]:
        """The Library mode's pane widths, also while the results are away from it (to be saved)."""
        return self._sizes if self.large else self.splitter.sizes()

    def set_large_size(self, size: int) -> None:
        """The size slider: it sizes the results too while they fill the main area."""
        if self.large:
            self.pane.view.set_thumb_size(size)
