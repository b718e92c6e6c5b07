"""Libraries at older schema versions, for migration tests: schema 1's tables exactly as shipped
(tests/schema_v1.sql, frozen), stepped up by the real migration steps to the version asked for."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from core.store.database import Store
from core.store.migrations import STEPS, Step

SCHEMA_V1 = Path(__file__).with_name("schema_v1.sql")


def library_at_version(db_path: Path, version: int, steps: Sequence[Step] = STEPS) -> Path:
    """A new library file at schema `version` (1 up to the newest `steps` lead to)."""
    if not 1 <= version <= 1 + len(steps):
        raise ValueError(f"schema {version} is not one of 1..{1 + len(steps)}")
    with sqlite3.connect(db_path) as db:
        db.executescript(SCHEMA_V1.read_text())
        db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '1')")
    db.close()
    Store(db_path, steps[: version - 1]).close()  # the real upgrade, stopping at `version`
    return db_path


def schema_of(db_path: Path) -> dict[str, object]:
    """Tables with their columns and indexes, compared by meaning (column order and SQL text aside:
    ALTER TABLE appends a column where a fresh CREATE TABLE may put it in the middle)."""
    out: dict[str, object] = {}
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in sorted(tables):
            columns = {r[1]: (r[2], r[3], r[4], r[5]) for r in db.execute(f"PRAGMA table_info('{table}')")}
            indexes = {
                r[1]: (r[2], tuple(c[2] for c in db.execute(f"PRAGMA index_info('{r[1]}')")))
                for r in db.execute(f"PRAGMA index_list('{table}')")
            }
            keys = sorted(tuple(r[2:5]) for r in db.execute(f"PRAGMA foreign_key_list('{table}')"))
            out[table] = (columns, indexes, keys)
    db.close()
    return out


def stored_version(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    db.close()
    return int(value)
