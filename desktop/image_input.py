"""Turning what the user drops or pastes into something to search by: folders to add, or an image
(a file path, or encoded bytes for a picture copied from a browser or an editor)."""

from __future__ import annotations

import os

from desktop.qt import QBuffer, QByteArray, QImage, QIODevice, QMimeData


def local_paths(mime: QMimeData, text_names_files: bool = True) -> list[str]:
    """The local files `mime` carries as URLs and, if `text_names_files`, a plain text naming one."""
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
    if not paths and text_names_files and mime.hasText():
        text = mime.text().strip()
        if text.startswith("file://"):
            from desktop.qt import QUrl

            text = QUrl(text).toLocalFile()
        if text and os.path.exists(text):
            paths = [text]
    return [p for p in paths if p]


def dropped_folders(mime: QMimeData) -> list[str]:
    return [p for p in local_paths(mime) if os.path.isdir(p)]


def image_source(mime: QMimeData, text_names_files: bool = True) -> str | bytes | None:
    """The image in `mime`: a local image file's path, or PNG bytes of pixel data; None if there is none.
    Without `text_names_files`, a plain text is never taken for a file (a paste into a text box)."""
    files = [p for p in local_paths(mime, text_names_files) if os.path.isfile(p)]
    if files:
        return files[0]
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return image_png_bytes(image)
    return None


def image_png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())
