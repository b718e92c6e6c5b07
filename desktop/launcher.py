"""The `lookalike` entry point: subcommands go to the Qt-free command line, anything else opens the
window. Imports no Qt itself, so `lookalike index` works where PySide6 cannot load."""

from __future__ import annotations

import argparse
import os
import sys


def wants_cli(argv: list[str]) -> bool:
    """True unless `argv` opens the window: no word at all (`lookalike`, `lookalike --model M`) or an
    existing file as the first word (`lookalike photo.jpg`, the file manager's Open With).

    Every other first word goes to the command line: a command runs, and a typo (`lookalike serach`), a
    missing photo or a folder is refused there with exit status 2 and what to type instead
    (`core.cli.commands.refusal`), never a window that a terminal without a display cannot open. Reads only
    `core.cli.commands` (no engine, no Qt), so the window starts without the command line's imports."""
    from core.cli.commands import SUBCOMMANDS, first_word

    if any(a in ("-h", "--help") for a in argv):
        return True
    word = first_word(argv)
    # A command wins over a file of the same name in the current folder (`./index` opens that file).
    return word is not None and (word in SUBCOMMANDS or not os.path.isfile(word))


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
