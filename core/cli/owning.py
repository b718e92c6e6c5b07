"""How a writing command gets at the library: it becomes the library's owner, or, while another
process owns it (the app, `lookalike index --watch`), hands its request to that owner and shows the
progress it streams back. Where no owner answers, it waits for the writer lock and says so: a write
command is never refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from core.cli.progress_bar import ProgressBar
from core.errors import LibraryBusyError, LookalikeError
from core.files.paths import default_data_dir
from core.library.facade import Library
from core.session.handoff import send_request
from core.session.handoff_client import OWNER_GONE
from core.session.owner import RETRY, LibraryOwner


def data_dir_of(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def say(line: str) -> None:
    print(f"lookalike: {line}", file=sys.stderr, flush=True)


def own_or_hand_off(
    args: argparse.Namespace, op: str, request: dict[str, Any], **owner_options: Any
) -> LibraryOwner | dict[str, Any]:
    """The owner of the library (this process), or the answer of the process that owns it."""
    try:
        return open_owner(args, 0, **owner_options)
    except LibraryBusyError:
        pass
    bar = ProgressBar(sys.stderr)
    say("another Lookalike process owns this library: handing this to it")
    try:
        answer = send_request(data_dir_of(args), op, request, on_event=bar.update_from_event)
    finally:
        bar.finish()
    if answer is None:
        say("it does not take requests (it may be an older Lookalike); waiting for it to finish...")
    elif answer.get(RETRY) or answer.get("error") == OWNER_GONE:
        say(f"{answer['error']}; waiting to do it here...")
    elif "error" in answer:
        raise LookalikeError(str(answer["error"]))
    else:
        return answer
    return open_owner(args, -1, **owner_options)


def open_owner(args: argparse.Namespace, lock_timeout_s: float, **owner_options: Any) -> LibraryOwner:
    library = Library(
        args.data_dir, model=getattr(args, "model", None), device=getattr(args, "device", None),
        workers=getattr(args, "workers", None), precision=getattr(args, "precision", None),
        lock_timeout_s=lock_timeout_s,
    )
    return LibraryOwner(library, **owner_options)


def absolute_folders(folders: list[str]) -> list[str]:
    """Folders as absolute paths (the owner may run in another working directory), checked to exist."""
    out = []
    for folder in folders:
        path = os.path.abspath(os.path.expanduser(folder))
        if not os.path.isdir(path):
            raise LookalikeError(f"{path} is not a folder")
        out.append(path)
    return out
