"""Real DNG files for tests and benchmarks: Bayer sensor data in a SubIFD, a preview in IFD0, an orientation.

The sensor sees a red left half and a blue right half; the preview shows other colours (green left, yellow
right by default), so a decoded pixel tells which of the two was used and which way it was turned.
LibRaw (rawpy) reads these files as it reads a camera's DNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

WHITE_LEVEL = 4095
PREVIEW_LEFT = (0, 200, 0)
PREVIEW_RIGHT = (230, 230, 0)


def sensor_cfa(width: int, height: int) -> np.ndarray:
    """RGGB mosaic: red photosites lit in the left half, blue ones in the right half, green dim."""
    cfa = np.full((height, width), 200, np.uint16)
    columns = np.arange(width)
    cfa[0::2, 0::2] = np.where(columns[0::2] < width // 2, 3000, 200)
    cfa[1::2, 1::2] = np.where(columns[1::2] >= width // 2, 3000, 200)
    return cfa


def preview_pixels(width: int, height: int) -> np.ndarray:
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:, : width // 2] = PREVIEW_LEFT
    pixels[:, width // 2 :] = PREVIEW_RIGHT
    return pixels


def write_dng(
    path: Path,
    sensor: tuple[int, int] = (600, 400),
    preview: tuple[int, int] | None = (360, 240),
    orientation: int = 1,
    jpeg_preview: bool = False,
    taken_at: str | None = None,
    preview_exif_orientation: int | None = None,
    preview_icc_profile: bytes | None = None,
    preview_rgb: np.ndarray | None = None,
) -> Path:
    """A DNG at `path`: `sensor` (width, height) of CFA data, an RGB `preview` (None: a 16x16 stub, as
    LibRaw needs an IFD0), stored uncompressed or as JPEG (with its own EXIF orientation if one is given),
    and the TIFF `orientation` tag."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pw, ph = preview or (16, 16)
    ifd0_tags = [(50706, "B", 4, (1, 4, 0, 0), True), (50708, "s", 0, "Lookalike Test", True)]
    ifd0_tags.append((274, "H", 1, orientation, True))
    if taken_at:
        ifd0_tags.append((306, "s", 0, taken_at, True))
    cfa_tags = [(33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True)]
    cfa_tags.append((50717, "I", 1, WHITE_LEVEL, True))
    with tifffile.TiffWriter(path) as tif:
        tif.write(
            preview_pixels(pw, ph) if preview_rgb is None else preview_rgb,
            photometric="rgb",
            rowsperstrip=ph,
            subfiletype=1,
            subifds=1,
            extratags=ifd0_tags,
        )
        tif.write(sensor_cfa(*sensor), photometric=32803, subfiletype=0, extratags=cfa_tags)
    if jpeg_preview:
        _jpeg_compress_preview(path, preview_exif_orientation, preview_icc_profile)
    return path


def _jpeg_compress_preview(path: Path, exif_orientation: int | None, icc_profile: bytes | None = None) -> None:
    """Turn IFD0's uncompressed preview into a JPEG one in place (tifffile writes JPEG only with imagecodecs).

    The JPEG is smaller than the raw strip, so it fits where the strip was; the tags say JPEG/YCbCr as a
    camera's DNG does, and LibRaw then hands the preview out as a JPEG.
    """
    with tifffile.TiffFile(path, mode="r+b") as tif:
        page = tif.pages[0]
        jpeg = io.BytesIO()
        exif = Image.Exif()
        if exif_orientation is not None:
            exif[0x0112] = exif_orientation
        options = {"icc_profile": icc_profile} if icc_profile else {}
        Image.fromarray(page.asarray(), "RGB").save(jpeg, "JPEG", quality=95, exif=exif, **options)
        data = _without_jfif(jpeg.getvalue()) if exif_orientation is not None else jpeg.getvalue()
        offset = page.dataoffsets[0]
        assert len(data) <= page.databytecounts[0]
        page.tags["Compression"].overwrite(7)
        page.tags["PhotometricInterpretation"].overwrite(6)
        page.tags["StripByteCounts"].overwrite((len(data),))
        tif.filehandle.seek(offset)
        tif.filehandle.write(data)


def _without_jfif(jpeg: bytes) -> bytes:
    """Drop Pillow's JFIF APP0 so the EXIF APP1 comes first, as in a camera-made preview (LibRaw keeps such
    EXIF and adds its own only to previews that do not start with one)."""
    assert jpeg[2:4] == b"\xff\xe0"
    app0_end = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:2] + jpeg[app0_end:]
