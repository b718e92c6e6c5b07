"""Formats cameras and phones write (.hif, .mpo), known formats listed as skipped with their reason, and
200 MP photos decoded and indexed within the memory budget while a decompression bomb is still refused."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from core.cli.main import format_status, status_json
from core.errors import DecodeError
from core.imaging.decode import MAX_PIXELS, is_supported_name, load_photo
from core.imaging.formats import SKIPPED_EXTENSIONS, skip_reason
from core.library.facade import Library
from tests.imagegen import png_header_only, write_photo

ROOT = Path(__file__).resolve().parents[2]

# The budget: an indexing process stays under 1.5 GB for photos up to 250 MP. Decoding memory grows with
# the pixel count, so a 200 MP photo must decode within 200/250 of it to leave room for 250 MP.
BUDGET_MB = 1500
DECODE_BUDGET_200MP_MB = BUDGET_MB * 200 / 250
PHONE_200MP = (12240, 16320)  # what 200 MP phone cameras write
COLOUR = (120, 60, 200)


# --- formats cameras write -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["IMG_0001.HIF", "DSCF0001.hif", "stereo.MPO", "download.jfif"])
def test_camera_and_phone_extensions_are_photos(name: str) -> None:
    assert is_supported_name(name)


def test_hif_from_a_canon_or_fujifilm_camera_decodes_as_heic(tmp_path: Path) -> None:
    path = tmp_path / "DSCF0001.HIF"
    pillow_heif.from_pillow(Image.new("RGB", (96, 64), COLOUR)).save(path, quality=90)
    photo = load_photo(path)
    assert (photo.format, photo.width, photo.height) == ("HEIC", 96, 64)
    assert _close(photo.image.getpixel((48, 32)), COLOUR)


def test_mpo_decodes_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "stereo.mpo"
    left, right = Image.new("RGB", (96, 64), (220, 20, 20)), Image.new("RGB", (96, 64), (20, 20, 220))
    left.save(path, format="MPO", save_all=True, append_images=[right])
    with Image.open(path) as check:
        assert (check.format, getattr(check, "n_frames", 1)) == ("MPO", 2)  # a real two-frame MPO
    photo = load_photo(path, target=32)
    assert photo.format == "JPEG"
    assert _close(photo.image.getpixel((10, 10)), (220, 20, 20))


def test_heic_reduced_in_strips_matches_the_plugins_full_decode(tmp_path: Path) -> None:
    from core.imaging.decode import _shrink
    from tests.imagegen import photo_like

    path = tmp_path / "phone.heic"
    pillow_heif.from_pillow(photo_like(3, (4000, 3000))).save(path, quality=90, tile_size=512,
                                                          enc_params={"preset": "ultrafast"})
    pillow_heif.register_heif_opener()
    with Image.open(path) as full:  # the plugin: full size in Pillow, then our usual shrink
        expected = np.asarray(_shrink(full.convert("RGB"), 224))
    assert np.array_equal(np.asarray(load_photo(path, target=224).image), expected)


# --- known formats we skip: listed with their reason ------------------------------------------------------


def _psd(width: int, height: int) -> bytes:
    """A minimal valid Photoshop document: RGB, 8 bits, raw planes (Pillow's PSD reader opens it)."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, image resources, layers: all empty
    return header + sections + struct.pack(">H", 0) + bytes([90]) * (3 * width * height)


def test_every_skipped_extension_has_a_reason_and_is_not_decoded() -> None:
    for extension, kind in SKIPPED_EXTENSIONS.items():
        assert not is_supported_name("x" + extension)
        assert skip_reason("Photo" + extension.upper()) == f"{kind} are not supported"
    assert skip_reason("notes.txt") is None and skip_reason("photo.jpg") is None


def test_skipped_formats_are_listed_in_status_with_their_reason(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_photo(folder / "beach.jpg", 1)
    (folder / "edit.psd").write_bytes(_psd(32, 24))
    with Image.open(folder / "edit.psd") as check:
        assert check.format == "PSD"  # a real Photoshop file, which Pillow could read: we choose not to
    Image.new("RGB", (32, 24), COLOUR).save(folder / "scan.jp2")
    (folder / "notes.txt").write_text("not an image")
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(folder)
        report = lib.update()
        status = lib.status()
    assert report.summary()["embedded"] == 1
    expected = [(str(folder / "edit.psd"), "Photoshop documents (.psd) are not supported"),
                (str(folder / "scan.jp2"), "JPEG 2000 images (.jp2) are not supported")]
    assert status.skipped == expected
    assert status.failures == expected and status.counts.failed == 2  # notes.txt is never listed
    text = format_status(status)
    assert "not indexed (formats Lookalike does not read" in text and "failed photos:" not in text
    assert f"{folder / 'edit.psd'}: Photoshop documents (.psd) are not supported" in text
    assert status_json(status)["skipped"] == 2


# --- 200 MP photos within the memory budget; bombs still refused -------------------------------------------


def _child(script: str, timeout: float = 240) -> dict:
    """Run `script` in a fresh Python (this test process is big) and return the JSON it printed last."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# The child's own peak: VmHWM of its memory since exec. Not getrusage(RUSAGE_SELF): Linux carries the
# parent's peak across fork+exec into ru_maxrss, so a child of this big test process would report ours.
PEAK = "int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024"
# Its decode workers' (they exit first); each starts from at most the child's size, so the max is sound.
PEAK_CHILDREN = "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024"


@pytest.fixture(scope="module")
def big_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200 MP JPEG and HEIC, made once in a child (2 GB while encoding); plain colour keeps it quick."""
    folder = tmp_path_factory.mktemp("big")
    _child(f"""
        import json, pillow_heif
        from PIL import Image
        image = Image.new("RGB", {PHONE_200MP}, {COLOUR})
        image.save({str(folder / "phone.jpg")!r}, quality=90)
        # A grid of 2048-pixel tiles, as phones write (x265 encodes at most 142 MP in one picture). No
        # coding unit below 32 pixels: a plain colour needs none, and x265 takes 35% less time.
        pillow_heif.from_pillow(image).save({str(folder / "phone.heic")!r}, quality=10, tile_size=2048,
                                            enc_params={{"preset": "ultrafast", "x265:min-cu-size": "32"}})
        print(json.dumps({{}}))
    """, timeout=280)
    return folder


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from Linux's /proc")
@pytest.mark.parametrize(("name", "label", "budget_mb"), [
    ("phone.jpg", "JPEG", 300),  # JPEG decodes shrunk (draft): a full decode would be 800 MB
    ("phone.heic", "HEIC", DECODE_BUDGET_200MP_MB),  # libheif's decode, reduced strip by strip
])
def test_a_200_megapixel_photo_decodes_within_the_memory_budget(
    big_photos: Path, name: str, label: str, budget_mb: float
) -> None:
    found = _child(f"""
        import json, resource
        from core.imaging.decode import load_photo
        photo = load_photo({str(big_photos / name)!r}, target=224)
        print(json.dumps({{"peak_mb": {PEAK}, "format": photo.format, "size": [photo.width, photo.height],
                          "shrunk": list(photo.image.size), "pixel": photo.image.getpixel((100, 100))}}))
    """)
    assert (found["format"], found["size"], found["shrunk"]) == (label, list(PHONE_200MP), [224, 299])
    assert _close(tuple(found["pixel"]), COLOUR, tolerance=12)
    print(f"{name}: decode peak {found['peak_mb']:.0f} MB")  # shown with pytest -s
    assert found["peak_mb"] < budget_mb, found


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from Linux's /proc")
def test_a_library_indexes_200_megapixel_photos_within_the_memory_budget(
    big_photos: Path, tiny_siglip_dir: Path, tmp_path: Path
) -> None:
    found = _child(f"""
        import json, resource
        from core.library.facade import Library
        with Library({str(tmp_path / "data")!r}, model={str(tiny_siglip_dir)!r}) as lib:
            lib.add_folder({str(big_photos)!r})
            lib.update()
            status = lib.status()
        print(json.dumps({{"peak_mb": max({PEAK}, {PEAK_CHILDREN}), "indexed": status.counts.indexed,
                          "failures": status.failures}}))
    """)
    assert (found["indexed"], found["failures"]) == (2, []), found
    print(f"indexing peak {found['peak_mb']:.0f} MB")
    assert found["peak_mb"] < BUDGET_MB, found


@pytest.mark.timeout(10)
def test_a_bomb_claiming_ten_billion_pixels_is_refused_quickly_without_allocating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(100_000, 100_000))  # 10^10 pixels in a file of a few KB
    start = time.perf_counter()
    with pytest.raises(DecodeError) as caught:
        load_photo(path)
    assert time.perf_counter() - start < 1.0
    assert caught.value.reason == "image too large: 10000 megapixels exceeds the 300 megapixel limit"


def test_pillows_own_guard_is_our_limit() -> None:
    # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that: at its default (~89 MP) it
    # refused 200 MP phone photos before our own check ever ran.
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS == 300_000_000


def _close(pixel: object, colour: tuple[int, int, int], tolerance: int = 10) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
