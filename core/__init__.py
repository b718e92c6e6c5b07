"""Lookalike's engine: everything but the GUI. Never imports Qt (a test and import-linter check it)."""
