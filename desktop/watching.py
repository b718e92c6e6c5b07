"""The hook that keeps the library in step with the disk while the app is open.

Live watching lives in `core.watch.watcher.LibraryWatcher`; if it cannot start, the app still works and folders
are brought up to date at start-up and when added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.library.facade import Library
    from core.tasks.progress import Progress


def start_watcher(
    library: Library, on_notice: Callable[[str], None] | None = None,
    on_error: Callable[[Exception], None] | None = None, on_progress: Callable[[Progress], None] | None = None,
) -> Any:
    """Start watching the library's folders; returns the watcher (or None when unavailable).
    The callbacks run on the watcher's threads: the caller hops to the GUI thread."""
    from core.watch.watcher import LibraryWatcher

    try:
        watcher = LibraryWatcher(library, on_error=on_error, on_notice=on_notice, on_progress=on_progress)
        watcher.start()
    except Exception:  # a watcher that fails to start must not stop the app; scans still work
        return None
    return watcher


def stop_watcher(watcher: Any) -> None:
    if watcher is not None:
        watcher.stop()
