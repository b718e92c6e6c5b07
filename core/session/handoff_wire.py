"""The handoff channel's wire format: length-prefixed JSON frames and the requests a client may send.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON holding one object.
Nothing is ever pickled: a frame is data, never code. Frames from the server are envelopes
`{"type": "hello" | "event" | "answer", "body": {...}}` so a handler's answer can never be mistaken
for an event; a client sends exactly one frame, `{"op": str, "args": {...}}`.

The ops are only what the command line can ask of the process that owns the library. None of them
moves or deletes a file: moving duplicates to the trash is done by the command that confirmed it, in
its own process, never through this channel, so a confused or hostile local client can at worst start
an index or hide a duplicate group.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import LookalikeError

MAX_FRAME = 64 * 1024  # a request is a handful of paths; an answer a few hundred results at most
PROTOCOL = 1
# In the answer to "show" or "raise": the owner has no window (a command such as `lookalike index --watch`),
# so a second window could not own the library either; the launcher says so instead of opening one.
NO_WINDOW = "no_window"
_HEADER = struct.Struct(">I")


class HandoffError(LookalikeError):
    """The handoff channel could not carry a request (the other side broke the protocol or went away)."""


class ProtocolError(HandoffError):
    """A frame or a request is malformed: too long, not JSON, not an object, an unknown op, bad args."""


@dataclass(frozen=True)
class Request:
    """One validated request: `op` is one of OPS and `args` matches its shape (see `parse_request`)."""

    op: str
    args: dict[str, Any]


def _absolute_path(value: object, what: str) -> str:
    text = _text(value, what)
    if not text or not os.path.isabs(text):
        raise ProtocolError(f"{what} must be an absolute path")
    return text


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{what} must be a string")
    if "\x00" in value:  # a NUL would truncate the path at the OS boundary: a different file than shown
        raise ProtocolError(f"{what} must not contain NUL")
    return value


def _index(args: dict[str, Any]) -> dict[str, Any]:
    folders = args["folders"]
    if not isinstance(folders, list):
        raise ProtocolError("folders must be a list of paths")
    return {"folders": [_absolute_path(f, "a folder") for f in folders]}  # []: every known folder


def _path(args: dict[str, Any]) -> dict[str, Any]:
    return {"path": _absolute_path(args["path"], "path")}


def _settings(args: dict[str, Any]) -> dict[str, Any]:
    changes = args["set"]
    if not isinstance(changes, dict) or not changes:
        raise ProtocolError("set must be a non-empty object of settings")
    checked: dict[str, str | list[str] | None] = {}
    for key, value in changes.items():
        if not _text(key, "a setting's name"):
            raise ProtocolError("a setting's name must not be empty")
        if value is None or isinstance(value, str):
            checked[key] = None if value is None else _text(value, key)
        elif isinstance(value, list):
            checked[key] = [_text(v, key) for v in value]
        else:
            raise ProtocolError(f"{key} must be a string, a list of strings or null")
    return {"set": checked}  # which names and values are valid is the owner's Settings' business


def _show(args: dict[str, Any]) -> dict[str, Any]:
    return {"image": _absolute_path(args["image"], "image")}


def _decide_duplicates(args: dict[str, Any]) -> dict[str, Any]:
    hashes, decision = args["hashes"], args["decision"]
    if not isinstance(hashes, list) or not hashes or not all(isinstance(h, str) and h.isalnum() for h in hashes):
        raise ProtocolError("hashes must be a non-empty list of content hashes")
    if decision not in ("distinct", "kept"):
        raise ProtocolError("decision must be distinct or kept")
    return {"hashes": hashes, "decision": decision}


# op -> (its argument names, the checker that returns the cleaned args)
OPS: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "ping": (frozenset(), dict),
    "index": (frozenset({"folders"}), _index),
    "add_folder": (frozenset({"path"}), _path),
    "remove_folder": (frozenset({"path"}), _path),
    "settings": (frozenset({"set"}), _settings),
    "show": (frozenset({"image"}), _show),
    "raise": (frozenset(), dict),  # bring the owner's window to the front (`lookalike` with no photo)
    "decide_duplicates": (frozenset({"hashes", "decision"}), _decide_duplicates),
}


def parse_request(message: object) -> Request:
    """The request in a decoded frame, or ProtocolError saying what is wrong with it."""
    if not isinstance(message, dict) or set(message) != {"op", "args"}:
        raise ProtocolError('a request is an object {"op": ..., "args": {...}}')
    op, args = message["op"], message["args"]
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(f"unknown op {str(op)[:40]!r}")
    if not isinstance(args, dict):
        raise ProtocolError(f"{op}: args must be an object")
    names, check = OPS[op]
    if set(args) != names:
        expected = ", ".join(sorted(names)) or "none"
        raise ProtocolError(f"{op}: expected args {expected}, got {', '.join(sorted(args)) or 'none'}")
    return Request(op, check(args))


def encode(message: dict[str, Any]) -> bytes:
    """One frame. ensure_ascii keeps lone surrogates (undecodable file names) as \\udcXX escapes, so a
    path from os.fsdecode survives the trip; ValueError if the object is too big or not JSON-able."""
    try:
        body = json.dumps(message, allow_nan=False).encode("ascii")
    except TypeError as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from exc
    if len(body) > MAX_FRAME:
        raise ValueError(f"frame of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return _HEADER.pack(len(body)) + body


def _refuse_constant(name: str) -> object:
    raise ProtocolError(f"{name} is not valid JSON here")


def decode(body: bytes) -> dict[str, Any]:
    """The object in a frame's body, or ProtocolError."""
    try:
        message = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." nesting
        raise ProtocolError("a frame is not UTF-8 JSON") from exc
    if not isinstance(message, dict):
        raise ProtocolError("a frame must hold a JSON object")
    return message


def read_frame(sock: socket.socket, deadline: float | None) -> dict[str, Any] | None:
    """The next frame's object; None at a clean end of stream (the other side closed between frames).

    `deadline` (time.monotonic()) bounds the whole frame, not each recv, so a client trickling one
    byte at a time cannot hold a thread for longer than that. TimeoutError when it passes.
    """
    header = _read_exact(sock, _HEADER.size, deadline, allow_eof=True)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ProtocolError(f"a frame of {length} bytes is over the {MAX_FRAME}-byte limit")
    body = _read_exact(sock, length, deadline, allow_eof=False)
    assert body is not None
    return decode(body)


def _read_exact(sock: socket.socket, size: int, deadline: float | None, allow_eof: bool) -> bytes | None:
    chunks: list[bytes] = []
    got = 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the other side sent nothing in time")
            sock.settimeout(left)
        chunk = sock.recv(size - got)
        if not chunk:
            if allow_eof and got == 0:
                return None
            raise HandoffError("the connection closed in the middle of a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
