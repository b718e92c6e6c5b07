"""`WindowPlaces`: where the window's main area is, and how the user moves between places: the modes
(Library, Results, Duplicates), the viewer entered from the grid or the results, and Back/Forward.

Every search and every mode the user goes to is a place (`desktop.navigation`); Back and Forward show one
again without making it new. The viewer is not a place: Back leaves it, and the photo it shows is not a
query. It holds no widgets of its own but the two arrows; it drives the window's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from desktop.navigation import Navigation, Place, nav_button
from desktop.results_placement import RESULTS_MODE

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

LIBRARY_MODE = "Library"
VIEWER_MODE = "Viewer"


class WindowPlaces:
    def __init__(self) -> None:
        self.navigation = Navigation()
        self.back_button = nav_button("go-previous", "Back (Alt+Left)")
        self.forward_button = nav_button("go-next", "Forward (Alt+Right)")
        self._navigating = False  # Back/Forward is showing a place: it is not a new one
        self.window: MainWindow | None = None

    def attach(self, window: MainWindow) -> None:
        """Follow `window`'s searches and modes (once its widgets are built)."""
        self.window = w = window
        w.searcher.started.connect(lambda _query: self.visit())
        w.modes.mode_changed.connect(w.placement.follow)
        w.modes.mode_changed.connect(self._show_mode_tools)
        w.modes.mode_changed.connect(lambda _mode: self.visit())
        self.navigation.go.connect(self._go_to)
        self.navigation.changed.connect(self._update_arrows)
        self.back_button.clicked.connect(self.go_back)
        self.forward_button.clicked.connect(self.navigation.forward)
        for view, photos in ((w.grid, w.grid_model.photos), (w.results.view, lambda: w.results.model.results)):
            view.opens_in_app = True
            view.view_requested.connect(lambda row, photos=photos: self.view_photos(photos(), row))
        w.viewer.closed.connect(self.leave_viewer)
        w.viewer.find_lookalikes.connect(lambda path: self.in_one_step(RESULTS_MODE, lambda: w.search_path(path)))
        self.visit()  # where the window starts: the first place Back can return to

    @property
    def _w(self) -> MainWindow:
        assert self.window is not None, "WindowPlaces.attach(window) first"
        return self.window

    # -- the viewer ------------------------------------------------------------------------------
    def view_photos(self, photos: Sequence[Any], row: int) -> None:
        """Show `photos` (the grid's, or the results) large, from `row`; Left/Right move through them."""
        self._w.viewer.show_set(photos, row)
        self._w.modes.set_mode(VIEWER_MODE)

    def leave_viewer(self) -> None:
        w = self._w
        if w.modes.mode == VIEWER_MODE:
            w.modes.set_mode(w.modes.previous or LIBRARY_MODE)
            if path := w.viewer.current_path():
                w.grid.select_path(path)  # the grid follows where the viewer went

    # -- back and forward ------------------------------------------------------------------------
    def go_back(self) -> None:
        """Back: out of the viewer to where it was opened, else to the previous place."""
        self.leave_viewer() if self._w.modes.mode == VIEWER_MODE else self.navigation.back()

    def visit(self) -> None:
        w = self._w
        if not self._navigating and w.modes.mode != VIEWER_MODE:
            self.navigation.visit(Place(w.modes.mode, w.searcher.query))

    def in_one_step(self, mode: str, act: Callable[[], None]) -> None:
        """Switch to `mode` and `act` (start a search) as one place in the history, not two."""
        self._navigating = True
        try:
            self._w.modes.set_mode(mode)
            act()
        finally:
            self._navigating = False
        self.visit()

    def _go_to(self, place: Place) -> None:
        """Back or Forward: show `place` again without making it a new place."""
        searcher = self._w.searcher
        self._navigating = True
        try:
            self._w.modes.set_mode(place.mode)
            if place.query != searcher.query:
                searcher.start(place.query) if not place.query.empty else searcher.clear()
        finally:
            self._navigating = False

    def _show_mode_tools(self, mode: str) -> None:
        """The filter bar narrows the library and the results; the duplicates review has its own tools."""
        self._w.filter_bar.setVisible(mode in (LIBRARY_MODE, RESULTS_MODE))
        self._w.top_row.setVisible(mode != VIEWER_MODE)  # the photo gets the whole window

    def _update_arrows(self) -> None:
        self.back_button.setEnabled(self.navigation.can_go_back())
        self.forward_button.setEnabled(self.navigation.can_go_forward())
