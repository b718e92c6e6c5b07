"""`FolderBudget`: a cache folder kept under a byte budget, least recently used files removed first.

Use is recorded in the file's mtime, so the bookkeeping costs nothing on disk and survives restarts: a
hit touches the file at most once a day (`TOUCH_AFTER_S`), a write adds the new file's size to a running
total. That total is computed once, lazily, by a scandir of the folder — never per write. When a write
pushes it over the budget, the oldest files go until the total is down to `PRUNE_TO` of the budget, so a
full cache prunes once per ~10% of its budget written, not on every write.

Thread-safe: thumbnail workers call it concurrently. Other processes sharing the folder only make the
running total approximate; every prune rescans, which corrects it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

# A day is fine-grained enough for "least recently used" at the scale of gigabytes, and keeps a grid
# scrolled a hundred times a day from rewriting inode times a hundred times.
TOUCH_AFTER_S = 24 * 3600
PRUNE_TO = 0.9
# A crashed writer's temp file older than this is dead (a live write takes well under a second).
STALE_TEMP_S = 3600


def budget_from_env(variable: str, default_mb: int) -> int:
    """The budget in bytes: `variable` in megabytes when it holds a positive number, else `default_mb`."""
    raw = os.environ.get(variable, "").strip()
    if raw:
        try:
            megabytes = float(raw)
            if megabytes > 0:
                return int(megabytes * 1024 * 1024)
        except ValueError:
            pass
        log.warning("ignoring %s=%r: not a positive number of megabytes", variable, raw)
    return default_mb * 1024 * 1024


class FolderBudget:
    """Keeps the files ending in `suffix` under `root` (any depth) within `limit` bytes."""

    def __init__(self, root: Path, limit: int, suffix: str) -> None:
        self.root = Path(root)
        self.limit = limit
        self.suffix = suffix
        self._total: int | None = None  # unknown until the first write scans the folder
        self._lock = threading.Lock()

    def used(self, path: Path, st: os.stat_result) -> None:
        """Record a hit on `path` (whose stat the caller already has): it becomes the newest file."""
        if time.time() - st.st_mtime > TOUCH_AFTER_S:
            with contextlib.suppress(OSError):  # pruned meanwhile, or a read-only cache: not worth failing
                os.utime(path)

    def added(self, path: Path) -> None:
        """Record that `path` was just written; prune the oldest files if the folder is now over budget."""
        try:
            size = path.stat().st_size
        except OSError:
            return  # already gone (another process pruned it): nothing to count
        with self._lock:
            if self._total is None:
                self._total = sum(size for _, size, _ in self._scan())  # includes `path`
            else:
                self._total += size
            if self._total > self.limit:
                self._prune(keep=path)

    def total(self) -> int:
        """Bytes in the folder as last counted (scans once if nothing was counted yet)."""
        with self._lock:
            if self._total is None:
                self._total = sum(size for _, size, _ in self._scan())
            return self._total

    def _prune(self, keep: Path) -> None:
        files = sorted(self._scan())  # oldest mtime first
        total = sum(size for _, size, _ in files)
        goal = int(self.limit * PRUNE_TO)
        removed = 0
        for _, size, path in files:
            if total <= goal:
                break
            if path == keep:
                continue  # the file just written is about to be read
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass  # another process pruned it
            except OSError:
                continue
            total -= size
            removed += 1
        self._total = total
        log.info("pruned %d files from %s, %d bytes left (budget %d)", removed, self.root, total, self.limit)

    def _scan(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every cache file; removes dead temp files on the way."""
        found: list[tuple[float, int, Path]] = []
        stack = [self.root]
        now = time.time()
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue  # missing or vanished folder
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if entry.name.endswith(self.suffix):
                    found.append((st.st_mtime, st.st_size, Path(entry.path)))
                elif entry.name.endswith(".tmp") and now - st.st_mtime > STALE_TEMP_S:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
        return found
