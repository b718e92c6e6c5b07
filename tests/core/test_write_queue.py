"""The one write queue: intents run one at a time in order, neighbours merge, one pause holds every
job whoever asked, and the watcher's work goes through it like the app's. Real library, real files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from core.library.facade import Library
from core.library.intents import AddFolder, ApplySettings, Moves, Refresh, SaveIndex, Update
from core.library.write_queue import JobEvent, WriteQueue
from core.session.owner import LibraryOwner
from tests.imagegen import write_photo


def test_waiting_intents_merge_and_a_full_update_covers_refreshes() -> None:
    assert Update(("a",)).absorb(Update(("b",))) == Update(("a", "b"))
    assert Update().absorb(Refresh(frozenset({"/x"}))) == Update()
    assert Refresh(frozenset({"/x"})).absorb(Refresh(frozenset({"/y"}))) == Refresh(frozenset({"/x", "/y"}))
    assert Refresh(frozenset({"/x"})).absorb(Update(("timer",))) == Update(("timer",))
    assert Moves((("/a", "/b"),)).absorb(Moves((("/c", "/d"),))) == Moves((("/a", "/b"), ("/c", "/d")))
    assert Moves().absorb(Refresh()) is None and AddFolder("/a").absorb(AddFolder("/b")) is None
    two = ApplySettings.of(device="cpu").absorb(ApplySettings.of(precision="fp32"))
    assert two == ApplySettings.of(device="cpu", precision="fp32")  # both keys hold


def test_jobs_run_one_at_a_time_in_order_and_merge_while_waiting(library: Library, photo_dir: Path) -> None:
    queue = WriteQueue(library)
    events: list[JobEvent] = []
    queue.subscribe(events.append)
    queue.pause()  # hold them so they queue up
    add = queue.submit(AddFolder(str(photo_dir)), "app")
    first = queue.submit(Update(("app",)), "app")
    second = queue.submit(Update(("watcher start",)), "watcher")  # the watcher's start-up rescan
    assert second is first and first.origins == ["app", "watcher"]
    queue.start()
    queue.resume()
    report = first.wait(60)
    assert add.done and report.index.embedded == 12
    queue.stop()
    running = 0
    for e in events:  # never two jobs at once
        running += {"started": 1, "finished": -1}.get(e.kind, 0)
        assert running in (0, 1)
    started = [e.job.intent for e in events if e.kind == "started"]
    assert started == [AddFolder(str(photo_dir)), Update(("app", "watcher start", "folder added"))]


def test_one_pause_holds_the_watchers_indexing_too_and_it_reports_progress(
    library: Library, photo_dir: Path
) -> None:
    library.add_folder(photo_dir)
    library.update()
    owner = LibraryOwner(library, watch=True, serve=False, quiet_s=0.3, poll_s=0.2)
    events: list[JobEvent] = []
    owner.queue.subscribe(events.append)
    owner.start()
    try:
        assert owner.queue.wait_idle(30)
        owner.queue.pause()
        for i in range(3):
            write_photo(photo_dir / f"new_{i}.jpg", seed=700 + i)
        time.sleep(2.0)  # the watcher has released the files by now; the queue holds the job
        assert library.status().counts.indexed == 12
        owner.queue.resume()
        deadline = time.monotonic() + 30
        while library.status().counts.indexed < 15:
            assert time.monotonic() < deadline, "the watcher's job never ran after resume"
            time.sleep(0.1)
    finally:
        owner.close()
    watcher_progress = [e for e in events if e.kind == "progress" and "watcher" in e.job.origins]
    assert any(e.progress is not None and e.progress.stage == "indexing" for e in watcher_progress)


def test_stopping_cancels_the_running_job_and_drops_the_waiting_ones(library: Library, photo_dir: Path) -> None:
    queue = WriteQueue(library)
    gate = threading.Event()
    queue.subscribe(lambda e: gate.set() if e.kind == "progress" else None)
    queue.start()
    queue.submit(AddFolder(str(photo_dir)))
    running = queue.submit(Update(("app",)))
    waiting = queue.submit(SaveIndex())
    assert gate.wait(30)
    queue.stop()
    assert running.done and waiting.done and waiting.error is not None
    assert library.status().counts.indexed <= 12  # what was committed stays; the rest is pending
