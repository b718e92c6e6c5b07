"""The bundle keeps the library and the downloaded models exactly where the pip-installed app does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Prints the folders the app would use. With "frozen", it first makes the interpreter look like
# PyInstaller's (sys.frozen, sys._MEIPASS, sys.executable inside the bundle) before anything is imported.
PROBE = """
import json, sys
if sys.argv[1] == "frozen":
    sys.frozen = True
    sys._MEIPASS = "/opt/bundle/lookalike/_internal"
    sys.executable = "/opt/bundle/lookalike/lookalike"
from core.files.paths import default_cache_dir, default_data_dir
from huggingface_hub import constants
print(json.dumps({"data": str(default_data_dir()), "cache": str(default_cache_dir()),
                  "hf_cache": constants.HF_HUB_CACHE}))
"""


def app_dirs(mode: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, cwd=ROOT, env=os.environ, check=True
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("override", [False, True], ids=["defaults", "LOOKALIKE_DATA_DIR and HF_HOME set"])
def test_frozen_bundle_uses_the_same_library_and_model_cache_as_the_pip_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, override: bool
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "LOOKALIKE_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    if override:
        monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "my-library"))
        monkeypatch.setenv("HF_HOME", str(tmp_path / "my-hf"))
    else:
        monkeypatch.delenv("LOOKALIKE_DATA_DIR")

    pip_app, bundle = app_dirs("pip"), app_dirs("frozen")

    assert bundle == pip_app
    home = tmp_path / "home"
    expected_data = tmp_path / "my-library" if override else home / ".local" / "share" / "Lookalike"
    expected_hf = tmp_path / "my-hf" / "hub" if override else home / ".cache" / "huggingface" / "hub"
    assert (bundle["data"], bundle["hf_cache"]) == (str(expected_data), str(expected_hf))
