"""`lookalike` with no subcommand opens the window; subcommands go to the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import launcher


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    seen: list[tuple] = []
    monkeypatch.setattr(launcher, "run_gui", lambda *a: seen.append(("gui", *a)) or 0)
    import core.cli.main

    monkeypatch.setattr(core.cli.main, "main", lambda argv: seen.append(("cli", list(argv))) or 0)
    return seen


def test_no_arguments_open_the_window(calls: list[tuple]) -> None:
    launcher.main([])
    assert calls == [("gui", None, None, None)]


def test_data_dir_and_model_options_open_the_window_with_them(calls: list[tuple]) -> None:
    launcher.main(["--data-dir", "/tmp/lib", "--model", "siglip2-base-256"])
    assert calls == [("gui", "/tmp/lib", "siglip2-base-256", None)]


def test_a_photo_path_opens_the_window_searching_by_it(calls: list[tuple], tmp_path: Path) -> None:
    photo = tmp_path / "index.jpg"  # named like a subcommand on purpose
    photo.write_bytes(b"x")
    launcher.main([str(photo)])
    assert calls == [("gui", None, None, str(photo))]


def test_subcommands_go_to_the_command_line(calls: list[tuple]) -> None:
    launcher.main(["index", "/photos", "--data-dir", "/tmp/lib"])
    launcher.main(["--data-dir", "/tmp/lib", "status"])
    assert calls == [("cli", ["index", "/photos", "--data-dir", "/tmp/lib"]),
                     ("cli", ["--data-dir", "/tmp/lib", "status"])]


def test_the_window_paints_before_torch_is_imported(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "desktop.first_paint", "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["torch_imported"] is False
    assert result["transformers_imported"] is False
