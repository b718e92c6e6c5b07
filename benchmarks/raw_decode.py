"""How much does reading a RAW's embedded preview save over demosaicing it, for the model's input?

Run: .venv/bin/python benchmarks/raw_decode.py
Writes a 24 MP DNG (6000x4000 Bayer data, a 1620x1080 JPEG preview, as many cameras embed) to a temp dir
and times, to a 224 px model input: `load_photo(target=224)` (what indexing does: the preview), LibRaw's
half-size demosaic (what indexing does when a RAW has no usable preview), and a full demosaic. Medians of
a few runs after one warm-up; prints JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import rawpy
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.imaging.decode import _shrink, load_photo  # noqa: E402
from tests.dnggen import write_dng  # noqa: E402

TARGET = 224
SENSOR = (6000, 4000)
PREVIEW = (1620, 1080)


def median_ms(call: Callable[[], object], repeats: int) -> float:
    call()  # warm-up: imports, file cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def demosaic(path: Path, half: bool) -> Image.Image:
    with rawpy.imread(str(path)) as raw:
        pixels = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8, no_auto_bright=False)
    return _shrink(Image.fromarray(pixels, "RGB"), TARGET)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_dng(Path(tmp) / "24mp.dng", sensor=SENSOR, preview=PREVIEW, jpeg_preview=True)
        results = {
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "sensor": f"{SENSOR[0]}x{SENSOR[1]}",
            "preview": f"{PREVIEW[0]}x{PREVIEW[1]} JPEG",
            "target": TARGET,
            "preview_path_ms": median_ms(lambda: load_photo(path, target=TARGET), repeats=7),
            "half_size_demosaic_ms": median_ms(lambda: demosaic(path, half=True), repeats=3),
            "full_demosaic_ms": median_ms(lambda: demosaic(path, half=False), repeats=3),
        }
    results["speedup_vs_half"] = round(results["half_size_demosaic_ms"] / results["preview_path_ms"], 1)
    results["speedup_vs_full"] = round(results["full_demosaic_ms"] / results["preview_path_ms"], 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
