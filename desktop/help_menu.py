"""The Help menu: the keyboard shortcuts, About Lookalike (versions and where things are kept), and
opening the log.

The shortcuts are read from the window's own actions when the dialog opens, so the list can never go
stale; only the viewer's keys, which are handled as key presses rather than actions, are listed here.
About reads versions from installed package metadata and never imports torch or transformers for it
(that costs seconds; torch is shown only when already loaded).
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from core.files.logs import LOG_FILE
from core.files.paths import default_cache_dir
from desktop.qt import (
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMessageBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QUrl,
    QVBoxLayout,
    QWidget,
)

# The photo viewer's keys: key presses, not QActions, so they are not among the window's actions.
VIEWER_KEYS: tuple[tuple[str, str], ...] = (
    ("Left / Right", "Viewer: previous / next photo"),
    ("+ / -", "Viewer: zoom in / out"),
    ("0", "Viewer: fit the photo to the window"),
    ("I", "Viewer: show or hide the photo's details"),
    ("Escape", "Viewer: close"),
)


def add_help_menu(window: QMainWindow, data_dir: Path, cache_dir: Path | None) -> None:
    help_menu = window.menuBar().addMenu("&Help")
    shortcuts = help_menu.addAction("&Keyboard shortcuts")
    shortcuts.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    shortcuts.triggered.connect(lambda _checked=False: ShortcutsDialog(window).open())
    window.addAction(shortcuts)
    about = help_menu.addAction("&About Lookalike")
    about.triggered.connect(lambda _checked=False: AboutDialog(window, data_dir, cache_dir).open())
    log_file = help_menu.addAction("Open the &log")
    log_file.triggered.connect(lambda _checked=False: open_log(window))


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every action of `window` that has a shortcut, then the viewer's keys."""
    rows = []
    for action in window.actions():
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("…").rstrip(".")))
    return sorted(rows, key=lambda row: row[1].lower()) + list(VIEWER_KEYS)


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (keys, what) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        _with_close_button(self, self.table)
        self.resize(460, 420)

    def rows(self) -> list[tuple[str, str]]:
        cells = [(self.table.item(r, 0), self.table.item(r, 1)) for r in range(self.table.rowCount())]
        return [(keys.text(), what.text()) for keys, what in cells if keys is not None and what is not None]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def log_path() -> Path:
    """The log file the app writes (its handler's file), else where `configure_logging` would put it."""
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", "")
        if name and os.path.basename(name) == LOG_FILE:
            return Path(name)
    return default_cache_dir() / LOG_FILE


def about_facts(data_dir: Path, cache_dir: Path | None) -> list[tuple[str, str]]:
    torch = sys.modules.get("torch")
    return [
        ("Lookalike", _version("lookalike")),
        ("Python", platform.python_version()),
        ("Qt (PySide6)", _version("PySide6")),
        ("torch", getattr(torch, "__version__", "?") if torch is not None else "not loaded"),
        ("transformers", _version("transformers")),
        ("Data folder", str(data_dir)),
        ("Cache folder", str(cache_dir or default_cache_dir())),
        ("Log file", str(log_path())),
    ]


class AboutDialog(QDialog):
    def __init__(self, window: QWidget, data_dir: Path, cache_dir: Path | None) -> None:
        super().__init__(window)
        self.setWindowTitle("About Lookalike")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        body = QWidget()
        form = QFormLayout(body)
        form.addRow(QLabel("Finds look-alikes among your photos, on this computer."))
        for name, value in about_facts(data_dir, cache_dir):
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths to copy
            form.addRow(f"{name}:", label)
        _with_close_button(self, body)

    def text(self) -> str:
        return "\n".join(label.text() for label in self.findChildren(QLabel))


def open_log(parent: QWidget) -> None:
    """Open the log with the system's handler; where there is none (or no log yet), say where it is."""
    path = log_path()
    if path.is_file() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return
    reason = "Nothing has been logged yet." if not path.is_file() else "No application here opens it."
    QMessageBox.information(parent, "The log", f"{reason}\nThe log is kept at:\n{path}")


def _with_close_button(dialog: QDialog, body: QWidget) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    column = QVBoxLayout(dialog)
    column.addWidget(body, 1)
    column.addWidget(buttons)
