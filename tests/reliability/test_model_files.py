"""Only safetensors weights are ever loaded: a folder with only a pickle checkpoint is refused clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.cli.main import main
from core.embedding.embedder import load_embedder
from core.errors import ModelError


@pytest.fixture
def pickle_only_model(tiny_siglip_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "pickle-model"
    folder.mkdir()
    shutil.copy(tiny_siglip_dir / "config.json", folder / "config.json")
    # Any bytes will do: the point is that they are never unpickled.
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04cos\nsystem\n(S'touch pwned'\ntR.")
    return folder


def test_a_pickle_only_model_folder_is_refused_by_the_loader(pickle_only_model: Path) -> None:
    with pytest.raises(ModelError, match="only safetensors weights are loaded"):
        load_embedder(str(pickle_only_model))
    assert not Path("pwned").exists()


def test_a_pickle_only_model_folder_is_refused_by_the_command_with_exit_3(
    pickle_only_model: Path, photo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["index", "--data-dir", str(tmp_path / "data"), "--model", str(pickle_only_model),
                 str(photo_dir)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "model error" in err and "safetensors" in err and "pytorch_model.bin" in err
