"""`lookalike duplicates`: list duplicate groups, export them, move the extra copies to the trash.

    lookalike duplicates [--tier exact|same|near] [--threshold T] [--folder F] [--sort space|date]
                         [--json] [--export FILE.csv|FILE.json] [--trash [--yes]]
    lookalike duplicates --not-duplicates A B [C...]

Listing reads the library (it may run beside the app). `--not-duplicates` goes to the library's owner:
this process, or the app that owns it now. `--trash` moves the files from this process, after its own
confirmation (never through the channel to the app), then has the owner update at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from core.cli.owning import data_dir_of, open_owner, own_or_hand_off, say
from core.cli.progress_bar import ProgressBar
from core.duplicates.cleanup import CleanupPlan, TrashReport, trash_others
from core.duplicates.export import groups_json, write_export
from core.duplicates.records import DEFAULT_THRESHOLD, DEFAULT_TIER, FLOOR, TIERS, DuplicateGroup
from core.errors import LibraryBusyError, LookalikeError
from core.library.facade import Library
from core.library.intents import DecideDuplicates, Intent, TrashDuplicates
from core.session.handoff import send_request
from core.session.owner import LibraryOwner
from core.tasks.progress import TaskHandle


def add_duplicates_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, model: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "duplicates", parents=[common, model], help="find duplicate photos; export them or move extra copies to the trash",
        description="Tiers are cumulative: near includes same, which includes exact (identical files).",
    )
    p.add_argument("--tier", choices=TIERS, default=DEFAULT_TIER, help=f"default {DEFAULT_TIER}")
    p.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD,
        help=f"the lowest cosine of a same or near pair, {FLOOR}-1.0 (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument("--folder", help="only groups with a photo in this folder (or below it)")
    p.add_argument("--sort", choices=("space", "date"), default="space", help="space to reclaim (default) or date")
    p.add_argument("--export", metavar="FILE", help="also write the groups to FILE.csv or FILE.json")
    p.add_argument("--trash", action="store_true", help="move every photo but the kept one of each group to the trash")
    p.add_argument("--yes", action="store_true", help="do not ask before moving to the trash (for scripts)")
    p.add_argument("--not-duplicates", nargs="+", metavar="PHOTO", help="remember these photos are not duplicates")


def cmd_duplicates(args: argparse.Namespace) -> int:
    if args.not_duplicates is not None:
        return _not_duplicates(args)
    folder = os.path.abspath(os.path.expanduser(args.folder)) if args.folder else None
    bar = ProgressBar(sys.stderr)
    with Library(args.data_dir, model=args.model, device=args.device, readonly=True) as lib:
        try:
            groups = lib.duplicate_groups(
                args.tier, args.threshold, folder, args.sort, TaskHandle(on_progress=bar.update)
            )
        finally:
            bar.finish()
    if args.export:
        write_export(groups, args.export)
        say(f"{len(groups)} group(s) written to {args.export}")
    if args.json:
        print(json.dumps(groups_json(groups)))
    else:
        print(format_groups(groups))
    if not args.trash or not groups:
        return 0
    return _trash(args, CleanupPlan(tuple(groups)))


def _trash(args: argparse.Namespace, plan: CleanupPlan) -> int:
    if not args.yes and not _confirmed(plan.describe()):
        say("nothing was moved")
        return 1
    try:
        owner = open_owner(args, 0, serve=False)
    except LibraryBusyError:
        report = _trash_beside_owner(args, plan)
    else:
        try:
            owner.start()
            report = owner.submit(TrashDuplicates(plan), "cli").wait()
        finally:
            owner.close()
    say(f"moved {len(report.moved)} file(s) ({report.bytes:,} bytes) to the trash")
    for outcome in report.refused:
        say(f"not moved: {outcome.path}: {outcome.reason}")
    return 1 if report.refused else 0


def _trash_beside_owner(args: argparse.Namespace, plan: CleanupPlan) -> TrashReport:
    """The app owns the library: move the files here (the channel to it never moves files, see
    core.session.handoff_wire), then ask it to update, which drops them from its library at once."""
    say("another Lookalike process owns this library: moving the files here, then asking it to update")
    with Library(args.data_dir, readonly=True) as lib:
        report = trash_others(plan, [f.path for f in lib.folders()])
    if report.moved:
        bar = ProgressBar(sys.stderr)
        try:
            send_request(data_dir_of(args), "index", {"folders": []}, on_event=bar.update_from_event)
        finally:
            bar.finish()
    return report


def _not_duplicates(args: argparse.Namespace) -> int:
    paths = [os.path.abspath(os.path.expanduser(p)) for p in args.not_duplicates]
    if len(set(paths)) < 2:
        raise LookalikeError("--not-duplicates needs at least two photos")
    with Library(args.data_dir, readonly=True) as lib:
        hashes = lib.photo_hashes(paths)
    _write(args, DecideDuplicates(tuple(hashes), "distinct"), "decide_duplicates",
           {"hashes": hashes, "decision": "distinct"})
    say(f"remembered: these {len(paths)} photos are not duplicates; they will not be grouped again")
    return 0


def _write(args: argparse.Namespace, intent: Intent, op: str, request: dict) -> object:
    """Run `intent` as the library's owner, or hand `request` to the process that owns it."""
    owner = own_or_hand_off(args, op, request, serve=False)
    if not isinstance(owner, LibraryOwner):
        return owner
    try:
        owner.start()
        return owner.submit(intent, "cli").wait()
    finally:
        owner.close()


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise LookalikeError(f"{question} Add --yes to confirm when not asking on a terminal.")
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def format_groups(groups: list[DuplicateGroup]) -> str:
    lines = []
    for number, g in enumerate(groups, 1):
        lines.append(f"group {number} ({g.tier}): {len(g.members)} photos, {_mb(g.reclaimable_bytes)} to reclaim")
        why = f"  ({'; '.join(g.reasons)})" if g.reasons else ""
        for m in g.members:
            size = f"{m.width}x{m.height}" if m.width and m.height else "?"
            tag = "keep" if m is g.keeper else f"{m.score:.4f}"
            extra = why if m is g.keeper else ""
            lines.append(f"  {tag:>6}  {m.path}  {size}  {_mb(m.bytes)}  {m.format}{extra}")
    total = sum(g.reclaimable_bytes for g in groups)
    lines.append(f"{len(groups)} group(s), {sum(len(g.others) for g in groups)} extra copies, {_mb(total)} to reclaim")
    return "\n".join(lines)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"
