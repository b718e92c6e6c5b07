"""The app's log: one small rotating file in the cache folder (<cache dir>/lookalike.log), so a user can
send what went wrong, and uncaught exceptions on any thread and Python warnings end up there too.

Nothing is configured at import: the app calls `configure_logging` and `log_uncaught_exceptions` once at
start (both are idempotent). Core modules only ever log through `logging.getLogger(__name__)`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from core.files.paths import default_cache_dir

LOG_FILE = "lookalike.log"
# 1 MB x (1 + 3 backups) keeps days of normal use and the tracebacks before a bug report, yet at most
# 4 MB of a cache folder that the user never looks into.
MAX_BYTES = 1 << 20
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"

MainHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
ThreadHook = Callable[[threading.ExceptHookArgs], Any]

log = logging.getLogger(__name__)
_lock = threading.Lock()


class _AppLogFile(RotatingFileHandler):
    """Marks the handler `configure_logging` added, so a second call finds it instead of adding another."""


def configure_logging(cache_dir: Path | None = None, level: int = logging.INFO) -> Path:
    """Send the process's logging (and `warnings`) to <cache dir>/lookalike.log; return that path.

    Calling it again changes nothing, or moves the log if `cache_dir` differs. Raises OSError when the
    cache folder cannot be made.
    """
    path = Path(os.path.abspath((cache_dir or default_cache_dir()) / LOG_FILE))
    root = logging.getLogger()
    with _lock:
        for handler in root.handlers[:]:
            if isinstance(handler, _AppLogFile):
                if Path(handler.baseFilename) == path:
                    return path
                root.removeHandler(handler)
                handler.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        # `delay`: the file is opened by the first record, not at start-up.
        handler = _AppLogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.setLevel(level)
        root.addHandler(handler)
        if root.getEffectiveLevel() > level:
            root.setLevel(level)
        logging.captureWarnings(True)
    return path


def log_uncaught_exceptions() -> None:
    """Log an exception no code caught, on the main thread or any other, with its traceback; the
    previous hooks still run after it (by default they print it to stderr)."""
    with _lock:
        if not getattr(sys.excepthook, "_lookalike", False):
            sys.excepthook = _main_thread_hook(sys.excepthook)
        if not getattr(threading.excepthook, "_lookalike", False):
            threading.excepthook = _thread_hook(threading.excepthook)


def _main_thread_hook(previous: MainHook) -> MainHook:
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):  # Ctrl+C in a terminal is not a bug
            log.critical("uncaught exception", exc_info=(kind, value, tb))
        previous(kind, value, tb)

    hook._lookalike = True  # type: ignore[attr-defined]
    return hook


def _thread_hook(previous: ThreadHook) -> ThreadHook:
    def hook(args: threading.ExceptHookArgs) -> None:
        # SystemExit ends a thread quietly, as the default hook treats it.
        if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
            name = args.thread.name if args.thread is not None else "?"
            log.critical("uncaught exception in thread %s", name,
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous(args)

    hook._lookalike = True  # type: ignore[attr-defined]
    return hook
