"""The preferences dialog: model (from the registry or a local folder), device, precision (with the
precision check's evidence), excluded folders and patterns. It edits a copy of `Settings`; the session
saves and applies it (no restart needed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from core.embedding.device import available_devices
from core.embedding.registry import KNOWN_MODELS
from core.library.records import PrecisionStatus
from core.library.settings import DEVICES, PRECISIONS, Settings
from desktop.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)", "mps": "GPU (Apple)"}
PRECISION_LABELS = {
    "auto": "Automatic: the fastest that passes the check",
    "fp32": "fp32 (full precision)",
    "bf16": "bf16",
    "fp16": "fp16 (GPU)",
    "int8": "int8 (CPU)",
    "int8-mixed": "int8, outlier layers kept full (CPU)",
}


class PreferencesDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        current_model: str,
        parent: QWidget | None = None,
        precision: PrecisionStatus | None = None,
        devices: Sequence[str] | None = None,
    ) -> None:
        """`settings`: as they run (`Library.running_settings`), so OK unchanged changes nothing.
        `devices`: those this computer has (default: core.embedding.device.available_devices())."""
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.resize(600, 440)
        self._settings = settings
        self.model = QComboBox()
        for spec in KNOWN_MODELS.values():
            self.model.addItem(f"{spec.label} (~{spec.download_mb:,} MB)", spec.key)
        chosen = settings.model or current_model  # settings as they run: the model is the running one
        if chosen not in KNOWN_MODELS:
            self.model.addItem(f"Local folder: {chosen}", chosen)
        self.model.setCurrentIndex(max(0, self.model.findData(chosen)))
        browse = QPushButton("Local folder…")
        browse.clicked.connect(self.choose_local_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse)
        self.device = QComboBox()
        self._add_devices(settings.device, available_devices() if devices is None else devices)
        self.precision = QComboBox()
        for p in PRECISIONS:
            self.precision.addItem(PRECISION_LABELS[p], p)
        self.precision.setCurrentIndex(max(0, self.precision.findData(settings.precision)))
        # The evidence in words: what runs, on how many of the user's photos it was checked, how close to
        # full precision and how much faster; or why a faster one failed.
        self.precision_evidence = QLabel(precision.describe() if precision else "Not checked yet.")
        self.precision_evidence.setWordWrap(True)
        if precision is not None and precision.warning:
            self.precision_evidence.setText(f"⚠ {precision.warning}")
        self.raw_pairs = QCheckBox("Show a RAW+JPEG pair as two photos (default: one, shown by its JPEG)")
        self.raw_pairs.setChecked(settings.raw_pairs == "both")
        self.exclude = QPlainTextEdit("\n".join(settings.exclude))
        self.exclude.setPlaceholderText("One per line: a folder (/home/me/Pictures/private) or a pattern (*.gif)")
        form = QFormLayout()
        form.addRow("Model", model_row)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("", self.precision_evidence)
        form.addRow("RAW files", self.raw_pairs)
        form.addRow("Exclude", self.exclude)
        note = QLabel("A new model indexes your photos again in the background; vectors of the old one are "
                      "kept, so switching back is instant.")
        note.setWordWrap(True)
        note.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _add_devices(self, current: str, available: Sequence[str]) -> None:
        """Automatic and the devices that exist here; a saved device that does not stays selectable,
        marked, so opening the dialog never changes it behind the user's back."""
        for d in DEVICES:
            if d == "auto" or d in available:
                self.device.addItem(DEVICE_LABELS[d], d)
            elif d == current:
                self.device.addItem(f"{DEVICE_LABELS[d]}: not available here", d)
        self.device.setCurrentIndex(max(0, self.device.findData(current)))

    def choose_local_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a local model folder")
        if folder:
            self.model.addItem(f"Local folder: {folder}", folder)
            self.model.setCurrentIndex(self.model.count() - 1)

    def chosen_settings(self) -> Settings:
        lines = [line.strip() for line in self.exclude.toPlainText().splitlines()]
        return dataclasses.replace(
            self._settings, model=str(self.model.currentData()), device=str(self.device.currentData()),
            precision=str(self.precision.currentData()), exclude=tuple(line for line in lines if line),
            raw_pairs="both" if self.raw_pairs.isChecked() else "one",
        )
