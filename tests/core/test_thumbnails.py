"""Thumbnails on disk: small, cached under the cache dir, remade when the photo changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from core.errors import DecodeError
from core.imaging.thumbnails import make_thumbnail, thumbnail_dir
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
