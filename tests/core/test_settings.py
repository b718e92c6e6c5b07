"""Settings live once, in the library folder: saved, validated, and honoured by the core itself, so
the app and every command behave alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ModelError
from core.library.facade import Library
from core.library.settings import SETTINGS_NAME, Settings, SettingsError


def test_saved_preferences_are_loaded_back(tmp_path: Path) -> None:
    Settings(model="siglip2-base-256", device="cpu", precision="fp32", exclude=("*.gif", "/x/private")).save(tmp_path)
    loaded = Settings.load(tmp_path)
    assert (loaded.model, loaded.device, loaded.precision, loaded.exclude) == (
        "siglip2-base-256", "cpu", "fp32", ("*.gif", "/x/private"))
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, nothing left behind


def test_a_damaged_or_unknown_settings_file_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_NAME).write_text("{not json")
    assert Settings.load(tmp_path) == Settings()
    (tmp_path / SETTINGS_NAME).write_text('{"device": "tpu", "precision": 3, "future_option": 1, "exclude": "x"}')
    assert Settings.load(tmp_path) == Settings()


def test_a_saved_model_folder_that_went_missing_is_kept_not_replaced_by_the_default(tmp_path: Path) -> None:
    # Falling back silently to the default model would re-index the whole library with another model.
    (tmp_path / SETTINGS_NAME).write_text('{"model": "/gone/model-folder"}')
    assert Settings.load(tmp_path).model == "/gone/model-folder"


def test_values_typed_by_a_user_are_checked_with_a_message_naming_them() -> None:
    s = Settings()
    assert s.with_value("exclude", ["*.png", "Trash/*"]).exclude == ("*.png", "Trash/*")
    assert s.with_value("exclude", ["*.png"]).with_value("exclude", []).exclude == ()
    assert s.with_value("device", ["cpu"]).device == "cpu"
    assert s.with_value("results", ["20"]).results_k == 20
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        s.with_value("colour", ["red"])
    with pytest.raises(SettingsError, match="device must be one of auto, cpu, cuda, mps, not 'tpu'"):
        s.with_value("device", ["tpu"])
    with pytest.raises(SettingsError, match="precision must be one of"):
        s.with_value("precision", ["int4"])
    with pytest.raises(SettingsError, match="results must be a number, not 'many'"):
        s.with_value("results", ["many"])
    with pytest.raises(SettingsError, match="takes one value"):
        s.with_value("device", ["cpu", "cuda"])
    with pytest.raises(ModelError, match="Unknown model 'siglip9'"):
        s.with_value("model", ["siglip9"])


def test_the_library_honours_saved_exclusions_device_and_precision(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    data = tmp_path / "data"
    Settings(model=str(tiny_siglip_dir), device="cpu", precision="fp32", exclude=("*/trip/*",)).save(data)
    with Library(data, workers=0) as lib:  # no arguments: everything comes from the settings
        assert (lib.model_source, lib.device, lib.precision) == (str(tiny_siglip_dir), "cpu", "fp32")
        lib.add_folder(photo_dir)
        lib.update()
        assert len(lib.photos()) == 10  # the two photos under trip/ are excluded
        assert lib.embedder().precision == "fp32"


def test_a_model_chosen_when_opening_becomes_the_library_model_stored_once(
    tmp_path: Path, tiny_siglip_dir: Path, tiny_siglip2_dir: Path
) -> None:
    data = tmp_path / "data"
    with Library(data, model=str(tiny_siglip2_dir)):
        pass
    assert Settings.load(data).model == str(tiny_siglip2_dir)
    with Library(data, model=str(tiny_siglip_dir), readonly=True) as reader:  # a search's --model: this run only
        assert reader.model_source == str(tiny_siglip_dir)
    with Library(data) as lib:
        assert lib.model_source == str(tiny_siglip2_dir)
        assert lib.store.get_meta("model") is None  # not stored twice


def test_a_library_that_kept_its_model_in_sqlite_adopts_it_into_settings(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    data = tmp_path / "data"
    with Library(data, model=str(tiny_siglip_dir)) as lib:
        lib.store.set_meta("model", str(tiny_siglip_dir))  # as libraries before settings.json held it
    (data / SETTINGS_NAME).unlink()
    with Library(data) as lib:
        assert lib.model_source == str(tiny_siglip_dir)
    assert Settings.load(data).model == str(tiny_siglip_dir)
