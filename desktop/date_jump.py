"""`DateJump`: browse the library grid by date: a list of the years and months present ("2024 · Aug
(123)"), newest first like the grid, that scrolls the grid to the first photo of the month chosen.

`months` reads the grid's sorted list in one pass, and computes a calendar date only where the month
changes (the list is newest first, so each month is one run): 100,000 photos take a few milliseconds.
It is recomputed a moment after the grid changes, not per change record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from desktop.qt import QAbstractItemView, QComboBox, QTimer

if TYPE_CHECKING:
    from core.library.records import Photo
    from desktop.photo_grid import PhotoGrid, PhotoGridModel

RECOUNT_MS = 500  # after the grid changes: a burst of change records is counted once


@dataclass(frozen=True)
class Month:
    year: int
    month: int  # 0: photos without a date (listed last)
    first_row: int
    count: int

    @property
    def label(self) -> str:
        if not self.month:
            return f"No date ({self.count:,})"
        return f"{self.year} · {datetime(self.year, self.month, 1):%b} ({self.count:,})"


def months(photos: list[Photo]) -> list[Month]:
    """The months present in `photos` (browse order: newest first, undated last), each with its first row."""
    out: list[Month] = []
    start = end = None  # the current month's span of taken_at: [start, end)
    first = 0
    key: tuple[int, int] | None = None
    for row, photo in enumerate(photos):
        taken = photo.taken_at
        if taken is not None and start is not None and end is not None and start <= taken < end:
            continue
        if key is not None:
            out.append(Month(key[0], key[1], first, row - first))
        first = row
        if taken is None:
            out.append(Month(0, 0, row, len(photos) - row))  # undated photos are all last
            return out
        day = datetime.fromtimestamp(taken)
        begin = datetime(day.year, day.month, 1)
        after = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1)
        key, start, end = (day.year, day.month), begin.timestamp(), after.timestamp()
    if key is not None:
        out.append(Month(key[0], key[1], first, len(photos) - first))
    return out


class DateJump(QComboBox):
    """The "jump to" control above the grid."""

    def __init__(self, grid: PhotoGrid, model: PhotoGridModel) -> None:
        super().__init__()
        self.grid, self.grid_model = grid, model
        self.setAccessibleName("Jump to month")
        self.setToolTip("Jump to a month: the grid is newest first")
        self.setMinimumContentsLength(18)
        self.months: list[Month] = []
        self._timer = QTimer(self, singleShot=True, interval=RECOUNT_MS)
        self._timer.timeout.connect(self.recount)
        model.applied.connect(self._timer.start)
        model.modelReset.connect(self._timer.start)
        self.activated.connect(self.jump)

    def recount(self) -> None:
        self.months = months(self.grid_model.photos())
        self.blockSignals(True)
        self.clear()
        self.addItem("Jump to…")
        for month in self.months:
            self.addItem(month.label)
        self.blockSignals(False)

    def jump(self, index: int) -> None:
        """Scroll the grid so the chosen month's first photo is at the top, and make it current."""
        if 1 <= index <= len(self.months):
            target = self.grid_model.index(self.months[index - 1].first_row)
            self.grid.setCurrentIndex(target)
            self.grid.scrollTo(target, QAbstractItemView.ScrollHint.PositionAtTop)
        self.setCurrentIndex(0)
