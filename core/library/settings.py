"""User preferences stored as JSON in the data dir: model, device, exclusions, thumbnail size.

Qt-free so the command line could honour them too. Unknown keys are ignored and missing ones take
their defaults, so an older or newer settings file never stops the app from starting.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

SETTINGS_NAME = "settings.json"
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class Settings:
    model: str | None = None  # None: whatever the library last used (or the default model)
    device: str = "auto"
    exclude: list[str] = field(default_factory=list)  # folders or glob patterns skipped by scans
    thumb_size: int = 160
    results_k: int = 50

    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        try:
            raw = json.loads((data_dir / SETTINGS_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in raw.items() if k in known})
        if settings.device not in DEVICES:
            settings.device = "auto"
        return settings

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=data_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(self), f, indent=2)
        os.replace(tmp, data_dir / SETTINGS_NAME)
