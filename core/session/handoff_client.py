"""The client side of the handoff channel: hand one command to the process that owns a library."""

from __future__ import annotations

import logging
import os
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.session import handoff_address, handoff_peer
from core.session.handoff_wire import PROTOCOL, HandoffError, ProtocolError, encode, parse_request, read_frame

log = logging.getLogger(__name__)

OWNER_GONE = "the Lookalike process that owns the library stopped before answering"


def send_request(
    data_dir: Path,
    op: str,
    args: dict[str, Any],
    on_event: Callable[[dict[str, Any]], None],
    connect_timeout_s: float = 2.0,
) -> dict[str, Any] | None:
    """Hand `op` to the process that owns `data_dir`'s library and wait for its answer.

    None when no owner answers within `connect_timeout_s` (no socket, a stale socket file left by a
    killed owner, refused, another user's socket, no AF_UNIX on this system): the request was not
    sent, so the caller may wait for the writer lock and do the work itself. Otherwise the owner's
    final answer, `{"error": message}` when it failed; once the request is sent this waits as long as
    the owner works (an index can take hours). Events (`{"event": "progress", ...}`) go to `on_event`
    on this thread as they arrive; an exception from it ends the wait here but not the owner's job.
    ProtocolError, before anything is sent, when `op`/`args` are not a valid request.
    """
    request = parse_request({"op": op, "args": args})
    try:
        frame = encode({"op": request.op, "args": request.args})
    except ValueError as exc:
        raise ProtocolError(str(exc)) from exc
    if not hasattr(socket, "AF_UNIX"):
        return None
    for path in handoff_address.candidates(Path(data_dir)):
        opened = _open(path, connect_timeout_s)
        if opened is None:
            continue
        sock, first = opened
        with sock:
            if first["type"] == "answer":  # refused before the request, e.g. too many connections
                return _body(first)
            try:
                sock.sendall(frame)
            except OSError as exc:  # nothing (or half a frame, which the owner drops) arrived
                log.info("the owner of %s went away before the request: %s", data_dir, exc)
                return None
            return _wait_for_answer(sock, on_event)
    return None


def _open(path: Path, timeout_s: float) -> tuple[socket.socket, dict[str, Any]] | None:
    """A connection to a live owner of our own user with its first frame, or None."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return None
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + timeout_s
    try:
        sock.settimeout(timeout_s)
        sock.connect(str(path))  # a stale socket file fails here at once (ECONNREFUSED)
        if not handoff_peer.admits(sock, os.getuid(), handoff_address.is_secret_dir(path.parent)):
            sock.close()
            return None
        # The owner speaks first, so a frozen process (SIGSTOP, a hung app) that the kernel still
        # accepts connections for counts as absent instead of swallowing the command.
        first = read_frame(sock, deadline)
    except (OSError, HandoffError) as exc:
        log.debug("no owner answered on %s: %s", path, exc)
        sock.close()
        return None
    if first is None or not _is_greeting(first):
        sock.close()
        return None
    return sock, first


def _is_greeting(frame: dict[str, Any]) -> bool:
    if frame.get("type") == "answer":
        return True
    hello = frame.get("body")
    return frame.get("type") == "hello" and isinstance(hello, dict) and hello.get("protocol") == PROTOCOL


def _wait_for_answer(sock: socket.socket, on_event: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    sock.settimeout(None)  # the owner may work for hours between two events (a model download)
    while True:
        try:
            frame = read_frame(sock, None)
        except (OSError, HandoffError) as exc:
            log.info("the handoff connection broke: %s", exc)
            return {"error": OWNER_GONE}
        if frame is None:
            return {"error": OWNER_GONE}
        if frame.get("type") == "event" and isinstance(frame.get("body"), dict):
            on_event(frame["body"])
        else:
            return _body(frame)


def _body(frame: dict[str, Any]) -> dict[str, Any]:
    body = frame.get("body")
    if frame.get("type") != "answer" or not isinstance(body, dict):
        return {"error": "the owner of the library sent something this version does not understand"}
    return body
