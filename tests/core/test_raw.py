"""Camera RAW files on real DNGs (written by tests.dnggen, read by LibRaw): preview or demosaic, upright,
with specific reasons for broken files, and indexed by a real Library like any photo."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import DecodeError
from core.imaging.decode import is_supported_name, load_photo
from core.imaging.raw import CORRUPT, read_raw
from core.library.facade import Library
from tests.dnggen import PREVIEW_LEFT, PREVIEW_RIGHT, preview_pixels, write_dng
from tests.imagegen import write_photo

# What the test DNG's two halves look like decoded: the preview's colours, or the sensor's as demosaiced.
COLOURS = {"green": PREVIEW_LEFT, "yellow": PREVIEW_RIGHT, "red": (255, 186, 57), "blue": (57, 186, 255)}
FROM_PREVIEW = ("green", "yellow")  # (the sensor's left half, its right half)
FROM_SENSOR = ("red", "blue")


def colour_at(image: object, xy: tuple[int, int]) -> str:
    pixel = np.array(image.getpixel(xy), dtype=float)  # type: ignore[attr-defined]
    return min(COLOURS, key=lambda name: float(np.linalg.norm(pixel - COLOURS[name])))


def halves(image: object) -> tuple[str, str, str, str]:
    """Colours of the (top, bottom, left, right) edges' middles."""
    w, h = image.size  # type: ignore[attr-defined]
    points = [(w // 2, 3), (w // 2, h - 4), (3, h // 2), (w - 4, h // 2)]
    return tuple(colour_at(image, p) for p in points)  # type: ignore[return-value]


def test_raw_extensions_are_photos() -> None:
    for name in ("a.CR2", "a.cr3", "a.nef", "a.arw", "a.dng", "a.orf", "a.rw2", "a.raf", "a.pef", "a.srw"):
        assert is_supported_name(name), name


def test_a_large_enough_preview_is_used_pixel_for_pixel(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", sensor=(600, 400), preview=(360, 240))
    photo = load_photo(path, target=240)  # the preview's shorter side: nothing to shrink
    assert np.array_equal(np.asarray(photo.image), preview_pixels(360, 240))
    assert (photo.width, photo.height) == (600, 400)  # the sensor's size, not the preview's
    assert photo.format == "DNG"


def test_a_jpeg_preview_is_used(tmp_path: Path) -> None:
    photo = load_photo(write_dng(tmp_path / "a.dng", jpeg_preview=True), target=224)
    assert photo.image.size == (336, 224)
    assert halves(photo.image)[2:] == FROM_PREVIEW


@pytest.mark.parametrize("preview", [None, (90, 60)], ids=["no preview", "tiny preview"])
def test_without_a_large_enough_preview_the_sensor_is_demosaiced(tmp_path: Path, preview: object) -> None:
    photo = load_photo(write_dng(tmp_path / "a.dng", preview=preview), target=224)  # type: ignore[arg-type]
    assert photo.image.size == (336, 224)
    assert halves(photo.image)[2:] == FROM_SENSOR


def test_demosaic_is_half_size_when_that_still_covers_the_target(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", sensor=(1200, 800), preview=None)
    with path.open("rb") as handle:
        raw = read_raw(handle, str(path), target=224)
    assert (raw.from_preview, raw.image.size, (raw.width, raw.height)) == (False, (600, 400), (1200, 800))
    with path.open("rb") as handle:
        assert read_raw(handle, str(path), target=500).image.size == (1200, 800)


def test_full_size_uses_the_preview_only_when_it_is_half_the_sensor(tmp_path: Path) -> None:
    big = load_photo(write_dng(tmp_path / "big.dng", sensor=(600, 400), preview=(300, 200)))
    small = load_photo(write_dng(tmp_path / "small.dng", sensor=(600, 400), preview=(240, 160)))
    assert (big.image.size, halves(big.image)[2:]) == ((300, 200), FROM_PREVIEW)
    assert (small.image.size, halves(small.image)[2:]) == ((600, 400), FROM_SENSOR)


# Orientation 6: turn 90 degrees clockwise, so the sensor's left half ends on top; 8: counter-clockwise.
@pytest.mark.parametrize("orientation", [6, 8])
@pytest.mark.parametrize(
    ("kind", "options", "colours"),
    [
        ("bitmap preview", {}, FROM_PREVIEW),
        ("jpeg preview", {"jpeg_preview": True}, FROM_PREVIEW),
        ("demosaic", {"preview": None}, FROM_SENSOR),
    ],
)
def test_the_raws_orientation_is_applied(
    tmp_path: Path, orientation: int, kind: str, options: dict, colours: tuple[str, str]
) -> None:
    photo = load_photo(write_dng(tmp_path / "a.dng", orientation=orientation, **options), target=224)
    assert (photo.width, photo.height) == (400, 600)
    assert photo.image.size == (224, 336)
    top, bottom = colours if orientation == 6 else colours[::-1]
    assert halves(photo.image)[:2] == (top, bottom), kind


def test_a_jpeg_previews_own_exif_orientation_wins(tmp_path: Path) -> None:
    """A camera-made preview carries its photo's EXIF; LibRaw passes it on as it is."""
    path = write_dng(tmp_path / "a.dng", orientation=1, jpeg_preview=True, preview_exif_orientation=3)
    photo = load_photo(path, target=224)
    assert halves(photo.image)[2:] == FROM_PREVIEW[::-1]  # upside down: left and right swap


# Three sources, by path: a JPEG preview's EXIF, a TIFF-based RAW's first IFD, LibRaw after a demosaic.
@pytest.mark.parametrize(
    "options",
    [{"jpeg_preview": True}, {}, {"preview": None}],
    ids=["jpeg preview", "bitmap preview", "demosaic"],
)
def test_capture_time_comes_from_the_raw(tmp_path: Path, options: dict) -> None:
    dated = load_photo(write_dng(tmp_path / "a.dng", taken_at="2021:05:06 07:08:09", **options), target=224)
    undated = load_photo(write_dng(tmp_path / "b.dng", **options), target=224)
    assert (dated.taken_at, undated.taken_at) == (datetime(2021, 5, 6, 7, 8, 9), None)


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.99])
def test_a_truncated_raw_is_reported_as_such(tmp_path: Path, keep: float) -> None:
    data = write_dng(tmp_path / "full.dng", preview=None).read_bytes()
    cut = tmp_path / "cut.dng"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(DecodeError) as caught:
        load_photo(cut, target=224)
    assert caught.value.reason == CORRUPT


def test_a_file_that_is_no_raw_named_nef_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "notes.nef"
    path.write_bytes(b"shopping list: milk, eggs, a better camera\n" * 20)
    with pytest.raises(DecodeError) as caught:
        load_photo(path, target=224)
    assert caught.value.reason == "not a RAW file (unrecognised format)"


def test_a_raw_variant_libraw_cannot_read_is_named(tmp_path: Path) -> None:
    path = tmp_path / "future.cr3"
    path.write_bytes(b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(4000))
    with pytest.raises(DecodeError) as caught:
        load_photo(path, target=224)
    assert caught.value.reason == "unsupported RAW variant (LibRaw cannot read this camera's files)"


def test_a_jpeg_named_nef_is_still_decoded(tmp_path: Path) -> None:
    write_photo(tmp_path / "a.jpg", seed=1)
    (tmp_path / "a.jpg").rename(tmp_path / "a.nef")
    assert load_photo(tmp_path / "a.nef", target=64).format == "JPEG"


def test_a_library_indexes_a_dng_beside_a_jpeg(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    write_dng(folder / "raw.dng", orientation=6, taken_at="2021:05:06 07:08:09")
    write_photo(folder / "plain.jpg", seed=3)
    library.add_folder(folder)
    report = library.update()
    assert report.summary()["embedded"] == 2 and report.summary()["failed"] == 0
    raw = next(p for p in library.photos() if p.path.endswith("raw.dng"))
    assert (raw.width, raw.height, raw.status) == (400, 600, "ok")
    assert raw.taken_at == datetime(2021, 5, 6, 7, 8, 9).timestamp()


def test_a_preview_tagged_adobe_rgb_is_shown_in_srgb(tmp_path: Path) -> None:
    # Cameras set to Adobe RGB tag their embedded preview with it; shown untagged it looks dull.
    from PIL import ImageCms

    from tests.iccprofiles import adobe_rgb_profile

    profile = adobe_rgb_profile()
    # Mid-tones, which the profile moves (saturated primaries would only be clipped to the sRGB gamut).
    pixels = np.zeros((400, 600, 3), np.uint8)
    pixels[:, :300] = (90, 140, 70)
    pixels[:, 300:] = (160, 110, 150)
    path = write_dng(tmp_path / "adobe.dng", sensor=(600, 400), preview=(600, 400), jpeg_preview=True,
                     preview_icc_profile=profile, preview_rgb=pixels)
    decoded = np.asarray(load_photo(path, target=300).image, dtype=float)
    stored = Image.fromarray(pixels, "RGB")
    expected = ImageCms.profileToProfile(stored, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                         ImageCms.createProfile("sRGB"), outputMode="RGB")
    expected = np.asarray(expected.resize(decoded.shape[1::-1]), dtype=float)
    untouched = np.asarray(stored.resize(decoded.shape[1::-1]), dtype=float)
    assert np.abs(decoded - expected).mean() < 2 < 6 < np.abs(decoded - untouched).mean()
