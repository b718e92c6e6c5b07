"""The header facts of the photos a scan finds new or edited, read during the scan so they land in the
same transaction as their rows: the grid's first listing of a new photo already has its date taken, and
the photo never jumps to another place when indexing reads the facts later.

Bounded, because the scan holds the library's lock: a header costs ~0.25 ms (measured: 1,000 JPEGs,
warm cache, 2-core machine: walk 11 ms, facts 220-260 ms in one thread, ~380 ms in four), so 2,000 keep
a scan's extra cost near half a second. A first add of a larger folder gets the rest from the index
run's first step (core.library.facts), where those photos sort by their file's time until then.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from core.imaging.photo_facts import FACTS_VERSION, read_facts
from core.store.scan_plan import ScanPlan

SCAN_FACTS_LIMIT = 2000
READERS = 4  # a cold disk waits per header: threads overlap the waits (warm, one thread is as fast)


def read_plan_facts(plan: ScanPlan, limit: int | None = None) -> None:
    """Fill `plan.facts` for up to `limit` readable photos the plan inserts or rewrites (newest files
    first: those are the ones at the top of the grid)."""
    found = [(n.path, n.mtime_ns) for n in plan.insert if n.error is None]
    found += [(e.path, e.mtime_ns) for e in plan.update if e.error is None]
    limit = SCAN_FACTS_LIMIT if limit is None else limit
    paths = [path for path, _ in sorted(found, key=lambda item: -item[1])[:limit]]
    if not paths:
        return
    with ThreadPoolExecutor(min(READERS, len(paths)), thread_name_prefix="lookalike-scan-facts") as pool:
        plan.facts = {path: facts.row() for path, facts in zip(paths, pool.map(read_facts, paths), strict=True)}
    plan.facts_version = FACTS_VERSION
