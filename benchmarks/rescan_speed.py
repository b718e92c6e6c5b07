"""Re-scan time of an unchanged library, and bytes per photo on disk.

    .venv/bin/python benchmarks/rescan_speed.py --photos 10000

Writes N small photo-like JPEGs, indexes them once with a tiny random SigLIP model (the model does not
matter for a re-scan: an unchanged library never loads it), then times `Library.update()` on the
unchanged folder. Bytes per photo are measured with 768-dim vectors, as the released B/16 model gives.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.library.facade import Library  # noqa: E402
from core.store.database import bump_generation, encode_vector, insert_vectors, update_photos  # noqa: E402
from core.vectors.index import VectorIndex  # noqa: E402


def write_photos(root: Path, n: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    for i in range(n):
        folder = root / f"{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        img = np.roll(base, i, axis=1)
        Image.fromarray(img).save(folder / f"p{i:06d}.jpg", quality=70)


def give_random_vectors(lib: Library, dim: int) -> None:
    """Give every photo a 768-d vector without running a model, exactly as the pipeline stores them."""
    key = lib.model_key
    lib.store.ensure_model(key, dim)
    photos = lib.store.pending_photos(key)
    rng = np.random.default_rng(1)
    with lib.store.write() as conn:
        rows, vecs = [], []
        for p in photos:
            h = f"{p.id:032x}"
            v = rng.standard_normal(dim).astype(np.float32)
            rows.append({"b_id": p.id, "hash": h, "width": 64, "height": 48, "taken_at": None,
                         "status": "ok", "error": None})
            vecs.append((h, encode_vector(v / np.linalg.norm(v))))
        update_photos(conn, rows)
        insert_vectors(conn, key, vecs, None)  # random vectors: made at no precision
        bump_generation(conn, key)
    ids, vectors = next(iter(lib.store.indexable(key, dim, chunk=10**9)))
    lib._index = VectorIndex.build(dim, ids, vectors)
    lib.save_index()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, data = Path(tmp) / "photos", Path(tmp) / "data"
        t0 = time.perf_counter()
        write_photos(root, args.photos)
        print(f"wrote {args.photos} photos in {time.perf_counter() - t0:.1f} s")
        with Library(data, model="siglip2-base-224") as lib:
            lib.add_folder(root)
            lib.scan()
            give_random_vectors(lib, 768)
        times = []
        for _ in range(args.repeats):
            with Library(data, model="siglip2-base-224") as lib:
                t0 = time.perf_counter()
                report = lib.update()
                times.append(time.perf_counter() - t0)
                assert report.summary()["embedded"] == 0 and not lib.model_loaded
                status = lib.status()
        print(f"re-scan of {report.scan.scanned} unchanged photos: "
              f"median {sorted(times)[len(times) // 2]:.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")
        total = status.database_bytes + status.index_bytes
        n = status.counts.photos
        print(f"on disk: database {status.database_bytes / n:.0f} B/photo + index {status.index_bytes / n:.0f} "
              f"B/photo = {total / n:.0f} B/photo (768-d vectors)")


if __name__ == "__main__":
    main()
