"""`ScanPlan`: the rows a scan wants written, and `apply_plan`, which writes a whole plan at once.

The scanner (core.indexing.scanner) only walks, stats and hashes, and says what it found as a plan; the
SQL is here. `Store.apply_plan` runs `apply_plan` in one write transaction, so a scan lands whole or not
at all, and answers with the counts, one `LibraryChanges` record and the photos FAISS must drop or may
add. Statuses are read inside that transaction (is this photo offline?), not trusted from the walk.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from core.store.changes import LibraryChanges
from core.store.facts import save as save_facts
from core.store.schema import folders, photos
from core.store.writes import bump_all_generations, chunks, update_photos


@dataclass(frozen=True)
class NewPhoto:
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None  # known when the file was hashed to look for a move
    error: str | None = None  # why it cannot be read: stored with status 'failed'


@dataclass(frozen=True)
class EditedPhoto:
    """Same path, new size or mtime: its content (hash, pixel size, date) is forgotten until read again."""

    photo_id: int
    path: str
    folder_id: int
    size: int
    mtime_ns: int
    error: str | None = None


@dataclass(frozen=True)
class MovedPhoto:
    """The same photo at a new path: it keeps its id, its hash and so its vector."""

    photo_id: int
    path: str
    folder_id: int
    size: int
    mtime_ns: int
    read_again: bool = False  # clear a failure: found by content, the file may read differently now


@dataclass(frozen=True)
class Reattached:
    """An unchanged file whose row takes `folder_id` (a nested library folder was added) and, when it
    was offline, comes back online."""

    photo_id: int
    folder_id: int


@dataclass
class ScanPlan:
    insert: list[NewPhoto] = field(default_factory=list)
    update: list[EditedPhoto] = field(default_factory=list)
    move: list[MovedPhoto] = field(default_factory=list)
    reattach: list[Reattached] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)  # photo ids whose files are gone
    offline_folders: list[int] = field(default_factory=list)  # unreachable: photos kept, marked offline
    online_folders: list[int] = field(default_factory=list)  # reachable (again)
    # Header facts read during the scan (core.indexing.scan_facts), by path, as core.store.facts stores them
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    facts_version: int = 0

    @property
    def empty(self) -> bool:
        return not (self.insert or self.update or self.move or self.reattach or self.delete
                    or self.offline_folders or self.online_folders)


@dataclass(frozen=True)
class AppliedPlan:
    added: int = 0
    changed: int = 0  # edited in place: to be embedded again
    moved: int = 0  # vector kept
    removed: int = 0
    offline: int = 0  # photos of unreachable folders
    back_online: int = 0
    changes: LibraryChanges = field(default_factory=LibraryChanges)
    index_remove: tuple[int, ...] = ()  # FAISS drops these: gone, offline, or edited (until re-embedded)
    index_add: tuple[int, ...] = ()  # searchable right away if their content has a vector: new, back online


def apply_plan(conn: Connection, plan: ScanPlan) -> AppliedPlan:
    """Write `plan` inside the caller's write transaction."""
    flipped = _set_online(conn, plan.online_folders, True) | _set_online(conn, plan.offline_folders, False)
    offline = _mark_offline(conn, plan.offline_folders)
    removed = _delete(conn, plan.delete)
    taken, moved_back = _move(conn, plan.move)
    back = _reattach(conn, plan.reattach)
    edited = _edit(conn, plan.update)
    added = _insert(conn, plan.insert)
    _save_facts(conn, plan.facts, plan.facts_version)
    removed += taken
    index_remove, index_add = offline + edited + removed, back + moved_back + added
    if index_remove or index_add:
        bump_all_generations(conn)  # which photos a model's index holds changed: its saved file is stale
    fresh = set(added) | set(removed)  # views re-read these whole
    changes = LibraryChanges(
        added=tuple(sorted(added)),
        removed=tuple(sorted(removed)),
        moved=tuple(sorted(m.photo_id for m in plan.move)),
        updated=tuple(sorted(set(offline + back + moved_back + edited) - fresh)),
        folders=bool(flipped or offline or back or added or removed),
    )
    return AppliedPlan(
        added=len(added), changed=len(edited), moved=len(plan.move), removed=len(removed),
        offline=len(offline), back_online=len(back), changes=changes,
        index_remove=tuple(index_remove), index_add=tuple(index_add),
    )


def _set_online(conn: Connection, folder_ids: Sequence[int], online: bool) -> bool:
    flipped = 0
    for chunk in chunks(folder_ids):
        q = folders.update().where(folders.c.id.in_(chunk), folders.c.online != int(online))
        flipped += conn.execute(q.values(online=int(online))).rowcount or 0
    return flipped > 0


