"""A first word that is neither a command nor a photo is refused with what to type instead, never the window."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.commands import SUBCOMMANDS
from core.cli.main import build_parser, main
from desktop.launcher import wants_cli


def test_a_typo_is_refused_by_the_launcher_without_opening_a_window() -> None:
    # A real `lookalike` process: before the fix it opened the window (offscreen here: it never returned).
    done = subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "serach", "--text", "cat"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 2
    assert "lookalike: unknown command 'serach'" in done.stderr
    assert "did you mean 'search'?" in done.stderr
    assert all(name in done.stderr for name in SUBCOMMANDS)


@pytest.mark.parametrize("word", ["models", "serach", "nope.jpg", "holiday/cat.png"])
def test_the_launcher_hands_unknown_words_to_the_command_line(word: str) -> None:
    assert wants_cli([word]) and wants_cli(["--data-dir", "/tmp/lib", word])


def test_an_existing_photo_and_no_word_still_open_the_window(tmp_path: Path) -> None:
    photo = tmp_path / "serach"  # a photo may be named anything; one that exists opens the window
    photo.write_bytes(b"x")
    assert not wants_cli([str(photo)]) and not wants_cli([]) and not wants_cli(["--model", "serach"])


def test_an_unknown_command_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 2
    err = capsys.readouterr().err
    assert "lookalike: unknown command 'models'" in err and "did you mean" not in err
    assert f"commands: {', '.join(SUBCOMMANDS)}" in err


def test_a_missing_photo_is_no_such_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", "/tmp/lib", "holiday.jpg"]) == 2
    assert capsys.readouterr().err.strip() == "lookalike: no such file: holiday.jpg"
    assert main([os.path.join("photos", "cat")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_folder_is_refused_with_the_command_that_adds_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2
    assert f"lookalike index {tmp_path}" in capsys.readouterr().err


def test_options_before_the_command_are_the_commands_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `lookalike --data-dir D status` is how the window's options are typed; argparse alone refused it.
    assert main(["--data-dir", str(tmp_path / "lib"), "status", "--json"]) == 0
    assert str(tmp_path / "lib") in capsys.readouterr().out


def test_help_lists_every_command_and_no_other(capsys: pytest.CaptureFixture[str]) -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(sub.choices) == SUBCOMMANDS
    with pytest.raises(SystemExit):
        main(["--help"])
    # Commands are indented four spaces under COMMAND; their wrapped descriptions further.
    listed = [m[1] for m in re.finditer(r"^    (\S+)", capsys.readouterr().out, re.MULTILINE)]
    assert listed == list(SUBCOMMANDS)
