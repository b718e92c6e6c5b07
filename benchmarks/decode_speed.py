"""How much faster is `core.imaging.decode`'s fast path (target=224), and how close are its pixels?

Run: .venv/bin/python benchmarks/decode_speed.py
Writes a photo-like 12 MP JPEG (4000x3000, with EXIF) to a temp dir, times the full decode against the
fast path, and compares the two after a SigLIP-style squash to 224x224 (bilinear, like the HF processor).
Then the same pixels saved twice more, without and with an embedded Display P3 profile, time what colour
management costs on the fast and the full path (the P3 profile is built by tests/iccprofiles.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.imaging.decode import load_photo  # noqa: E402
from tests.iccprofiles import display_p3_profile  # noqa: E402
from tests.imagegen import photo_like, write_photo  # noqa: E402

TARGET = 224
REPEATS = 10


def ms_per_call(call: Callable[[], object], repeats: int = REPEATS) -> float:
    call()  # warm-up: plugin registration, file cache
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats * 1000


def model_input(img: Image.Image) -> np.ndarray:
    """What a SigLIP processor does before normalising: squash to TARGET x TARGET with bilinear."""
    return np.asarray(img.resize((TARGET, TARGET), Image.Resampling.BILINEAR), dtype=np.float64)


def plain_decode(path: Path) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB").resize((TARGET, TARGET), Image.Resampling.BILINEAR)


def compare(full: np.ndarray, fast: np.ndarray) -> tuple[float, float, float]:
    diff = np.abs(full - fast)
    a, b = full.ravel() - full.mean(), fast.ravel() - fast.mean()
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(diff.mean()), float(diff.max()), cosine


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_photo(Path(tmp) / "big.jpg", seed=42, size=(4000, 3000), taken_at=datetime(2024, 5, 1))
        print(f"file: 4000x3000 JPEG, {path.stat().st_size / 1e6:.1f} MB, {REPEATS} repeats each")
        plain = ms_per_call(lambda: plain_decode(path))
        full = ms_per_call(lambda: load_photo(path))
        fast = ms_per_call(lambda: load_photo(path, target=TARGET))
        print(f"plain Pillow open+convert+resize : {plain:7.1f} ms")
        print(f"load_photo(path)         (full)  : {full:7.1f} ms")
        print(f"load_photo(path, {TARGET})  (fast)  : {fast:7.1f} ms   ({full / fast:.1f}x faster)")
        photo = load_photo(path, target=TARGET)
        print(f"fast path image {photo.image.size}, reported original {photo.width}x{photo.height}")
        mean, worst, cosine = compare(model_input(load_photo(path).image), model_input(photo.image))
        print(f"at {TARGET}x{TARGET}: mean |diff| {mean:.2f}/255, max {worst:.0f}, pixel cosine {cosine:.5f}")
        profile_costs(Path(tmp))


def profile_costs(folder: Path) -> None:
    """The same 12 MP pixels without and with an embedded Display P3 profile, fast and full path."""
    pixels = photo_like(7, (4000, 3000))
    plain, p3 = folder / "plain.jpg", folder / "p3.jpg"
    pixels.save(plain, quality=90)
    pixels.save(p3, quality=90, icc_profile=display_p3_profile())
    print("12 MP JPEG, same pixels, without / with an embedded Display P3 profile:")
    for label, target in (("fast", TARGET), ("full", None)):
        without = ms_per_call(lambda t=target: load_photo(plain, target=t))
        with_p3 = ms_per_call(lambda t=target: load_photo(p3, target=t))
        print(f"  {label} path: no profile {without:7.1f} ms   Display P3 {with_p3:7.1f} ms")


if __name__ == "__main__":
    main()
