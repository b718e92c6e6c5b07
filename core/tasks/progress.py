"""The handle long core jobs report through: progress, pause and cancel, with no Qt in sight.

Jobs call `handle.advance(n)` / `handle.checkpoint()`; the GUI or CLI reads `snapshot()` or passes an
`on_progress` callback. Callbacks run on the job's thread: a GUI must hop to its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int
    rate: float  # items per second over the recent window
    eta_s: float | None  # None while the rate is unknown
    unit: str = "photos"  # what done/total count; a rate and ETA are shown for photos only

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class TaskHandle:
    """Thread-safe progress/pause/cancel handle shared by a job and whoever watches it."""

    def __init__(self, on_progress: Callable[[Progress], None] | None = None) -> None:
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()
        self._stage = ""
        self._done = 0
        self._total = 0
        self._unit = "photos"
        self._window: list[tuple[float, int]] = []

    # -- called by the job ---------------------------------------------------------------------
    def start(self, stage: str, total: int, unit: str = "photos") -> None:
        with self._lock:
            self._stage, self._done, self._total, self._unit = stage, 0, total, unit
            self._window = [(time.monotonic(), 0)]
        self._emit()

    def set_total(self, total: int) -> None:
        with self._lock:
            self._total = total
        self._emit()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._done += n
            now = time.monotonic()
            self._window.append((now, self._done))
            # A 10 s window: long enough to smooth batches, short enough to follow a speed change.
            while len(self._window) > 2 and now - self._window[0][0] > 10:
                self._window.pop(0)
        self._emit()

    def checkpoint(self) -> None:
        """Block while paused; raise Cancelled when cancelled. Call between units of work."""
        while not self._running.wait(0.1):
            if self._cancelled.is_set():
                break
        if self._cancelled.is_set():
            raise Cancelled("cancelled")

    # -- called by the watcher -----------------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def snapshot(self) -> Progress:
        with self._lock:
            (t0, d0), (t1, d1) = self._window[0] if self._window else (0.0, 0), (
                self._window[-1] if self._window else (0.0, 0)
            )
            rate = (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0
            left = self._total - self._done
            eta = left / rate if rate > 0 else None
            return Progress(self._stage, self._done, self._total, rate, eta, self._unit)

    def _emit(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.snapshot())
