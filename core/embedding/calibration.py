"""What the precision check measures on: the user's photos, topped up with generated pictures, and queries.

A library with fewer photos than the sample still gets a full sample: neighbour agreement within a handful
of images says nothing. The generated pictures are photo-like (colour gradients, soft shapes, stripes and
grain, distinct per seed) and the same on every run, so a check is repeatable.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SAMPLE_SIZE = 32  # images: enough for stable top-10 neighbour lists, few enough to check in seconds

# Everyday subjects of a photo library, so each query ranks the sample differently.
TEXT_QUERIES = (
    "a photo of a person",
    "a dog",
    "a beach at sunset",
    "a city street at night",
    "food on a plate",
    "a document with text",
    "snowy mountains",
    "a group of people indoors",
    "a red car",
    "a flower close-up",
)


def generated_images(count: int, size: tuple[int, int] = (320, 240), first_seed: int = 0) -> list[Image.Image]:
    """`count` photo-like RGB pictures, deterministic per seed."""
    return [_picture(first_seed + i, size) for i in range(count)]


def _picture(seed: int, size: tuple[int, int]) -> Image.Image:
    width, height = size
    rng = np.random.default_rng(10_007 + seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs, ys = xs / max(1, width - 1), ys / max(1, height - 1)
    corners = rng.uniform(0, 255, size=(4, 3)).astype(np.float32)
    x, y = xs[..., None], ys[..., None]
    canvas = (corners[0] * (1 - x) + corners[1] * x) * (1 - y) + (corners[2] * (1 - x) + corners[3] * x) * y
    for _ in range(int(rng.integers(2, 6))):
        cx, cy, rx, ry = rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.0), rng.uniform(0.08, 0.4), rng.uniform(0.08, 0.4)
        inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 < 1.0
        canvas[inside] = canvas[inside] * 0.3 + rng.uniform(0, 255, size=3).astype(np.float32) * 0.7
    period = rng.uniform(0.02, 0.2)
    stripes = (np.sin((xs * rng.uniform(-1, 1) + ys) / period) > 0.6)[..., None]
    canvas = np.where(stripes, canvas * 0.85, canvas)
    canvas += rng.normal(0.0, 6.0, size=canvas.shape).astype(np.float32)
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
