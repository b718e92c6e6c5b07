"""The library's owner: a part that fails in the background is logged and reported, never swallowed,
and the library keeps working."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

from core.files.logs import configure_logging
from core.library.facade import Library
from core.session.owner import LibraryOwner
from core.watch.watcher import LibraryWatcher


def test_a_watcher_that_cannot_start_is_logged_and_reported_and_indexing_still_works(
    library: Library, photo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_inotify_instances(self: LibraryWatcher) -> None:  # EMFILE from inotify_init: the one fake
        raise OSError(errno.EMFILE, "inotify instance limit reached")

    monkeypatch.setattr(LibraryWatcher, "start", out_of_inotify_instances)
    log_file = configure_logging(tmp_path / "cache")
    reported: list[Exception] = []
    owner = LibraryOwner(library, watch=True, serve=False, on_error=reported.append)
    owner.start()
    try:
        assert [str(e) for e in reported] == [
            "live folders are off: watching could not start ([Errno 24] inotify instance limit reached)"]
        assert owner.watcher is None
        assert owner.index([str(photo_dir)]).wait(60).index.embedded == 12  # the library still works
    finally:
        owner.close()
        for handler in logging.getLogger().handlers:
            handler.flush()
    assert "live folders are off" in log_file.read_text()
