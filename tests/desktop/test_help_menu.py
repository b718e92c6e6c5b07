"""The Help menu: shortcuts read from the window's own actions, and About with versions and paths."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from desktop.help_menu import AboutDialog, ShortcutsDialog
from desktop.main_window import MainWindow
from desktop.qt import QAction, QKeySequence


def help_action(window: MainWindow, text: str) -> QAction:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def native(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def test_the_shortcuts_dialog_lists_every_shortcut_of_the_windows_actions(qtbot, tmp_path: Path) -> None:
    window = MainWindow(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    qtbot.addWidget(window)
    late = QAction("Jump somewhere new", window)  # added after the menus: the list is read when it opens
    late.setShortcut(QKeySequence("Ctrl+J"))
    window.addAction(late)
    help_action(window, "Keyboard shortcuts").trigger()
    dialog = window.findChild(ShortcutsDialog)
    assert dialog is not None and dialog.isVisible()
    rows = dict((what, keys) for keys, what in dialog.rows())
    assert rows["Open image"] == native("Ctrl+O")
    assert rows["Duplicates"] == native("Ctrl+D")
    assert rows["Compare models"] == native("Ctrl+M")
    assert rows["Jump somewhere new"] == native("Ctrl+J")
    assert ("Escape", "Viewer: close") in dialog.rows()  # the viewer's keys too
    dialog.close()
    window.close()


def test_about_names_the_versions_and_the_folders(qtbot, tmp_path: Path) -> None:
    window = MainWindow(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    qtbot.addWidget(window)
    help_action(window, "About Lookalike").trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    text = dialog.text()
    assert str(tmp_path / "data") in text and str(tmp_path / "cache") in text
    assert metadata.version("PySide6") in text and metadata.version("transformers") in text
    assert "lookalike.log" in text
    assert sys.version.split()[0] in text
    dialog.close()
    window.close()

