"""Reading photos' header facts (date taken, camera, orientation, format, GPS) before they are embedded.

A scan already reads the facts of the photos it finds new or edited (core.indexing.scan_facts), up to a
bound, so those arrive in the grid with their dates. Every index run starts here for the rest: photos
beyond that bound, and a library from before these facts, which gets them from its next update, in
batches of one short transaction each (a crash loses one batch; the next run goes on), embedding nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from core.imaging.photo_facts import FACTS_VERSION, read_facts
from core.store import facts as rows
from core.store.changes import LibraryChanges
from core.store.database import Store
from core.tasks.progress import TaskHandle

BATCH = 256
READERS = 4  # a header is a few small reads: threads overlap the waits on the disk


def read_missing_facts(
    store: Store, lock: threading.RLock, handle: TaskHandle, notify: Callable[[LibraryChanges], None]
) -> int:
    """Read the facts of every readable photo that lacks them; returns how many were read."""
    with store.read() as conn:
        total = rows.count_lacking(conn, FACTS_VERSION)
    if not total:
        return 0
    handle.start("reading dates and cameras", total)
    done = 0
    with ThreadPoolExecutor(READERS, thread_name_prefix="lookalike-facts") as pool:
        while True:
            with store.read() as conn:
                batch = rows.lacking(conn, FACTS_VERSION, BATCH)
            if not batch:
                return done
            found = list(pool.map(read_facts, [path for _, path in batch]))
            with lock, store.write() as conn:
                rows.save(conn, [{"b_id": pid, **f.row()} for (pid, _), f in zip(batch, found, strict=True)],
                          FACTS_VERSION)
            notify(LibraryChanges(updated=tuple(pid for pid, _ in batch)))
            done += len(batch)
            handle.advance(len(batch))
            handle.checkpoint()
