"""Does the library grid stay smooth at 100,000 photos? Event-loop lateness while scrolling through it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/grid_scroll.py [--photos 100000] [--steps 400]

Builds a library of N small JPEGs with random vectors (as gui_latency.py does), opens the real window,
waits for the grid to list every photo, then scrolls: page by page from the top, then random jumps
anywhere, letting thumbnails load in the background. A 10 ms QTimer records how late each tick fires;
the longest and 99th-percentile lateness are the stalls a user would feel.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gui_latency import LatenessProbe, fake_library, open_window, wait  # noqa: E402


def scroll_lateness(app: object, window: object, steps: int) -> list[float]:
    bar = window.grid.verticalScrollBar()  # type: ignore[attr-defined]
    probe = LatenessProbe()
    rng = random.Random(0)
    for step in range(steps):
        if step < steps // 2:
            bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))  # paging down from the top
        else:
            bar.setValue(rng.randint(0, bar.maximum()))  # dragging the scroll bar anywhere
        until = time.perf_counter() + 0.03  # a fast scroll: ~33 screens a second
        while time.perf_counter() < until:
            app.processEvents()  # type: ignore[attr-defined]
            time.sleep(0.0005)
    return probe.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=400)
    args = ap.parse_args()
    from desktop.app import make_application

    app = make_application()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        model = fake_library(tmp, args.photos)
        t0 = time.perf_counter()
        window = open_window(tmp / "data", model, tmp / "cache")
        wait(app, lambda: window.grid_model.rowCount() == args.photos)  # type: ignore[attr-defined]
        print(f"window open -> grid lists all {args.photos} photos: {time.perf_counter() - t0:.2f} s")
        wait(app, lambda: not window.session.indexing)  # type: ignore[attr-defined]
        lat = scroll_lateness(app, window, args.steps)
        window.close()  # type: ignore[attr-defined]
    print(f"scrolling {args.steps} steps (half paging, half random jumps), {len(lat)} ticks of a 10 ms timer: "
          f"longest {lat[-1] * 1000:.0f} ms late, p99 {lat[int(len(lat) * 0.99)] * 1000:.0f} ms, "
          f"median {lat[len(lat) // 2] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
