"""The handoff channel on real Unix sockets, real threads and real second processes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import LibraryError
from core.session import handoff, handoff_address
from core.session.handoff import HandoffServer, ProtocolError, Request, send_request
from core.session.handoff_peer import peer_allowed, read_peer_cred
from core.session.handoff_wire import decode, encode, parse_request, read_frame

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")

REPO_ROOT = Path(__file__).resolve().parents[2]
Handler = Callable[[Request, Callable[[dict[str, Any]], None]], dict[str, Any]]


def echo(request: Request, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    return {"op": request.op, "args": request.args}


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("handoff")]
    assert not left, f"threads still running: {left}"


@pytest.fixture
def short_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short temp dir (pytest's are long enough to push socket paths to the fallback) that is also
    what tempfile.gettempdir() answers, so the fallback runtime folder lands in it and not in /tmp."""
    folder = Path(tempfile.mkdtemp(prefix="la-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=True)


@pytest.fixture
def data_dir(short_tmp: Path) -> Path:
    folder = short_tmp / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def serve(data_dir: Path) -> Iterator[Callable[[Handler], HandoffServer]]:
    servers: list[HandoffServer] = []

    def start(handler: Handler) -> HandoffServer:
        server = HandoffServer(data_dir, handler)
        assert server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def raw_client(server: HandoffServer) -> socket.socket:
    """A connection past the owner's greeting, for sending bytes no well-behaved client would."""
    assert server.path is not None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(server.path))
    hello = read_frame(sock, time.monotonic() + 5)
    assert hello is not None and hello["type"] == "hello"
    return sock


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )


