"""One window per user and library: `lookalike [photo]` and `lookalike index FOLDER` started while the app
runs are done by that window (real second processes, a real window on a real library, tiny model)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library.facade import Library
from core.session.handoff import HandoffServer, Request
from core.session.owner import LibraryOwner
from desktop.single_instance import decide
from tests.desktop.helpers import add_folder_and_wait

REPO_ROOT = Path(__file__).resolve().parents[2]


def lookalike(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The `lookalike` entry point in a second process, headless; run() kills it if it overstays."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "desktop.launcher", *args], cwd=cwd or REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def in_background(qtbot: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """`lookalike ARGS` run while this test's window keeps handling its events; killed on a timeout."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "desktop.launcher", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=90_000)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_index_from_a_terminal_is_done_by_the_open_window_with_its_progress_shown(
    qtbot: Any, make_window: Any, library_folder: Path
) -> None:
    window = make_window()  # idle, no folders yet
    seen: list[tuple[str, bool]] = []  # the status bar's text and whether its bar showed, at each step
    window.status.bar.valueChanged.connect(
        lambda _v: seen.append((window.status.progress_label.text(), window.status.bar.isVisibleTo(window))))

    done = in_background(qtbot, "index", str(library_folder), "--data-dir", str(window.data_dir))

    assert done.returncode == 0, done.stderr
    assert "handing this to it" in done.stderr
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 13, timeout=20_000)
    qtbot.waitUntil(lambda: window.folders.folder_texts() == ["photos\n13 photos · indexed"], timeout=10_000)
    assert any(text and visible for text, visible in seen), seen


def test_a_photo_opened_while_the_app_runs_is_shown_in_its_window(
    qtbot: Any, make_window: Any, library_folder: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        done = lookalike("--data-dir", str(window.data_dir), "img_03.jpg", cwd=library_folder)  # relative

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Lookalike is already running; showing img_03.jpg there"
    assert "img_03.jpg" in window.results.title.text()
    assert window.results.result_paths()[0] == str(library_folder / "img_03 copy.jpg")


def test_starting_lookalike_again_brings_the_running_window_to_the_front(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.showMinimized()
    qtbot.waitUntil(window.isMinimized)
    with qtbot.waitSignal(window.session.raise_requested, timeout=10_000):
        done = lookalike("--data-dir", str(window.data_dir))

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Lookalike is already running; bringing its window to the front"
    qtbot.waitUntil(lambda: not window.isMinimized(), timeout=5_000)


# -- the decision alone, against a recording owner (no window needed) ---------------------------------------
@pytest.fixture
def asked(tmp_path: Path) -> Iterator[list[Request]]:
    """An owner's door that records what it is asked, on tmp_path/"data"; the window would answer so."""
    requests: list[Request] = []

    def handle(request: Request, emit: Any) -> dict[str, Any]:
        requests.append(request)  # before answering: the asker cannot exit before this is recorded
        return {"shown": request.args["image"]} if request.op == "show" else {"raised": True}

    server = HandoffServer(tmp_path / "data", handle)
    assert server.start()
    yield requests
    server.stop()


def test_a_photo_that_does_not_exist_is_an_error_and_nothing_is_sent(asked: list[Request], tmp_path: Path) -> None:
    done = lookalike("--data-dir", str(tmp_path / "data"), str(tmp_path / "phto.jpg"))
    assert done.returncode == 2 and "phto.jpg" in done.stderr
    launch = decide(tmp_path / "data", "phto.jpg")
    assert (launch.exit_code, launch.message) == (2, "lookalike: phto.jpg does not exist")
    assert decide(tmp_path / "data", str(tmp_path)).exit_code == 2  # a folder is not a photo either
    assert asked == []


def test_with_nobody_owning_the_library_the_window_opens_here(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"a photo")
    launch = decide(tmp_path / "data", str(photo))
    assert launch.opens_window and launch.image == str(photo)
    assert decide(None, None).opens_window  # the default data dir (LOOKALIKE_DATA_DIR in tests)


def test_a_running_app_is_asked_with_the_photos_absolute_path(
    asked: list[Request], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"a photo")
    monkeypatch.chdir(tmp_path)
    launch = decide(tmp_path / "data", "photo.jpg")
    assert not launch.opens_window and launch.exit_code == 0
    assert asked == [Request("show", {"image": str(tmp_path / "photo.jpg")})]


def test_a_command_owning_the_library_keeps_the_window_from_opening_and_says_so(
    library: Library, tmp_path: Path
) -> None:
    owner = LibraryOwner(library)  # as `lookalike index --watch` owns it: no window
    owner.start()
    try:
        launch = decide(library.data_dir, None)
    finally:
        owner.close()
    assert launch.exit_code == 2
    assert f"process {os.getpid()}" in launch.message and "lookalike index --watch" in launch.message
