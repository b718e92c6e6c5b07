"""The model registry and resolving --model values (registry key, repo id, local folder)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from core.embedding.registry import DEFAULT_MODEL, KNOWN_MODELS, resolve_model
from core.errors import ModelError


def test_default_model_is_siglip2_base_224_with_fixed_resolution() -> None:
    spec = KNOWN_MODELS[DEFAULT_MODEL]
    assert spec.repo_id == "google/siglip2-base-patch16-224"
    assert spec.family == "siglip"


def test_registry_holds_the_expected_checkpoints() -> None:
    repos = {spec.repo_id: spec.family for spec in KNOWN_MODELS.values()}
    assert repos == {
        "google/siglip2-base-patch16-224": "siglip",
        "google/siglip2-base-patch16-256": "siglip",
        "google/siglip2-base-patch16-384": "siglip",
        "google/siglip2-so400m-patch14-384": "siglip",
        "google/siglip2-so400m-patch16-naflex": "siglip2",
        "google/siglip-base-patch16-384": "siglip",
    }
    assert all(key == spec.key for key, spec in KNOWN_MODELS.items())


def test_every_revision_is_pinned_to_a_commit() -> None:
    assert all(re.fullmatch(r"[0-9a-f]{40}", spec.revision) for spec in KNOWN_MODELS.values())


def test_registry_key_and_repo_id_resolve_to_the_same_storage_key() -> None:
    by_key = resolve_model("siglip2-base-224")
    by_repo = resolve_model("google/siglip2-base-patch16-224")
    assert by_key == by_repo
    assert by_key.key == "siglip2-base-224"
    assert by_key.revision == KNOWN_MODELS["siglip2-base-224"].revision
    assert not by_key.is_local


def test_unknown_model_lists_the_known_keys() -> None:
    with pytest.raises(ModelError) as caught:
        resolve_model("clip-vit-huge")
    message = str(caught.value)
    assert "clip-vit-huge" in message
    for key in KNOWN_MODELS:
        assert key in message


def test_local_folder_key_is_stable_and_names_the_folder(tiny_siglip_dir: Path) -> None:
    first = resolve_model(str(tiny_siglip_dir))
    second = resolve_model(str(tiny_siglip_dir) + "/")
    assert first.key == second.key
    assert re.fullmatch(rf"local:{re.escape(tiny_siglip_dir.name)}-[0-9a-f]{{12}}", first.key)
    assert first.source == str(tiny_siglip_dir.resolve())
    assert first.revision is None and first.spec is None and first.is_local


def test_local_folder_key_differs_for_different_models(tiny_siglip_dir: Path, tiny_siglip2_dir: Path) -> None:
    assert resolve_model(str(tiny_siglip_dir)).key != resolve_model(str(tiny_siglip2_dir)).key


def test_local_folder_key_changes_when_the_weights_change(tiny_siglip_dir: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(tiny_siglip_dir, tmp_path / tiny_siglip_dir.name)
    assert resolve_model(str(copy)).key == resolve_model(str(tiny_siglip_dir)).key  # same name, same files
    with (copy / "model.safetensors").open("ab") as weights:
        weights.write(b"\0" * 8)
    assert resolve_model(str(copy)).key != resolve_model(str(tiny_siglip_dir)).key


def test_folder_with_only_pickle_weights_is_refused(tiny_siglip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(tiny_siglip_dir / "config.json", folder / "config.json")
    (folder / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelError, match=r"only safetensors weights are loaded.*pytorch_model\.bin"):
        resolve_model(str(folder))


def test_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_folder_with_another_architecture_is_refused(tiny_siglip_dir: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_siglip_dir, tmp_path / "clip"))
    (folder / "config.json").write_text('{"model_type": "clip"}', encoding="utf-8")
    with pytest.raises(ModelError, match="only SigLIP"):
        resolve_model(str(folder))
