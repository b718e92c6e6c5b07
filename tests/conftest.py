"""Fixtures shared by every test: tiny real models, generated photo folders, isolated app dirs."""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# Nothing in the test run may reach the network or the user's real data.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def frozen_heap() -> None:
    """Leave what earlier tests and imports left alive out of the cycle collector's full passes.

    The core calls gc.collect() whenever it unloads a model (every Library.close()), and a full pass walks
    every object in the process: with torch, transformers and Qt loaded that took ~0.4 s each, a third of
    some modules' time. The previous test's garbage is collected first, so only live objects (modules,
    caches, wider-scoped fixtures) are frozen; what a test makes is still collected as in the app."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("LOOKALIKE_CACHE_DIR", str(tmp_path / "default-cache"))
    monkeypatch.delenv("LOOKALIKE_MODEL", raising=False)
    # fp32, the reference, unless a test says otherwise: otherwise every library that indexes would first
    # run the precision check (seconds each). tests/core/test_precision_*.py cover the check itself.
    monkeypatch.setenv("LOOKALIKE_PRECISION", "fp32")


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what the code under test does to this process's logging and hooks (the app and the CLI
    send logging to their log file; tests must not leave that behind for the next test)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    # The previous hooks the app's hooks chain to: Python's own, which print to stderr.
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.fixture(scope="session")
def tiny_siglip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tinymodels import build_tiny_siglip

    return build_tiny_siglip(tmp_path_factory.mktemp("tiny-siglip"))


@pytest.fixture(scope="session")
def tiny_siglip2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tinymodels import build_tiny_siglip2

    return build_tiny_siglip2(tmp_path_factory.mktemp("tiny-siglip2"))


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """A folder of 12 distinct photo-like JPEGs, two of them in a sub-folder."""
    from tests.imagegen import write_photo

    root = tmp_path / "photos"
    for i in range(10):
        write_photo(root / f"img_{i:02d}.jpg", seed=i)
    for i in range(10, 12):
        write_photo(root / "trip" / f"img_{i:02d}.jpg", seed=i)
    return root


@pytest.fixture
def library(tmp_path: Path, tiny_siglip_dir: Path) -> Iterator[object]:
    from core.library.facade import Library

    lib = Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0)
    yield lib
    lib.close()


def reimport_send2trash() -> None:
    import importlib

    import send2trash
    import send2trash.plat_other

    importlib.reload(send2trash.plat_other)
    importlib.reload(send2trash)


@pytest.fixture
def trash(tmp_path: Path) -> Iterator[Path]:
    """The home trash, $XDG_DATA_HOME/Trash, in tmp_path (created by Send2Trash on first use).

    Send2Trash reads $XDG_DATA_HOME once, when it is imported (send2trash/plat_other.py), so this sets it
    and re-imports the backend, as a process started with that environment would; HOME points at tmp_path
    too, since Send2Trash uses the home trash only for files on the home folder's device. Child processes
    (the command line) inherit both."""
    saved = {name: os.environ.get(name) for name in ("XDG_DATA_HOME", "HOME")}
    (tmp_path / "home").mkdir(exist_ok=True)
    os.environ["HOME"] = str(tmp_path / "home")
    os.environ["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    reimport_send2trash()
    yield tmp_path / "xdg-data" / "Trash"
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reimport_send2trash()
