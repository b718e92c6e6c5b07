"""Small real filesystems for storage-failure tests: a size-limited tmpfs, remountable read-only.

Needs root on Linux (the reference machine and CI run as root); elsewhere the tests that use it skip,
saying why, rather than fake a full disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("a size-limited tmpfs needs root on Linux")
    where.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(where: Path) -> None:
    done = _mount("-o", "remount,ro", str(where))
    assert done.returncode == 0, done.stderr


def remount_read_write(where: Path) -> None:
    done = _mount("-o", "remount,rw", str(where))
    assert done.returncode == 0, done.stderr


def fill_up(where: Path, leave_bytes: int) -> Path:
    """Take all free space on the filesystem but `leave_bytes` with one ballast file."""
    st = os.statvfs(where)
    free = st.f_bavail * st.f_frsize
    ballast = where / "ballast.bin"
    with open(ballast, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return ballast
