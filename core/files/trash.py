"""Moving a user's photos to the system trash: the only code in Lookalike that removes a photo from where it is.

The contract, per file, and why:
- It is only ever *moved to the trash* (Send2Trash: the freedesktop.org Trash on Linux, including a
  volume's own `.Trash-<uid>`, the macOS Trash, the Windows Recycle Bin), so the user can put it back.
  Nothing here deletes, writes to or changes a file. Where no trash can take it, the file stays put and
  the outcome says so: Lookalike never deletes permanently.
- Only a file inside one of the library's folders is moved, judged by its real path, so a symlink (to a
  file or a folder) that leads outside them counts as outside: the user never chose to trash that file.
- Only the file the user saw is moved: it must still be a regular file with the size and modification
  time the library's photo row recorded when the photos were grouped. A file edited since then may no
  longer be a look-alike at all.
- A symlink in a library folder is moved itself, never its target: the target is a photo of its own
  (often the very copy the user chose to keep).
- Each file gets its own outcome with a specific reason; one file's failure never stops the others.

What Send2Trash 2.x does on Linux (send2trash/plat_other.py, used when PyGObject is absent): a file on the
home folder's device goes to $XDG_DATA_HOME/Trash (read once, when send2trash is imported); a file on
another device goes to that volume's `.Trash/<uid>` or `.Trash-<uid>`, else it raises (TrashPermissionError
when the volume's root is not writable, OSError otherwise). Its only fallback is for a home trash on
another device (EXDEV): a whole copy goes into the home trash before the original is unlinked, still
recoverable. It refuses a file the user may not write (an OSError(EACCES) without a filename).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import send2trash

_NEVER_DELETES = "(Lookalike never deletes permanently)"
_VANISHED = "vanished since it was grouped: nothing to move"
_PERMISSION_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
# A trash folder that cannot be made or used where it must be; others (a full disk, a name too long for its
# .trashinfo) are worded by the system's own message.
_NO_TRASH_ERRNOS = _PERMISSION_ERRNOS | {errno.ENOENT, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ELOOP}


@dataclass(frozen=True)
class TrashRequest:
    """A photo to move to the trash, as the library last saw it."""

    path: str  # absolute path
    size: int  # bytes when the caller last saw the file (from the library's photo row)
    mtime_ns: int  # its modification time then


@dataclass(frozen=True)
class TrashOutcome:
    """What happened to one `TrashRequest`."""

    path: str
    trashed: bool
    reason: str | None  # None when trashed; else a specific sentence for the user
    bytes: int  # size moved (0 when not moved)


def move_to_trash(requests: Sequence[TrashRequest], roots: Sequence[str]) -> list[TrashOutcome]:
    """Move each requested file to the system trash if it is inside `roots` (the library's folders) and
    unchanged since the caller saw it (see the module docstring). One outcome per request, in order; one
    file's failure never stops the others."""
    real_roots = [os.path.normcase(os.path.realpath(root)) for root in roots]
    return [_move_one(request, real_roots) for request in requests]


def _move_one(request: TrashRequest, real_roots: Sequence[str]) -> TrashOutcome:
    refusal = _refusal(request, real_roots)
    if refusal is not None:
        return _kept(request, refusal)
    try:
        moved_bytes = os.lstat(request.path).st_size  # what moves: the file, or a symlink itself
        send2trash.send2trash(request.path)
    except OSError as error:
        return _kept(request, _failure_reason(request.path, error))
    except Exception as error:  # a platform backend's own error type: still only this file's failure
        return _kept(request, f"could not be moved to the trash ({error}): not moved")
    if os.path.lexists(request.path):
        # Send2Trash reported success yet the file is still there (seen on Windows network shares).
        return _kept(request, "is still in its folder although the system reported it moved to the trash")
    return TrashOutcome(request.path, True, None, moved_bytes)


def _kept(request: TrashRequest, reason: str) -> TrashOutcome:
    return TrashOutcome(request.path, False, reason, 0)


def _refusal(request: TrashRequest, real_roots: Sequence[str]) -> str | None:
    """Why this file must not be moved, or None when it may (checked just before the move)."""
    path = request.path
    if not os.path.isabs(path):
        return "not an absolute path: not moved"
    if not _inside_roots(path, real_roots):
        return "not in a library folder: not moved"
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return _VANISHED
    except OSError as error:
        return f"could not be read ({error.strerror or error}): not moved"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file: not moved"
    if st.st_size != request.size or st.st_mtime_ns != request.mtime_ns:
        return "changed since it was grouped: not moved; group again"
    return _folder_refusal(path)


def _folder_refusal(path: str) -> str | None:
    folder = os.path.dirname(path)
    # Checked before the move: Send2Trash writes the trash's .trashinfo entry before it tries the rename,
    # so a refused rename would leave an entry for a file that never arrived.
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only: not moved"
    if not _windows_drive_keeps_a_recycle_bin(path):
        return f"no trash is available for {folder}: not moved {_NEVER_DELETES}"
    return None


def _inside_roots(path: str, real_roots: Sequence[str]) -> bool:
    """Both the entry itself (its folder resolved) and what it leads to must lie inside a root."""
    entry = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    target = os.path.realpath(path)
    return all(any(_is_below(os.path.normcase(p), root) for root in real_roots) for p in (entry, target))


def _is_below(path: str, root: str) -> bool:
    return path != root and path.startswith(root.rstrip(os.sep) + os.sep)


def _windows_drive_keeps_a_recycle_bin(path: str) -> bool:
    """Windows deletes for good, silently, where it keeps no Recycle Bin (network shares, USB sticks and
    SD cards, RAM disks) and Send2Trash cannot tell (arsenetar/send2trash#2, #94): trust fixed drives only."""
    if sys.platform != "win32":
        return True
    import ctypes

    drive = os.path.splitdrive(path)[0]
    if not drive or drive.startswith("\\\\"):  # a UNC path: a network share
        return False
    drive_fixed = 3  # GetDriveTypeW's DRIVE_FIXED
    return bool(ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == drive_fixed)


def _failure_reason(path: str, error: OSError) -> str:
    """A sentence for the user from Send2Trash's error, told apart by what it names and by the file's and
    its folder's permissions now."""
    if not os.path.lexists(path):
        return _VANISHED  # removed by something else between the checks and the move
    folder = os.path.dirname(path)
    no_trash = f"no trash is available for {folder}: not moved {_NEVER_DELETES}"
    if isinstance(error, send2trash.TrashPermissionError):
        return no_trash  # a volume whose root will not take a .Trash-<uid>
    if error.errno in _PERMISSION_ERRNOS and (read_only := _read_only_reason(path)):
        return read_only
    if _names_the_trash(path, error) and error.errno in _NO_TRASH_ERRNOS:
        return no_trash  # the trash's folders cannot be made where they must be
    if error.errno is None and "mount point" in str(error):
        return no_trash  # plat_other could not find the volume that should hold this file's trash
    return f"could not be moved to the trash ({error.strerror or error}): not moved"


def _read_only_reason(path: str) -> str | None:
    folder = os.path.dirname(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only: not moved"
    if not os.access(path, os.W_OK):
        return "the file is read-only, and the trash takes only files you may change: not moved"
    return None


def _names_the_trash(path: str, error: OSError) -> bool:
    """Whether the error is about a path other than the file: the trash's own folders (Send2Trash names
    the folder it failed to create, or the .trashinfo it failed to write)."""
    if not isinstance(error.filename, (str, bytes)):  # None, or the Windows backend's list of paths
        return False
    named = os.fsdecode(error.filename)
    return named != path and os.path.normcase(named) != os.path.normcase(path)
