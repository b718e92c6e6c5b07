"""SIGKILL `lookalike index` two dozen times on 500 photos; the library must come out whole and exact.

See crash_harness.py for how kills are placed and how embeddings are counted from outside the product.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from core.embedding.device import BATCH_SIZES
from tests.imagegen import write_photo
from tests.reliability.crash_harness import BATCHES_IN_FLIGHT, check_library, crash_index

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

PHOTOS = 500
KILLS = 24
SEED = int(os.environ.get("RELIABILITY_SEED", "20240607"))


@pytest.fixture(scope="module")
def five_hundred_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos500")
    for i in range(PHOTOS):
        write_photo(root / f"roll{i % 5}" / f"p{i:03d}.jpg", seed=1000 + i, size=(96, 72))
    return root


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_indexing_killed_two_dozen_times_loses_and_mixes_up_no_photo(
    five_hundred_photos: Path, tiny_siglip_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    report = crash_index(five_hundred_photos, tiny_siglip_dir, data, tmp_path / "runs", KILLS, seed=SEED)

    kills = report.kills
    print(f"seed {SEED}: {len(kills)} kills ({report.kills_at('random')} random, "
          f"{report.kills_at('commit')} in a commit, {report.kills_at('save')} in an index save), "
          f"{report.total_embedded} embeddings for {PHOTOS} photos")
    assert len(kills) >= 20
    assert report.kills_at("commit") >= 3 and report.kills_at("save") >= 2
    assert all(r.exit_code == -9 for r in kills)  # really killed, not a clean exit

    final = report.runs[-1]
    assert final.exit_code == 0, (tmp_path / "runs" / "run-final.out").read_text()
    summary = json.loads((tmp_path / "runs" / "run-final.out").read_text().strip().splitlines()[-1])
    assert summary["scanned"] == PHOTOS and summary["failed"] == 0

    # Nothing committed is ever embedded again, and a kill loses at most what was in flight.
    bound = BATCHES_IN_FLIGHT * BATCH_SIZES["cpu"]
    for run in report.runs:
        assert run.embedded <= run.pending_before, run
        assert 0 <= run.in_flight <= bound, run
    assert final.in_flight == 0
    assert report.total_embedded <= PHOTOS + sum(r.in_flight for r in kills)
    assert sum(r.committed for r in report.runs) == PHOTOS

    check = check_library(data, five_hundred_photos, tiny_siglip_dir)
    assert check.photos == check.vectors == check.index_ids == PHOTOS  # each photo indexed exactly once
    assert check.self_top1_stored == PHOTOS
    assert check.self_top1_reembedded == PHOTOS
    # Each vector belongs to its own photo's file (not 1: vectors are stored as float16, and the file is
    # re-read here through the Hugging Face processor instead of the workers' numpy copy of it).
    assert check.min_cosine_to_stored > 0.999
