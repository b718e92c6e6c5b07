"""The one background chokepoint: every core call the GUI makes runs here, never on the GUI thread.

Three executors (plain Python threads, so no QThread outlives the app):
- `write`: ONE thread, serialised — opening the library, adding folders, scanning and indexing.
- `read`: a small pool for searches and status queries (the core lets them run beside indexing).
- `thumbs`: a pool for decoding thumbnails, so a screenful of them never delays a search.

`fn` runs on a worker and must not touch widgets. `on_done(result)` / `on_error(exc)` run on the GUI
thread (a queued signal carries them over). Errors without an `on_error` go to `failed`, the app's one
error path (the status bar shows them), never a crash. Every failure is logged first (with its traceback,
see core.files.logs), so none is lost even when the GUI shows it only briefly or not at all.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from core.errors import LookalikeError
from desktop.qt import QObject, Signal

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
log = logging.getLogger(__name__)


class TaskManager(QObject):
    failed = Signal(object)  # BaseException from a task that had no on_error
    _deliver = Signal(object)  # a zero-argument callable to run on the GUI thread

    def __init__(self, read_workers: int = 2, thumb_workers: int = 2) -> None:
        super().__init__()
        self._pools = {
            "write": ThreadPoolExecutor(1, thread_name_prefix="lookalike-write"),
            "read": ThreadPoolExecutor(read_workers, thread_name_prefix="lookalike-read"),
            "thumbs": ThreadPoolExecutor(thumb_workers, thread_name_prefix="lookalike-thumb"),
        }
        self._pending: set[Future[Any]] = set()
        self._closed = False
        # Emitted from worker threads; this object lives on the GUI thread, so delivery is queued.
        self._deliver.connect(self._run_delivered)

    def write(self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None) -> None:
        self._submit("write", fn, on_done, on_error)

    def read(self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None) -> None:
        self._submit("read", fn, on_done, on_error)

    def thumb(self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None) -> None:
        self._submit("thumbs", fn, on_done, on_error)

    def call_on_gui(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the GUI thread soon; safe to call from any thread (library callbacks use it)."""
        if not self._closed:
            self._deliver.emit(fn)

    @property
    def busy(self) -> bool:
        return any(not f.done() for f in self._pending)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work and (by default) wait for running tasks; queued ones are dropped."""
        self._closed = True
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=True)

    def _submit(self, pool: str, fn: Callable[[], Any], on_done: Done | None, on_error: Failed | None) -> None:
        if self._closed:
            return
        future = self._pools[pool].submit(fn)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._finished(f, pool, on_done, on_error))

    def _finished(self, future: Future[Any], pool: str, on_done: Done | None, on_error: Failed | None) -> None:
        # Runs on the worker thread: compute the outcome here, act on it on the GUI thread.
        self._pending.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            _log_failure(pool, exc, handled=on_error is not None)
        if self._closed:
            return
        if exc is None:
            result = future.result()
            if on_done is not None:
                self._deliver.emit(lambda: on_done(result))
        elif on_error is not None:
            self._deliver.emit(lambda: on_error(exc))
        else:
            if not isinstance(exc, Exception):
                traceback.print_exception(exc)
            self._deliver.emit(lambda: self.failed.emit(exc))

    def _run_delivered(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            fn()


def _log_failure(pool: str, exc: BaseException, handled: bool) -> None:
    if handled and isinstance(exc, LookalikeError):
        # An expected, typed outcome its caller shows (an unreadable photo's thumbnail): the message says
        # it all, and a traceback for each of a library's thousand broken files would flush the log.
        log.info("%s task: %s: %s", pool, type(exc).__name__, exc)
    else:
        log.error("%s task failed%s", pool, "" if handled else " (no error handler)", exc_info=exc)
