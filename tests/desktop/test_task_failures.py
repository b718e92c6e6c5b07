"""A background task's failure is logged before the GUI gets it, so none is ever lost silently."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from core.errors import DecodeError
from desktop.tasks import TaskManager


@pytest.fixture
def tasks() -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown()


def _fail() -> None:
    raise RuntimeError("the index is on fire")


def test_a_failure_without_a_handler_is_logged_with_its_traceback(
    qtbot, tasks: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with qtbot.waitSignal(tasks.failed, timeout=10_000) as failed:
        tasks.write(_fail)
    assert isinstance(failed.args[0], RuntimeError)
    [record] = [r for r in caplog.records if r.name == "desktop.tasks"]
    assert record.levelno == logging.ERROR
    assert "write task failed" in record.getMessage()
    assert "in _fail" in caplog.text and "RuntimeError: the index is on fire" in caplog.text


def test_a_handled_failure_is_logged_too(qtbot, tasks: TaskManager, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    seen: list[BaseException] = []
    tasks.read(_fail, on_error=seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert "RuntimeError: the index is on fire" in caplog.text


def test_an_expected_core_error_is_logged_in_one_line(
    qtbot, tasks: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seen: list[BaseException] = []

    def unreadable() -> None:
        raise DecodeError("truncated JPEG data", "/photos/broken.jpg")

    tasks.thumb(unreadable, on_error=seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    [record] = [r for r in caplog.records if r.name == "desktop.tasks"]
    assert record.getMessage() == "thumbs task: DecodeError: /photos/broken.jpg: truncated JPEG data"
    assert record.exc_info is None
