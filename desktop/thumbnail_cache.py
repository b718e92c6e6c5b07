"""`ThumbnailCache`: pixmaps for the grid and the results, made off the GUI thread and kept bounded.

`pixmap(path, size)` answers at once: the pixmap, or None while it is being made (the view draws a
placeholder and repaints on `ready`). Requests are served newest first, so while the user scrolls through
100,000 photos the ones on screen now are made before the ones scrolled past; old requests are dropped.
The pixmaps are kept within a byte budget (`MEMORY_BUDGET_MB`), least recently shown dropped first.
Everything but the worker function runs on the GUI thread.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from core.files.folder_budget import budget_from_env
from desktop.qt import QImage, QObject, QPixmap, Qt, Signal
from desktop.tasks import TaskManager

# Thumbnail files come in a few sizes so that zooming reuses them; the pixmap is scaled from the next up.
FILE_SIZES = (128, 256, 512)
# A pixmap costs width x height x 4 bytes in device pixels: 74 KB at the default zoom on a plain screen,
# 1 MB at the largest zoom on a HiDPI one (a 512 px file). 256 MB holds ~3,500 of the former and ~250 of the
# latter, several screenfuls either way, so scrolling back is instant while a count bound (3000 x 1 MB)
# could pin gigabytes. LOOKALIKE_THUMB_MEMORY_MB overrides it.
MEMORY_BUDGET_MB = 256
MEMORY_BUDGET_ENV = "LOOKALIKE_THUMB_MEMORY_MB"
MAX_QUEUED = 400
Key = tuple[str, int]  # (path, device pixels)


def file_size_for(pixels: int) -> int:
    return next((s for s in FILE_SIZES if s >= pixels), FILE_SIZES[-1])


def load_thumbnail_image(path: str, pixels: int, cache_dir: Path | None) -> QImage:
    """Worker side: make (or reuse) the thumbnail file and read it as a QImage (allowed off-thread)."""
    from core.imaging.thumbnails import make_thumbnail

    file = make_thumbnail(path, file_size_for(pixels), cache_dir)
    image = QImage(str(file))
    if image.isNull() and not file.exists():  # pruned from the disk cache in between: make it again
        image = QImage(str(make_thumbnail(path, file_size_for(pixels), cache_dir)))
    if image.isNull():
        raise OSError(f"cannot read the thumbnail of {path}")
    if max(image.width(), image.height()) > pixels:
        image = image.scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image


def pixmap_bytes(pixmap: QPixmap) -> int:
    """Memory a pixmap holds: its size in device pixels (not scaled by its ratio), 4 bytes a pixel."""
    return pixmap.width() * pixmap.height() * 4


class ThumbnailCache(QObject):
    ready = Signal(str)  # path: its thumbnail (or its failure) is now known

    def __init__(self, tasks: TaskManager, cache_dir: Path | None = None, workers: int = 2) -> None:
        super().__init__()
        self.tasks = tasks
        self.cache_dir = cache_dir
        self.workers = workers
        self.dpr = 1.0
        self.budget = budget_from_env(MEMORY_BUDGET_ENV, MEMORY_BUDGET_MB)  # bytes
        self._pixmaps: OrderedDict[Key, QPixmap] = OrderedDict()  # least recently shown first
        self._bytes = 0
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
        self._keep(key, pixmap)
        self.ready.emit(key[0])
        self._pump()

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def _keep(self, key: Key, pixmap: QPixmap) -> None:
        old = self._pixmaps.pop(key, None)
        if old is not None:
            self._bytes -= pixmap_bytes(old)
        self._pixmaps[key] = pixmap
        self._bytes += pixmap_bytes(pixmap)
        # The newest pixmap stays even when it alone exceeds the budget: it is on screen right now.
        while self._bytes > self.budget and len(self._pixmaps) > 1:
            _, evicted = self._pixmaps.popitem(last=False)
            self._bytes -= pixmap_bytes(evicted)

    def _fail(self, key: Key) -> None:
        self._running.discard(key)
        self._failed.add(key[0])
        self.ready.emit(key[0])
        self._pump()
