"""True colours: embedded ICC profiles converted to sRGB, transparency on neutral grey, signed and 16-bit
images at the brightness of their type. Profiles are built by tests/iccprofiles.py from published primaries."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw

from core.embedding.embedder import load_embedder
from core.imaging import colour
from core.imaging.colour import to_srgb
from core.imaging.convert import NEUTRAL
from core.imaging.decode import load_photo, open_image
from core.imaging.formats import ensure_plugins
from core.imaging.thumbnails import make_thumbnail
from tests.handmade import signed_16_bit_tiff
from tests.iccprofiles import adobe_rgb_profile, display_p3_profile, srgb_matrix_profile
from tests.imagegen import photo_like

PROFILES: dict[str, Callable[[], bytes]] = {"display_p3": display_p3_profile, "adobe_rgb": adobe_rgb_profile}
SRGB = ImageCms.createProfile("sRGB")


def _vivid(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo with saturated colours, where a wide-gamut profile matters most."""
    pixels = np.asarray(photo_like(3, size), dtype=np.float64)
    grey = pixels.mean(axis=-1, keepdims=True)
    return Image.fromarray(np.clip(grey + 1.8 * (pixels - grey), 0, 255).astype(np.uint8), "RGB")


def _reference(image: Image.Image, profile: bytes) -> Image.Image:
    """What LittleCMS itself makes of `image` read through `profile`."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    converted = ImageCms.profileToProfile(image, source, SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL)
    assert converted is not None
    return converted


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


@pytest.mark.parametrize("name", PROFILES)
def test_wide_gamut_photo_decodes_to_its_srgb_conversion(tmp_path: Path, name: str) -> None:
    image, profile = _vivid(), PROFILES[name]()
    path = tmp_path / f"{name}.png"
    image.save(path, icc_profile=profile)
    reference = _pixels(_reference(image, profile))
    decoded = _pixels(load_photo(path).image)
    assert np.abs(decoded - reference).max() <= 1
    assert np.abs(decoded - _pixels(image)).max() > 10  # the profile really moves these colours


@pytest.mark.parametrize("name", PROFILES)
def test_fast_path_and_thumbnail_carry_the_conversion(tmp_path: Path, name: str) -> None:
    image, profile = _vivid((1600, 1200)), PROFILES[name]()
    path = tmp_path / f"{name}.jpg"
    image.save(path, quality=95, icc_profile=profile)
    with Image.open(path) as stored:
        reference = _reference(stored.convert("RGB"), profile)
    small = load_photo(path, target=224).image
    expected = reference.resize(small.size, Image.Resampling.LANCZOS)
    assert np.abs(_pixels(small) - _pixels(expected)).mean() < 2.0
    with Image.open(make_thumbnail(path, 128, cache_dir=tmp_path / "cache")) as thumb:
        shown = thumb.convert("RGB")
    expected = reference.resize(shown.size, Image.Resampling.LANCZOS)
    # The thumbnail is a quality-85 JPEG: ~3 levels from the reference, ~8.5 from the unconverted photo.
    assert np.abs(_pixels(shown) - _pixels(expected)).mean() < 4.0


def test_iphone_style_p3_heic_decodes_to_its_srgb_conversion_on_both_paths(tmp_path: Path) -> None:
    image, profile = _vivid((1600, 1200)), display_p3_profile()
    path = tmp_path / "iphone.heic"
    ensure_plugins()  # pillow-heif's writer too
    image.save(path, format="HEIF", quality=95, icc_profile=profile)
    with Image.open(path) as stored:
        reference = _reference(stored.convert("RGB"), profile)
    assert np.abs(_pixels(load_photo(path).image) - _pixels(reference)).max() <= 1
    small = load_photo(path, target=224).image
    expected = reference.resize(small.size, Image.Resampling.LANCZOS)
    assert np.abs(_pixels(small) - _pixels(expected)).mean() < 2.0


@pytest.mark.parametrize("name", PROFILES)
def test_wide_gamut_photo_embeds_like_its_srgb_conversion(
    tmp_path: Path, tiny_siglip_dir: Path, name: str
) -> None:
    image, profile = _vivid(), PROFILES[name]()
    tagged, converted = tmp_path / f"{name}.png", tmp_path / "srgb.png"
    image.save(tagged, icc_profile=profile)
    _reference(image, profile).save(converted)
    embedder = load_embedder(str(tiny_siglip_dir), "cpu", "fp32")
    vectors = embedder.embed_images([open_image(tagged, target=224), open_image(converted, target=224)])
    assert float(vectors[0] @ vectors[1]) >= 0.999


@pytest.mark.parametrize("make", [lambda: ImageCms.ImageCmsProfile(SRGB).tobytes(), srgb_matrix_profile])
def test_srgb_profile_is_skipped_and_leaves_pixels_exactly_as_stored(
    tmp_path: Path, make: Callable[[], bytes]
) -> None:
    image, srgb_bytes = _vivid(), make()
    assert to_srgb(image, srgb_bytes) is image  # no transform run at all: the common case keeps its speed
    image.save(tmp_path / "tagged.png", icc_profile=srgb_bytes)
    assert np.array_equal(_pixels(open_image(tmp_path / "tagged.png")), _pixels(image))


def test_a_profile_s_transform_is_built_once(tmp_path: Path) -> None:
    profile = (
        display_p3_profile() + b"\x00" * 4
    )  # bytes no other test uses, so this test owns its cache entry
    for seed in (1, 2, 3):
        photo_like(seed).save(tmp_path / f"{seed}.png", icc_profile=profile)
    misses = colour._transform_for.cache_info().misses
    for seed in (1, 2, 3):
        open_image(tmp_path / f"{seed}.png")
    assert colour._transform_for.cache_info().misses == misses + 1


def test_broken_profile_is_treated_as_srgb(tmp_path: Path) -> None:
    image = _vivid()
    broken = bytearray(display_p3_profile())
    broken[36:40] = b"XXXX"  # the 'acsp' signature every ICC profile must carry
    image.save(tmp_path / "broken.png", icc_profile=bytes(broken))
    image.save(tmp_path / "garbage.png", icc_profile=b"not a profile at all" * 10)
    for name in ("broken.png", "garbage.png"):
        assert np.array_equal(_pixels(open_image(tmp_path / name)), _pixels(image)), name


def test_white_logo_on_transparency_makes_a_visible_thumbnail(tmp_path: Path) -> None:
    logo = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((100, 50, 300, 250), fill=(255, 255, 255, 255))
    logo.save(tmp_path / "logo.png")
    with Image.open(make_thumbnail(tmp_path / "logo.png", 128, cache_dir=tmp_path / "cache")) as thumb:
        grey = np.asarray(thumb.convert("L"), dtype=np.int16)
    corner, centre = grey[2, 2], grey[grey.shape[0] // 2, grey.shape[1] // 2]
    assert abs(int(corner) - NEUTRAL[0]) <= 3  # the transparent part: neutral grey, not white
    assert centre >= 250  # the logo itself, white, stands out from it
    assert grey.std() > 30  # far from a blank thumbnail


def test_signed_16_bit_tiff_maps_its_type_range_like_gimp(tmp_path: Path) -> None:
    # Only non-negative values: the old min..max-free scaling by 65535 showed 32767 at half brightness.
    (tmp_path / "signed.tif").write_bytes(signed_16_bit_tiff(np.array([[0, 16384, 32767] * 4] * 12)))
    (tmp_path / "both.tif").write_bytes(signed_16_bit_tiff(np.array([[-32768, 0, 32767] * 4] * 12)))
    positive = _pixels(open_image(tmp_path / "signed.tif"))[0, :3, 0]
    both = _pixels(open_image(tmp_path / "both.tif"))[0, :3, 0]
    assert list(positive) == [128, 191, 255]  # 0 is mid grey, 32767 white: the whole type range
    assert list(both) == [0, 128, 255]


def test_16_bit_rgb_and_rgba_pngs_come_out_at_full_brightness(tmp_path: Path) -> None:
    import struct
    import zlib

    def png(samples: np.ndarray, colour_type: int) -> bytes:
        height, width = samples.shape[:2]
        rows = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b"")
        )

    rgb = np.zeros((16, 16, 3), np.uint16)
    rgb[..., 0], rgb[..., 1] = 65535, 32896
    rgba = np.concatenate([rgb, np.full((16, 16, 1), 65535, np.uint16)], axis=-1)
    (tmp_path / "rgb16.png").write_bytes(png(rgb, 2))
    (tmp_path / "rgba16.png").write_bytes(png(rgba, 6))
    for name in ("rgb16.png", "rgba16.png"):
        assert open_image(tmp_path / name).getpixel((8, 8)) == (255, 128, 0), name
