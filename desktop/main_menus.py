"""The main window's menus: File, View and Help. Every action is also added to the window itself, so its
shortcut works whichever widget has the focus, and Help ▸ Keyboard shortcuts lists them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop.help_menu import add_help_menu
from desktop.qt import QAction, QKeySequence
from desktop.results_placement import RESULTS_MODE
from desktop.window_places import LIBRARY_MODE

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

Keys = QKeySequence.StandardKey


def build_menus(w: MainWindow) -> None:
    file = w.menuBar().addMenu("&File")
    action(w, file, "&Add folder…", w.folders.pick_folder, Keys.New)
    action(w, file, "&Open image…", w.open_image_dialog, Keys.Open)
    w.paste_action = action(w, file, "&Paste image", w.paste_image, Keys.Paste)
    file.addSeparator()
    action(w, file, "&Update library", w.session.update, Keys.Refresh)
    action(w, file, "P&references…", w.open_preferences, Keys.Preferences)
    file.addSeparator()
    action(w, file, "&Quit", w.close, Keys.Quit)
    view = w.menuBar().addMenu("&View")
    action(w, view, "&Unreadable photos…", w.show_errors)
    action(w, view, "Find in &library", w.search_box.setFocus, Keys.Find)
    action(w, view, "&Compare models…", w.show_compare, "Ctrl+M")
    w.names_action = QAction("Show file &names", w, checkable=True)
    w.names_action.toggled.connect(w.show_names)  # also when restored at start
    view.addAction(w.names_action)
    view.addSeparator()
    action(w, view, "&Back", w.places.go_back, Keys.Back)
    action(w, view, "&Forward", w.places.navigation.forward, Keys.Forward)
    view.addSeparator()
    action(w, view, "&Library", lambda: w.modes.set_mode(LIBRARY_MODE), "Ctrl+1")
    action(w, view, "&Results", lambda: w.modes.set_mode(RESULTS_MODE), "Ctrl+2")
    action(w, view, "&Duplicates", lambda: w.modes.set_mode("Duplicates"), "Ctrl+D")
    add_help_menu(w, w.data_dir, w.cache.cache_dir)


def action(w: MainWindow, menu: Any, text: str, slot: Callable[[], Any], key: Any = None) -> QAction:
    made = QAction(text, w)
    if key is not None:
        made.setShortcut(QKeySequence(key))
    made.triggered.connect(lambda _checked=False: slot())
    menu.addAction(made)
    w.addAction(made)
    return made
