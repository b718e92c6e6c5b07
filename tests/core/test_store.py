"""The SQLite store on real files and real processes: libraries opened at the same moment by several
processes, a writer beside a reader; vectors by the precision they were made at, and precision checks."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.store.database import Store, insert_vectors
from core.store.migrations import SCHEMA_VERSION
from core.store.schema import folders, metadata, photos, vectors

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
        assert tables == sorted(metadata.tables)


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


MODEL = "local:tiny-0123"
NO_VECTOR = "no vector"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "library.sqlite3")
    store.ensure_model(MODEL, 4)
    store.ensure_model("other", 4)
    yield store
    store.close()


def add_photos(store: Store, made_at: dict[str, str | None], status: str = "ok") -> dict[str, int]:
    """A photo per name, its content hash the name (a' is a copy of a); its vector made at the precision
    `made_at[name]` (None: not recorded, NO_VECTOR: none yet). Returns name -> photo id."""
    with store.write() as conn:
        folder = conn.execute(select(folders.c.id).where(folders.c.path == "/p")).scalar()
        if folder is None:
            folder = conn.execute(folders.insert().values(path="/p", added_at=0.0, online=1)).inserted_primary_key[0]
        ids = {}
        for name, precision in made_at.items():
            row = dict(folder_id=folder, path=f"/p/{name}.jpg", size=1, mtime_ns=1, hash=name.rstrip("'"),
                       status=status)
            ids[name] = conn.execute(photos.insert().values(**row)).inserted_primary_key[0]
            if precision != NO_VECTOR:
                insert_vectors(conn, MODEL, [(row["hash"], name.encode())], precision)
    return ids


def vector_rows(store: Store) -> list[tuple[str, str, bytes, str | None]]:
    with store.read() as conn:
        q = select(vectors.c.hash, vectors.c.model, vectors.c.vector, vectors.c.precision).order_by(vectors.c.hash)
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def test_a_vector_made_again_at_another_precision_replaces_the_old_one_in_its_row(store: Store) -> None:
    with store.write() as conn:
        insert_vectors(conn, MODEL, [("h1", b"int8 bytes"), ("h2", b"kept")], "int8")
        insert_vectors(conn, "other", [("h1", b"other model")], "int8")
    with store.write() as conn:
        insert_vectors(conn, MODEL, [("h1", b"fp32 bytes")], "fp32")
    assert vector_rows(store) == [
        ("h1", MODEL, b"fp32 bytes", "fp32"),
        ("h1", "other", b"other model", "int8"),
        ("h2", MODEL, b"kept", "int8"),
    ]


def test_pending_photos_lists_new_photos_first_then_those_made_at_a_stale_precision(store: Store) -> None:
    ids = add_photos(store, {"a": "int8", "b": NO_VECTOR, "c": "fp32", "d": None, "e": "int8", "f": NO_VECTOR})
    add_photos(store, {"g": "int8"}, status="offline")
    add_photos(store, {"h": NO_VECTOR}, status="failed")

    def pending(stale: set[str | None] | tuple[()] = ()) -> list[int]:
        return [p.id for p in store.pending_photos(MODEL, stale)]

    assert pending() == [ids["b"], ids["f"]]
    assert pending({"int8"}) == [ids["b"], ids["f"], ids["a"], ids["e"]]
    assert pending({None}) == [ids["b"], ids["f"], ids["d"]]  # made before precisions were recorded
    assert pending({"int8", None}) == [ids["b"], ids["f"], ids["a"], ids["d"], ids["e"]]
    assert [p.id for p in store.pending_photos("other", {"int8"})] == [ids[n] for n in "abcdef"]


def test_a_vector_made_at_a_stale_precision_is_not_one_to_reuse(store: Store) -> None:
    add_photos(store, {"a": "int8", "c": "fp32", "d": None})
    every = ["a", "c", "d", "unknown"]
    assert store.hashes_with_vectors(MODEL, every) == {"a", "c", "d"}
    assert store.hashes_with_vectors(MODEL, every, {"int8"}) == {"c", "d"}
    assert store.hashes_with_vectors(MODEL, every, {"int8", None}) == {"c"}
    assert store.hashes_with_vectors("other", every, {"fp32"}) == set()


def test_vector_precisions_counts_the_online_photos_made_at_each(store: Store) -> None:
    assert store.vector_precisions(MODEL) == {}
    # a' is an identical copy of a: one vector, two photos.
    add_photos(store, {"a": "int8", "a'": "int8", "b": NO_VECTOR, "c": "fp32", "d": None, "e": "int8"})
    add_photos(store, {"g": "int8"}, status="offline")
    with store.write() as conn:
        insert_vectors(conn, "other", [("c", b"other")], "bf16")
    assert store.vector_precisions(MODEL) == {"int8": 3, "fp32": 1, None: 1}
    assert store.vector_precisions("other") == {"bf16": 1}


def test_a_precision_verdict_is_saved_read_back_and_replaced_by_a_new_check(store: Store) -> None:
    assert store.precision_verdict("tiny|cpu|torch 2.5|avx2") is None
    assert store.precision_verdicts(MODEL) == []
    store.save_precision_verdict("tiny|cpu|torch 2.5|avx2", MODEL, '{"int8": "fail"}', 100.0)
    store.save_precision_verdict("tiny|cpu|torch 2.5|avx512", MODEL, '{"int8": "ok"}', 200.0)
    store.save_precision_verdict("other|cpu", "other", '{"bf16": "ok"}', 300.0)
    assert store.precision_verdict("tiny|cpu|torch 2.5|avx2") == '{"int8": "fail"}'
    assert store.precision_verdicts(MODEL) == ['{"int8": "ok"}', '{"int8": "fail"}']  # newest first

    store.save_precision_verdict("tiny|cpu|torch 2.5|avx2", MODEL, '{"int8": "ok", "run": 2}', 400.0)
    assert store.precision_verdict("tiny|cpu|torch 2.5|avx2") == '{"int8": "ok", "run": 2}'
    assert store.precision_verdicts(MODEL) == ['{"int8": "ok", "run": 2}', '{"int8": "ok"}']
    assert store.precision_verdicts("other") == ['{"bf16": "ok"}']
