"""Any Pillow mode -> 8-bit RGB: alpha composited on neutral grey, high bit depths scaled by their type's range.

The embedded colour profile is applied afterwards by `core.imaging.colour.to_srgb` (decode does it after
shrinking, where it is cheap).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.errors import DecodeError

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# Transparent areas land on mid grey, not white: a white logo or sticker on transparency would vanish into
# a blank white thumbnail, a black one into black; on mid grey both stay visible. 128 is also the model's
# own zero: SigLIP normalises with mean 0.5, so the background adds (almost) nothing to the embedding.
# One plain colour for thumbnail and model alike, so the thumbnail shows what the model saw.
NEUTRAL = (128, 128, 128)
_TIFF_BITS_PER_SAMPLE = 258
_TIFF_SAMPLE_FORMAT = 339
_SIGNED_INTEGER = 2


def to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return _grey_to_rgb(_scaled_to_8bit(img))
    if mode == "P":
        # A palette may mark one entry transparent; turn it into real alpha so it lands on grey too.
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    elif mode in ("L", "1") and "transparency" in img.info:
        img = img.convert("LA")
    if img.mode in _ALPHA_MODES:
        return _on_neutral(img)
    try:
        return img.convert("RGB")
    except ValueError:
        raise DecodeError(f"unsupported colour mode {mode}", None) from None


def _on_neutral(img: Image.Image) -> Image.Image:
    """Transparent areas become NEUTRAL grey (see there why), and no random colours show under alpha."""
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, NEUTRAL)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _scaled_to_8bit(img: Image.Image) -> np.ndarray:
    """The full range of the pixel type -> 0..255, so a dark photo stays dark and white is white.

    Unsigned 16-bit: 0..65535. Signed 16-bit (Pillow's "I" holding a TIFF's int16): -32768..32767, the
    way GIMP reads it (it flips the sign bit), so -32768 is black, 0 mid grey and 32767 white. "I" holds
    8-bit data when its values fit 0..255. Anything else (32-bit integers, floats outside 0..1) has no
    usable type range and is stretched min..max.
    """
    values = np.nan_to_num(np.asarray(img, dtype=np.float64))
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    span = _type_range(img, low, high)
    if span is None:
        span = (low, high)
    start, stop = span
    scaled = (values - start) * (255 / (stop - start)) if stop > start else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _type_range(img: Image.Image, low: float, high: float) -> tuple[float, float] | None:
    if img.mode in _SIXTEEN_BIT_MODES:
        return 0.0, 65535.0
    if img.mode == "I":
        if _is_signed_16(img) or (-32768 <= low < 0 and high <= 32767):
            return -32768.0, 32767.0
        if low >= 0 and high <= 255:
            return 0.0, 255.0
        if low >= 0 and high <= 65535:
            return 0.0, 65535.0
    if img.mode == "F" and low >= 0 and high <= 1:
        return 0.0, 1.0
    return None


def _is_signed_16(img: Image.Image) -> bool:
    """A TIFF whose samples are signed 16-bit integers (Pillow loads them as "I", their values unchanged)."""
    tags = getattr(img, "tag_v2", None)
    if tags is None:
        return False
    formats, bits = tags.get(_TIFF_SAMPLE_FORMAT, 1), tags.get(_TIFF_BITS_PER_SAMPLE, 0)
    formats = formats if isinstance(formats, tuple) else (formats,)
    bits = bits if isinstance(bits, tuple) else (bits,)
    return _SIGNED_INTEGER in formats and 16 in bits


def _grey_to_rgb(grey: np.ndarray) -> Image.Image:
    return Image.fromarray(grey, "L").convert("RGB")
