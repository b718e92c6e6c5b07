"""The `lookalike` entry point: subcommands go to the Qt-free command line, anything else opens the
window. Imports no Qt itself, so `lookalike index` works where PySide6 cannot load."""

from __future__ import annotations

import argparse
import os
import sys

# Options that mean "the app" when no subcommand is given.
GUI_OPTIONS = ("--data-dir", "--model")


def wants_cli(argv: list[str]) -> bool:
    """True when `argv` names a command-line subcommand (or asks for help); anything else is the app.

    `core.cli.main` (which imports the engine) is only imported when a positional could be a subcommand, so
    plain `lookalike` and `lookalike photo.jpg` start the window without that cost."""
    if any(a in ("-h", "--help") for a in argv):
        return True
    positionals = _positionals(argv)
    if not positionals or os.path.isfile(positionals[0]):
        return False
    from core.cli.main import SUBCOMMANDS

    return positionals[0] in SUBCOMMANDS


def _positionals(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in GUI_OPTIONS:
            skip = True
        elif not a.startswith("-"):
            out.append(a)
    return out


def gui_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lookalike", description="Open the Lookalike window.")
    parser.add_argument("--data-dir", help="library folder (default: per-user data dir; LOOKALIKE_DATA_DIR)")
    parser.add_argument("--model", help="model key or a local model folder; LOOKALIKE_MODEL")
    parser.add_argument("image", nargs="?", help="find look-alikes of this image at start")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if wants_cli(argv):
        from core.cli.main import main as cli_main

        return cli_main(argv)
    args = gui_arguments(argv)
    return run_gui(args.data_dir, args.model, args.image)


def run_gui(data_dir: str | None, model: str | None, image: str | None) -> int:
    """Open the window, unless the app already runs on this library: then it shows `image` (or comes to
    the front) and this process exits (desktop.single_instance); decided before Qt is imported."""
    from desktop.single_instance import decide

    launch = decide(data_dir, image)
    if not launch.opens_window:
        launch.tell()
        return launch.exit_code or 0
    from desktop.app import run

    return run(data_dir=data_dir, model=model, image=launch.image)


if __name__ == "__main__":
    raise SystemExit(main())
