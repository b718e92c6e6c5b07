"""Preferences show the precision the model runs at with the check's evidence, warn when an explicit
precision failed the check, and hand back the precision the user picks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.library.facade import Library
from core.library.settings import Settings
from desktop.preferences import PreferencesDialog
from tests.tinymodels import add_activation_outliers


def test_preferences_show_the_evidence_and_warn_about_a_failed_explicit_precision(
    qtbot: object, tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOOKALIKE_PRECISION")
    model = add_activation_outliers(Path(shutil.copytree(tiny_siglip_dir, tmp_path / "model")))
    with Library(tmp_path / "data", model=str(model), device="cpu", workers=0) as library:
        library.add_folder(photo_dir)
        library.update()
        library.apply_settings(Settings(model=str(model), device="cpu", precision="int8"))
        library.update()
        status = library.precision_status()
        dialog = PreferencesDialog(library.settings, str(model), None, status)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    text = dialog.precision_evidence.text()
    assert text.startswith("⚠") and "int8" in text and "failed this model's precision check" in text
    assert dialog.precision.currentData() == "int8"
    dialog.precision.setCurrentIndex(dialog.precision.findData("auto"))
    assert dialog.chosen_settings().precision == "auto"


def test_preferences_say_in_words_what_the_check_found(
    qtbot: object, tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOOKALIKE_PRECISION")
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), device="cpu", workers=0) as library:
        library.add_folder(photo_dir)
        library.update()
        status = library.precision_status()
        dialog = PreferencesDialog(library.settings, str(tiny_siglip_dir), None, status)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    assert status.verdict is not None
    assert dialog.precision_evidence.text() == status.describe()
    assert "12 of your photos and 20 generated images" in status.describe()
    assert dialog.precision.currentData() == "auto"


def test_the_precision_check_shows_as_a_step_of_indexing_without_a_photo_rate(tiny_siglip_dir: Path) -> None:
    from core.embedding.calibration import generated_images
    from core.embedding.embedder import load_embedder
    from core.embedding.precision_check import check_precisions
    from core.tasks.progress import Progress, TaskHandle
    from desktop.status_bar import progress_text

    shown: list[str] = []
    handle = TaskHandle(on_progress=lambda p: shown.append(progress_text(p, paused=False)))
    check_precisions(lambda precision, keep: load_embedder(str(tiny_siglip_dir), "cpu", precision),
                     lambda size: generated_images(4), ["int8"], handle)
    assert shown[0] == "Checking precision 0/2" and shown[-1] == "Checking precision 2/2"
    assert progress_text(Progress("indexing", 5, 10, 2.0, 2.5), paused=False) == "Indexing 5/10 · 2.0/s · ETA 0:02"
