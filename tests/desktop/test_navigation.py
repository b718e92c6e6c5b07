"""Back and forward across searches and modes, the Results mode, the search box's keys, a failed search
and quitting: on the real window over a real library (tiny model)."""

from __future__ import annotations

from pathlib import Path

from desktop.composed_query import ComposedQuery
from desktop.navigation import Navigation, Place
from desktop.qt import QGuiApplication, QImage, QMimeData, Qt, QUrl
from desktop.search_box import SearchBox
from tests.desktop.helpers import add_folder_and_wait


def test_history_drops_the_forward_places_when_a_new_place_is_visited(qapp) -> None:
    nav = Navigation()
    shown: list[Place] = []
    nav.go.connect(shown.append)
    a, b, c = (Place("Library", ComposedQuery(text=t)) for t in "abc")
    for place in (a, b, b):  # the same place twice is one visit
        nav.visit(place)
    nav.back()
    assert shown == [a] and nav.can_go_forward()
    nav.visit(c)
    assert not nav.can_go_forward()
    nav.back()
    assert shown == [a, a]
    assert not nav.can_go_back()


def test_back_and_forward_return_to_the_mode_and_the_query_shown_there(
    qtbot, make_window, library_folder: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    assert not window.back_button.isEnabled()
    photo = str(library_folder / "img_03.jpg")
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(photo)
    assert window.modes.mode == "Library" and not window.placement.large

    qtbot.keyClicks(window.search_box, "a red square")
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    assert window.modes.mode == "Results"  # a text's answer fills the main area
    assert window.placement.large and window.results.isVisibleTo(window)
    assert window.results.view.wanted_size == window.zoom.value()

    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.back_button.click()
    assert window.modes.mode == "Library" and not window.placement.large
    assert "img_03.jpg" in window.results.title.text()
    assert window.forward_button.isEnabled()

    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.forward_button.click()
    assert window.modes.mode == "Results"
    assert "a red square" in window.results.title.text()
    assert not window.forward_button.isEnabled()

    assert window.filter_bar.isVisibleTo(window)  # over the library and the results
    window.modes.set_mode("Duplicates")
    assert not window.filter_bar.isVisibleTo(window)  # the review has its own tools
    window.navigation.back()
    assert window.modes.mode == "Results" and window.filter_bar.isVisibleTo(window)
    while window.back_button.isEnabled():  # back to where the window started: no query
        window.back_button.click()
    assert window.modes.mode == "Library" and window.searcher.query.empty


def test_a_search_by_a_deleted_photo_leaves_nothing_of_the_previous_answer(
    qtbot, make_window, library_folder: Path, tmp_path: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    with qtbot.waitSignal(window.results_shown, timeout=30_000):
        window.search_path(str(library_folder / "img_03.jpg"))
    assert window.results.result_paths()
    gone = tmp_path / "gone.jpg"  # deleted between the click and the search
    qtbot.waitUntil(lambda: window.results.model.rowCount() > 0)
    window.search_path(str(gone))
    qtbot.waitUntil(lambda: window.results.title.text().startswith("Could not search"), timeout=30_000)
    assert window.results.result_paths() == []
    assert window.results.query_picture.pixmap().isNull()
    assert "gone.jpg" in window.results.title.text()


def test_pasting_into_the_search_box_asks_by_an_image_and_pastes_words_as_words(qtbot) -> None:
    box = SearchBox()
    qtbot.addWidget(box)
    asked: list[object] = []
    box.image_pasted.connect(asked.append)
    clipboard = QGuiApplication.clipboard()

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    clipboard.setImage(image)
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(asked) == 1 and isinstance(asked[0], bytes) and asked[0][:4] == b"\x89PNG"
    assert box.text() == ""

    clipboard.setText("/home/someone/a dog.jpg")  # words, even when they name a file
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert box.text() == "/home/someone/a dog.jpg" and len(asked) == 1


def test_a_copied_image_file_pasted_asks_by_that_file(qtbot, tmp_path: Path) -> None:
    box = SearchBox()
    qtbot.addWidget(box)
    asked: list[object] = []
    box.image_pasted.connect(asked.append)
    photo = tmp_path / "copied.png"
    QImage(4, 4, QImage.Format.Format_RGB32).save(str(photo))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    clipboard = QGuiApplication.clipboard()
    clipboard.setMimeData(mime)  # the clipboard owns it now
    try:
        qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    finally:
        clipboard.clear()  # deleted here, while Qt runs, not by the interpreter's exit after Qt's
    assert asked == [str(photo)]


def test_escape_empties_the_box_then_clears_the_query(qtbot) -> None:
    box = SearchBox()
    qtbot.addWidget(box)
    cleared: list[bool] = []
    box.cleared.connect(lambda: cleared.append(True))
    qtbot.keyClicks(box, "beach")
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.text() == "" and not cleared
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert cleared == [True]


def test_the_window_leaves_the_screen_before_the_library_is_closed(qtbot, make_window, monkeypatch) -> None:
    window = make_window()
    seen: list[bool] = []
    close = window.session.close
    monkeypatch.setattr(window.session, "close", lambda **kw: (seen.append(window.isVisible()), close(**kw)))
    window.close()
    assert seen == [False]


def test_file_names_under_the_thumbnails_are_a_choice_the_window_remembers(
    qtbot, make_window, library_folder: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    plain = window.grid.gridSize().height()
    window.names_action.trigger()
    assert window.grid.thumb_delegate.names and window.results.view.thumb_delegate.names
    assert window.grid.gridSize().height() > plain  # a line for the name
    window.close()
    again = make_window()  # the same library folder: the choice comes back
    assert again.names_action.isChecked() and again.grid.thumb_delegate.names
