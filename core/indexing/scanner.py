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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from core.indexing.walker import FileStat, is_excluded, is_hidden_below, stat_photo, walk_photos
from core.store.database import Folder, Photo, Store, bump_all_generations, update_photos
from core.store.schema import folders as folders_table
from core.store.schema import photos as photos_table
from core.tasks.progress import TaskHandle

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
    handle: TaskHandle, elsewhere: Sequence[Photo] = (),
) -> _Plan:
    """`elsewhere`: more photos whose files are gone, that a new file may be (a move seen in pieces);
    unlike `in_db`'s missing ones they are only matched, never deleted here."""
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
    for p in [*missing, *elsewhere]:
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


# -- targeted scans: what the watcher applies between full scans ------------------------------------


def scan_paths(store: Store, paths: Iterable[str], exclude: Sequence[str] = ()) -> ScanReport:
    """Bring the rows for `paths` only in line with the disk: files or folders, present or gone.

    The watcher's targeted scan: its cost follows the number of paths, not the size of the library.
    Paths outside the library, hidden or excluded ones, and those of an unreachable folder are left
    alone (a full scan marks an unplugged drive's photos offline; they are never deleted here). A new
    file whose content is a photo that vanished from elsewhere in the library is that photo, moved: it
    keeps its row and vector. That catches moves the OS reports in pieces (across two watched folders,
    a delete seen after the create), as long as the old row is still there.
    """
    report = ScanReport()
    folders = store.folders()
    online = {f.id for f in folders if os.path.isdir(f.path)}
    on_disk: dict[str, tuple[FileStat, int]] = {}
    in_db: dict[str, Photo] = {}
    for path in set(paths):
        folder = owning_folder(path, folders)
        if folder is None or folder.id not in online:
            continue
        if is_hidden_below(path, folder.path) or is_excluded(path, exclude):
            continue
        for fs in _files_at(path, exclude):
            owner = owning_folder(fs.path, folders)
            if owner is not None and owner.id in online:
                on_disk[fs.path] = (fs, owner.id)
        for p in photos_at(store, path):
            if p.folder_id in online:
                in_db[p.path] = p
    report.scanned = len(on_disk)
    new_sizes = {fs.size for path, (fs, _) in on_disk.items() if path not in in_db}
    elsewhere = [
        p for p in _photos_with_sizes(store, new_sizes)
        if p.path not in in_db and p.folder_id in online and p.status != "offline" and not os.path.lexists(p.path)
    ]
    plan = _plan(on_disk, in_db, report, TaskHandle(), elsewhere)
    _apply(store, plan, [], [], report)
    return report


def move_paths(store: Store, moves: Sequence[tuple[str, str]], exclude: Sequence[str] = ()) -> ScanReport:
    """Follow renames the OS reported, file or folder (src, dest): no hashing, no walking.

    A photo stored under `src` takes the matching path under `dest` when the file there has the size
    and mtime the row recorded (a rename keeps both) and nothing is left at its old path. Anything that
    does not check out is left alone, for `scan_paths` to settle by content hash.
    """
    report = ScanReport()
    folders = store.folders()
    online = {f.id for f in folders if os.path.isdir(f.path)}
    moving: dict[int, tuple[Photo, str, int]] = {}
    for src, dest in moves:
        for p in photos_at(store, src):
            new = dest + p.path[len(src):]
            owner = owning_folder(new, folders)
            if owner is None or owner.id not in online or os.path.lexists(p.path):
                continue
            if is_hidden_below(new, owner.path) or is_excluded(new, exclude):
                continue  # renamed out of sight: the walk would not see it, so it counts as deleted
            fs = stat_photo(new)
            if fs is not None and fs.problem is None and (fs.size, fs.mtime_ns) == (p.size, p.mtime_ns):
                moving[p.id] = (p, fs.path, owner.id)
    if moving:
        _apply_moves(store, list(moving.values()), report)
    return report


def _apply_moves(store: Store, moving: list[tuple[Photo, str, int]], report: ScanReport) -> None:
    new_paths = [new for _, new, _ in moving]
    with store.write() as conn:
        # A row still holding a destination path is stale: the rename replaced that file.
        taken = [
            pid for chunk in _chunks(new_paths, 500)
            for pid in conn.scalars(select(photos_table.c.id).where(photos_table.c.path.in_(chunk)))
            if pid not in {p.id for p, _, _ in moving}
        ]
        if taken:
            conn.execute(photos_table.delete().where(photos_table.c.id.in_(taken)))
        # Two steps, so that a chain of renames in one batch (a->b, b->c) never collides on the
        # unique path column half-way through ("//" never starts a stored, absolute path).
        update_photos(conn, [{"b_id": p.id, "path": f"//moving/{p.id}"} for p, _, _ in moving])
        update_photos(conn, [
            {"b_id": p.id, "path": new, "folder_id": fid, "status": "ok" if p.status == "offline" else p.status}
            for p, new, fid in moving
        ])
        revived = [p.id for p, _, _ in moving if p.status == "offline"]
        if taken or revived:
            bump_all_generations(conn)
    report.moved = len(moving)
    report.removed = len(taken)
    report.removed_ids = taken
    report.index_remove = list(taken)
    report.index_add = revived
    report.updated_ids = [p.id for p, _, _ in moving]


def owning_folder(path: str, folders: Sequence[Folder]) -> Folder | None:
    """The innermost library folder holding `path` (library folders may nest)."""
    best: Folder | None = None
    for f in folders:
        if (path == f.path or path.startswith(f.path + os.sep)) and (best is None or len(f.path) > len(best.path)):
            best = f
    return best


def photos_at(store: Store, path: str) -> list[Photo]:
    """The photo stored at `path`, and every photo below it when it is (or was) a folder."""
    col = photos_table.c.path
    # A range on the unique path index: every path starting with "path/" sorts in [path/, path0).
    below = and_(col >= path + os.sep, col < path + chr(ord(os.sep) + 1))
    with store.read() as conn:
        return [Photo(**r._mapping) for r in conn.execute(select(photos_table).where(or_(col == path, below)))]


def _files_at(path: str, exclude: Sequence[str]) -> Iterable[FileStat]:
    if os.path.isdir(path):
        return walk_photos(path, frozenset(), exclude)
    fs = stat_photo(path)
    return [fs] if fs is not None else []


def _photos_with_sizes(store: Store, sizes: set[int]) -> list[Photo]:
    out: list[Photo] = []
    with store.read() as conn:
        for chunk in _chunks(sorted(sizes), 500):
            q = select(photos_table).where(photos_table.c.size.in_(chunk), photos_table.c.hash.is_not(None))
            out.extend(Photo(**r._mapping) for r in conn.execute(q))
    return out


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
