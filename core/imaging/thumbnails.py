"""Thumbnails on disk: small JPEGs made with Pillow, cached under the app's cache dir.

Qt-free on purpose: `make_thumbnail` runs in worker threads; the GUI only reads the finished file.
The cache key is the photo's absolute path, byte size, mtime and the thumbnail size, so an edited photo
gets a fresh thumbnail and a stale one is simply never looked up again; the folder is kept under a byte
budget (`DISK_BUDGET_MB`), least recently used thumbnails removed first, so stale ones age out.
A valid thumbnail in the freedesktop shared cache (`core.imaging.shared_thumbnails`) is read instead of
the photo; ours is still made from it and kept here, and nothing is ever written to that shared cache.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import BinaryIO

from core.files.atomic import write_atomically
from core.files.folder_budget import FolderBudget, budget_from_env
from core.files.paths import default_cache_dir
from core.imaging.decode import open_image
from core.imaging.shared_thumbnails import load_shared_thumbnail

JPEG_QUALITY = 85
# A photo's thumbnail is ~5 KB at 128 px, ~20 KB at 256 px, ~60 KB at 512 px (measured on a camera JPEG),
# so 2 GB keeps the default zoom's thumbnails of ~100,000 photos (all three sizes of ~25,000) while staying
# a small part of a laptop disk. LOOKALIKE_THUMB_DISK_MB overrides it.
DISK_BUDGET_MB = 2048
DISK_BUDGET_ENV = "LOOKALIKE_THUMB_DISK_MB"

_budgets: dict[Path, FolderBudget] = {}
_budgets_lock = threading.Lock()


def thumbnail_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / "thumbnails"


def thumbnail_path(path: str | os.PathLike[str], size: int, cache_dir: Path | None = None) -> Path:
    """Where the thumbnail of `path` at `size` lives (it may not exist yet). Stats the photo once."""
    full = os.path.abspath(os.fspath(path))
    st = os.stat(full)
    key = hashlib.blake2b(f"{full}|{st.st_size}|{st.st_mtime_ns}|{size}".encode(), digest_size=16).hexdigest()
    # Two-level fan-out keeps folders small at 100k photos.
    return thumbnail_dir(cache_dir) / key[:2] / f"{key}.jpg"


def make_thumbnail(path: str | os.PathLike[str], size: int, cache_dir: Path | None = None) -> Path:
    """The cached thumbnail file of `path` whose longer side is at most `size` px, made if missing.

    Raises DecodeError for unreadable photos and OSError if the photo is gone.
    """
    out = thumbnail_path(path, size, cache_dir)
    budget = disk_budget(cache_dir)
    try:
        st = os.stat(out)
    except FileNotFoundError:
        pass
    else:
        budget.used(out, st)
        return out
    # A file manager's valid thumbnail (freedesktop shared cache, only read) spares decoding the photo;
    # else `target` makes imageio's fast path decode a JPEG at reduced size (draft mode): much cheaper.
    image = load_shared_thumbnail(path, size)
    if image is None:
        image = open_image(path, target=size)
    image.thumbnail((size, size))
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(f: BinaryIO) -> None:
        image.save(f, "JPEG", quality=JPEG_QUALITY)

    # Atomic: a reader never sees half a JPEG, and two workers making the same file do not clash. No
    # folder fsync: a thumbnail whose rename a power cut undoes is simply made again.
    write_atomically(out, write, sync_folder=False)
    budget.added(out)
    return out


def disk_budget(cache_dir: Path | None = None) -> FolderBudget:
    """The one budget of this cache dir's thumbnails, shared by every worker thread."""
    root = thumbnail_dir(cache_dir)
    with _budgets_lock:
        if root not in _budgets:
            _budgets[root] = FolderBudget(root, budget_from_env(DISK_BUDGET_ENV, DISK_BUDGET_MB), ".jpg")
        return _budgets[root]
