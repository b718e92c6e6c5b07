"""A search by an image that cannot be read fails at once, naming it, before any model loads (seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.cli.main import main
from tests.imagegen import write_photo


@pytest.fixture
def unloadable_model(tmp_path: Path, tiny_siglip_dir: Path) -> Path:
    """A model folder that passes for one until its weights are read: any attempt to load it fails."""
    folder = tmp_path / "broken-model"
    shutil.copytree(tiny_siglip_dir, folder)
    (folder / "model.safetensors").write_bytes(b"not weights")
    return folder


def test_an_unreadable_query_image_is_reported_without_loading_the_model(
    tmp_path: Path, unloadable_model: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    write_photo(good, seed=1)
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is no JPEG")
    # The unreadable one last: every example is checked before the first one is embedded.
    code = main([
        "search", "--data-dir", str(tmp_path / "data"), "--model", str(unloadable_model),
        "--image", str(good), "--not-image", str(bad),
    ])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(bad) in err and "model error" not in err

