"""Mark-and-sweep scan: work out how the photo table must change to match the folders on disk.

Unchanged files (same size and mtime_ns) cost one stat. A file that disappeared while a new one of the
same size appeared is hashed: equal content means a move or rename, and the photo keeps its row, its id
and so its vector (zero re-embeddings). A library folder whose root is gone (an unmounted drive) marks its
photos offline instead of deleting them.

This module only walks, stats and hashes; what it finds is a `ScanPlan`, which the store writes in one
transaction (core.store.scan_plan) and answers with the counts and one `LibraryChanges` record.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from core.indexing.scan_facts import read_plan_facts
from core.indexing.walker import (
    FileStat,
    LinkFreePaths,
    is_excluded,
    is_hidden_below,
    stat_photo,
    walk_photos,
)
from core.store.database import Folder, Photo, Store
from core.store.scan_plan import AppliedPlan, EditedPhoto, MovedPhoto, NewPhoto, Reattached, ScanPlan
from core.tasks.progress import TaskHandle


@dataclass(frozen=True)
class ScanReport(AppliedPlan):
    """What a scan did: the store's counts, change record and FAISS ids (AppliedPlan), and the walk's."""

    scanned: int = 0  # photo files found on disk

    @classmethod
    def of(cls, scanned: int, applied: AppliedPlan) -> ScanReport:
        return cls(scanned=scanned, **{f.name: getattr(applied, f.name) for f in fields(AppliedPlan)})


def file_hash(path: str) -> str:
    """Content hash: blake2b-128 of the whole file (a partial hash would miss in-place pixel edits)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def scan(store: Store, handle: TaskHandle | None = None, exclude: Sequence[str] = ()) -> ScanReport:
    handle = handle or TaskHandle()
    all_folders = store.folders()
    roots = {f.path for f in all_folders}
    reachable = [f for f in all_folders if os.path.isdir(f.path)]
    unreachable = [f for f in all_folders if not os.path.isdir(f.path)]

    handle.start("scanning", len(reachable))
    paths = LinkFreePaths(f.path for f in reachable)
    on_disk: dict[str, tuple[FileStat, int]] = {}
    for folder in reachable:
        handle.checkpoint()
        # Each library folder is walked on its own, also where another one (nested, or a link) reaches it.
        for fs in walk_photos(folder.path, frozenset(roots - {folder.path}), exclude, paths):
            # A link may lead into another library folder: the photo belongs to the folder holding it.
            owner = owning_folder(fs.path, reachable) or folder
            on_disk[fs.path] = (fs, owner.id)
        handle.advance()

    in_db: dict[str, Photo] = {}
    for folder in reachable:
        for p in store.photos_in_folder(folder.id):
            in_db[p.path] = p
    plan = _plan(on_disk, in_db, handle)
    read_plan_facts(plan)
    plan.offline_folders = [f.id for f in unreachable]
    plan.online_folders = [f.id for f in reachable if not f.online]
    return ScanReport.of(len(on_disk), store.apply_plan(plan))


def _plan(
    on_disk: dict[str, tuple[FileStat, int]], in_db: dict[str, Photo], handle: TaskHandle,
    elsewhere: Sequence[Photo] = (),
) -> ScanPlan:
    """`elsewhere`: more photos whose files are gone, that a new file may be (a move seen in pieces);
    unlike `in_db`'s missing ones they are only matched, never deleted here."""
    plan = ScanPlan()
    new_files: list[tuple[FileStat, int]] = []
    for path, (fs, folder_id) in on_disk.items():
        photo = in_db.get(path)
        if photo is None:
            new_files.append((fs, folder_id))
        elif (photo.size, photo.mtime_ns) != (fs.size, fs.mtime_ns):
            plan.update.append(EditedPhoto(photo.id, fs.path, folder_id, fs.size, fs.mtime_ns, fs.problem))
        elif photo.folder_id != folder_id or photo.status == "offline":
            plan.reattach.append(Reattached(photo.id, folder_id))  # a nested library folder was added, or came back
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
            plan.move.append(MovedPhoto(twin.id, fs.path, folder_id, fs.size, fs.mtime_ns, read_again=True))
        handle.advance()
    moved_paths = {m.path for m in plan.move}
    plan.insert = [
        NewPhoto(fid, fs.path, fs.size, fs.mtime_ns, hashes.get(fs.path), fs.problem)
        for fs, fid in new_files if fs.path not in moved_paths
    ]
    plan.delete = [p.id for p in missing if p.id not in matched]
    return plan


