"""Live folders: watch every library folder and keep the library in step while the app (or
`lookalike index --watch`) runs.

    watchdog observers (one per folder, their own threads)
        -> Debouncer (holds each path until its size and mtime settle; its own timer thread)
        -> one applier thread: Library.apply_moves / refresh (targeted) / update (full reconciling scan)

Threads, and where callbacks run:
- watchdog calls our handlers on its observer threads; they only record paths and queue moves.
- `on_progress(Progress)` and `on_batch(WatchBatch)` run on the applier thread ("lookalike-watch-apply"),
  library change notifications too (`Library.subscribe`): a GUI hops to its own thread.
- `on_notice(str)` and `on_error(Exception)` run on the applier or the monitor thread.

Why events are not trusted alone: inotify drops events when its queue overflows, the per-user watch
limit can be reached, network drives send none. So a full reconciling scan (`Library.update`) runs at
start, every `reconcile_interval_s`, after an overflow or an observer error, and when a folder's root
disappears (its photos go offline, never deleted) or comes back (they return without re-embedding).

Nothing is ever deleted for good between two full scans: a vector whose photo left stays in SQLite until
the next `update()`, so a delete followed by a create of the same content (an editor's
save-to-temp-then-rename, a move out and back in, a move across two library folders seen as two events)
re-uses the vector instead of embedding again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import Cancelled
from core.indexing.scanner import ScanReport
from core.indexing.walker import is_excluded, is_hidden_below, is_listed_name
from core.library.facade import Library, LibraryChanges, UpdateReport
from core.library.intents import Intent, Moves, Refresh, SaveIndex, Update
from core.library.write_queue import Job, JobEvent, WriteQueue
from core.tasks.progress import Progress
from core.watch.debouncer import Debouncer
from core.watch.observers import FolderWatch, OverflowAlarm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchBatch:
    """What one applied batch did, for a status line ("3 added, 1 removed")."""

    kind: str  # "changes", "moves" or "rescan"
    reason: str = ""  # why a rescan ran: "start", "timer", "overflow", "folder offline", ...
    added: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    embedded: int = 0
    reused: int = 0
    failed: int = 0
    offline: int = 0
    back_online: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, kind: str, report: UpdateReport | ScanReport, seconds: float, reason: str = "") -> WatchBatch:
        update = report if isinstance(report, UpdateReport) else UpdateReport(scan=report)
        s, i = update.scan, update.index
        return cls(
            kind, reason, s.added, s.changed, s.moved, s.removed, i.embedded, i.reused, i.failed, s.offline,
            s.back_online, seconds,
        )

    def counts(self) -> list[str]:
        """The non-zero counts, as "3 added"; empty when the batch changed nothing."""
        return [
            f"{n} {label}" for n, label in (
                (self.added, "added"), (self.changed, "changed"), (self.moved, "moved"),
                (self.removed, "removed"), (self.embedded, "embedded"), (self.reused, "reused"),
                (self.failed, "failed"), (self.offline, "offline"), (self.back_online, "back online"),
            ) if n
        ]

    def describe(self) -> str:
        parts = self.counts() or ["no changes"]
        what = f"rescan ({self.reason})" if self.kind == "rescan" else self.kind
        return f"{what}: {', '.join(parts)} in {self.seconds:.1f} s"


class LibraryWatcher:
    """Keeps `library` in step with its folders from `start()` until `stop()`.

    Created files are embedded once they are complete; files edited in place are embedded again;
    deleted ones leave the results; renamed or moved files and folders keep their vectors (zero
    embeddings); an unreachable folder's photos go offline and come back without re-embedding.
    Folders added to the library while it runs are picked up within `poll_s`.
    """

    def __init__(
        self,
        library: Library,
        quiet_s: float = 1.0,
        reconcile_interval_s: float = 300.0,
        on_error: Callable[[Exception], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_batch: Callable[[WatchBatch], None] | None = None,
        poll_s: float = 1.0,
        polling_interval_s: float = 2.0,
        save_interval_s: float = 1.0,
        queue: WriteQueue | None = None,
    ) -> None:
        self.library = library
        # Every change goes through the library's one write queue; a watcher used alone runs its own.
        self.queue = queue or WriteQueue(library)
        self._own_queue = queue is None
        self.quiet_s = quiet_s
        self.reconcile_interval_s = reconcile_interval_s
        self.on_error = on_error
        self.on_notice = on_notice
        self.on_progress = on_progress
        self.on_batch = on_batch
        self.poll_s = poll_s  # how often roots are checked (offline / back / new folders)
        self.polling_interval_s = polling_interval_s  # snapshot interval of a polled folder
        self.save_interval_s = save_interval_s
        self._debouncer = Debouncer(self._released, quiet_s, keep=self._keep)
        self._watches: dict[str, FolderWatch] = {}
        self._noticed: set[str] = set()
        self._offline: set[str] = set()
        self._unwatchable: set[str] = set()
        self._overflow = OverflowAlarm(self._on_overflow)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._mine: set[int] = set()  # ids of queued jobs this watcher asked for
        self._dirty = False
        self._last_save = 0.0
        self._save_cost = 0.0
        self._last_rescan = 0.0
        self._unsubscribe: list[Callable[[], None]] = []
        self._started = False

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Watch every library folder now, then rescan in the background (changes made while nothing
        was watching are found by that first scan)."""
        if self._started:
            return
        self._started = True
        self._stop.clear()
        self._unsubscribe = [self.library.subscribe(self._on_library_change), self.queue.subscribe(self._on_job)]
        if self._own_queue:
            self.queue.start()
        self._overflow.install()
        self._sync_folders(initial=True)
        self._rescan("start")
        self._debouncer.start()
        thread = threading.Thread(target=self._monitor_loop, name="lookalike-watch-monitor", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop watching and join every thread. The batch being embedded stops at its next commit
        (nothing committed is lost; what was not reached is pending for the next scan), then the
        search index is saved. Idempotent."""
        if not self._started:
            return
        self._started = False
        self._stop.set()
        self._debouncer.stop()
        for thread in self._threads:  # the monitor first stops touching watches, then they go
            thread.join()
        self._threads.clear()
        for watch in self._watches.values():
            watch.stop()
        self._watches.clear()
        self._overflow.remove()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._own_queue:
            self.queue.stop()  # cancels the running batch at its next commit, drops what waits
            self.library.save_index()  # the queue has stopped: no other writer is left here
        elif self._dirty:
            self.queue.submit(SaveIndex(), origin="watcher")

    def __enter__(self) -> LibraryWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def polling_folders(self) -> list[str]:
        """Folders watched by polling because the OS could not watch them natively."""
        return sorted(root for root, w in self._watches.items() if w.polling)

    @property
    def idle(self) -> bool:
        """Nothing pending, queued or being applied (tests and benchmarks wait for this)."""
        return self.queue.idle and len(self._debouncer) == 0

    # -- events (watchdog's threads) ----------------------------------------------------------------
    def changed(self, root: str, path: str, is_directory: bool) -> None:
        wanted = is_directory or is_listed_name(os.path.basename(path))
        if wanted and self._keep_below(root, path):
            self._debouncer.touch(path)

    def moved(self, root: str, src: str, dest: str, is_directory: bool) -> None:
        # Applied now, by path, so a renamed folder of 10,000 photos costs one UPDATE and no hashing;
        # both ends are also debounced, so whatever the rename did not explain is scanned.
        self._submit(Moves(((src, dest),)))
        self.changed(root, src, is_directory)
        self.changed(root, dest, is_directory)

    def _keep_below(self, root: str, path: str) -> bool:
        return not is_hidden_below(path, root) and not is_excluded(path, self.library.exclude)

    def _keep(self, path: str) -> bool:
        return not is_excluded(path, self.library.exclude)

    def _released(self, paths: list[str]) -> None:  # the debouncer's thread
        self._submit(Refresh(frozenset(paths)))

    def _on_overflow(self) -> None:  # watchdog's inotify thread
        self._rescan("events were lost (inotify queue overflow)")

    def _on_library_change(self, changes: LibraryChanges) -> None:
        self._dirty = True

    def _rescan(self, reason: str) -> None:
        self._last_rescan = time.monotonic()  # any full scan restarts the reconciling timer
        self._submit(Update((reason,)))

    def _submit(self, intent: Intent) -> None:
        if not self._stop.is_set():  # stopping: the next full scan finds whatever this was about
            self._mine.add(self.queue.submit(intent, origin="watcher").id)

    # -- what the queue did for us (on the write queue's thread) --------------------------------------
    def _on_job(self, event: JobEvent) -> None:
        job = event.job
        if "watcher" not in job.origins:
            return
        if event.kind == "progress" and self.on_progress is not None and event.progress is not None:
            self.on_progress(event.progress)
        if event.kind != "finished":
            return
        self._mine.discard(job.id)
        if isinstance(job.error, Cancelled) or self._stop.is_set():
            return
        if job.error is not None:
            self._report_error(job.error)  # type: ignore[arg-type]
            if not isinstance(job.intent, Update):
                self._rescan("after an error")  # settles what this batch did not
            return
        self._report_batch(job)

    def _report_batch(self, job: Job) -> None:
        report, intent = job.result, job.intent
        if self.on_batch is None or not isinstance(report, (UpdateReport, ScanReport)):
            return
        if isinstance(report, ScanReport) and not (report.moved or report.removed):
            return  # the usual case for the per-file moves that follow a folder rename
        kind = {Moves: "moves", Refresh: "changes"}.get(type(intent), "rescan")
        reasons = ", ".join(intent.reasons) if isinstance(intent, Update) else ""
        batch = WatchBatch.of(kind, report, job.seconds, reasons)
        if kind == "rescan" or batch.counts():
            self.on_batch(batch)

    # -- the monitor thread: roots, observer health, periodic rescan, index saves ---------------------
    def _monitor_loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self._sync_folders()
                if time.monotonic() - self._last_rescan >= self.reconcile_interval_s:
                    self._rescan("timer")
                self._save()
            except Exception as exc:  # noqa: BLE001 - keep watching whatever one check hit
                self._report_error(exc)

    def _sync_folders(self, initial: bool = False) -> None:
        """Start, restart or stop folder watches so they match the library's folders and the disk."""
        roots = {f.path for f in self.library.folders()}
        for root in list(self._watches):
            if root not in roots:  # the folder was removed from the library
                self._watches.pop(root).stop()
        for root in sorted(roots):
            self._check_root(root, initial)

    def _check_root(self, root: str, initial: bool) -> None:
        watch = self._watches.get(root)
        try:
            st = os.stat(root)
            present = os.path.isdir(root)
        except OSError:
            present = False
        if not present:
            if watch is not None or root not in self._offline:
                if watch is not None:
                    self._watches.pop(root).stop()
                self._offline.add(root)
                self._rescan("folder offline")
            return
        if watch is not None and watch.identity == (st.st_dev, st.st_ino) and watch.healthy():
            return
        if watch is not None:  # an observer died, or another folder now sits at this path
            self._watches.pop(root).stop()
            reason = "watching restarted"
        else:
            reason = "folder back online" if root in self._offline else "new folder"
        self._offline.discard(root)
        try:
            new = FolderWatch(root, self, self.polling_interval_s, self._on_limit)
            new.start()
        except OSError as exc:
            if root not in self._unwatchable:  # say it once, not every second
                self._unwatchable.add(root)
                self._report_error(exc)
            return
        self._unwatchable.discard(root)
        self._watches[root] = new
        if not initial:  # at start the first rescan is already queued
            self._rescan(reason)

    def _on_limit(self, root: str, exc: OSError) -> None:
        if root in self._noticed:
            return
        self._noticed.add(root)
        message = (
            f"the system's limit on watched folders was reached ({exc.strerror or exc}); "
            f"polling {root} instead, so its changes show up within a few seconds. Raising "
            "fs.inotify.max_user_watches (sysctl) lifts the limit."
        )
        log.warning(message)
        if self.on_notice is not None:
            self.on_notice(message)

    def _save(self, force: bool = False) -> None:
        """Save the FAISS file so other processes load it fresh; at most once per save interval, and
        less often when saving itself is slow (a big index): never more than a fifth of the time."""
        if not self._dirty:
            return
        now = time.monotonic()
        if not force and now - self._last_save < max(self.save_interval_s, 5 * self._save_cost):
            return
        self._dirty = False
        job = self.queue.submit(SaveIndex(), origin="watcher")
        self._last_save = time.monotonic()
        job.wait()  # on the monitor thread, which has nothing else to do meanwhile
        self._save_cost = job.seconds

    def _report_error(self, exc: Exception) -> None:
        log.warning("live folders: %s", exc, exc_info=exc)
        if self.on_error is not None:
            self.on_error(exc)
