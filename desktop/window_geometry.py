"""Putting the main window back as it was (place, size, panes, thumbnail size, file names), fitted to the
screen it opens on, and remembering it at close. The rules are pure functions in desktop.window_state;
this applies them to the real window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.thumb_delegate import PAD as THUMB_PAD
from desktop.thumb_view import GAP as THUMB_GAP
from desktop.window_state import (
    WindowState,
    clamp_rect,
    default_rect,
    load_window_state,
    pane_sizes,
    save_window_state,
)

if TYPE_CHECKING:
    from desktop.main_window import MainWindow


def restore_window(w: MainWindow, default_thumb: int) -> None:
    state = load_window_state(w.data_dir)
    # The look-alikes come back at least two columns wide (cells, scroll bar, margins), whatever was
    # saved; not a minimum width, which a small screen could not honour beside the other panes.
    two_columns = 2 * (w.results.view.wanted_size + 2 * THUMB_PAD + THUMB_GAP) + 40
    screen = w.screen().availableGeometry()
    available = (screen.x(), screen.y(), screen.width(), screen.height())
    if state.geometry is None or not w.restoreGeometry(state.geometry):
        w.setGeometry(*default_rect(available))
    elif not w.isMaximized():
        g = w.geometry()
        fitted = clamp_rect((g.x(), g.y(), g.width(), g.height()), available)
        if fitted != (g.x(), g.y(), g.width(), g.height()):
            w.setGeometry(*fitted)
    if state.panes is not None and len(state.panes) == w.splitter.count():
        w.splitter.setSizes(pane_sizes(state.panes, w.width(), two_columns))
    w.zoom.setValue(default_thumb if state.zoom is None else state.zoom)
    w.names_action.setChecked(state.names)


def save_window(w: MainWindow) -> None:
    save_window_state(w.data_dir, WindowState(
        geometry=bytes(w.saveGeometry().data()), zoom=w.zoom.value(),
        panes=tuple(w.placement.library_sizes()), names=w.names_action.isChecked(),
    ))
