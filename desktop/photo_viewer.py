"""`PhotoViewer`: one photo large, stepping through a set (the library grid's photos in order, or a
search's results) with the arrow keys; zoom, the photo's details, and "find look-alikes of this".

The grid's cached thumbnail shows at once; the photo decoded screen-sized (upright, sRGB, a RAW's
preview: core.imaging.decode) replaces it when it arrives from the task manager's decode pool, and
the neighbours are loaded ahead (desktop.photo_viewer_load). An unreadable photo says why in the
viewer. A change record (`apply_changes`) keeps the set true: a photo removed while shown is left
for the next one, and the viewer says so. Keys: Left/Right, Home/End, PageUp/PageDown move; + - 0 zoom
(also Ctrl+wheel, double-click; drag pans); I shows or hides the details; Escape leaves.
Everything here runs on the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop.browse_order import is_listed
from desktop.photo_actions import open_in_viewer, show_in_folder
from desktop.photo_viewer_canvas import STEP, ZoomCanvas
from desktop.photo_viewer_details import DetailsPanel, ViewerItem, details
from desktop.photo_viewer_load import LargeImages, ViewerImage
from desktop.qt import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPixmap,
    QPushButton,
    QSize,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.tasks import TaskManager
from desktop.thumbnail_cache import FILE_SIZES, ThumbnailCache

if TYPE_CHECKING:
    from core.library.records import Photo, SearchResult
    from core.store.changes import LibraryChanges

THUMB = FILE_SIZES[-1]  # the largest grid thumbnail stands in while the photo loads
PAGE = 10  # photos a PageUp/PageDown moves


class PhotoViewer(QWidget):
    find_lookalikes = Signal(str)  # "Find look-alikes" on the photo shown
    closed = Signal()  # Escape or Back: the window returns to where it was
    current_changed = Signal(str)  # the path of the photo now shown

    def __init__(self, cache: ThumbnailCache, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self.large = LargeImages(tasks)
        self.items: list[ViewerItem] = []
        self.index = -1
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas = ZoomCanvas()
        self.message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.stack.addWidget(self.message)
        self.details = DetailsPanel()
        self.title = QLabel()
        self.zoom_label = QLabel()
        self.note = QLabel(wordWrap=True)  # what an action could not do, or what changed
        self.buttons = {name: self._button(name) for name in
                        ("Back", "Find look-alikes", "Open", "Show in folder", "Open the RAW", "Details")}
        self.raw_button = self.buttons["Open the RAW"]
        self._connect(cache)
        self._layout()

    # --- the API ---------------------------------------------------------------------------------------

    def show_set(self, photos: Sequence[Photo | SearchResult], index: int) -> None:
        """Step through `photos` (the grid's, in order, or results, best first), starting at `index`."""
        self.items = [ViewerItem.of(p) for p in photos]
        self.large.longest = self._decode_longest()
        self.note.clear()
        self._go(max(0, min(index, len(self.items) - 1)) if self.items else -1, force=True)
        self.setFocus()

    def current(self) -> ViewerItem | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def current_path(self) -> str | None:
        item = self.current()
        return item.path if item else None

    def apply_changes(self, changes: LibraryChanges, rows: dict[int, Photo]) -> None:
        """Follow a change record (`rows`: the touched photos as now stored, as the grid gets them):
        removed or no longer listed photos leave the set, moved or changed ones take their new path."""
        touched = {*changes.added, *changes.moved, *changes.updated}
        removed, updated = set(changes.removed), set(changes.updated)
        shown = self.current()
        kept: list[ViewerItem] = []
        next_index = None
        for i, item in enumerate(self.items):
            photo = rows.get(item.photo_id)
            if item.photo_id in removed or (item.photo_id in touched and (photo is None or not is_listed(photo))):
                continue
            if i >= self.index and next_index is None:
                next_index = len(kept)  # the shown photo, or the first after it that stays
            if item.photo_id in touched and photo is not None:
                if item.photo_id in updated or photo.path != item.path:
                    self.large.forget(item.path)
                item = item.followed(photo)
            kept.append(item)
        self.items = kept
        if shown is None:
            return
        still = kept[next_index] if next_index is not None else (kept[-1] if kept else None)
        if still is None or still.photo_id != shown.photo_id:
            name = os.path.basename(shown.path)
            self.note.setText(f"{name} was removed from the library." +
                              (" Showing the next photo." if kept else " No photos are left to show."))
        self._go(-1 if not kept else (next_index if next_index is not None else len(kept) - 1), force=True)

    # --- moving ----------------------------------------------------------------------------------------

    def step(self, delta: int) -> None:
        """Move `delta` photos along the set, stopping at its ends."""
        if self.items:
            self._go(max(0, min(len(self.items) - 1, self.index + delta)))

    def _go(self, index: int, force: bool = False) -> None:
        if index == self.index and not force:
            return
        was = self.current_path()
        self.index = index
        item = self.current()
        if item is None:
            self.canvas.set_picture(QPixmap(), QSize(), new_photo=True)
            self.message.setText(self.note.text() or "No photos to show.")
            self.stack.setCurrentWidget(self.message)
            self.title.clear()
            self._update_actions(None)
            return
        self.title.setText(f"{os.path.basename(item.path)}  ·  {index + 1} of {len(self.items)}")
        self._show(item, new_photo=item.path != was)
        for neighbour in (index + 1, index - 1):
            if 0 <= neighbour < len(self.items):
                self.large.prefetch(self.items[neighbour].path)
        if item.path != was:
            self.current_changed.emit(item.path)

    def _show(self, item: ViewerItem, new_photo: bool) -> None:
        loaded = self.large.get(item.path)
        if loaded is not None:
            self._show_loaded(loaded, new_photo)
        else:
            self.stack.setCurrentWidget(self.canvas)
            size = QSize(item.width or 0, item.height or 0)
            self.canvas.set_picture(QPixmap(), size, new_photo)  # before asking: `ready` may come at once
            thumb = self.cache.pixmap(item.path, THUMB)
            if thumb is not None:
                self.canvas.set_picture(thumb, size, new_photo=False)
        self.details.show_details(details(item, loaded))
        self._update_actions(loaded)
        if loaded is None:
            self.large.prefetch(item.path)  # last: its answer may arrive at once and must win

    def _show_loaded(self, loaded: ViewerImage, new_photo: bool) -> None:
        if loaded.image is None:
            self.message.setText(f"Cannot show {os.path.basename(loaded.path)}: {loaded.error}.")
            self.stack.setCurrentWidget(self.message)
            return
        self.stack.setCurrentWidget(self.canvas)
        facts = loaded.facts
        size = QSize(facts.width, facts.height) if facts and facts.width and facts.height else loaded.image.size()
        self.canvas.set_picture(QPixmap.fromImage(loaded.image), size, new_photo)

    def _large_ready(self, loaded: ViewerImage) -> None:
        item = self.current()
        if item is not None and item.path == loaded.path:
            self._show_loaded(loaded, new_photo=False)
            self.details.show_details(details(item, loaded))
            self._update_actions(loaded)

    def _thumbnail_ready(self, path: str) -> None:
        item = self.current()
        if item is not None and item.path == path and self.large.get(path) is None:
            thumb = self.cache.pixmap(path, THUMB)
            if thumb is not None:
                self.canvas.set_picture(thumb, QSize(item.width or 0, item.height or 0), new_photo=False)

    # --- actions ---------------------------------------------------------------------------------------

    def raws(self) -> tuple[str, ...]:
        """The RAW files of the pair the photo shown stands for (the search's, else found beside it)."""
        item = self.current()
        if item is None:
            return ()
        loaded = self.large.get(item.path)
        return item.companions or (loaded.raws if loaded is not None else ())

    def _update_actions(self, _loaded: ViewerImage | None) -> None:
        present = self.current() is not None
        for name in ("Find look-alikes", "Open", "Show in folder"):
            self.buttons[name].setEnabled(present)
        raws = self.raws()
        self.raw_button.setVisible(bool(raws))
        self.raw_button.setText(f"Open the RAW ({os.path.basename(raws[0])})" if len(raws) == 1 else "Open the RAW")
        old = self.raw_button.menu()
        if old is not None:
            old.deleteLater()
        menu = QMenu(self.raw_button) if len(raws) > 1 else None  # one RAW: the button opens it
        for raw in raws if menu is not None else ():
            menu.addAction(os.path.basename(raw), lambda r=raw: self._say(open_in_viewer(r)))  # type: ignore[misc, union-attr]
        self.raw_button.setMenu(menu)  # type: ignore[arg-type]

    def _act(self, name: str) -> None:
        item = self.current()
        if name == "Back":
            self.closed.emit()
        elif name == "Details":
            self.details.setVisible(self.details.isHidden())
        elif item is None:
            return
        elif name == "Find look-alikes":
            self.find_lookalikes.emit(item.path)
        elif name == "Open":
            self._say(open_in_viewer(item.path))
        elif name == "Show in folder":
            self._say(show_in_folder(item.path))
        elif name == "Open the RAW" and self.raws():
            self._say(open_in_viewer(self.raws()[0]))

    def _say(self, failure: str | None) -> None:
        self.note.setText(failure or "")

    # --- keys and building -----------------------------------------------------------------------------

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        key = event.key()
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_PageUp: -PAGE, Qt.Key.Key_PageDown: PAGE,
                 Qt.Key.Key_Home: -len(self.items), Qt.Key.Key_End: len(self.items)}
        if key in moves:
            self.step(moves[key])
        elif key == Qt.Key.Key_Escape:
            self.closed.emit()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.canvas.zoom_by(STEP)
        elif key == Qt.Key.Key_Minus:
            self.canvas.zoom_by(1 / STEP)
        elif key == Qt.Key.Key_0:
            self.canvas.toggle_fit()
        elif key == Qt.Key.Key_I:
            self._act("Details")
        else:
            super().keyPressEvent(event)

    def _decode_longest(self) -> int:
        """Twice the screen's longest side in device pixels: sharp at 200% zoom, a fraction of a 50 MP decode."""
        screen = self.screen()
        size = screen.size()
        return round(2 * max(size.width(), size.height()) * screen.devicePixelRatio())

    def _button(self, name: str) -> QPushButton:
        button = QPushButton(name)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys stay with the viewer
        button.clicked.connect(lambda: self._act(name))
        return button

    def _connect(self, cache: ThumbnailCache) -> None:
        self.large.ready.connect(self._large_ready)
        cache.ready.connect(self._thumbnail_ready)
        self.canvas.zoom_changed.connect(
            lambda s: self.zoom_label.setText(f"{'Fit ' if self.canvas.fit else ''}{s:.0%}"))
        self.buttons["Back"].setToolTip("Back (Escape)")
        self.buttons["Details"].setToolTip("Show or hide the details (I)")

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.buttons["Back"])
        bar.addWidget(self.title, 1)
        bar.addWidget(self.zoom_label)
        for name in ("Find look-alikes", "Open", "Show in folder", "Open the RAW", "Details"):
            bar.addWidget(self.buttons[name])
        middle = QHBoxLayout()
        middle.addWidget(self.stack, 1)
        middle.addWidget(self.details)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(middle, 1)
        layout.addWidget(self.note)
