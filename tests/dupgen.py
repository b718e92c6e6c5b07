"""Planted duplicates for duplicate-finding tests: copies, re-encodes, resizes, stripped metadata, a
crop, burst-like frames, and distinct photos, written as real files."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw

from tests.imagegen import photo_like, write_photo

SIZE = (800, 600)


def strip_exif(src: Path, dst: Path) -> Path:
    """`src` (a JPEG) without its EXIF segment, every other byte as it was: what "remove metadata" does."""
    data = src.read_bytes()
    at = 2  # after SOI: walk the marker segments up to the EXIF one (APP1)
    while data[at : at + 2] != b"\xff\xe1":
        assert data[at] == 0xFF and data[at + 1] not in (0xDA, 0xD9), "no EXIF segment before the image data"
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    length = int.from_bytes(data[at + 2 : at + 4], "big")
    dst.write_bytes(data[:at] + data[at + 2 + length :])
    return dst


def burst_frame(seed: int, frame: int) -> Image.Image:
    """One shot of a handheld burst: the subject runs across, the camera drifts 1% a frame."""
    w, h = SIZE
    scene = photo_like(seed, (int(w * 1.1), int(h * 1.1)))
    draw = ImageDraw.Draw(scene)
    x = 260 + 60 * frame
    draw.ellipse((x, 250, x + 120, 400), fill=(200, 40, 40))
    dx = 8 * frame
    return scene.crop((dx, dx, dx + w, dx + h))


def plant(root: Path) -> dict[str, list[Path]]:
    """Write the planted sets under `root` (two folders); returns them by name."""
    a, b = root / "camera", root / "downloads"
    a.mkdir(parents=True, exist_ok=True)
    b.mkdir(parents=True, exist_ok=True)
    original = write_photo(a / "beach.jpg", seed=11, size=SIZE, taken_at=datetime(2024, 8, 3, 10, 0, 0))
    image = photo_like(11, SIZE)
    copy = b / "beach (1).jpg"
    shutil.copyfile(original, copy)
    q60 = b / "beach-mail.jpg"
    image.save(q60, "JPEG", quality=60)
    half = b / "beach-small.png"
    image.resize((SIZE[0] // 2, SIZE[1] // 2), Image.Resampling.LANCZOS).save(half)
    stripped = strip_exif(original, b / "beach-nometa.jpg")
    w, h = SIZE
    crop = b / "beach-crop.jpg"
    image.crop((0, 0, int(w * 0.95), int(h * 0.95))).save(crop, "JPEG", quality=92)
    burst = []
    for frame in range(3):
        path = a / f"burst_{frame}.jpg"
        burst_frame(23, frame).save(path, "JPEG", quality=92)
        burst.append(path)
    distinct = [write_photo(a / f"other_{s}.jpg", seed=s, size=SIZE) for s in (31, 47, 59)]
    return {
        "exact": [original, copy],
        "same": [original, copy, q60, half, stripped],
        "crop": [crop],
        "burst": burst,
        "distinct": distinct,
    }
