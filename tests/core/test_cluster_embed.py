"""export-manifest and cluster-embed on a real local Ray (one per test session), the tiny model, real files."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.cluster.embed_job import EmbedJob, EmbedReport, run_embed_job
from core.cluster.path_map import PathMap
from core.cluster.shard_format import ShardError, read_info, read_manifest, read_shard, write_manifest
from core.library.facade import Library
from core.store.database import decode_vectors
from tests.imagegen import write_photo

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """One local Ray for the whole run (it takes seconds to start); workers import this checkout's core."""
    ray = pytest.importorskip("ray")
    os.chdir(ROOT)  # Ray puts the driver's working directory on its workers' sys.path
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop.launcher", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, "LOOKALIKE_PRECISION": "fp32"})


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, tiny_siglip_dir: Path) -> dict[str, Any]:
    """A library whose model is the tiny one: 4 photos indexed, then a folder of 16 photos, a corrupt file
    and a photo that will vanish, added by export-manifest (scanned, not embedded)."""
    root = tmp_path_factory.mktemp("archive")
    data = root / "data"
    for i in range(4):
        write_photo(root / "lib" / "old" / f"old_{i}.jpg", seed=100 + i)
    with Library(data, model=str(tiny_siglip_dir), workers=0, precision="fp32") as lib:
        lib.add_folder(root / "lib" / "old")
        lib.update()
    for i in range(16):
        write_photo(root / "lib" / "new" / f"new_{i:02d}.jpg", seed=i)
    (root / "lib" / "new" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    write_photo(root / "lib" / "new" / "vanishes.jpg", seed=99)
    pending, everything = root / "pending.parquet", root / "all.parquet"
    for extra, out in (((), pending), (("--all",), everything)):
        done = run_cli("export-manifest", "--data-dir", str(data), *extra, "--json", "--out", str(out),
                       str(root / "lib" / "new"))
        assert done.returncode == 0, done.stderr
    return {"root": root, "data": data, "pending": pending, "all": everything, "model": str(tiny_siglip_dir)}


def test_export_manifest_lists_exactly_the_photos_without_a_vector_and_embeds_nothing(archive: dict) -> None:
    rows = read_manifest(archive["pending"])
    new = archive["root"] / "lib" / "new"
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in new.iterdir())
    for r in rows:  # what the scan recorded, and no hash: nothing was read
        st = os.stat(r["path"])
        assert (r["size"], r["mtime_ns"], r["hash"]) == (st.st_size, st.st_mtime_ns, None)
    with Library(archive["data"], readonly=True) as lib:
        assert lib.status().counts.pending == 18  # scanned, not embedded
        assert lib.model_key.startswith("local:")  # --model was not given: the library's model is kept


def test_export_manifest_all_lists_every_readable_photo_with_the_hashes_it_knows(archive: dict) -> None:
    rows = read_manifest(archive["all"])
    assert len(rows) == 22
    old = [r for r in rows if "/old/" in r["path"]]
    assert len(old) == 4 and all(r["hash"] for r in old)


@pytest.fixture(scope="module")
def embedded(archive: dict, ray_address: str) -> tuple[EmbedReport, Path, Path]:
    """cluster-embed of the pending manifest, reading from a 'mount' the photos were moved to (the
    manifest's paths no longer exist), after one photo vanished from it."""
    root = archive["root"]
    os.rename(root / "lib", root / "mount")
    (root / "mount" / "new" / "vanishes.jpg").unlink()
    out = root / "vectors"
    job = EmbedJob(archive["pending"], out, archive["model"], path_map=PathMap.parse([f"{root}/lib={root}/mount"]),
                   shard_size=10)
    return run_embed_job(job), out, root


def test_cluster_embed_makes_the_vectors_the_library_makes_and_keeps_the_manifest_paths(
    archive: dict, embedded: tuple[EmbedReport, Path, Path]
) -> None:
    report, out, root = embedded
    assert (report.shards, report.written_shards, report.embedded, report.failed) == (2, 2, 16, 2)
    info = read_info(out)
    rows = [row for name in sorted(info.shards) for row in read_shard(out, name, info)]
    manifest = [r["path"] for r in read_manifest(archive["pending"])]
    assert [r["path"] for r in rows] == manifest  # every row once, in manifest order, under its manifest path
    with Library(root / "reference", model=archive["model"], workers=0, precision="fp32") as ref:
        ref.add_folder(root / "mount" / "new")
        ref.update()
        by_path = {p.path: p for p in ref.store.list_photos(ref.model_key)}
        for row in rows:
            if row["error"]:
                continue
            photo = by_path[row["path"].replace(f"{root}/lib", f"{root}/mount")]
            assert row["hash"] == photo.hash
            _, expected = ref.store.vectors_for_photos(ref.model_key, info.dim, [photo.id])
            got = decode_vectors([row["vector"]], info.dim)
            assert float(np.dot(got[0], expected[0])) > 0.999


