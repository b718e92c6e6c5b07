"""A generated labelled image set with known answers, for `lookalike eval` tests.

Classes are visually distinct: each has its own base picture (`photo_like(class seed)`) and a class shape
drawn on it; members are crops, shifts and brightness changes of it, so members look alike and classes do
not. On top come an exact copy (same bytes) and a near-duplicate (re-encoded smaller, softer) of one photo.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from tests.imagegen import photo_like

CLASSES = ("circles", "stripes", "squares")
SIZE = (160, 120)


def _member(class_index: int, member: int) -> Image.Image:
    base = photo_like(1000 + class_index, SIZE)
    draw = ImageDraw.Draw(base)
    colour = ((230, 40, 40), (40, 200, 60), (40, 80, 230))[class_index % 3]
    w, h = SIZE
    if class_index % 3 == 0:
        draw.ellipse((w * 0.25, h * 0.2, w * 0.75, h * 0.8), fill=colour)
    elif class_index % 3 == 1:
        for x in range(0, w, 20):
            draw.rectangle((x, 0, x + 8, h), fill=colour)
    else:
        draw.rectangle((w * 0.2, h * 0.2, w * 0.8, h * 0.8), fill=colour)
    rng = np.random.default_rng(class_index * 100 + member)
    # A member: a random crop back to size, and a small brightness change.
    dx, dy = rng.integers(0, 16, size=2)
    crop = base.crop((int(dx), int(dy), int(dx) + w - 16, int(dy) + h - 12)).resize(SIZE)
    return ImageEnhance.Brightness(crop).enhance(float(rng.uniform(0.85, 1.15)))


def write_labelled_set(root: Path, per_class: int = 4) -> dict[str, Path]:
    """Write `root/<class>/<class>_<n>.jpg`, plus `circles/copy_of_0.jpg` (the exact bytes of circles_0)
    and `circles/near_0.jpg` (circles_0 re-encoded at a lower size and quality). Returns named paths."""
    root = Path(root)
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for m in range(per_class):
            _member(c, m).save(root / name / f"{name}_{m}.jpg", quality=90)
    original = root / "circles" / "circles_0.jpg"
    copy = root / "circles" / "copy_of_0.jpg"
    shutil.copyfile(original, copy)
    near = root / "circles" / "near_0.jpg"
    with Image.open(original) as im:
        im.resize((SIZE[0] * 3 // 4, SIZE[1] * 3 // 4)).save(near, quality=60)
    return {"original": original, "copy": copy, "near": near}
