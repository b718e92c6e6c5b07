"""Listing the photos under a library folder: what the scanner compares against the database.

Symlinks are followed (loops never), and each photo is listed under one path without links
(`LinkFreePaths`): a file reached directly and through a symlinked folder, or through a symlinked file,
is one photo, not two. Its real location is named under the library folder that holds it, keeping that
folder's own spelling (a library folder that is itself a link, ~/Pictures -> /data/Pictures, keeps its
photos under ~/Pictures).

A symlinked folder or file whose target lies outside every library folder keeps the path through the
link, inside the library folder that reaches it (when several links reach it, the first the walk meets,
the same one on every scan). The
user chose that folder, and every rule that says "inside the library's folders" works by path: which
folder a photo belongs to and goes offline with, `--folder` filters, the watcher's events, moving
duplicates to the trash. Under its real path the photo would fall outside all of them.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
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


class LinkFreePaths:
    """The one path a file reached through symlinks is stored under (see the module docstring)."""

    def __init__(self, roots: Iterable[str]) -> None:
        # Innermost first, so a file of a nested library folder is named under that folder.
        pairs = {(os.path.realpath(r), r) for r in roots}
        self._roots = sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    def of_real(self, real: str) -> str | None:
        """A real (link-free) path named under the library folder holding it; None when none does."""
        for real_root, root in self._roots:
            if real == real_root:
                return root
            prefix = real_root if real_root.endswith(os.sep) else real_root + os.sep
            if real.startswith(prefix):
                return os.path.join(root, real[len(prefix):])
        return None

    def of(self, path: str) -> str:
        """`path` without links when a library folder holds its target; else `path` as it is."""
        return self.of_real(os.path.realpath(path)) or path


def walk_photos(
    root: str, skip_dirs: frozenset[str] = frozenset(), exclude: Sequence[str] = (),
    paths: LinkFreePaths | None = None,
) -> Iterator[FileStat]:
    """Every supported photo below `root`, under its link-free path: hidden names skipped, symlinks
    followed, loops never.

    Files in a format we know but skip (core.imaging.formats.SKIPPED_EXTENSIONS) come too, with their
    reason as the `problem`: the store keeps them as failed photos, so status lists why they are missing.

    `skip_dirs` are the other library folders (link-free); they are walked on their own. `paths` knows
    every library folder (default: `root` alone).
    """
    paths = paths or LinkFreePaths([root])
    seen: set[tuple[int, int]] = set()
    seen_outside: set[str] = set()  # real paths of files outside the library: listed once
    # (the path the walk reached, its link-free name, its real path when no library folder holds it)
    stack: list[_Folder] = [(root, paths.of(root), None)]
    while stack:
        folder, named, outside = stack.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a second link to a walked folder
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(folder) as it:
                # By name, and pushed in reverse: every scan meets links to a shared target in one order.
                entries = sorted(it, key=lambda e: e.name, reverse=True)
        except OSError:
            continue  # unreadable folder: its photos simply stay as they were
        for entry in entries:
            if entry.name.startswith(".") or is_excluded(entry.path, exclude):
                continue
            found = _visit(entry, (named, outside), paths, skip_dirs, stack, seen_outside)
            if found is not None:
                yield found


_Folder = tuple[str, str, "str | None"]


def _visit(
    entry: os.DirEntry[str], parent: tuple[str, str | None], paths: LinkFreePaths, skip_dirs: frozenset[str],
    stack: list[_Folder], seen_outside: set[str],
) -> FileStat | None:
    named, outside = os.path.join(parent[0], entry.name), parent[1]
    try:
        # One realpath per link; a plain entry is named after its folder, which costs nothing.
        if entry.is_symlink():
            real: str | None = os.path.realpath(entry.path)
        else:
            real = os.path.join(outside, entry.name) if outside is not None else None
        inside = paths.of_real(real) if real is not None else None
        if inside is not None:
            named, real = inside, None
        if entry.is_dir():
            if named not in skip_dirs:
                stack.append((entry.path, named, real))
            return None
        if not is_listed_name(os.path.basename(named)):
            return None
        if real is not None:  # outside the library: the first path the walk meets it by is its name
            if real in seen_outside:
                return None
            seen_outside.add(real)
        st = entry.stat()
    except OSError:
        return None  # vanished while listing, or a dangling symlink
    return _judged(named, st)


def stat_photo(path: str, paths: LinkFreePaths | None = None) -> FileStat | None:
    """One file, judged as `walk_photos` would judge it (under its link-free path when `paths` knows
    the library's folders); None when it is gone or not a photo name."""
    named = paths.of(path) if paths is not None else path
    if not is_listed_name(os.path.basename(named)):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    return _judged(named, st)


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
