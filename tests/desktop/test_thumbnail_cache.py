"""The in-memory pixmap cache: bounded by bytes, least recently shown dropped first, a hit keeps one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.tasks import TaskManager
from desktop.thumbnail_cache import MEMORY_BUDGET_ENV, ThumbnailCache
from tests.imagegen import write_photo

# write_photo makes 640 x 480 photos: a 128 px request gives a 128 x 96 pixmap, 49,152 bytes.
PIXMAP_BYTES = 128 * 96 * 4


@pytest.fixture
def tasks() -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown()


@pytest.fixture
def photos(tmp_path: Path) -> list[str]:
    out = []
    for i in range(6):
        write_photo(tmp_path / f"p{i}.jpg", seed=i)
        out.append(str(tmp_path / f"p{i}.jpg"))
    return out


def _show(qtbot: object, cache: ThumbnailCache, path: str, size: int = 128) -> None:
    if cache.pixmap(path, size) is None:
        qtbot.waitUntil(lambda: cache.has(path, size), timeout=10_000)  # type: ignore[attr-defined]
    assert not cache.failed(path)


def test_least_recently_shown_pixmaps_go_first_and_a_hit_keeps_one(
    qtbot: object, tasks: TaskManager, photos: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MEMORY_BUDGET_ENV, str(3.5 * PIXMAP_BYTES / (1024 * 1024)))  # room for three
    cache = ThumbnailCache(tasks, tmp_path / "cache")
    for path in photos[:3]:
        _show(qtbot, cache, path)
    assert cache.bytes_used == 3 * PIXMAP_BYTES

    assert cache.pixmap(photos[0], 128) is not None  # a hit: p0 is now the most recently shown
    _show(qtbot, cache, photos[3])
    assert [cache.has(p, 128) for p in photos[:4]] == [True, False, True, True]
    _show(qtbot, cache, photos[4])
    assert [cache.has(p, 128) for p in photos[:5]] == [True, False, False, True, True]
    assert cache.bytes_used == 3 * PIXMAP_BYTES <= cache.budget


def test_pixmaps_are_counted_in_device_pixels(
    qtbot: object, tasks: TaskManager, photos: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MEMORY_BUDGET_ENV, str(4.5 * PIXMAP_BYTES / (1024 * 1024)))
    cache = ThumbnailCache(tasks, tmp_path / "cache")
    cache.dpr = 2.0  # a HiDPI screen: a 128 px thumbnail is 256 x 192 device pixels, four times the bytes
    _show(qtbot, cache, photos[0])
    assert cache.bytes_used == 4 * PIXMAP_BYTES
    _show(qtbot, cache, photos[1])
    assert not cache.has(photos[0], 128)
    assert cache.bytes_used == 4 * PIXMAP_BYTES
