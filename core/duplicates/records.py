"""What duplicate finding answers with: groups of photos that are copies of one another, keeper first.

Tiers, strongest first, are cumulative (a `near` search also finds `same` and `exact` groups):
- `exact`: the same bytes (one content hash);
- `same`: the same picture saved again: re-encoded, resized, re-compressed or stripped of metadata
  (the model agrees and the pixel prints match, core.imaging.pixel_print);
- `near`: near-identical shots: bursts, small edits, crops (the model alone, above the threshold).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

TIERS = ("exact", "same", "near")
DEFAULT_TIER = "same"
FLOOR = 0.80  # the lowest threshold offered: pairs below it are never looked for
DEFAULT_THRESHOLD = 0.92  # cosine; see docs/command-line.md "Duplicates" for what it means on a trained model


@dataclass(frozen=True)
class DuplicateMember:
    photo_id: int
    path: str
    hash: str
    size: int  # bytes of this file
    mtime_ns: int
    width: int | None
    height: int | None
    taken_at: float | None
    score: float  # cosine to the group's first member (1.0 for it and for exact copies of it)
    companions: tuple[tuple[str, int, int], ...] = ()  # the RAW of a RAW+JPEG pair: (path, size, mtime_ns)

    @property
    def bytes(self) -> int:
        """What trashing this member frees: the file and its RAW companion."""
        return self.size + sum(size for _, size, _ in self.companions)

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    @property
    def format(self) -> str:
        ext = os.path.splitext(self.path)[1].lstrip(".").upper() or "?"
        if self.companions:
            raw = os.path.splitext(self.companions[0][0])[1].lstrip(".").upper()
            return f"{raw}+{ext}"
        return ext

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class DuplicateGroup:
    tier: str  # the weakest tier that links its members (exact < same < near)
    members: tuple[DuplicateMember, ...]  # the suggested keeper first (core.duplicates.keeper)
    reasons: tuple[str, ...] = field(default=(), compare=False)  # why the keeper was chosen, in words

    @property
    def keeper(self) -> DuplicateMember:
        return self.members[0]

    @property
    def others(self) -> tuple[DuplicateMember, ...]:
        return self.members[1:]

    @property
    def reclaimable_bytes(self) -> int:
        return sum(m.bytes for m in self.others)

    @property
    def taken_at(self) -> float | None:
        dates = [m.taken_at for m in self.members if m.taken_at is not None]
        return min(dates) if dates else None

    @property
    def key(self) -> str:
        """Stable across runs: the sorted content hashes of its members."""
        return ",".join(sorted({m.hash for m in self.members}))
