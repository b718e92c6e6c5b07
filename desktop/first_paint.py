"""Measure the time from process start to the window's first paint, and check that torch was not
imported by then. Prints one JSON line and exits.

    .venv/bin/python -m desktop.first_paint [--data-dir DIR]
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def process_age_s() -> float:
    """Seconds since the process started (interpreter start-up included, where psutil can tell)."""
    try:
        import psutil

        return time.time() - psutil.Process().create_time()
    except ImportError:
        return time.perf_counter() - _T0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    from desktop.app import make_application
    from desktop.main_window import MainWindow
    from desktop.qt import QTimer

    app = make_application()
    window = MainWindow(data_dir=args.data_dir)
    result: dict[str, object] = {}

    def painted() -> None:
        result.update(first_paint_s=round(process_age_s(), 3), torch_imported="torch" in sys.modules,
                      transformers_imported="transformers" in sys.modules)
        QTimer.singleShot(0, window.close)

    window.first_paint.connect(painted)
    window.show()
    app.exec()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
