"""What Pillow and libtiff say about a bad photo during `lookalike index` goes to the log, with the photo's
path, not to the terminal (a real process, real decode workers, the tiny model)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.imagegen import write_photo


def _tiff_libtiff_complains_about(folder: Path) -> Path:
    """A deflate TIFF with scrambled data: libtiff writes "ZIPDecode: Decoding error..." to fd 2 from C."""
    path = folder / "scrambled.tif"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8)).save(
        path, compression="tiff_deflate")
    data = bytearray(path.read_bytes())
    for i in range(2000, 6000):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _tiff_pillow_warns_about(folder: Path) -> Path:
    """A TIFF cut in half: Pillow warns ("Truncated File Read", a Python UserWarning) while reading it."""
    path = folder / "halved.tif"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(path, compression="tiff_deflate")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_decoder_messages_go_to_the_log_with_the_photos_path(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    photos, cache = tmp_path / "photos", tmp_path / "cache"
    write_photo(photos / "fine.jpg", seed=1)
    scrambled, halved = _tiff_libtiff_complains_about(photos), _tiff_pillow_warns_about(photos)
    done = subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "index", "--data-dir", str(tmp_path / "data"),
         "--model", str(tiny_siglip_dir), "--workers", "1", str(photos)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "LOOKALIKE_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    assert "ZIPDecode" not in done.stderr and "Warning" not in done.stderr, done.stderr
    log = (cache / "lookalike.log").read_text()
    lines = log.splitlines()
    assert any("ZIPDecode" in line and str(scrambled) in line for line in lines), log
    assert any("UserWarning: Truncated File Read" in line and str(halved) in line for line in lines), log
