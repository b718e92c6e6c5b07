"""Starting the desktop app: the QApplication (name, icon, system palette), the window, the event loop.

Start-up is kept light on purpose: nothing imported here loads torch, FAISS or the database; the window
paints first and the library opens in the background afterwards. The log (<cache dir>/lookalike.log) is
set up before anything else, so an exception that escapes on any thread is written there too.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from core.files.logs import configure_logging, log_uncaught_exceptions
from desktop.qt import QApplication, QIcon

APP_NAME = "Lookalike"
log = logging.getLogger(__name__)


def application_icon() -> QIcon:
    return QIcon(str(Path(__file__).with_name("resources") / "lookalike.svg"))


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("lookalike")
    app.setWindowIcon(application_icon())
    # No style or palette is forced: Qt follows the platform theme, light or dark.
    return app


def start_logging() -> Path | None:
    """Log to the cache folder and catch uncaught exceptions; returns the log's path (None if the cache
    folder cannot be made: the app still runs, it just keeps no log)."""
    log_uncaught_exceptions()
    try:
        path = configure_logging()
    except OSError as e:
        print(f"Lookalike: no log file ({e})", file=sys.stderr)
        return None
    log.info("Lookalike starting (Python %s, %s)", sys.version.split()[0], sys.platform)
    return path


def run(data_dir: str | None = None, model: str | None = None, image: str | None = None) -> int:
    """Open the window (searching by `image` once the library is open) and run until it closes."""
    start_logging()
    app = make_application()
    from desktop.main_window import MainWindow

    window = MainWindow(data_dir=data_dir, model=model)
    if image:
        window.open_when_painted(image)
    window.show()
    return app.exec()
