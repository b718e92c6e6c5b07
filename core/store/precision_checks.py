"""Precision check verdicts as stored: one row per fingerprint, the verdict kept as the JSON it came in.

The check itself (what it measures, what the fingerprint holds) lives above the store; here a
fingerprint and a verdict are opaque strings. Each function runs on the caller's connection: reads on
`Store.read()`, the save inside a `Store.write()` transaction.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from core.store.schema import precision_checks


def verdict(conn: Connection, fingerprint: str) -> str | None:
    """The verdict saved for `fingerprint`, or None when that check has not run here."""
    return conn.scalar(select(precision_checks.c.verdict).where(precision_checks.c.fingerprint == fingerprint))


def save_verdict(conn: Connection, fingerprint: str, model: str, verdict_json: str, checked_at: float) -> None:
    """Save a check's verdict; a check run again for the same fingerprint replaces the old verdict."""
    conn.execute(
        text(
            "INSERT INTO precision_checks(fingerprint, model, verdict, checked_at) VALUES (:f, :m, :v, :t) "
            "ON CONFLICT(fingerprint) DO UPDATE SET model = excluded.model, verdict = excluded.verdict, "
            "checked_at = excluded.checked_at"
        ),
        {"f": fingerprint, "m": model, "v": verdict_json, "t": checked_at},
    )


def verdicts(conn: Connection, model: str) -> list[str]:
    """Every verdict saved for `model` (one per machine set-up it was checked on), newest first."""
    q = (
        select(precision_checks.c.verdict)
        .where(precision_checks.c.model == model)
        .order_by(precision_checks.c.checked_at.desc(), precision_checks.c.fingerprint)
    )
    return list(conn.scalars(q))
