"""Open the real window on a generated library, index it, click a photo and save a PNG of the window.

    .venv/bin/python -m desktop.screenshot OUT.png [--model LOCAL_MODEL_FOLDER] [--photos 40]
    QT_QPA_PLATFORM=xcb xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python -m desktop.screenshot shot.png

Without --model a tiny random SigLIP model is built (tests/tinymodels.py), so look-alike scores are not
meaningful, but everything on screen is the real app. Needs a source checkout (it uses tests/ helpers).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def wait_until(app: object, condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def make_photos(folder: Path, n: int) -> Path:
    from tests.imagegen import write_photo

    for i in range(n):
        sub = folder / ("trip" if i % 3 == 0 else "home")
        write_photo(sub / f"IMG_{1000 + i}.jpg", seed=i, size=(480 + (i % 4) * 80, 360))
    # An exact copy, so the first look-alike of IMG_1004 is its duplicate with similarity 1.0.
    shutil.copy(folder / "home" / "IMG_1004.jpg", folder / "trip" / "IMG_1004 copy.jpg")
    return folder / "home" / "IMG_1004.jpg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--model", help="a local model folder (default: a tiny random one)")
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--size", default="1360x860")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lookalike-shot-"))
    try:
        model = args.model
        if model is None:
            # Imported by name: tests/ is a source-checkout helper, not part of the app mypy checks.
            tinymodels = importlib.import_module("tests.tinymodels")
            model = str(tinymodels.build_tiny_siglip(tmp / "model"))
        query = make_photos(tmp / "Photos", args.photos)
        return shoot(Path(args.out), tmp, model, query, args.size)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def shoot(out: Path, tmp: Path, model: str, query: Path, size: str) -> int:
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    app = make_application()
    window = MainWindow(data_dir=tmp / "data", model=model, workers=0, cache_dir=tmp / "cache")
    w, h = (int(v) for v in size.split("x"))
    window.resize(w, h)
    window.show()
    wait_until(app, lambda: window.session.library is not None, 30, "the library to open")
    window.session.add_folder(str(tmp / "Photos"))
    wait_until(app, lambda: window.grid_model.rowCount() > 0 and not window.session.indexing, 120, "indexing")
    wait_until(app, lambda: window.status.model_label.text().endswith("ready"), 60, "the model")
    window.grid.select_path(str(query))
    window.search_path(str(query))
    wait_until(app, lambda: bool(window.results.result_paths()) and window.results.thumbnails_shown(), 60,
               "results")
    wait_until(app, lambda: window.grid_thumbnails_shown(), 60, "grid thumbnails")
    app.processEvents()
    window.grab().save(str(out))
    print(f"saved {out} ({window.grid_model.rowCount()} photos, {len(window.results.result_paths())} results)")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
