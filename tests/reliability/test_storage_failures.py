"""A full disk or a read-only data dir: indexing stops with a clear message and loses nothing.

Real filesystems, no mocks: the library lives on a size-limited tmpfs (see mounts.py) that is filled with
a ballast file, or remounted read-only, between two runs.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.errors import StorageError
from core.library.facade import Library
from core.vectors.index import VectorIndex
from tests.imagegen import write_photo
from tests.reliability.mounts import fill_up, remount_read_only, remount_read_write, small_tmpfs


@pytest.fixture(scope="module")
def more_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("more")
    for i in range(150):
        write_photo(root / f"m{i:03d}.jpg", seed=3000 + i, size=(96, 72))
    return root


@pytest.fixture
def indexed_on_tmpfs(tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path) -> Iterator[Path]:
    """A 4 MB tmpfs holding a library with the 12 photos of `photo_dir` indexed; yields its data dir."""
    with small_tmpfs(tmp_path / "small", "4m") as root:
        with Library(root / "data", model=str(tiny_siglip_dir), workers=0) as lib:
            lib.add_folder(photo_dir)
            lib.update()
        yield root / "data"


def _snapshot(data: Path) -> tuple[dict[str, bytes], np.ndarray, dict]:
    conn = sqlite3.connect(data / "library.sqlite3")
    try:
        vectors = dict(conn.execute("SELECT hash, vector FROM vectors"))
    finally:
        conn.close()
    index, stamp = VectorIndex.load(next((data / "index").glob("*.faiss")))
    return vectors, index.ids(), stamp


def _assert_nothing_lost(data: Path, before: tuple[dict[str, bytes], np.ndarray, dict]) -> None:
    vectors, ids, stamp = _snapshot(data)  # the index file must still load: never torn
    assert {h: vectors.get(h) for h in before[0]} == before[0]  # every stored vector, byte for byte
    assert set(before[1]) <= set(ids) or (ids.tolist(), stamp) == (before[1].tolist(), before[2])


@pytest.mark.parametrize("free_kb", [0, 48, 128])
def test_full_disk_stops_indexing_with_a_clear_message_and_keeps_what_was_stored(
    indexed_on_tmpfs: Path, tiny_siglip_dir: Path, more_photos: Path, free_kb: int
) -> None:
    data = indexed_on_tmpfs
    before = _snapshot(data)
    ballast = fill_up(data.parent, free_kb * 1024)

    with pytest.raises(StorageError, match="is full: free some space and run again"), Library(
        data, model=str(tiny_siglip_dir), workers=0
    ) as lib:
        lib.add_folder(more_photos)
        lib.update()

    ballast.unlink()
    _assert_nothing_lost(data, before)
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:  # freeing space is all it takes
        lib.add_folder(more_photos)
        lib.update()
        counts = lib.status().counts
    assert (counts.photos, counts.indexed, counts.pending, counts.failed) == (162, 162, 0, 0)


def test_full_disk_makes_the_command_exit_nonzero_with_the_message(
    indexed_on_tmpfs: Path, tiny_siglip_dir: Path, more_photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(indexed_on_tmpfs)
    fill_up(indexed_on_tmpfs.parent, 128 * 1024)
    code = main(["index", "--data-dir", str(indexed_on_tmpfs), "--model", str(tiny_siglip_dir),
                 "--workers", "0", str(more_photos)])
    assert code == 2
    assert "is full: free some space and run again" in capsys.readouterr().err
    _assert_nothing_lost(indexed_on_tmpfs, before)


def test_read_only_data_dir_refuses_to_index_with_a_clear_message(
    indexed_on_tmpfs: Path, tiny_siglip_dir: Path, more_photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(indexed_on_tmpfs)
    remount_read_only(indexed_on_tmpfs.parent)
    code = main(["index", "--data-dir", str(indexed_on_tmpfs), "--model", str(tiny_siglip_dir),
                 "--workers", "0", str(more_photos)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"the library folder {indexed_on_tmpfs} is read-only" in err
    assert "Traceback" not in err
    assert not os.access(indexed_on_tmpfs, os.W_OK)  # root included: it really is read-only
    remount_read_write(indexed_on_tmpfs.parent)  # SQLite in WAL mode cannot even be read on a read-only fs
    _assert_nothing_lost(indexed_on_tmpfs, before)
