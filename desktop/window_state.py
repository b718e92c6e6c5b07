"""The window's place, size, splitter and zoom, remembered between runs in <data dir>/window.json.

Qt-free on purpose: the window hands over the opaque bytes of `saveGeometry()`/`saveState()` and gets
them back. The file is written atomically, so a crash while closing cannot leave a torn file; a missing,
corrupt or foreign file is ignored (the window opens at its default size), never an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.files.atomic import write_bytes_atomically

FILE_NAME = "window.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowState:
    geometry: bytes | None = None  # QWidget.saveGeometry()
    splitter: bytes | None = None  # QSplitter.saveState()
    zoom: int | None = None  # the thumbnail size slider


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