# -- a request and its answer -----------------------------------------------------------------------
def test_a_request_is_handled_and_its_events_arrive_in_order_before_the_answer(serve, data_dir) -> None:
    def index(request: Request, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        for done in range(1, 6):
            emit({"event": "progress", "done": done, "total": 5})
        return {"indexed": request.args["folders"]}

    serve(index)
    seen: list[dict[str, Any]] = []
    answer = send_request(data_dir, "index", {"folders": ["/photos/a", "/photos/b"]}, seen.append)
    assert seen == [{"event": "progress", "done": d, "total": 5} for d in range(1, 6)]
    assert answer == {"indexed": ["/photos/a", "/photos/b"]}


def test_events_emitted_from_the_owners_own_thread_reach_the_client(serve, data_dir) -> None:
    """The owner runs the job on its write queue, not on the connection's thread."""

    def queued(request: Request, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        worker = threading.Thread(target=lambda: [emit({"event": "progress", "done": i}) for i in range(50)])
        worker.start()
        worker.join()
        return {"ok": True}

    serve(queued)
    seen: list[dict[str, Any]] = []
    assert send_request(data_dir, "add_folder", {"path": "/photos"}, seen.append) == {"ok": True}
    assert [e["done"] for e in seen] == list(range(50))


def test_a_second_process_hands_its_command_over(serve, data_dir) -> None:
    serve(lambda request, emit: (emit({"event": "progress", "done": 1}), {"set": request.args["set"]})[1])
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from core.session.handoff import send_request\n"
        "events = []\n"
        f"answer = send_request(Path({str(data_dir)!r}), 'settings', {{'set': {{'device': 'cpu', 'exclude': ['*.raw']}}}}, events.append)\n"
        "print(json.dumps([events, answer]))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    events, answer = json.loads(done.stdout)
    assert events == [{"event": "progress", "done": 1}]
    assert answer == {"set": {"device": "cpu", "exclude": ["*.raw"]}}


def test_ping_is_answered_by_the_server_without_the_handler(serve, data_dir) -> None:
    called: list[Request] = []
    serve(lambda request, emit: called.append(request) or {})
    assert send_request(data_dir, "ping", {}, print) == {"pong": True, "pid": os.getpid()}
    assert not called


def test_a_lookalike_error_in_the_handler_reaches_the_client_as_its_message(serve, data_dir) -> None:
    def refuse(request: Request, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        raise LibraryError("/photos is not a folder of this library")

    serve(refuse)
    answer = send_request(data_dir, "remove_folder", {"path": "/photos"}, print)
    assert answer == {"error": "/photos is not a folder of this library"}


def test_any_other_exception_is_logged_and_reaches_the_client_as_internal_error(
    serve, data_dir, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: Request, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        raise KeyError("a bug, with private detail")

    serve(broken)
    with caplog.at_level(logging.ERROR, logger="core.session"):
        assert send_request(data_dir, "show", {"image": "/p/a.jpg"}, print) == {"error": "internal error"}
    assert "a bug, with private detail" in caplog.text


def test_a_handed_off_job_finishes_when_its_client_goes_away(serve) -> None:
    client_gone = threading.Event()
    finished = threading.Event()

    def index(request: Request, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        client_gone.wait(5)
        for done in range(200):  # into a closed connection: dropped, never raised into the job
            emit({"event": "progress", "done": done})
        finished.set()
        return {"ok": True}

    sock = raw_client(serve(index))
    sock.sendall(encode({"op": "index", "args": {"folders": []}}))
    time.sleep(0.1)  # let the server read the request before the client vanishes
    sock.close()
    client_gone.set()
    assert finished.wait(5)


# -- what is refused --------------------------------------------------------------------------------
def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


MALFORMED = {
    "garbage bytes": frame(b"\x93\xff not json at all"),
    "huge length prefix": b"\xff\xff\xff\xff",
    "just over 64 KiB": struct.pack(">I", 64 * 1024 + 1) + b"x" * 100,
    "JSON array": frame(b'["index", {"folders": []}]'),
    "deeply nested JSON": frame(b"[" * 20000 + b"]" * 20000),
    "NaN": frame(b'{"op": "ping", "args": {"x": NaN}}'),
    "unknown op": frame(b'{"op": "delete", "args": {"path": "/photos/a.jpg"}}'),
    "no args": frame(b'{"op": "ping"}'),
    "extra arg": frame(b'{"op": "add_folder", "args": {"path": "/p", "recursive": true}}'),
    "folders not a list": frame(b'{"op": "index", "args": {"folders": "/photos"}}'),
    "a number for a path": frame(b'{"op": "add_folder", "args": {"path": 7}}'),
    "relative path": frame(b'{"op": "add_folder", "args": {"path": "photos/2024"}}'),
    "NUL in a path": frame(b'{"op": "show", "args": {"image": "/p/a.jpg\\u0000.txt"}}'),
    "a number for a setting": frame(b'{"op": "settings", "args": {"set": {"thumb_size": 160}}}'),
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_frame_is_refused_and_the_server_still_answers_others(serve, data_dir, payload) -> None:
    handled: list[Request] = []
    server = serve(lambda request, emit: handled.append(request) or {"ok": True})
    sock = raw_client(server)
    sock.sendall(payload)
    answer = read_frame(sock, time.monotonic() + 5)
    assert answer is not None and answer["type"] == "answer" and "error" in answer["body"], answer
    assert_closed(sock)
    assert not handled
    assert send_request(data_dir, "add_folder", {"path": "/photos"}, print) == {"ok": True}


def assert_closed(sock: socket.socket) -> None:
    """The server closed the connection after its answer."""
    with contextlib.suppress(ConnectionResetError):  # it closed with our unread bytes still queued
        assert sock.recv(1) == b""
    sock.close()


def test_a_client_that_sends_nothing_blocks_nobody_and_is_dropped(serve, data_dir, monkeypatch) -> None:
    monkeypatch.setattr(handoff, "REQUEST_TIMEOUT_S", 0.5)
    server = serve(echo)
    silent = raw_client(server)
    started = time.monotonic()
    assert send_request(data_dir, "ping", {}, print) == {"pong": True, "pid": os.getpid()}
    assert time.monotonic() - started < 0.4  # answered while the silent one still holds its thread
    silent.settimeout(2)  # well before SEND_TIMEOUT_S, the only other limit on its wait
    assert silent.recv(1) == b""  # then the silent one is dropped
    silent.close()


def test_a_client_trickling_its_request_byte_by_byte_is_dropped_too(serve, monkeypatch) -> None:
    """The request timeout bounds the whole frame, not each read."""
    monkeypatch.setattr(handoff, "REQUEST_TIMEOUT_S", 0.5)
    sock = raw_client(serve(echo))
    began = time.monotonic()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        for byte in encode({"op": "add_folder", "args": {"path": "/p" * 100}}):
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
            if time.monotonic() - began > 3:
                break
    sock.settimeout(1)
    assert_closed(sock)
    assert time.monotonic() - began < 3


def test_every_op_the_command_line_needs_is_accepted() -> None:
    requests = [
        ("ping", {}),
        ("index", {"folders": []}),
        ("index", {"folders": ["/photos", "/more photos"]}),
        ("add_folder", {"path": "/photos"}),
        ("remove_folder", {"path": "/photos"}),
        ("settings", {"set": {"device": "cpu", "exclude": ["*.raw", "/p/tmp"], "model": None}}),
        ("show", {"image": "/photos/a.jpg"}),
    ]
    for op, args in requests:
        assert parse_request({"op": op, "args": args}) == Request(op, args)


def test_a_client_cannot_send_what_the_channel_does_not_accept(data_dir) -> None:
    with pytest.raises(ProtocolError):
        send_request(data_dir, "trash", {"path": "/p/a.jpg"}, print)
    with pytest.raises(ProtocolError):
        send_request(data_dir, "index", {"folders": ["relative"]}, print)


def test_too_many_connections_get_a_busy_answer(data_dir) -> None:
    server = HandoffServer(data_dir, echo, max_connections=1)
    assert server.start()
    try:
        silent = raw_client(server)
        answer = send_request(data_dir, "ping", {}, print)
        assert answer is not None and "busy" in answer["error"]
        silent.close()
    finally:
        server.stop()


# -- no owner -----------------------------------------------------------------------------------------
def test_no_socket_means_no_owner(data_dir) -> None:
    assert send_request(data_dir, "ping", {}, print) is None


def test_an_owner_killed_without_cleaning_up_answers_none_at_once_and_can_be_replaced(data_dir) -> None:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from core.session.handoff import HandoffServer\n"
        f"server = HandoffServer(Path({str(data_dir)!r}), lambda r, e: {{}})\n"
        "print(server.start(), server.path, flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    started, path = owner.stdout.readline().split()
    assert started == "True"
    assert send_request(data_dir, "ping", {}, print) == {"pong": True, "pid": owner.pid}
    owner.send_signal(signal.SIGKILL)
    owner.wait(10)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)  # left behind

    began = time.monotonic()
    assert send_request(data_dir, "ping", {}, print, connect_timeout_s=5) is None
    assert time.monotonic() - began < 1

    server = HandoffServer(data_dir, echo)
    assert server.start()
    try:
        assert send_request(data_dir, "ping", {}, print) == {"pong": True, "pid": os.getpid()}
    finally:
        server.stop()


def test_an_owner_that_never_greets_counts_as_absent(data_dir) -> None:
    """A frozen owner (SIGSTOP, hung) whose socket the kernel still accepts connections on."""
    frozen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    frozen.bind(str(data_dir / "owner.sock"))
    frozen.listen(1)
    try:
        began = time.monotonic()
        assert send_request(data_dir, "ping", {}, print, connect_timeout_s=0.3) is None
        assert time.monotonic() - began < 2
        assert HandoffServer(data_dir, echo).start() is False  # and nobody steals a live socket
    finally:
        frozen.close()


# -- who may talk ------------------------------------------------------------------------------------
def test_the_socket_file_is_readable_and_writable_by_its_user_only(serve) -> None:
    server = serve(echo)
    assert server.path is not None
    mode = os.lstat(server.path).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_only_a_peer_of_the_same_user_is_allowed() -> None:
    me = os.getuid()
    assert peer_allowed((4242, me, 100), me, socket_dir_secret=False)
    assert not peer_allowed((4242, me + 1, 100), me, socket_dir_secret=False)
    assert not peer_allowed((4242, me + 1000, 0), me, socket_dir_secret=True)
    assert not peer_allowed(None, me, socket_dir_secret=False)  # unknown peer, folder others can enter
    assert peer_allowed(None, me, socket_dir_secret=True)


def test_the_peer_credentials_are_the_kernels_word_on_another_process(short_tmp) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = short_tmp / "peer.sock"
    listener.bind(str(path))
    listener.listen(1)
    code = (
        f"import socket, time\ns = socket.socket(socket.AF_UNIX)\ns.connect({str(path)!r})\ntime.sleep(30)\n"
    )
    peer = subprocess.Popen([sys.executable, "-c", code])
    try:
        listener.settimeout(30)
        conn, _ = listener.accept()
        cred = read_peer_cred(conn)
        conn.close()
    finally:
        peer.kill()
        peer.wait()
        listener.close()
    assert cred is not None and (cred.pid, cred.uid, cred.gid) == (peer.pid, os.getuid(), os.getgid())


def test_an_owner_refuses_a_client_of_another_user(data_dir, monkeypatch) -> None:
    """The owner is made to believe it runs as another user, so our client is a stranger to it."""
    handled: list[Request] = []
    with monkeypatch.context() as patch:
        patch.setattr(os, "getuid", lambda: os.geteuid() + 1)
        server = HandoffServer(data_dir, lambda request, emit: handled.append(request) or {})
    assert server.start()
    try:
        assert send_request(data_dir, "add_folder", {"path": "/photos"}, print) is None
        assert not handled
    finally:
        server.stop()


def test_a_client_refuses_an_owner_of_another_user(serve, data_dir, monkeypatch) -> None:
    handled: list[Request] = []
    serve(lambda request, emit: handled.append(request) or {})
    monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 1)
    assert send_request(data_dir, "add_folder", {"path": "/photos"}, print) is None
    assert not handled


# -- where the socket lives -------------------------------------------------------------------------
def test_a_data_dir_too_long_for_a_socket_path_listens_in_a_private_runtime_folder(short_tmp) -> None:
    data_dir = short_tmp / ("a-rather-long-folder-name-" * 5) / "data"
    data_dir.mkdir(parents=True)
    assert not handoff_address.fits(data_dir / "owner.sock")
    server = HandoffServer(data_dir, echo)
    assert server.start()
    try:
        assert server.path is not None and server.path.parent == short_tmp / f"lookalike-{os.getuid()}"
        assert stat.S_IMODE(os.lstat(server.path.parent).st_mode) == 0o700
        via_symlink = short_tmp / "link"
        via_symlink.symlink_to(data_dir)  # another spelling of the same library finds it too
        for spelling in (data_dir, via_symlink):
            assert send_request(spelling, "ping", {}, print) == {"pong": True, "pid": os.getpid()}
    finally:
        server.stop()
    assert not server.path.exists()


def test_the_runtime_folder_of_the_session_is_preferred_when_set(short_tmp, monkeypatch) -> None:
    runtime = short_tmp / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    data_dir = short_tmp / ("x" * 110)
    data_dir.mkdir()
    server = HandoffServer(data_dir, echo)
    assert server.start()
    try:
        assert server.path is not None and server.path.parent == runtime
        assert send_request(data_dir, "ping", {}, print) is not None
    finally:
        server.stop()


def test_a_folder_others_can_write_to_is_not_used_for_the_socket(data_dir) -> None:
    data_dir.chmod(0o777)
    server = HandoffServer(data_dir, echo)
    assert server.start()
    try:
        assert server.path is not None and server.path.parent != data_dir
        assert send_request(data_dir, "ping", {}, print) is not None
    finally:
        server.stop()


# -- stopping ------------------------------------------------------------------------------------------
def test_the_server_stops_cleanly_with_clients_still_connected(data_dir) -> None:
    server = HandoffServer(data_dir, echo)
    assert server.start()
    assert send_request(data_dir, "add_folder", {"path": "/photos"}, print) == {
        "op": "add_folder",
        "args": {"path": "/photos"},
    }
    idle = raw_client(server)
    assert any(t.name.startswith("handoff") for t in threading.enumerate())
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 2
    assert not [t for t in threading.enumerate() if t.name.startswith("handoff")]
    assert server.path is not None and not server.path.exists()
    assert send_request(data_dir, "ping", {}, print) is None
    server.stop()  # idempotent
    idle.close()


def test_a_server_that_never_started_stops_quietly(data_dir) -> None:
    HandoffServer(data_dir, echo).stop()


# -- the wire ------------------------------------------------------------------------------------------
def test_an_undecodable_file_name_survives_the_trip() -> None:
    name = os.fsdecode(b"/photos/caf\xe9.jpg")  # Latin-1 bytes on a UTF-8 system: a lone surrogate
    message = decode(encode({"op": "show", "args": {"image": name}})[4:])
    assert os.fsencode(parse_request(message).args["image"]) == b"/photos/caf\xe9.jpg"


def test_a_frame_over_64_kib_cannot_be_sent() -> None:
    with pytest.raises(ValueError):
        encode({"body": "x" * (64 * 1024)})
