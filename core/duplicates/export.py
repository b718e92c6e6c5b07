"""Duplicate groups written out: the JSON `lookalike duplicates --json` prints, and CSV/JSON files.

JSON: {"groups": [{"tier", "keep", "members": [{"path", "score", "bytes", ...}], "reclaimable_bytes"}]},
members including the keeper (first). CSV: one row per member, the group's number and whether it is kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.duplicates.records import DuplicateGroup, DuplicateMember
from core.errors import LibraryError

CSV_COLUMNS = ("group", "tier", "keep", "path", "score", "bytes", "width", "height", "taken_at", "companions")


def groups_json(groups: Sequence[DuplicateGroup]) -> dict[str, Any]:
    return {"groups": [
        {"tier": g.tier, "keep": g.keeper.path, "members": [_member(m) for m in g.members],
         "reclaimable_bytes": g.reclaimable_bytes}
        for g in groups
    ]}


def _member(m: DuplicateMember) -> dict[str, Any]:
    return {"path": m.path, "score": round(m.score, 6), "bytes": m.bytes, "width": m.width, "height": m.height,
            "taken_at": m.taken_at, "companions": [path for path, _, _ in m.companions]}


def groups_csv(groups: Sequence[DuplicateGroup]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for number, g in enumerate(groups, 1):
        for m in g.members:
            writer.writerow([number, g.tier, "yes" if m is g.keeper else "no", m.path, f"{m.score:.6f}", m.bytes,
                             m.width or "", m.height or "", m.taken_at or "", ";".join(p for p, _, _ in m.companions)])
    return out.getvalue()


def write_export(groups: Sequence[DuplicateGroup], path: str | Path) -> None:
    """Write the groups to `path`, CSV or JSON by its suffix (atomically: never half a file)."""
    from core.files.atomic import write_bytes_atomically

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise LibraryError(f"export to a .csv or .json file, not {target.name!r}")
    text = groups_csv(groups) if suffix == ".csv" else json.dumps(groups_json(groups), indent=2) + "\n"
    try:
        write_bytes_atomically(target, text.encode("utf-8"))
    except OSError as exc:
        raise LibraryError(f"cannot write {target}: {exc.strerror or exc}") from exc
