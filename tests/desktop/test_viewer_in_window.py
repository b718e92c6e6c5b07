"""The viewer inside the window: a double-click shows a grid photo large, the arrows walk the grid's
order, Escape comes back to the grid at the photo reached, and "Find look-alikes" shows them large."""

from __future__ import annotations

from pathlib import Path

from desktop.qt import Qt
from tests.desktop.helpers import add_folder_and_wait


def test_a_double_clicked_photo_opens_large_and_the_arrows_walk_the_grid(
    qtbot, make_window, library_folder: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    grid, model = window.grid, window.grid_model
    rect = grid.visualRect(model.index(2))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.modes.mode == "Viewer", timeout=5_000)
    assert window.modes.mode == "Viewer"
    assert window.viewer.current_path() == model.photo_at(2).path
    assert not window.top_row.isVisibleTo(window)  # the photo gets the window

    qtbot.keyClick(window.viewer, Qt.Key.Key_Right)
    assert window.viewer.current_path() == model.photo_at(3).path
    qtbot.keyClick(window.viewer, Qt.Key.Key_Escape)
    assert window.modes.mode == "Library" and window.top_row.isVisibleTo(window)
    assert grid.currentIndex().row() == 3  # the grid is where the viewer went

    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Space)  # Space shows the current photo large too
    assert window.viewer.current_path() == model.photo_at(3).path
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.viewer.buttons["Find look-alikes"].click()
    assert window.modes.mode == "Results"
    assert Path(model.photo_at(3).path).name in window.results.title.text()

    window.go_back()  # Back from the results returns to the library, not into the viewer
    assert window.modes.mode == "Library"


def test_a_result_opens_large_among_the_results(qtbot, make_window, library_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(str(library_folder / "img_03.jpg"))
    view = window.results.view
    view.setCurrentIndex(window.results.model.index(0, 0))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert window.viewer.current_path() == str(library_folder / "img_03 copy.jpg")
    qtbot.keyClick(window.viewer, Qt.Key.Key_End)
    assert window.viewer.current_path() == window.results.result_paths()[-1]
    window.go_back()
    assert window.modes.mode == "Library"
