"""Both grids fill their width with whole columns: as many cells of the wanted size as fit, each
stretched so the last one ends at the right edge (no blank partial column), on a resize and on the size
slider alike, with the picture drawn and asked for at the stretched size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.library.records import SearchResult
from core.store.database import Photo
from desktop.photo_grid import PhotoGrid, PhotoGridModel
from desktop.qt import QApplication
from desktop.results_pane import ResultsPane
from desktop.tasks import TaskManager
from desktop.thumb_delegate import PAD
from desktop.thumb_view import GAP, ThumbView, fit_columns
from desktop.thumbnail_cache import ThumbnailCache

SIZES = [(640, 96), (813, 160), (1000, 320), (390, 320), (1234, 72), (1917, 200)]


def test_fit_columns_fills_the_width_with_whole_cells_at_least_the_wanted_size() -> None:
    for width in (1, 50, 333, 800, 1279, 2560):
        for wanted in (84, 172, 336):
            columns, cell = fit_columns(width, wanted)
            assert columns >= 1 and columns * cell <= width or width < wanted
            assert width - columns * cell < columns  # what is left is less than a pixel a column
            assert cell >= wanted or columns == 1


@pytest.fixture
def cache(qapp: object) -> Iterator[ThumbnailCache]:
    tasks = TaskManager()
    yield ThumbnailCache(tasks)
    tasks.shutdown(wait=True)


def first_row(view: ThumbView, count: int) -> list[int]:
    """The x of each cell in the first row, as Qt laid them out."""
    view.doItemsLayout()
    rects = [view.visualRect(view.model().index(i, 0)) for i in range(count)]
    return [r.x() for r in rects if r.y() == rects[0].y()]


def assert_fills(view: ThumbView, count: int, wanted: int) -> None:
    row = first_row(view, count)
    cell, width = view.gridSize().width(), view.viewport().width()
    assert len(row) == view.columns()
    assert abs(cell * len(row) - width) <= 2, (cell, len(row), width)
    assert cell >= wanted + 2 * PAD + GAP or len(row) == 1
    assert view.thumb_delegate.box == cell - 2 * PAD - GAP  # the picture fills the stretched cell
    assert view.thumb_delegate.size >= view.thumb_delegate.box  # and is asked for at least that big


def test_the_library_grid_has_no_partial_column_at_any_width_or_size(cache: ThumbnailCache) -> None:
    model = PhotoGridModel()
    model.set_photos([Photo(i, 1, f"/nowhere/{i:03}.jpg", 1, i, None, 640, 480, None, "ok", None)
                      for i in range(40)])
    grid = PhotoGrid(model, cache, 160)
    grid.show()
    try:
        for width, size in SIZES:
            grid.resize(width, 500)
            grid.set_thumb_size(size)
            QApplication.processEvents()
            assert_fills(grid, 40, size)
    finally:
        grid.close()


def test_the_results_grid_has_no_partial_column_when_its_pane_is_resized(cache: ThumbnailCache) -> None:
    pane = ResultsPane(cache)
    pane.show_results("Look-alikes", [SearchResult(i, f"/nowhere/{i}.jpg", 0.9, 640, 480, None) for i in range(12)])
    pane.show()
    try:
        for width in (300, 471, 640, 905):
            pane.resize(width, 600)
            QApplication.processEvents()  # the pane's layout gives the view its new width
            assert_fills(pane.view, 12, pane.view.wanted_size)
    finally:
        pane.close()
