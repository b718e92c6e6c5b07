"""Which member of a duplicate group to keep: rules in the order the user ranks them.

File size alone (what many tools use) keeps a big JPEG over a smaller HEIC or the camera's RAW. The
default order asks first for the most pixels, then the better format (RAW > HEIF/AVIF > lossless >
JPEG > the rest), then the bigger file, the earliest date taken, and a preferred folder. Every tie
left ends on the path, so the choice is the same on every run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from core.duplicates.records import DuplicateMember

RULES = ("resolution", "format", "size", "date", "folders")
DEFAULT_RULES = RULES
RULE_WORDS = {
    "resolution": "the most pixels",
    "format": "the better format",
    "size": "the biggest file",
    "date": "the earliest date taken",
    "folders": "in a preferred folder",
}
_RAW = {".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".rw2", ".raf", ".pef", ".srw"}
_FORMAT_RANK = {
    **{ext: 1 for ext in (".heic", ".heif", ".hif", ".avif")},
    **{ext: 2 for ext in (".png", ".tif", ".tiff")},
    **{ext: 3 for ext in (".jpg", ".jpeg", ".jpe", ".jfif", ".mpo")},
}
_OTHER_FORMAT = 4


def format_rank(member: DuplicateMember) -> int:
    """0 for a RAW (or a JPEG with its RAW beside it), up to 4 for formats that keep the least."""
    ext = os.path.splitext(member.path)[1].lower()
    if ext in _RAW or member.companions:
        return 0
    return _FORMAT_RANK.get(ext, _OTHER_FORMAT)


def _folder_rank(preferred: Sequence[str]) -> Callable[[DuplicateMember], int]:
    roots = [os.path.join(os.path.abspath(p), "") for p in preferred]

    def rank(member: DuplicateMember) -> int:
        return next((i for i, root in enumerate(roots) if member.path.startswith(root)), len(roots))

    return rank


def sort_key(rules: Sequence[str], preferred: Sequence[str] = ()) -> Callable[[DuplicateMember], tuple[Any, ...]]:
    """A key that sorts the member to keep first."""
    folder = _folder_rank(preferred)
    by_rule: dict[str, Callable[[DuplicateMember], Any]] = {
        "resolution": lambda m: -m.pixels,
        "format": format_rank,
        "size": lambda m: -m.bytes,
        "date": lambda m: (m.taken_at is None, m.taken_at or 0.0),
        "folders": folder,
    }
    keys = [by_rule[r] for r in checked_rules(rules)]
    return lambda m: (*(k(m) for k in keys), m.path)


def keeper_first(
    members: Sequence[DuplicateMember], rules: Sequence[str], preferred: Sequence[str] = ()
) -> tuple[list[DuplicateMember], tuple[str, ...]]:
    """The members, the one to keep first, and in words the rules that decided it."""
    key = sort_key(rules, preferred)
    ordered = sorted(members, key=key)
    return ordered, _deciding(ordered, rules, key)


def _deciding(ordered: list[DuplicateMember], rules: Sequence[str], key: Callable) -> tuple[str, ...]:
    """The first rule on which the keeper beats the runner-up (all rules tied: the path decided)."""
    if len(ordered) < 2:
        return ()
    first, second = key(ordered[0]), key(ordered[1])
    for i, rule in enumerate(checked_rules(rules)):
        if first[i] != second[i]:
            return (RULE_WORDS[rule],)
    return ("all rules tie: the first path",)


def checked_rules(rules: Sequence[str]) -> list[str]:
    """`rules` in the user's order, unknown ones dropped, missing ones appended in the default order."""
    known = [r for r in dict.fromkeys(rules) if r in RULES]
    return known + [r for r in DEFAULT_RULES if r not in known]
