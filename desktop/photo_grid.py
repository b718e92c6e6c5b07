"""The library grid: `PhotoGridModel` (every online photo, browse order) and `PhotoGrid` (its view).

The model follows the library by its change records (`apply_changes`): rows are inserted, removed,
moved and refreshed by id, so a change to a few photos never re-reads a 100,000-photo listing.
"""

from __future__ import annotations

import operator
import os
from bisect import bisect_left, bisect_right
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeAlias

from desktop.browse_order import BrowseKey, browse_key, cut, is_listed, runs, splice
from desktop.photo_actions import describe
from desktop.qt import QAbstractListModel, QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal
from desktop.thumb_delegate import ItemRole, PathRole
from desktop.thumb_view import ThumbView

if TYPE_CHECKING:
    from core.library.records import Photo
    from core.store.changes import LibraryChanges

AnyIndex: TypeAlias = "QModelIndex | QPersistentModelIndex"

# Above this many row signals one change record becomes one model reset over a rebuilt list (the
# view keeps its place by id). Each signal also shifts the lists by O(n): measured at 100,000 rows
# on a busy 2-core machine, a move ~160 us (pop and insert in both lists), a removed run or inserted
# group ~80 us, plus ~20 us of Qt signals each; the rebuild is slice copies, a few ms, and a reset
# ~5 ms. 300 signals keep the fine path under ~50 ms. The view's relayout afterwards costs the same
# either way, and more than both (0.3-0.8 s for 100,000 cells in IconMode there).
BULK_SIGNALS = 300


