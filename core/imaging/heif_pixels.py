"""A HEIF photo's pixels, decoded by libheif and box-reduced in strips, so a 200 MP photo fits in memory.

pillow-heif's Pillow plugin has libheif decode to packed RGB (3 bytes a pixel, after YCbCr planes of 1.5)
and then copies that into a Pillow image (4 bytes a pixel): a 200 MP phone photo (12240x16320) peaked at
1.37 GB, 250 MP would pass 1.5 GB. Here libheif's buffer is read a strip of rows at a time and each strip
box-reduced straight away, so the peak is libheif's decode alone (measured 0.88 GB at 200 MP).
"""

from __future__ import annotations

from typing import IO

import pillow_heif
from PIL import Image

# Rows per strip, before reducing: a strip of a 16,000-pixel-wide photo is then ~16 MB in Pillow.
STRIP_ROWS = 256


def heif_primary_image(handle: IO[bytes], target: int | None) -> Image.Image:
    """The primary image, oriented as the plugin orients it (libheif applies the file's rotation and
    mirroring; the plugin drops EXIF orientation on open, so it is never applied twice).

    With `target`, box-reduced by the integer factor `core.imaging.decode._shrink` would reduce by first
    (its reducing gap of 3): the shorter side stays >= 3 x target, and the caller's Lanczos does the rest.
    """
    handle.seek(0)
    heif = pillow_heif.open_heif(handle, convert_hdr_to_8bit=True, remove_stride=False)
    mode, (width, height), stride = heif.mode, heif.size, heif.stride
    data = memoryview(heif.data)
    factor = min(width, height) // (3 * target) if target else 1
    if factor <= 1:
        return Image.frombuffer(mode, (width, height), heif.data, "raw", mode, stride, 1).copy()
    rows = STRIP_ROWS // factor * factor or factor  # a multiple of the factor: no box spans two strips
    out = Image.new(mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        count = min(rows, height - top)
        rows_data = data[top * stride : (top + count) * stride]  # a view: no copy of libheif's buffer
        strip = Image.frombuffer(mode, (width, count), rows_data, "raw", mode, stride, 1)  # type: ignore[arg-type]
        out.paste(strip.reduce(factor), (0, top // factor))
    return out
