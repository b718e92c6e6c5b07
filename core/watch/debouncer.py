"""Holding changed paths back until they stop changing, so a photo is indexed once, complete.

The OS reports a file when its write *starts* (watchdog's created event), then once per chunk written;
a USB copy can take seconds and an editor may write in several passes. So a path is only handed on once
its (size, mtime) - or its absence - has stayed the same for `quiet_s`, and, when it is a JPEG or PNG
whose end marker is missing, once it actually decodes (a copy that stalls longer than `quiet_s` is not
finished). A file that never looks complete is handed on after `max_wait_s` anyway: the indexer then
records why it cannot be read, and the next change to it is picked up again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.indexing.walker import walk_photos

MISSING = (-1, -1)  # the "state" of a path that is not there
_UNSEEN = (-2, -2)  # touched, not stat-ed yet: the next tick always counts it as a change

# Format end markers, checked on the last bytes only (a cheap test, no decoding).
_END_MARKERS = {".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9", ".png": b"IEND\xaeB`\x82"}


@dataclass
class _Pending:
    state: tuple[int, int]
    since: float  # when `state` was last seen to change
    first: float  # when the path was first touched


def file_state(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return st.st_size, st.st_mtime_ns


def looks_complete(path: str) -> bool:
    """False for a JPEG or PNG that neither ends with its end marker nor decodes: still being written.

    The marker test settles almost every photo without decoding; a camera file with data after the
    image (a motion photo's video, a maker trailer) is decoded once at a small size to be sure."""
    marker = _END_MARKERS.get(os.path.splitext(path)[1].lower())
    if marker is None:
        return True
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64))
            if f.read().rstrip(b"\0\r\n ").endswith(marker):
                return True
    except OSError:
        return True  # unreadable: let the indexer say why
    from core.errors import DecodeError
    from core.imaging.decode import load_photo

    try:
        load_photo(path, target=32)
    except DecodeError:
        return False
    except Exception:  # noqa: BLE001 - any other failure is for the indexer to report, not to wait on
        return True
    return True


class Debouncer:
    """Pending paths with their last-seen state, and a timer thread that releases the settled ones.

    `touch(path)` may be called from any thread (watchdog's observer threads call it). A folder that is
    touched is expanded on the next tick into the photos inside it, each then debounced on its own (a
    folder moved in, or created with files already in it). `on_ready(paths)` runs on the debouncer's
    thread, once per tick, with every path that settled in that tick: present files, and paths (files or
    folders) that are gone.
    """

    def __init__(
        self,
        on_ready: Callable[[list[str]], None],
        quiet_s: float = 1.0,
        max_wait_s: float = 15.0,
        keep: Callable[[str], bool] = lambda path: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_ready = on_ready
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self.keep = keep  # filters the photos found when expanding a folder (exclude patterns)
        self.clock = clock
        # Four looks per quiet period: a file is released at most a quarter period after it settled.
        self.tick_s = min(0.25, quiet_s / 4)
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(self, path: str) -> None:
        now = self.clock()
        with self._lock:
            entry = self._pending.get(path)
            if entry is None:
                self._pending[path] = _Pending(_UNSEEN, now, now)
            else:
                entry.state, entry.since = _UNSEEN, now

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="lookalike-watch-debounce", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the timer; paths still pending are dropped (the next full scan sees their files)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            ready = self.tick()
            if ready:
                self.on_ready(ready)

    def tick(self) -> list[str]:
        """One look at every pending path; returns those that settled (and forgets them)."""
        now = self.clock()
        with self._lock:
            paths = list(self._pending)
        ready: list[str] = []
        folders: list[str] = []
        for path in paths:
            state = file_state(path)
            with self._lock:
                entry = self._pending.get(path)
                if entry is None:
                    continue
                if state != entry.state:
                    entry.state, entry.since = state, now
                    if state != MISSING and os.path.isdir(path):
                        del self._pending[path]
                        folders.append(path)
                    continue
                if now - entry.since < self.quiet_s:
                    continue
            # Settled: outside the lock, as the completeness test may read the file.
            if state != MISSING and now - entry.first < self.max_wait_s and not looks_complete(path):
                entry.since = now  # look again a quiet period later, not on every tick
                continue
            with self._lock:
                if self._pending.get(path) is entry and entry.state == state:
                    del self._pending[path]
                    ready.append(path)
        for folder in folders:
            self._expand(folder)
        return ready

    def _expand(self, folder: str) -> None:
        for fs in walk_photos(folder):
            if self.keep(fs.path):
                self.touch(fs.path)
