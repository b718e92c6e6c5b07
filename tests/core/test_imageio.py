"""core.imaging.decode: every format to upright RGB, conversions, the fast path, and a specific reason for every
broken or hostile file."""

from __future__ import annotations

import io
import os
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.errors import DecodeError
from core.imaging import decode as imageio
from core.imaging.convert import NEUTRAL
from core.imaging.decode import (
    SUPPORTED_EXTENSIONS,
    is_supported_name,
    load_photo,
    open_image,
    open_image_bytes,
)
from tests.imagegen import photo_like, png_header_only, write_bad_files, write_photo

FORMATS = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".bmp", ".heic", ".avif"]


def _mean_abs_diff(a: Image.Image, b: Image.Image, size: tuple[int, int] = (224, 224)) -> float:
    x = np.asarray(a.resize(size, Image.Resampling.BILINEAR), dtype=np.float64)
    y = np.asarray(b.resize(size, Image.Resampling.BILINEAR), dtype=np.float64)
    return float(np.abs(x - y).mean())


def _save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


# --- names and formats -------------------------------------------------------------------------------------


def test_supported_names_are_matched_by_extension_case_insensitively() -> None:
    assert {".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".avif", ".tiff"} <= SUPPORTED_EXTENSIONS
    assert is_supported_name("IMG_0001.JPG")
    assert is_supported_name("holiday.HeIc")
    assert not is_supported_name("notes.txt")
    assert not is_supported_name("jpg")


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_decodes_to_rgb_of_its_size(tmp_path: Path, suffix: str) -> None:
    path = write_photo(tmp_path / f"photo{suffix}", seed=3, size=(96, 64))
    photo = load_photo(path)
    assert photo.image.mode == "RGB"
    assert photo.image.size == (96, 64)
    assert (photo.width, photo.height) == (96, 64)
    lossy_tolerance = 40 if suffix == ".gif" else 12
    assert _mean_abs_diff(photo.image, photo_like(3, (96, 64)), (96, 64)) < lossy_tolerance


@pytest.mark.parametrize(
    ("orientation", "transpose"),
    [(3, Image.Transpose.ROTATE_180), (6, Image.Transpose.ROTATE_270), (8, Image.Transpose.ROTATE_90)],
)
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, transpose: Image.Transpose) -> None:
    path = write_photo(tmp_path / "rotated.jpg", seed=4, size=(120, 80), exif_orientation=orientation)
    photo = load_photo(path)
    expected = photo_like(4, (120, 80)).transpose(transpose)
    assert photo.image.size == expected.size
    assert (photo.width, photo.height) == expected.size
    assert _mean_abs_diff(photo.image, expected, expected.size) < 6


@pytest.mark.parametrize("suffix", [".png", ".webp", ".tif", ".heic", ".avif"])
def test_orientation_is_applied_once_in_other_formats(tmp_path: Path, suffix: str) -> None:
    path = write_photo(tmp_path / f"rotated{suffix}", seed=4, size=(120, 80), exif_orientation=6)
    photo = load_photo(path)
    assert photo.image.size == (80, 120)
    assert (photo.width, photo.height) == (80, 120)
    expected = photo_like(4, (120, 80)).transpose(Image.Transpose.ROTATE_270)
    assert _mean_abs_diff(photo.image, expected, (80, 120)) < 12


def test_taken_at_comes_from_exif(tmp_path: Path) -> None:
    taken = datetime(2021, 7, 14, 18, 30, 5)
    assert load_photo(write_photo(tmp_path / "a.jpg", 1, taken_at=taken)).taken_at == taken
    assert load_photo(write_photo(tmp_path / "b.jpg", 1)).taken_at is None
    assert load_photo(write_photo(tmp_path / "c.heic", 1, size=(64, 64), taken_at=taken)).taken_at == taken


def test_unparseable_exif_date_is_none(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0132] = "0000:00:00 00:00:00"
    path = _save(photo_like(1, (64, 64)), tmp_path / "nodate.jpg", exif=exif.tobytes())
    assert load_photo(path).taken_at is None


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_malformed_exif_and_orientation_99_are_ignored(tmp_path: Path) -> None:
    files = write_bad_files(tmp_path)
    assert "orientation_99.jpg" in files
    for name in ("orientation_99.jpg", "garbage_exif.jpg"):
        photo = load_photo(tmp_path / name)
        assert photo.image.size == (320, 240)


# --- colour modes ------------------------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = _save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), tmp_path / "cmyk.jpg")
    image = open_image(path)
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((16, 16))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60


