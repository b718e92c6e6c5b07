"""The SQLite schema, and the migrations that bring an older library up to it.

SQLite is the source of truth, vectors included: the FAISS index is rebuilt from here whenever it is
missing or stale. Vectors are keyed by (content hash, model), so a renamed or moved photo keeps its
vector without re-embedding, and identical copies share one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

folders = Table(
    "folders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", String, nullable=False, unique=True),
    Column("added_at", Float, nullable=False),
    Column("online", Integer, nullable=False, default=1),
)

# status: 'ok' (readable; indexed for a model when a vector exists for (hash, model)), 'failed'
# (error says why), 'offline' (its folder is unreachable: kept, hidden from results).
photos = Table(
    "photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("path", String, nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("mtime_ns", Integer, nullable=False),
    Column("hash", String, nullable=True),  # blake2b of the bytes; NULL until first read
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("taken_at", Float, nullable=True),  # EXIF capture time, seconds since the epoch (naive: local)
    Column("status", String, nullable=False, default="ok"),
    Column("error", String, nullable=True),
    Index("ix_photos_hash", "hash"),
    Index("ix_photos_folder", "folder_id"),
)

models = Table(
    "models",
    metadata,
    Column("key", String, primary_key=True),
    Column("dim", Integer, nullable=False),
    # Bumped in the same transaction as any change to which photos this model's index holds: the FAISS
    # file records the generation it was saved at, so a stale file is detected on open.
    Column("generation", Integer, nullable=False, default=0),
)

vectors = Table(
    "vectors",
    metadata,
    Column("hash", String, primary_key=True),
    Column("model", String, ForeignKey("models.key", ondelete="CASCADE"), primary_key=True),
    Column("vector", LargeBinary, nullable=False),  # float16, L2-normalised, little-endian
)

# version -> step that upgrades a library from that version to the next. Add one per schema change.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def current_version(conn: Connection) -> int:
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def migrate(conn: Connection) -> None:
    """Create a fresh schema, or step an older one up to SCHEMA_VERSION, inside the caller's transaction."""
    has_meta = conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'meta'")).first()
    if not has_meta:
        metadata.create_all(conn)
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        from core.errors import LibraryError

        raise LibraryError(
            f"this library was written by a newer Lookalike (schema {version}, this one knows up to "
            f"{SCHEMA_VERSION}); update Lookalike to open it"
        )
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(version)))
