"""Schema versions, numbered in one place: the steps that bring an older library up to this one's.

`STEPS[i]` upgrades a library from version i + 1 to i + 2; `SCHEMA_VERSION` follows from their number.
A schema change is one small function appended here, plus the same change to the table definitions in
`core.store.schema` (a fresh library is made from those: `create_all`, stamped with the newest version).
tests/core/test_migrations.py proves the two agree: an old library stepped up has the fresh schema.

`upgrade` runs inside the caller's transaction, which `Store` opens with BEGIN IMMEDIATE: several
processes opening one new library create it exactly once, and a step that fails half-way (or a crash)
leaves the library exactly at its old version, since SQLite rolls DDL back like any other change.

Steps change the schema and do quick SQL only. Long back-fills of data (re-reading the metadata of a
million photos, re-hashing files) are NOT migrations: a step only adds the column or table they fill;
the filling runs later as a resumable background job, in batches, each its own short transaction, so
opening a library never waits minutes and a crash loses at most one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from core.errors import LibraryError
from core.store.schema import meta, metadata

Step = Callable[[Connection], None]

# Version 1 is the first released schema. Append a step for each change; never edit or reorder one
# that has shipped (libraries out there are at every version in between).
STEPS: tuple[Step, ...] = ()

SCHEMA_VERSION = 1 + len(STEPS)


def stored_version(conn: Connection) -> int | None:
    """The library's schema version, or None while it has no schema at all (a new, empty file)."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")).first() is None:
        return None
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def check_version(version: int | None, steps: Sequence[Step] = STEPS) -> bool:
    """True when a library at `version` needs `upgrade`; refuses one newer than this code knows."""
    newest = 1 + len(steps)
    if version is not None and version > newest:
        raise LibraryError(
            f"this library was written by a newer Lookalike (schema {version}, this one knows up to "
            f"{newest}); update Lookalike to open it"
        )
    return version != newest


def upgrade(conn: Connection, steps: Sequence[Step] = STEPS) -> None:
    """Create a fresh schema, or step an older one up to the newest, inside the caller's transaction.

    Call it in a write transaction begun IMMEDIATE: the version read here then cannot change under it."""
    version = stored_version(conn)
    if not check_version(version, steps):
        return
    if version is None:
        metadata.create_all(conn)
        conn.execute(meta.insert().values(key="schema_version", value=str(1 + len(steps))))
        return
    if version == 0:
        # Tables but no version: a creation by Lookalike before 2026-11 (schema 1, its DDL outside any
        # transaction) cut short before the stamp. Nothing was stored yet; finish it as schema 1.
        metadata.create_all(conn)  # only the tables still missing
        conn.execute(meta.insert().values(key="schema_version", value="1"))
        version = 1
    while version < 1 + len(steps):
        _run_step(conn, steps, version)
        version += 1
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(version)))


def _run_step(conn: Connection, steps: Sequence[Step], version: int) -> None:
    try:
        steps[version - 1](conn)
    except OperationalError:
        raise  # the store turns these into StorageError (a full disk, a read-only folder)
    except Exception as exc:
        raise LibraryError(
            f"could not upgrade the library from schema {version} to {version + 1} (it was left as it "
            f"was): {exc}"
        ) from exc
