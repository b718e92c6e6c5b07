"""Atomic writes: a write that fails at any point leaves the old file whole and no temp file behind."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from core.files.atomic import remove_stale_temps, write_atomically, write_bytes_atomically
from tests.reliability.mounts import fill_up, remount_read_only, remount_read_write, small_tmpfs


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_write_replaces_the_content_and_leaves_only_the_target(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    target.write_bytes(b"old")
    write_bytes_atomically(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert os.listdir(tmp_path) == ["settings.json"]


def test_a_streamed_write_may_seek_back_to_rewrite_its_header(tmp_path: Path) -> None:
    def write(f: BinaryIO) -> None:
        f.write(b"\0" * 4)
        for _ in range(3):
            f.write(b"x" * 1000)
        f.seek(0)
        f.write(b"HEAD")

    write_atomically(tmp_path / "big.bin", write)
    assert (tmp_path / "big.bin").read_bytes() == b"HEAD" + b"x" * 3000


def test_a_writer_that_fails_midway_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "index.lkv"
    target.write_bytes(b"the old index")

    def write(f: BinaryIO) -> None:
        f.write(b"half of a new ind")
        f.flush()
        raise RuntimeError("FAISS gave up")

    with pytest.raises(RuntimeError, match="FAISS gave up"):
        write_atomically(target, write)
    assert target.read_bytes() == b"the old index"
    assert os.listdir(tmp_path) == ["index.lkv"]


def test_a_full_disk_raises_oserror_and_keeps_the_old_file(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "small", "1m") as root:
        target = root / "settings.json"
        target.write_bytes(b"old settings")
        ballast = fill_up(root, 64 * 1024)
        with pytest.raises(OSError):
            write_bytes_atomically(target, os.urandom(512 * 1024))
        assert target.read_bytes() == b"old settings"
        assert sorted(os.listdir(root)) == [ballast.name, "settings.json"]


def test_a_read_only_folder_raises_oserror_and_keeps_the_old_file(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "small", "1m") as root:
        target = root / "window.json"
        target.write_bytes(b"{}")
        remount_read_only(root)
        try:
            with pytest.raises(OSError):
                write_bytes_atomically(target, b'{"zoom": 200}')
            assert target.read_bytes() == b"{}"
            assert os.listdir(root) == ["window.json"]
        finally:
            remount_read_write(root)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_new_file_gets_the_usual_mode_of_0o644(tmp_path: Path, umask_022: None) -> None:
    write_bytes_atomically(tmp_path / "a", b"x")
    assert _mode(tmp_path / "a") == 0o644


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_new_file_respects_a_strict_umask(tmp_path: Path, umask_022: None) -> None:
    os.umask(0o077)
    write_bytes_atomically(tmp_path / "a", b"x")
    assert _mode(tmp_path / "a") == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_replaced_file_keeps_the_mode_its_owner_gave_it(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "private.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_bytes_atomically(target, b"new")
    assert _mode(target) == 0o640


def test_stale_temps_of_a_killed_writer_are_removed_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "index.lkv"
    (tmp_path / ".index.lkv.0a1b2c.tmp").write_bytes(b"dead save")
    (tmp_path / ".other.lkv.0a1b2c.tmp").write_bytes(b"someone else's")
    target.write_bytes(b"index")
    remove_stale_temps(target)
    assert sorted(os.listdir(tmp_path)) == [".other.lkv.0a1b2c.tmp", "index.lkv"]
