"""Dialogs about the model: the first-run download (size, speed, cancel) and the offline first run
(what to do, and a way to point at a model folder on disk)."""

from __future__ import annotations

import time

from core.errors import ModelUnavailableError
from desktop.qt import QFileDialog, QMessageBox, QProgressDialog, Qt, QWidget


class DownloadDialog(QProgressDialog):
    """Shows bytes done / total and the speed; Cancel stops the download (it resumes next time)."""

    def __init__(self, model_label: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Downloading {model_label}…", "Cancel", 0, 1000, parent)
        self.setWindowTitle("Downloading the model")
        self.setMinimumDuration(0)
        self.setAutoClose(True)
        self.model_label = model_label
        self._start = time.monotonic()

    def update_bytes(self, done: int, total: int) -> None:
        mb, total_mb = done / 1e6, total / 1e6
        speed = mb / max(time.monotonic() - self._start, 1e-3)
        self.setLabelText(
            f"Downloading {self.model_label} (first run only)\n"
            f"{mb:,.0f} of {total_mb:,.0f} MB · {speed:,.1f} MB/s")
        self.setValue(int(1000 * done / total) if total else 0)


def ask_for_local_model(error: ModelUnavailableError, parent: QWidget | None = None) -> str | None:
    """The offline first run: explain, and offer to choose a model folder. Returns the folder or None."""
    box = unavailable_box(error, parent)
    choose = box.addButton("Choose a model folder…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is not choose:
        return None
    folder = QFileDialog.getExistingDirectory(parent, "Choose a local model folder")
    return folder or None


def unavailable_box(error: ModelUnavailableError, parent: QWidget | None = None) -> QMessageBox:
    # Worded from the error's fields, not its message: that one advises a command-line flag, and here
    # the button below does the same job. Everything in one text, said once: an informative text under
    # it would repeat the headline in a second size.
    name = f" ({error.model})" if error.model else ""
    size = f" ({error.download_size})" if error.download_size else ""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Lookalike")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        f"Lookalike could not download its image model{name}, and it is not on this computer yet.\n\n"
        f"Connect to the internet and restart Lookalike to download it once{size}, or choose a folder "
        "holding a SigLIP model (config.json and *.safetensors) copied from another computer.\n\n"
        "Browsing your folders works meanwhile; finding look-alikes needs the model.")
    return box
