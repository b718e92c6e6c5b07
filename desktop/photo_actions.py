"""What the user can do with one photo, shared by the grid and the results: open it in the system
viewer, show its folder, copy its path, find its look-alikes (the context menu)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime

from desktop.qt import QDesktopServices, QGuiApplication, QMenu, QPoint, QUrl, QWidget


def open_in_viewer(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def show_in_folder(path: str) -> bool:
    """Open the photo's folder in the file manager. Qt has no portable "select this file": on macOS
    `open -R` and on Windows `explorer /select,` would select it; here the folder itself is opened."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))


def copy_path(path: str) -> None:
    QGuiApplication.clipboard().setText(path)


def describe(path: str, width: int | None, height: int | None, taken_at: float | None,
             score: float | None = None, match: float | None = None) -> str:
    """The tooltip: path, dimensions, date and (for a result) similarity and the model's match probability."""
    lines = [path]
    if width and height:
        lines.append(f"{width} × {height}")
    if taken_at:
        lines.append(datetime.fromtimestamp(taken_at).strftime("%Y-%m-%d %H:%M"))
    if score is not None:
        lines.append(f"similarity {score:.3f}")
    if match is not None:
        lines.append(f"match {match:.0%} (the model's probability that it fits the text)")
    return "\n".join(lines)


def photo_menu(
    parent: QWidget, path: str, find_lookalikes: Callable[[str], None], companions: Sequence[str] = (),
    compose: tuple[Callable[[str], None], Callable[[str], None]] | None = None,
) -> QMenu:
    """The photo's actions; `companions` are the RAW files of a RAW+JPEG pair this JPEG stands for;
    `compose` (add to the query, avoid) where the view takes part in composed queries."""
    menu = QMenu(parent)
    menu.addAction("Open", lambda: open_in_viewer(path))
    menu.addAction("Show in folder", lambda: show_in_folder(path))
    menu.addAction("Find look-alikes of this", lambda: find_lookalikes(path))
    if compose is not None:
        menu.addAction("Add to the query", lambda: compose[0](path))
        menu.addAction("Not like this", lambda: compose[1](path))
    for raw in companions:
        _add_raw_actions(menu, raw)
    menu.addSeparator()
    menu.addAction("Copy path", lambda: copy_path(path))
    return menu


def _add_raw_actions(menu: QMenu, raw: str) -> None:
    name = os.path.basename(raw)
    menu.addAction(f"Open the RAW ({name})", lambda: open_in_viewer(raw))
    menu.addAction(f"Copy the RAW's path ({name})", lambda: copy_path(raw))


def show_photo_menu(
    parent: QWidget, at: QPoint, path: str, find_lookalikes: Callable[[str], None], companions: Sequence[str] = (),
    compose: tuple[Callable[[str], None], Callable[[str], None]] | None = None,
) -> None:
    photo_menu(parent, path, find_lookalikes, companions, compose).exec(at)
