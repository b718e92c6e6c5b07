"""The viewer's details panel: what is known of the photo shown, in words. `ViewerItem` is one photo of
the set the viewer steps through, from a library `Photo` or a `SearchResult` alike."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from core.library.records import Photo, SearchResult
from desktop.photo_actions import format_label
from desktop.qt import QFormLayout, QFrame, QLabel, Qt, QWidget

if TYPE_CHECKING:
    from desktop.photo_viewer_load import ViewerImage

FIELDS = ("Name", "Folder", "Taken", "Camera", "Size", "File", "Format", "Similarity")


@dataclass(frozen=True)
class ViewerItem:
    photo_id: int
    path: str
    width: int | None
    height: int | None
    taken_at: float | None
    camera: str | None = None
    score: float | None = None  # a search result's similarity
    companions: tuple[str, ...] = ()  # the RAW of a RAW+JPEG pair, as the search found it

    @classmethod
    def of(cls, photo: Photo | SearchResult) -> ViewerItem:
        if isinstance(photo, SearchResult):
            return cls(photo.photo_id, photo.path, photo.width, photo.height, photo.taken_at, None,
                       photo.score, photo.companions)
        return cls(photo.id, photo.path, photo.width, photo.height, photo.taken_at, photo.camera)

    def followed(self, photo: Photo) -> ViewerItem:
        """This item after its photo moved or changed: new path and facts, same score and pair."""
        return ViewerItem(self.photo_id, photo.path, photo.width, photo.height, photo.taken_at,
                          photo.camera or self.camera, self.score, self.companions)


def details(item: ViewerItem, loaded: ViewerImage | None) -> dict[str, str]:
    """The panel's lines for `item`; the header facts, once loaded, fill what the library did not know."""
    facts = loaded.facts if loaded is not None else None
    width = item.width or (facts.width if facts else None)
    height = item.height or (facts.height if facts else None)
    taken = item.taken_at or (facts.taken_at if facts and facts.taken_from == "exif" else None)
    camera = item.camera or (_camera(facts.camera_make, facts.camera_model) if facts else None)
    lines = {
        "Name": os.path.basename(item.path),
        "Folder": os.path.dirname(item.path),
        "Taken": datetime.fromtimestamp(taken).strftime("%Y-%m-%d %H:%M:%S") if taken else "unknown",
        "Camera": camera or "unknown",
        "Size": f"{width} × {height} ({width * height / 1e6:.1f} MP)" if width and height else "unknown",
        "File": _bytes(loaded.file_bytes) if loaded is not None and loaded.file_bytes is not None else "…",
        "Format": facts.format if facts and facts.format else format_label(item.path),
    }
    if item.score is not None:
        lines["Similarity"] = f"{item.score:.3f}"
    return lines


def _camera(make: str | None, model: str | None) -> str | None:
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model  # "NIKON CORPORATION" + "NIKON D850" says the make twice (as core.imaging.meta does)
    return " ".join(part for part in (make, model) if part) or None


def _bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


class DetailsPanel(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(260)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        form = QFormLayout(self)
        self.values: dict[str, QLabel] = {}
        self._labels: dict[str, QLabel] = {}
        for name in FIELDS:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label = QLabel(name)
            form.addRow(label, value)
            self.values[name], self._labels[name] = value, label

    def show_details(self, lines: dict[str, str]) -> None:
        for name, value in self.values.items():
            value.setText(lines.get(name, ""))
            value.setVisible(name in lines)
            self._labels[name].setVisible(name in lines)

    def text(self) -> str:
        """Everything shown, one "Field: value" a line (for a copy, and for tests)."""
        return "\n".join(f"{n}: {v.text()}" for n, v in self.values.items() if not v.isHidden())
