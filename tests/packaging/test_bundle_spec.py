"""What the PyInstaller spec bundles: every Qt module the window uses, the SigLIP code transformers loads
by name, and the bundle's entry point."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "lookalike.spec"


def spec_constant(name: str) -> Any:
    """A literal assigned at the spec's top level (the spec itself only runs inside PyInstaller)."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {SPEC}")


def qt_modules_used_by_the_app() -> set[str]:
    used: set[str] = set()
    for source in (ROOT / "desktop").rglob("*.py"):
        used |= set(re.findall(r"\bPySide6\.(Qt\w+)", source.read_text(encoding="utf-8")))
    return used


def test_spec_excludes_the_heavy_qt_modules_the_app_does_not_use() -> None:
    excluded = set(spec_constant("UNUSED_QT"))
    for heavy in ("QtWebEngineCore", "QtQml", "QtQuick", "Qt3DCore", "QtMultimedia", "QtPdf", "QtCharts",
                  "QtDataVisualization", "QtDesigner"):
        assert heavy in excluded


def test_spec_never_excludes_a_qt_module_the_window_imports() -> None:
    used = qt_modules_used_by_the_app()
    assert "QtWidgets" in used  # the scan itself works
    assert not used & set(spec_constant("UNUSED_QT")), "the bundled window would fail to import these"


@pytest.mark.parametrize("fixture", ["tiny_siglip_dir", "tiny_siglip2_dir"])
def test_spec_bundles_the_transformers_code_each_model_family_loads(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    folder: Path = request.getfixturevalue(fixture)
    kept = set(spec_constant("KEPT_MODEL_FAMILIES"))
    model_type = json.loads((folder / "config.json").read_text())["model_type"]
    tokenizer_class = json.loads((folder / "tokenizer_config.json").read_text())["tokenizer_class"]
    import transformers

    tokenizer_module = getattr(transformers, tokenizer_class).__module__  # e.g. transformers.models.gemma....
    assert {"auto", model_type, tokenizer_module.split(".")[2]} <= kept


def load_entry() -> Any:
    spec = importlib.util.spec_from_file_location("bundle_entry", ROOT / "packaging" / "bundle_entry.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_programs_the_bundle_starts_get_the_users_library_path_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # PyInstaller's bootloader prepends the bundle; a file manager started from the app must not load our Qt.
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/lookalike/_internal:/usr/local/lib")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    monkeypatch.setenv("QML2_IMPORT_PATH", "/opt/lookalike/_internal/PySide6/Qt/qml")

    load_entry()._restore_child_environment()

    assert os.environ["LD_LIBRARY_PATH"] == "/usr/local/lib"
    assert "LD_LIBRARY_PATH_ORIG" not in os.environ and "QML2_IMPORT_PATH" not in os.environ


def test_packaging_scripts_are_executable() -> None:
    for name in ("build", "smoke-test", "install", "uninstall"):
        assert os.access(ROOT / "packaging" / name, os.X_OK), f"packaging/{name} lost its executable bit"
