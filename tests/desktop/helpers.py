"""Small steps the desktop tests share: adding a folder the way a user does, and waiting for indexing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.qt import QDropEvent, QMimeData, QPointF, Qt, QUrl


def drop_urls(window: Any, paths: list[Path]) -> None:
    """Drop files or folders from the file manager onto the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def add_folder_and_wait(qtbot: Any, window: Any, folder: Path, photos: int) -> None:
    with qtbot.waitSignal(window.session.indexing_finished, timeout=60_000):
        window.folders.add_requested.emit(str(folder))
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == photos, timeout=10_000)


def result_scores(window: Any) -> list[float]:
    return [r.score for r in window.results.model.results]
