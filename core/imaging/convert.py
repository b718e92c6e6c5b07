"""Any Pillow mode -> 8-bit RGB: alpha composited on white, high bit depths scaled (not clipped)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.errors import DecodeError

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
WHITE = (255, 255, 255)


def to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return _grey_to_rgb(_scaled_to_8bit(img))
    if mode == "P":
        # A palette may mark one entry transparent; turn it into real alpha so it lands on white too.
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    elif mode in ("L", "1") and "transparency" in img.info:
        img = img.convert("LA")
    if img.mode in _ALPHA_MODES:
        return _on_white(img)
    try:
        return img.convert("RGB")
    except ValueError:
        raise DecodeError(f"unsupported colour mode {mode}", None) from None


def _on_white(img: Image.Image) -> Image.Image:
    """Transparent areas become white: the look of the photo on a page, and no random colours under alpha."""
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _scaled_to_8bit(img: Image.Image) -> np.ndarray:
    """16-bit -> 0..255 by 255/65535 (so 65535 is white). "I" holds 16-bit data when its values exceed
    255, else 8-bit; anything outside 0..65535, and floats outside 0..1, are stretched min..max."""
    values = np.nan_to_num(np.asarray(img, dtype=np.float64))
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if img.mode in _SIXTEEN_BIT_MODES or (img.mode == "I" and low >= 0 and 255 < high <= 65535):
        scaled = values * (255 / 65535)
    elif img.mode == "I" and low >= 0 and high <= 255:
        scaled = values
    elif img.mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255
    else:
        scaled = (values - low) * (255 / (high - low)) if high > low else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _grey_to_rgb(grey: np.ndarray) -> Image.Image:
    return Image.fromarray(grey, "L").convert("RGB")
