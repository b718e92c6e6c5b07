"""Crash soak: SIGKILL `lookalike index` many times on a generated library, then check it is exact.

    .venv/bin/python -m benchmarks.crash_soak --photos 2000 --kills 100 [--fresh] [--seed 1]

The longer version of tests/reliability/test_crash_safety.py (same harness, same checks). `--fresh`
starts every run as a new interpreter (slower: seconds of imports per restart) instead of forking it
from a process that already holds the imports.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from core.embedding.device import BATCH_SIZES
from tests.imagegen import write_photo
from tests.reliability.crash_harness import BATCHES_IN_FLIGHT, check_library, crash_index
from tests.tinymodels import build_tiny_siglip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="a new interpreter per run (no fork)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="lookalike-soak-") as tmp:
        work = Path(tmp)
        model = build_tiny_siglip(work / "model")
        for i in range(args.photos):
            write_photo(work / "photos" / f"d{i % 10}" / f"p{i:05d}.jpg", seed=i, size=(96, 72))
        started = time.monotonic()
        report = crash_index(work / "photos", model, work / "data", work / "runs", args.kills, args.seed,
                             fork=not args.fresh, photo_count=args.photos)
        elapsed = time.monotonic() - started
        bound = BATCHES_IN_FLIGHT * BATCH_SIZES["cpu"]
        worst = max((r.in_flight for r in report.runs), default=0)
        redone = [r for r in report.runs if r.embedded > r.pending_before]
        check = check_library(work / "data", work / "photos", model)
    kills = report.kills
    print(f"kills survived: {len(kills)} (random {report.kills_at('random')}, commit "
          f"{report.kills_at('commit')}, save {report.kills_at('save')}) in {elapsed:.0f} s")
    print(f"embeddings: {report.total_embedded} for {args.photos} photos; worst in flight {worst} "
          f"(bound {bound}); runs that re-embedded committed work: {len(redone)}")
    print(f"photos lost: {args.photos - check.photos}; {check}")
    ok = (report.runs[-1].exit_code == 0 and worst <= bound and not redone and check.photos == args.photos
          and check.self_top1_stored == check.self_top1_reembedded == args.photos)
    print("OK" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
