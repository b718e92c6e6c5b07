"""The two requests meant for the app's window, "show" and "raise": what the channel accepts, and how an
owner with a window and one without (a command such as `lookalike index --watch`) answer them."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library.facade import Library
from core.session.handoff import ProtocolError, Request, send_request
from core.session.handoff_wire import NO_WINDOW, parse_request
from core.session.owner import LibraryOwner

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")


def test_raise_takes_no_arguments() -> None:
    assert parse_request({"op": "raise", "args": {}}) == Request("raise", {})
    with pytest.raises(ProtocolError, match="raise: expected args none, got image"):
        parse_request({"op": "raise", "args": {"image": "/p/a.jpg"}})


def test_show_takes_one_absolute_image_path() -> None:
    with pytest.raises(ProtocolError, match="image must be an absolute path"):
        parse_request({"op": "show", "args": {"image": "a.jpg"}})
    with pytest.raises(ProtocolError, match="show: expected args image"):
        parse_request({"op": "show", "args": {}})


@pytest.fixture
def window_calls(library: Library) -> Iterator[list[tuple[str, ...]]]:
    """An owner like the app's: its window callbacks record what they were asked."""
    calls: list[tuple[str, ...]] = []
    owner = LibraryOwner(library, on_show=lambda path: calls.append(("show", path)),
                         on_raise=lambda: calls.append(("raise",)))
    owner.start()
    yield calls
    owner.close()


def test_an_owner_with_a_window_shows_the_photo_and_comes_to_the_front(
    library: Library, window_calls: list[tuple[str, ...]]
) -> None:
    assert send_request(library.data_dir, "show", {"image": "/p/a.jpg"}, print) == {"shown": "/p/a.jpg"}
    assert send_request(library.data_dir, "raise", {}, print) == {"raised": True}
    assert window_calls == [("show", "/p/a.jpg"), ("raise",)]


def test_a_command_owning_the_library_says_it_has_no_window(library: Library) -> None:
    owner = LibraryOwner(library)  # what `lookalike index [--watch]` and `lookalike settings` make
    owner.start()
    try:
        for op, args in (("show", {"image": "/p/a.jpg"}), ("raise", {})):
            answer = send_request(library.data_dir, op, args, print)
            assert answer is not None and answer[NO_WINDOW] is True
            assert answer["pid"] == os.getpid() and "has no window" in answer["error"]
    finally:
        owner.close()


def test_without_an_owner_nothing_answers(tmp_path: Path) -> None:
    assert send_request(tmp_path / "data", "raise", {}, print) is None
