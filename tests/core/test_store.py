"""The SQLite store's transactions, on real files and real processes: libraries opened at the same
moment by several processes, a writer beside a reader."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import func, select

from core.store.database import Store
from core.store.migrations import SCHEMA_VERSION
from core.store.schema import folders

PROCESSES = 4
ROUNDS = 10


def _open_libraries_in_step(libraries: list[str], barrier: Barrier, results: multiprocessing.Queue) -> None:
    """Runs in a child: open each new library the moment every sibling is ready to open it too."""
    for folder in libraries:
        barrier.wait(timeout=60)
        try:
            Store(Path(folder) / "library.sqlite3").close()
            results.put((folder, "ok"))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            results.put((folder, f"{type(exc).__name__}: {exc}"))


def test_processes_opening_one_new_library_at_the_same_moment_all_succeed(tmp_path: Path) -> None:
    libraries = [str(tmp_path / f"lib{i}") for i in range(ROUNDS)]
    for folder in libraries:
        Path(folder).mkdir()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    children = [
        ctx.Process(target=_open_libraries_in_step, args=(libraries, barrier, results)) for _ in range(PROCESSES)
    ]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in range(PROCESSES * ROUNDS)]
    for child in children:
        child.join(timeout=60)

    failures = [(folder, what) for folder, what in outcomes if what != "ok"]
    assert failures == []
    for folder in libraries:
        with sqlite3.connect(Path(folder) / "library.sqlite3") as db:
            versions = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        assert versions == [(str(SCHEMA_VERSION),)]
        assert tables == ["folders", "meta", "models", "photos", "vectors"]


def test_a_writer_works_on_a_new_library_while_another_connection_reads_it(tmp_path: Path) -> None:
    db = tmp_path / "library.sqlite3"
    reader = Store(db)  # a search process, first to open the new library
    writer = Store(db)
    try:
        with reader.read() as snapshot:
            assert snapshot.execute(select(func.count()).select_from(folders)).scalar() == 0
            started = time.monotonic()
            writer.add_folder("/photos")  # a reader never holds the writer up (WAL)
            assert time.monotonic() - started < 5
            # The open read is one transaction: it keeps seeing the library as it was when it began.
            assert snapshot.execute(select(func.count()).select_from(folders)).scalar() == 0
        assert [f.path for f in reader.folders()] == ["/photos"]
    finally:
        reader.close()
        writer.close()


def test_reads_and_opens_do_not_wait_for_an_open_write_transaction(tmp_path: Path) -> None:
    db = tmp_path / "library.sqlite3"
    writer = Store(db)
    try:
        with writer.write() as conn:  # holds SQLite's write lock until the block ends
            conn.execute(folders.insert().values(path="/photos", added_at=0.0, online=1))
            started = time.monotonic()
            second = Store(db)  # an up-to-date library opens with a read: no wait for the lock
            assert second.folders() == []  # not committed yet
            second.close()
            assert time.monotonic() - started < 5
        assert [f.path for f in writer.folders()] == ["/photos"]
    finally:
        writer.close()
