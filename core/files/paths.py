"""Where Lookalike keeps its data: one place so the pip-installed app and the bundle agree."""

from __future__ import annotations

import os
from pathlib import Path

import appdirs

APP_NAME = "Lookalike"


def default_data_dir() -> Path:
    """`LOOKALIKE_DATA_DIR` when set, else the platform's per-user data dir (~/.local/share/Lookalike)."""
    env = os.environ.get("LOOKALIKE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(appdirs.user_data_dir(APP_NAME, appauthor=False))


def default_cache_dir() -> Path:
    """Thumbnails and other throw-away files (~/.cache/Lookalike); `LOOKALIKE_CACHE_DIR` overrides."""
    env = os.environ.get("LOOKALIKE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(appdirs.user_cache_dir(APP_NAME, appauthor=False))
