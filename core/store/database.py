"""SQLite access for the library: folders, photos and per-model vectors (the source of truth).

All writes go through `Store.write()`, which serialises them on one lock and one transaction each, so
the rest of the core never sees a half-applied change. Readers may run on any thread concurrently (WAL).

Transactions are SQLAlchemy's, not pysqlite's: pysqlite's own BEGIN is switched off (it skips DDL, so
creating the schema ran outside any transaction and two processes opening a new library collided) and
every transaction starts in `_begin`. A write begins IMMEDIATE: it takes SQLite's write lock up front,
waiting (busy timeout) for another writer, instead of failing when a read lock would need upgrading
half-way. Reads begin DEFERRED: one consistent snapshot, never blocking or blocked by the writer (WAL).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, Integer, and_, create_engine, event, exists, func, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from core.errors import StorageError
from core.store import duplicates as dup_rows
from core.store import precision_checks as checks
from core.store.filtering import BROWSE_DATE
from core.store.migrations import STEPS, Step, check_version, stored_version, upgrade
from core.store.scan_plan import AppliedPlan, ScanPlan, apply_plan
from core.store.schema import folders, meta, models, photos, vectors

# Re-exported (`x as x`): the indexing pipeline and benchmarks write through these.
from core.store.writes import bump_all_generations
from core.store.writes import bump_generation as bump_generation
from core.store.writes import chunks as _chunks
from core.store.writes import insert_vectors as insert_vectors
from core.store.writes import update_photos as update_photos

BUSY_TIMEOUT_S = 30  # how long a write waits for another process's write to finish
_BEGIN = "lookalike_begin"  # execution option: how `_begin` starts a connection's transaction
VECTOR_DTYPE = np.dtype("<f2")  # float16 halves the database; cosine error ~1e-4, far below ranking noise


@dataclass(frozen=True)
class Folder:
    id: int
    path: str
    online: bool


@dataclass(frozen=True)
class Photo:
    id: int
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    width: int | None
    height: int | None
    taken_at: float | None
    status: str
    error: str | None
    camera: str | None = None  # "make model" from the header's facts (core.imaging.photo_facts)


@dataclass(frozen=True)
class Counts:
    photos: int
    indexed: int
    pending: int
    failed: int
    offline: int


def encode_vector(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=VECTOR_DTYPE).tobytes()


def decode_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """Stack float16 blobs into an (n, dim) float32 array with rows re-normalised."""
    out = np.frombuffer(b"".join(blobs), dtype=VECTOR_DTYPE).reshape(len(blobs), dim).astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, np.where(norms > 0, norms, 1.0), out=out)
    return out


def _photo(row: object) -> Photo:
    m = row._mapping  # type: ignore[attr-defined]
    camera = " ".join(part for part in (m["camera_make"], m["camera_model"]) if part) or None
    return Photo(
        m["id"], m["folder_id"], m["path"], m["size"], m["mtime_ns"], m["hash"], m["width"],
        m["height"], m["taken_at"], m["status"], m["error"], camera,
    )


def _has_vector(model: str, precisions: Collection[str | None] | None = None):  # type: ignore[no-untyped-def]
    """The photo has a vector for `model` (made at one of `precisions`, when given)."""
    match = and_(vectors.c.hash == photos.c.hash, vectors.c.model == model)
    if precisions is not None:
        named = vectors.c.precision.in_([p for p in precisions if p is not None])
        # IN never matches NULL: a vector whose precision was not recorded is asked for by None.
        match = and_(match, or_(named, vectors.c.precision.is_(None)) if None in precisions else named)
    return exists().where(match)


class Store:
    """One library database. Thread-safe; open one per process."""

    def __init__(self, db_path: Path, steps: Sequence[Step] = STEPS) -> None:
        """Open the library at `db_path`, creating or upgrading its schema (`steps`: tests pass their own)."""
        self.path = db_path
        self.engine: Engine = create_engine(
            f"sqlite:///{db_path}", connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
        )
        event.listen(self.engine, "connect", _configure_connection)
        event.listen(self.engine, "begin", _begin)
        self._write_lock = threading.RLock()
        self._open_schema(steps)

    def _open_schema(self, steps: Sequence[Step]) -> None:
        # Most opens find the schema current: one read, so they never wait for the write lock (another
        # process may hold it for a while) and a library on a read-only disk still opens for searching.
        with self._storage_errors(), self.read() as conn:
            outdated = check_version(stored_version(conn), steps)
        if outdated:
            with self.write() as conn:
                upgrade(conn, steps)  # reads the version again: another process may have got there first

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One serialised write transaction, begun IMMEDIATE. Disk-full / read-only errors become
        StorageError. Do not nest: the inner one would wait for the outer one's lock."""
        with self._write_lock, self._storage_errors(), self.engine.connect() as conn:
            conn.execution_options(**{_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def read(self) -> Connection:
        """A connection for reading; its first statement begins a DEFERRED transaction (a snapshot)."""
        return self.engine.connect()

    @contextmanager
    def _storage_errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise StorageError(_storage_message(exc, self.path)) from exc

    # -- folders --------------------------------------------------------------------------------
    def folders(self) -> list[Folder]:
        with self.read() as conn:
            rows = conn.execute(select(folders).order_by(folders.c.path)).all()
        return [Folder(r.id, r.path, bool(r.online)) for r in rows]

    def add_folder(self, path: str) -> Folder:
        with self.write() as conn:
            row = conn.execute(select(folders).where(folders.c.path == path)).first()
            if row is None:
                conn.execute(folders.insert().values(path=path, added_at=time.time(), online=1))
                row = conn.execute(select(folders).where(folders.c.path == path)).one()
        return Folder(row.id, row.path, bool(row.online))

    def remove_folder(self, folder_id: int) -> list[int]:
        """Forget a folder and its photos (never touches the files). Returns the removed photo ids."""
        with self.write() as conn:
            ids = list(conn.scalars(select(photos.c.id).where(photos.c.folder_id == folder_id)))
            conn.execute(photos.delete().where(photos.c.folder_id == folder_id))
            conn.execute(folders.delete().where(folders.c.id == folder_id))
            if ids:
                bump_all_generations(conn)
        return ids

    # -- photos ---------------------------------------------------------------------------------
    def photos_in_folder(self, folder_id: int) -> list[Photo]:
        with self.read() as conn:
            return [_photo(r) for r in conn.execute(select(photos).where(photos.c.folder_id == folder_id))]

    def photo(self, photo_id: int) -> Photo | None:
        with self.read() as conn:
            row = conn.execute(select(photos).where(photos.c.id == photo_id)).first()
        return _photo(row) if row else None

    def photo_by_path(self, path: str) -> Photo | None:
        with self.read() as conn:
            row = conn.execute(select(photos).where(photos.c.path == path)).first()
        return _photo(row) if row else None

    def photos_at(self, path: str) -> list[Photo]:
        """The photo stored at `path`, and every photo below it when it is (or was) a folder."""
        col = photos.c.path
        # A range on the unique path index: every path starting with "path/" sorts in [path/, path0).
        below = and_(col >= path + os.sep, col < path + chr(ord(os.sep) + 1))
        with self.read() as conn:
            return [_photo(r) for r in conn.execute(select(photos).where(or_(col == path, below)))]

    def photos_with_sizes(self, sizes: Iterable[int]) -> list[Photo]:
        """Photos of these file sizes whose content hash is known: the candidates for a moved file."""
        out: list[Photo] = []
        with self.read() as conn:
            for chunk in _chunks(sorted(set(sizes))):
                q = select(photos).where(photos.c.size.in_(chunk), photos.c.hash.is_not(None))
                out.extend(_photo(r) for r in conn.execute(q))
        return out

    def paths_with_suffixes(self, suffixes: Iterable[str]) -> list[tuple[int, str]]:
        """(id, path) of readable photos whose name ends with one of `suffixes` (lower case, with the dot)."""
        ends = [func.lower(photos.c.path).like(f"%{suffix}") for suffix in sorted(suffixes)]
        with self.read() as conn:
            q = select(photos.c.id, photos.c.path).where(photos.c.status == "ok", or_(*ends))
            return [(int(i), str(p)) for i, p in conn.execute(q)]

    def apply_plan(self, plan: ScanPlan) -> AppliedPlan:
        """Write a scan's plan in one transaction: all of it lands, or none (core.store.scan_plan).
        An unchanged library's plan is empty: it takes no write lock at all."""
        if plan.empty:
            return AppliedPlan()
        with self.write() as conn:
            return apply_plan(conn, plan)

    def photos_by_ids(self, ids: Iterable[int]) -> dict[int, Photo]:
        ids = list(ids)
        out: dict[int, Photo] = {}
        with self.read() as conn:
            for chunk in _chunks(ids, 500):
                for r in conn.execute(select(photos).where(photos.c.id.in_(chunk))):
                    out[r.id] = _photo(r)
        return out

    def list_photos(
        self, model: str, offset: int = 0, limit: int | None = None, where: Sequence[Any] = ()
    ) -> list[Photo]:
        """Online photos in a stable order (newest first by `filtering.BROWSE_DATE`, then path), for
        browsing; `where`: extra conditions (core.store.filtering.conditions)."""
        q = (
            select(photos)
            .where(photos.c.status != "offline", *where)
            .order_by(BROWSE_DATE.desc(), photos.c.path)
            .offset(offset)
        )
        if limit is not None:
            q = q.limit(limit)
        with self.read() as conn:
            return [_photo(r) for r in conn.execute(q)]

    def pending_photos(
        self, model: str, stale: Collection[str | None] = (), print_version: int | None = None
    ) -> list[Photo]:
        """Readable photos that have no vector for `model` yet (never read, or new content), then those
        whose vector was made at a precision in `stale` (None: not recorded) and must be made again.
        New photos come first: a photo missing from search matters more than a slightly worse vector.
        With `print_version`, photos lacking a pixel print of that version are read again too (their
        vector is reused: a library from before prints gets them without embedding anything)."""
        needed, first = ~_has_vector(model), []
        if print_version is not None:
            needed = or_(needed, dup_rows.lacks_print(print_version))
        if stale:  # ordered by "has a vector" (false sorts first): new photos, then the ones made again
            needed, first = or_(needed, _has_vector(model, stale)), [_has_vector(model)]
        q = select(photos).where(photos.c.status == "ok", needed).order_by(*first, photos.c.id)
        with self.read() as conn:
            return [_photo(r) for r in conn.execute(q)]

    def failures(self) -> list[Photo]:
        with self.read() as conn:
            q = select(photos).where(photos.c.status == "failed").order_by(photos.c.path)
            return [_photo(r) for r in conn.execute(q)]

    def counts(self, model: str) -> Counts:
        has_vec = _has_vector(model)
        with self.read() as conn:
            by_status: dict[str, int] = dict(
                conn.execute(select(photos.c.status, func.count()).group_by(photos.c.status)).all()
            )
            indexed = conn.scalar(
                select(func.count()).select_from(photos).where(photos.c.status == "ok", has_vec)
            )
        total = sum(by_status.values())
        ok = by_status.get("ok", 0)
        return Counts(total, indexed or 0, ok - (indexed or 0), by_status.get("failed", 0),
                      by_status.get("offline", 0))

    def folder_counts(self, model: str) -> dict[int, tuple[int, int, int]]:
        """folder id -> (photos, indexed, failed) for the folder panel."""
        indexed = func.sum(((photos.c.status == "ok") & _has_vector(model)).cast(Integer))
        failed = func.sum((photos.c.status == "failed").cast(Integer))
        q = select(photos.c.folder_id, func.count(), indexed, failed).group_by(photos.c.folder_id)
        with self.read() as conn:
            return {fid: (n, int(i or 0), int(f or 0)) for fid, n, i, f in conn.execute(q)}

    # -- models and vectors ---------------------------------------------------------------------
    def ensure_model(self, key: str, dim: int) -> None:
        with self.write() as conn:
            row = conn.execute(select(models.c.dim).where(models.c.key == key)).first()
            if row is None:
                conn.execute(models.insert().values(key=key, dim=dim, generation=0))

    def model_dim(self, key: str) -> int | None:
        with self.read() as conn:
            return conn.scalar(select(models.c.dim).where(models.c.key == key))

    def generation(self, key: str) -> int:
        with self.read() as conn:
            return conn.scalar(select(models.c.generation).where(models.c.key == key)) or 0

    def model_keys(self) -> list[str]:
        with self.read() as conn:
            return list(conn.scalars(select(models.c.key).order_by(models.c.key)))

    def hashes_with_vectors(
        self, model: str, hashes: Iterable[str], stale: Collection[str | None] = ()
    ) -> set[str]:
        """Those of `hashes` that have a vector for `model` to reuse: one not made at a `stale` precision."""
        found: set[str] = set()
        with self.read() as conn:
            for chunk in _chunks(list(set(hashes)), 500):
                q = select(vectors.c.hash, vectors.c.precision).where(
                    vectors.c.model == model, vectors.c.hash.in_(chunk)
                )
                found.update(h for h, precision in conn.execute(q) if precision not in stale)
        return found

    def vector_precisions(self, model: str) -> dict[str | None, int]:
        """How many online photos have a vector for `model` made at each precision (None: not recorded)."""
        q = (
            select(vectors.c.precision, func.count())
            .select_from(photos)
            .join(vectors, and_(vectors.c.hash == photos.c.hash, vectors.c.model == model))
            .where(photos.c.status == "ok")
            .group_by(vectors.c.precision)
        )
        with self.read() as conn:
            return {precision: n for precision, n in conn.execute(q)}

    def indexable(self, model: str, dim: int, chunk: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of every online photo with a vector for `model`, in chunks: what FAISS holds."""
        q = (
            select(photos.c.id, vectors.c.vector)
            .join(vectors, and_(vectors.c.hash == photos.c.hash, vectors.c.model == model))
            .where(photos.c.status == "ok")
            .order_by(photos.c.id)
        )
        with self.read() as conn:
            result = conn.execution_options(stream_results=True, yield_per=chunk).execute(q)
            for part in result.partitions(chunk):
                ids = np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part))
                yield ids, decode_vectors([r[1] for r in part], dim)

    def count_indexable(self, model: str) -> int:
        with self.read() as conn:
            q = select(func.count()).select_from(photos).where(photos.c.status == "ok", _has_vector(model))
            return conn.scalar(q) or 0

    def vectors_for_photos(self, model: str, dim: int, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) for those of `ids` that are online and have a vector for `model`."""
        got_ids: list[int] = []
        blobs: list[bytes] = []
        with self.read() as conn:
            for chunk in _chunks(list(ids), 500):
                q = (
                    select(photos.c.id, vectors.c.vector)
                    .join(vectors, and_(vectors.c.hash == photos.c.hash, vectors.c.model == model))
                    .where(photos.c.id.in_(chunk), photos.c.status == "ok")
                )
                for pid, blob in conn.execute(q):
                    got_ids.append(pid)
                    blobs.append(blob)
        vecs = decode_vectors(blobs, dim) if blobs else np.zeros((0, dim), np.float32)
        return np.asarray(got_ids, dtype=np.int64), vecs

    def ids_with_hashes(self, hashes: Iterable[str]) -> list[int]:
        """Online photos whose content is one of `hashes` (identical copies share a vector)."""
        out: list[int] = []
        with self.read() as conn:
            for chunk in _chunks(list(set(hashes)), 500):
                q = select(photos.c.id).where(photos.c.hash.in_(chunk), photos.c.status == "ok")
                out.extend(conn.scalars(q))
        return out

    def delete_orphan_vectors(self) -> int:
        """Drop vectors no photo refers to any more (run after a scan, once moves have been matched)."""
        with self.write() as conn:
            referenced = select(photos.c.hash).where(photos.c.hash.is_not(None))
            res = conn.execute(vectors.delete().where(vectors.c.hash.not_in(referenced)))
        return res.rowcount or 0

    # -- precision checks (core.store.precision_checks) -----------------------------------------
    def precision_verdict(self, fingerprint: str) -> str | None:
        with self.read() as conn:
            return checks.verdict(conn, fingerprint)

    def save_precision_verdict(self, fingerprint: str, model: str, verdict_json: str, checked_at: float) -> None:
        with self.write() as conn:
            checks.save_verdict(conn, fingerprint, model, verdict_json, checked_at)

    def precision_verdicts(self, model: str) -> list[str]:
        """The JSON verdicts saved for `model`, newest first."""
        with self.read() as conn:
            return checks.verdicts(conn, model)

    def get_meta(self, key: str) -> str | None:
        with self.read() as conn:
            return conn.scalar(select(meta.c.value).where(meta.c.key == key))

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute(
                text("INSERT INTO meta(key, value) VALUES (:k, :v) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
                {"k": key, "v": value},
            )


def _configure_connection(dbapi_conn: object, _record: object) -> None:
    # SQLAlchemy's recipe for real transactions with pysqlite: its implicit BEGIN off, `_begin` on.
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    # WAL: readers never block the writer. synchronous=NORMAL is crash-safe in WAL mode (a killed
    # process loses nothing committed; only power loss can drop the last commits, never corrupt).
    _switch_to_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _switch_to_wal(cur: sqlite3.Cursor) -> None:
    # WAL is stored in the file: the first connection to a new library switches it, later ones find it
    # done. The switch needs an exclusive lock SQLite does not wait for (it skips the busy handler there),
    # so processes opening one new library at the same moment retry until the first switch is through.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN, 'DEFERRED')}")


def _storage_message(exc: OperationalError, path: Path) -> str:
    msg = str(exc.orig) if exc.orig else str(exc)
    # SQLite reports a full disk as "disk I/O error" when it cannot grow its -shm/-wal files (seen on a
    # full tmpfs in tests/reliability), so ask the filesystem too.
    if "full" in msg or ("disk I/O error" in msg and _disk_nearly_full(path.parent)):
        return f"the disk holding the library ({path.parent}) is full: free some space and run again"
    if "readonly" in msg or "read-only" in msg:
        return f"the library folder {path.parent} is read-only: Lookalike cannot save its index there"
    return f"could not write the library database {path}: {msg}"


def _disk_nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < (1 << 20)
    except OSError:
        return False
