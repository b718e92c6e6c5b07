"""What a photo's header says, read without decoding its pixels: the facts search filters and the
library's date order need before anything is embedded.

Date taken: EXIF DateTimeOriginal (else DateTime) as the camera's local time, with its offset
(OffsetTimeOriginal, EXIF 2.31) when the camera wrote one; else the file's modification time, marked as
such. Camera make and model, upright pixel size, orientation, format, and whether it has a GPS position.
A RAW file's header is read by Pillow where it is TIFF-based (DNG, NEF, CR2, ARW...); otherwise, and for
any unreadable header, the facts fall back to what the file system says. Never raises for a bad file.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

from core.imaging.formats import EXTENSION_LABELS, RAW_EXTENSION_LABELS, ensure_plugins
from core.imaging.meta import TAG_EXIF_IFD, TAG_MAKE, TAG_MODEL, orientation_of, taken_at_of

FACTS_VERSION = 1  # bump when what is read changes: the library reads every photo's facts again
TAG_GPS_IFD = 0x8825
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME = 0x9010
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_SWAPS_SIDES = {5, 6, 7, 8}  # orientations that turn the stored pixels by 90 degrees


@dataclass(frozen=True)
class PhotoFacts:
    taken_at: float | None  # the camera's naive local time read as this machine's (as photos.taken_at is)
    taken_offset_min: int | None  # the camera's UTC offset in minutes, where it wrote one
    taken_from: str  # "exif" or "file" (modification time)
    camera_make: str | None
    camera_model: str | None
    width: int | None  # upright
    height: int | None
    orientation: int  # EXIF 1..8
    format: str  # "JPEG", "HEIC", "Canon RAW"...
    has_gps: bool

    def row(self) -> dict[str, Any]:
        """The facts as the photo table stores them (core.store.facts.FACT_COLUMNS)."""
        return {**asdict(self), "has_gps": int(self.has_gps)}


def read_facts(path: str) -> PhotoFacts:
    """The facts of the photo at `path` (header only; a missing or broken header gives the file's)."""
    fmt = _label(path)
    try:
        ensure_plugins()
        with Image.open(path) as img:
            return _from_image(img, path, fmt)
    except Exception:  # unreadable header, unknown RAW container, vanished file: what the file system says
        return PhotoFacts(_mtime(path), None, "file", None, None, None, None, 1, fmt, False)


def _from_image(img: Image.Image, path: str, fmt: str) -> PhotoFacts:
    exif = img.getexif()
    taken = taken_at_of(img)
    orientation = orientation_of(img)
    width: int | None
    height: int | None
    width, height = img.size
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    if RAW_EXTENSION_LABELS.get(os.path.splitext(path)[1].lower()):
        width = height = None  # a RAW's TIFF header describes its thumbnail; the decode gives the real size
    offset = _offset(exif) if taken is not None else None
    return PhotoFacts(
        taken_at=taken.timestamp() if taken is not None else _mtime(path),
        taken_offset_min=offset,
        taken_from="exif" if taken is not None else "file",
        camera_make=_text(exif.get(TAG_MAKE)),
        camera_model=_text(exif.get(TAG_MODEL)),
        width=width,
        height=height,
        orientation=orientation,
        format=fmt,
        has_gps=_has_gps(exif),
    )


def _label(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return EXTENSION_LABELS.get(ext) or RAW_EXTENSION_LABELS.get(ext) or ext.lstrip(".").upper()


def _mtime(path: str) -> float | None:
    try:
        # Exactly the library list's fallback date (core.store.filtering.BROWSE_DATE), not st_mtime (which
        # may differ in its last bit): reading the facts of a photo without a date never moves it.
        return os.stat(path).st_mtime_ns / 1e9
    except OSError:
        return None


def _offset(exif: Image.Exif) -> int | None:
    try:
        ifd = exif.get_ifd(TAG_EXIF_IFD)
    except Exception:
        return None
    for tag in (TAG_OFFSET_TIME_ORIGINAL, TAG_OFFSET_TIME):
        match = _OFFSET.match(_text(ifd.get(tag)) or "")
        if match:
            sign, hours, minutes = match.groups()
            total = int(hours) * 60 + int(minutes)
            if total <= 14 * 60:
                return -total if sign == "-" else total
    return None


def _has_gps(exif: Image.Exif) -> bool:
    try:
        gps = exif.get_ifd(TAG_GPS_IFD)
    except Exception:
        return False
    return bool(gps.get(2)) and bool(gps.get(4))  # GPSLatitude and GPSLongitude


def _text(raw: object) -> str | None:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    return (raw.strip("\x00 ") or None) if isinstance(raw, str) else None
