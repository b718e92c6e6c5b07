"""The SQLite schema: the newest table definitions (a fresh library is created from these).

SQLite is the source of truth, vectors included: the FAISS index is rebuilt from here whenever it is
missing or stale. Vectors are keyed by (content hash, model), so a renamed or moved photo keeps its
vector without re-embedding, and identical copies share one. A change here needs a step in
`core.store.migrations`, which upgrades libraries made by older versions.
"""

from __future__ import annotations

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
)

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
    # The header's facts (core.imaging.photo_facts), read before embedding; NULL facts_version: not yet.
    Column("taken_offset_min", Integer, nullable=True),  # the camera's UTC offset, where it wrote one
    Column("taken_from", String, nullable=True),  # "exif" or "file" (taken_at is the modification time)
    Column("camera_make", String, nullable=True),
    Column("camera_model", String, nullable=True),
    Column("orientation", Integer, nullable=True),  # EXIF 1..8
    Column("format", String, nullable=True),  # "JPEG", "HEIC", "Canon RAW"...
    Column("has_gps", Integer, nullable=True),
    Column("facts_version", Integer, nullable=True),
    Index("ix_photos_hash", "hash"),
    Index("ix_photos_folder", "folder_id"),
    Index("ix_photos_taken", "taken_at"),
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
    # The precision the model ran at ("fp32", "bf16", "fp16", "int8", "int8-mixed"); NULL: made before
    # precisions were recorded. A precision that fails its check is re-embedded by this column.
    Column("precision", String, nullable=True),
)

# One verdict per precision check: whether the faster precisions stay close enough to fp32 for one
# model on one machine. `fingerprint` names what the check depends on (model and revision, device,
# torch, CPU features) and `verdict` is JSON; the store reads neither, it only keeps them.
precision_checks = Table(
    "precision_checks",
    metadata,
    Column("fingerprint", String, primary_key=True),
    Column("model", String, nullable=False),  # the model's storage key, as in models.key
    Column("verdict", String, nullable=False),
    Column("checked_at", Float, nullable=False),  # seconds since the epoch
    Index("ix_precision_checks_model", "model"),
)

# One pixel print per content (core.imaging.pixel_print): made by the indexing pipeline from the image it
# decodes for the model; model-independent, so kept by content hash like nothing else. `version` is the
# print recipe's: a print of another version is made again.
pixel_prints = Table(
    "pixel_prints",
    metadata,
    Column("hash", String, primary_key=True),
    Column("print", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
)

# What the user decided about two photos the duplicate finder grouped (core.duplicates): "distinct" (not
# duplicates) or "kept" (a reviewed group whose members all stay). Keyed by content, hash_a < hash_b, so a
# decision survives renames and moves and holds for every copy; such a pair is never grouped again.
duplicate_decisions = Table(
    "duplicate_decisions",
    metadata,
    Column("hash_a", String, primary_key=True),
    Column("hash_b", String, primary_key=True),
    Column("decision", String, nullable=False),
    Column("decided_at", Float, nullable=False),
)
