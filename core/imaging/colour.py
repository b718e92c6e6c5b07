"""Embedded ICC profiles -> sRGB: a Display P3 or Adobe RGB photo shown and embedded with its true colours.

Pixels of a photo with a profile mean what the profile says; read as sRGB, a Display P3 photo (every iPhone
photo) or an Adobe RGB one looks duller than it is. We convert with LittleCMS (Pillow's ImageCms). A HEIF
photo described by an nclx box instead (many Android phones) gets the profile that box means
(`core.imaging.nclx`), so both go through the same conversion and cache.

Speed: the decision for a profile (convert, or leave alone because it already is sRGB) is made once per
distinct profile bytes and cached, with its transform (building one takes ~10 ms). Most photos carry one
of a handful of profiles, so after the first photo the common sRGB case costs a dictionary look-up.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageCms

from core.imaging.nclx import nclx_icc_profile

log = logging.getLogger(__name__)

# Distinct profiles seen in one process are few (cameras, phones, editors); 32 covers a library's mix.
_CACHE_SIZE = 32
# An sRGB profile round-trips every probe colour to within LittleCMS's interpolation error (1 level).
_IDENTITY_TOLERANCE = 1


def colour_profile(info: Mapping[Any, object]) -> bytes | None:
    """The ICC profile saying what an opened image's pixels mean (`info`: Pillow's `img.info`): the
    embedded one, else the one a HEIF nclx box describes; None when neither says anything but sRGB.

    An embedded ICC profile wins over an nclx box, as in libheif and browsers (pillow-heif hands over
    only the ICC profile when a file has both; the order here keeps that true whatever a plugin does).
    """
    icc = info.get("icc_profile")
    if isinstance(icc, bytes | bytearray) and icc:
        return bytes(icc)
    nclx = info.get("nclx_profile")
    return nclx_icc_profile(nclx) if isinstance(nclx, Mapping) else None


def to_srgb(img: Image.Image, profile: bytes | None) -> Image.Image:
    """The RGB `img` in sRGB per its embedded ICC `profile`; unchanged when none applies.

    A broken or unusable profile means "treat as sRGB": colours a little off beat a photo refused. Only RGB
    profiles are applied (grey and CMYK ones are rare in photos and left to Pillow's plain conversion).
    """
    if not profile or img.mode != "RGB":
        return img
    transform = _transform_for(bytes(profile))
    if transform is None:
        return img
    try:
        return ImageCms.applyTransform(img, transform) or img
    except (ImageCms.PyCMSError, OSError, ValueError):
        log.debug("applying an ICC profile failed; colours left as they are", exc_info=True)
        return img


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _transform_for(profile: bytes) -> ImageCms.ImageCmsTransform | None:
    """`profile` -> sRGB for RGB pixels, or None when it would change nothing or cannot be built."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space.strip() != "RGB":
            return None  # a grey or CMYK profile describes other pixels than the RGB ones we hold
        # Perceptual: what viewers use by default; for matrix profiles (P3, Adobe RGB) it is colorimetric.
        transform = ImageCms.buildTransform(
            source, _srgb(), "RGB", "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        log.debug("unusable ICC profile (%d bytes), treated as sRGB", len(profile), exc_info=True)
        return None
    if _is_identity(transform):
        return None
    return transform


def _is_identity(transform: ImageCms.ImageCmsTransform) -> bool:
    """True for an sRGB profile (by its effect, whatever its name or version): greys and primaries unmoved."""
    levels = np.arange(256, dtype=np.uint8)
    zeros = np.zeros_like(levels)
    ramps = [(levels, levels, levels), (levels, zeros, zeros), (zeros, levels, zeros), (zeros, zeros, levels)]
    probe = np.concatenate([np.stack(ramp, axis=-1) for ramp in ramps])[np.newaxis]
    converted = ImageCms.applyTransform(Image.fromarray(probe, "RGB"), transform)
    if converted is None:
        return False
    difference = np.abs(np.asarray(converted, dtype=np.int16) - probe.astype(np.int16))
    return int(difference.max()) <= _IDENTITY_TOLERANCE


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
