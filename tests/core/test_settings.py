"""Preferences survive a restart, and a damaged settings file never stops the app."""

from __future__ import annotations

from pathlib import Path

from core.library.settings import SETTINGS_NAME, Settings


def test_saved_preferences_are_loaded_back(tmp_path: Path) -> None:
    Settings(model="siglip2-base-256", device="cpu", exclude=["*.gif", "/x/private"]).save(tmp_path)
    loaded = Settings.load(tmp_path)
    assert (loaded.model, loaded.device, loaded.exclude) == ("siglip2-base-256", "cpu", ["*.gif", "/x/private"])


def test_a_damaged_or_unknown_settings_file_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_NAME).write_text("{not json")
    assert Settings.load(tmp_path) == Settings()
    (tmp_path / SETTINGS_NAME).write_text('{"device": "tpu", "future_option": 1}')
    assert Settings.load(tmp_path) == Settings()
