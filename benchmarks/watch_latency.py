"""Live folders: latency from a completed photo write to searchable, p50 / p95 over N files.

A `LibraryWatcher` runs on a temp library; photos (1600x1200 JPEGs, pre-encoded) are written into the
watched folder one every `--interval` seconds, like a phone syncing. A photo counts as searchable when
the library announces it indexed (the FAISS index already holds it then: `Library` adds it before it
notifies). The latency includes the watcher's quiet period (`--quiet`, default the app's 1.0 s), which
is what makes a half-written file wait.

    .venv/bin/python benchmarks/watch_latency.py --model tiny        # the tests' tiny SigLIP
    .venv/bin/python benchmarks/watch_latency.py --model base-random # SigLIP 2 B/16-224 sizes, random weights
    .venv/bin/python benchmarks/watch_latency.py --model /path/to/saved/model

Random weights run at the real model's speed (the hub is out of reach here); the device is the CPU.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.library.facade import Library, LibraryChanges  # noqa: E402
from core.watch.watcher import LibraryWatcher  # noqa: E402
from tests.imagegen import photo_like  # noqa: E402


def model_folder(choice: str, scratch: Path) -> str:
    if choice == "tiny":
        from tests.tinymodels import build_tiny_siglip

        return str(build_tiny_siglip(scratch / "tiny"))
    if choice == "base-random":
        folder = scratch / "siglip2-b16-224-random"
        # Built in a child process (as embed_speed.py does) so its memory is not this process's.
        subprocess.run(
            [sys.executable, str(REPO_ROOT / "benchmarks" / "embed_speed.py"), "--build-only", str(folder)], check=True
        )
        return str(folder)
    return choice


def encoded_photos(n: int, size: tuple[int, int]) -> list[bytes]:
    out = []
    for i in range(n):
        buf = io.BytesIO()
        photo_like(10_000 + i, size).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def measure(model: str, n: int, interval: float, quiet: float, size: tuple[int, int], scratch: Path) -> list[float]:
    photos = scratch / "photos"
    photos.mkdir()
    blobs = encoded_photos(n, size)
    done_at: dict[str, float] = {}
    searchable_at: dict[str, float] = {}
    lock = threading.Lock()
    with Library(scratch / "data", model=model, device="cpu") as lib:
        lib.add_folder(photos)
        lib.embedder()  # loaded up front: a running app has its model loaded after the first photo

        def on_change(changes: LibraryChanges) -> None:  # the watcher's thread
            now = time.perf_counter()
            for photo in lib.store.photos_by_ids(changes.updated).values():
                with lock:
                    if photo.path in done_at and photo.path not in searchable_at and photo.hash:
                        searchable_at[photo.path] = now

        lib.subscribe(on_change)
        with LibraryWatcher(lib, quiet_s=quiet) as watcher:
            time.sleep(1.0)  # the start-up rescan
            for i, blob in enumerate(blobs):
                path = photos / f"IMG_{i:04d}.jpg"
                with open(path, "wb") as f:
                    f.write(blob)
                with lock:
                    done_at[str(path)] = time.perf_counter()
                time.sleep(interval)
            deadline = time.monotonic() + 120 + n
            while len(searchable_at) < n and time.monotonic() < deadline:
                time.sleep(0.05)
            if not watcher.idle:
                print("warning: the watcher was still busy at the end", file=sys.stderr)
        missing = n - len(searchable_at)
        if missing:
            print(f"warning: {missing} photos never became searchable", file=sys.stderr)
    return [searchable_at[p] - done_at[p] for p in searchable_at]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="tiny, base-random, or a saved model folder")
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two photo writes")
    parser.add_argument("--quiet", type=float, default=1.0, help="the watcher's quiet period")
    parser.add_argument("--size", type=int, nargs=2, default=[1600, 1200], metavar=("W", "H"))
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory(prefix="watch-latency-") as tmp:
        scratch = Path(tmp)
        model = model_folder(args.model, scratch)
        latencies = measure(model, args.files, args.interval, args.quiet, tuple(args.size), scratch)
    print(
        f"model {args.model}: {len(latencies)} photos of {args.size[0]}x{args.size[1]}, one every "
        f"{args.interval} s, quiet period {args.quiet} s, CPU ({torch.get_num_threads()} torch threads)"
    )
    print(
        f"write completed -> searchable: p50 {percentile(latencies, 50):.2f} s, "
        f"p95 {percentile(latencies, 95):.2f} s, max {max(latencies):.2f} s, mean {statistics.mean(latencies):.2f} s"
    )


if __name__ == "__main__":
    main()
