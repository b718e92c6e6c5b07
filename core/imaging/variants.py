"""Telling a valid file of a variant Pillow cannot read from a damaged one, for the failure's reason.

BMP and TIFF have many variants (compressions, bit depths, sample layouts) and Pillow reads only some.
A valid file of another variant must be called "unsupported ... variant": "truncated or corrupt" would
send the user looking for damage that is not there. Pillow says which by the text of its errors.
"""

from __future__ import annotations

import re
from typing import IO

from PIL import TiffImagePlugin

# Pillow's words for "valid, but I cannot read this": "Unsupported BMP compression (4)", TIFF's "unknown
# pixel mode", "unknown raw mode", "decoder libtiff not available"... Its words for damage ("image file
# is truncated", "broken data stream", "decoder error -2", "unknown data organization") are not here.
_UNSUPPORTED = re.compile(
    r"unsupported|unknown pixel mode|unknown raw mode|decoder \S+ not available|not implemented", re.I
)


def unsupported_detail(exc: BaseException, label: str | None) -> str | None:
    """What about the file Pillow cannot read ("compression (4)"), or None when `exc` means damage."""
    text = str(exc)
    if isinstance(exc, SyntaxError) and isinstance(exc.__context__, KeyError) and text.isdigit():
        return f"compression {text}"  # TIFF looks its compression up by number: unknown number, no decoder
    if not _UNSUPPORTED.search(text):
        return None
    if "unknown pixel mode" in text or "unknown raw mode" in text:
        return "sample layout"  # bits per sample, sample count or colour type Pillow has no unpacker for
    words = [word for word in text.split() if word.lower() not in ("unsupported", (label or "").lower())]
    return " ".join(words) or text


def tiff_refusal(handle: IO[bytes]) -> BaseException | None:
    """Why Pillow's TIFF reader refused `handle`: `Image.open` hides it behind "cannot identify"."""
    handle.seek(0)
    try:
        TiffImagePlugin.TiffImageFile(handle)
    except Exception as exc:  # whatever it raises is the answer we want
        return exc
    return None
