"""Scans as plans the store applies whole: the change record each one returns, and what FAISS keeps.

Real photo files, SQLite, FAISS and the tiny SigLIP model (tests/tinymodels.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from core.indexing.scanner import file_hash, scan
from core.library.facade import Library
from core.store.changes import LibraryChanges
from core.store.database import Store
from core.store.scan_plan import NewPhoto, ScanPlan


def _heard(library: Library, action: Callable[[], object]) -> LibraryChanges:
    heard: list[LibraryChanges] = []
    unsubscribe = library.subscribe(heard.append)
    action()
    unsubscribe()
    return functools.reduce(LibraryChanges.merged, heard, LibraryChanges())


FOLLOW_A_RENAME: dict[str, Callable[[Library, Path, Path], object]] = {
    "full scan": lambda lib, old, new: lib.update(),
    "watcher, by content": lambda lib, old, new: lib.refresh([str(old), str(new)]),
    "watcher, reported rename": lambda lib, old, new: lib.apply_moves([(str(old), str(new))]),
}


@pytest.mark.parametrize("follow", FOLLOW_A_RENAME, ids=list(FOLLOW_A_RENAME))
def test_a_renamed_photo_is_reported_moved_and_keeps_its_vector(
    library: Library, photo_dir: Path, follow: str
) -> None:
    library.add_folder(photo_dir)
    library.update()
    old, new = photo_dir / "img_04.jpg", photo_dir / "renamed.jpg"
    photo = library.store.photo_by_path(str(old))
    assert photo is not None

    old.rename(new)
    changes = _heard(library, lambda: FOLLOW_A_RENAME[follow](library, old, new))

    assert changes == LibraryChanges(moved=(photo.id,))  # not added + removed: views keep the row
    index = library._cache.get()
    assert index is not None and len(index) == 12  # its FAISS entry stayed, nothing was re-embedded
    hit = library.search_image(str(new), k=1)[0]
    assert (hit.photo_id, hit.path) == (photo.id, str(new))
    assert hit.score == pytest.approx(1.0, abs=1e-3)


def test_an_unplugged_folder_is_reported_updated_both_ways(
    library: Library, photo_dir: Path, tmp_path: Path
) -> None:
    library.add_folder(photo_dir)
    library.update()
    ids = tuple(sorted(p.id for p in library.photos()))
    photo_dir.rename(tmp_path / "parked")
    gone = _heard(library, library.scan)
    (tmp_path / "parked").rename(photo_dir)
    back = _heard(library, library.scan)
    assert gone == back == LibraryChanges(updated=ids, folders=True)


def test_a_scan_lands_whole_or_not_at_all(tmp_path: Path, photo_dir: Path) -> None:
    store = Store(tmp_path / "library.sqlite3")
    folder = store.add_folder(str(photo_dir))
    scan(store)
    victim = store.photo_by_path(str(photo_dir / "img_01.jpg"))
    assert victim is not None
    # The delete runs first; the insert then breaks the folder foreign key: nothing may be left done.
    plan = ScanPlan(
        delete=[victim.id],
        insert=[NewPhoto(folder.id + 99, str(tmp_path / "stray.jpg"), 1, 1, None)],
    )
    with pytest.raises(IntegrityError):
        store.apply_plan(plan)
    assert store.photo(victim.id) == victim
    assert store.photo_by_path(str(tmp_path / "stray.jpg")) is None
    store.close()


def test_the_content_hash_is_blake2b_128_of_the_whole_file(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "photo.jpg"
    path.write_bytes(bytes(range(256)) * 9000)  # spans more than one read
    # Stored hashes key the vectors: a different hash would re-embed every library.
    assert file_hash(str(path)) == hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