def test_cluster_embed_records_why_a_photo_failed_and_goes_on(embedded: tuple[EmbedReport, Path, Path]) -> None:
    _, out, _ = embedded
    info = read_info(out)
    failed = {Path(r["path"]).name: r for n in info.shards for r in read_shard(out, n, info) if r["error"]}
    assert set(failed) == {"broken.jpg", "vanishes.jpg"}
    assert "vanished" in failed["vanishes.jpg"]["error"]
    assert "corrupt" in failed["broken.jpg"]["error"]  # the decoder's reason
    assert all(r["hash"] is None and r["vector"] is None for r in failed.values())


def test_a_finished_folder_refuses_another_shard_size(archive: dict, embedded: tuple) -> None:
    _, out, _ = embedded
    with pytest.raises(ShardError, match="shard-size"):
        run_embed_job(EmbedJob(archive["pending"], out, archive["model"], shard_size=7))


def test_a_killed_job_finishes_only_the_missing_shards(
    tmp_path: Path, embedded: tuple, archive: dict, ray_address: str
) -> None:
    _, _, root = embedded
    # 32 one-photo shards: the job writes them one after another for longer than a look takes, so
    # the kill lands part-way even when every photo reaches the writer in one batch (a busy machine).
    photos = []
    for copy in range(2):
        for photo in sorted((root / "mount" / "new").glob("new_*.jpg")):
            photos.append(tmp_path / "photos" / f"{copy}_{photo.name}")
            photos[-1].parent.mkdir(exist_ok=True)
            shutil.copy(photo, photos[-1])
    manifest, out = tmp_path / "m.parquet", tmp_path / "vectors"
    write_manifest(manifest, [{"path": str(p), "size": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns}
                              for p in photos])
    args = ["cluster-embed", "--manifest", str(manifest), "--out", str(out), "--model", archive["model"],
            "--address", ray_address, "--shard-size", "1"]
    job = subprocess.Popen([sys.executable, "-m", "desktop.launcher", *args], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not _finished(out) and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.002)
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait()
    before = {name: _fingerprint(out / name) for name in _finished(out)}
    shards = len(photos)  # one photo a shard
    assert 0 < len(before) < shards, "the job must be killed part-way for this test to mean anything"

    report = run_embed_job(EmbedJob(manifest, out, archive["model"], shard_size=1))

    assert (report.skipped_shards, report.written_shards) == (len(before), shards - len(before))
    assert {name: _fingerprint(out / name) for name in before} == before  # finished shards untouched
    info = read_info(out)
    paths = [r["path"] for n in sorted(info.shards) for r in read_shard(out, n, info)]
    assert paths == [str(p) for p in photos]  # every row once


def _finished(out: Path) -> list[str]:
    try:
        return sorted(json.loads((out / "lookalike-vectors.json").read_text())["shards"])
    except (OSError, ValueError, KeyError):
        return []


def _fingerprint(path: Path) -> tuple[int, int, str]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def test_path_map_rewrites_whole_folder_names_longest_first() -> None:
    pm = PathMap.parse(["/photos=/mnt/slow", "/photos/raw=/mnt/fast/"])
    assert pm.apply("/photos/a.jpg") == "/mnt/slow/a.jpg"
    assert pm.apply("/photos/raw/b.dng") == "/mnt/fast/b.dng"
    assert pm.apply("/photos2/c.jpg") == "/photos2/c.jpg"  # not a folder under /photos
    with pytest.raises(Exception, match="OLD=NEW"):
        PathMap.parse(["/photos"])


def test_manifest_cluster_embed_and_import_leave_nothing_to_embed_and_search_as_a_local_index(
    tmp_path: Path, tiny_siglip_dir: Path, ray_address: str
) -> None:
    photos = tmp_path / "photos"
    for i in range(6):
        write_photo(photos / f"p{i}.jpg", seed=300 + i)
    data, reference = tmp_path / "data", tmp_path / "reference"
    manifest, vectors = tmp_path / "m.parquet", tmp_path / "vectors"
    model = ["--model", str(tiny_siglip_dir)]
    done = run_cli("export-manifest", "--data-dir", str(data), *model, "--out", str(manifest), str(photos))
    assert done.returncode == 0, done.stderr
    run_embed_job(EmbedJob(manifest, vectors, str(tiny_siglip_dir), shard_size=4))
    imported = run_cli("import-vectors", "--data-dir", str(data), *model, "--json", str(vectors))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {"imported": 6, "matched_photos": 6, "unknown_hashes": 0, "rejected": 0}

    with Library(data, model=str(tiny_siglip_dir), workers=0, precision="fp32") as lib:
        assert lib.update().index.embedded == 0  # the shards covered every photo
        found = [(Path(r.path).name, round(r.score, 3)) for r in lib.search_image(photos / "p3.jpg", k=4)]
    with Library(reference, model=str(tiny_siglip_dir), workers=0, precision="fp32") as ref:
        ref.add_folder(photos)
        ref.update()
        assert [(Path(r.path).name, round(r.score, 3)) for r in ref.search_image(photos / "p3.jpg", k=4)] == found
