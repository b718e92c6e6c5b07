"""`LibraryOwner`: the one owner of a library's writes, in whichever process holds its writer lock
(the app, `lookalike index [--watch]`, `lookalike settings`).

It owns the `Library`, its `WriteQueue`, the `LibraryWatcher` (when watching) and the handoff server
through which other processes of the same user hand it their write commands. Front ends submit
intents here and follow `JobEvent`s; they never write to the library themselves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from core.errors import Cancelled, LookalikeError
from core.library.facade import Library
from core.library.intents import (
    AddFolder,
    ApplySettings,
    DecideDuplicates,
    Intent,
    RemoveFolder,
    Update,
)
from core.library.settings import Settings
from core.library.write_queue import Job, JobEvent, WriteQueue
from core.session.handoff import Emit, HandoffServer, Request
from core.session.handoff_wire import NO_WINDOW
from core.tasks.progress import TaskHandle
from core.watch.watcher import LibraryWatcher

log = logging.getLogger(__name__)

# In an answer: the owner stopped before doing the request, which is safe to do again (every request is
# idempotent), so the asker waits for the library and does it itself.
RETRY = "retry"


class LibraryOwner:
    def __init__(
        self, library: Library, *, watch: bool = False, serve: bool = True,
        on_show: Callable[[str], None] | None = None, on_raise: Callable[[], None] | None = None,
        on_error: Callable[[Exception], None] | None = None, **watcher_options: Any,
    ) -> None:
        """`on_show(path)`: a handed-over "show this photo"; `on_raise()`: "come to the front" (only the
        app has a window for them; both are called on a connection's thread).
        `on_error`: failures of background parts (the watcher), on their threads; also logged."""
        self.library = library
        self.queue = WriteQueue(library)
        self.on_show = on_show
        self.on_raise = on_raise
        self.on_error = on_error
        self.watcher = (
            LibraryWatcher(library, queue=self.queue, on_error=self._failed, **watcher_options) if watch else None
        )
        self.server = HandoffServer(library.data_dir, self._handle) if serve else None

    def start(self) -> None:
        """Start the queue, then watching (a failure is logged and reported, never swallowed: the
        library still works, updated by rescans), then the door for other processes."""
        self.queue.start()
        if self.watcher is not None:
            try:
                self.watcher.start()
            except Exception as exc:  # noqa: BLE001 - the app must open even where watching cannot
                self.watcher = None
                self._failed(LookalikeError(f"live folders are off: watching could not start ({exc})"))
        if self.server is not None:
            self.server.start()

    def close(self, drain: bool = False, then: Sequence[Intent] = ()) -> None:
        """Stop taking requests, stop watching, then stop the queue (`drain`: finish what waits,
        handed-over work included; else cancel the running job at its next commit), save, close.

        `then`: intents the front end already promised the user (the app's folder removal whose undo
        time was still running), run after the queue stopped, so neither a running job nor the queue's
        dropping what waits can lose them; they are quick (no photo is read)."""
        if self.server is not None and not drain:
            self.server.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.queue.stop(drain=drain)
        if self.server is not None and drain:
            # Requests accepted meanwhile found the queue closed and answer so; finished ones answer now.
            self.server.stop(finish_s=10.0)
        for intent in then:  # the queue's thread has ended: this thread is now the only writer
            try:
                intent.run(self.library, TaskHandle())
            except LookalikeError as exc:
                log.warning("%s at close failed: %s", intent.label, exc)
        try:
            self.library.save_index()
        finally:
            self.library.close()

    # -- what front ends ask -----------------------------------------------------------------------------
    def submit(self, intent: Intent, origin: str = "app") -> Job:
        return self.queue.submit(intent, origin)

    def index(self, folders: list[str], origin: str = "app") -> Job:
        """Add `folders` and bring the whole library up to date; returns the update's job."""
        for folder in folders:
            self.queue.submit(AddFolder(folder), origin)
        return self.queue.submit(Update((f"asked by {origin}",)), origin)

    def settings_job(self, changes: dict[str, list[str]], origin: str = "app") -> Job:
        """Validate `changes` (key -> the words a user typed) now, apply them on the queue."""
        return self.queue.submit(ApplySettings.of(**changed_fields(self.library.settings, changes)), origin)

    # -- requests handed over by other processes (on a connection's thread) -------------------------------
    def _handle(self, request: Request, emit: Emit) -> dict[str, Any]:
        try:
            return self._answer(request, emit)
        except Cancelled:
            # This process is closing (the window was closed, Ctrl+C): the asker does the rest itself.
            return {"error": "the Lookalike process that owns the library closed before finishing this",
                    RETRY: True}

    def _answer(self, request: Request, emit: Emit) -> dict[str, Any]:
        op, args = request.op, request.args
        if op in ("show", "raise"):
            return self._to_window(op, args)
        if op == "index":
            report = self._follow(self.index(list(args["folders"]), "handoff"), emit)
            if report.index.cancelled:  # stopped at a commit: what it did is kept, the rest is not done
                raise Cancelled("closing")
            return {"report": report.summary()}
        if op == "settings":
            changes = {k: _words(v) for k, v in args["set"].items()}
            self._follow(self.settings_job(changes, "handoff"), emit)
            return {"settings": self.library.settings.user_values()}
        if op == "decide_duplicates":
            decided = DecideDuplicates(tuple(args["hashes"]), str(args["decision"]))
            return {"decided": self._follow(self.queue.submit(decided, "handoff"), emit)}
        if op in ("add_folder", "remove_folder"):
            intent = AddFolder(args["path"]) if op == "add_folder" else RemoveFolder(args["path"])
            self._follow(self.queue.submit(intent, "handoff"), emit)
            return {"folder": args["path"]}
        raise LookalikeError(f"unsupported request {op!r}")

    def _to_window(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        """The "show" and "raise" requests are for the app's window. A command owning the library answers
        NO_WINDOW, so the launcher can say which process holds it instead of opening a window that cannot."""
        if op == "show" and self.on_show is not None:
            self.on_show(args["image"])
            return {"shown": args["image"]}
        if op == "raise" and self.on_raise is not None:
            self.on_raise()
            return {"raised": True}
        return {"error": f"the Lookalike process that owns this library (pid {os.getpid()}) has no window",
                NO_WINDOW: True, "pid": os.getpid()}

    def _follow(self, job: Job, emit: Emit) -> Any:
        """Stream the queue's progress to the client while `job` (and whatever runs before it) runs."""

        def relay(event: JobEvent) -> None:
            if event.kind == "progress" and event.progress is not None:
                p = event.progress
                emit({"event": "progress", "stage": p.stage, "done": p.done, "total": p.total,
                      "rate": round(p.rate, 2), "unit": p.unit})

        unsubscribe = self.queue.subscribe(relay)
        try:
            return job.wait()
        finally:
            unsubscribe()

    def _failed(self, exc: Exception) -> None:
        log.error("%s", exc, exc_info=exc)
        if self.on_error is not None:
            self.on_error(exc)


def changed_fields(current: Settings, changes: dict[str, list[str]]) -> dict[str, Any]:
    """Settings fields and their validated values for `changes`; SettingsError/ModelError if bad."""
    updated = current
    for key, words in changes.items():
        updated = updated.with_value(key, words)
    return current.differences(updated)


def _words(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)

