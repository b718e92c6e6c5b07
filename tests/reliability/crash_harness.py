"""Kill `lookalike index` with SIGKILL at random and chosen moments, restart it, and account for it all.

Used by tests/reliability/test_crash_safety.py (about 24 kills) and benchmarks/crash_soak.py (more).
Each run is the real command line (through tests/reliability/probe.py, which only observes it). After
every kill, before the next start, the harness checks what a user's next start would find: SQLite
passes `PRAGMA quick_check`, and the FAISS index file, when present, loads (a torn file would not).

Embedding accounting: the probe logs every embedding before its vectors reach the pipeline's writer, so
for each killed run `in_flight = embedded (logged) - committed (new vectors in SQLite)`. The pipeline
keeps at most four batches between the model and a commit (one being committed, two queued for the
writer, one waiting to be queued), so a kill may lose at most `4 * batch_size` embeddings, and a restart
must never embed again what was committed: `embedded <= pending at its start`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
POLL_S = 0.01
# One batch being committed, two in the writer's queue (core.indexing.pipeline._Writer), and a finished batch in
# each model lane waiting to be queued (two lanes on a multi-core CPU, core.embedding.device.model_lanes).
BATCHES_IN_FLIGHT = 5


@dataclass
class Run:
    moment: str  # "random", "commit", "save", or "final" (no kill)
    killed: bool
    seconds: float
    embedded: int  # embeddings the probe logged during this run
    committed: int  # vectors that appeared in SQLite during this run
    pending_before: int  # photos without a vector when the run started
    exit_code: int

    @property
    def in_flight(self) -> int:
        return self.embedded - self.committed


@dataclass
class CrashReport:
    runs: list[Run] = field(default_factory=list)

    @property
    def kills(self) -> list[Run]:
        return [r for r in self.runs if r.killed]

    @property
    def total_embedded(self) -> int:
        return sum(r.embedded for r in self.runs)

    def kills_at(self, moment: str) -> int:
        return sum(1 for r in self.kills if r.moment == moment)


class Child:
    def __init__(self, pid: int, output: Path, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid, self.output, self.popen = pid, output, popen

    def exit_code(self) -> int | None:
        if self.popen is not None:
            return self.popen.poll()
        rc = Path(str(self.output) + ".rc")
        return int(rc.read_text()) if rc.exists() and rc.read_text() else None

    def kill(self) -> int:
        os.kill(self.pid, signal.SIGKILL)
        while (code := self.exit_code()) is None:
            time.sleep(POLL_S)
        return code


class Launcher:
    """Starts the probe. `fork=True` forks each run from a zygote holding the imports (see probe.py)."""

    def __init__(self, fork: bool) -> None:
        self._zygote: subprocess.Popen[str] | None = None
        if fork:
            self._zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.probe", "--zygote"], cwd=REPO, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )

    def start(self, argv: list[str], env: dict[str, str], output: Path) -> Child:
        if self._zygote is None:
            log: IO[bytes] = open(output, "wb")  # noqa: SIM115 - the child owns it; closed below
            with log:
                popen = subprocess.Popen(
                    [sys.executable, "-m", "tests.reliability.probe", *argv], cwd=REPO,
                    env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                )
            return Child(popen.pid, output, popen)
        assert self._zygote.stdin and self._zygote.stdout
        self._zygote.stdin.write(json.dumps({"argv": argv, "env": env, "output": str(output)}) + "\n")
        self._zygote.stdin.flush()
        return Child(int(self._zygote.stdout.readline()), output)

    def close(self) -> None:
        if self._zygote is not None:
            assert self._zygote.stdin
            self._zygote.stdin.close()
            self._zygote.wait(timeout=30)


def crash_index(
    photos: Path, model: Path, data_dir: Path, work: Path, kills: int, seed: int = 0, fork: bool = True,
    photo_count: int | None = None,
) -> CrashReport:
    """Index `photos` into `data_dir`, killing the command `kills` times, then let it finish once."""
    rng = random.Random(seed)
    total = photo_count if photo_count is not None else _count_photos(photos)
    work.mkdir(parents=True, exist_ok=True)
    argv = ["index", "--json", "--data-dir", str(data_dir), "--model", str(model), "--workers", "0",
            str(photos)]
    launcher = Launcher(fork)
    report = CrashReport()
    try:
        moments = _moments(kills, rng)
        for i, moment in enumerate(moments):
            plan = _plan(moment, rng, data_dir, total - _vector_count(data_dir), len(moments) - i)
            report.runs.append(_one_run(launcher, argv, work / f"run-{i:03d}", plan, data_dir, total))
            if not report.runs[-1].killed:
                break  # it finished before the kill: nothing left to interrupt
        final = _Plan("final", {}, None, 600.0)
        report.runs.append(_one_run(launcher, argv, work / "run-final", final, data_dir, total))
    finally:
        launcher.close()
    return report


def _moments(kills: int, rng: random.Random) -> list[str]:
    # Half at random moments, a quarter inside a SQLite commit, a quarter inside an index save.
    moments = ["random"] * (kills - 2 * (kills // 4)) + ["commit"] * (kills // 4) + ["save"] * (kills // 4)
    rng.shuffle(moments)
    return moments


@dataclass
class _Plan:
    moment: str
    env: dict[str, str]
    after_embedded: int | None  # kill once the probe logged this many embeddings (plus a random delay)
    after_s: float  # ...or after this many seconds, whichever comes first


def _plan(moment: str, rng: random.Random, data_dir: Path, remaining: int, kills_left: int) -> _Plan:
    """Where to kill this run. Each run may keep only its share of the remaining photos, so that every
    planned kill still finds work to interrupt."""
    share = max(8, remaining // (kills_left + 1))
    if moment == "save" and not _index_file_stale(data_dir):
        moment = "commit"  # a fresh file is only saved again at the run's end: too late to kill there
    if moment == "commit":
        # Inside the n-th batch transaction (vectors inserted, COMMIT not yet run).
        skip = rng.randint(0, max(0, min(3, share // 8 - 1)))
        return _Plan("commit", _pause_env("commit", skip), None, 120.0)
    if moment == "save":
        # Inside the save at the run's start (the file is stale after the previous kill).
        return _Plan("save", _pause_env("save", 0), None, 120.0)
    if rng.random() < 0.25:
        # Start-up (lock, scan, index rebuild), or its share of photos if the start was quicker.
        return _Plan("random", {}, share, rng.uniform(0.0, 0.8))
    return _Plan("random", {}, rng.randint(1, share), 120.0)


def _pause_env(point: str, skip: int) -> dict[str, str]:
    return {"RELIABILITY_PAUSE_AT": point, "RELIABILITY_PAUSE_SKIP": str(skip)}


def _one_run(launcher: Launcher, argv: list[str], base: Path, plan: _Plan, data_dir: Path, total: int) -> Run:
    vectors_before = _vector_count(data_dir)
    log, marker = Path(f"{base}.embeddings"), Path(f"{base}.marker")
    env = {"RELIABILITY_EMBED_LOG": str(log), "RELIABILITY_MARKER": str(marker), **plan.env}
    started = time.monotonic()
    deadline = started + plan.after_s
    child = launcher.start(argv, env, Path(f"{base}.out"))
    while (code := child.exit_code()) is None and plan.moment != "final":
        if marker.exists():
            time.sleep(random.uniform(0, 0.3))  # the other stages run on while the commit or save waits
            break
        if time.monotonic() >= deadline:
            break
        if plan.after_embedded is not None and _logged(log) >= plan.after_embedded:
            # Anywhere in the pipeline, not only right after the model; short, because the tiny model
            # embeds hundreds of photos a second and a longer wait lets the run finish unkilled.
            time.sleep(random.uniform(0, 0.02))
            break
        time.sleep(POLL_S)
    killed = code is None and plan.moment != "final"
    if killed:
        code = child.kill()
    while code is None:  # the final run
        if time.monotonic() > started + plan.after_s:
            child.kill()
            raise TimeoutError(f"lookalike index did not finish; see {base}.out")
        time.sleep(POLL_S)
        code = child.exit_code()
    seconds = time.monotonic() - started
    check_after_kill(data_dir)
    vectors_after = _vector_count(data_dir)
    return Run(plan.moment, killed, seconds, _logged(log), vectors_after - vectors_before,
               total - vectors_before, code)


def _index_file_stale(data_dir: Path) -> bool:
    """True when the next run will rebuild and save the index first: no file, or an older generation."""
    from core.vectors.index import IndexFileError, VectorIndex

    files = list((data_dir / "index").glob("*.faiss")) if (data_dir / "index").exists() else []
    if not files:
        return True
    try:
        _, stamp = VectorIndex.load(files[0])
    except IndexFileError:
        return True
    conn = sqlite3.connect(data_dir / "library.sqlite3")
    try:
        row = conn.execute("SELECT generation FROM models WHERE key = ?", (stamp.get("model"),)).fetchone()
    finally:
        conn.close()
    return row is None or row[0] != stamp.get("generation")


def check_after_kill(data_dir: Path) -> None:
    """What the next start finds must be whole: SQLite passes its check, the index file loads."""
    from core.vectors.index import VectorIndex

    db = data_dir / "library.sqlite3"
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        conn.close()
    for index_file in (data_dir / "index").glob("*.faiss") if (data_dir / "index").exists() else ():
        VectorIndex.load(index_file)  # raises IndexFileError on a torn or corrupt file


@dataclass
class LibraryCheck:
    photos: int
    vectors: int
    index_ids: int
    self_top1_stored: int  # photos whose stored vector finds the photo itself first
    self_top1_reembedded: int  # photos whose file, embedded again now, finds the photo itself first
    min_cosine_to_stored: float  # worst agreement between a photo's stored vector and its file now


def check_library(data_dir: Path, photos: Path, model: Path) -> LibraryCheck:
    """Open the library as a user would and check each photo against its own file."""
    import numpy as np

    from core.imaging.decode import load_photo
    from core.library.facade import Library
    from core.vectors.index import VectorIndex

    on_disk = sorted(str(p) for p in photos.rglob("*.jpg"))
    with Library(data_dir, model=str(model), workers=0) as lib:
        counts = lib.status().counts
        assert (counts.photos, counts.indexed, counts.pending, counts.failed, counts.offline) == (
            len(on_disk), len(on_disk), 0, 0, 0,
        ), counts
        rows = {p.path: p for p in lib.photos()}
        assert sorted(rows) == on_disk
        dim = lib.store.model_dim(lib.model_key)
        assert dim is not None
        parts = list(lib.store.indexable(lib.model_key, dim))
        ids = np.concatenate([p[0] for p in parts])
        stored = np.concatenate([p[1] for p in parts])
        index, stamp = VectorIndex.load(lib.index_path())  # the file itself, not a rebuild
        assert stamp["generation"] == lib.store.generation(lib.model_key), (stamp, "stale index file")
        assert np.array_equal(index.ids(), np.sort(ids))
        by_stored = sum(index.search(v, 1)[0][0] == pid for pid, v in zip(ids, stored, strict=True))
        embedder = lib.embedder()
        paths = {p.id: p.path for p in rows.values()}
        fresh = np.concatenate([
            embedder.embed_images([load_photo(paths[int(pid)], target=embedder.image_size).image
                                   for pid in ids[start : start + 64]])
            for start in range(0, len(ids), 64)
        ])
        by_file = sum(index.search(v, 1)[0][0] == pid for pid, v in zip(ids, fresh, strict=True))
        cosines = np.sum(fresh * stored, axis=1)
        with sqlite3.connect(data_dir / "library.sqlite3") as conn:
            vectors = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
        conn.close()
    return LibraryCheck(len(rows), vectors, len(index), int(by_stored), int(by_file), float(cosines.min()))


def _vector_count(data_dir: Path) -> int:
    db = data_dir / "library.sqlite3"
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        has = conn.execute("SELECT name FROM sqlite_master WHERE name = 'vectors'").fetchone()
        return conn.execute("SELECT count(*) FROM vectors").fetchone()[0] if has else 0
    finally:
        conn.close()


def _logged(log: Path) -> int:
    return sum(int(line) for line in log.read_text().split()) if log.exists() else 0


def _count_photos(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*.jpg"))