def test_palette_transparency_lands_on_neutral_grey(tmp_path: Path) -> None:
    img = Image.new("P", (16, 16), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.putpixel((0, 0), 0)
    path = _save(img, tmp_path / "p.png", transparency=0)
    image = open_image(path)
    assert image.getpixel((0, 0)) == NEUTRAL
    assert image.getpixel((5, 5)) == (255, 0, 0)


def test_rgba_transparent_pixel_comes_back_neutral_grey(tmp_path: Path) -> None:
    img = Image.new("RGBA", (16, 16), (0, 0, 255, 255))
    img.putpixel((0, 0), (10, 20, 30, 0))
    image = open_image(_save(img, tmp_path / "alpha.png"))
    assert image.getpixel((0, 0)) == NEUTRAL
    assert image.getpixel((8, 8)) == (0, 0, 255)


def test_la_is_composited_on_neutral_grey(tmp_path: Path) -> None:
    img = Image.new("LA", (16, 16), (0, 255))
    img.putpixel((3, 3), (0, 0))
    image = open_image(_save(img, tmp_path / "la.png"))
    assert image.getpixel((3, 3)) == NEUTRAL
    assert image.getpixel((8, 8)) == (0, 0, 0)


def test_16_bit_gradient_spans_the_full_8_bit_range(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
    path = _save(Image.fromarray(ramp), tmp_path / "deep.png")
    with Image.open(path) as raw:
        assert raw.mode.startswith("I")  # really a 16-bit image on disk
    grey = np.asarray(open_image(path))[..., 0]
    assert grey.min() == 0 and grey.max() == 255
    assert len(np.unique(grey)) > 200  # scaled, not clipped to a few values


def test_float_and_one_bit_images_convert(tmp_path: Path) -> None:
    floats = Image.fromarray(np.tile(np.linspace(0, 1, 64, dtype=np.float32), (16, 1)), "F")
    grey = np.asarray(open_image(_save(floats, tmp_path / "f.tif")))[..., 0]
    assert grey.min() == 0 and grey.max() == 255
    bits = open_image(_save(Image.new("1", (16, 16), 1), tmp_path / "bits.png"))
    assert bits.mode == "RGB" and bits.getpixel((0, 0)) == (255, 255, 255)


# --- broken and hostile files ------------------------------------------------------------------------------

EXPECTED_REASONS = {
    "empty.jpg": ["empty", "0 bytes"],
    "truncated.jpg": ["truncated", "JPEG"],
    "truncated_header.jpg": ["truncated", "JPEG"],
    "truncated.png": ["truncated", "PNG"],
    "random.jpg": ["not an image"],
    "notes.png": ["not an image"],
    "tiny_1x1.png": ["too small", "1x1"],
    "bomb_40000x40000.png": ["too large", "megapixel"],
    "folder.jpg": ["not a regular file", "directory"],
    "fifo.jpg": ["not a regular file", "FIFO"],
    "no_permission.jpg": ["permission denied"],
}


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("bad")
    return folder, write_bad_files(folder)


@pytest.mark.timeout(10)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_every_bad_file_fails_with_its_reason_and_every_hostile_one_decodes(
    bad_folder: tuple[Path, dict[str, str]],
) -> None:
    folder, files = bad_folder
    for name, description in files.items():
        if description.startswith("decodes:"):
            photo = load_photo(folder / name, target=224)
            assert photo.image.mode == "RGB", name
            continue
        with pytest.raises(DecodeError) as caught:
            load_photo(folder / name)
        for word in EXPECTED_REASONS[name]:
            assert word in caught.value.reason, (name, caught.value.reason)
        assert caught.value.path == str(folder / name)


@pytest.mark.timeout(10)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(DecodeError, match="not a regular file"):
        load_photo(fifo)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="file not found"):
        load_photo(tmp_path / "gone.jpg")


def test_file_vanishing_after_listing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_photo(tmp_path / "soon_gone.jpg", 1, size=(64, 64))
    real_open = os.open

    def delete_then_open(name: str, flags: int, *args: object) -> int:
        Path(name).unlink()
        return real_open(name, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(imageio.os, "open", delete_then_open)
    with pytest.raises(DecodeError, match="vanished"):
        load_photo(path)


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # We run as root, which can read anything: make the open itself fail the way it does for a user.
    path = write_photo(tmp_path / "locked.jpg", 1, size=(64, 64))

    def denied(name: str, flags: int, *args: object) -> int:
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(imageio.os, "open", denied)
    with pytest.raises(DecodeError) as caught:
        load_photo(path)
    assert caught.value.reason == "permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a mode-000 file")
def test_unreadable_file_is_permission_denied(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "locked.jpg", 1, size=(64, 64))
    path.chmod(0)
    with pytest.raises(DecodeError, match="permission denied"):
        load_photo(path)


@pytest.mark.timeout(10)
def test_decompression_bomb_is_refused_from_the_header_alone(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(40000, 40000))
    start = time.perf_counter()
    with pytest.raises(DecodeError, match="too large"):
        load_photo(path)
    assert time.perf_counter() - start < 1.0


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_our_own_pixel_limit_names_the_dimensions(tmp_path: Path) -> None:
    # Just over 300 MP: Pillow's guard (set from our limit) only warns, our header check refuses.
    path = tmp_path / "wide.png"
    path.write_bytes(png_header_only(20000, 15001))
    with pytest.raises(DecodeError) as caught:
        load_photo(path)
    assert caught.value.reason == "image too large: 20000x15001 pixels exceeds the 300 megapixel limit"


def test_wrong_extension_is_decoded_by_content(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "really_a_jpeg.png", 1, size=(64, 48), fmt="JPEG")
    photo = load_photo(path)
    assert photo.format == "JPEG" and photo.image.size == (64, 48)


def test_wrong_extension_is_named_when_decoding_fails(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(_jpeg(1)[:300])
    with pytest.raises(DecodeError) as caught:
        load_photo(path)
    assert "JPEG" in caught.value.reason and "extension says PNG" in caught.value.reason


@pytest.mark.timeout(10)
def test_gif_with_10000_frames_reads_only_the_first(bad_folder: tuple[Path, dict[str, str]]) -> None:
    folder, _ = bad_folder
    start = time.perf_counter()
    photo = load_photo(folder / "frames_10000.gif")
    assert time.perf_counter() - start < 1.0
    assert photo.image.size == (16, 16)


def test_multipage_tiff_reads_the_first_page(bad_folder: tuple[Path, dict[str, str]]) -> None:
    folder, _ = bad_folder
    assert load_photo(folder / "multipage.tiff").image.size == (200, 150)


def test_png_with_a_huge_text_chunk_still_decodes(bad_folder: tuple[Path, dict[str, str]]) -> None:
    folder, _ = bad_folder
    assert load_photo(folder / "huge_text_chunk.png").image.size == (320, 240)


def test_panorama_strip_decodes_but_tiny_image_does_not(bad_folder: tuple[Path, dict[str, str]]) -> None:
    folder, _ = bad_folder
    photo = load_photo(folder / "panorama_30000x100.jpg", target=224)
    assert (photo.width, photo.height) == (30000, 100)
    assert photo.image.size == (30000, 100)  # shorter side already below target: never enlarged


def test_empty_bytes_and_garbage_bytes_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="empty"):
        open_image_bytes(b"")
    with pytest.raises(DecodeError, match="not an image"):
        open_image_bytes(b"\x00" * 100)


# --- fast path ---------------------------------------------------------------------------------------------


def test_fast_path_shrinks_to_target_and_keeps_original_size(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "big.jpg", 11, size=(2000, 1500), exif_orientation=6)
    photo = load_photo(path, target=224)
    assert min(photo.image.size) == 224
    assert photo.image.height > photo.image.width  # rotated upright
    assert (photo.width, photo.height) == (1500, 2000)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".heic"])
