"""Typed errors raised by the core. The GUI and the command line decide how to show them."""

from __future__ import annotations


class LookalikeError(Exception):
    """Base of every error the core raises on purpose; its message is meant for the user."""


class DecodeError(LookalikeError):
    """A photo could not be read. `reason` is a short human-readable cause ("truncated JPEG data")."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path


class ModelError(LookalikeError):
    """A model could not be loaded (unknown key, not a SigLIP model, no safetensors weights...)."""


class ModelUnavailableError(ModelError):
    """The model is neither cached nor reachable (offline first run).

    The message is worded for the command line; `model` (the registry key) and `download_size` ("~1,500
    MB", None when unknown) let the GUI word its own advice without command-line flags."""

    def __init__(self, message: str, model: str = "", download_size: str | None = None) -> None:
        super().__init__(message)
        self.model = model
        self.download_size = download_size


class LibraryError(LookalikeError):
    """The library cannot do what was asked (unknown folder, bad data dir...)."""


class LibraryBusyError(LibraryError):
    """Another Lookalike process is writing to this library."""


class StorageError(LookalikeError):
    """Writing to the data directory failed (disk full, read-only): nothing stored was lost."""


class Cancelled(LookalikeError):
    """A long operation stopped because its handle was cancelled. Work done so far is kept."""
