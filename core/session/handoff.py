"""Handing a write command to the process that owns the library, and streaming its progress back.

One process at a time owns a library's writes (the `writer.lock` filelock in its data dir). When a
second one wants to write (`lookalike index`, `lookalike settings`, adding or removing a folder), it
hands the command to the owner through a Unix socket instead of being refused; the owner runs it on
its own write queue and streams events back, so both show it. A handed-off job finishes even if the
terminal that asked is closed.

This channel is a door into the user's library, so it lets only the same user in (a 0600 socket in
a private folder, and the peer's uid checked by the kernel on every connection, see handoff_peer),
speaks JSON frames of at most 64 KiB (never pickle, see handoff_wire), accepts only the ops the
command line needs, and none that moves or deletes a file: a future trash action must go through
the app's own confirmation, never through here. On systems without AF_UNIX (some Windows builds)
the server does not start and clients get None: the command line then waits for the lock.

Threads: the server accepts on one background thread and runs each connection on its own thread;
`handle(request, emit)` is called on that connection's thread. `emit` may be called from any thread.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import LookalikeError
from core.session import handoff_address, handoff_peer
from core.session import handoff_socket_file as socket_file
from core.session.handoff_client import send_request
from core.session.handoff_wire import (
    PROTOCOL,
    HandoffError,
    ProtocolError,
    Request,
    encode,
    parse_request,
    read_frame,
)

__all__ = ["Emit", "Handler", "HandoffError", "HandoffServer", "ProtocolError", "Request", "send_request"]

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]
Handler = Callable[[Request, Emit], dict[str, Any]]

REQUEST_TIMEOUT_S = 10.0  # a client has this long to send its request; a silent one is dropped
# How long one frame may wait on a client that stopped reading (a terminal suspended with Ctrl-Z):
# then its events are dropped so the owner's write job is never held up longer than this, once.
SEND_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 16  # a thread each; the command line makes one at a time
STOP_JOIN_S = 5.0
_NO_SIGPIPE = getattr(socket, "MSG_NOSIGNAL", 0)  # a vanished client is an OSError, never a signal


class HandoffServer:
    """Listens for commands handed over by other processes of the same user, for the library in
    `data_dir`. Start it only while holding the library's writer lock: a socket file already there is
    then a dead owner's and is replaced.

    Contract for `handle(request, emit)`: called on the connection's thread, once per request (not for
    "ping", which the server answers itself); it may call `emit(event)` any number of times, from any
    thread, until it returns the final answer dict. `emit` never raises: if the client has gone, events
    are dropped and the work goes on. A `LookalikeError` becomes `{"error": its message}`; any other
    exception `{"error": "internal error"}` (logged).
    """

    def __init__(self, data_dir: Path, handle: Handler, max_connections: int = MAX_CONNECTIONS) -> None:
        self.data_dir = Path(data_dir)
        self.path: Path | None = None  # where it listens, once started
        self._handle = handle
        self._max_connections = max_connections
        self._uid = os.getuid() if hasattr(os, "getuid") else -1
        self._lifecycle = threading.Lock()  # start and stop may race (the app quitting as it opens)
        self._lock = threading.Lock()  # guards _connections
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._accept_thread: threading.Thread | None = None
        self._socket_id: tuple[int, int] | None = None  # (st_dev, st_ino) of the file we bound
        self._secret_dir = False
        self._started = self._stopped = False

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> bool:
        """Listen on a background thread. False (logged) where it cannot: no AF_UNIX, no private folder
        for the socket, or a live owner already listening; the app works on without the channel."""
        with self._lifecycle:
            if self._stopped:
                raise RuntimeError("a stopped HandoffServer cannot start again; make a new one")
            if not self._started:
                self._started = True
                self._listen()
            return self._listener is not None

    def _listen(self) -> None:
        if not hasattr(socket, "AF_UNIX"):
            return
        path = handoff_address.listening_path(self.data_dir)
        if path is None:
            log.warning("no private folder for the handoff socket of %s", self.data_dir)
            return
        try:
            self._listener = socket_file.bind(path, self._max_connections)
        except OSError as exc:
            log.warning("cannot listen for handed-off commands on %s: %s", path, exc)
            return
        self.path, self._socket_id = path, socket_file.identity(path)
        self._secret_dir = handoff_address.is_secret_dir(path.parent)
        self._wake = socket.socketpair()
        self._accept_thread = threading.Thread(target=self._serve, name="handoff-accept", daemon=True)
        self._accept_thread.start()

    def stop(self, finish_s: float = 0.0) -> None:
        """Stop listening, remove the socket file, close every connection; idempotent. A handler still
        running is not interrupted (the owner cancels its own jobs); its later events are dropped.
        `finish_s`: first give running handlers this long to answer (an owner that drained its queue
        lets the requests it finished tell their clients so)."""
        with self._lifecycle:
            if not self._stopped:
                self._stopped = True
                self._close(finish_s)

    def _close(self, finish_s: float = 0.0) -> None:
        if self._listener is None or self._wake is None or self._accept_thread is None:
            return  # never listened
        self._wake[1].send(b"x")
        self._accept_thread.join()
        assert self.path is not None and self._socket_id is not None
        socket_file.remove(self.path, self._socket_id)  # only ours: a newer owner may listen there
        for sock in (self._listener, *self._wake):
            sock.close()
        with self._lock:
            answering = list(self._connections.values())
        deadline = time.monotonic() + finish_s
        for thread in answering:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for conn in self._connections:  # under the lock: its thread closes it only after leaving
                socket_file.shutdown(conn)
            threads = list(self._connections.values())
        deadline = time.monotonic() + STOP_JOIN_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        busy = sum(t.is_alive() for t in threads)
        if busy:
            log.warning("%d handed-off request(s) still running after the channel closed", busy)

    # -- accepting ------------------------------------------------------------------------------
    def _serve(self) -> None:
        assert self._listener is not None and self._wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake[0], selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake[0]:
                        return
                    try:
                        self._accept()
                    except Exception:  # e.g. no thread to be had: refuse this one, keep the door
                        log.exception("could not accept a handoff connection")

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except OSError:  # the client gave up between select and accept
            return
        conn.settimeout(SEND_TIMEOUT_S)
        if not handoff_peer.admits(conn, self._uid, self._secret_dir):
            conn.close()
            return
        with self._lock:
            full = len(self._connections) >= self._max_connections
            if not full:
                thread = threading.Thread(
                    target=self._converse, args=(conn,), name="handoff-conn", daemon=True
                )
                self._connections[conn] = thread
        if full:
            _Reply(conn).finish({"error": "the Lookalike process that owns the library is too busy"})
            conn.close()
            return
        try:
            thread.start()
        except BaseException:
            with self._lock:
                del self._connections[conn]
            conn.close()
            raise

    # -- one connection -------------------------------------------------------------------------
    def _converse(self, conn: socket.socket) -> None:
        reply = _Reply(conn)
        try:
            reply.send({"type": "hello", "body": {"protocol": PROTOCOL, "pid": os.getpid()}})
            request = _read_request(conn, reply)
            if request is not None:
                conn.settimeout(SEND_TIMEOUT_S)
                reply.finish(self._run(request, reply.emit))
        except Exception:  # never let one connection take the channel down
            log.exception("the handoff connection failed")
        finally:
            with self._lock:
                del self._connections[conn]
            conn.close()

    def _run(self, request: Request, emit: Emit) -> dict[str, Any]:
        if request.op == "ping":
            return {"pong": True, "pid": os.getpid()}
        try:
            answer = self._handle(request, emit)
        except LookalikeError as exc:
            return {"error": str(exc)}
        except Exception:
            log.exception("a handed-off %r request failed", request.op)
            return {"error": "internal error"}
        if not isinstance(answer, dict):
            log.error("the handoff handler answered %r to %r, not a dict", type(answer), request.op)
            return {"error": "internal error"}
        return answer


def _read_request(conn: socket.socket, reply: _Reply) -> Request | None:
    """The client's request, or None after answering (or dropping) a malformed or silent one."""
    try:
        message = read_frame(conn, time.monotonic() + REQUEST_TIMEOUT_S)
        if message is None:
            return None  # connected and left: a probe
        return parse_request(message)
    except ProtocolError as exc:
        reply.finish({"error": str(exc)})
    except (OSError, HandoffError) as exc:  # TimeoutError is an OSError
        log.info("dropped a handoff client that sent no request: %s", exc)
    return None


class _Reply:
    """The owner's side of one connection: events then one answer. Thread-safe; never raises on a
    broken connection (a handed-off index must finish even if the terminal that asked was closed)."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._open = True

    def emit(self, event: dict[str, Any]) -> None:
        self.send({"type": "event", "body": event})

    def finish(self, answer: dict[str, Any]) -> None:
        self.send({"type": "answer", "body": answer}, last=True)

    def send(self, message: dict[str, Any], last: bool = False) -> None:
        try:
            frame = encode(message)
        except ValueError:  # the handler's bug; dropping the frame keeps its job alive
            log.exception("a handoff frame could not be encoded")
            if not last:
                return
            frame = encode({"type": "answer", "body": {"error": "internal error"}})
        with self._lock:
            if not self._open:
                return
            self._open = not last  # an event a late thread emits after the answer is dropped
            try:
                self._conn.sendall(frame, _NO_SIGPIPE)
            except OSError as exc:  # gone, or stopped reading: half a frame may be out, so stop here
                self._open = False
                log.info("a handoff client went away (%s); its request keeps running", exc)
