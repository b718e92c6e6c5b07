"""HEIF photos whose colours are given by an nclx box alone (many Android phones): P3 shown true, sRGB and
HDR left as stored, an ICC profile beside the box winning. Real HEICs written by pillow-heif (x265)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from core.embedding.embedder import load_embedder
from core.imaging.colour import colour_profile
from core.imaging.decode import load_photo, open_image
from core.imaging.formats import ensure_plugins
from core.imaging.thumbnails import make_thumbnail
from tests.iccprofiles import adobe_rgb_profile, display_p3_profile

SRGB = ImageCms.createProfile("sRGB")
PATCH = 32
# Saturated sRGB colours, where P3 numbers differ most from sRGB ones: red, green, blue, orange, cyan, magenta.
COLOURS = [(230, 20, 30), (20, 200, 40), (30, 40, 220), (250, 140, 10), (10, 200, 210), (210, 30, 190)]
P3 = {"color_primaries": 12, "transfer_characteristics": 13, "matrix_coefficients": 6, "full_range_flag": 1}


def _patches() -> Image.Image:
    """Six 32x32 patches, 3 x 2: a 96x64 photo."""
    pixels = np.zeros((2 * PATCH, 3 * PATCH, 3), np.uint8)
    for i, colour in enumerate(COLOURS):
        row, col = divmod(i, 3)
        pixels[row * PATCH : (row + 1) * PATCH, col * PATCH : (col + 1) * PATCH] = colour
    return Image.fromarray(pixels, "RGB")


def _convert(image: Image.Image, source: bytes | None, target: bytes | None) -> Image.Image:
    """LittleCMS's own conversion; None stands for sRGB."""
    def profile(data: bytes | None) -> ImageCms.ImageCmsProfile:
        return ImageCms.ImageCmsProfile(io.BytesIO(data) if data else SRGB)

    converted = ImageCms.profileToProfile(
        image, profile(source), profile(target), renderingIntent=ImageCms.Intent.PERCEPTUAL
    )
    assert converted is not None
    return Image.fromarray(np.asarray(converted), "RGB")  # numbers only: ImageCms tags its output's profile


def _write_heic(path: Path, image: Image.Image, **options: object) -> Path:
    ensure_plugins()  # pillow-heif's writer too
    # 4:4:4 and high quality: the patches' colours survive the codec, so the comparison sees only colour
    # management; ultrafast keeps x265 at a few ms for 96x64.
    image.save(path, format="HEIF", quality=95, chroma=444, enc_params={"preset": "ultrafast"}, **options)
    return path


def _stored(path: Path) -> Image.Image:
    """The pixels as the file holds them, no colour management (the plugin applies none)."""
    with Image.open(path) as img:
        return img.convert("RGB")


def _interiors(image: Image.Image) -> np.ndarray:
    """Each patch without a 6-pixel border, where resizing and JPEG blur patches into each other."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    scale = pixels.shape[1] / (3 * PATCH)
    margin, size = round(6 * scale), round(PATCH * scale)
    return np.stack([
        pixels[r * size + margin : (r + 1) * size - margin, c * size + margin : (c + 1) * size - margin]
        for r in range(2) for c in range(3)
    ])


def _p3_heic(path: Path) -> tuple[Path, Image.Image]:
    """A phone-style HEIC: P3 numbers of the sRGB patches, said by an nclx box (primaries 12) only."""
    _write_heic(path, _convert(_patches(), None, display_p3_profile()), **P3)
    with Image.open(path) as img:
        assert img.info["nclx_profile"]["color_primaries"] == 12
        assert "icc_profile" not in img.info
    return path, _convert(_stored(path), display_p3_profile(), None)


def test_p3_nclx_heic_model_input_and_thumbnail_show_its_srgb_colours(tmp_path: Path) -> None:
    path, reference = _p3_heic(tmp_path / "android.heic")
    expected = _interiors(reference)
    model_input = load_photo(path, target=224).image
    assert np.abs(_interiors(model_input) - expected).mean() < 2.0
    with Image.open(make_thumbnail(path, 64, cache_dir=tmp_path / "cache")) as thumb:
        shown = thumb.convert("RGB")
    assert np.abs(_interiors(shown) - _interiors(reference.resize(shown.size))).mean() < 2.0
    # The colours the photo was made from come back, and reading the P3 numbers as sRGB is far off.
    assert np.abs(_interiors(model_input) - _interiors(_patches())).mean() < 2.0
    assert np.abs(_interiors(_stored(path)) - expected).mean() > 10


@pytest.mark.parametrize("primaries, transfer", [(1, 13), (1, 1), (2, 2)])
def test_srgb_nclx_heic_is_left_exactly_as_stored(tmp_path: Path, primaries: int, transfer: int) -> None:
    nclx = {**P3, "color_primaries": primaries, "transfer_characteristics": transfer}
    path = _write_heic(tmp_path / "bt709.heic", _patches(), **nclx)
    with Image.open(path) as img:
        assert img.info["nclx_profile"]["color_primaries"] == primaries
    assert np.array_equal(np.asarray(load_photo(path).image), np.asarray(_stored(path)))


def test_hdr_pq_heic_is_left_alone_not_tone_mapped(tmp_path: Path) -> None:
    pq = {"color_primaries": 9, "transfer_characteristics": 16, "matrix_coefficients": 9, "full_range_flag": 1}
    path = _write_heic(tmp_path / "hdr.heic", _patches(), **pq)
    with Image.open(path) as img:
        assert img.info["nclx_profile"]["transfer_characteristics"] == 16
    assert np.array_equal(np.asarray(load_photo(path).image), np.asarray(_stored(path)))


def test_icc_profile_beside_an_nclx_box_wins(tmp_path: Path) -> None:
    # Asked for both, libheif (1.23) writes the ICC profile's colr box only, as it reads only that one when
    # a file has both; so the file proves the end result, the `info` below our own order of preference.
    adobe = adobe_rgb_profile()
    path = _write_heic(tmp_path / "both.heic", _patches(), icc_profile=adobe, **P3)
    decoded = _interiors(load_photo(path).image)
    assert np.abs(decoded - _interiors(_convert(_stored(path), adobe, None))).max() <= 1
    assert np.abs(decoded - _interiors(_convert(_stored(path), display_p3_profile(), None))).mean() > 3
    # Whatever a plugin hands over, the ICC profile is the one applied.
    p3_path, _ = _p3_heic(tmp_path / "p3.heic")
    with Image.open(path) as both, Image.open(p3_path) as p3:
        info = {**both.info, "nclx_profile": p3.info["nclx_profile"]}
    assert colour_profile(info) == adobe


def test_p3_nclx_heic_embeds_like_its_srgb_conversion(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    path, reference = _p3_heic(tmp_path / "android.heic")
    reference.save(tmp_path / "srgb.png")
    embedder = load_embedder(str(tiny_siglip_dir), "cpu", "fp32")
    vectors = embedder.embed_images([open_image(path, target=224), open_image(tmp_path / "srgb.png", target=224)])
    assert float(vectors[0] @ vectors[1]) >= 0.999
