"""`PhotoFilter`: what narrows a search or the library list (date range, folder, type, camera,
orientation, resolution, location), parsed from what a user types, with a clear error naming a bad value.

Filters are applied before ranking (core.store.filtering gives the photos that pass, the index ranks only
those), so the k results are the true top-k among them however few pass.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from core.errors import LookalikeError

ORIENTATIONS = ("landscape", "portrait", "square")
# A type a user names -> the format labels (core.imaging.formats) it covers.
TYPES: dict[str, tuple[str, ...]] = {
    "jpeg": ("JPEG",), "jpg": ("JPEG",), "heic": ("HEIC",), "heif": ("HEIC",), "png": ("PNG",),
    "webp": ("WebP",), "gif": ("GIF",), "tiff": ("TIFF",), "tif": ("TIFF",), "bmp": ("BMP",), "avif": ("AVIF",),
    "raw": ("Canon RAW", "Nikon RAW", "Sony RAW", "DNG", "Olympus RAW", "Panasonic RAW", "Fujifilm RAW",
            "Pentax RAW", "Samsung RAW"),
    "dng": ("DNG",),
}
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


class FilterError(LookalikeError):
    """A filter value that cannot be understood; the message names it."""


@dataclass(frozen=True)
class PhotoFilter:
    after: float | None = None  # taken at or after (seconds, local time as photos.taken_at)
    before: float | None = None  # taken before
    folder: str | None = None  # absolute; subfolders included
    formats: tuple[str, ...] = ()  # format labels; empty: any
    camera: str | None = None  # a part of "make model", any case
    orientation: str | None = None
    min_pixels: int | None = None
    has_location: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)  # e.g. why nothing can pass

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, (), False) for f in fields(self) if f.name != "notes")

    def describe(self) -> str:
        """In words, for a filter bar or a note."""
        parts = []
        if self.after is not None:
            parts.append(f"from {datetime.fromtimestamp(self.after):%Y-%m-%d}")
        if self.before is not None:
            parts.append(f"before {datetime.fromtimestamp(self.before):%Y-%m-%d}")
        if self.folder:
            parts.append(f"in {self.folder}")
        if self.formats:
            parts.append("type " + ", ".join(dict.fromkeys(self.formats)))
        if self.camera:
            parts.append(f"camera “{self.camera}”")
        if self.orientation:
            parts.append(self.orientation)
        if self.min_pixels:
            parts.append(f"at least {self.min_pixels / 1e6:g} MP")
        if self.has_location:
            parts.append("with a location")
        return "; ".join(parts) or "no filter"


def parse_filter(
    *, after: str | None = None, before: str | None = None, folder: str | None = None, types: str | None = None,
    camera: str | None = None, orientation: str | None = None, min_megapixels: float | None = None,
    has_location: bool = False, library_folders: tuple[str, ...] = (),
) -> PhotoFilter:
    """A filter from what a user typed (dates as YYYY, YYYY-MM or YYYY-MM-DD, both ends included);
    FilterError naming the first bad value."""
    start = _day_range(after, "--after")[0] if after else None
    end = _day_range(before, "--before")[1] if before else None
    notes: tuple[str, ...] = ()
    if start is not None and end is not None and start >= end:
        notes = (f"nothing can pass: {after} is after {before}",)
    return PhotoFilter(
        after=start, before=end, folder=_folder(folder, library_folders) if folder else None,
        formats=_formats(types) if types else (), camera=(camera or "").strip() or None,
        orientation=_orientation(orientation) if orientation else None,
        min_pixels=_pixels(min_megapixels) if min_megapixels is not None else None,
        has_location=has_location, notes=notes,
    )


def _day_range(text: str, what: str) -> tuple[float, float]:
    """The first moment of the year/month/day written, and the first moment after it."""
    match = _DATE.match(text.strip())
    if not match:
        raise FilterError(f"{what} {text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        first = datetime(year, month or 1, day or 1)  # type: ignore[arg-type]
    except ValueError:
        raise FilterError(f"{what} {text!r} is not a date that exists") from None
    if day is not None:
        after = first + timedelta(days=1)
    elif month is not None:
        after = datetime(year + (month == 12), month % 12 + 1, 1)  # type: ignore[operator]
    else:
        after = datetime(year + 1, 1, 1)  # type: ignore[operator]
    return first.timestamp(), after.timestamp()


def _folder(text: str, library_folders: tuple[str, ...]) -> str:
    folder = os.path.abspath(os.path.expanduser(text))
    inside = any(folder == root or folder.startswith(os.path.join(root, "")) for root in library_folders)
    if library_folders and not inside:
        raise FilterError(f"--folder {folder} is not in the library (its folders: {', '.join(library_folders)})")
    return folder


def _formats(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for name in (t.strip().lower().lstrip(".") for t in text.split(",")):
        if not name:
            continue
        if name not in TYPES:
            raise FilterError(f"unknown type {name!r}; types are: {', '.join(TYPES)}")
        out.extend(TYPES[name])
    return tuple(dict.fromkeys(out))


def _orientation(text: str) -> str:
    value = text.strip().lower()
    if value not in ORIENTATIONS:
        raise FilterError(f"orientation must be one of {', '.join(ORIENTATIONS)}, not {text!r}")
    return value


def _pixels(megapixels: float) -> int:
    if megapixels <= 0:
        raise FilterError(f"--min-megapixels must be more than 0, not {megapixels}")
    return int(megapixels * 1_000_000)
