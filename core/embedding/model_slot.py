"""`ModelSlot`: a library's model, loaded on first use and unloaded after some time unused.

The model holds 0.4-1.5 GB; a desktop app left open should not keep it. Index runs and queries mark it
busy (`in_use()`), so idle unloading never frees it under them; the next use loads it again (seconds).
The idle timer runs on a daemon thread of its own; all state is guarded by one lock.

The slot is the one owner of a library's model: it alone calls the loader and `Embedder.unload()`, and it
drops an unloaded Embedder rather than letting it reload itself, so `loaded` is always the truth.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.embedding.embedder import Embedder
    from core.embedding.model_files import DownloadProgress

IDLE_ENV = "LOOKALIKE_MODEL_IDLE_S"
DEFAULT_IDLE_S = 300.0

Loader = Callable[["DownloadProgress | None"], "Embedder"]


def default_idle_unload_s() -> float:
    """Seconds of no use before the model is unloaded: LOOKALIKE_MODEL_IDLE_S, else 300 (0 = never)."""
    try:
        return max(0.0, float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S


class ModelSlot:
    def __init__(self, load: Loader, idle_unload_s: float | None = None) -> None:
        self._load = load
        self.idle_unload_s = default_idle_unload_s() if idle_unload_s is None else idle_unload_s
        self._lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._users = 0  # index runs and queries using the model right now
        self._used_at = 0.0
        self._timer: threading.Timer | None = None

    def get(self, download_progress: DownloadProgress | None = None) -> Embedder:
        """The model, loaded now if it is not (the loader may download: progress goes to the callback)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._load(download_progress)
            self._touch()
            return self._embedder

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """Marks the model busy (an index run, a query) so idle unloading waits until it is done."""
        with self._lock:
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                self._touch()

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def loaded_embedder(self) -> Embedder | None:
        """The model if it is loaded now (None otherwise); never loads it."""
        return self._embedder

    def unload(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._free()

    def _touch(self) -> None:
        """With the lock held: restart the idle clock and make sure a timer watches it."""
        self._used_at = time.monotonic()
        if self.idle_unload_s > 0 and self._timer is None and self._embedder is not None:
            self._start_timer(self.idle_unload_s)

    def _start_timer(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._unload_if_idle)
        self._timer.daemon = True  # never keeps the process alive
        self._timer.start()

    def _unload_if_idle(self) -> None:
        """On the timer's thread: unload if nobody used the model for `idle_unload_s`, else wait on."""
        with self._lock:
            self._timer = None
            idle = time.monotonic() - self._used_at
            if self._embedder is not None and (self._users or idle < self.idle_unload_s):
                self._start_timer(max(0.05, self.idle_unload_s - idle))
                return
            self._free()

    def _free(self) -> None:
        if self._embedder is not None:
            self._embedder.unload()
            self._embedder = None
