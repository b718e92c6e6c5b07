"""Bulk write statements shared by the store and the indexing pipeline; each runs in the caller's
`Store.write()` transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from core.store.schema import models, photos

CHUNK = 500  # ids per IN (...): well under SQLite's limit of bound parameters


def bump_all_generations(conn: Connection) -> None:
    conn.execute(models.update().values(generation=models.c.generation + 1))


def bump_generation(conn: Connection, model: str) -> None:
    conn.execute(models.update().where(models.c.key == model).values(generation=models.c.generation + 1))


def insert_vectors(
    conn: Connection, model: str, items: Sequence[tuple[str, bytes]], precision: str | None
) -> None:
    """Store (hash, vector) pairs made by `model` at `precision` (None: not known). A vector already
    stored for a hash is replaced in its row: re-embedding at a better precision swaps it in place, so
    searches never see the photo without a vector."""
    if items:
        conn.execute(
            text(
                "INSERT INTO vectors(hash, model, vector, precision) VALUES (:h, :m, :v, :p) "
                "ON CONFLICT(hash, model) DO UPDATE SET vector = excluded.vector, precision = excluded.precision"
            ),
            [{"h": h, "m": model, "v": v, "p": precision} for h, v in items],
        )


def update_photos(conn: Connection, rows: Sequence[dict]) -> None:
    """Bulk update of photo rows; each dict holds `b_id` plus the columns to set (same keys in all)."""
    if rows:
        cols: dict[str, Any] = {k: bindparam(k) for k in rows[0] if k != "b_id"}
        conn.execute(photos.update().where(photos.c.id == bindparam("b_id")).values(**cols), list(rows))


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
