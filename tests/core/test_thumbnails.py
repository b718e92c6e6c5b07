"""Thumbnails on disk: small, cached under the cache dir, remade when the photo changes."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from core.errors import DecodeError
from core.imaging.thumbnails import DISK_BUDGET_ENV, make_thumbnail, thumbnail_dir
from tests.imagegen import write_photo


def test_a_thumbnail_fits_the_size_and_lives_in_the_cache_dir(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    write_photo(photo, seed=1, size=(640, 480))
    thumb = make_thumbnail(photo, 128, tmp_path / "cache")
    assert thumb.is_relative_to(thumbnail_dir(tmp_path / "cache"))
    with Image.open(thumb) as im:
        assert max(im.size) == 128
        assert im.size[0] > im.size[1]  # aspect ratio kept


def test_an_unchanged_photo_reuses_its_thumbnail_and_an_edited_one_gets_a_new_one(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    write_photo(photo, seed=1)
    first = make_thumbnail(photo, 128, tmp_path)
    stamp = first.stat().st_mtime_ns
    assert make_thumbnail(photo, 128, tmp_path) == first
    assert first.stat().st_mtime_ns == stamp
    write_photo(photo, seed=2)
    os.utime(photo, ns=(stamp + 10**9, stamp + 10**9))
    assert make_thumbnail(photo, 128, tmp_path) != first


def test_an_unreadable_photo_raises_decode_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 nope")
    with pytest.raises(DecodeError):
        make_thumbnail(bad, 128, tmp_path)
    assert not list(thumbnail_dir(tmp_path).rglob("*.jpg"))


def _age(path: Path, days: float) -> None:
    when = time.time() - days * 86400
    os.utime(path, (when, when))


def _cached_bytes(cache: Path) -> int:
    return sum(p.stat().st_size for p in thumbnail_dir(cache).rglob("*.jpg"))


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    out = []
    for i in range(12):
        write_photo(tmp_path / "photos" / f"p{i:02d}.jpg", seed=i)
        out.append(tmp_path / "photos" / f"p{i:02d}.jpg")
    return out


def test_the_disk_cache_prunes_least_recently_used_first_and_a_hit_keeps_a_thumbnail(
    tmp_path: Path, photos: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISK_BUDGET_ENV, "0.02")  # ~20 KB: four or five 256 px thumbnails of these photos
    budget = 0.02 * 1024 * 1024
    cache = tmp_path / "cache"
    used = [make_thumbnail(p, 256, cache) for p in photos[:3]]  # least recently used first
    for thumb, days in zip(used, (5, 4, 3), strict=True):
        _age(thumb, days)
    make_thumbnail(photos[0], 256, cache)  # a hit: the oldest becomes the most recently used
    used.append(used.pop(0))

    for photo in photos[3:]:
        used.append(make_thumbnail(photo, 256, cache))
        assert _cached_bytes(cache) <= budget
        kept = [t.exists() for t in used]
        first_kept = kept.index(True)
        assert all(kept[first_kept:]), f"a more recently used thumbnail went first: {kept}"
    assert not used[0].exists(), "the budget was never reached"
    assert kept.count(False) >= 3, "a single prune is not enough to tell an order"


def test_a_hit_on_a_day_old_thumbnail_marks_it_used(tmp_path: Path, photos: list[Path]) -> None:
    thumb = make_thumbnail(photos[0], 128, tmp_path)
    _age(thumb, 2)
    assert make_thumbnail(photos[0], 128, tmp_path) == thumb
    assert time.time() - thumb.stat().st_mtime < 60


def test_a_cache_left_over_budget_by_an_earlier_run_is_pruned_on_the_first_write(
    tmp_path: Path, photos: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = tmp_path / "earlier"
    old = [make_thumbnail(p, 512, earlier) for p in photos[:6]]  # made under the default 2 GB budget
    for thumb in old:
        _age(thumb, 10)
    cache = tmp_path / "cache"  # the same files, as a new process with a smaller budget finds them
    shutil.copytree(earlier, cache, copy_function=shutil.copy2)
    monkeypatch.setenv(DISK_BUDGET_ENV, "0.03")
    assert _cached_bytes(cache) > 0.03 * 1024 * 1024
    newest = make_thumbnail(photos[6], 512, cache)
    assert newest.exists()
    assert _cached_bytes(cache) <= 0.03 * 1024 * 1024
