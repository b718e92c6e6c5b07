"""Starting the desktop app: the QApplication (name, icon, system palette), the window, the event loop.

Start-up is kept light on purpose: nothing imported here loads torch, FAISS or the database; the window
paints first and the library opens in the background afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.qt import QApplication, QIcon

APP_NAME = "Lookalike"


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


def run(data_dir: str | None = None, model: str | None = None, image: str | None = None) -> int:
    """Open the window (searching by `image` once the library is open) and run until it closes."""
    app = make_application()
    from desktop.main_window import MainWindow

    window = MainWindow(data_dir=data_dir, model=model)
    if image:
        window.open_when_painted(image)
    window.show()
    return app.exec()
