"""The filter bar, the results' controls, composed queries and the date jump, on the real window over a
real library (tiny model) of photos with camera facts: what a user sees after each click."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.qt import Qt
from tests.desktop.helpers import add_folder_and_wait
from tests.imagegen import write_camera_jpeg, write_photo

JULY = 16  # photos from July 2024: enough rows above August's for the grid to scroll


@pytest.fixture
def camera_folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    write_camera_jpeg(root / "trip" / "tokyo.jpg", taken="2024:08:03 10:00:00", gps=True,
                      camera=("Canon", "Canon EOS R5"), seed=1, size=(1200, 800))
    write_camera_jpeg(root / "trip" / "beach.jpg", taken="2024:08:20 18:00:00", camera=("Apple", "iPhone 15"),
                      seed=2, size=(600, 900))
    write_camera_jpeg(root / "home" / "winter.jpg", taken="2023:12:24 09:00:00", camera=("Apple", "iPhone 15"),
                      seed=3, size=(800, 800))
    for i in range(JULY):
        write_camera_jpeg(root / "july" / f"july_{i:02d}.jpg", taken=f"2024:07:{i + 10:02d} 12:00:00",
                          camera=("Sony", "ILCE-7M4"), seed=10 + i, size=(320, 240))
    return root


def _names(paths: list[str]) -> set[str]:
    return {Path(p).stem for p in paths}


def _grid_names(window) -> set[str]:  # type: ignore[no-untyped-def]
    return _names([p.path for p in window.grid_model.photos()])


def _type_into(qtbot, edit, text: str) -> None:  # type: ignore[no-untyped-def]
    edit.clear()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # editingFinished, as when the user presses Enter


def test_a_filter_narrows_the_grid_and_the_results_to_the_passing_photos_and_clear_restores_all(
    qtbot, make_window, camera_folder: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, camera_folder, 3 + JULY)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(str(camera_folder / "july" / "july_00.jpg"))
    assert len(window.results.result_paths()) == 2 + JULY

    bar = window.filter_bar
    with qtbot.waitSignal(window.results_shown, timeout=30_000):  # the search asks again under the filter
        _type_into(qtbot, bar.camera, "iphone")
    qtbot.waitUntil(lambda: _grid_names(window) == {"beach", "winter"}, timeout=10_000)
    assert _names(window.results.result_paths()) == {"beach", "winter"}
    assert "iphone" in bar.state.text() and bar.state.text().startswith("Filter:")
    assert "pass the filter" in window.grid_caption.text()

    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        _type_into(qtbot, bar.after, "2024-08")  # a second filter combines with the first
    qtbot.waitUntil(lambda: _grid_names(window) == {"beach"}, timeout=10_000)
    assert _names(window.results.result_paths()) == {"beach"}
    assert "from 2024-08-01" in bar.state.text()

    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 3 + JULY, timeout=10_000)
    assert len(window.results.result_paths()) == 2 + JULY
    assert bar.state.text() == "Filter: none" and bar.camera.text() == "" and bar.after.text() == ""


def test_a_bad_date_shows_the_core_message_and_changes_nothing(qtbot, make_window, camera_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, camera_folder, 3 + JULY)
    bar = window.filter_bar
    _type_into(qtbot, bar.camera, "iphone")
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 2, timeout=10_000)
    _type_into(qtbot, bar.after, "2024-13")
    assert "'2024-13'" in bar.message.text() and "not a date" in bar.message.text()
    assert bar.filter.camera == "iphone" and bar.filter.after is None  # the last good filter stays
    assert "iphone" in bar.state.text() and "from" not in bar.state.text()
    assert window.grid_model.rowCount() == 2
    _type_into(qtbot, bar.after, "2024")
    assert bar.message.text() == ""
    qtbot.waitUntil(lambda: _grid_names(window) == {"beach"}, timeout=10_000)


def test_sorting_by_date_orders_results_newest_first(qtbot, make_window, camera_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, camera_folder, 3 + JULY)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(str(camera_folder / "trip" / "tokyo.jpg"))
    by_score = [r.photo_id for r in window.results.model.results]
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_controls.sort.setCurrentIndex(window.search_controls.sort.findData("date"))
    results = window.results.model.results
    dates = [r.taken_at for r in results]
    assert dates == sorted(dates, reverse=True) and len(results) == 2 + JULY
    assert Path(results[0].path).stem == "beach" and Path(results[-1].path).stem == "winter"
    assert sorted(by_score) == sorted(r.photo_id for r in results)


def test_a_cut_text_search_offers_show_more_and_says_each_match_probability(
    qtbot, tmp_path: Path, tiny_siglip_dir: Path
) -> None:
    from desktop.main_window import MainWindow
    from tests.tinymodels import calibrated_to_cut

    folder = tmp_path / "photos"
    paths = [write_photo(folder / f"p{seed}.jpg", seed=seed) for seed in range(8)]
    # As tests/core/test_filtered_search.py: the model's 0.5 falls between its 3rd and 4th best photo.
    model, _ = calibrated_to_cut(tiny_siglip_dir, tmp_path / "model", paths, "red shoes", keep=3)
    window = MainWindow(data_dir=tmp_path / "data", model=str(model), workers=0, cache_dir=tmp_path / "cache")
    try:
        window.show()
        qtbot.waitUntil(lambda: window.session.library is not None, timeout=20_000)
        add_folder_and_wait(qtbot, window, folder, 8)
        qtbot.keyClicks(window.search_box, "red shoes")
        with qtbot.waitSignal(window.results_shown, timeout=30_000):
            qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
        assert len(window.results.model.results) == 3
        assert window.search_controls.more_button.isVisibleTo(window)
        tip = window.results.model.data(window.results.model.index(0), Qt.ItemDataRole.ToolTipRole)
        assert f"match {window.results.model.results[0].match:.0%}" in tip
        with qtbot.waitSignal(window.results_shown, timeout=30_000):
            qtbot.mouseClick(window.search_controls.more_button, Qt.MouseButton.LeftButton)
        assert len(window.results.model.results) == 8
        assert not window.search_controls.more_button.isVisibleTo(window)
    finally:
        window.close()


def test_not_like_this_and_add_to_the_query_change_the_query(qtbot, make_window, camera_folder: Path) -> None:
    from desktop.photo_actions import photo_menu

    window = make_window()
    add_folder_and_wait(qtbot, window, camera_folder, 3 + JULY)
    tokyo, beach = str(camera_folder / "trip" / "tokyo.jpg"), str(camera_folder / "trip" / "beach.jpg")
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(tokyo)
    before = [r.score for r in window.results.model.results]
    view = window.results.view
    menu = photo_menu(view, beach, view.chosen.emit, (), (view.add_to_query.emit, view.not_like.emit))
    avoid = next(a for a in menu.actions() if a.text() == "Not like this")
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        avoid.trigger()
    assert window.searcher.query.images == (tokyo,) and window.searcher.query.avoid == (beach,)
    assert "not like beach.jpg" in window.search_controls.query_line.text()
    assert beach not in window.results.result_paths()  # an example to avoid is never its own result
    assert [r.score for r in window.results.model.results] != before[: len(window.results.model.results)]

    add = next(a for a in menu.actions() if a.text() == "Add to the query")
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        add.trigger()  # beach moves from avoided to wanted
    assert window.searcher.query.images == (tokyo, beach) and window.searcher.query.avoid == ()
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_text("at night")  # a text joins the examples: "these, but at night"
    assert window.searcher.query.images == (tokyo, beach) and window.searcher.query.text == "at night"
    qtbot.mouseClick(window.search_controls.clear_button, Qt.MouseButton.LeftButton)
    assert window.results.result_paths() == [] and window.search_controls.query_line.text() == "Query: nothing yet"


def test_jumping_to_a_month_scrolls_the_grid_to_its_first_photo(qtbot, make_window, camera_folder: Path) -> None:
    window = make_window()
    window.zoom.setValue(240)  # big cells: the grid must scroll to reach December 2023
    add_folder_and_wait(qtbot, window, camera_folder, 3 + JULY)
    jump = window.date_jump
    qtbot.waitUntil(lambda: len(jump.months) == 3, timeout=10_000)
    labels = [jump.itemText(i) for i in range(1, jump.count())]
    assert labels == ["2024 · Aug (2)", "2024 · Jul (16)", "2023 · Dec (1)"]
    assert window.grid.verticalScrollBar().value() == 0
    jump.jump(2)  # July's first photo is its newest, on the grid's first row below August's two
    current = window.grid.currentIndex()
    assert Path(window.grid_model.photo_at(current.row()).path).stem == f"july_{JULY - 1:02d}"
    assert window.grid.verticalScrollBar().value() > 0
    assert 0 <= window.grid.visualRect(current).top() < 8  # at the top of the view
    jump.jump(3)  # the last month: scrolled as far as the grid goes, its photo in view
    current = window.grid.currentIndex()
    assert Path(window.grid_model.photo_at(current.row()).path).stem == "winter"
    assert window.grid.viewport().rect().contains(window.grid.visualRect(current))
