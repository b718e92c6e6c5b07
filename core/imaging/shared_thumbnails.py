"""Thumbnails other programs made: the freedesktop.org shared thumbnail cache, read and never written.

File managers and photo viewers on Linux (GNOME Files, Dolphin, gThumb...) share one thumbnail cache, laid
out by the Thumbnail Managing Standard (https://specifications.freedesktop.org/thumbnail-spec/):
$XDG_CACHE_HOME/thumbnails/<size dir>/<md5 of the file's URI>.png, each PNG carrying the file's URI
(`Thumb::URI`) and its mtime in whole seconds (`Thumb::MTime`, and optionally its byte size, `Thumb::Size`).
Where a file manager has already shown a folder, reading its small PNG instead of decoding the photo makes
the first look at a big library quick.

This module only reads: it never creates, touches or removes anything under that folder (no opt-in to write
exists). Entries under fail/<app>/ are ignored: another program's decoder failing says nothing of ours.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import urllib.parse
from pathlib import Path

from PIL import Image

from core.imaging.convert import to_rgb

log = logging.getLogger(__name__)

# The spec's size folders and the longest side their thumbnails may have.
SIZE_DIRS = (("normal", 128), ("large", 256), ("x-large", 512), ("xx-large", 1024))
# What GLib's g_filename_to_uri leaves unescaped in a path besides letters, digits and "-._" (checked
# against `gio info`): GNOME's thumbnailers hash exactly that string, so the md5 must be of the same one.
_URI_SAFE = "/!$&'()*+,:=@~"
# Pillow's ways of saying "this is not a readable PNG": truncated, garbage, a bomb, broken chunks.
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError)


def shared_thumbnail_root() -> Path:
    """$XDG_CACHE_HOME/thumbnails, or ~/.cache/thumbnails when it is unset or (invalidly) relative."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG Base Directory spec: a relative path in XDG_CACHE_HOME is invalid and must be ignored.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "thumbnails"


def file_uri(path: str | os.PathLike[str]) -> str:
    """The absolute file:// URI of `path` as the spec (RFC 2396) and GLib write it: the path's bytes
    (UTF-8 or whatever the filesystem holds) percent-encoded with upper-case hex, "/" kept."""
    full = os.fsencode(os.path.abspath(os.fspath(path)))
    return "file://" + urllib.parse.quote_from_bytes(full, safe=_URI_SAFE)


def entry_name(uri: str) -> str:
    """The file name of a URI's thumbnail in every size folder: the md5 of the URI (not of the file)."""
    return hashlib.md5(uri.encode("ascii"), usedforsecurity=False).hexdigest() + ".png"


def find_shared_thumbnail(
    path: str | os.PathLike[str], size: int, root: Path | None = None
) -> Path | None:
    """The valid shared thumbnail of `path` at least `size` px on its longer side's folder, or None."""
    found = _lookup(path, size, root, load=False)
    return found[0] if found else None


def load_shared_thumbnail(
    path: str | os.PathLike[str], size: int, root: Path | None = None
) -> Image.Image | None:
    """The pixels (8-bit RGB) of `path`'s valid shared thumbnail at least `size` px, or None.

    The smallest size folder that is big enough wins (the cheapest to read); a stale, foreign or broken
    entry there is skipped for the next bigger folder. Never raises for what is in the cache.
    """
    found = _lookup(path, size, root, load=True)
    return found[1] if found else None


def _lookup(
    path: str | os.PathLike[str], size: int, root: Path | None, load: bool
) -> tuple[Path, Image.Image | None] | None:
    if os.name != "posix":  # the standard is freedesktop's; other systems keep thumbnails elsewhere
        return None
    full = os.path.abspath(os.fspath(path))
    try:
        st = os.stat(full)
    except OSError:
        return None
    # The spec: never show a thumbnail of a file the user cannot read (it would leak what they may not see).
    if not os.access(full, os.R_OK):
        return None
    uri = file_uri(full)
    name = entry_name(uri)
    folder = root or shared_thumbnail_root()
    for dir_name, longest in SIZE_DIRS:
        if longest < size:  # too small: our thumbnail would be an upscaled blur
            continue
        entry = folder / dir_name / name
        try:
            with Image.open(entry, formats=("PNG",)) as img:
                if not _describes(img, uri, st, longest):
                    continue
                return entry, (to_rgb(img).copy() if load else None)
        except FileNotFoundError:
            continue
        except _BROKEN:
            log.debug("ignoring the unreadable shared thumbnail %s", entry, exc_info=True)
    return None


def _describes(img: Image.Image, uri: str, st: os.stat_result, longest: int) -> bool:
    """True when the entry is a thumbnail of this very file as it is now (the spec's validity rules)."""
    # Checked before the text, whose reading decodes the pixels: an oversized entry is not the spec's.
    if max(img.size) > longest:
        return False
    text: dict[str, str] = getattr(img, "text", {})
    if text.get("Thumb::URI") != uri:  # an md5 collision, or a writer that encodes URIs differently
        return False
    # Equality, not "newer than": a file moved over the original may carry an older mtime.
    if _as_int(text.get("Thumb::MTime")) != st.st_mtime_ns // 1_000_000_000:
        return False
    size_key = text.get("Thumb::Size")  # optional; when present it catches same-second swaps
    return size_key is None or _as_int(size_key) == st.st_size


def _as_int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None
