"""The `lookalike` command as a user runs it: a real process, real folders, the tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.main import main
from tests.imagegen import write_photo


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop.launcher", *args],
        capture_output=True, text=True, timeout=240, env={**os.environ, **(env or {})},
    )


def test_index_search_status_round_trip(tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path) -> None:
    data = str(tmp_path / "data")
    (photo_dir / "broken.jpg").write_bytes(b"garbage")
    model = ["--data-dir", data, "--model", str(tiny_siglip_dir)]

    done = run_cli("index", *model, "--json", "--workers", "1", str(photo_dir))
    assert done.returncode == 0, done.stderr
    library = {"photos": 13, "indexed": 12, "failed": 1, "offline": 0}
    assert json.loads(done.stdout) == {
        "scanned": 13, "embedded": 12, "reused": 0, "removed": 0, "failed": 1, "library": library,
    }
    assert "broken.jpg" in done.stderr  # skipped photos are reported

    again = run_cli("index", *model, "--json")
    # This run failed nothing new; the library still holds the photo it cannot read.
    assert json.loads(again.stdout) == {
        "scanned": 13, "embedded": 0, "reused": 0, "removed": 0, "failed": 0, "library": library,
    }

    query = str(photo_dir / "img_05.jpg")
    found = run_cli("search", *model, "--image", query, "--k", "3", "--json")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    # Its look-alikes, as the app shows them: the photo itself is left out.
    assert len(results) == 3 and query not in {r["path"] for r in results}
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]

    everything = run_cli("search", *model, "--text", "a red bicycle", "--min-score", "-1", "--json")
    listed = json.loads(everything.stdout)["results"]
    assert len(listed) == 12  # default k is 20; the library has 12
    text = json.loads(run_cli("search", *model, "--text", "a red bicycle", "--json").stdout)
    matches = [r["path"] for r in listed if r["match"] >= 0.5]  # the model's own cut (tiny: scale 1, bias 0)
    assert [r["path"] for r in text["results"]] == matches and text["more"] == (len(matches) < 12)

    status = json.loads(run_cli("status", "--data-dir", data, "--json").stdout)
    assert (status["photos"], status["indexed"], status["pending"], status["failed"], status["offline"]) == (
        13, 12, 0, 1, 0,
    )
    assert status["failures"][0]["path"].endswith("broken.jpg") and status["failures"][0]["reason"]
    assert status["folders"][0]["path"] == str(photo_dir)
    assert status["index_bytes"] > 0


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "index" in capsys.readouterr().out


def test_usage_errors_exit_nonzero_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--data-dir", str(tmp_path)]) == 2  # neither --image nor --text
    assert "search needs --image or --text" in capsys.readouterr().err
    assert main(["search", "--data-dir", str(tmp_path), "--text", "x", "--after", "August"]) == 2
    assert "--after 'August' is not a date" in capsys.readouterr().err
    assert main(["search", "--data-dir", str(tmp_path), "--image", str(tmp_path / "nope.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["index", "--data-dir", str(tmp_path), str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_model_that_cannot_be_loaded_is_a_clear_error(tmp_path: Path, photo_dir: Path) -> None:
    done = run_cli(
        "index", "--data-dir", str(tmp_path / "data"), str(photo_dir),
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty-hf-home")},
    )
    assert done.returncode == 3
    assert "siglip2-base-224" in done.stderr or "siglip2-base-patch16-224" in done.stderr
    assert "Traceback" not in done.stderr


def test_data_dir_defaults_to_the_environment(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    photos = tmp_path / "p"
    write_photo(photos / "a.jpg", seed=1)
    env = {"LOOKALIKE_DATA_DIR": str(tmp_path / "envdata"), "LOOKALIKE_MODEL": str(tiny_siglip_dir)}
    assert run_cli("index", str(photos), env=env).returncode == 0
    assert (tmp_path / "envdata" / "library.sqlite3").exists()
