"""What the user can do with one photo, shared by the grid, the results and the viewer: open it in the
system viewer, show it in its folder, copy its path, find its look-alikes (the context menu).

Opening and showing go through the system, which may have nothing to do it with (no application for
JPEG files, no file manager, no D-Bus session). They never fail silently: each returns None when done,
or a sentence for the user saying why not. Which way is tried is a plan (`open_plan`, `reveal_plan`),
a pure function of the path and the platform, so each platform's choice is tested anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.imaging.formats import EXTENSION_LABELS
from desktop.qt import (
    QDBusConnection,
    QDBusInterface,
    QDBusMessage,
    QDesktopServices,
    QGuiApplication,
    QMenu,
    QMessageBox,
    QPoint,
    Qt,
    QUrl,
    QWidget,
)

FILE_MANAGER = "org.freedesktop.FileManager1"  # the file managers' D-Bus interface (Nautilus, Dolphin...)
# The file manager answers ShowItems once its window is up; a cold start takes a second or two. Past
# this the call is taken as made (the service exists and is busy), so the folder is not opened twice.
DBUS_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Step:
    """One way to ask the system: "url" (Qt's desktop services), "show-items" (the FileManager1 D-Bus
    call, `target` a file URI) or "run" (start a program: `target` its argv, or a command line)."""

    kind: str
    target: str | tuple[str, ...]


def open_plan(path: str, platform: str = sys.platform) -> list[Step]:
    """The ways to open `path` in the system's viewer, in order. On Linux Qt asks xdg-open through the
    desktop session; where the session has no services (no desktop, a bare window manager) the same
    programs are started directly."""
    steps = [Step("url", QUrl.fromLocalFile(path).toString())]
    if platform.startswith("linux") or "bsd" in platform:
        steps += [Step("run", ("xdg-open", path)), Step("run", ("gio", "open", path))]
    return steps


def reveal_plan(path: str, platform: str = sys.platform) -> list[Step]:
    """The ways to show `path` selected in its folder, in order, ending with opening the folder alone."""
    folder = os.path.dirname(path) or "."
    if platform == "darwin":
        first = [Step("run", ("open", "-R", path))]
    elif platform == "win32":
        # explorer parses its own command line: the path must follow "/select," quoted, not be one argument.
        first = [Step("run", f'explorer /select,"{path}"')]
    else:
        first = [Step("show-items", QUrl.fromLocalFile(path).toString())]
    return [*first, Step("url", QUrl.fromLocalFile(folder).toString())]


def open_in_viewer(path: str) -> str | None:
    """Open the photo in the system's viewer; None when done, else why not, for the user."""
    if _first_that_works(open_plan(path)):
        return None
    return f"No application is set to open {format_label(path)} files."


def show_in_folder(path: str) -> str | None:
    """Show the photo selected in its folder (else the folder); None when done, else why not."""
    if _first_that_works(reveal_plan(path)):
        return None
    return f"No file manager could be started to show {os.path.basename(path)}."


def format_label(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return EXTENSION_LABELS.get(ext) or (ext[1:].upper() if ext else "these")


def open_or_say(parent: QWidget, path: str) -> None:
    say_failure(parent, "Cannot open the photo", open_in_viewer(path))


def show_in_folder_or_say(parent: QWidget, path: str) -> None:
    say_failure(parent, "Cannot show the photo's folder", show_in_folder(path))


def say_failure(parent: QWidget, title: str, message: str | None) -> None:
    """Tell the user why an action did nothing, without blocking (the box is window-modal, not `exec`)."""
    if message is None:
        return
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def _first_that_works(steps: Sequence[Step]) -> bool:
    return any(_try(step) for step in steps)


def _try(step: Step) -> bool:
    if step.kind == "url":
        return QDesktopServices.openUrl(QUrl(str(step.target)))
    if step.kind == "show-items":
        return _show_items(str(step.target))
    return _run(step.target)


def _show_items(uri: str) -> bool:
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():  # no desktop session (ssh, a bare X server, a container)
        return False
    manager = QDBusInterface(FILE_MANAGER, "/org/freedesktop/FileManager1", FILE_MANAGER, bus)
    manager.setTimeout(DBUS_TIMEOUT_MS)
    reply = manager.call("ShowItems", [uri], "")
    if reply.type() != QDBusMessage.MessageType.ErrorMessage:
        return True
    return reply.errorName() == "org.freedesktop.DBus.Error.NoReply"  # slow, not absent: see DBUS_TIMEOUT_MS


def _run(command: str | tuple[str, ...]) -> bool:
    """Start a program and leave it running on its own; False when it cannot be started."""
    try:
        subprocess.Popen(command if isinstance(command, str) else list(command), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:  # not installed (FileNotFoundError), not executable, no PATH
        return False
    return True


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
    menu.addAction("Open", lambda: open_or_say(parent, path))
    menu.addAction("Show in folder", lambda: show_in_folder_or_say(parent, path))
    menu.addAction("Find look-alikes of this", lambda: find_lookalikes(path))
    if compose is not None:
        menu.addAction("Add to the query", lambda: compose[0](path))
        menu.addAction("Not like this", lambda: compose[1](path))
    for raw in companions:
        _add_raw_actions(menu, parent, raw)
    menu.addSeparator()
    menu.addAction("Copy path", lambda: copy_path(path))
    return menu


def _add_raw_actions(menu: QMenu, parent: QWidget, raw: str) -> None:
    name = os.path.basename(raw)
    menu.addAction(f"Open the RAW ({name})", lambda: open_or_say(parent, raw))
    menu.addAction(f"Copy the RAW's path ({name})", lambda: copy_path(raw))


def show_photo_menu(
    parent: QWidget, at: QPoint, path: str, find_lookalikes: Callable[[str], None], companions: Sequence[str] = (),
    compose: tuple[Callable[[str], None], Callable[[str], None]] | None = None,
) -> None:
    photo_menu(parent, path, find_lookalikes, companions, compose).exec(at)
