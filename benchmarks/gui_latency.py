"""Desktop responsiveness: first paint, click-to-thumbnails at 10,000 photos, GUI stalls while indexing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_latency.py [--photos 10000] [--index-photos 300]
        [--index-model FOLDER]

1. Time to first window paint, from process start (fresh process, `python -m desktop.first_paint`).
2. Click -> every result thumbnail shown (k=50) on a library of N small JPEGs with fake vectors inserted
   as the pipeline stores them (the search itself needs no model for a library photo). Cold: thumbnail
   cache empty. Warm: the same query again in a fresh window (thumbnail files on disk, pixmaps not).
3. The longest GUI-thread stall while a library of real photo-like JPEGs is indexed with the tiny model
   (or `--index-model`, e.g. the full-size B/16 that keeps every core busy) in the real window: a 10 ms
   QTimer records how late each tick fires.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rescan_speed import give_random_vectors, write_photos  # noqa: E402


def first_paint(repeats: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            out = subprocess.run([sys.executable, "-m", "desktop.first_paint", "--data-dir", tmp],
                                 capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
            times.append(json.loads(out.stdout.strip().splitlines()[-1])["first_paint_s"])
    return times


def fake_index(data: Path, model: str, photos: Path) -> None:
    """A library of `photos` with random vectors of the model's size: the GUI timings need no real model."""
    from core.library.facade import Library

    with Library(data, model=model) as lib:
        lib.add_folder(photos)
        lib.scan()
        give_random_vectors(lib, lib.embedder().dim)


def fake_library(tmp: Path, photos: int) -> str:
    """Builds the tiny model and a `photos`-photo library of it in tmp/data (photos in tmp/photos);
    returns the model folder."""
    from tests.tinymodels import build_tiny_siglip

    model = str(build_tiny_siglip(tmp / "model"))
    t0 = time.perf_counter()
    write_photos(tmp / "photos", photos)
    fake_index(tmp / "data", model, tmp / "photos")
    print(f"built a {photos}-photo library in {time.perf_counter() - t0:.1f} s")
    return model


def wait(app: object, condition: object, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.001)


def open_window(data: Path, model: str, cache: Path, workers: int | None = 0) -> object:
    from desktop.main_window import MainWindow

    window = MainWindow(data_dir=data, model=model, workers=workers, cache_dir=cache)
    window.resize(1360, 860)
    window.show()
    return window


def click_to_thumbnails(app: object, data: Path, model: str, cache: Path, n: int) -> float:
    window = open_window(data, model, cache)
    wait(app, lambda: window.grid_model.rowCount() == n and not window.session.indexing)  # type: ignore[attr-defined]
    wait(app, window.grid_thumbnails_shown)  # type: ignore[attr-defined]
    query = window.grid_model.photo_at(n // 2).path  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    window.search_path(query)  # type: ignore[attr-defined]
    wait(app, lambda: len(window.results.result_paths()) == 50 and window.results.thumbnails_shown())  # type: ignore[attr-defined]
    took = time.perf_counter() - t0
    window.close()  # type: ignore[attr-defined]
    return took


def indexing_stalls(app: object, tmp: Path, model: str, n: int) -> tuple[float, float, float, int]:
    from tests.imagegen import write_photo

    photos = tmp / "real"
    for i in range(n):
        write_photo(photos / f"p{i:05d}.jpg", seed=i)
    window = open_window(tmp / "data2", model, tmp / "cache2", workers=None)
    wait(app, lambda: window.session.library is not None and not window.session.indexing)  # type: ignore[attr-defined]
    window.session.add_folder(str(photos))  # type: ignore[attr-defined]
    wait(app, lambda: window.session.indexing)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    probe = LatenessProbe()
    while window.session.indexing:  # type: ignore[attr-defined]
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.0005)
    took = time.perf_counter() - t0
    lat = probe.stop()
    window.close()  # type: ignore[attr-defined]
    return max(lat), lat[int(len(lat) * 0.99)], took, len(lat)


class LatenessProbe:
    """A 10 ms QTimer that records how late each tick fires: the GUI-thread stalls a user would feel.
    Runs from construction until `stop()`, which returns the lateness values (seconds), sorted."""

    INTERVAL_S = 0.010

    def __init__(self) -> None:
        from desktop.qt import QTimer

        self._lateness: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(round(self.INTERVAL_S * 1000))
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self._lateness.append(now - self._last - self.INTERVAL_S)
        self._last = now

    def stop(self) -> list[float]:
        self._timer.stop()
        return sorted(self._lateness)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=10_000)
    ap.add_argument("--index-photos", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--index-model", help="model folder for the stall test (default: the tiny model)")
    args = ap.parse_args()
    paints = first_paint(args.repeats)
    print(f"first paint: median {statistics.median(paints):.3f} s (runs: {paints})")

    from desktop.app import make_application

    app = make_application()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        model = fake_library(tmp, args.photos)
        cold = click_to_thumbnails(app, tmp / "data", model, tmp / "cache", args.photos)
        warm = click_to_thumbnails(app, tmp / "data", model, tmp / "cache", args.photos)
        print(f"click -> all 50 result thumbnails shown at {args.photos} photos: "
              f"cold cache {cold * 1000:.0f} ms, thumbnail files cached {warm * 1000:.0f} ms")
        worst, p99, took, ticks = indexing_stalls(app, tmp, args.index_model or model, args.index_photos)
        print(f"GUI stall while indexing {args.index_photos} photos ({took:.1f} s, {ticks} ticks of a 10 ms "
              f"timer): longest {worst * 1000:.0f} ms late, p99 {p99 * 1000:.0f} ms")


if __name__ == "__main__":
    main()
