"""Removing a folder in the window: asked first, undoable while the status bar offers it, done after."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from core.library.facade import Library
from desktop.qt import QMessageBox, Qt
from tests.desktop.helpers import add_folder_and_wait


def vector_count(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "library.sqlite3") as conn:
        count: int = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    conn.close()
    return count


def answer_confirmation(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    """The modal box can't be clicked headless: answer it with `button`; returns the texts it showed."""
    shown: list[str] = []

    def exec_(box: QMessageBox) -> int:
        shown.append(f"{box.text()}\n{box.informativeText()}")
        return int(button.value)

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return shown


def click_remove(qtbot: Any, window: Any) -> None:
    window.folders.list.item(0).setSelected(True)
    qtbot.mouseClick(window.folders.remove_button, Qt.MouseButton.LeftButton)


def test_cancel_removes_nothing_and_undo_keeps_the_folder_its_photos_and_their_vectors(
    qtbot, make_window, library_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    vectors = vector_count(window.data_dir)
    assert vectors == 12  # 13 photos, one an exact copy

    shown = answer_confirmation(monkeypatch, QMessageBox.StandardButton.Cancel)
    click_remove(qtbot, window)
    assert str(library_folder) in shown[0] and "13 photos" in shown[0] and "stay where they are" in shown[0]
    assert window.removal.pending is None and not window.undo_bar.isVisibleTo(window)
    assert window.folders.list.count() == 1 and window.grid_model.rowCount() == 13

    answer_confirmation(monkeypatch, QMessageBox.StandardButton.Ok)
    click_remove(qtbot, window)
    assert window.removal.pending == str(library_folder)
    assert window.undo_bar.isVisibleTo(window) and library_folder.name in window.undo_bar.label.text()
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 0, timeout=10_000)  # hidden at once
    assert window.folders.list.count() == 0

    qtbot.mouseClick(window.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert not window.undo_bar.isVisibleTo(window) and not window.removal.timer.isActive()
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 13, timeout=10_000)
    assert window.folders.list.count() == 1
    window.removal.timer.timeout.emit()  # a late tick after Undo submits nothing
    # The write queue runs in order: once an update submitted now is done, any removal would have run.
    with qtbot.waitSignal(window.session.indexing_finished, timeout=30_000):
        window.session.update()
    assert [f.path for f in window.session.library.folders()] == [str(library_folder)]
    assert window.session.library.status().counts.photos == 13
    assert vector_count(window.data_dir) == vectors


def test_without_undo_the_folder_and_its_vectors_are_forgotten_when_the_time_is_up(
    qtbot, make_window, library_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    window.removal.timer.setInterval(20)  # the undo time, shortened: the real timer still decides
    answer_confirmation(monkeypatch, QMessageBox.StandardButton.Ok)
    with qtbot.waitSignal(window.removal.ended, timeout=10_000):  # the RemoveFolder job has finished
        click_remove(qtbot, window)
    assert not window.session.library.folders()
    assert window.session.library.status().counts.photos == 0
    assert vector_count(window.data_dir) == 0
    assert all(p.exists() for p in library_folder.iterdir())  # the photos themselves stay
    qtbot.waitUntil(lambda: window.first_run.isVisibleTo(window), timeout=10_000)
    assert window.grid_model.rowCount() == 0 and not window.undo_bar.isVisibleTo(window)


def test_closing_the_window_while_undo_is_offered_still_removes_the_folder(
    qtbot, make_window, library_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    answer_confirmation(monkeypatch, QMessageBox.StandardButton.Ok)
    click_remove(qtbot, window)
    # A paused queue stands for a busy one: what waits in it at close is dropped, the removal must not be.
    window.session.pause()
    window.close()
    lib = Library(window.data_dir, readonly=True)
    try:
        assert lib.folders() == [] and lib.status().counts.photos == 0
    finally:
        lib.close()
    assert vector_count(window.data_dir) == 0
