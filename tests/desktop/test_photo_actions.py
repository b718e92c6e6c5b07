"""Opening a photo and showing it in its folder: the way chosen on each platform, a fallback that really
starts a program, and a sentence for the user when the system has nothing to do it with."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from desktop.photo_actions import Step, open_in_viewer, open_plan, reveal_plan, show_in_folder


def test_show_in_folder_selects_the_file_on_each_platform() -> None:
    linux = reveal_plan("/photos/a b.jpg", "linux")
    assert linux[0] == Step("show-items", "file:///photos/a b.jpg")  # FileManager1.ShowItems over D-Bus
    assert reveal_plan("/photos/a.jpg", "darwin")[0] == Step("run", ("open", "-R", "/photos/a.jpg"))
    assert reveal_plan(r"C:\Photos\a b.jpg", "win32")[0] == Step("run", r'explorer /select,"C:\Photos\a b.jpg"')
    for platform in ("linux", "darwin", "win32"):  # where selecting fails, the folder at least opens
        assert reveal_plan("/photos/a.jpg", platform)[-1] == Step("url", "file:///photos")


def test_opening_on_linux_falls_back_to_xdg_open_without_desktop_services() -> None:
    assert [s.target for s in open_plan("/p/a.jpg", "linux")[1:]] == [("xdg-open", "/p/a.jpg"),
                                                                     ("gio", "open", "/p/a.jpg")]
    assert open_plan("/p/a.jpg", "darwin") == [Step("url", "file:///p/a.jpg")]


@pytest.fixture
def bare_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No programs on PATH, no D-Bus session, no desktop: nothing can open or show a file."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    return empty


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PATH and D-Bus are Linux's handlers")
def test_with_no_handler_each_action_says_why(qapp: object, bare_system: Path, tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"\xff\xd8")
    assert open_in_viewer(str(photo)) == "No application is set to open JPEG files."
    assert open_in_viewer(str(tmp_path / "b.NEF")) == "No application is set to open Nikon RAW files."
    assert show_in_folder(str(photo)) == "No file manager could be started to show a.jpg."


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdg-open is Linux's")
def test_an_xdg_open_on_path_is_started_with_the_photo(qtbot: object, bare_system: Path, tmp_path: Path) -> None:
    said = tmp_path / "said"
    opener = bare_system / "xdg-open"
    opener.write_text(f"#!/bin/sh\necho \"$1\" > {said}\n")
    opener.chmod(opener.stat().st_mode | stat.S_IEXEC)
    assert open_in_viewer(str(tmp_path / "a.jpg")) is None
    qtbot.waitUntil(lambda: said.exists() and said.read_text().endswith("\n"), timeout=10_000)  # type: ignore[attr-defined]
    assert said.read_text().strip() == str(tmp_path / "a.jpg")
