"""Writing commands as a user runs them beside another Lookalike process: settings honoured by every
command, a write handed to the process that owns the library, and waiting (never refusing) where no
owner answers. Real processes, sockets, files and the tiny model throughout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.core.test_watch_cli import cli, run, wait_for_line
from tests.imagegen import write_photo


def test_settings_are_shown_set_checked_and_cleared(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    shown = run("settings", *data, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"model": None, "device": "auto", "precision": "auto", "exclude": [],
                                         "results": 50, "raw_pairs": "one",
                                         "keeper": ["resolution", "format", "size", "date", "folders"],
                                         "preferred_folders": []}
    assert run("settings", *data, "exclude", "*.png", "Trash/*").returncode == 0
    assert json.loads(run("settings", *data, "--json").stdout)["exclude"] == ["*.png", "Trash/*"]
    assert run("settings", *data, "exclude").returncode == 0  # no pattern clears the list
    assert json.loads(run("settings", *data, "--json").stdout)["exclude"] == []
    for words, message in ((["colour", "red"], "unknown setting 'colour'"),
                           (["device", "tpu"], "device must be one of auto, cpu, cuda, mps"),
                           (["model", "siglip9"], "Unknown model 'siglip9'"),
                           (["results", "many"], "results must be a number")):
        bad = run("settings", *data, *words)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr


def test_index_honours_exclusions_set_for_the_library(tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert run("settings", *data, "exclude", "*/trip/*").returncode == 0
    done = run("index", *data, "--model", str(tiny_siglip_dir), "--workers", "0", "--json", str(photo_dir))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scanned"] == 10  # the two photos under trip/ stay out
    assert json.loads(run("status", *data, "--json").stdout)["photos"] == 10


def test_index_while_index_watch_runs_is_handed_over_and_becomes_searchable(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    model = [*data, "--model", str(tiny_siglip_dir)]
    second = tmp_path / "phone"
    for i in range(3):
        write_photo(second / f"phone_{i}.jpg", seed=500 + i)
    watcher = subprocess.Popen(cli("index", "--watch", "--workers", "0", *model, str(photo_dir)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_for_line(watcher, "watching 1 folder")
        handed = run("index", *data, "--json", str(second))
        assert handed.returncode == 0, handed.stderr
        assert "handing this to it" in handed.stderr
        assert json.loads(handed.stdout)["embedded"] == 3
        # A copy from outside the library finds the photo (a library photo's own search leaves it out).
        outside = Path(shutil.copyfile(second / "phone_1.jpg", tmp_path / "outside.jpg"))
        found = run("search", *model, "--image", str(outside), "--k", "1", "--json")
        assert json.loads(found.stdout)["results"][0]["path"] == str(second / "phone_1.jpg"), found.stderr
        changed = run("settings", *data, "results", "20")  # a setting is handed over too
        assert changed.returncode == 0, changed.stderr
        assert json.loads(run("settings", *data, "--json").stdout)["results"] == 20
    finally:
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
    status = json.loads(run("status", *data, "--json").stdout)
    assert [f["path"] for f in status["folders"]] == sorted([str(photo_dir), str(second)])
    assert status["indexed"] == 15


HOLDER = """
import sys, time
from core.library.facade import Library
lib = Library(sys.argv[1], model=sys.argv[2])  # owns the writer lock, takes no requests
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
lib.close()
"""


def test_where_no_owner_answers_a_write_waits_for_the_lock_and_says_so(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data), str(tiny_siglip_dir), "4"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    started = time.monotonic()
    done = run("index", "--data-dir", str(data), "--workers", "0", "--json", str(photo_dir))
    assert holder.wait(timeout=30) == 0
    assert done.returncode == 0, done.stderr
    assert "waiting for it to finish" in done.stderr
    assert time.monotonic() - started >= 3  # it waited for the holder, then did the work
    assert json.loads(done.stdout)["embedded"] == 12


def test_a_handed_over_index_whose_owner_closes_midway_is_finished_by_the_command(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    big = tmp_path / "big"
    owner = subprocess.Popen(cli("index", "--watch", "--workers", "0", *data, "--model", str(tiny_siglip_dir),
                                 str(photo_dir)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        # Made while the owner starts (seconds of imports): it watches photo_dir only, never this folder.
        for i in range(150):
            write_photo(big / f"big_{i:03d}.jpg", seed=2000 + i, size=(1600, 1200))
        wait_for_line(owner, "watching 1 folder")
        handed = subprocess.Popen(cli("index", *data, "--json", str(big)), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for_line(handed, "handing this to it")
        # The owner is scanning or embedding the big folder now: the tiny model takes 150 photos in about a
        # second and a half, so close it well before (closing before the request arrives is handled alike).
        time.sleep(0.3)
        owner.send_signal(signal.SIGINT)  # the app is closed mid-job
        assert owner.wait(timeout=60) == 0
        out, err = handed.communicate(timeout=120)
    finally:
        for proc in (owner,):
            if proc.poll() is None:
                proc.kill()
    assert handed.returncode == 0, err
    assert "waiting to do it here" in err
    assert json.loads(out)["scanned"] == 162
    status = json.loads(run("status", *data, "--json").stdout)
    assert status["photos"] == status["indexed"] == 162