class PhotoGridModel(QAbstractListModel):
    """Every listed photo, sorted by `browse_key`.

    Lookups keep no row numbers: an id or a path maps to its Photo, and its row is found by bisecting
    the sorted keys (17 steps for 100,000 rows). A path->row map would need O(n) rewrites on every
    insertion or removal above it; these maps change only for the photos a record names. The keys
    are kept beside the photos (about 9 MB for 100,000) because bisecting with a key function built
    a tuple per step: 5,000 insertions spent most of their 0.26 s there."""

    # Around every set_photos and apply_changes, whatever signals Qt gets in between, so a view can
    # keep its place once per change record rather than once per row signal.
    applying = Signal()
    applied = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._photos: list[Photo] = []
        self._keys: list[BrowseKey] = []  # browse_key of each row, ascending
        self._by_id: dict[int, Photo] = {}
        self._id_of_path: dict[str, int] = {}

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._photos)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        photo = self._photos[index.row()]
        if role == PathRole:
            return photo.path
        if role == ItemRole:
            return photo
        if role == Qt.ItemDataRole.ToolTipRole:
            return describe(photo.path, photo.width, photo.height, photo.taken_at)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return os.path.basename(photo.path)
        return None

    # -- reading --------------------------------------------------------------------------------
    def row_of(self, path: str) -> int | None:
        photo_id = self._id_of_path.get(path)
        return None if photo_id is None else self._locate(self._by_id[photo_id])

    def row_of_id(self, photo_id: int) -> int | None:
        photo = self._by_id.get(photo_id)
        return None if photo is None else self._locate(photo)

    def photo_at(self, row: int) -> Photo:
        return self._photos[row]

    def photos(self) -> list[Photo]:
        return self._photos  # read-only: the rows in order (the date jump counts months over them)

    def _locate(self, photo: Photo) -> int:
        """The row of `photo`, which the grid shows. Keys are unique (paths are), except halfway
        through a record where a path passes between photos (A and B swap names): the photo given
        the path then goes after the one still holding it (bisect_right), so this finds the latter."""
        return bisect_left(self._keys, browse_key(photo))

    def _remember(self, photo: Photo) -> None:
        self._by_id[photo.id] = photo
        self._id_of_path[photo.path] = photo.id

    def _forget(self, photo: Photo) -> None:
        del self._by_id[photo.id]
        if self._id_of_path.get(photo.path) == photo.id:
            del self._id_of_path[photo.path]

    # -- writing --------------------------------------------------------------------------------
    def set_photos(self, photos: list[Photo]) -> None:
        """Show `photos` (the initial load). The same photos in the same order only refresh their
        details (no reset, so selection and scroll position survive)."""
        self.applying.emit()
        keys = [browse_key(p) for p in photos]
        if not all(map(operator.lt, keys, islice(keys, 1, None))):  # the store's listing already is
            order = sorted(range(len(photos)), key=keys.__getitem__)
            photos, keys = [photos[i] for i in order], [keys[i] for i in order]
        same = len(photos) == len(self._photos) and all(
            a.id == b.id for a, b in zip(photos, self._photos, strict=True))
        if not same:
            self.beginResetModel()
        self._photos, self._keys = list(photos), keys
        self._by_id = {p.id: p for p in photos}
        self._id_of_path = {p.path: p.id for p in photos}
        if not same:
            self.endResetModel()
        elif photos:
            self.dataChanged.emit(self.index(0), self.index(len(photos) - 1))
        self.applied.emit()

    def apply_changes(self, changes: LibraryChanges, rows: dict[int, Photo]) -> None:
        """Follow one change record without re-reading the library.

        `rows` holds the store's current row for ids in `changes.added`, `.moved` and `.updated`
        (`Store.photos_by_ids`). The grid lists what `Store.list_photos` lists: a photo whose row is
        missing (deleted since) or offline leaves the grid, one that is listed is inserted, moved to
        its new sorted place or refreshed in place. Removals apply before additions, so an id both
        removed and added (SQLite reused it) is a new photo."""
        self.applying.emit()
        self._apply(changes, rows)
        self.applied.emit()

    def _apply(self, changes: LibraryChanges, rows: dict[int, Photo]) -> None:
        touched = (*changes.added, *changes.moved, *changes.updated)
        fresh = {i: rows[i] for i in touched if i in rows and is_listed(rows[i])}
        leaving = {i for i in changes.removed if i in self._by_id}
        leaving.update(i for i in touched if i in self._by_id and i not in fresh)
        in_place: list[Photo] = []
        moving: list[Photo] = []
        new: list[Photo] = []
        for photo in fresh.values():
            old = None if photo.id in leaving else self._by_id.get(photo.id)
            if old is None:
                new.append(photo)
            else:
                (in_place if browse_key(old) == browse_key(photo) else moving).append(photo)
        new.sort(key=browse_key)
        gone = sorted(self._locate(self._by_id[i]) for i in leaving)
        signals = len(runs(gone)) + len(moving) + len(set(self._insertion_points(new)))
        if signals > BULK_SIGNALS:
            self._rebuild(gone, in_place + moving, new)
            return
        self._remove_rows(gone)
        for photo in moving:
            self._move(photo)
        self._insert(new)
        self._refresh(in_place)

    def _insertion_points(self, photos: list[Photo]) -> list[int]:
        """Where each of `photos` (sorted) goes in the current list; after any equal key."""
        return [bisect_right(self._keys, browse_key(p)) for p in photos]

    def _remove_rows(self, rows: list[int]) -> None:
        for first, last in reversed(runs(rows)):  # bottom up, so the rows above keep their numbers
            self.beginRemoveRows(QModelIndex(), first, last)
            for photo in self._photos[first : last + 1]:
                self._forget(photo)
            del self._photos[first : last + 1]
            del self._keys[first : last + 1]
            self.endRemoveRows()

    def _move(self, photo: Photo) -> None:
        """Give a shown photo its new row; Qt's destination counts rows before the move, which is
        exactly the insertion point in the list that still holds it."""
        source = self._locate(self._by_id[photo.id])
        key = browse_key(photo)
        dest = bisect_right(self._keys, key)
        if dest in (source, source + 1):  # its place did not change (e.g. a rename keeping the order)
            self._forget(self._photos[source])
            self._photos[source], self._keys[source] = photo, key
            self._remember(photo)
            self.dataChanged.emit(self.index(source), self.index(source))
            return
        row = dest if dest < source else dest - 1
        self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), dest)
        self._forget(self._photos.pop(source))
        del self._keys[source]
        self._photos.insert(row, photo)
        self._keys.insert(row, key)
        self._remember(photo)
        self.endMoveRows()
        self.dataChanged.emit(self.index(row), self.index(row))  # its details changed as well

    def _insert(self, photos: list[Photo]) -> None:
        points = self._insertion_points(photos)
        groups: list[tuple[int, list[Photo]]] = []
        for point, photo in zip(points, photos, strict=True):
            if groups and groups[-1][0] == point:
                groups[-1][1].append(photo)
            else:
                groups.append((point, [photo]))
        for point, group in reversed(groups):  # bottom up, so the points above stay valid
            self.beginInsertRows(QModelIndex(), point, point + len(group) - 1)
            self._photos[point:point] = group
            self._keys[point:point] = [browse_key(p) for p in group]
            for photo in group:
                self._remember(photo)
            self.endInsertRows()

    def _refresh(self, photos: list[Photo]) -> None:
        """Replace rows whose order is unchanged. One dataChanged over the span: views repaint only
        what is visible either way, and 5,000 single-row signals would cost ~75 ms."""
        changed = []
        for photo in photos:
            row = self._locate(self._by_id[photo.id])
            self._photos[row] = photo
            self._remember(photo)
            changed.append(row)
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))

    def _rebuild(self, gone: list[int], changed: list[Photo], new: list[Photo]) -> None:
        """The bulk path: one reset over a list rebuilt in O(n), not one signal per row. `gone`: the
        (ascending) rows that leave; `changed` photos are taken out and put back at their place."""
        old = [self._photos[row] for row in gone] + [self._by_id[p.id] for p in changed]
        out = sorted(gone + [self._locate(p) for p in old[len(gone):]])
        kept_photos, kept_keys = cut(self._photos, out), cut(self._keys, out)
        extra = sorted(new + changed, key=browse_key)
        extra_keys = [browse_key(p) for p in extra]
        points = [bisect_right(kept_keys, key) for key in extra_keys]
        photos, keys = splice(kept_photos, points, extra), splice(kept_keys, points, extra_keys)
        self.beginResetModel()
        for photo in old:
            self._forget(photo)
        for photo in extra:
            self._remember(photo)
        self._photos, self._keys = photos, keys
        self.endResetModel()


