"""The folders side panel: each library folder with its photo count and indexing state; add (picker or
drop) and remove."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from desktop.folder_removal import confirm_removal
from desktop.plurals import counted
from desktop.qt import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from core.library.records import FolderStatus

PHOTOS_ROLE = Qt.ItemDataRole.UserRole + 1


def folder_line(f: FolderStatus, indexing: bool = False) -> str:
    """The folder's name and counts; "indexing" only while an index run is going (a folder left half
    done, the model missing say, shows how far it got instead of a progress that never moves)."""
    if not f.online:
        state = "offline"
    elif f.photos == 0:
        state = "no photos yet"
    elif f.indexed + f.failed >= f.photos:
        state = "indexed"
    elif indexing:
        state = f"indexing {f.indexed:,}/{f.photos:,}"
    else:
        state = f"{f.indexed:,} indexed"
    failed = f", {f.failed:,} unreadable" if f.failed else ""
    return f"{os.path.basename(f.path) or f.path}\n{counted(f.photos, 'photo')} · {state}{failed}"


EMPTY_TEXT = "No folders yet.\nAdd one, or drop a folder\non the window."


class FoldersPanel(QWidget):
    add_requested = Signal(str)
    remove_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        title = QLabel("Folders")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.list = QListWidget()
        self.list.setAccessibleName("Folders")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        # Neutral until the library's folders are known: "no folders" before that would be a guess.
        self.empty = QLabel("Opening library…")
        self.known = False  # set_folders was called with the library's folders
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget this folder (the photos themselves are not touched)")
        self.add_button.clicked.connect(self.pick_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        self.list.setVisible(False)
        self._update_buttons()

    def set_folders(self, folders: list[FolderStatus], indexing: bool = False) -> None:
        selected = self.selected_path()
        self.list.clear()
        for f in folders:
            item = QListWidgetItem(folder_line(f, indexing))
            item.setData(Qt.ItemDataRole.UserRole, f.path)
            item.setData(PHOTOS_ROLE, f.photos)  # the removal's confirmation says how many are forgotten
            item.setToolTip(f.path)
            self.list.addItem(item)
            if f.path == selected:
                item.setSelected(True)
        self.known = True
        self.empty.setText(EMPTY_TEXT)
        self.list.setVisible(bool(folders))
        self.empty.setVisible(not folders)
        self._update_buttons()

    def folder_texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def selected_path(self) -> str | None:
        items = self.list.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.add_requested.emit(folder)

    def _remove_selected(self) -> None:
        """Ask first (desktop.folder_removal says why and what follows); Remove emits `remove_requested`."""
        items = self.list.selectedItems()
        if not items:
            return
        path, photos = str(items[0].data(Qt.ItemDataRole.UserRole)), int(items[0].data(PHOTOS_ROLE) or 0)
        if confirm_removal(self, path, photos):
            self.remove_requested.emit(path)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.selected_path() is not None)
