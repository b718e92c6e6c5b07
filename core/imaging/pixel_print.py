"""A photo's pixel print: a 256-bit perceptual hash (DCT "pHash") of its upright, colour-managed pixels.

The model's vector says two photos show the same thing; the print says they are the same picture. A
re-encode, a resize or stripped metadata changes the bytes (so the content hash) but keeps the low
frequencies of the luminance, so their prints differ in a few bits at most; a crop, a reframed burst
shot or an edit moves them. Measured on generated photos (tests/imagegen.py, tests/dupgen.py), each
first shrunk to 224 px as the pipeline decodes it: JPEG quality 60 -> 0-2 bits of 256; half size -> 0;
quarter size at quality 30 -> 6-10; a 2% crop -> 6-24; the next frame of a burst -> 6-18; a 5% crop
-> 34+; another photo -> 100+. The classic 64-bit pHash cannot tell a centred 5% crop from a resize.
Duplicate finding (core.duplicates) uses it to tell "the same picture saved again" from "a
near-identical shot" where the vector alone cannot.

It is made from the small image the indexing pipeline decodes for the model anyway (no extra read).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 64  # the DCT runs on a 64x64 grey thumbnail; its 16x16 lowest frequencies make the 256 bits
BITS = 16
PRINT_BYTES = BITS * BITS // 8
PRINT_VERSION = 1  # bump when the recipe changes: prints of different versions cannot be compared


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


_DCT = _dct_matrix(SIDE)


def pixel_print(image: Image.Image) -> bytes:
    """The print of an upright RGB (or any mode) image: PRINT_BYTES bytes."""
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:BITS, :BITS].ravel()
    # Compared with the median of the AC terms: the DC term (overall brightness) would swamp them.
    return np.packbits(low > np.median(low[1:])).tobytes()


def print_distance(a: bytes, b: bytes) -> int:
    """How many of the bits differ (0: the same low-frequency picture)."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
