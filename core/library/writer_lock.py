"""The writer lock: one process at a time owns a library's writes (`writer.lock` in its data folder).

Readers never take it. A process that cannot get it hands its writes to the owner (core.session) or
waits; the messages here say why a lock could not be had at all (busy, a full or read-only disk).
"""

from __future__ import annotations

import errno
from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import LibraryBusyError, StorageError

LOCK_NAME = "writer.lock"


def acquire_writer_lock(data_dir: Path, timeout_s: float = 0) -> FileLock:
    """The held lock; LibraryBusyError after `timeout_s` (-1: wait for ever), StorageError when the
    lock file cannot even be created."""
    lock = FileLock(str(data_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise LibraryBusyError(
            f"another Lookalike process is updating the library in {data_dir}; "
            "close it first (searching from a second process works while it runs)"
        ) from None
    except OSError as exc:
        # A read-only or full data dir fails here first (creating the lock file); without this the
        # user got a filelock traceback instead of a StorageError (tests/reliability).
        raise StorageError(_lock_message(data_dir, exc)) from exc
    return lock


def _lock_message(data_dir: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the disk holding the library ({data_dir}) is full: free some space and run again"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the library folder {data_dir} is read-only: Lookalike cannot save its index there"
    return f"cannot write to the library folder {data_dir}: {exc.strerror or exc}"
