"""Reading a camera RAW file into an upright RGB image, with LibRaw (rawpy).

Cheapest first: most RAWs carry a camera-made JPEG (or bitmap) preview, often 1620x1080 or full size, and
decoding it costs milliseconds where demosaicing 24 MP costs seconds (`benchmarks/raw_decode.py`). So the
preview is used whenever it is large enough for the caller's `target`; otherwise LibRaw demosaics, at half
size when that is still large enough (it skips interpolation: about 4x cheaper).

Orientation: LibRaw's `postprocess` applies the RAW's own orientation (`sizes.flip`); a preview is stored
as the sensor saw it, so it is turned by its own EXIF orientation, else by the RAW's. (LibRaw itself writes
the RAW's orientation into a JPEG preview that lacks EXIF.)

`width`/`height` are the full sensor image's (LibRaw's visible area), upright, whatever was decoded.
`taken_at` is the capture time from whatever is already at hand: LibRaw's (EXIF DateTimeOriginal) after a
demosaic, else the JPEG preview's EXIF, else the first IFD of a TIFF-based RAW (DNG, NEF, CR2, ARW...);
None when none of those has one. (Asking LibRaw for it costs an unpack of the sensor data: 130 ms at 24 MP.)
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any, BinaryIO, cast

from PIL import Image

from core.errors import DecodeError
from core.imaging.colour import to_srgb
from core.imaging.meta import TAG_ORIENTATION, taken_at_of, upright

log = logging.getLogger(__name__)

# With no target the caller wants the photo at full size; a preview at least half the sensor's size looks
# the same on any screen, and a smaller one would be a visible downgrade, so that is worth a demosaic.
FULL_SIZE_PREVIEW_FRACTION = 0.5

# LibRaw's `flip` (bit 1 mirror, bit 2 upside down, bit 4 transposed) -> EXIF orientation, as LibRaw's own
# EXIF writer maps it ("12435867"[flip]).
_FLIP_TO_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}

# First bytes of RAW containers (TIFF-based ones: CR2, NEF, ARW, DNG, PEF, SRW), to tell "a RAW LibRaw
# cannot read" from "not a RAW at all" when LibRaw refuses a file.
_RAW_MAGIC = (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00", b"FUJIFILMCCD-RAW")

UNSUPPORTED = "unsupported RAW variant (LibRaw cannot read this camera's files)"
CORRUPT = "truncated or corrupt RAW file"


@dataclass(frozen=True)
class RawImage:
    image: Image.Image  # RGB, upright; the preview or a (half-size) demosaic, not shrunk to the target
    width: int  # the full sensor image, upright
    height: int
    taken_at: datetime | None
    from_preview: bool  # True when the camera's embedded preview was used, False when demosaiced


def read_raw(handle: IO[bytes], name: str | None, target: int | None) -> RawImage:
    """Decode the RAW in `handle`; with `target`, the image's shorter side is at least `target` if it can be."""
    import rawpy

    head = handle.read(64)
    handle.seek(0)
    try:
        with rawpy.imread(_source(handle, name)) as raw:
            found = _read_opened(raw, name, target)
    except DecodeError:
        raise
    except (MemoryError, rawpy.LibRawUnsufficientMemoryError):
        raise DecodeError("not enough memory to decode this RAW file", name) from None
    except rawpy.LibRawTooBigError:
        raise DecodeError("RAW image too large (LibRaw's size limit)", name) from None
    except rawpy.LibRawFileUnsupportedError:
        reason = (
            UNSUPPORTED
            if head.startswith(_RAW_MAGIC) or _is_cr3(head)
            else "not a RAW file (unrecognised format)"
        )
        raise DecodeError(reason, name) from None
    except (rawpy.LibRawError, OSError, ValueError):  # LibRawIOError, LibRawDataError: the data ran out
        log.debug("reading RAW %s failed", name, exc_info=True)
        raise DecodeError(CORRUPT, name) from None
    if found.taken_at is None and found.from_preview:
        return replace(found, taken_at=_tiff_taken_at(handle))
    return found


def _source(handle: IO[bytes], name: str | None) -> BinaryIO | str:
    """What LibRaw opens. Given a path it reads only what it needs (header, preview: ~2 ms), given a file
    object it reads it whole (~60 ms for 50 MB). The handle's own /proc entry, where there is one, is a
    path to the very file the caller checked, even if its name was swapped since."""
    try:
        fd_path = f"/proc/self/fd/{handle.fileno()}"
    except (AttributeError, OSError, io.UnsupportedOperation):
        return cast(BinaryIO, handle)
    return fd_path if os.path.exists(fd_path) else name or cast(BinaryIO, handle)


