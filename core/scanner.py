"""Mark-and-sweep scan: bring the photo table in line with the folders on disk.

Unchanged files (same size and mtime_ns) cost one stat. A file that disappeared while a new one of the
same size appeared is hashed: equal content means a move or rename, and the photo keeps its row, its id
and so its vector (zero re-embeddings). A library folder whose root is gone (an unmounted drive) marks its
photos offline instead of deleting them.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.progress import TaskHandle
from core.schema import folders as folders_table
from core.schema import photos as photos_table
from core.store import Folder, Photo, Store, bump_all_generations, update_photos
from core.walker import FileStat, walk_photos

HASH_CHUNK = 1 << 20


@dataclass
class ScanReport:
    scanned: int = 0  # photo files found on disk
    added: int = 0
    changed: int = 0  # edited in place: will be re-embedded
    moved: int = 0  # renamed or moved: vector kept
    removed: int = 0
    offline: int = 0  # photos of unreachable folders
    back_online: int = 0
    index_remove: list[int] = field(default_factory=list)  # photo ids FAISS must drop
    index_add: list[int] = field(default_factory=list)  # photo ids that may be indexable right away
    added_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)  # moved, edited, offline or back online


def file_hash(path: str) -> str:
    """Content hash: blake2b-128 of the whole file (a partial hash would miss in-place pixel edits)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def scan(store: Store, handle: TaskHandle | None = None, exclude: Sequence[str] = ()) -> ScanReport:
    handle = handle or TaskHandle()
    report = ScanReport()
    all_folders = store.folders()
    roots = {f.path for f in all_folders}
    reachable = [f for f in all_folders if os.path.isdir(f.path)]
    unreachable = [f for f in all_folders if not os.path.isdir(f.path)]

    handle.start("scanning", len(reachable))
    on_disk: dict[str, tuple[FileStat, int]] = {}
    for folder in reachable:
        handle.checkpoint()
        nested = frozenset(r for r in roots if r != folder.path and r.startswith(folder.path + os.sep))
        for fs in walk_photos(folder.path, nested, exclude):
            on_disk[fs.path] = (fs, folder.id)
        handle.advance()
    report.scanned = len(on_disk)

    in_db: dict[str, Photo] = {}
    for folder in reachable:
        for p in store.photos_in_folder(folder.id):
            in_db[p.path] = p
    plan = _plan(on_disk, in_db, report, handle)
    _apply(store, plan, reachable, unreachable, report)
    return report


@dataclass
class _Plan:
    new: list[tuple[FileStat, int, str | None]] = field(default_factory=list)  # (file, folder, hash)
    changed: list[tuple[Photo, FileStat, int]] = field(default_factory=list)
    moved: list[tuple[Photo, FileStat, int]] = field(default_factory=list)
    missing: list[Photo] = field(default_factory=list)
    revived: list[tuple[Photo, int]] = field(default_factory=list)  # unchanged, but offline or re-foldered


def _plan(
    on_disk: dict[str, tuple[FileStat, int]], in_db: dict[str, Photo], report: ScanReport,
    handle: TaskHandle,
) -> _Plan:
    plan = _Plan()
    new_files: list[tuple[FileStat, int]] = []
    for path, (fs, folder_id) in on_disk.items():
        photo = in_db.get(path)
        if photo is None:
            new_files.append((fs, folder_id))
        elif (photo.size, photo.mtime_ns) != (fs.size, fs.mtime_ns):
            plan.changed.append((photo, fs, folder_id))
        elif photo.folder_id != folder_id or photo.status == "offline":
            plan.revived.append((photo, folder_id))  # a nested library folder was added, or came back
    missing = [p for path, p in in_db.items() if path not in on_disk]

    # Move detection: only a new file whose size matches a vanished photo can be that photo.
    by_size: dict[int, list[Photo]] = defaultdict(list)
    for p in missing:
        if p.hash:
            by_size[p.size].append(p)
    candidates = [(fs, fid) for fs, fid in new_files if fs.size in by_size and fs.problem is None]
    handle.start("matching moved photos", len(candidates))
    matched: set[int] = set()
    hashes: dict[str, str | None] = {}
    for fs, folder_id in candidates:
        handle.checkpoint()
        digest = _try_hash(fs.path)
        hashes[fs.path] = digest
        twin = next((p for p in by_size[fs.size] if p.hash == digest and p.id not in matched), None)
        if twin is not None:
            matched.add(twin.id)
            plan.moved.append((twin, fs, folder_id))
        handle.advance()
    moved_paths = {fs.path for _, fs, _ in plan.moved}
    plan.new = [(fs, fid, hashes.get(fs.path)) for fs, fid in new_files if fs.path not in moved_paths]
    plan.missing = [p for p in missing if p.id not in matched]
    return plan


