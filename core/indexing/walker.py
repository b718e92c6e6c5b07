"""Listing the photos under a library folder: what the scanner compares against the database."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.imaging.decode import is_supported_name
from core.imaging.formats import skip_reason


@dataclass(frozen=True)
class FileStat:
    path: str  # as stored: valid UTF-8 (see storable_path)
    size: int
    mtime_ns: int
    problem: str | None = None  # set when the entry can never be read as a photo (FIFO, bad name, .psd)


def storable_path(path: str) -> tuple[str, str | None]:
    """SQLite text must be UTF-8; a name with invalid bytes is kept under an escaped form, as a failure."""
    try:
        path.encode("utf-8")
        return path, None
    except UnicodeEncodeError:
        escaped = os.fsencode(path).decode("utf-8", "backslashreplace")
        return escaped, "file name is not valid UTF-8; rename the file to index it"


def is_excluded(path: str, patterns: Sequence[str]) -> bool:
    """A pattern matches a whole path ("/home/me/Pictures/tmp*") or any single name in it ("*.part")."""
    if not patterns:
        return False
    names = path.split(os.sep)
    return any(fnmatch.fnmatch(path, p) or any(fnmatch.fnmatch(n, p) for n in names) for p in patterns)


def walk_photos(
    root: str, skip_dirs: frozenset[str] = frozenset(), exclude: Sequence[str] = ()
) -> Iterator[FileStat]:
    """Every supported photo below `root`: hidden names skipped, symlinks followed, loops never.

    Files in a format we know but skip (core.imaging.formats.SKIPPED_EXTENSIONS) come too, with their
    reason as the `problem`: the store keeps them as failed photos, so status lists why they are missing.

    `skip_dirs` are other library folders nested inside this one; they are walked on their own.
    """
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a second link to a walked folder
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue  # unreadable folder: its photos simply stay as they were
        for entry in entries:
            if entry.name.startswith(".") or is_excluded(entry.path, exclude):
                continue
            found = _visit(entry, skip_dirs, stack)
            if found is not None:
                yield found


def _visit(entry: os.DirEntry[str], skip_dirs: frozenset[str], stack: list[str]) -> FileStat | None:
    try:
        if entry.is_dir():
            if entry.path not in skip_dirs:
                stack.append(entry.path)
            return None
        if not is_listed_name(entry.name):
            return None
        st = entry.stat()
    except OSError:
        return None  # vanished while listing, or a dangling symlink
    return _judged(entry.path, st)


def stat_photo(path: str) -> FileStat | None:
    """One file, judged as `walk_photos` would judge it; None when it is gone or not a photo name."""
    if not is_listed_name(os.path.basename(path)):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    return _judged(path, st)


def is_listed_name(name: str) -> bool:
    """A photo we read, or an image format we know and skip (listed with its reason): what scans and the
    watcher follow."""
    return is_supported_name(name) or skip_reason(name) is not None


def _judged(path: str, st: os.stat_result) -> FileStat:
    stored, problem = storable_path(path)
    if problem is None and not stat.S_ISREG(st.st_mode):
        problem = "not a regular file (a pipe, socket or device named like a photo)"
    if problem is None:
        problem = skip_reason(path)
    return FileStat(stored, st.st_size, st.st_mtime_ns, problem)


def is_hidden_below(path: str, root: str) -> bool:
    """A name starting with "." between `root` and `path` (the walk skips those folders and files)."""
    rest = os.path.relpath(path, root)
    return any(part.startswith(".") and part not in (".", "..") for part in rest.split(os.sep))
