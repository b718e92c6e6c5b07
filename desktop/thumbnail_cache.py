"""`ThumbnailCache`: pixmaps for the grid and the results, made off the GUI thread and kept bounded.

`pixmap(path, size)` answers at once: the pixmap, or None while it is being made (the view draws a
placeholder and repaints on `ready`). Requests are served newest first, so while the user scrolls through
100,000 photos the ones on screen now are made before the ones scrolled past; old requests are dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from desktop.qt import QImage, QObject, QPixmap, Qt, Signal
from desktop.tasks import TaskManager

# Thumbnail files come in a few sizes so that zooming reuses them; the pixmap is scaled from the next up.
FILE_SIZES = (128, 256, 512)
MAX_PIXMAPS = 3000  # ~3000 x 256 x 256 x 4 bytes worst case is about 750 MB; typical is far less
MAX_QUEUED = 400
Key = tuple[str, int]  # (path, device pixels)


def file_size_for(pixels: int) -> int:
    return next((s for s in FILE_SIZES if s >= pixels), FILE_SIZES[-1])


def load_thumbnail_image(path: str, pixels: int, cache_dir: Path | None) -> QImage:
    """Worker side: make (or reuse) the thumbnail file and read it as a QImage (allowed off-thread)."""
    from core.imaging.thumbnails import make_thumbnail

    image = QImage(str(make_thumbnail(path, file_size_for(pixels), cache_dir)))
    if image.isNull():
        raise OSError(f"cannot read the thumbnail of {path}")
    if max(image.width(), image.height()) > pixels:
        image = image.scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image


class ThumbnailCache(QObject):
    ready = Signal(str)  # path: its thumbnail (or its failure) is now known

    def __init__(self, tasks: TaskManager, cache_dir: Path | None = None, workers: int = 2) -> None:
        super().__init__()
        self.tasks = tasks
        self.cache_dir = cache_dir
        self.workers = workers
        self.dpr = 1.0
        self._pixmaps: OrderedDict[Key, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._queue: OrderedDict[Key, None] = OrderedDict()
        self._running: set[Key] = set()

    def pixmap(self, path: str, size: int) -> QPixmap | None:
        key = (path, round(size * self.dpr))
        found = self._pixmaps.get(key)
        if found is not None:
            self._pixmaps.move_to_end(key)
            return found
        if path not in self._failed and key not in self._running:
            self._queue[key] = None
            self._queue.move_to_end(key)  # newest request first
            while len(self._queue) > MAX_QUEUED:
                self._queue.popitem(last=False)
            self._pump()
        return None

    def has(self, path: str, size: int) -> bool:
        """True once the thumbnail is shown or known to be impossible (an unreadable photo)."""
        return path in self._failed or (path, round(size * self.dpr)) in self._pixmaps

    def failed(self, path: str) -> bool:
        return path in self._failed

    def _pump(self) -> None:
        while self._queue and len(self._running) < self.workers:
            key, _ = self._queue.popitem(last=True)
            self._running.add(key)
            path, pixels = key
            self.tasks.thumb(
                lambda p=path, n=pixels: load_thumbnail_image(p, n, self.cache_dir),  # type: ignore[misc]
                lambda image, k=key: self._done(k, image),  # type: ignore[misc]
                lambda _exc, k=key: self._fail(k),  # type: ignore[misc]
            )

    def _done(self, key: Key, image: QImage) -> None:
        self._running.discard(key)
        pixmap = QPixmap.fromImage(image)  # QPixmap only on the GUI thread
        pixmap.setDevicePixelRatio(self.dpr)
        self._pixmaps[key] = pixmap
        while len(self._pixmaps) > MAX_PIXMAPS:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key[0])
        self._pump()

    def _fail(self, key: Key) -> None:
        self._running.discard(key)
        self._failed.add(key[0])
        self.ready.emit(key[0])
        self._pump()
