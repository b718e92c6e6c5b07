"""One Lookalike window per user and library: `lookalike [photo.jpg]` (from a terminal, or a file
manager's Open With) while the app runs hands the photo, or "come to the front", to that window and
exits, instead of opening a second window that could not own the library.

Qt-free and engine-free on purpose: the launcher calls `decide` before importing Qt, so with nobody
owning the library the window still starts at full speed (knocking on the handoff door is a few
`lstat`s then), and with an owner the answer comes back in milliseconds.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from core.files.paths import default_data_dir
from core.session.handoff_client import OWNER_GONE, send_request
from core.session.handoff_wire import NO_WINDOW


@dataclass(frozen=True)
class Launch:
    """What `lookalike [image]` does: open the window here (`exit_code` None, searching by `image`, an
    absolute path, once the library is open), or print `message` and exit with `exit_code`."""

    exit_code: int | None
    message: str = ""
    image: str | None = None

    @property
    def opens_window(self) -> bool:
        return self.exit_code is None

    def tell(self) -> None:
        print(self.message, file=sys.stdout if self.exit_code == 0 else sys.stderr, flush=True)


def decide(data_dir: str | Path | None, image: str | None) -> Launch:
    """Hand `image` ("show") or, without one, "raise" to the process owning `data_dir`'s library, if any.

    The image is checked first, so a typo is an error here (exit 2) and nothing is sent. The data dir
    is spelled as the window spells it (desktop.main_window), so both knock on the same door."""
    path = None
    if image is not None:
        path = os.path.abspath(os.path.expanduser(image))  # the owner runs in another working directory
        if not os.path.isfile(path):
            why = "is not a file" if os.path.exists(path) else "does not exist"
            return Launch(2, f"lookalike: {image} {why}")
    folder = Path(data_dir) if data_dir else default_data_dir()
    op, args = ("show", {"image": path}) if path is not None else ("raise", {})
    answer = send_request(folder, op, args, on_event=lambda _event: None)
    if answer is None or answer.get("error") == OWNER_GONE:  # nobody there, or it just closed
        return Launch(None, image=path)
    if answer.get(NO_WINDOW):
        return Launch(2, _held_by_a_command(folder, answer.get("pid"), image))
    if "error" in answer:
        return Launch(1, f"lookalike: the running Lookalike could not take this: {answer['error']}")
    shown = f"showing {os.path.basename(path)} there" if path is not None else "bringing its window to the front"
    return Launch(0, f"Lookalike is already running; {shown}")


def _held_by_a_command(folder: Path, pid: object, image: str | None) -> str:
    # A window could not own the library beside it (it would open, then fail to), and the command
    # line's processes have nothing to show a photo in: say who holds it and what works meanwhile.
    who = f"a Lookalike command (process {pid})" if isinstance(pid, int) else "a Lookalike command"
    meanwhile = f" Meanwhile `lookalike search --image {image}` searches beside it." if image else ""
    return (
        f"lookalike: {who}, such as `lookalike index --watch`, owns the library in {folder}, so the window "
        f"cannot open on it; stop that command (Ctrl+C in its terminal) or let it finish, then start "
        f"Lookalike again.{meanwhile}"
    )
