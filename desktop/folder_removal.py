"""Removing a library folder from the app: asked for once, undoable for a few seconds, then done.

Why the removal waits instead of being undone afterwards: `Library.remove_folder` forgets the folder's
photos and deletes the vectors nothing else uses at once (the same `RemoveFolder` intent the command
line's handed-over requests run), so re-adding the folder would mean hashing and embedding every photo
again, and its photo ids, facts and duplicate decisions would be new. A removal that has not happened
yet is undone exactly and instantly. So the views hide the folder at once (the folders panel, the grid),
the status bar offers Undo for `UNDO_MS`, and only then is the one `RemoveFolder` intent submitted;
closing the window meanwhile still removes it (`LibrarySession.close(then=...)`). What is removed is the
same as from anywhere else: the intent is unchanged, only its moment moves. Should the app die during
those seconds, nothing was removed: the safe way to fail (photos are never touched either way).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from core.library.intents import RemoveFolder
from desktop.qt import QHBoxLayout, QLabel, QMessageBox, QObject, QPushButton, QTimer, QWidget, Signal

if TYPE_CHECKING:
    from desktop.library_session import LibrarySession

UNDO_MS = 10_000  # long enough to read the message and reach the button; short enough to be forgotten


def confirm_removal(parent: QWidget | None, folder: str, photos: int) -> bool:
    """Ask before removing: say what is forgotten and that the photos stay. True for Remove."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Remove folder")
    box.setText(f"Remove {os.path.basename(folder) or folder} from the library?")
    box.setInformativeText(
        f"Lookalike forgets the {photos:,} photo{'s' if photos != 1 else ''} of {folder} and their "
        "look-alike data; the photos themselves stay where they are. You can add the folder again later.")
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Ok).setText("Remove")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter by habit must not remove
    return QMessageBox.StandardButton(box.exec()) == QMessageBox.StandardButton.Ok


class FolderRemoval(QObject):
    """At most one removal waiting for its undo time (`pending`). Views hide every folder `hides` names:
    the pending one and those submitted but not yet removed (the queue may be busy indexing), so a
    removed folder never shows again in between. `started`: Undo is offered; `decided`: no longer
    (undone or submitted); `ended`: the library is as the views may show it again (undone, or removed)."""

    started = Signal(str)
    decided = Signal()
    ended = Signal(str)

    def __init__(self, session: LibrarySession, undo_ms: int = UNDO_MS) -> None:
        super().__init__()
        self.session = session
        self.pending: str | None = None
        self._hidden: set[str] = set()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(undo_ms)
        self.timer.timeout.connect(self.commit)

    def start(self, folder: str) -> None:
        self.commit()  # a second removal ends the first one's undo time
        self.pending = folder
        self._hidden.add(folder)
        self.timer.start()
        self.started.emit(folder)

    def hides(self, path: str) -> bool:
        """Whether `path` (a folder or a photo) belongs to a folder being removed."""
        return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in self._hidden)

    def undo(self) -> None:
        if (folder := self.take()) is not None:
            self._shown(folder)

    def commit(self) -> None:
        if (folder := self.take()) is None:
            return

        def failed(exc: BaseException) -> None:
            self._shown(folder)
            self.session.error.emit(f"Could not remove {folder}: {exc}")

        self.session.submit(RemoveFolder(folder), lambda _result: self._shown(folder), failed)

    def take(self) -> str | None:
        """End the undo time without submitting anything; the folder it was for (closing uses this)."""
        self.timer.stop()
        folder, self.pending = self.pending, None
        if folder is not None:
            self.decided.emit()
        return folder

    def _shown(self, folder: str) -> None:
        self._hidden.discard(folder)
        self.ended.emit(folder)


class UndoBar(QWidget):
    """"Removed FOLDER — Undo", in the status bar while a removal can be undone."""

    def __init__(self, removal: FolderRemoval) -> None:
        super().__init__()
        self.label = QLabel()
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Keep this folder in the library")
        self.undo_button.clicked.connect(removal.undo)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.undo_button)
        removal.started.connect(self._show)
        removal.decided.connect(self.hide)
        self.hide()

    def _show(self, folder: str) -> None:
        self.label.setText(f"Removed {os.path.basename(folder.rstrip(os.sep)) or folder} —")
        self.show()