def _mark_offline(conn: Connection, folder_ids: Sequence[int]) -> list[int]:
    ids: list[int] = []
    for chunk in chunks(folder_ids):
        q = select(photos.c.id).where(photos.c.folder_id.in_(chunk), photos.c.status != "offline")
        ids.extend(conn.scalars(q))
    for chunk in chunks(ids):
        conn.execute(photos.update().where(photos.c.id.in_(chunk)).values(status="offline"))
    return ids


def _delete(conn: Connection, ids: Sequence[int]) -> list[int]:
    for chunk in chunks(ids):
        conn.execute(photos.delete().where(photos.c.id.in_(chunk)))
    return list(ids)


def _move(conn: Connection, moves: Sequence[MovedPhoto]) -> tuple[list[int], list[int]]:
    """Returns (ids of stale rows deleted, ids of moved photos that were offline)."""
    if not moves:
        return [], []
    moving = {m.photo_id for m in moves}
    # A row still holding a destination path is stale: the file there was replaced by the one moved in.
    taken = [
        pid for chunk in chunks([m.path for m in moves])
        for pid in conn.scalars(select(photos.c.id).where(photos.c.path.in_(chunk)))
        if pid not in moving
    ]
    _delete(conn, taken)
    was = _states(conn, moving)
    # Two steps, so that a chain of renames in one plan (a->b, b->c) never collides on the unique path
    # column half-way through ("//" never starts a stored, absolute path).
    update_photos(conn, [{"b_id": m.photo_id, "path": f"//moving/{m.photo_id}"} for m in moves])
    rows = []
    for m in moves:
        status, error = was[m.photo_id]
        rows.append({
            "b_id": m.photo_id, "path": m.path, "folder_id": m.folder_id, "size": m.size, "mtime_ns": m.mtime_ns,
            "status": "ok" if m.read_again or status == "offline" else status,
            "error": None if m.read_again else error,
        })
    update_photos(conn, rows)
    return taken, [m.photo_id for m in moves if was[m.photo_id][0] == "offline"]


def _reattach(conn: Connection, items: Sequence[Reattached]) -> list[int]:
    """Returns the ids that came back online."""
    was = _states(conn, [r.photo_id for r in items])
    update_photos(conn, [
        {"b_id": r.photo_id, "folder_id": r.folder_id,
         "status": "ok" if was[r.photo_id][0] == "offline" else was[r.photo_id][0]}
        for r in items
    ])
    return [r.photo_id for r in items if was[r.photo_id][0] == "offline"]


def _edit(conn: Connection, edits: Sequence[EditedPhoto]) -> list[int]:
    update_photos(conn, [
        {"b_id": e.photo_id, "path": e.path, "folder_id": e.folder_id, "size": e.size, "mtime_ns": e.mtime_ns,
         # The date stays until the facts are read again (before embedding): the grid keeps its order.
         "hash": None, "width": None, "height": None, "facts_version": None,
         "status": "failed" if e.error else "ok", "error": e.error}
        for e in edits
    ])
    return [e.photo_id for e in edits]


def _insert(conn: Connection, new: Sequence[NewPhoto]) -> list[int]:
    if not new:
        return []
    conn.execute(photos.insert(), [
        {"folder_id": n.folder_id, "path": n.path, "size": n.size, "mtime_ns": n.mtime_ns, "hash": n.hash,
         "status": "failed" if n.error else "ok", "error": n.error}
        for n in new
    ])
    ids: list[int] = []
    for chunk in chunks([n.path for n in new]):
        ids.extend(conn.scalars(select(photos.c.id).where(photos.c.path.in_(chunk))))
    return ids


def _save_facts(conn: Connection, found: dict[str, dict[str, Any]], version: int) -> None:
    """The facts read during the scan, in the same transaction as the rows (no listing without them)."""
    rows = []
    for chunk in chunks(list(found)):
        q = select(photos.c.id, photos.c.path).where(photos.c.path.in_(chunk))
        rows += [{"b_id": pid, **found[path]} for pid, path in conn.execute(q)]
    save_facts(conn, rows, version)


def _states(conn: Connection, ids: Collection[int]) -> dict[int, tuple[str, str | None]]:
    """photo id -> (status, error), as this transaction sees them."""
    out: dict[int, tuple[str, str | None]] = {}
    for chunk in chunks(list(ids)):
        q = select(photos.c.id, photos.c.status, photos.c.error).where(photos.c.id.in_(chunk))
        out.update((pid, (status, error)) for pid, status, error in conn.execute(q))
    return out
