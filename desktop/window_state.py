"""The window's place, size, splitter, zoom and whether file names show, remembered between runs in <data dir>/window.json.

Qt-free on purpose: the window hands over the opaque bytes of `saveGeometry()`/`saveState()` and gets
them back. The file is written atomically, so a crash while closing cannot leave a torn file; a missing,
corrupt or foreign file is ignored (the window opens at its default size), never an error.

What comes back is fitted to the screen it opens on (`default_rect`, `clamp_rect`, `pane_sizes`, all pure
over plain rectangles so they are tested without a screen): a first start sizes the window to the
available desktop, a window saved on a bigger screen is shrunk onto this one, and the panes keep their
proportions rather than their pixels (a pane saved at 700 px of 2,500 must not eat a 1,280 px window).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.files.atomic import write_bytes_atomically

FILE_NAME = "window.json"
log = logging.getLogger(__name__)
Rect = tuple[int, int, int, int]  # x, y, width, height
DEFAULT_SIZE = (1360, 860)
SCREEN_SHARE = 0.92  # a first window leaves a little of the desktop around it


@dataclass(frozen=True)
class WindowState:
    geometry: bytes | None = None  # QWidget.saveGeometry()
    splitter: bytes | None = None  # QSplitter.saveState() (older files; pixel sizes, no longer restored)
    zoom: int | None = None  # the thumbnail size slider
    panes: tuple[int, ...] | None = None  # QSplitter.sizes(): restored as proportions
    names: bool = False  # file names under the thumbnails


def load_window_state(data_dir: Path) -> WindowState:
    """What was saved for the window of the library in `data_dir`; empty when nothing usable was."""
    try:
        raw = json.loads((Path(data_dir) / FILE_NAME).read_bytes())
    except (OSError, ValueError):  # missing, unreadable, not JSON (JSONDecodeError and bad UTF-8)
        return WindowState()
    if not isinstance(raw, dict):
        return WindowState()
    zoom = raw.get("zoom")
    return WindowState(
        geometry=_decode(raw.get("geometry")),
        splitter=_decode(raw.get("splitter")),
        zoom=zoom if isinstance(zoom, int) and not isinstance(zoom, bool) else None,
        panes=_panes(raw.get("panes")),
        names=raw.get("names") is True,
    )


def save_window_state(data_dir: Path, state: WindowState) -> None:
    """Remember `state`; does nothing if the library folder does not exist, and only logs a failed write
    (closing the window must not fail because a disk is full)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return  # never create a library just to remember a window size
    doc = {
        "geometry": _encode(state.geometry),
        "splitter": _encode(state.splitter),
        "zoom": state.zoom,
        "panes": list(state.panes) if state.panes is not None else None,
        "names": state.names,
    }
    try:
        write_bytes_atomically(data_dir / FILE_NAME, json.dumps(doc, indent=1).encode("utf-8"))
    except OSError as e:
        log.warning("could not remember the window layout in %s: %s", data_dir, e)


def _encode(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def _decode(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _panes(value: Any) -> tuple[int, ...] | None:
    ok = isinstance(value, list) and value and all(type(v) is int and v >= 0 for v in value) and sum(value) > 0
    return tuple(value) if ok else None


def default_rect(available: Rect) -> Rect:
    """A first window: the default size, or less to fit the available desktop, centred on it."""
    ax, ay, aw, ah = available
    w, h = min(DEFAULT_SIZE[0], int(aw * SCREEN_SHARE)), min(DEFAULT_SIZE[1], int(ah * SCREEN_SHARE))
    return ax + (aw - w) // 2, ay + (ah - h) // 2, w, h


def clamp_rect(rect: Rect, available: Rect) -> Rect:
    """`rect` no bigger than the available desktop, moved just enough to lie inside it."""
    x, y, w, h = rect
    ax, ay, aw, ah = available
    w, h = min(w, aw), min(h, ah)
    return min(max(x, ax), ax + aw - w), min(max(y, ay), ay + ah - h), w, h


def pane_sizes(saved: Sequence[int], total: int, minimum_last: int) -> list[int]:
    """The saved pane widths scaled to share `total` in the same proportions; the last pane (the
    look-alikes) at least `minimum_last`, taken from the widest other pane."""
    whole = sum(saved) or 1
    sizes = [round(total * s / whole) for s in saved]
    sizes[-1] += total - sum(sizes)  # rounding: the panes add up to the total exactly
    short = min(minimum_last, total) - sizes[-1]
    if short > 0 and len(sizes) > 1:
        widest = max(range(len(sizes) - 1), key=sizes.__getitem__)
        sizes[widest] -= short
        sizes[-1] += short
    return sizes
