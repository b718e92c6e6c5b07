"""The window end to end on a real library (tiny model): what a first-time user does in the first minute."""

from __future__ import annotations

import shutil
from pathlib import Path

from desktop.qt import QGuiApplication, QImage, Qt
from desktop.thumb_delegate import PathRole
from tests.desktop.helpers import add_folder_and_wait, drop_urls, result_scores


def test_dropping_a_folder_fills_the_grid_and_clicking_a_photo_shows_its_duplicate_first(
    qtbot, make_window, library_folder: Path
) -> None:
    window = make_window()
    with qtbot.waitSignal(window.session.indexing_finished, timeout=60_000):
        drop_urls(window, [library_folder])
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 13, timeout=10_000)
    qtbot.waitUntil(lambda: "13 photos · indexed" in "".join(window.folders.folder_texts()), timeout=10_000)

    query = str(library_folder / "img_03.jpg")
    row = window.grid_model.row_of(query)
    rect = window.grid.visualRect(window.grid_model.index(row))
    with qtbot.waitSignal(window.results.all_thumbnails_shown, timeout=30_000):
        qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    paths = window.results.result_paths()
    assert paths[0] == str(library_folder / "img_03 copy.jpg")
    assert result_scores(window)[0] > 0.999
    assert query not in paths
    assert len(paths) == 12
    assert result_scores(window) == sorted(result_scores(window), reverse=True)
    assert "img_03.jpg" in window.results.title.text()


def test_enter_on_a_result_shows_that_photos_look_alikes(qtbot, make_window, library_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(str(library_folder / "img_03.jpg"))
    second = window.results.model.index(1, 0)
    window.results.view.setCurrentIndex(second)
    chosen = window.results.result_paths()[1]
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        qtbot.keyClick(window.results.view, Qt.Key.Key_Return)
    assert Path(chosen).name in window.results.title.text()
    assert chosen not in window.results.result_paths()


def test_typing_a_description_lists_photos_best_first(qtbot, make_window, library_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    qtbot.keyClicks(window.search_box, "red shoes on a beach")
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    scores = result_scores(window)
    assert scores == sorted(scores, reverse=True)
    assert "red shoes on a beach" in window.results.title.text()
    assert "match" in window.results.detail.text()  # "3 matches, best …": a text's, not look-alikes
    if len(scores) < 13:  # the model's relevance cut left some out: "Show more" lists them all
        assert window.search_controls.more_button.isVisibleTo(window)
        with qtbot.waitSignal(window.results_shown, timeout=30_000):
            window.search_controls.more_button.click()
    scores = result_scores(window)
    assert len(scores) == 13
    assert scores == sorted(scores, reverse=True)


def test_an_image_dropped_from_outside_the_library_finds_its_original(
    qtbot, make_window, library_folder: Path, tmp_path: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    outside = tmp_path / "elsewhere" / "downloaded.jpg"
    outside.parent.mkdir()
    shutil.copy(library_folder / "img_05.jpg", outside)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        drop_urls(window, [outside])
    assert window.results.result_paths()[0] == str(library_folder / "img_05.jpg")
    assert result_scores(window)[0] > 0.999
    assert window.grid_model.rowCount() == 13  # searching by it did not add it to the library


def test_pasting_an_image_searches_by_it(qtbot, make_window, library_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    QGuiApplication.clipboard().setImage(QImage(str(library_folder / "img_07.jpg")))
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.paste_action.trigger()
    assert window.results.result_paths()[0] == str(library_folder / "img_07.jpg")
    assert "pasted" in window.results.title.text()


def test_pausing_indexing_holds_it_until_resumed(qtbot, make_window, library_folder: Path) -> None:
    window = make_window()
    window.session.indexing_started.connect(window.pause_indexing)
    window.folders.add_requested.emit(str(library_folder))
    qtbot.waitUntil(lambda: window.session.paused, timeout=10_000)
    assert window.status.pause_button.text() == "Resume"
    qtbot.wait(500)  # long enough for 13 tiny-model photos to finish if the pause did not hold
    assert window.session.indexing
    window.session.indexing_started.disconnect(window.pause_indexing)
    with qtbot.waitSignal(window.session.indexing_finished, timeout=60_000):
        qtbot.mouseClick(window.status.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.status.photos_label.text() == "13 photos, 13 indexed", timeout=10_000)


def test_an_unreadable_photo_is_listed_in_the_errors_panel(qtbot, make_window, library_folder: Path) -> None:
    bad = library_folder / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 14)
    qtbot.waitUntil(lambda: window.status.errors_button.isVisible(), timeout=10_000)
    assert window.status.errors_button.text() == "⚠ 1 unreadable"
    qtbot.mouseClick(window.status.errors_button, Qt.MouseButton.LeftButton)
    assert window.errors.isVisible()
    assert window.errors.table.rowCount() == 1
    assert window.errors.table.item(0, 0).text() == str(bad)
    assert window.errors.table.item(0, 1).text()


def test_a_rename_on_disk_updates_the_grid_by_id_without_reloading_it(
    qtbot, make_window, library_folder: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    reloads: list[int] = []
    window.session.photos_ready.connect(lambda photos: reloads.append(len(photos)))
    old, new = library_folder / "img_04.jpg", library_folder / "img_04 renamed.jpg"
    old.rename(new)  # same capture date: the grid's order does not change
    qtbot.waitUntil(lambda: window.grid_model.row_of(str(new)) is not None, timeout=20_000)
    assert window.grid_model.row_of(str(old)) is None
    window.grid.select_path(str(new))  # the path-to-row map is right: selecting the new path finds it
    assert window.grid.currentIndex().data(PathRole) == str(new)
    assert window.grid_model.rowCount() == 13
    assert reloads == []  # the change record was applied row by row, nothing re-read whole


def test_indexing_the_watcher_starts_shows_progress_in_the_status_bar(
    qtbot, make_window, library_folder: Path
) -> None:
    from tests.imagegen import write_photo

    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    with qtbot.waitSignal(window.session.indexing_finished, timeout=30_000):
        with qtbot.waitSignal(window.session.progress, timeout=20_000):
            write_photo(library_folder / "arrived.jpg", seed=321)  # no click: the watcher finds it
        assert window.session.indexing and window.status.pause_button.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == 14, timeout=10_000)


def test_a_photo_deleted_on_disk_leaves_the_look_alikes_shown(qtbot, make_window, library_folder: Path) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(str(library_folder / "img_03.jpg"))
    gone = library_folder / "img_03 copy.jpg"
    assert str(gone) in window.results.result_paths()
    gone.unlink()  # the watcher sees it; the change record takes it out of the results, no new search
    qtbot.waitUntil(lambda: str(gone) not in window.results.result_paths(), timeout=20_000)
    assert len(window.results.result_paths()) == 11
    assert "11 look-alikes" in window.results.detail.text()
