"""One watchdog observer per library folder, falling back to polling when the OS runs out of watches.

How watchdog 7 behaves, and what this module does about it (read from its source):
- Callbacks run on the observer's own dispatch thread, never the caller's: the sink must be thread-safe.
- Linux inotify needs one watch per sub-folder. When the per-user limit (fs.inotify.max_user_watches)
  is reached, `inotify_add_watch` fails with ENOSPC (EMFILE when the number of inotify instances is
  exhausted) and watchdog raises `OSError` with that errno from `schedule()` / `start()` - but only for
  the folder itself; a sub-folder that cannot be watched is skipped silently. So the root failing is
  what we can see: that folder then gets a `PollingObserver` (a directory snapshot every few seconds).
- A full inotify queue drops events; watchdog only logs "Inotify queue overflowed" on the
  `watchdog.observers.inotify_c` logger. `OverflowAlarm` listens there so the watcher can rescan.
- A folder moved inside a watched tree arrives as one `DirMovedEvent` followed by a moved event for
  every file under it; a move to or from an unwatched place arrives as a delete or a create.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Callable
from typing import Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

# inotify out of watches (ENOSPC) or out of instances (EMFILE): polling still works.
LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE})
# Events that say nothing about content: our own reads (hashing, decoding) produce open/close-no-write,
# and a folder's "modified" fires for every change inside it, which the file's own event already says.
_IGNORED = frozenset({"opened", "closed_no_write"})


class EventSink(Protocol):
    def changed(self, root: str, path: str, is_directory: bool) -> None: ...
    def moved(self, root: str, src: str, dest: str, is_directory: bool) -> None: ...


class _Handler(FileSystemEventHandler):
    """Turns watchdog events into sink calls. Runs on watchdog's observer thread."""

    def __init__(self, root: str, sink: EventSink) -> None:
        self.root, self.sink = root, sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in _IGNORED or (event.is_directory and kind in ("modified", "attrib", "closed")):
            return
        src = os.fsdecode(event.src_path)
        if kind == "moved":
            dest = os.fsdecode(event.dest_path)
            if src and dest:
                self.sink.moved(self.root, src, dest, event.is_directory)
                return
            src = src or dest  # a half move (full-event emitters): treat it as a change at the known end
        self.sink.changed(self.root, src, event.is_directory)


class FolderWatch:
    """Watches one library folder, recursively, with the native observer or else by polling."""

    def __init__(
        self, root: str, sink: EventSink, poll_s: float = 2.0, on_limit: Callable[[str, OSError], None] | None = None
    ) -> None:
        self.root = root
        self.sink = sink
        self.poll_s = poll_s
        self.on_limit = on_limit
        self.polling = False
        self._observer: BaseObserver | None = None
        st = os.stat(root)
        self.identity = (st.st_dev, st.st_ino)  # a different folder mounted at the same path is a new watch

    def start(self, force_polling: bool = False) -> None:
        """Start watching; raises OSError when the folder cannot be watched at all (gone, unreadable)."""
        handler = _Handler(self.root, self.sink)
        if not force_polling:
            try:
                self._observer = _started(Observer(), handler, self.root)
                return
            except OSError as exc:
                if exc.errno not in LIMIT_ERRNOS:
                    raise
                if self.on_limit is not None:
                    self.on_limit(self.root, exc)
        self.polling = True
        self._observer = _started(PollingObserver(timeout=self.poll_s), handler, self.root)

    def healthy(self) -> bool:
        """False once the observer or one of its emitter threads died (an error, or the root deleted)."""
        obs = self._observer
        return obs is not None and obs.is_alive() and all(e.is_alive() for e in obs.emitters)

    def stop(self) -> None:
        obs, self._observer = self._observer, None
        if obs is not None:
            with contextlib.suppress(Exception):  # already dead is fine: we only want it gone
                obs.stop()
            if obs.is_alive():
                obs.join(timeout=10)


def _started(observer: BaseObserver, handler: _Handler, root: str) -> BaseObserver:
    try:
        observer.schedule(handler, root, recursive=True)
        observer.start()  # inotify adds its watches here when not already done by schedule()
    except BaseException:
        # The inotify observer starts a reader thread in its constructor: stop it, or it leaks.
        with contextlib.suppress(Exception):
            observer.stop()
        raise
    return observer


class OverflowAlarm(logging.Handler):
    """Calls `on_overflow()` when watchdog logs that the inotify queue overflowed (events were lost).

    watchdog reports an overflow only through this log record; it runs on watchdog's inotify thread."""

    LOGGER = "watchdog.observers.inotify_c"

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(level=logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_overflow()

    def install(self) -> None:
        logging.getLogger(self.LOGGER).addHandler(self)

    def remove(self) -> None:
        logging.getLogger(self.LOGGER).removeHandler(self)
