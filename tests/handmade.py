"""BMP and TIFF files written byte by byte with struct: valid variants no Pillow writer produces."""

from __future__ import annotations

import struct

import numpy as np

_SHORT, _LONG = 3, 4


def bmp(width: int = 16, height: int = 16, bits: int = 24, compression: int = 0) -> bytes:
    """A BITMAPINFOHEADER BMP of zero pixels, with any bit depth and compression number in its header."""
    row = ((width * bits + 31) // 32) * 4
    pixels = bytes(row * height)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, compression, len(pixels), 2835, 2835, 0, 0)
    header = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return header + info + pixels


def tiff(
    pixels: bytes,
    width: int,
    height: int,
    bits: tuple[int, ...] = (8,),
    photometric: int = 1,
    compression: int = 1,
    sample_format: int = 1,
) -> bytes:
    """A little-endian one-strip TIFF holding `pixels` as given, its tags saying whatever we are told."""
    tags: list[tuple[int, int, list[int]]] = [
        (256, _SHORT, [width]),
        (257, _SHORT, [height]),
        (258, _SHORT, list(bits)),
        (259, _SHORT, [compression]),
        (262, _SHORT, [photometric]),
        (273, _LONG, [0]),  # the strip's offset, filled in below
        (277, _SHORT, [len(bits)]),
        (278, _SHORT, [height]),
        (279, _LONG, [len(pixels)]),
        (339, _SHORT, [sample_format] * len(bits)),
    ]
    ifd_end = 8 + 2 + 12 * len(tags) + 4
    overflow = b"".join(_values(kind, values) for _, kind, values in tags if len(_values(kind, values)) > 4)
    strip_at = ifd_end + len(overflow)
    entries, spill_at = b"", ifd_end
    for tag, kind, values in tags:
        raw = _values(kind, [strip_at] if tag == 273 else values)
        if len(raw) > 4:
            entries += struct.pack("<HHII", tag, kind, len(values), spill_at)
            spill_at += len(raw)
        else:
            entries += struct.pack("<HHI", tag, kind, len(values)) + raw.ljust(4, b"\x00")
    header = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(tags))
    return header + entries + struct.pack("<I", 0) + overflow + pixels


def signed_16_bit_tiff(values: np.ndarray) -> bytes:
    """A greyscale TIFF of signed 16-bit samples (SampleFormat 2), as scientific cameras and MATLAB write."""
    height, width = values.shape
    return tiff(values.astype("<i2").tobytes(), width, height, bits=(16,), sample_format=2)


def _values(kind: int, values: list[int]) -> bytes:
    return b"".join(struct.pack("<H" if kind == _SHORT else "<I", value) for value in values)
