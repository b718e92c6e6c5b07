"""What the viewer shows of one photo, read off the GUI thread: the photo decoded screen-sized (upright,
colours in sRGB, a RAW's preview, by the core's `load_photo`), its header facts, its file size and the
RAW files beside it. `LargeImages` keeps the last few and loads the neighbours ahead.

`load_for_viewer` runs on a worker thread (QImage is safe there, QPixmap is not); everything in
`LargeImages` runs on the GUI thread.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

from core.errors import DecodeError
from core.imaging.decode import load_photo
from core.imaging.photo_facts import PhotoFacts, read_facts
from core.library.raw_pairs import JPEG_SUFFIXES, RAW_SUFFIXES
from desktop.qt import QImage, QObject, Signal
from desktop.tasks import TaskManager

# A screen-sized image at 4 bytes a pixel is 8-33 MB (1080p to 4K, at twice the screen): the one shown,
# the two neighbours loaded ahead and the one just left, so stepping back and forth is instant.
KEEP = 4


@dataclass(frozen=True)
class ViewerImage:
    path: str
    image: QImage | None  # None: the photo cannot be decoded, `error` says why
    error: str | None
    facts: PhotoFacts | None  # None: not read (the load itself failed)
    file_bytes: int | None
    raws: tuple[str, ...]  # RAW files beside a JPEG with its name: the RAW+JPEG pair's other half


def load_for_viewer(path: str, longest: int) -> ViewerImage:
    """Decode `path` with its longest side at most `longest` pixels (never enlarged)."""
    facts = read_facts(path)
    raws = raw_partners(path)
    try:
        size: int | None = os.stat(path).st_size
    except OSError:
        size = None
    try:
        decoded = load_photo(path, _shorter_side_target(facts, longest))
    except DecodeError as exc:
        return ViewerImage(path, None, exc.reason, facts, size, raws)
    image = decoded.image
    if max(image.size) > longest:  # no header size to plan by, or a RAW preview larger than asked
        image.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return ViewerImage(path, to_qimage(image), None, facts, size, raws)


def _shorter_side_target(facts: PhotoFacts, longest: int) -> int | None:
    """`load_photo` shrinks by the shorter side; turn the longest side wanted into that."""
    if not facts.width or not facts.height or max(facts.width, facts.height) <= longest:
        return None
    return max(1, round(min(facts.width, facts.height) * longest / max(facts.width, facts.height)))


def to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    data = rgb.tobytes()
    # QImage borrows `data`; copy() gives it its own buffer before `data` is freed.
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


def raw_partners(path: str) -> tuple[str, ...]:
    """The RAW files with this JPEG's folder and name (core.library.raw_pairs' rule: names equal but
    for the extension, any case), found on disk: a library listing may show the pair by its JPEG alone."""
    folder, name = os.path.split(path)
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in JPEG_SUFFIXES:
        return ()
    try:
        with os.scandir(folder or ".") as entries:
            found = [e.path for e in entries if os.path.splitext(e.name)[0].casefold() == stem.casefold()
                     and os.path.splitext(e.name)[1].lower() in RAW_SUFFIXES]
    except OSError:
        return ()
    return tuple(sorted(found))


class LargeImages(QObject):
    """The viewer's large images: the last few kept, each loaded once, on the task manager's decode pool."""

    ready = Signal(object)  # ViewerImage

    def __init__(self, tasks: TaskManager) -> None:
        super().__init__()
        self.tasks = tasks
        self.longest = 2048
        self._kept: OrderedDict[str, ViewerImage] = OrderedDict()
        self._loading: set[str] = set()

    def get(self, path: str) -> ViewerImage | None:
        """The loaded image, or None when it is not loaded (`prefetch` asks for it)."""
        found = self._kept.get(path)
        if found is not None:
            self._kept.move_to_end(path)
        return found

    def prefetch(self, path: str) -> None:
        """Load `path` unless it is kept or loading. `ready` may be emitted before this returns (a task
        that ends before the task manager hears of it is delivered at once), so callers ask last."""
        if path in self._kept or path in self._loading:
            return
        self._loading.add(path)
        longest = self.longest
        self.tasks.thumb(lambda: load_for_viewer(path, longest), self._done,
                         lambda exc: self._failed(path, exc))

    def forget(self, path: str) -> None:
        """The file changed: the next `get` reads it again."""
        self._kept.pop(path, None)

    def _done(self, loaded: ViewerImage) -> None:
        self._loading.discard(loaded.path)
        self._kept[loaded.path] = loaded
        while len(self._kept) > KEEP:
            self._kept.popitem(last=False)
        self.ready.emit(loaded)

    def _failed(self, path: str, exc: BaseException) -> None:
        # Not a DecodeError (that is an answer, in ViewerImage.error): still an answer the user sees.
        self._loading.discard(path)
        self.ready.emit(ViewerImage(path, None, f"cannot be read ({exc})", None, None, ()))
