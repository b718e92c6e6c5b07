"""The grid shows a file manager's valid shared thumbnail at the default zoom without decoding the photo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.main_window import DEFAULT_THUMB
from desktop.tasks import TaskManager
from desktop.thumbnail_cache import ThumbnailCache
from tests.core.test_shared_thumbnails import write_entry
from tests.imagegen import write_photo


@pytest.fixture
def tasks() -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown()


def test_the_grid_shows_the_shared_thumbnail_of_a_photo_it_could_not_decode(
    qtbot: object, tasks: TaskManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    photo = write_photo(tmp_path / "photos" / "p.jpg", seed=1)
    write_entry(tmp_path / "xdg-cache" / "thumbnails", "large", photo)  # solid red, 256 x 192
    st = photo.stat()
    photo.write_bytes(b"not a photo")  # only the shared entry can give a thumbnail now
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))

    cache = ThumbnailCache(tasks, tmp_path / "own-cache")
    if cache.pixmap(str(photo), DEFAULT_THUMB) is None:
        qtbot.waitUntil(lambda: cache.has(str(photo), DEFAULT_THUMB), timeout=10_000)  # type: ignore[attr-defined]
    assert not cache.failed(str(photo))
    pixmap = cache.pixmap(str(photo), DEFAULT_THUMB)
    assert pixmap is not None and pixmap.width() == DEFAULT_THUMB
    colour = pixmap.toImage().pixelColor(pixmap.width() // 2, pixmap.height() // 2)
    assert (colour.red(), colour.green(), colour.blue()) == pytest.approx((255, 0, 0), abs=8)
