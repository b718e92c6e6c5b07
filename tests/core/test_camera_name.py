"""The camera a photo was taken with, read from its EXIF for the duplicates comparison."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from core.imaging.meta import TAG_MAKE, TAG_MODEL, camera_name


def _jpeg(path: Path, make: str | None, model: str | None) -> Path:
    exif = Image.Exif()
    if make:
        exif[TAG_MAKE] = make
    if model:
        exif[TAG_MODEL] = model
    Image.new("RGB", (16, 12), (90, 120, 60)).save(path, "JPEG", exif=exif)
    return path


def test_the_camera_is_its_make_and_model(tmp_path: Path) -> None:
    assert camera_name(_jpeg(tmp_path / "a.jpg", "Canon", "EOS R5")) == "Canon EOS R5"


def test_a_model_that_repeats_the_make_is_shown_once(tmp_path: Path) -> None:
    assert camera_name(_jpeg(tmp_path / "n.jpg", "NIKON CORPORATION", "NIKON D850")) == "NIKON D850"


def test_no_camera_tags_or_an_unreadable_file_is_unknown(tmp_path: Path) -> None:
    assert camera_name(_jpeg(tmp_path / "plain.jpg", None, None)) is None
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    assert camera_name(tmp_path / "broken.jpg") is None
    assert camera_name(tmp_path / "missing.jpg") is None
