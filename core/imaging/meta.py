"""EXIF facts a photo app needs: orientation, capture time and the camera. Malformed EXIF is ignored, never fatal."""

from __future__ import annotations

import os
from datetime import datetime

from PIL import Image

TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_EXIF_IFD = 0x8769
TAG_DATETIME_ORIGINAL = 0x9003

# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose does).
_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_DATE_FORMATS = ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y:%m:%d %H:%M")


def orientation_of(img: Image.Image) -> int:
    """The EXIF orientation 1..8; anything missing, unreadable or out of range counts as 1 (as stored)."""
    try:
        value = img.getexif().get(TAG_ORIENTATION)
    except Exception:  # malformed EXIF raises all sorts (struct.error, SyntaxError, ValueError...)
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSES else 1


def upright(img: Image.Image, orientation: int) -> Image.Image:
    transpose = _TRANSPOSES.get(orientation)
    return img.transpose(transpose) if transpose is not None else img


def taken_at_of(img: Image.Image) -> datetime | None:
    """EXIF DateTimeOriginal, else DateTime, as naive camera-local time; None when absent or unparseable."""
    try:
        exif = img.getexif()
        candidates = [exif.get_ifd(TAG_EXIF_IFD).get(TAG_DATETIME_ORIGINAL), exif.get(TAG_DATETIME)]
    except Exception:
        return None
    for raw in candidates:
        parsed = _parse_exif_date(raw)
        if parsed is not None:
            return parsed
    return None


def _parse_exif_date(raw: object) -> datetime | None:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    text = raw.strip("\x00 ")[:19]  # drop padding and any sub-second / zone tail
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def camera_name(path: str | os.PathLike[str]) -> str | None:
    """"Make Model" from EXIF ("Canon EOS R5"; the make left out when the model repeats it), or None
    when the file has no camera tags or cannot be read. Reads only the header, not the pixels."""
    try:
        with Image.open(path) as img:
            exif = img.getexif()
            make, model = (_text(exif.get(TAG_MAKE)), _text(exif.get(TAG_MODEL)))
    except Exception:  # unreadable file or malformed EXIF: the camera is simply unknown
        return None
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model  # "NIKON CORPORATION" + "NIKON D850" says the make twice
    return " ".join(part for part in (make, model) if part) or None


def _text(raw: object) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    return raw.strip("\x00 ") if isinstance(raw, str) else ""
