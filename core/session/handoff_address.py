"""Where the owner of a library listens: `<data_dir>/owner.sock`, or a short path in a private folder.

A Unix socket path must fit in `sun_path` (108 bytes on Linux, 104 on macOS and the BSDs, NUL
included), and a data dir can be longer than that. The owner then listens in a per-user runtime
folder instead, under a name made from a hash of the data dir; a client computes the same candidates
in the same order and tries each, so it finds the owner without any file telling it where to look.
Every spelling of the data dir (relative, through a symlink) is resolved first so that both sides
agree on the candidates.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from pathlib import Path

SOCKET_NAME = "owner.sock"
# sun_path's size minus the terminating NUL.
MAX_SOCKET_PATH = 107 if sys.platform.startswith("linux") else 103


def candidates(data_dir: Path) -> list[Path]:
    """Every path an owner of `data_dir` may listen on, in the order the owner prefers them."""
    real = Path(os.path.realpath(data_dir))
    tag = hashlib.sha256(os.fsencode(str(real))).hexdigest()[:16]
    found = [real / SOCKET_NAME]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        found.append(Path(runtime) / f"lookalike-{tag}.sock")
    found.append(private_temp_dir() / f"owner-{tag}.sock")
    return [p for p in found if fits(p)]


def fits(path: Path) -> bool:
    return len(os.fsencode(str(path))) <= MAX_SOCKET_PATH


def private_temp_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"lookalike-{os.getuid()}"


def is_private_dir(folder: Path) -> bool:
    """True when `folder` is a real directory (not a symlink) of this user that nobody else can write to.

    Only then may the owner's socket live in it: another user able to write there could swap the
    socket for their own and read what our command line sends."""
    return _owned_dir_without(folder, 0o022)


def is_secret_dir(folder: Path) -> bool:
    """A private dir that others cannot even enter (0700): what a shared parent (/run/user, the temp
    dir) must be, and the last line of defence where a peer's credentials cannot be read."""
    return _owned_dir_without(folder, 0o077)


def _owned_dir_without(folder: Path, forbidden_bits: int) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & forbidden_bits


def listening_path(data_dir: Path) -> Path | None:
    """The path the owner should bind: the first candidate whose folder is private (the runtime
    folder under the temp dir is created 0700 when needed); None if there is none."""
    real = Path(os.path.realpath(data_dir))
    for path in candidates(data_dir):
        if path.parent == private_temp_dir():
            _make_private_dir(path.parent)
        private = is_private_dir if path.parent == real else is_secret_dir
        if private(path.parent):
            return path
    return None


def _make_private_dir(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass  # is_secret_dir then checks that it is ours and private; we never loosen or adopt one
    except OSError:
        pass  # an unwritable temp dir: the candidate is simply refused