def _is_cr3(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] == b"crx "


def _read_opened(raw: Any, name: str | None, target: int | None) -> RawImage:
    orientation = _FLIP_TO_ORIENTATION.get(raw.sizes.flip, 1)
    width, height = raw.sizes.width, raw.sizes.height
    if orientation >= 5:
        width, height = height, width
    preview, preview_taken_at = _preview(raw, name, orientation, target)
    if preview is not None and _preview_is_enough(preview.size, (width, height), target):
        return RawImage(preview, width, height, preview_taken_at, from_preview=True)
    image = _demosaic(raw, name, (width, height), target)
    return RawImage(image, width, height, _libraw_taken_at(raw), from_preview=False)


def _preview_is_enough(preview: tuple[int, int], sensor: tuple[int, int], target: int | None) -> bool:
    if target is None:
        return max(preview) >= FULL_SIZE_PREVIEW_FRACTION * max(sensor)
    # The same promise `load_photo` makes for any photo: the shorter side is about `target`.
    return min(preview) >= min(target, min(sensor))


def _preview(
    raw: Any, name: str | None, raw_orientation: int, target: int | None
) -> tuple[Image.Image | None, datetime | None]:
    """The embedded preview, upright and RGB, and its EXIF capture time; None when there is none or it is
    unreadable."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None, None
    except rawpy.LibRawError:
        log.debug("%s: the RAW's preview is unreadable, demosaicing instead", name, exc_info=True)
        return None, None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            return _jpeg_preview(thumb.data, raw_orientation, target)
        if thumb.format == rawpy.ThumbFormat.BITMAP and thumb.data.ndim == 3 and thumb.data.shape[2] == 3:
            return upright(Image.fromarray(thumb.data, "RGB"), raw_orientation), None
    except Exception:  # a broken preview costs speed, not the photo: the sensor data is still there
        log.debug("%s: the RAW's preview is unreadable, demosaicing instead", name, exc_info=True)
    return None, None


def _jpeg_preview(
    data: bytes, raw_orientation: int, target: int | None
) -> tuple[Image.Image, datetime | None]:
    with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
        if target:
            # DCT-domain scaling keeps both sides >= target, so "is it large enough" still answers the same.
            img.draft("RGB", (target, target))
        img.load()
        exif = img.getexif()
        # The preview's own EXIF orientation wins; LibRaw writes the RAW's there when the camera wrote none.
        own = exif.get(TAG_ORIENTATION) if TAG_ORIENTATION in exif else None
        orientation = own if isinstance(own, int) and 1 <= own <= 8 else raw_orientation
        # A camera set to Adobe RGB tags its preview with that profile: shown and embedded in sRGB like any photo.
        rgb = to_srgb(img.convert("RGB"), img.info.get("icc_profile"))
        return upright(rgb, orientation), _real(taken_at_of(img))


def _demosaic(raw: Any, name: str | None, sensor: tuple[int, int], target: int | None) -> Image.Image:
    """LibRaw's demosaic, upright (postprocess applies `sizes.flip` itself)."""
    import rawpy

    half = target is not None and min(sensor) // 2 >= target
    try:
        pixels = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8, no_auto_bright=False)
    except (MemoryError, rawpy.LibRawUnsufficientMemoryError, rawpy.LibRawTooBigError):
        raise  # read_raw words these
    except (rawpy.LibRawIOError, rawpy.LibRawDataError):
        raise DecodeError(CORRUPT, name) from None
    except rawpy.LibRawError as exc:
        reason = (
            f"RAW file has no usable preview and its sensor data could not be decoded ({type(exc).__name__})"
        )
        raise DecodeError(reason, name) from None
    return Image.fromarray(pixels, "RGB")


def _libraw_taken_at(raw: Any) -> datetime | None:
    """LibRaw's capture time (free once the sensor data is unpacked)."""
    stamp = getattr(getattr(raw, "other", None), "timestamp", None)  # rawpy >= 0.22
    return _real(stamp) if isinstance(stamp, datetime) else None


def _tiff_taken_at(handle: IO[bytes]) -> datetime | None:
    """TIFF-based RAWs keep the capture time in their first IFD, which Pillow reads without any pixels."""
    try:
        handle.seek(0)
        with Image.open(handle, formats=["TIFF"]) as img:
            return _real(taken_at_of(img))
    except Exception:  # not TIFF-based (CR3, RAF, ORF, RW2) or an odd header: no date, not a failure
        return None


def _real(stamp: datetime | None) -> datetime | None:
    """LibRaw says the Unix epoch (and writes it into previews' EXIF) when a RAW has no capture time."""
    return stamp if stamp is not None and stamp.year > 1970 else None
