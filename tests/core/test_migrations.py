"""Schema migrations on real SQLite files: an old library is stepped up to the schema a fresh one has,
a step that fails half-way changes nothing, and a library from a newer Lookalike is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from core.errors import LibraryError
from core.store.database import Store
from core.store.migrations import SCHEMA_VERSION, STEPS
from tests.store_versions import library_at_version, schema_of, stored_version


def _add_albums(conn: Connection) -> None:
    conn.execute(text("CREATE TABLE albums (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL)"))


def _add_rating(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE photos ADD COLUMN rating INTEGER"))


def _add_rating_then_fail(conn: Connection) -> None:
    _add_rating(conn)
    _add_albums(conn)
    raise RuntimeError("the step's author got the SQL wrong")


def _with_a_folder(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO folders(path, added_at, online) VALUES ('/photos', 0, 1)")
    db.close()


def _folders(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as db:
        rows = [r[0] for r in db.execute("SELECT path FROM folders")]
    db.close()
    return rows


def test_the_oldest_library_stepped_up_has_the_schema_of_a_fresh_one(tmp_path: Path) -> None:
    old = library_at_version(tmp_path / "old.sqlite3", 1)
    Store(old).close()
    Store(tmp_path / "fresh.sqlite3").close()
    assert stored_version(old) == SCHEMA_VERSION
    # Fails when core/store/schema.py changes without a matching step in core/store/migrations.py.
    assert schema_of(old) == schema_of(tmp_path / "fresh.sqlite3")


def test_only_the_steps_after_a_librarys_version_run(tmp_path: Path) -> None:
    steps = (*STEPS, _add_albums)
    db = library_at_version(tmp_path / "library.sqlite3", 1 + len(steps), steps)
    assert stored_version(db) == 1 + len(steps)
    Store(db, (*steps, _add_rating)).close()  # _add_albums again would fail: the table exists
    assert stored_version(db) == 2 + len(steps)
    assert "rating" in schema_of(db)["photos"][0]  # type: ignore[index]


def test_a_step_failing_half_way_leaves_the_library_at_its_old_version(tmp_path: Path) -> None:
    db = library_at_version(tmp_path / "library.sqlite3", SCHEMA_VERSION)
    _with_a_folder(db)
    before = schema_of(db)

    with pytest.raises(LibraryError, match=f"from schema {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}"):
        Store(db, (*STEPS, _add_rating_then_fail))
    assert stored_version(db) == SCHEMA_VERSION
    assert schema_of(db) == before  # no rating column, no albums table: all rolled back
    assert _folders(db) == ["/photos"]

    Store(db, (*STEPS, _add_rating)).close()
    assert stored_version(db) == SCHEMA_VERSION + 1
    assert "rating" in schema_of(db)["photos"][0]  # type: ignore[index]
    assert _folders(db) == ["/photos"]


def test_a_library_from_a_newer_lookalike_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = library_at_version(tmp_path / "library.sqlite3", SCHEMA_VERSION)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.close()
    before = schema_of(db)
    with pytest.raises(LibraryError, match="newer Lookalike"):
        Store(db)
    assert stored_version(db) == SCHEMA_VERSION + 1 and schema_of(db) == before


def test_a_creation_cut_short_before_its_version_stamp_is_finished(tmp_path: Path) -> None:
    # What Lookalike before real transactions left when killed between CREATE TABLE and the stamp.
    db = library_at_version(tmp_path / "library.sqlite3", 1)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM meta")
        conn.execute("DROP TABLE vectors")
    conn.close()
    Store(db).close()
    assert stored_version(db) == SCHEMA_VERSION
    Store(tmp_path / "fresh.sqlite3").close()
    assert schema_of(db) == schema_of(tmp_path / "fresh.sqlite3")


def test_a_creation_cut_short_after_its_first_table_is_finished_exactly_as_schema_1(tmp_path: Path) -> None:
    db = library_at_version(tmp_path / "library.sqlite3", 1)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM meta")
        for table in ("vectors", "photos", "models", "folders"):
            conn.execute(f"DROP TABLE {table}")
    conn.close()
    Store(db, ()).close()  # no steps: the finished library stays at schema 1
    # Fails when the frozen schema 1 in core/store/migrations.py drifts from the one that shipped.
    assert schema_of(db) == schema_of(library_at_version(tmp_path / "v1.sqlite3", 1))


def test_schema_2_keeps_every_vector_of_a_schema_1_library_with_its_precision_unknown(tmp_path: Path) -> None:
    db = library_at_version(tmp_path / "library.sqlite3", 1)
    blob = bytes(range(8))
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO models(key, dim, generation) VALUES ('m', 4, 3)")
        conn.execute("INSERT INTO vectors(hash, model, vector) VALUES ('h1', 'm', ?)", (blob,))
    conn.close()

    store = Store(db, STEPS[:1])
    try:
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT hash, model, vector, precision FROM vectors").fetchall() == [
                ("h1", "m", blob, None)
            ]
            assert conn.execute("SELECT count(*) FROM precision_checks").fetchone() == (0,)
        conn.close()
        assert stored_version(db) == 2
        store.save_precision_verdict("fp", "m", "{}", 1.0)  # the new table takes verdicts
        assert store.precision_verdicts("m") == ["{}"]
    finally:
        store.close()
