"""The offline first-run dialog: it names the model asked for and its size, and advises no command line."""

from __future__ import annotations

from core.embedding.model_files import offline_error
from core.embedding.registry import resolve_model
from desktop.model_dialogs import unavailable_box


def test_the_offline_dialog_quotes_the_asked_models_size_and_no_command_line_flag(qtbot: object) -> None:
    error = offline_error(resolve_model("siglip-base-384"))
    assert "--model" in str(error)  # the message is worded for the command line...
    box = unavailable_box(error)
    text = box.text()
    assert not box.informativeText()  # said once, in one size
    assert "siglip-base-384" in text and "(~820 MB)" in text
    assert "--" not in text and "1.5 GB" not in text  # ...the dialog's own words are not
    box.deleteLater()
