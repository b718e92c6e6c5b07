"""The owner's socket file: private from its first instant; a dead owner's is replaced, only ours removed."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from pathlib import Path


def identity(path: Path) -> tuple[int, int]:
    info = os.lstat(path)
    return info.st_dev, info.st_ino


def remove(path: Path, ident: tuple[int, int]) -> None:
    """Unlink `path` if it is still the file we bound (`identity` right after `bind`)."""
    with contextlib.suppress(OSError):
        if identity(path) == ident:
            os.unlink(path)


def bind(path: Path, backlog: int) -> socket.socket:
    clear_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound = False
    try:
        # umask makes the file private from its first instant. 077 and not 177: another thread creating
        # a folder in this instant gets a usable 0700 rather than a broken 0600.
        old = os.umask(0o077)
        try:
            sock.bind(str(path))
            bound = True
        finally:
            os.umask(old)
        os.chmod(path, 0o600)  # before listen(): nobody can connect until it is exactly 0600
        sock.listen(backlog)
        sock.setblocking(False)  # accept() only after select() says so, and never waits
    except BaseException:
        sock.close()
        if bound:
            os.unlink(path)
        raise
    return sock


def clear_stale(path: Path) -> None:
    """Remove a socket file no process listens on (its owner was killed). Anything else stays."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise FileExistsError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        os.unlink(path)  # nobody listens: its owner died
        return
    except OSError:
        pass  # a listener too busy or frozen to take the probe is alive: never steal its path
    finally:
        probe.close()
    raise FileExistsError(f"another process already listens on {path}")


def shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)  # wakes its thread's recv; the thread then closes it
