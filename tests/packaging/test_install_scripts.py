"""`packaging/install` and `packaging/uninstall` on a stand-in bundle, in a temporary home."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.files.paths import default_data_dir

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A folder laid out like dist/lookalike after packaging/build; its program only says hello."""
    folder = tmp_path / "dist" / "lookalike"
    (folder / "share" / "icons").mkdir(parents=True)
    program = folder / "lookalike"
    program.write_text("#!/bin/sh\necho lookalike-bundle \"$@\"\n")
    program.chmod(0o755)
    shutil.copy(ROOT / "resources" / "lookalike.desktop", folder / "share")
    for icon in (ROOT / "resources" / "icons").iterdir():
        shutil.copy(icon, folder / "share" / "icons")
    return folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.delenv("LOOKALIKE_DATA_DIR")
    monkeypatch.delenv("LOOKALIKE_CACHE_DIR")
    return home


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(PACKAGING / script), *args], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def installed_paths(home: Path) -> dict[str, Path]:
    data = home / "xdg-data"
    return {
        "app": data / "lookalike" / "app" / "lookalike",
        "command": home / ".local" / "bin" / "lookalike",
        "menu": data / "applications" / "lookalike.desktop",
        "icon48": data / "icons" / "hicolor" / "48x48" / "apps" / "lookalike.png",
        "icon256": data / "icons" / "hicolor" / "256x256" / "apps" / "lookalike.png",
        "svg": data / "icons" / "hicolor" / "scalable" / "apps" / "lookalike.svg",
    }


def test_install_puts_program_command_menu_entry_and_icons_in_the_users_data_dir(
    bundle: Path, home: Path
) -> None:
    run("install", "--bundle", str(bundle))
    paths = installed_paths(home)
    for name, path in paths.items():
        assert path.exists(), f"{name} not installed at {path}"
    command = subprocess.run([str(paths["command"]), "index"], capture_output=True, text=True)
    assert command.stdout.strip() == "lookalike-bundle index"
    menu = paths["menu"].read_text()
    assert f'Exec="{paths["app"]}" %f' in menu.splitlines()  # absolute: works without ~/.local/bin on PATH
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(paths["menu"])], capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout


def test_uninstall_removes_what_install_added_and_keeps_the_photo_library(bundle: Path, home: Path) -> None:
    library = default_data_dir()  # where the app keeps its index, computed as the app does
    library.mkdir(parents=True)
    (library / "library.sqlite3").write_bytes(b"index")
    run("install", "--bundle", str(bundle))

    run("uninstall")

    for name, path in installed_paths(home).items():
        assert not path.exists() and not path.is_symlink(), f"{name} left behind at {path}"
    assert not (home / "xdg-data" / "lookalike").exists()
    assert (library / "library.sqlite3").read_bytes() == b"index"


def test_uninstall_purge_also_deletes_the_library_index_the_app_uses(bundle: Path, home: Path) -> None:
    library = default_data_dir()
    library.mkdir(parents=True)
    run("install", "--bundle", str(bundle))

    run("uninstall", "--purge")

    assert not library.exists()
    assert not installed_paths(home)["app"].exists()


def test_install_leaves_a_lookalike_command_it_did_not_create_alone(bundle: Path, home: Path) -> None:
    # e.g. the script `pip install --user lookalike` puts there
    command = home / ".local" / "bin" / "lookalike"
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\necho pip-installed\n")

    run("install", "--bundle", str(bundle))
    run("uninstall")

    assert command.read_text() == "#!/bin/sh\necho pip-installed\n"


def test_reinstall_replaces_the_program_and_an_unpacked_bundle_installs_itself(bundle: Path, home: Path) -> None:
    run("install", "--bundle", str(bundle))
    (bundle / "lookalike").write_text("#!/bin/sh\necho new-version\n")
    shutil.copy(PACKAGING / "install", bundle / "install")  # as packaging/build ships it

    result = subprocess.run([str(bundle / "install")], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    command = installed_paths(home)["command"]
    assert subprocess.run([str(command)], capture_output=True, text=True).stdout.strip() == "new-version"