def _try_hash(path: str) -> str | None:
    try:
        return file_hash(path)
    except OSError:
        return None


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
    folders = store.folders()
    online = {f.id for f in folders if os.path.isdir(f.path)}
    on_disk: dict[str, tuple[FileStat, int]] = {}
    in_db: dict[str, Photo] = {}
    link_free = LinkFreePaths(f.path for f in folders if f.id in online)
    for path in set(paths):
        folder = owning_folder(path, folders)
        if folder is None or folder.id not in online:
            continue
        if is_hidden_below(path, folder.path) or is_excluded(path, exclude):
            continue
        for fs in _files_at(path, exclude, link_free):
            owner = owning_folder(fs.path, folders)
            if owner is not None and owner.id in online:
                on_disk[fs.path] = (fs, owner.id)
        for p in store.photos_at(path):
            if p.folder_id in online:
                in_db[p.path] = p
    for path in on_disk.keys() - in_db.keys():  # reached through a link: stored under its link-free path
        known = store.photo_by_path(path)
        if known is not None and known.folder_id in online:
            in_db[path] = known
    new_sizes = {fs.size for path, (fs, _) in on_disk.items() if path not in in_db}
    elsewhere = [
        p for p in store.photos_with_sizes(new_sizes)
        if p.path not in in_db and p.folder_id in online and p.status != "offline" and not os.path.lexists(p.path)
    ]
    plan = _plan(on_disk, in_db, TaskHandle(), elsewhere)
    read_plan_facts(plan)
    return ScanReport.of(len(on_disk), store.apply_plan(plan))


def move_paths(store: Store, moves: Sequence[tuple[str, str]], exclude: Sequence[str] = ()) -> ScanReport:
    """Follow renames the OS reported, file or folder (src, dest): no hashing, no walking.

    A photo stored under `src` takes the matching path under `dest` when the file there has the size
    and mtime the row recorded (a rename keeps both) and nothing is left at its old path. Anything that
    does not check out is left alone, for `scan_paths` to settle by content hash.
    """
    folders = store.folders()
    online = {f.id for f in folders if os.path.isdir(f.path)}
    moving: dict[int, MovedPhoto] = {}
    for src, dest in moves:
        for p in store.photos_at(src):
            new = dest + p.path[len(src):]
            owner = owning_folder(new, folders)
            if owner is None or owner.id not in online or os.path.lexists(p.path):
                continue
            if is_hidden_below(new, owner.path) or is_excluded(new, exclude):
                continue  # renamed out of sight: the walk would not see it, so it counts as deleted
            fs = stat_photo(new)
            if fs is not None and fs.problem is None and (fs.size, fs.mtime_ns) == (p.size, p.mtime_ns):
                moving[p.id] = MovedPhoto(p.id, fs.path, owner.id, p.size, p.mtime_ns)
    if not moving:
        return ScanReport()
    return ScanReport.of(0, store.apply_plan(ScanPlan(move=list(moving.values()))))


def owning_folder(path: str, folders: Sequence[Folder]) -> Folder | None:
    """The innermost library folder holding `path` (library folders may nest)."""
    best: Folder | None = None
    for f in folders:
        if (path == f.path or path.startswith(f.path + os.sep)) and (best is None or len(f.path) > len(best.path)):
            best = f
    return best


def _files_at(path: str, exclude: Sequence[str], paths: LinkFreePaths) -> Iterable[FileStat]:
    if os.path.isdir(path):
        return walk_photos(path, frozenset(), exclude, paths)
    fs = stat_photo(path, paths)
    return [fs] if fs is not None else []
