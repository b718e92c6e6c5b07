"""`lookalike index --watch` as a user runs it: a real long-running process, and `status` / `search`
from other processes while it runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.imagegen import write_photo


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "desktop.launcher", *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=120)


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 120) -> list[str]:
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"never printed {needle!r}; stderr so far:\n{''.join(seen)}")


def test_index_watch_makes_a_new_photo_searchable_from_another_process_and_stops_cleanly(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    data = str(tmp_path / "data")
    model = ["--data-dir", data, "--model", str(tiny_siglip_dir)]
    proc = subprocess.Popen(
        cli("index", "--watch", "--workers", "0", *model, str(photo_dir)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for_line(proc, "watching 1 folder")
        new = photo_dir / "just_taken.jpg"
        write_photo(new, seed=900)
        written = time.monotonic()
        # `status` needs no model, so it can look often; the first look that counts the new photo as
        # indexed bounds the latency another process sees.
        while json.loads(run("status", "--data-dir", data, "--json").stdout)["indexed"] < 13:
            assert time.monotonic() - written < 15, "the new photo never became searchable"
        latency = time.monotonic() - written
        print(f"searchable from another process {latency:.2f} s after the write")
        # A copy from outside the library finds it (a library photo's own search leaves it out).
        outside = shutil.copyfile(new, tmp_path / "outside.jpg")
        found = run("search", *model, "--image", str(outside), "--k", "1", "--json")
        assert json.loads(found.stdout)["results"][0]["path"] == str(new), found.stderr
        assert latency < 5.0, f"searchable {latency:.1f} s after the write"

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert proc.stderr is not None
        rest = proc.stderr.read()
        assert "Traceback" not in rest and "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Nothing was lost: a plain re-index has nothing left to embed.
    again = run("index", *model, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["embedded"] == 0
