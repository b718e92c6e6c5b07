"""The core must never pull in Qt: the command line and any headless use depend on it."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_whole_core_loads_no_qt_and_no_torch() -> None:
    code = (
        "import sys, pkgutil, importlib, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'desktop', 'torch', 'transformers', 'ray', 'pyarrow'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_command_line_and_the_app_start_without_ray_or_pyarrow() -> None:
    # Both come with the optional `cluster` extra: the desktop bundle has neither.
    code = (
        "import sys, core.cli.main, desktop.launcher\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('ray', 'pyarrow'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
