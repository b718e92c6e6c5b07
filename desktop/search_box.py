"""`SearchBox`: the text-search line. Ctrl+V with an image on the clipboard asks by that image (a line
edit would otherwise swallow the key and paste nothing); Escape empties the line, and pressed again on
an empty line clears the query, as in the search fields of Photos or a browser."""

from __future__ import annotations

from typing import Any

from desktop.image_input import image_source
from desktop.qt import QEvent, QGuiApplication, QKeySequence, QLineEdit, QMimeData, Qt, Signal


def clipboard_image(mime: QMimeData | None) -> str | bytes | None:
    """The image a paste into the search box means: picture data, or a copied image file (a file
    manager's Copy); None for plain text, which is pasted as words even when it names a file."""
    return None if mime is None else image_source(mime, text_names_files=False)


class SearchBox(QLineEdit):
    image_pasted = Signal(object)  # str (an image file) or bytes (PNG of pasted pixels)
    cleared = Signal()  # Escape on an empty line: the user wants no query at all

    def __init__(self) -> None:
        super().__init__()
        self.setPlaceholderText("Search by text, e.g. “a dog on a beach” — Enter; or paste an image")
        self.setClearButtonEnabled(True)
        self.setAccessibleName("Text search")

    def event(self, event: Any) -> bool:
        # The window's own Paste shortcut would win over the line edit's; claim both keys here first.
        if event.type() == QEvent.Type.ShortcutOverride and self._handles(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: Any) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            image = clipboard_image(QGuiApplication.clipboard().mimeData())
            if image is not None:
                self.image_pasted.emit(image)
                return
        elif event.key() == Qt.Key.Key_Escape:
            if self.text():
                self.clear()
            else:
                self.cleared.emit()
            return
        super().keyPressEvent(event)

    @staticmethod
    def _handles(event: Any) -> bool:
        return bool(event.matches(QKeySequence.StandardKey.Paste)) or event.key() == Qt.Key.Key_Escape
