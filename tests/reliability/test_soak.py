"""Soak: the app's engine (a LibraryOwner watching the folders and taking handed-over requests, as the
window runs it) and two command-line processes work one library while photos arrive, are renamed and
are deleted, until each command loop has run each of its commands at least twice. No command fails, no
photo is lost or stored twice, and the end state equals a fresh index of the folder. Real processes,
sockets, watchdog events, SQLite and FAISS throughout."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.library.facade import Library
from core.library.intents import Update
from core.session.owner import LibraryOwner
from tests.imagegen import write_photo
from tests.reliability.test_state_properties import _state

# The soak ends once each command loop has run RUNS commands (each of its two kinds twice, the minimum
# this test always asserted), and not before LOOKALIKE_SOAK_S seconds: set that (e.g. 600) for a long
# soak. It used to run a fixed minute: the reader loop (a search loads torch, ~5 s) needs ~15 s for its
# four, and the other ~45 s repeated the same overlaps of the engine, the commands and the folder
# changes (the fast writer loop, handed to the engine, still runs ~10 commands in that time).
SOAK_S = float(os.environ.get("LOOKALIKE_SOAK_S", "0"))
RUNS = 4
# Slower than this to reach RUNS commands is a hang, not a slow machine (a command takes 2-10 s).
MAX_S = max(SOAK_S, 150.0)
SIZE = (96, 72)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop.launcher", *args], capture_output=True, text=True,
                          timeout=120)


class CommandLoop(threading.Thread):
    """Runs `commands()` (one list of CLI arguments per call) until stopped; keeps every failure."""

    def __init__(self, commands: Callable[[int], list[str]], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.commands, self.stop, self.runs, self.failures = commands, stop, 0, []  # type: ignore[var-annotated]

    def run(self) -> None:
        while not self.stop.is_set():
            args = self.commands(self.runs)
            done = cli(*args)
            self.runs += 1
            if done.returncode != 0 or "Traceback" in done.stderr:
                self.failures.append((args, done.returncode, done.stderr[-2000:]))


def mutate(root: Path, rng: random.Random, step: int) -> None:
    """One thing a person or a phone sync does to the folder: a new photo, a rename, a move, a delete."""
    files = sorted(root.rglob("*.jpg"))
    kind = rng.choice(["new", "new", "rename", "move", "delete"]) if len(files) > 6 else "new"
    if kind == "new":
        write_photo(root / rng.choice(["", "sub"]) / f"p{step:04d}.jpg", seed=1000 + step, size=SIZE)
        return
    path = rng.choice(files)
    if kind == "rename":
        path.rename(path.with_name(f"r{step:04d}.jpg"))
    elif kind == "move":
        other = root / ("sub" if path.parent == root else "") / path.name
        if not other.exists():
            path.rename(other)
    else:
        path.unlink()


@pytest.mark.slow
@pytest.mark.timeout(int(MAX_S) + 240)
def test_engine_and_two_commands_under_folder_changes_end_like_a_fresh_index(
    tmp_path: Path, tiny_siglip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOKALIKE_PRECISION", "fp32")  # vectors independent of batch-mates (see test_state_properties)
    root, data = tmp_path / "photos", tmp_path / "data"
    for i in range(8):
        write_photo(root / ("sub" if i % 2 else "") / f"start{i}.jpg", seed=i, size=SIZE)
    errors: list[Exception] = []
    owner = LibraryOwner(Library(data, model=str(tiny_siglip_dir), workers=0), watch=True,
                         on_error=errors.append, quiet_s=0.3, poll_s=0.2)
    owner.start()
    owner.index([str(root)]).wait(60)
    stop = threading.Event()
    common = ["--data-dir", str(data)]
    writer = CommandLoop(lambda n: (["index", *common, "--json", str(root)] if n % 2 == 0
                                    else ["settings", *common, "results", str(20 + n % 30)]), stop)
    reader = CommandLoop(lambda n: (["status", *common, "--json"] if n % 2 == 0
                                    else ["search", *common, "--text", "a photo", "--k", "5", "--json"]), stop)
    writer.start()
    reader.start()
    rng, step, start = random.Random(7), 0, time.monotonic()

    def soaking() -> bool:
        elapsed = time.monotonic() - start
        enough = writer.runs >= RUNS and reader.runs >= RUNS and elapsed >= SOAK_S
        return not enough and elapsed < MAX_S

    try:
        while soaking():
            mutate(root, rng, step)
            step += 1
            time.sleep(rng.uniform(0.1, 0.6))
    finally:
        stop.set()
        writer.join(180)
        reader.join(180)
    assert writer.failures == [] and reader.failures == []
    assert writer.runs >= RUNS and reader.runs >= RUNS, (writer.runs, reader.runs)
    try:
        time.sleep(2.0)  # the watcher's quiet period and watchdog's move pairing have passed
        owner.submit(Update(("soak end",))).wait(120)  # then one reconciling scan, like the 5-minute timer
        assert owner.queue.wait_idle(60)
        got = _state(owner.library)
    finally:
        owner.close()
    assert errors == []
    on_disk = sorted(str(p) for p in root.rglob("*.jpg"))
    assert sorted(got) == on_disk  # nothing lost, nothing stored twice, nothing stale
    with Library(tmp_path / "fresh", model=str(tiny_siglip_dir), workers=0) as fresh:
        fresh.add_folder(root)
        fresh.update()
        want = _state(fresh)
    for path, vec in want.items():
        np.testing.assert_allclose(got[path], vec, atol=1e-3, err_msg=path)
    status = json.loads(cli("status", *common, "--json").stdout)
    assert status["photos"] == status["indexed"] == len(on_disk) and status["failed"] == 0
    print(f"soak: {step} folder changes, {writer.runs} index/settings and {reader.runs} status/search commands")
