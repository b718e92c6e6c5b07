"""Atomic file writes: every file Lookalike writes goes through here, so a crash, a full disk or a
read-only folder at any moment leaves either the old file or the new one, never half of either.

How: the content goes to a temp file in the target's own folder (a rename is only atomic within one
filesystem), is flushed and fsync'ed, then `os.replace`d over the target, and the folder is fsync'ed so the
rename itself survives a power cut. On any failure the temp file is removed and the OSError propagates.

Temp files are named `.<target name>.<random>.tmp`: hidden, and `remove_stale_temps` can find the ones a
killed process left behind without ever touching another file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Writer = Callable[[BinaryIO], None]

# A new file gets the mode `open()` would give it (0o666 minus the umask, so 0o644 for most users);
# mkstemp's 0o600 would silently make a shared library or cache unreadable to the user's other accounts.
_NEW_FILE_MODE = 0o666
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes, *, sync_folder: bool = True) -> None:
    """Replace `path` with `data` atomically (see the module docstring)."""
    def write(f: BinaryIO) -> None:
        f.write(data)

    write_atomically(path, write, sync_folder=sync_folder)


def write_atomically(path: str | os.PathLike[str], write: Writer, *, sync_folder: bool = True) -> None:
    """Replace `path` with what `write` writes to the binary file it is given, atomically.

    For big files: `write` streams its content and may seek (the index file rewrites its header). An
    existing target keeps its permission bits. `sync_folder=False` skips the folder fsync, for cache files
    whose rename may be lost in a power cut (they are remade) but whose content must never be torn.
    Raises OSError (disk full, read-only folder...) with the old file intact; anything `write` raises
    propagates the same way.
    """
    target = Path(path)
    tmp, fd = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as f:
            _keep_mode(f.fileno(), target)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_folder:
        fsync_folder(target.parent)


def remove_stale_temps(path: str | os.PathLike[str]) -> None:
    """Delete temp files a killed writer of `path` left behind (never read; only cleaned up).

    Only for files with one writer at a time: it would also delete a concurrent writer's temp file.
    """
    target = Path(path)
    for stale in target.parent.glob(f"{_temp_prefix(target)}*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable. Windows cannot open a folder; its rename is durable enough."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_temp(target: Path) -> tuple[Path, int]:
    # os.open with O_EXCL rather than mkstemp: the kernel applies the umask to _NEW_FILE_MODE for us,
    # without the process-wide (and thread-unsafe) os.umask() dance needed to read it.
    while True:
        tmp = target.with_name(f"{_temp_prefix(target)}{secrets.token_hex(6)}.tmp")
        try:
            return tmp, os.open(tmp, _OPEN_FLAGS, _NEW_FILE_MODE)
        except FileExistsError:
            continue


def _keep_mode(fd: int, target: Path) -> None:
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        return  # a new file: the umask-derived mode stands
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."
