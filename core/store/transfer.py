"""Vectors moving between libraries as stored: the rows `export-vectors` reads, what an import looks up,
and the one transaction that attaches imported vectors (core.library.vector_import decides what).

Each function runs on the caller's connection: reads on `Store.read()`, `attach` inside `Store.write()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, select, text
from sqlalchemy.engine import Connection

from core.store.schema import photos, vectors
from core.store.writes import bump_generation, chunks


@dataclass(frozen=True)
class LocalPhoto:
    """What an import compares a row with: the library's photo at the row's (mapped) path."""

    id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None


def export_rows(conn: Connection, model: str, chunk: int = 5_000) -> Iterator[dict]:
    """Every readable photo with a vector for `model`: path, size, mtime_ns, hash, vector, precision;
    grouped by precision (None: not recorded), then in id order."""
    q = (
        select(photos.c.path, photos.c.size, photos.c.mtime_ns, photos.c.hash, vectors.c.vector,
               vectors.c.precision)
        .join(vectors, and_(vectors.c.hash == photos.c.hash, vectors.c.model == model))
        .where(photos.c.status == "ok")
        .order_by(vectors.c.precision.nulls_first(), photos.c.id)
    )
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(q)
    for row in result:
        yield {**row._mapping, "vector": bytes(row.vector)}


def photos_at_paths(conn: Connection, paths: Iterable[str]) -> dict[str, LocalPhoto]:
    """The readable photos at these paths (offline and failed ones are not matched)."""
    out: dict[str, LocalPhoto] = {}
    for part in chunks(sorted(set(paths))):
        q = select(photos.c.id, photos.c.path, photos.c.size, photos.c.mtime_ns, photos.c.hash).where(
            photos.c.path.in_(part), photos.c.status == "ok"
        )
        out.update((r.path, LocalPhoto(r.id, r.path, r.size, r.mtime_ns, r.hash)) for r in conn.execute(q))
    return out


def paths_of_hashes(conn: Connection, hashes: Iterable[str]) -> dict[str, str]:
    """hash -> the path of one readable photo holding that content, for those of `hashes` the library knows."""
    out: dict[str, str] = {}
    for part in chunks(sorted(set(hashes))):
        q = select(photos.c.hash, photos.c.path).where(photos.c.hash.in_(part), photos.c.status == "ok")
        for h, path in conn.execute(q):
            out.setdefault(h, path)
    return out


def hashes_with_vectors(conn: Connection, model: str, hashes: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(set(hashes))):
        q = select(vectors.c.hash).where(vectors.c.model == model, vectors.c.hash.in_(part))
        found.update(conn.scalars(q))
    return found


def attach(
    conn: Connection, model: str, dim: int, precision: str,
    hashes: Sequence[tuple[int, str, int, int]], items: Sequence[tuple[str, bytes]],
) -> tuple[list[tuple[int, str]], list[str]]:
    """Record (photo id, hash, size, mtime_ns) on photos that have no hash yet and are still that file,
    then store (hash, vector) where none is stored for (hash, model): nothing already there is replaced.
    Returns ((photo id, hash) newly recorded, hashes whose vector was stored); bumps the model's
    generation when anything changed."""
    conn.execute(text("INSERT OR IGNORE INTO models(key, dim, generation) VALUES (:k, :d, 0)"),
                 {"k": model, "d": dim})
    recorded = []
    for photo_id, h, size, mtime_ns in hashes:
        done = conn.execute(
            photos.update()
            .where(photos.c.id == photo_id, photos.c.hash.is_(None), photos.c.size == size,
                   photos.c.mtime_ns == mtime_ns)
            .values(hash=h)
        )
        if done.rowcount:
            recorded.append((photo_id, h))
    wanted = dict(items)
    present = hashes_with_vectors(conn, model, wanted)
    new = [h for h in wanted if h not in present]
    if new:
        conn.execute(
            text("INSERT INTO vectors(hash, model, vector, precision) VALUES (:h, :m, :v, :p)"),
            [{"h": h, "m": model, "v": wanted[h], "p": precision} for h in new],
        )
    if recorded or new:
        bump_generation(conn, model)
    return recorded, new