class PhotoGrid(ThumbView):
    """The virtualised thumbnail grid of the whole library.

    While the library changes, the current photo stays current, even through a reset or a rename (it
    is found again by id), and once scrolled down, the photo at the top of the view stays where it is:
    rows inserted above it would otherwise push what the user looks at down. At the very top, new
    photos show."""

    def __init__(self, model: PhotoGridModel, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setModel(model)
        self.setAccessibleName("Library")
        self._place: tuple[int | None, int | None, int] = (None, None, 0)  # current id, top id, top y
        model.applying.connect(self._remember_place)
        model.applied.connect(self._restore_place)

    def select_path(self, path: str) -> None:
        row = self.model().row_of(path)  # type: ignore[attr-defined]
        if row is not None:
            self.setCurrentIndex(self.model().index(row, 0))

    def _remember_place(self) -> None:
        top = self.indexAt(QPoint(8, 8)) if self.verticalScrollBar().value() > 0 else QModelIndex()
        current = self.currentIndex()
        self._place = (current.data(ItemRole).id if current.isValid() else None,
                       top.data(ItemRole).id if top.isValid() else None,
                       self.visualRect(top).top() if top.isValid() else 0)

    def _restore_place(self) -> None:
        current, top, offset = self._place
        self._place = (None, None, 0)
        model: PhotoGridModel = self.model()  # type: ignore[assignment]
        if current is not None and (row := model.row_of_id(current)) is not None:
            self.setCurrentIndex(model.index(row))
        if top is not None and (row := model.row_of_id(top)) is not None:
            moved_down = self.visualRect(model.index(row)).top() - offset  # lays the view out first
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + moved_down)
