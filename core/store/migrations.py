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

# Schema 1's tables exactly as shipped (frozen, like tests/schema_v1.sql): a creation cut short before its
# stamp is finished with these, not the newest tables, so the steps after it find what they expect.
_SCHEMA_1 = (
    'CREATE TABLE IF NOT EXISTS meta ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"))',
    "CREATE TABLE IF NOT EXISTS folders (id INTEGER NOT NULL, path VARCHAR NOT NULL, added_at FLOAT NOT NULL, "
    "online INTEGER NOT NULL, PRIMARY KEY (id), UNIQUE (path))",
    'CREATE TABLE IF NOT EXISTS models ("key" VARCHAR NOT NULL, dim INTEGER NOT NULL, '
    'generation INTEGER NOT NULL, PRIMARY KEY ("key"))',
    "CREATE TABLE IF NOT EXISTS photos (id INTEGER NOT NULL, folder_id INTEGER NOT NULL, path VARCHAR NOT NULL, "
    "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, hash VARCHAR, width INTEGER, height INTEGER, "
    "taken_at FLOAT, status VARCHAR NOT NULL, error VARCHAR, PRIMARY KEY (id), "
    "FOREIGN KEY(folder_id) REFERENCES folders (id) ON DELETE CASCADE, UNIQUE (path))",
    "CREATE INDEX IF NOT EXISTS ix_photos_folder ON photos (folder_id)",
    "CREATE INDEX IF NOT EXISTS ix_photos_hash ON photos (hash)",
    "CREATE TABLE IF NOT EXISTS vectors (hash VARCHAR NOT NULL, model VARCHAR NOT NULL, vector BLOB NOT NULL, "
    'PRIMARY KEY (hash, model), FOREIGN KEY(model) REFERENCES models ("key") ON DELETE CASCADE)',
)


def _v2_precisions(conn: Connection) -> None:
    """Schema 2: the precision each vector was made at (existing ones: NULL, unknown) and the verdicts
    of precision checks. Re-embedding vectors of a failed precision is a background job, not this step."""
    conn.execute(text("ALTER TABLE vectors ADD COLUMN precision VARCHAR"))
    conn.execute(text(
        "CREATE TABLE precision_checks (fingerprint VARCHAR NOT NULL, model VARCHAR NOT NULL, "
        "verdict VARCHAR NOT NULL, checked_at FLOAT NOT NULL, PRIMARY KEY (fingerprint))"
    ))
    conn.execute(text("CREATE INDEX ix_precision_checks_model ON precision_checks (model)"))


def _v3_duplicates(conn: Connection) -> None:
    """Schema 3: pixel prints (made for existing photos by the next update, which decodes them again but
    embeds nothing) and the user's duplicate decisions."""
    conn.execute(text(
        "CREATE TABLE pixel_prints (hash VARCHAR NOT NULL, print BLOB NOT NULL, version INTEGER NOT NULL, "
        "PRIMARY KEY (hash))"
    ))
    conn.execute(text(
        "CREATE TABLE duplicate_decisions (hash_a VARCHAR NOT NULL, hash_b VARCHAR NOT NULL, "
        "decision VARCHAR NOT NULL, decided_at FLOAT NOT NULL, PRIMARY KEY (hash_a, hash_b))"
    ))


def _v4_photo_facts(conn: Connection) -> None:
    """Schema 4: the header's facts per photo (date offset and source, camera, orientation, format, GPS).
    Reading them for existing photos is the next update's job (facts_version NULL), not this step's."""
    for column, kind in (
        ("taken_offset_min", "INTEGER"), ("taken_from", "VARCHAR"), ("camera_make", "VARCHAR"),
        ("camera_model", "VARCHAR"), ("orientation", "INTEGER"), ("format", "VARCHAR"), ("has_gps", "INTEGER"),
        ("facts_version", "INTEGER"),
    ):
        conn.execute(text(f"ALTER TABLE photos ADD COLUMN {column} {kind}"))
    conn.execute(text("CREATE INDEX ix_photos_taken ON photos (taken_at)"))


# Version 1 is the first released schema. Append a step for each change; never edit or reorder one
# that has shipped (libraries out there are at every version in between).
STEPS: tuple[Step, ...] = (_v2_precisions, _v3_duplicates, _v4_photo_facts)

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
        for statement in _SCHEMA_1:  # only the tables and indexes still missing
            conn.execute(text(statement))
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