def test_fast_path_pixels_match_full_decode(tmp_path: Path, suffix: str) -> None:
    # HEIC encoding is slow (x265): a smaller picture keeps the test quick and still needs shrinking.
    size = (800, 600) if suffix == ".heic" else (1600, 1200)
    path = write_photo(tmp_path / f"p{suffix}", 12, size=size)
    full = load_photo(path).image
    fast = load_photo(path, target=224).image
    assert min(fast.size) == 224
    assert _mean_abs_diff(full, fast) < 2.0


def test_heic_fast_path_uses_a_large_enough_thumbnail(tmp_path: Path) -> None:
    imageio.load_photo(write_photo(tmp_path / "warm.heic", 1, size=(64, 64)))  # registers the HEIF plugin
    path = _save(photo_like(13, (800, 600)), tmp_path / "thumb.heic", format="HEIF", thumbnails=[320])
    photo = load_photo(path, target=224)
    assert (photo.width, photo.height) == (800, 600)
    assert min(photo.image.size) == 224
    assert _mean_abs_diff(load_photo(path).image, photo.image) < 3.0


def test_fast_path_never_enlarges(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "small.jpg", 1, size=(100, 80))
    assert load_photo(path, target=224).image.size == (100, 80)


def test_open_image_bytes_takes_the_fast_path() -> None:
    image = open_image_bytes(_jpeg(2, (1000, 800)), target=224)
    assert image.mode == "RGB" and min(image.size) == 224


# --- fuzzing -----------------------------------------------------------------------------------------------


def _jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    photo_like(seed, size).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _encoded(fmt: str) -> bytes:
    if fmt == "HEIF":
        imageio.ensure_plugins()
    buffer = io.BytesIO()
    photo_like(21, (64, 48)).save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = {fmt: _encoded(fmt) for fmt in ("JPEG", "PNG")}


def _mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, value in edits:
        if not buffer:
            break
        pos = where % len(buffer)
        if kind == "flip":
            buffer[pos] ^= 1 << (value % 8)
        elif kind == "truncate":
            del buffer[pos:]
        else:
            buffer[pos:pos] = bytes([value % 256]) * (1 + value % 7)
    return bytes(buffer)


@pytest.mark.timeout(120)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["JPEG", "PNG", "HEIF"]),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "truncate", "insert"]), st.integers(0, 1 << 20), st.integers(0, 255)
        ),
        min_size=1,
        max_size=4,
    ),
    target=st.sampled_from([None, 32]),
)
def test_mutated_files_only_ever_decode_or_raise_decode_error(
    fmt: str, edits: list[tuple[str, int, int]], target: int | None
) -> None:
    if fmt not in SEEDS:
        SEEDS[fmt] = _encoded(fmt)
    data = _mutate(SEEDS[fmt], edits)
    try:
        image = open_image_bytes(data, target=target)
    except DecodeError as exc:
        assert exc.reason
    else:
        assert image.mode == "RGB"
