"""`WriteQueue`: the one way anything writes to a library in this process.

The app, the command line, the watcher and requests handed over from other processes all `submit`
intents (core.library.intents); ONE applier thread ("lookalike-write") runs them in order, so two
writers can never race (no two decode pools, no scan under an index run). A waiting intent absorbs
the next one when they merge, and `submit` then returns the job already queued.

One pause/cancel covers every job, whoever started it: `pause()` holds the running job at its next
checkpoint and every job after it until `resume()`, or until nothing is left (a pause that outlived
its work would silently hold the next change the watcher sees). Listeners hear `JobEvent`s (started, progress,
finished) on the applier thread: a GUI hops to its own thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import Cancelled
from core.library.intents import Intent
from core.tasks.progress import Progress, TaskHandle

if TYPE_CHECKING:
    from core.library.facade import Library

log = logging.getLogger(__name__)


class Job:
    """One queued intent: its progress handle, and its outcome once finished."""

    _ids = itertools.count(1)

    def __init__(self, intent: Intent, origin: str) -> None:
        self.id = next(self._ids)
        self.intent = intent
        self.origins = [origin]  # who asked: "app", "watcher", "cli", "handoff"... (merged jobs: several)
        self.handle: TaskHandle | None = None  # set when it starts
        self.result: Any = None
        self.error: BaseException | None = None
        self.seconds = 0.0  # how long it ran
        self._started = 0.0
        self._done = threading.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> Any:
        """The result, once finished; re-raises the job's error. TimeoutError if not finished in time."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self.intent.label} did not finish in {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result


@dataclass(frozen=True)
class JobEvent:
    kind: str  # "started" | "progress" | "finished"
    job: Job
    progress: Progress | None = None


Listener = Callable[[JobEvent], None]


class WriteQueue:
    def __init__(self, library: Library) -> None:
        self.library = library
        self._items: deque[Job] = deque()
        self._cond = threading.Condition()
        self._listeners: list[Listener] = []
        self._current: Job | None = None
        self._paused = False
        self._closed = False
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._closed = False
            self._thread = threading.Thread(target=self._run, name="lookalike-write", daemon=True)
            self._thread.start()

    def stop(self, drain: bool = False) -> None:
        """Stop the applier. `drain`: finish what is queued first; else cancel the running job at its
        next checkpoint (what it committed is kept) and drop the rest (a later scan finds it). Idempotent."""
        with self._cond:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            if drain:
                self._paused = False
                self._cond.notify_all()
                while self._items or self._current is not None:
                    self._cond.wait()
            self._closed = True
            dropped = list(self._items)
            self._items.clear()
            if self._current is not None and self._current.handle is not None:
                self._current.handle.cancel()
            self._cond.notify_all()
        for job in dropped:
            self._finish(job, None, Cancelled("the library was closed before this ran"))
        thread.join()

    # -- submitting -----------------------------------------------------------------------------------
    def submit(self, intent: Intent, origin: str = "app") -> Job:
        """Queue `intent`; returns its job (the waiting job it merged into, if it did)."""
        with self._cond:
            if self._closed:
                job = Job(intent, origin)
                self._finish(job, None, Cancelled("the library is closing"))
                return job
            job = self._queue_locked(intent, origin)
            running = self._current
            if running is not None and running.handle is not None and job.intent.supersedes(running.intent):
                running.handle.cancel()
            self._cond.notify_all()
            return job

    def _queue_locked(self, intent: Intent, origin: str) -> Job:
        """With the lock held: merge `intent` into the last waiting job if they merge, else append it."""
        last = self._items[-1] if self._items else None
        merged = last.intent.absorb(intent) if last is not None else None
        if last is None or merged is None:
            self._items.append(Job(intent, origin))
            return self._items[-1]
        last.intent = merged
        if origin not in last.origins:
            last.origins.append(origin)
        return last

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """`listener(JobEvent)` on the applier thread for every job; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- one control for every job ------------------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._paused = True
            if self._current is not None and self._current.handle is not None:
                self._current.handle.pause()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            if self._current is not None and self._current.handle is not None:
                self._current.handle.resume()
            self._cond.notify_all()

    def cancel_current(self) -> None:
        with self._cond:
            if self._current is not None and self._current.handle is not None:
                self._current.handle.cancel()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def current(self) -> Job | None:
        return self._current

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._current is None and not self._items

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._current is None and not self._items, timeout)

    # -- the applier thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while (job := self._take()) is not None:
            self._emit(JobEvent("started", job))
            result, error = None, None
            try:
                result = job.intent.run(self.library, job.handle)  # type: ignore[arg-type]
            except BaseException as exc:  # noqa: BLE001 - reported to the job's waiters and listeners
                error = exc
                if not isinstance(exc, (Cancelled, Exception)):
                    raise
            follow = job.intent.follow_up(result) if error is None else None
            with self._cond:
                self._current = None
                if follow is not None:  # before waiters wake, so "idle" never shows a gap
                    self._queue_locked(follow, job.origins[0])
                if not self._items:
                    self._paused = False  # a pause holds the work in hand; once it is done, it ends
                self._cond.notify_all()
            self._finish(job, result, error)

    def _take(self) -> Job | None:
        with self._cond:
            while not self._closed and (not self._items or self._paused):
                self._cond.wait()
            if self._closed:
                return None
            job = self._items.popleft()
            job.handle = TaskHandle(on_progress=self._progress_of(job))
            job._started = time.monotonic()
            self._current = job
            return job

    def _progress_of(self, job: Job) -> Callable[[Progress], None]:
        return lambda progress: self._emit(JobEvent("progress", job, progress))

    def _finish(self, job: Job, result: Any, error: BaseException | None) -> None:
        job.result, job.error = result, error
        job.seconds = time.monotonic() - job._started if job._started else 0.0
        job._done.set()
        if error is not None and not isinstance(error, Cancelled):
            log.error("%s failed: %s", job.intent.label, error, exc_info=error)
        self._emit(JobEvent("finished", job))

    def _emit(self, event: JobEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not stop the library's writes
                log.exception("a write-queue listener failed")
