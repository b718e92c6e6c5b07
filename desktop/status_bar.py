"""The status bar: model state, indexing progress (done/total, rate, ETA) with pause/resume, the
number of unreadable photos (opens the errors panel) and the last error message.

Its parts keep fixed minimum widths, measured from the widest text each is expected to show, so the
buttons stay put while the numbers beside them grow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.plurals import counted
from desktop.qt import QLabel, QProgressBar, QStatusBar, Qt, QToolButton, QWidget, Signal

if TYPE_CHECKING:
    from core.tasks.progress import Progress

MESSAGE_MS = 8000
# The widest text each part is expected to show (a million-photo library, a day-long ETA): its minimum width.
WIDEST = {
    "progress": "Checking precision 8,888,888/8,888,888 · 888.8/s · ETA 88:88:88",
    "photos": "8,888,888 photos, 8,888,888 indexed",
    "errors": "⚠ 888,888 unreadable",
    "model": "Model: downloading",
}


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def shown(p: Progress) -> bool:
    """A stage with nothing to do ("Matching moved photos 0/0" for a new folder) is not shown."""
    return p.total > 0


def progress_text(p: Progress, paused: bool) -> str:
    parts = [f"{p.stage.capitalize()} {p.done:,}/{p.total:,}"]
    if paused:
        parts.append("paused")
    elif p.rate > 0 and p.unit == "photos":  # "0.2 precisions/s" would mean nothing to anyone
        parts.append(f"{p.rate:.1f}/s")
        if p.eta_s is not None and p.done < p.total:
            parts.append(f"ETA {format_eta(p.eta_s)}")
    return " · ".join(parts)


class StatusBar(QStatusBar):
    pause_requested = Signal()
    resume_requested = Signal()
    errors_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.model_label = QLabel("Model: not loaded")
        self.photos_label = QLabel("")
        self.progress_label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(False)
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.clicked.connect(self._toggle_pause)
        self.errors_button = QToolButton()
        self.errors_button.setAutoRaise(True)
        self.errors_button.clicked.connect(self.errors_requested.emit)
        for w in (self.progress_label, self.bar, self.pause_button):
            self.addPermanentWidget(w)
        self.addPermanentWidget(self.errors_button)
        self.addPermanentWidget(self.photos_label)
        self.addPermanentWidget(self.model_label)
        self._fix_widths()
        self._paused = False
        self.set_indexing(False)
        self.set_failures(0)

    def _fix_widths(self) -> None:
        def fix(widget: QWidget, widest: str, pad: int = 0) -> None:
            # +4: text advances are fractional and rounded; a label must never outgrow its minimum by a pixel
            widget.setMinimumWidth(widget.fontMetrics().horizontalAdvance(widest) + pad + 4)

        fix(self.progress_label, WIDEST["progress"])
        fix(self.photos_label, WIDEST["photos"])
        fix(self.model_label, WIDEST["model"])
        fix(self.errors_button, WIDEST["errors"], 12)  # the tool button's frame and margins
        fix(self.pause_button, max(("Pause", "Resume"), key=self.pause_button.fontMetrics().horizontalAdvance), 16)
        for label in (self.progress_label, self.photos_label, self.model_label):
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def set_model_state(self, state: str) -> None:
        self.model_label.setText(f"Model: {state}")

    def set_photo_count(self, photos: int, indexed: int) -> None:
        self.photos_label.setText(f"{counted(photos, 'photo')}, {indexed:,} indexed")

    def set_indexing(self, running: bool) -> None:
        for w in (self.progress_label, self.bar, self.pause_button):
            w.setVisible(running)
        if not running:
            self._paused = False
            self.pause_button.setText("Pause")

    def set_progress(self, p: Progress, paused: bool | None = None) -> None:
        """`paused`: whether the queue is paused now (the truth; None keeps what this bar was told)."""
        if paused is not None:
            self.set_paused(paused)
        if not shown(p):
            return
        self.progress_label.setText(progress_text(p, self._paused))
        self.bar.setMaximum(max(p.total, 1))
        self.bar.setValue(min(p.done, max(p.total, 1)))

    def set_paused(self, paused: bool) -> None:
        was, self._paused = self._paused, paused
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused != was:  # the rate and ETA mean nothing while paused; they come back with the next progress
            stage = self.progress_label.text().split(" · ")[0]
            self.progress_label.setText(f"{stage} · paused" if paused else stage)

    def set_failures(self, count: int) -> None:
        self.errors_button.setText(f"⚠ {count:,} unreadable" if count else "")
        self.errors_button.setVisible(count > 0)

    def show_error(self, message: str) -> None:
        self.showMessage(message, MESSAGE_MS)

    def _toggle_pause(self) -> None:
        (self.resume_requested if self._paused else self.pause_requested).emit()
