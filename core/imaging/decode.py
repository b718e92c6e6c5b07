"""Decoding photos: a format whitelist, EXIF-upright RGB, a fast path for small targets, specific failures.

Every failure is a `DecodeError` whose `reason` is short and meant for the user ("truncated or corrupt
JPEG data", "permission denied"). Truncated files stay errors (`ImageFile.LOAD_TRUNCATED_IMAGES` is left
False). The one Pillow setting changed is its decompression-bomb guard, set from our own pixel limit
(`MAX_PIXELS`), which is checked on the header before any pixel is decoded.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from PIL import Image

from core.errors import DecodeError
from core.imaging.colour import colour_profile, to_srgb
from core.imaging.convert import to_rgb
from core.imaging.formats import (
    EXTENSION_LABELS,
    PILLOW_FORMATS,
    RAW_LABELS,
    ensure_plugins,
    label_for_pillow_format,
    sniff,
    without_png_text,
)
from core.imaging.heif_pixels import heif_primary_image
from core.imaging.meta import orientation_of, taken_at_of, upright
from core.imaging.raw import read_raw
from core.imaging.variants import tiff_refusal, unsupported_detail

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(EXTENSION_LABELS)

# Lookalike's pixel limit, checked on the header before decoding. 300 MP: above the largest photos
# cameras and phones make (200 MP phones write 12240x16320 = 200 MP; a 102 MP Fujifilm GFX 100,
# a 61 MP Sony), with room for stitched panoramas, while decoding stays under 1.5 GB of memory: JPEG
# decodes shrunk (draft), PNG/TIFF need 3 bytes a pixel (0.9 GB), HEIF 4.5 at its peak (measured 0.9 GB
# at 200 MP, see core.imaging.heif_pixels). Measured by tests/core/test_formats.py.
MAX_PIXELS = 300_000_000
# Pillow's own guard warns above MAX_IMAGE_PIXELS and refuses above twice that, in `Image.open`, before
# our check; its default (~89 MP, refusing at ~179 MP) turned away 200 MP phone photos. Set to our limit,
# Pillow only warns about images our check then refuses, and still refuses a bomb (a tiny file claiming
# 10^10 pixels) from its header, before allocating anything. Worker processes import this module too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Smaller than this is an icon, a tracking pixel or a spacer, not a photo worth indexing.
MIN_SIDE = 8


@dataclass(frozen=True)
class DecodedPhoto:
    image: Image.Image  # RGB, EXIF-upright; shrunk when a `target` was given
    width: int  # original size, upright, whatever `target` was
    height: int
    taken_at: datetime | None  # EXIF DateTimeOriginal (else DateTime), naive camera-local time
    format: str = ""  # what the content is ("JPEG", "HEIC"...), which may disagree with the extension


def is_supported_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in SUPPORTED_EXTENSIONS


def load_photo(path: str | os.PathLike[str], target: int | None = None) -> DecodedPhoto:
    """Decode the photo at `path`; with `target`, shrink so the shorter side is about `target` pixels."""
    name = os.fspath(path)
    # Pillow's warnings ("Corrupt EXIF data...") name no file: they go to the log with the photo's path,
    # never to a terminal. (catch_warnings is process-wide: a warning another thread raises meanwhile may be
    # logged under this photo, a small price next to a warning with no name at all.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _open_regular_file(name) as handle:
                return _decode(handle, name, EXTENSION_LABELS.get(os.path.splitext(name)[1].lower()), target)
        finally:
            for w in caught:
                log.warning("%s: %s: %s", name, w.category.__name__, w.message)


def open_image(path: str | os.PathLike[str], target: int | None = None) -> Image.Image:
    return load_photo(path, target).image


def open_image_bytes(data: bytes, target: int | None = None) -> Image.Image:
    if not data:
        raise DecodeError("empty file (0 bytes)", None)
    return _decode(io.BytesIO(data), None, None, target).image


# --- opening the file -------------------------------------------------------------------------------------


def _open_regular_file(name: str) -> IO[bytes]:
    """Open for reading only if it is a non-empty regular file.

    A FIFO named photo.jpg would block `open()` forever and a device may have side effects, so the type is
    checked with stat first, and the open itself is non-blocking in case the path was swapped in between.
    """
    try:
        info = os.stat(name)
    except (FileNotFoundError, NotADirectoryError):
        raise DecodeError("file not found", name) from None
    except OSError as exc:
        raise _os_error(exc, name) from None
    _check_regular(info, name)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise DecodeError("file vanished while reading", name) from None
    except OSError as exc:
        raise _os_error(exc, name) from None
    try:
        _check_regular(os.fstat(fd), name)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_regular(info: os.stat_result, name: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise DecodeError(f"not a regular file ({_file_kind(info.st_mode)})", name)
    if info.st_size == 0:
        raise DecodeError("empty file (0 bytes)", name)


def _file_kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")]
    kinds += [(stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]
    return next((kind for test, kind in kinds if test(mode)), "special file")


def _os_error(exc: OSError, name: str | None) -> DecodeError:
    """An OSError with an errno is the file system talking (not the decoder): say what it said."""
    if isinstance(exc, PermissionError):
        return DecodeError("permission denied", name)
    if isinstance(exc, FileNotFoundError) or exc.errno in (getattr(os, "ESTALE", -1),):
        return DecodeError("file vanished while reading", name)
    return DecodeError(f"read error ({exc.strerror or exc})", name)


# --- decoding ---------------------------------------------------------------------------------------------


def _decode(handle: IO[bytes], name: str | None, ext_label: str | None, target: int | None) -> DecodedPhoto:
    ensure_plugins()
    head = handle.read(64)
    handle.seek(0)
    content_label = sniff(head)
    if ext_label in RAW_LABELS and content_label in (None, "TIFF"):  # most RAWs are TIFF inside
        return _decode_raw(handle, name, ext_label, target)
    try:
        photo = _decode_checked(handle, name, content_label, target)
    except DecodeError as exc:
        if ext_label and content_label and ext_label != content_label and "extension" not in exc.reason:
            exc.reason += f" (file extension says {ext_label} but content is {content_label})"
        raise
    finally:
        handle.close()
    if ext_label and ext_label != photo.format:
        log.info("%s: file extension says %s but content is %s", name, ext_label, photo.format)
    return photo


def _decode_raw(handle: IO[bytes], name: str | None, label: str, target: int | None) -> DecodedPhoto:
    """A camera RAW goes to LibRaw (a mislabelled JPEG or PNG was left to Pillow by the caller)."""
    with handle:
        raw = read_raw(handle, name, target)
    _check_size((raw.width, raw.height), name)
    image = _shrink(raw.image, target) if target else raw.image
    return DecodedPhoto(image, raw.width, raw.height, raw.taken_at, label)


def _decode_checked(
    handle: IO[bytes], name: str | None, label: str | None, target: int | None, retry_png: bool = True
) -> DecodedPhoto:
    try:
        return _decode_image(handle, name, target)
    except DecodeError:
        raise
    except MemoryError:
        raise DecodeError("not enough memory to decode this image", name) from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(_bomb_reason(str(exc)), name) from None
    except Image.UnidentifiedImageError:
        refusal = tiff_refusal(handle) if label == "TIFF" else None
        raise DecodeError(_unidentified_reason(label, refusal), name) from None
    except ValueError as exc:
        if retry_png and label == "PNG" and ("MAX_TEXT_CHUNK" in str(exc) or "text chunks" in str(exc)):
            return _decode_png_without_text(handle, name, target)
        raise DecodeError(_corrupt_reason(label, exc), name) from None
    except OSError as exc:
        if exc.errno is not None:
            raise _os_error(exc, name) from None
        raise DecodeError(_corrupt_reason(label, exc), name) from None
    except Exception as exc:
        # Decoders raise SyntaxError, struct.error, EOFError, KeyError... on bad data: all mean corrupt.
        log.debug("decoding %s failed", name, exc_info=True)
        raise DecodeError(_corrupt_reason(label, exc), name) from None


def _decode_png_without_text(handle: IO[bytes], name: str | None, target: int | None) -> DecodedPhoto:
    """Pillow refuses PNG text chunks that inflate past 1 MB (huge XMP packets exist): drop them, keep pixels."""
    handle.seek(0)
    stripped = io.BytesIO(without_png_text(handle.read()))
    return _decode_checked(stripped, name, "PNG", target, retry_png=False)


def _decode_image(handle: IO[bytes], name: str | None, target: int | None) -> DecodedPhoto:
    with Image.open(handle, formats=PILLOW_FORMATS) as img:
        label = label_for_pillow_format(img.format)
        header_size = img.size
        _check_size(header_size, name)
        # JPEG: DCT-domain scaling; HEIF: an embedded thumbnail. Both keep both sides >= target, so the
        # shorter side is >= target whatever the rotation. Others ignore draft and decode in full.
        drafted = img.draft(None, (target, target)) if target else None
        pixels = _full_heif(img, handle, target) if drafted is None else None
        if pixels is None:
            img.load()
            pixels = img
        # Read after load: PNG may keep eXIf after the pixels, and TIFF/HEIF orient themselves on load
        # (their orientation tag is gone by then, so it is not applied twice; the HEIF plugin drops it
        # on open already, which is why `_full_heif` may skip `img.load()`).
        orientation = orientation_of(img)
        taken_at = taken_at_of(img)
        rgb = to_rgb(pixels)
        profile = colour_profile(img.info)  # an embedded ICC profile, else a HEIF's nclx box
    if target:
        rgb = _shrink(rgb, target)
    # The colour profile after the shrink: converting 12 MP costs ~400 ms, the fast path's 224 px ~1 ms.
    rgb = to_srgb(rgb, profile)
    width, height = header_size if orientation < 5 else header_size[::-1]
    return DecodedPhoto(upright(rgb, orientation), width, height, taken_at, label)


def _full_heif(img: Image.Image, handle: IO[bytes], target: int | None) -> Image.Image | None:
    """HEIF decoded in full, reduced strip by strip without the plugin's full-size copy (0.88 GB, not
    1.37, at 200 MP: core.imaging.heif_pixels); None for any other format."""
    return heif_primary_image(handle, target) if img.format == "HEIF" else None


def _check_size(size: tuple[int, int], name: str | None) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        limit = MAX_PIXELS // 1_000_000
        raise DecodeError(
            f"image too large: {width}x{height} pixels exceeds the {limit} megapixel limit", name
        )
    if min(width, height) < MIN_SIDE:
        raise DecodeError(f"image too small ({width}x{height} pixels)", name)


def _shrink(img: Image.Image, target: int) -> Image.Image:
    """Shrink so the shorter side is `target` (never enlarge).

    Lanczos with a reducing gap: `reduce()` box-averages by an integer factor first (fast), Lanczos does
    the last < 3x step (sharp, alias-free), so the model's own resize to target x target then sees nearly
    the pixels it would get from the full-resolution image.
    """
    width, height = img.size
    shorter = min(width, height)
    if shorter <= target:
        return img
    size = (max(1, round(width * target / shorter)), max(1, round(height * target / shorter)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _bomb_reason(message: str) -> str:
    """Pillow's guard fires in `Image.open` before our check (above 2 x MAX_PIXELS): name our limit, not its."""
    numbers = [int(word.strip("()")) for word in message.split() if word.strip("()").isdigit()]
    limit = MAX_PIXELS // 1_000_000
    if numbers:
        return f"image too large: {numbers[0] // 1_000_000} megapixels exceeds the {limit} megapixel limit"
    return f"image too large: over the {limit} megapixel limit"


def _unidentified_reason(label: str | None, refusal: BaseException | None = None) -> str:
    if label in PILLOW_LABELS:
        return _variant_reason(label, refusal) or f"truncated or corrupt {label} header"
    if label:
        return f"unsupported format ({label})"
    return "not an image (unrecognised format)"


def _corrupt_reason(label: str | None, exc: BaseException | None = None) -> str:
    return _variant_reason(label, exc) or f"truncated or corrupt {label or 'image'} data"


def _variant_reason(label: str | None, exc: BaseException | None) -> str | None:
    """A valid file of a variant Pillow has no decoder for is not damage: say so, and which."""
    detail = unsupported_detail(exc, label) if exc else None
    return f"unsupported {label or 'image'} variant: {detail}" if detail else None


PILLOW_LABELS = frozenset(EXTENSION_LABELS.values())
