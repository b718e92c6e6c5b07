"""The command line's progress bar: tqdm, one bar per stage (scanning, indexing...)."""

from __future__ import annotations

from typing import Any, TextIO

from tqdm import tqdm

from core.tasks.progress import Progress


class ProgressBar:
    """Shows `Progress` snapshots on `out`. On a terminal it redraws ten times a second; into a file or a
    pipe it writes a line every few seconds, so a log stays readable. Callable from any thread."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._bar: Any = None
        self._stage = ""
        self._tty = out.isatty()

    def update(self, p: Progress) -> None:
        if self._bar is None or p.stage != self._stage:
            self.finish()
            self._stage = p.stage
            self._bar = tqdm(
                total=p.total, desc=f"{p.stage:<10}", file=self.out, unit=f" {p.unit}", leave=self._tty,
                mininterval=0.1 if self._tty else 5.0, dynamic_ncols=True, ascii=not self._tty,
            )
        if self._bar.total != p.total:
            self._bar.total = p.total
        self._bar.update(p.done - self._bar.n)

    def update_from_event(self, event: dict[str, Any]) -> None:
        """A progress event relayed by the process that owns the library (core.session.owner)."""
        if event.get("event") == "progress":
            self.update(Progress(str(event["stage"]), int(event["done"]), int(event["total"]),
                                 float(event.get("rate", 0.0)), None, str(event.get("unit", "photos"))))

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
