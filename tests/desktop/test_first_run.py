"""The first run: an open library without folders shows a welcome whose one obvious step is adding a
folder (a button or a drop), and it gives way to the grid once there is one."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.main_window import MainWindow
from desktop.qt import QFileDialog, Qt
from tests.desktop.helpers import drop_urls


def test_the_welcome_waits_for_the_library_to_open(qtbot, tmp_path: Path) -> None:
    window = MainWindow(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    qtbot.addWidget(window)
    assert not window.first_run.isVisibleTo(window)  # not known yet whether the library has folders
    window.close()


def test_an_empty_library_welcomes_and_a_folder_dropped_on_the_welcome_is_added(
    qtbot, make_window, library_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.first_run.isVisibleTo(window), timeout=10_000)
    for part in (window.grid, window.folders, window.results, window.filter_bar):  # the welcome alone
        assert not part.isVisibleTo(window)
    assert window.first_run.add_button.text() == "Add a photo folder…"
    assert "drop a folder here" in window.first_run.hint.text()

    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: asked.append("picker") or "")
    qtbot.mouseClick(window.first_run.add_button, Qt.MouseButton.LeftButton)
    assert asked == ["picker"]  # the button opens the folder picker (cancelled here: nothing added)

    with qtbot.waitSignal(window.session.indexing_finished, timeout=60_000):
        drop_urls(window.first_run, [library_folder])
    qtbot.waitUntil(lambda: not window.first_run.isVisibleTo(window), timeout=10_000)
    assert [f.path for f in window.session.library.folders()] == [str(library_folder)]
    for part in (window.grid, window.folders, window.results, window.filter_bar):
        assert part.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 13, timeout=10_000)


def test_choosing_a_local_model_in_the_offline_dialog_clears_the_error_it_answered(
    qtbot, make_window, tiny_siglip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.main_window
    from core.errors import ModelUnavailableError

    window = make_window()
    from desktop.search_controls import SEARCH_FAILED

    # A search was running when the model turned out to be missing: it failed, and said so.
    window.searcher._tag, window.searcher.running = 7, True
    why = "siglip2-base-224 is not downloaded and there is no connection"
    window.session.search_failed.emit(7, why)
    window._show_error(why)
    assert window.status.currentMessage() and window.results.title.text().startswith(SEARCH_FAILED)
    # The dialog is modal: answer it with a model folder, as a user choosing one would.
    monkeypatch.setattr(desktop.main_window, "ask_for_local_model", lambda error, parent: str(tiny_siglip_dir))
    window.session.model_unavailable.emit(ModelUnavailableError("offline", model="siglip2-base-224"))
    assert window.status.currentMessage() == ""
    assert not window.results.title.text().startswith(SEARCH_FAILED)
