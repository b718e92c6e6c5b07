"""Duplicate finding as stored: pixel prints by content hash, and the user's decisions about pairs.

What a print is and how groups are made live above the store (core.imaging.pixel_print,
core.duplicates); here they are bytes and strings. Each function runs on the caller's connection:
reads on `Store.read()`, writes inside a `Store.write()` transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, select, text
from sqlalchemy.engine import Connection

from core.store.schema import duplicate_decisions, photos, pixel_prints
from core.store.writes import chunks

DECISIONS = ("distinct", "kept")  # not duplicates | a reviewed group whose members all stay


def save_prints(conn: Connection, items: Sequence[tuple[str, bytes]], version: int) -> None:
    """Store (hash, print) pairs; a print already stored for a hash is replaced."""
    if items:
        conn.execute(
            text(
                "INSERT INTO pixel_prints(hash, print, version) VALUES (:h, :p, :v) "
                "ON CONFLICT(hash) DO UPDATE SET print = excluded.print, version = excluded.version"
            ),
            [{"h": h, "p": p, "v": version} for h, p in items],
        )


def prints(conn: Connection, hashes: Iterable[str], version: int) -> dict[str, bytes]:
    """The prints of `hashes` made by recipe `version` (others are missing, as if never made)."""
    out: dict[str, bytes] = {}
    for part in chunks(list(set(hashes))):
        q = select(pixel_prints.c.hash, pixel_prints.c.print).where(
            pixel_prints.c.hash.in_(part), pixel_prints.c.version == version
        )
        out.update((h, bytes(p)) for h, p in conn.execute(q))
    return out


def lacks_print(version: int):  # type: ignore[no-untyped-def]
    """A photo-row condition: its content has no print of `version` yet (the pipeline makes one)."""
    match = and_(pixel_prints.c.hash == photos.c.hash, pixel_prints.c.version == version)
    return ~select(pixel_prints.c.hash).where(match).exists()


def ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def save_decisions(conn: Connection, pairs: Iterable[tuple[str, str]], decision: str) -> int:
    """Record `decision` for each pair of content hashes (a later decision replaces an earlier one).
    A pair (h, h) is about the identical copies of one content (kept on purpose, e.g. a backup)."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown duplicate decision {decision!r}")
    rows = [{"a": a, "b": b, "d": decision, "t": time.time()} for a, b in {ordered(x, y) for x, y in pairs}]
    if rows:
        conn.execute(
            text(
                "INSERT INTO duplicate_decisions(hash_a, hash_b, decision, decided_at) VALUES (:a, :b, :d, :t) "
                "ON CONFLICT(hash_a, hash_b) DO UPDATE SET decision = excluded.decision, "
                "decided_at = excluded.decided_at"
            ),
            rows,
        )
    return len(rows)


def decided_pairs(conn: Connection) -> set[tuple[str, str]]:
    """Every pair the user decided about, as (hash_a, hash_b) with hash_a < hash_b."""
    q = select(duplicate_decisions.c.hash_a, duplicate_decisions.c.hash_b)
    return {(a, b) for a, b in conn.execute(q)}


def shared_content_ids(conn: Connection) -> list[int]:
    """Readable photos whose content (hash) another readable photo has too: exact copies."""
    shared = (
        select(photos.c.hash)
        .where(photos.c.status == "ok", photos.c.hash.is_not(None))
        .group_by(photos.c.hash)
        .having(func.count() > 1)
    )
    return list(conn.scalars(select(photos.c.id).where(photos.c.status == "ok", photos.c.hash.in_(shared))))
