"""The bundle's entry point (PyInstaller runs this file, the pip-installed app runs `desktop.launcher:main`).

It only adds what a frozen program needs before handing over to the same launcher the pip-installed app uses.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def _restore_child_environment() -> None:
    """Give programs we start (the file manager, an image viewer) the user's environment, not the bundle's.

    PyInstaller's bootloader points LD_LIBRARY_PATH at the bundle and its Qt hook sets QML2_IMPORT_PATH;
    a file manager started by "Show in folder" would then load our Qt libraries and crash. Our own process
    is unaffected: the dynamic loader read LD_LIBRARY_PATH when it started, and we use no QML.
    """
    for name in ("LD_LIBRARY_PATH", "LIBPATH"):
        original = os.environ.pop(f"{name}_ORIG", None)
        if original is not None:
            os.environ[name] = original
        elif getattr(sys, "frozen", False):
            os.environ.pop(name, None)
    os.environ.pop("QML2_IMPORT_PATH", None)


def run() -> int:
    # A decode worker (multiprocessing 'spawn') re-runs this executable; this turns it into the worker.
    multiprocessing.freeze_support()
    _restore_child_environment()
    from desktop.launcher import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
