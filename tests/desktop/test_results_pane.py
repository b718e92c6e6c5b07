"""The look-alikes pane follows change records: a removed photo's result goes, a moved one follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library.facade import SearchResult
from core.store.changes import LibraryChanges
from core.store.database import Photo
from desktop.results_pane import ResultsPane
from desktop.tasks import TaskManager
from desktop.thumbnail_cache import ThumbnailCache
from tests.imagegen import write_photo


def photo(photo_id: int, path: str, status: str = "ok") -> Photo:
    return Photo(photo_id, 1, path, 100, 0, None, 640, 480, None, status, None)


@pytest.fixture
def pane(qapp: object) -> Iterator[ResultsPane]:
    """A real pane on a real thumbnail cache, whose workers stop before the pane goes (ThumbView
    repaints on `cache.ready` through a lambda, which would then find the view deleted)."""
    tasks = TaskManager()
    made = ResultsPane(ThumbnailCache(tasks))
    yield made
    tasks.shutdown(wait=True)
    made.close()


def test_a_removed_or_offline_result_leaves_and_a_moved_one_takes_its_new_path(pane: ResultsPane) -> None:
    results = [SearchResult(i, f"/photos/{i}.jpg", 1.0 - i / 10, 640, 480, None) for i in range(1, 6)]
    pane.show_results("Look-alikes of 0.jpg", results)
    changes = LibraryChanges(removed=(2,), moved=(3,), updated=(5,))
    rows = {3: photo(3, "/photos/renamed.jpg"), 5: photo(5, "/photos/5.jpg", status="offline")}
    pane.apply_changes(changes, rows)
    assert pane.result_paths() == ["/photos/1.jpg", "/photos/renamed.jpg", "/photos/4.jpg"]
    assert [r.score for r in pane.model.results] == [0.9, 0.7, 0.6]
    assert pane.detail.text().startswith("3 look-alikes")


def test_a_moved_results_thumbnail_is_fetched_at_its_new_path(qtbot: Any, pane: ResultsPane, tmp_path: Path) -> None:
    files = [tmp_path / f"{i}.jpg" for i in range(3)]
    for i, file in enumerate(files):
        write_photo(file, seed=i, size=(64, 48))
    results = [SearchResult(i, str(f), 0.9 - i / 10, 64, 48, None) for i, f in enumerate(files)]
    with qtbot.waitSignal(pane.all_thumbnails_shown, timeout=10_000):
        pane.show_results("Look-alikes", results)
    files[1].rename(tmp_path / "renamed.jpg")  # the test's own file, standing for the user's rename
    pane.apply_changes(LibraryChanges(moved=(1,)), {1: photo(1, str(tmp_path / "renamed.jpg"))})
    qtbot.waitUntil(pane.thumbnails_shown, timeout=10_000)