def _try_hash(path: str) -> str | None:
    try:
        return file_hash(path)
    except OSError:
        return None


def _apply(
    store: Store, plan: _Plan, reachable: list[Folder], unreachable: list[Folder], report: ScanReport
) -> None:
    with store.write() as conn:
        membership_changed = False
        for folder in unreachable:
            ids = [p.id for p in store.photos_in_folder(folder.id) if p.status != "offline"]
            conn.execute(folders_table.update().where(folders_table.c.id == folder.id).values(online=0))
            if ids:
                conn.execute(photos_table.update().where(photos_table.c.id.in_(ids)).values(status="offline"))
                report.offline += len(ids)
                report.index_remove.extend(ids)
                membership_changed = True
        for folder in reachable:
            if not folder.online:
                conn.execute(folders_table.update().where(folders_table.c.id == folder.id).values(online=1))

        if plan.revived:
            update_photos(conn, [
                {"b_id": p.id, "folder_id": fid, "status": p.status if p.status != "offline" else "ok"}
                for p, fid in plan.revived
            ])
            back = [p.id for p, _ in plan.revived if p.status == "offline"]
            report.back_online = len(back)
            report.index_add.extend(back)
            membership_changed |= bool(back)
        if plan.moved:
            update_photos(conn, [
                {"b_id": p.id, "path": fs.path, "folder_id": fid, "size": fs.size, "mtime_ns": fs.mtime_ns,
                 "status": "ok", "error": None}
                for p, fs, fid in plan.moved
            ])
            report.moved = len(plan.moved)
            revived = [p.id for p, _, _ in plan.moved if p.status == "offline"]
            report.index_add.extend(revived)
            membership_changed |= bool(revived)
        if plan.changed:
            update_photos(conn, [
                {"b_id": p.id, "path": fs.path, "folder_id": fid, "size": fs.size, "mtime_ns": fs.mtime_ns,
                 "hash": None, "width": None, "height": None, "taken_at": None,
                 "status": "failed" if fs.problem else "ok", "error": fs.problem}
                for p, fs, fid in plan.changed
            ])
            report.changed = len(plan.changed)
            report.index_remove.extend(p.id for p, _, _ in plan.changed)
            membership_changed = True
        if plan.missing:
            ids = [p.id for p in plan.missing]
            for start in range(0, len(ids), 500):
                conn.execute(photos_table.delete().where(photos_table.c.id.in_(ids[start : start + 500])))
            report.removed = len(ids)
            report.index_remove.extend(ids)
            membership_changed = True
        if plan.new:
            rows = [
                {"folder_id": fid, "path": fs.path, "size": fs.size, "mtime_ns": fs.mtime_ns, "hash": digest,
                 "status": "failed" if fs.problem else "ok", "error": fs.problem}
                for fs, fid, digest in plan.new
            ]
            conn.execute(photos_table.insert(), rows)
            report.added = len(rows)
            paths = [r["path"] for r in rows]
            for start in range(0, len(paths), 500):
                q = photos_table.select().with_only_columns(photos_table.c.id)
                report.added_ids.extend(conn.scalars(q.where(photos_table.c.path.in_(paths[start : start + 500]))))
            # New files whose content the library already knows (copies, or moved in from elsewhere)
            # are indexable right away; the library adds those that have a vector for its model.
            report.index_add.extend(report.added_ids)
            membership_changed = True
        if membership_changed:
            bump_all_generations(conn)
    report.removed_ids = [p.id for p in plan.missing]
    report.updated_ids = sorted(
        {p.id for p, _, _ in plan.moved} | {p.id for p, _, _ in plan.changed} | set(report.index_add)
        | set(report.index_remove)
    - set(report.added_ids) - set(report.removed_ids)
    )
