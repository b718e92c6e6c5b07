"""The window fits the screen it opens on: a first start is sized to the available desktop, a window
saved on a bigger screen is shrunk onto a smaller one with its panes in proportion and the look-alikes
at least two columns wide; and nothing claims the library is empty before it is open."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.qt import QRect
from desktop.window_state import FILE_NAME, clamp_rect, default_rect, pane_sizes
from tests.desktop.helpers import add_folder_and_wait

LAPTOP = (0, 0, 1280, 800)


def inside(rect: tuple[int, int, int, int], screen: tuple[int, int, int, int]) -> bool:
    return QRect(*screen).contains(QRect(*rect))


def test_a_first_window_fits_a_small_desktop_and_keeps_its_size_on_a_big_one() -> None:
    assert inside(default_rect(LAPTOP), LAPTOP)
    assert default_rect((0, 0, 2560, 1440))[2:] == (1360, 860)
    assert inside(default_rect((1920, 24, 1280, 776)), (1920, 24, 1280, 776))  # a second screen, a top bar


def test_a_window_saved_at_2560x1440_comes_back_inside_1280x800() -> None:
    assert clamp_rect((200, 100, 2400, 1350), LAPTOP) == (0, 0, 1280, 800)
    assert clamp_rect((900, 500, 1000, 700), LAPTOP) == (280, 100, 1000, 700)  # moved, not shrunk
    assert clamp_rect((10, 20, 800, 600), LAPTOP) == (10, 20, 800, 600)


def test_panes_come_back_in_proportion_with_the_lookalikes_two_columns_wide() -> None:
    assert pane_sizes([250, 1400, 850], 1250, 300) == [125, 700, 425]
    big = pane_sizes([250, 2000, 250], 1200, 300)  # a narrow pane on a 2,500 px screen
    assert sum(big) == 1200 and big[2] == 300 and big[0] == 120


def fits_screen(window) -> bool:
    """Inside the available desktop; as wide as the window's own minimum allows (the offscreen screen is
    800 px, less than the window's panes need side by side: then only the height and place can fit)."""
    screen, g = window.screen().availableGeometry(), window.geometry()
    return (screen.contains(g.topLeft()) and g.bottom() <= screen.bottom()
            and g.width() <= max(screen.width(), window.minimumSizeHint().width()))


def test_a_window_from_a_bigger_screen_fits_this_one(qtbot, make_window, tmp_path: Path, photo_dir: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / FILE_NAME).write_text(json.dumps({"panes": [300, 1600, 660], "zoom": 136}))
    window = make_window()
    add_folder_and_wait(qtbot, window, photo_dir, 12)  # a library with photos: every pane shows
    assert fits_screen(window), window.geometry()
    sizes = window.splitter.sizes()
    assert sum(sizes) <= window.width() and sizes[0] > 0
    qtbot.waitUntil(lambda: window.results.view.columns() >= 2)


def test_a_first_start_fits_the_offscreen_screen(make_window) -> None:
    window = make_window()
    assert fits_screen(window), window.geometry()


def test_nothing_says_the_library_is_empty_before_it_is_open(qtbot, make_window, tmp_path: Path) -> None:
    from desktop.main_window import MainWindow

    window = MainWindow(data_dir=tmp_path / "closed", cache_dir=tmp_path / "cache")  # never shown: never opened
    try:
        texts = window.folders.empty.text() + window.grid_caption.text()
        assert "No folders" not in texts and "Add a folder" not in texts
    finally:
        window.close()
    opened = make_window()  # an empty library, open: now the call to action is right
    qtbot.waitUntil(lambda: "Add a folder" in opened.grid_caption.text())
    assert "No folders" in opened.folders.empty.text()
