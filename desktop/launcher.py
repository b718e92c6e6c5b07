"""The `lookalike` entry point: subcommands go to the Qt-free command line, anything else opens the
window. Imports no Qt itself, so `lookalike index` works where PySide6 cannot load."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from core.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
