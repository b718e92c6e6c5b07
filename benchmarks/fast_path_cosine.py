"""Does the decode fast path change what the model sees? Embedding cosine, fast path vs full decode.

    .venv/bin/python benchmarks/fast_path_cosine.py [--model-folder DIR] [--photos 12]

Writes photo-like 12 MP JPEGs (4000x3000, every third rotated by EXIF), decodes each with
`open_image(path, target=embedder.image_size)` (JPEG draft + antialiased shrink) and with a full decode,
embeds both with the full-size SigLIP 2 B/16-224 architecture (random weights, built like
benchmarks/index_speed.py) in fp32, and prints decode ms per photo and the cosine per photo pair.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.index_speed import BENCH_DIR, ensure_model  # noqa: E402
from core.embedding.embedder import load_embedder  # noqa: E402
from core.imaging.decode import open_image  # noqa: E402
from tests.imagegen import write_photo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-folder", default=str(BENCH_DIR / "siglip2-b16-224-random"))
    parser.add_argument("--photos", type=int, default=12)
    args = parser.parse_args()
    ensure_model(Path(args.model_folder))
    embedder = load_embedder(args.model_folder, device="cpu", precision="fp32")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [
            write_photo(Path(tmp) / f"p{i}.jpg", seed=500 + i, size=(4000, 3000),
                        exif_orientation=6 if i % 3 == 0 else None)
            for i in range(args.photos)
        ]
        started = time.perf_counter()
        fast_images = [open_image(p, target=embedder.image_size) for p in paths]
        fast_ms = (time.perf_counter() - started) * 1000 / len(paths)
        started = time.perf_counter()
        full_images = [open_image(p) for p in paths]
        full_ms = (time.perf_counter() - started) * 1000 / len(paths)
        cosines = (embedder.embed_images(fast_images) * embedder.embed_images(full_images)).sum(axis=1)
    print(f"decode per 12 MP JPEG: fast path {fast_ms:.0f} ms, full decode {full_ms:.0f} ms")
    print(f"embedding cosine fast vs full over {len(paths)} photos: min {cosines.min():.5f}, "
          f"mean {cosines.mean():.5f}")


if __name__ == "__main__":
    main()
