"""The library grid: `PhotoGridModel` (every online photo, browse order) and `PhotoGrid` (its view)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeAlias

from desktop.photo_actions import describe
from desktop.qt import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from desktop.thumb_delegate import ItemRole, PathRole
from desktop.thumb_view import ThumbView

if TYPE_CHECKING:
    from core.store.database import Photo

AnyIndex: TypeAlias = "QModelIndex | QPersistentModelIndex"


class PhotoGridModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._photos: list[Photo] = []
        self._rows: dict[str, int] = {}

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

    def set_photos(self, photos: list[Photo]) -> None:
        """Show `photos`. The same photos in the same order only refresh their details (no reset, so
        selection and scroll position survive indexing updates)."""
        same = len(photos) == len(self._photos) and all(
            a.id == b.id for a, b in zip(photos, self._photos, strict=True))
        if same:
            self._photos = photos
            if photos:
                self.dataChanged.emit(self.index(0), self.index(len(photos) - 1))
            return
        self.beginResetModel()
        self._photos = photos
        self._rows = {p.path: i for i, p in enumerate(photos)}
        self.endResetModel()

    def row_of(self, path: str) -> int | None:
        return self._rows.get(path)

    def photo_at(self, row: int) -> Photo:
        return self._photos[row]


class PhotoGrid(ThumbView):
    """The virtualised thumbnail grid of the whole library."""

    def __init__(self, model: PhotoGridModel, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setModel(model)
        self.setAccessibleName("Library")

    def select_path(self, path: str) -> None:
        row = self.model().row_of(path)  # type: ignore[attr-defined]
        if row is not None:
            self.setCurrentIndex(self.model().index(row, 0))
