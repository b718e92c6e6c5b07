"""`ChangeFollower`: turns the library's change records into row updates the views apply by id.

Records arrive per batch; for `REFRESH_MS` they are merged, then the rows of just the photos they name
are read off the GUI thread, one read at a time (two reads racing on the pool could land an older
snapshot after a newer record). Nothing else is re-read, however large the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.store.changes import LibraryChanges
from desktop.qt import QObject, QTimer, Signal

if TYPE_CHECKING:
    from desktop.library_session import LibrarySession

REFRESH_MS = 300  # merge records for this long, then apply them at once


class ChangeFollower(QObject):
    rows_ready = Signal(object, object)  # LibraryChanges, {photo id: Photo} of the photos it names
    failed = Signal()  # a record could not be followed: the views re-read everything once

    def __init__(self, session: LibrarySession) -> None:
        super().__init__()
        self.session = session
        self._pending = LibraryChanges()  # records not yet read
        self._reading = False
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self._read)
        session.changed.connect(self._on_changes)

    def _on_changes(self, changes: LibraryChanges) -> None:
        self._pending = self._pending.merged(changes)
        if not self._timer.isActive():
            self._timer.start()

    def _read(self) -> None:
        if self._reading:
            return  # the read in flight restarts the timer when it lands
        changes, self._pending = self._pending, LibraryChanges()
        if changes:
            self._reading = True
            self.session.fetch_rows(changes, self._on_rows, self._on_failed)

    def _on_rows(self, changes: LibraryChanges, rows: dict) -> None:
        self._reading = False
        if self._pending:
            self._timer.start()  # records that came in meanwhile
        self.rows_ready.emit(changes, rows)

    def _on_failed(self) -> None:
        self._reading = False
        self.failed.emit()
