"""Resident memory: the app at rest after the model is unloaded, and the pipeline's own memory over a large run.

    .venv/bin/python benchmarks/memory.py rest [--model-folder F] [--precision P]
    .venv/bin/python benchmarks/memory.py pipeline [--photos 100000] [--then-real 192] [--model-folder F]

rest: load the full-size B/16-224 model (random weights; built as benchmarks/index_speed.py does), embed
a batch (no tokenizer in that folder: images only), unload it the way idle unloading does, and print the RSS at each step.

pipeline: N small distinct JPEGs (tagged copies of 64 pictures) indexed through the real Library and
pipeline (real worker processes, decode, SQLite, FAISS) with a stand-in model that returns random
768-d vectors at once, so the run takes minutes and shows the memory of everything BUT the model. The
peak RSS of this process and of this process plus its workers are printed; add the model's own RSS
(from `rest`, or index_speed.py's model phase) for the total.

--then-real R measures it all at once instead: the real B/16 model is loaded (and run once) BEFORE the
stand-in run and stays loaded, and afterwards R photo-like 12 MP JPEGs (index_speed.py's cache) are
indexed by the real model into the same library, whose FAISS index then holds the N photos. The peak
then covers the model, its lanes' activations, the decoding worker, SQLite and the full index together.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.index_speed import BENCH_DIR, ensure_model  # noqa: E402


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def at_rest(folder: str, precision: str | None) -> dict:
    from core.embedding.embedder import load_embedder
    from tests.imagegen import photo_like

    out = {"start": rss_mb()}
    embedder = load_embedder(folder, device="cpu", precision=precision)
    out["loaded"] = rss_mb()
    pre = embedder.preprocessor()
    embedder.embed_preprocessed([pre(photo_like(i, (298, 224))) for i in range(8)])
    out["after_embedding"] = rss_mb()
    embedder.unload()
    del embedder
    gc.collect()
    out["after_unload"] = rss_mb()
    out["precision"] = precision or "default"
    return out


class RandomVectors:
    """Stands in for the model: same interface as `Embedder`, returns unit vectors at once."""

    def __init__(self, key: str, folder: str) -> None:
        from core.embedding.preprocess import numpy_preprocessor

        self.key, self.dim, self.batch_size, self.image_size, self.lanes = key, 768, 8, 224, 1
        self._pre = numpy_preprocessor(folder)
        self._rng = np.random.default_rng(0)

    def preprocessor(self):  # type: ignore[no-untyped-def]
        return self._pre

    def embed_preprocessed(self, items: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        v = self._rng.standard_normal((len(items), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def start_lane(self) -> None:
        pass

    def end_lanes(self) -> None:
        pass

    def unload(self) -> None:
        pass


def pipeline_run(folder: str, n: int, then_real: int = 0, precision: str | None = None) -> dict:
    from core.library.facade import Library
    from tests.imagegen import photo_like

    photos = small_photos(n)
    peak = {"self": 0.0, "tree": 0.0}
    done = threading.Event()
    threading.Thread(target=_poll, args=(peak, done), daemon=True).start()
    out: dict = {"photos": n}
    with tempfile.TemporaryDirectory(prefix="lookalike-mem-") as data, \
            Library(data, model=folder, precision=precision, idle_unload_s=0) as lib:
        real = lib.embedder() if then_real else None
        if real is not None:  # loaded and run once, so its weights are resident from the start
            real.embed_preprocessed([real.preprocessor()(photo_like(i, (298, 224))) for i in range(8)])
            out["model_loaded_mb"] = rss_mb()
        lib.add_folder(photos)
        lib.scan()
        fake = RandomVectors(lib.model_key, folder)
        lib.store.ensure_model(fake.key, fake.dim)
        lib._model._embedder = fake  # type: ignore[assignment]  # the stand-in model, see the module docstring
        started = time.perf_counter()
        out["embedded"] = lib.index().embedded
        out["seconds"] = time.perf_counter() - started
        if real is not None:
            lib._model._embedder = real
            out["real"] = _index_real(lib, then_real)
        out["faiss_file_mb"] = lib.index_path().stat().st_size / 2**20
    done.set()
    return {**out, "peak_self_mb": peak["self"], "peak_with_workers_mb": peak["tree"]}


def _index_real(lib, count: int) -> dict:  # type: ignore[no-untyped-def]
    from benchmarks.index_speed import photo_paths

    folder = BENCH_DIR / f"photos-{count}"
    photo_paths(folder, count, min(count, 64))
    lib.add_folder(folder)
    lib.scan()
    started = time.perf_counter()
    report = lib.index()
    seconds = time.perf_counter() - started
    return {"photos": count, "embedded": report.embedded, "seconds": seconds, "images_per_s": count / seconds,
            "library_photos": lib.status().counts.indexed, "precision": lib.embedder().precision}


def small_photos(n: int) -> Path:
    """N small distinct JPEGs (tagged copies of 64 pictures), written once into the benchmark cache."""
    from tests.imagegen import write_photo

    photos = BENCH_DIR / f"small-{n}"
    if not (photos / f"p{n - 1:06d}.jpg").exists():
        photos.mkdir(parents=True, exist_ok=True)
        seeds = [write_photo(photos / f"seed{i}.jpg", seed=i, size=(320, 240)).read_bytes() for i in range(64)]
        for i in range(n):
            (photos / f"p{i:06d}.jpg").write_bytes(seeds[i % 64] + f"tag{i}".encode())
        for i in range(64):
            (photos / f"seed{i}.jpg").unlink()
    return photos


def _poll(peak: dict, done: threading.Event) -> None:
    me = psutil.Process()
    while not done.is_set():
        own = me.memory_info().rss
        total = own + sum(_rss(c) for c in me.children(recursive=True))
        peak["self"] = max(peak["self"], own / 2**20)
        peak["tree"] = max(peak["tree"], total / 2**20)
        time.sleep(0.1)


def _rss(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except psutil.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("rest", "pipeline"))
    parser.add_argument("--model-folder", default=str(BENCH_DIR / "siglip2-b16-224-random"))
    parser.add_argument("--precision", default=None)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--then-real", type=int, default=0, metavar="R",
                        help="pipeline: then index R 12 MP photos with the real model (loaded throughout)")
    args = parser.parse_args()
    ensure_model(Path(args.model_folder))
    result = at_rest(args.model_folder, args.precision) if args.what == "rest" else pipeline_run(
        args.model_folder, args.photos, args.then_real, args.precision)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
