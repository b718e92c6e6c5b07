"""The app's log file: one handler however often it is set up; lines, warnings and uncaught exceptions
from any thread land in it (real threads, a real file, a real process)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import warnings
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from core.files.logs import LOG_FILE, configure_logging, log_uncaught_exceptions


def _log_text(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def _our_handlers(path: Path) -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers
            if isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path]


def test_configuring_twice_adds_one_handler(tmp_path: Path) -> None:
    path = configure_logging(tmp_path / "cache")
    assert configure_logging(tmp_path / "cache") == path == tmp_path / "cache" / LOG_FILE
    assert len(_our_handlers(path)) == 1


def test_configuring_another_cache_dir_moves_the_log(tmp_path: Path) -> None:
    first = configure_logging(tmp_path / "one")
    second = configure_logging(tmp_path / "two")
    assert _our_handlers(first) == []
    assert len(_our_handlers(second)) == 1


def test_the_default_log_lives_in_the_cache_dir(tmp_path: Path) -> None:
    assert configure_logging() == tmp_path / "default-cache" / LOG_FILE  # conftest's LOOKALIKE_CACHE_DIR


def test_a_log_line_and_a_background_thread_exception_end_up_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = configure_logging(tmp_path)
    log_uncaught_exceptions()
    log_uncaught_exceptions()  # idempotent too: the exception below is logged once
    logging.getLogger("core.somewhere").info("library opened")

    def work() -> None:
        raise ValueError("boom in the worker")

    worker = threading.Thread(target=work, name="lookalike-test-worker")
    worker.start()
    worker.join()

    text = _log_text(path)
    assert "INFO [MainThread] core.somewhere: library opened" in text
    assert "uncaught exception in thread lookalike-test-worker" in text
    assert 'in work\n    raise ValueError("boom in the worker")' in text  # the traceback
    assert text.count("ValueError: boom in the worker") == 1
    assert "ValueError: boom in the worker" in capsys.readouterr().err  # still printed, as before


def test_python_warnings_are_logged(tmp_path: Path) -> None:
    path = configure_logging(tmp_path)
    warnings.warn("this decoder is deprecated", UserWarning, stacklevel=1)
    assert "UserWarning: this decoder is deprecated" in _log_text(path)


def test_an_uncaught_exception_on_the_main_thread_is_logged_and_still_printed(tmp_path: Path) -> None:
    program = (
        "import sys; from pathlib import Path\n"
        "from core.files.logs import configure_logging, log_uncaught_exceptions\n"
        "configure_logging(Path(sys.argv[1])); log_uncaught_exceptions()\n"
        "raise KeyError('no such photo')\n"
    )
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, check=False, cwd=Path(__file__).parents[2])
    assert done.returncode == 1
    assert "KeyError: 'no such photo'" in done.stderr
    text = (tmp_path / LOG_FILE).read_text(encoding="utf-8")
    assert "CRITICAL [MainThread] core.files.logs: uncaught exception" in text
    assert "KeyError: 'no such photo'" in text
