"""Photo facts as stored (core.imaging.photo_facts reads them): which photos still need them, and saving
them. Each function runs on the caller's connection, inside `Store.read()` or `Store.write()`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection

from core.store.schema import photos

FACT_COLUMNS = ("taken_at", "taken_offset_min", "taken_from", "camera_make", "camera_model", "width", "height",
                "orientation", "format", "has_gps")


def lacking(conn: Connection, version: int, limit: int) -> list[tuple[int, str]]:
    """(id, path) of up to `limit` readable photos whose facts were never read, or by an older version."""
    q = (
        select(photos.c.id, photos.c.path)
        .where(photos.c.status == "ok", or_(photos.c.facts_version.is_(None), photos.c.facts_version < version))
        .order_by(photos.c.id)
        .limit(limit)
    )
    return [(pid, path) for pid, path in conn.execute(q)]


def count_lacking(conn: Connection, version: int) -> int:
    from sqlalchemy import func

    q = select(func.count()).select_from(photos).where(
        photos.c.status == "ok", or_(photos.c.facts_version.is_(None), photos.c.facts_version < version)
    )
    return int(conn.scalar(q) or 0)


def save(conn: Connection, rows: Sequence[dict[str, Any]], version: int) -> None:
    """Store facts: each row holds `b_id` and FACT_COLUMNS. A size the header did not give (a RAW's) keeps
    the one the decode stored."""
    if not rows:
        return
    values: dict[str, Any] = {c: bindparam(c) for c in FACT_COLUMNS if c not in ("width", "height")}
    values["width"] = _keep_if_null("width")
    values["height"] = _keep_if_null("height")
    conn.execute(
        photos.update().where(photos.c.id == bindparam("b_id")).values(**values, facts_version=version),
        [dict(r) for r in rows],
    )


def _keep_if_null(column: str) -> Any:
    from sqlalchemy import func

    return func.coalesce(bindparam(column), photos.c[column])


def date_from_decode(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """The capture time the decode found (`b_id`, `taken_at`), kept only where the header gave none: a
    RAW container Pillow cannot read (CR3...) has its date inside, which only LibRaw reads."""
    if rows:
        conn.execute(
            photos.update()
            .where(photos.c.id == bindparam("b_id"), or_(photos.c.taken_from.is_(None), photos.c.taken_from == "file"))
            .values(taken_at=bindparam("t"), taken_from="exif"),
            [{"b_id": r["b_id"], "t": r["taken_at"]} for r in rows],
        )
