"""Desktop test fixtures: a real window on a real library (tiny model), and a guard that fails any test
leaving a background thread (QThread, Qt pool work or one of the app's worker threads) running."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
# The offscreen platform warns about window hints it cannot honour; that noise hides real warnings.
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")


def _app_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lookalike-") and t.is_alive()]


@pytest.fixture(autouse=True)
def no_threads_left_running(qapp: object) -> Iterator[None]:
    from desktop.qt import QThread, QThreadPool

    yield
    pool = QThreadPool.globalInstance()
    pool.waitForDone(2000)
    assert pool.activeThreadCount() == 0, "a Qt thread-pool task is still running"
    # QThreads created by a test are children of its widgets; any still running after close is a leak.
    from desktop.qt import QApplication

    running = [t for t in QApplication.instance().findChildren(QThread) if t.isRunning()]  # type: ignore[union-attr]
    assert not running, f"QThreads left running: {running}"
    assert not _app_threads(), f"worker threads left running: {_app_threads()}"


@pytest.fixture
def make_window(qtbot: object, tmp_path: Path, tiny_siglip_dir: Path) -> Iterator[object]:
    """A factory for the real main window on a fresh library with the tiny model, already opened."""
    from desktop.main_window import MainWindow

    windows: list[MainWindow] = []

    def make() -> MainWindow:
        window = MainWindow(data_dir=tmp_path / "data", model=str(tiny_siglip_dir), workers=0,
                            cache_dir=tmp_path / "cache")
        windows.append(window)
        window.show()
        qtbot.waitUntil(lambda: window.session.library is not None, timeout=20_000)  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: not window.session.indexing, timeout=20_000)  # type: ignore[attr-defined]
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture
def library_folder(photo_dir: Path) -> Path:
    """photo_dir (12 photos) plus an exact copy of img_03.jpg."""
    shutil.copy(photo_dir / "img_03.jpg", photo_dir / "img_03 copy.jpg")
    return photo_dir
