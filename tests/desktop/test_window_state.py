"""The window reopens as the user left it (window.json in the library folder); a bad file is ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.main_window import DEFAULT_THUMB
from desktop.window_state import FILE_NAME, WindowState, default_rect, load_window_state, save_window_state


def test_the_window_reopens_with_its_size_layout_and_zoom(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window()
    # Within the offscreen platform's 800 x 800 screen (a restore fits the window on screen) and above the
    # window's minimum width (~790 px once the library is open); far from the default 1360 x 860.
    window.resize(796, 640)
    window.splitter.setSizes([0, 500, 296])  # the folders pane collapsed: unmistakable after a restore
    window.zoom.setValue(200)
    qtbot.waitUntil(lambda: window.height() == 640)
    size = window.size()
    assert window.splitter.sizes()[0] == 0
    window.close()
    saved = json.loads((tmp_path / "data" / FILE_NAME).read_text())
    assert saved["zoom"] == 200

    again = make_window()
    assert again.zoom.value() == 200
    assert again.size() == size
    assert again.splitter.sizes()[0] == 0  # the centre and results panes may share the rest differently


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"geometry": "%%%", "zoom": "big"}'])
def test_a_corrupt_window_file_is_ignored(qtbot, make_window, tmp_path: Path, content: bytes) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / FILE_NAME).write_bytes(content)
    window = make_window()
    screen = window.screen().availableGeometry()  # the default size, fitted to the offscreen screen
    assert window.height() == default_rect((screen.x(), screen.y(), screen.width(), screen.height()))[3]
    assert window.zoom.value() == DEFAULT_THUMB


def test_saving_never_creates_the_library_folder(tmp_path: Path) -> None:
    save_window_state(tmp_path / "no-library", WindowState(geometry=b"\x01\x02", zoom=150))
    assert not (tmp_path / "no-library").exists()


def test_each_good_field_survives_a_bad_neighbour(tmp_path: Path) -> None:
    save_window_state(tmp_path, WindowState(geometry=b"\x00geometry\xff", splitter=b"split", zoom=150))
    assert load_window_state(tmp_path) == WindowState(b"\x00geometry\xff", b"split", 150)
    doc = json.loads((tmp_path / FILE_NAME).read_text())
    doc["splitter"] = "not base64!"
    (tmp_path / FILE_NAME).write_text(json.dumps(doc))
    assert load_window_state(tmp_path) == WindowState(b"\x00geometry\xff", None, 150)
