"""The freedesktop shared thumbnail cache: a file manager's valid thumbnail spares decoding the photo; a
stale, foreign, too small or broken one is ignored; nothing is ever written there."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from core.imaging.shared_thumbnails import (
    entry_name,
    file_uri,
    find_shared_thumbnail,
    load_shared_thumbnail,
    shared_thumbnail_root,
)
from core.imaging.thumbnails import make_thumbnail
from tests.imagegen import write_photo

RED = (255, 0, 0)


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared cache a file manager would fill, under a private XDG_CACHE_HOME."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "thumbnails"


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return write_photo(tmp_path / "My Photos" / "café 1.jpg", seed=3, size=(640, 480))


def write_entry(
    shared: Path, folder: str, photo: Path, *, colour: tuple[int, int, int] = RED,
    dims: tuple[int, int] = (256, 192), text: dict[str, str] | None = None,
) -> Path:
    """A thumbnail as a file manager writes it: a PNG named by the md5 of the URI, with its text keys."""
    uri = file_uri(photo)
    keys = {"Thumb::URI": uri, "Thumb::MTime": str(int(photo.stat().st_mtime))} if text is None else text
    info = PngImagePlugin.PngInfo()
    for key, value in keys.items():
        info.add_text(key, value)
    entry = shared / folder / entry_name(uri)
    entry.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", dims, colour).save(entry, "PNG", pnginfo=info)
    return entry


def mean_colour(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64).reshape(-1, 3).mean(axis=0)


def is_red(path: Path) -> bool:
    return bool(np.abs(mean_colour(path) - RED).max() < 8)


def test_the_spec_example_uri_and_its_md5() -> None:
    uri = file_uri("/home/jens/photos/me.png")
    assert uri == "file:///home/jens/photos/me.png"
    assert entry_name(uri) == "c6ee772d9e49320e97ec29a7eb5b1697.png"


def test_spaces_non_ascii_and_reserved_characters_are_encoded_as_glib_does() -> None:
    # The expected strings are what `gio info` (GLib's g_filename_to_uri) prints for these paths.
    assert file_uri("/tmp/My Photos/café ;#?%[]~!$&'()*+,=:@.jpg") == (
        "file:///tmp/My%20Photos/caf%C3%A9%20%3B%23%3F%25%5B%5D~!$&'()*+,=:@.jpg"
    )
    assert file_uri(os.fsdecode(b"/tmp/latin1-\xe9t\xe9.jpg")) == "file:///tmp/latin1-%E9t%E9.jpg"
    assert entry_name(file_uri("/tmp/My Photos/a b.jpg")) == (
        hashlib.md5(b"file:///tmp/My%20Photos/a%20b.jpg").hexdigest() + ".png"
    )


@pytest.mark.skipif(shutil.which("gio") is None, reason="GLib's gio tool is not installed")
def test_the_uri_matches_glibs_for_a_real_awkward_file_name(tmp_path: Path) -> None:
    awkward = tmp_path / "Ünïcode dir" / "a b;c#d?e%f[g]h~i!j$k&l'm(n)o*p+q,r=s:t@u.jpg"
    awkward.parent.mkdir()
    awkward.write_bytes(b"")
    out = subprocess.run(["gio", "info", "-a", "standard::name", str(awkward)],
                         capture_output=True, text=True, check=True).stdout
    glib_uri = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("uri: "))
    assert file_uri(awkward) == glib_uri


def test_a_valid_entry_is_used_instead_of_decoding_the_photo(shared: Path, photo: Path, tmp_path: Path) -> None:
    write_entry(shared, "large", photo)
    # The photo becomes undecodable, its mtime kept: only the shared entry can give a thumbnail now.
    st = photo.stat()
    photo.write_bytes(b"not a photo at all")
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))
    thumb = make_thumbnail(photo, 256, tmp_path / "own-cache")
    assert thumb.is_relative_to(tmp_path / "own-cache")  # ours is kept in our own cache
    assert is_red(thumb)
    with Image.open(thumb) as im:
        assert im.size == (256, 192)


def test_the_smallest_big_enough_folder_wins_and_a_bigger_one_is_scaled_down(
    shared: Path, photo: Path, tmp_path: Path
) -> None:
    write_entry(shared, "x-large", photo, dims=(512, 384))
    write_entry(shared, "xx-large", photo, colour=(0, 0, 255), dims=(1024, 768))
    assert find_shared_thumbnail(photo, 256) == shared / "x-large" / entry_name(file_uri(photo))
    thumb = make_thumbnail(photo, 256, tmp_path / "own-cache")
    assert is_red(thumb)
    with Image.open(thumb) as im:
        assert im.size == (256, 192)


def test_a_matching_thumb_size_is_accepted_and_a_different_one_is_not(shared: Path, photo: Path) -> None:
    base = {"Thumb::URI": file_uri(photo), "Thumb::MTime": str(int(photo.stat().st_mtime))}
    write_entry(shared, "large", photo, text={**base, "Thumb::Size": str(photo.stat().st_size)})
    assert load_shared_thumbnail(photo, 256) is not None
    write_entry(shared, "large", photo, text={**base, "Thumb::Size": str(photo.stat().st_size + 1)})
    assert load_shared_thumbnail(photo, 256) is None


STALE = {
    "an mtime a second later": lambda uri, mtime: {"Thumb::URI": uri, "Thumb::MTime": str(mtime + 1)},
    "an mtime a second earlier": lambda uri, mtime: {"Thumb::URI": uri, "Thumb::MTime": str(mtime - 1)},
    "another file's URI": lambda uri, mtime: {"Thumb::URI": uri + "x", "Thumb::MTime": str(mtime)},
    "an unencoded URI": lambda uri, mtime: {"Thumb::URI": uri.replace("%20", " "), "Thumb::MTime": str(mtime)},
    "no MTime": lambda uri, mtime: {"Thumb::URI": uri},
    "no URI": lambda uri, mtime: {"Thumb::MTime": str(mtime)},
    "a garbled MTime": lambda uri, mtime: {"Thumb::URI": uri, "Thumb::MTime": "yesterday"},
}


@pytest.mark.parametrize("keys", STALE.values(), ids=STALE.keys())
def test_an_entry_not_describing_the_file_as_it_is_now_is_ignored(
    shared: Path, photo: Path, tmp_path: Path, keys: object
) -> None:
    text = keys(file_uri(photo), int(photo.stat().st_mtime))  # type: ignore[operator]
    write_entry(shared, "large", photo, text=text)
    assert load_shared_thumbnail(photo, 256) is None
    assert not is_red(make_thumbnail(photo, 256, tmp_path / "own-cache"))  # made from the photo


def test_an_entry_in_a_folder_too_small_for_the_wanted_size_is_ignored(
    shared: Path, photo: Path, tmp_path: Path
) -> None:
    write_entry(shared, "normal", photo, dims=(128, 96))
    assert load_shared_thumbnail(photo, 256) is None
    assert not is_red(make_thumbnail(photo, 256, tmp_path / "own-cache"))
    assert load_shared_thumbnail(photo, 128) is not None  # big enough for 128 px


def _truncated(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[:100])


def _garbage(entry: Path) -> None:
    entry.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))


def _a_jpeg(entry: Path) -> None:
    Image.new("RGB", (256, 192), RED).save(entry, "JPEG")


CORRUPT = {"truncated": _truncated, "garbage after the signature": _garbage, "a JPEG named .png": _a_jpeg}


@pytest.mark.parametrize("spoil", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_corrupt_entry_is_ignored(shared: Path, photo: Path, tmp_path: Path, spoil: object) -> None:
    entry = write_entry(shared, "large", photo)
    spoil(entry)  # type: ignore[operator]
    assert load_shared_thumbnail(photo, 256) is None
    assert not is_red(make_thumbnail(photo, 256, tmp_path / "own-cache"))


def test_an_entry_bigger_than_its_folder_allows_is_ignored(shared: Path, photo: Path) -> None:
    write_entry(shared, "large", photo, dims=(600, 450))
    assert load_shared_thumbnail(photo, 256) is None


@pytest.mark.skipif(os.name == "posix" and os.geteuid() == 0, reason="root reads every file")
def test_the_thumbnail_of_a_photo_the_user_cannot_read_is_not_shown(shared: Path, photo: Path) -> None:
    write_entry(shared, "large", photo)
    photo.chmod(0)
    try:
        assert load_shared_thumbnail(photo, 256) is None
    finally:
        photo.chmod(0o644)


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode)
            for p in [root, *root.rglob("*")]}


def test_nothing_is_ever_written_under_the_shared_cache(shared: Path, tmp_path: Path) -> None:
    photos = [write_photo(tmp_path / "p" / f"{i}.jpg", seed=i) for i in range(4)]
    write_entry(shared, "large", photos[0])  # valid
    write_entry(shared, "large", photos[1], text={"Thumb::URI": file_uri(photos[1]), "Thumb::MTime": "1"})
    _truncated(write_entry(shared, "x-large", photos[2], dims=(512, 384)))
    (shared / "fail" / "gnome-thumbnail-factory").mkdir(parents=True)
    before = _snapshot(shared)
    for photo in photos:  # a hit, a stale entry, a corrupt one, none at all; every size
        for size in (128, 256, 512):
            make_thumbnail(photo, size, tmp_path / "own-cache")
    assert _snapshot(shared) == before


def test_without_a_shared_cache_none_is_created(shared: Path, photo: Path, tmp_path: Path) -> None:
    make_thumbnail(photo, 256, tmp_path / "own-cache")
    assert not shared.parent.exists()


def test_the_shared_cache_is_under_xdg_cache_home_or_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert shared_thumbnail_root() == tmp_path / "xdg" / "thumbnails"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/invalid")
    assert shared_thumbnail_root() == tmp_path / "home" / ".cache" / "thumbnails"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert shared_thumbnail_root() == tmp_path / "home" / ".cache" / "thumbnails"
