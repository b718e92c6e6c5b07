"""The menu entry and icons that make "Open With -> Lookalike" appear for photos in file managers."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from core.imaging.formats import EXTENSION_LABELS

ROOT = Path(__file__).resolve().parents[2]
DESKTOP_FILE = ROOT / "resources" / "lookalike.desktop"
ICONS = ROOT / "resources" / "icons"

# The MIME type a file manager gives each format the app decodes.
MIME_BY_LABEL = {
    "JPEG": {"image/jpeg"},
    "PNG": {"image/png"},
    "WebP": {"image/webp"},
    "GIF": {"image/gif"},
    "TIFF": {"image/tiff"},
    "BMP": {"image/bmp"},
    "HEIC": {"image/heic", "image/heif"},
    "AVIF": {"image/avif"},
    "Canon RAW": {"image/x-canon-cr2", "image/x-canon-cr3"},
    "Nikon RAW": {"image/x-nikon-nef"},
    "Sony RAW": {"image/x-sony-arw"},
    "DNG": {"image/x-adobe-dng"},
    "Olympus RAW": {"image/x-olympus-orf"},
    "Panasonic RAW": {"image/x-panasonic-rw2"},
    "Fujifilm RAW": {"image/x-fuji-raf"},
    "Pentax RAW": {"image/x-pentax-pef"},
    "Samsung RAW": {"image/x-samsung-srw"},
}


def entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_offers_lookalike_for_every_photo_format_the_app_reads() -> None:
    offered = set(filter(None, entry()["MimeType"].split(";")))
    for label in set(EXTENSION_LABELS.values()):
        assert MIME_BY_LABEL[label] <= offered, f"{label} photos would not offer Open With -> Lookalike"


def test_desktop_file_starts_the_app_on_the_chosen_photo_without_a_terminal() -> None:
    desktop = entry()
    assert desktop["Exec"].split()[-1] == "%f"  # one photo: the search starts from it
    assert desktop["Terminal"] == "false"
    assert desktop["Name"] == "Lookalike"
    assert desktop["Icon"] == "lookalike"
    assert {"Graphics", "Photography", "Viewer"} <= set(filter(None, desktop["Categories"].split(";")))


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_passes_desktop_file_validate() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP_FILE)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_menu_icon_is_the_window_icon_at_every_installed_size() -> None:
    # The menu (resources/icons) and the window (desktop/resources) must show the same picture.
    assert (ICONS / "lookalike.svg").read_bytes() == (ROOT / "desktop" / "resources" / "lookalike.svg").read_bytes()
    for size in (48, 128, 256):
        with Image.open(ICONS / f"lookalike-{size}.png") as png:
            assert png.size == (size, size)
            assert png.mode == "RGBA"  # transparent corners on any panel colour
