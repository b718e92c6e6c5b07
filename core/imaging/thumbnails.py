"""Thumbnails on disk: small JPEGs made with Pillow, cached under the app's cache dir.

Qt-free on purpose: `make_thumbnail` runs in worker threads; the GUI only reads the finished file.
The cache key is the photo's absolute path, byte size, mtime and the thumbnail size, so an edited photo
gets a fresh thumbnail and a stale one is simply never looked up again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from core.files.paths import default_cache_dir
from core.imaging.decode import open_image

JPEG_QUALITY = 85


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
    if out.exists():
        return out
    # `target` makes imageio's fast path decode a JPEG at reduced size (draft mode): much cheaper.
    image = open_image(path, target=size)
    image.thumbnail((size, size))
    out.parent.mkdir(parents=True, exist_ok=True)
    # Atomic: a reader never sees half a JPEG, and two workers making the same file do not clash.
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, "JPEG", quality=JPEG_QUALITY)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
