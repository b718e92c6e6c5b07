"""A valid BMP or TIFF of a variant Pillow cannot read is "unsupported ... variant", never "truncated or
corrupt"; damaged files still are. The files are written byte by byte (tests/handmade.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.errors import DecodeError
from core.imaging.decode import load_photo
from core.imaging.variants import unsupported_detail
from tests.handmade import bmp, tiff

VALID_BUT_UNSUPPORTED = {
    "jpeg_compressed.bmp": (bmp(compression=4), "unsupported BMP variant: compression (4)"),
    "png_compressed.bmp": (bmp(compression=5), "unsupported BMP variant: compression (5)"),
    "64_bit.bmp": (bmp(bits=64), "unsupported BMP variant: pixel depth (64)"),
    "12_bit_rgb.tif": (
        tiff(bytes(16 * 16 * 2 * 3), 16, 16, bits=(12, 12, 12), photometric=2),
        "unsupported TIFF variant: sample layout",
    ),
    "jpeg2000.tif": (
        tiff(bytes(256), 16, 16, compression=34712),
        "unsupported TIFF variant: compression 34712",
    ),
}

DAMAGED = {
    "cut.bmp": (bmp()[:60], "truncated or corrupt BMP data"),
    "cut.tif": (tiff(bytes(256), 16, 16)[:100], "truncated or corrupt TIFF data"),
    "cut_header.tif": (tiff(bytes(256), 16, 16)[:60], "truncated or corrupt TIFF header"),
}


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("name", [*VALID_BUT_UNSUPPORTED, *DAMAGED])
def test_unsupported_variants_and_damage_get_their_own_reason(tmp_path: Path, name: str) -> None:
    data, reason = {**VALID_BUT_UNSUPPORTED, **DAMAGED}[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DecodeError) as caught:
        load_photo(tmp_path / name, target=224)
    assert caught.value.reason == reason


def test_pillow_s_own_words_for_a_missing_decoder_are_unsupported() -> None:
    with pytest.raises(ValueError) as raw_mode:
        Image.frombytes("RGB", (1, 1), b"abc", "raw", "XYZ")
    with pytest.raises(OSError) as decoder:
        Image.frombytes("RGB", (1, 1), b"abc", "no_such_codec")
    assert unsupported_detail(raw_mode.value, "TIFF") == "sample layout"
    assert unsupported_detail(decoder.value, "TIFF") == "decoder no_such_codec not available"
    assert unsupported_detail(OSError("image file is truncated (3 bytes not processed)"), "JPEG") is None
    assert unsupported_detail(OSError("decoder error -2"), "TIFF") is None
