"""Preferences show what runs, and OK without touching anything changes nothing: no settings applied,
no model unloaded, no re-index. A device this computer lacks is not offered; a saved one stays, marked."""

from __future__ import annotations

import json
from pathlib import Path

from core.library.facade import Library
from core.library.settings import Settings
from desktop.library_session import LibrarySession
from desktop.preferences import PreferencesDialog
from desktop.qt import QTimer
from desktop.tasks import TaskManager


def test_ok_unchanged_applies_nothing_when_the_library_runs_the_default_model(qtbot, tmp_path: Path) -> None:
    # A library that never named a model runs the default one: the dialog names it, and confirming
    # it must not be taken for a switch (a new model, its index rebuilt) or touch settings.json.
    data = tmp_path / "data"
    Settings(device="cpu").save(data)
    saved = (data / "settings.json").read_text()
    tasks = TaskManager()
    session = LibrarySession(tasks, data, None, 0)
    submitted: list[str] = []
    with qtbot.waitSignal(session.opened, timeout=20_000):
        session.open()
    try:
        session.owner.queue.subscribe(lambda e: submitted.append(type(e.job.intent).__name__))
        lib = session.library
        dialog = PreferencesDialog(session.running_settings, lib.model_source, None, None, devices=("cpu",))
        qtbot.addWidget(dialog)
        assert dialog.model.currentData() == lib.model_source == "siglip2-base-224"
        QTimer.singleShot(0, dialog.accept)
        assert dialog.exec()
        session.apply_settings(dialog.chosen_settings())
        assert session.owner.queue.wait_idle(20)
        assert "ApplySettings" not in submitted  # (the owner's own catch-up Update may have run)
        assert lib.model_source == "siglip2-base-224" and lib.settings.model is None
        assert (data / "settings.json").read_text() == saved
    finally:
        session.close()


def test_preferences_in_the_window_show_the_model_it_was_started_with(
    qtbot, make_window, tmp_path: Path, tiny_siglip_dir: Path, tiny_siglip2_dir: Path
) -> None:
    # Chosen once (B), then started with --model A: A runs, A is shown, OK keeps A loaded.
    with Library(tmp_path / "data", model=str(tiny_siglip2_dir), workers=0):
        pass
    window = make_window()  # --model A (tiny_siglip_dir)
    qtbot.waitUntil(lambda: window.session.library.model_loaded, timeout=20_000)
    shown: list[PreferencesDialog] = []

    def confirm() -> None:
        dialog = window.findChild(PreferencesDialog)
        shown.append(dialog)
        dialog.accept()

    QTimer.singleShot(0, confirm)
    window.open_preferences()
    assert shown[0].model.currentData() == str(tiny_siglip_dir)
    assert window.session.owner.queue.idle and not window.session.indexing
    assert window.session.library.model_loaded and window.session.library.model_source == str(tiny_siglip_dir)
    assert json.loads((tmp_path / "data" / "settings.json").read_text())["model"] == str(tiny_siglip_dir)


def test_only_devices_this_computer_has_are_offered_and_a_saved_missing_one_stays_marked(qtbot) -> None:
    dialog = PreferencesDialog(Settings(device="cuda"), "siglip2-base-224", None, None, devices=("cpu",))
    qtbot.addWidget(dialog)
    items = {dialog.device.itemData(i): dialog.device.itemText(i) for i in range(dialog.device.count())}
    assert set(items) == {"auto", "cpu", "cuda"}  # no Apple GPU offered; the saved CUDA kept
    assert items["cuda"].endswith("not available here")
    assert dialog.chosen_settings().device == "cuda"  # opening the dialog changed nothing
    fresh = PreferencesDialog(Settings(), "siglip2-base-224", None, None, devices=("cpu",))
    qtbot.addWidget(fresh)
    assert [fresh.device.itemData(i) for i in range(fresh.device.count())] == ["auto", "cpu"]


def test_available_devices_never_imports_torch() -> None:
    import subprocess
    import sys

    code = ("import sys; from core.embedding.device import available_devices; d = available_devices(); "
            "assert d[0] == 'cpu' and 'torch' not in sys.modules, (d, 'torch' in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
