"""The `lookalike` command names, and what to tell a user whose first word is none of them.

The launcher (`desktop/launcher.py`) reads this before it knows whether the window or the command line
runs, so it stays cheap: no engine, no Qt, difflib only when a word needs a suggestion.
"""

from __future__ import annotations

import os

from core.imaging.formats import EXTENSION_LABELS, RAW_EXTENSION_LABELS, SKIPPED_EXTENSIONS

# Every command `core.cli.main` dispatches; a test checks its parser offers exactly these.
SUBCOMMANDS = (
    "index", "search", "list", "status", "settings", "eval", "duplicates", "export-vectors", "import-vectors",
    "export-manifest", "cluster-embed",
)

# Options of the window (and of most commands) that take a value: the value is not the first word.
VALUE_OPTIONS = ("--data-dir", "--model")

_IMAGE_SUFFIXES = frozenset((*EXTENSION_LABELS, *RAW_EXTENSION_LABELS, *SKIPPED_EXTENSIONS))


def first_word(argv: list[str]) -> str | None:
    """The first argument that is neither an option nor the value of one (a command or a photo)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in VALUE_OPTIONS:
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def looks_like_a_path(word: str) -> bool:
    """A word the user meant as a file: it has a folder separator or an image file's extension."""
    separators = (os.sep, "/") + ((os.altsep,) if os.altsep else ())
    return any(s in word for s in separators) or os.path.splitext(word)[1].lower() in _IMAGE_SUFFIXES


def refusal(word: str) -> str:
    """What to print (to stderr, exit status 2) for a first word that is neither a command nor a photo."""
    if os.path.isdir(word):
        return (f"lookalike: {word} is a folder, not a photo; to add it to the library: "
                f"lookalike index {word}")
    if looks_like_a_path(word):
        return f"lookalike: no such file: {word}"
    import difflib

    lines = [f"lookalike: unknown command '{word}'"]
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
    if close:
        lines.append(f"did you mean '{close[0]}'?")
    lines.append(f"commands: {', '.join(SUBCOMMANDS)}")
    lines.append("`lookalike PHOTO` opens the window on a photo's look-alikes; `lookalike --help` says more")
    return "\n".join(lines)
