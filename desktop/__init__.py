"""Lookalike's PySide6 desktop app. Talks to the engine only through `core.library.facade.Library`."""
