"""Cleaning up duplicate groups: moving every member but the keeper to the system trash, safely.

Safety rules, in order: a group whose keeper is not on disk as it was grouped (offline drive, moved,
edited since) loses nothing, since the copies might be the only ones left; each file to move must be
inside a library folder and unchanged since grouping (core.files.trash checks and moves it); a RAW+JPEG
pair goes to the trash as one, both files. Nothing is ever deleted permanently or modified.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.duplicates.records import DuplicateGroup, DuplicateMember
from core.files.trash import TrashOutcome, TrashRequest, move_to_trash


@dataclass(frozen=True)
class TrashReport:
    outcomes: tuple[TrashOutcome, ...] = ()

    @property
    def moved(self) -> list[TrashOutcome]:
        return [o for o in self.outcomes if o.trashed]

    @property
    def refused(self) -> list[TrashOutcome]:
        return [o for o in self.outcomes if not o.trashed]

    @property
    def bytes(self) -> int:
        return sum(o.bytes for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        return {"trashed": len(self.moved), "bytes": self.bytes, "not_moved": len(self.refused)}


@dataclass(frozen=True)
class CleanupPlan:
    """What to keep and what to trash, group by group (each group's first member is kept)."""

    groups: tuple[DuplicateGroup, ...] = field(default=())

    @property
    def files(self) -> int:
        return sum(1 + len(m.companions) for g in self.groups for m in g.others)

    @property
    def bytes(self) -> int:
        return sum(g.reclaimable_bytes for g in self.groups)

    def describe(self) -> str:
        """The confirmation's words: what goes to the trash, counted."""
        return (f"Move {self.files:,} file(s) ({_size(self.bytes)}) from {len(self.groups):,} group(s) to the "
                "system trash? One photo of each group is kept; nothing is deleted permanently.")


def trash_others(plan: CleanupPlan, roots: Sequence[str]) -> TrashReport:
    """Move each group's non-keepers (with their RAW companions) to the trash; one outcome per file."""
    outcomes: list[TrashOutcome] = []
    for group in plan.groups:
        problem = keeper_problem(group.keeper)
        if problem is not None:
            outcomes.extend(
                TrashOutcome(path, False, f"not moved: {problem}", 0) for m in group.others for path in _files(m)
            )
            continue
        outcomes.extend(move_to_trash([r for m in group.others for r in _requests(m)], roots))
    return TrashReport(tuple(outcomes))


def keeper_problem(keeper: DuplicateMember) -> str | None:
    """Why the kept photo cannot vouch for its group now, or None when it is on disk as grouped."""
    try:
        st = os.stat(keeper.path)
    except FileNotFoundError:
        return f"the photo kept from this group ({keeper.path}) is missing (offline or moved)"
    except OSError as exc:
        return f"the photo kept from this group ({keeper.path}) cannot be read ({exc.strerror or exc})"
    if (st.st_size, st.st_mtime_ns) != (keeper.size, keeper.mtime_ns):
        return f"the photo kept from this group ({keeper.path}) changed since grouping; group again"
    return None


def _requests(member: DuplicateMember) -> list[TrashRequest]:
    own = TrashRequest(member.path, member.size, member.mtime_ns)
    return [own, *(TrashRequest(path, size, mtime) for path, size, mtime in member.companions)]


def _files(member: DuplicateMember) -> list[str]:
    return [member.path, *(path for path, _, _ in member.companions)]


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"
