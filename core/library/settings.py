"""A library's preferences, stored once as `settings.json` in its data folder and honoured alike by the
app and every command: model, device, precision, exclusions (and two view preferences).

`Settings` is immutable; `with_value(key, values)` parses what a user typed (the CLI's `lookalike
settings KEY VALUE...`, the app's Preferences) and raises `SettingsError` naming the bad value. A
damaged or newer file never stops anything: unknown keys are ignored and bad values take their default.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from core.errors import LookalikeError

SETTINGS_NAME = "settings.json"
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8", "int8-mixed")
# The keys a user sets by name (`lookalike settings KEY VALUE...`), with what each value means.
USER_KEYS = {
    "model": "a model key (siglip2-base-224, ...) or a local model folder",
    "device": "auto, cpu, cuda or mps",
    "precision": "auto (the fastest that passes the precision check), fp32, bf16, fp16, int8 or int8-mixed",
    "exclude": "folders or glob patterns skipped by scans (several values; none clears the list)",
    "results": "how many look-alikes a search shows (1-1000)",
    "raw_pairs": "one (a RAW+JPEG pair is one photo, shown by its JPEG) or both (two photos)",
    "keeper": "which duplicate to keep, rules in order: resolution format size date folders",
    "preferred_folders": "folders whose copy of a duplicate is kept first (several values; none clears)",
}
RAW_PAIRS = ("one", "both")
KEEPER_RULES = ("resolution", "format", "size", "date", "folders")  # as core.duplicates.keeper.RULES


class SettingsError(LookalikeError):
    """A setting that does not exist, or a value it cannot take."""


@dataclass(frozen=True)
class Settings:
    model: str | None = None  # None: the default model
    device: str = "auto"
    precision: str = "auto"  # auto: the fastest that passed the precision check (core.library.precision)
    exclude: tuple[str, ...] = ()  # folders or glob patterns skipped by scans
    thumb_size: int = 160
    results_k: int = 50
    raw_pairs: str = "one"  # core.library.raw_pairs
    keeper_rules: tuple[str, ...] = KEEPER_RULES  # core.duplicates.keeper
    preferred_folders: tuple[str, ...] = ()

    # -- reading and writing ------------------------------------------------------------------------
    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        try:
            raw = json.loads((data_dir / SETTINGS_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls.from_json(raw) if isinstance(raw, dict) else cls()

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Settings:
        """Each known key that holds a valid value; the rest keep their defaults."""
        settings = cls()
        for f in fields(cls):
            if f.name in raw:
                with contextlib.suppress(SettingsError):
                    settings = replace(settings, **{f.name: _checked(f.name, raw[f.name], saved=True)})
        return settings

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("exclude", "keeper_rules", "preferred_folders"):
            out[key] = list(out[key])
        return out

    def save(self, data_dir: Path) -> None:
        """Write atomically: a crash mid-save leaves the previous settings, never half a file."""
        from core.files.atomic import write_bytes_atomically

        data_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=2) + "\n"
        write_bytes_atomically(data_dir / SETTINGS_NAME, text.encode("utf-8"))

    # -- changing -----------------------------------------------------------------------------------
    def with_value(self, key: str, values: list[str]) -> Settings:
        """These settings with `key` set from the words a user typed; `SettingsError` if they are wrong."""
        if key not in USER_KEYS:
            raise SettingsError(f"unknown setting {key!r}; settings are: {', '.join(USER_KEYS)}")
        if key == "exclude":
            return replace(self, exclude=_checked("exclude", values))
        if key == "keeper":
            return replace(self, keeper_rules=_checked("keeper_rules", values))
        if key == "preferred_folders":
            return replace(self, preferred_folders=_checked("preferred_folders", values))
        if len(values) != 1:
            raise SettingsError(f"{key} takes one value ({USER_KEYS[key]}), got {len(values)}")
        if key == "results":
            return replace(self, results_k=_checked("results_k", values[0]))
        return replace(self, **{key: _checked(key, values[0])})

    def differences(self, other: Settings) -> dict[str, Any]:
        """The fields `other` sets differently, with `other`'s values (what a change must apply)."""
        return {f.name: getattr(other, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(other, f.name)}

    def user_values(self) -> dict[str, Any]:
        """The settings a user sets by name, as `lookalike settings` shows them."""
        return {
            "model": self.model, "device": self.device, "precision": self.precision,
            "exclude": list(self.exclude), "results": self.results_k, "raw_pairs": self.raw_pairs,
            "keeper": list(self.keeper_rules), "preferred_folders": list(self.preferred_folders),
        }


def _checked(key: str, value: Any, saved: bool = False) -> Any:
    """`value` for `key` in its stored form, or SettingsError naming it. A saved model is kept as it is
    even when its folder is missing now: loading it says so clearly, where a silent fallback to the
    default model would re-index the library with another model."""
    if key == "model":
        if value is None or saved:
            if value is not None and not isinstance(value, str):
                raise SettingsError("model must be a string")
            return value
        from core.embedding.registry import resolve_model

        resolve_model(str(value))  # ModelError (a clear message) for an unknown key or a bad folder
        return str(value)
    if key in ("device", "precision", "raw_pairs"):
        allowed = {"device": DEVICES, "precision": PRECISIONS, "raw_pairs": RAW_PAIRS}[key]
        if value not in allowed:
            raise SettingsError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        return value
    if key == "exclude":
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise SettingsError("exclude takes a list of folders or patterns")
        return tuple(v.strip() for v in value if v.strip())
    if key == "keeper_rules":
        return _keeper_rules(value)
    if key == "preferred_folders":
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise SettingsError("preferred_folders takes a list of folders")
        return tuple(os.path.abspath(os.path.expanduser(v.strip())) for v in value if v.strip())
    if key in ("results_k", "thumb_size"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{'results' if key == 'results_k' else key} must be a number, not {value!r}") from None
        low, high = (1, 1000) if key == "results_k" else (48, 512)
        if not low <= number <= high:
            raise SettingsError(f"{'results' if key == 'results_k' else key} must be {low}-{high}, not {value}")
        return number
    raise SettingsError(f"unknown setting {key!r}")


def _keeper_rules(value: Any) -> tuple[str, ...]:
    """The rules in the user's order; those not named follow in the default order."""
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise SettingsError("keeper takes rule names in order: " + " ".join(KEEPER_RULES))
    named = [v.strip().lower() for v in value if v.strip()]
    unknown = [v for v in named if v not in KEEPER_RULES]
    if unknown:
        raise SettingsError(f"unknown keeper rule {unknown[0]!r}; rules are: {' '.join(KEEPER_RULES)}")
    ordered = list(dict.fromkeys(named))
    return tuple(ordered + [r for r in KEEPER_RULES if r not in ordered])
