"""Symlinks in library folders: each photo is stored once, under its path without links (real files,
real links, a real SQLite store; no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.indexing.scanner import scan, scan_paths
from core.store.database import Store
from tests.imagegen import write_photo


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "library.sqlite3")


def _stored(store: Store) -> list[str]:
    return sorted(p.path for f in store.folders() for p in store.photos_in_folder(f.id))


def _library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    write_photo(lib / "real" / "a.jpg", seed=1)
    write_photo(lib / "real" / "b.jpg", seed=2)
    return lib


def test_a_photo_reached_directly_and_through_a_linked_folder_is_stored_once_without_links(
    tmp_path: Path, store: Store,
) -> None:
    lib = _library(tmp_path)
    for name in ("alias", "b-alias", "c-alias", "s-alias", "z-alias"):
        # Whichever the walk met first used to claim the photos (the folder was then seen): one of these,
        # unless "real" happened to come first in the folder's listing.
        (lib / name).symlink_to(lib / "real")
    store.add_folder(str(lib))
    report = scan(store)
    assert _stored(store) == [str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg")]
    assert report.scanned == 2


def test_a_linked_file_pointing_at_a_library_photo_is_not_a_second_photo(tmp_path: Path, store: Store) -> None:
    lib = _library(tmp_path)
    (lib / "best.jpg").symlink_to(lib / "real" / "a.jpg")
    store.add_folder(str(lib))
    scan(store)
    assert _stored(store) == [str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg")]
    # The watcher reporting the link changes nothing either.
    scan_paths(store, [str(lib / "best.jpg")])
    assert _stored(store) == [str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg")]


def test_a_library_folder_that_is_a_link_keeps_its_own_spelling(tmp_path: Path, store: Store) -> None:
    lib = _library(tmp_path)
    pictures = tmp_path / "Pictures"
    pictures.symlink_to(lib)  # ~/Pictures -> /data/Pictures
    store.add_folder(str(pictures))
    scan(store)
    assert _stored(store) == [str(pictures / "real" / "a.jpg"), str(pictures / "real" / "b.jpg")]


def test_a_link_into_another_library_folder_leaves_the_photo_with_that_folder(tmp_path: Path, store: Store) -> None:
    lib = _library(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "shortcut").symlink_to(lib / "real")
    store.add_folder(str(other))
    lib_folder = store.add_folder(str(lib))
    scan(store)
    assert sorted(p.path for p in store.photos_in_folder(lib_folder.id)) == [
        str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg"),
    ]
    assert len(_stored(store)) == 2


def test_a_linked_folder_outside_the_library_is_stored_once_under_the_first_link(
    tmp_path: Path, store: Store,
) -> None:
    lib = _library(tmp_path)
    outside = tmp_path / "nas"
    write_photo(outside / "c.jpg", seed=3)
    (lib / "archive").symlink_to(outside)
    (lib / "zz-archive-again").symlink_to(outside)
    (lib / "c-again.jpg").symlink_to(outside / "c.jpg")
    store.add_folder(str(lib))
    scan(store)
    # One photo, under a path inside the library folder (a file's links are met before a folder's).
    assert _stored(store) == sorted([
        str(lib / "c-again.jpg"), str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg"),
    ])
    assert not scan(store).changes  # the same choice on every scan: no churn

    for link in ("archive", "zz-archive-again", "c-again.jpg"):
        (lib / link).unlink()
    scan(store)
    assert _stored(store) == [str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg")]


def test_link_loops_end(tmp_path: Path, store: Store) -> None:
    lib = _library(tmp_path)
    (lib / "real" / "up").symlink_to(lib)
    (lib / "real" / "self").symlink_to(lib / "real")
    store.add_folder(str(lib))
    scan(store)
    assert _stored(store) == [str(lib / "real" / "a.jpg"), str(lib / "real" / "b.jpg")]
