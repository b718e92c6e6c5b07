"""The built-in viewer on real photos: stepping through a set, zoom, the large photo decoded upright off
the GUI thread, its details, its actions, an unreadable photo, a RAW+JPEG pair, a photo removed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library.records import Photo, SearchResult
from core.store.changes import LibraryChanges
from desktop.photo_viewer import PhotoViewer
from desktop.qt import QPointF, Qt
from desktop.tasks import TaskManager
from desktop.thumbnail_cache import ThumbnailCache
from tests.imagegen import write_camera_jpeg

NAMES = ("camera.jpg", "portrait.jpg", "broken.jpg", "IMG_1.JPG")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("viewer")
    write_camera_jpeg(root / "camera.jpg", taken="2024:08:15 10:30:00", camera=("Canon", "Canon EOS R5"))
    write_camera_jpeg(root / "portrait.jpg", orientation=6, seed=5)  # stored 640x480, upright 480x640
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a JPEG after all" * 4)
    write_camera_jpeg(root / "IMG_1.JPG", seed=7)
    (root / "IMG_1.CR2").write_bytes(b"II*\x00 a RAW the viewer only offers, never decodes")
    return root


def photo(photo_id: int, path: Path) -> Photo:
    return Photo(photo_id, 1, str(path), path.stat().st_size, 0, None, None, None, None, "indexed", None)


@pytest.fixture
def viewer(qtbot: object, tmp_path: Path, folder: Path) -> Iterator[PhotoViewer]:
    tasks = TaskManager()
    shown = PhotoViewer(ThumbnailCache(tasks, tmp_path / "cache"), tasks)
    qtbot.addWidget(shown)  # type: ignore[attr-defined]
    shown.resize(700, 420)
    shown.show()
    qtbot.waitExposed(shown)  # type: ignore[attr-defined]
    shown.show_set([photo(i + 1, folder / name) for i, name in enumerate(NAMES)], 0)
    yield shown
    tasks.shutdown()


def wait_large(qtbot: object, viewer: PhotoViewer) -> None:
    path = viewer.current_path()
    qtbot.waitUntil(lambda: viewer.large._kept.get(path) is not None, timeout=10_000)  # type: ignore[attr-defined]


def test_arrow_keys_move_through_the_set_and_stop_at_its_ends(qtbot: object, viewer: PhotoViewer) -> None:
    click = qtbot.keyClick  # type: ignore[attr-defined]
    click(viewer, Qt.Key.Key_Left)
    assert viewer.index == 0
    with qtbot.waitSignal(viewer.current_changed) as moved:  # type: ignore[attr-defined]
        click(viewer, Qt.Key.Key_Right)
    assert viewer.index == 1 and moved.args == [viewer.current_path()]
    assert viewer.current_path().endswith("portrait.jpg")  # type: ignore[union-attr]
    click(viewer, Qt.Key.Key_End)
    click(viewer, Qt.Key.Key_Right)
    assert viewer.index == 3 and "4 of 4" in viewer.title.text()
    click(viewer, Qt.Key.Key_Home)
    assert viewer.index == 0


def test_escape_closes_the_viewer(qtbot: object, viewer: PhotoViewer) -> None:
    with qtbot.waitSignal(viewer.closed, timeout=1000):  # type: ignore[attr-defined]
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)  # type: ignore[attr-defined]


def test_zoom_keys_and_double_click_change_the_scale_shown(qtbot: object, viewer: PhotoViewer) -> None:
    wait_large(qtbot, viewer)
    canvas = viewer.canvas
    fitted = canvas.scale()
    assert canvas.fit and fitted < 1  # a 640 px photo in a smaller window is shrunk to fit
    assert canvas.image_rect().width() <= canvas.width()
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)  # type: ignore[attr-defined]
    assert canvas.scale() == pytest.approx(fitted * 1.25)
    assert canvas.image_rect().width() == round(640 * fitted * 1.25)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)  # type: ignore[attr-defined]
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)  # type: ignore[attr-defined]
    assert canvas.scale() == pytest.approx(fitted / 1.25)
    qtbot.keyClick(viewer, Qt.Key.Key_0)  # type: ignore[attr-defined]
    assert canvas.fit and canvas.scale() == pytest.approx(fitted)
    qtbot.keyClick(viewer, Qt.Key.Key_0)  # type: ignore[attr-defined]
    assert canvas.scale() == 1.0 and canvas.image_rect().width() == 640
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert canvas.fit and canvas.scale() == pytest.approx(fitted)


def test_zooming_keeps_the_point_under_the_cursor(qtbot: object, viewer: PhotoViewer) -> None:
    wait_large(qtbot, viewer)
    canvas = viewer.canvas
    at = QPointF(canvas.width() * 0.7, canvas.height() * 0.4)
    before = canvas.image_rect()
    photo_x = (at.x() - before.x()) / canvas.scale()
    canvas.zoom_by(2.0, at)
    after = canvas.image_rect()
    assert (at.x() - after.x()) / canvas.scale() == pytest.approx(photo_x, abs=1.0)


def test_the_large_photo_arrives_upright_from_a_background_decode(qtbot: object, viewer: PhotoViewer) -> None:
    viewer.step(1)  # portrait.jpg: 640x480 pixels tagged "rotate 90"
    qtbot.waitUntil(lambda: viewer.canvas.pixmap.height() == 640, timeout=10_000)  # type: ignore[attr-defined]
    assert viewer.canvas.pixmap.width() == 480  # the full photo, turned; the thumbnail is at most 512
    assert viewer.canvas.image_rect().height() > viewer.canvas.image_rect().width()


def test_the_details_show_the_camera_date_size_and_format(qtbot: object, viewer: PhotoViewer) -> None:
    wait_large(qtbot, viewer)
    assert "Canon EOS R5" in viewer.details.text(), (viewer.details.text(), viewer.large._kept)
    text = viewer.details.text()
    assert "Taken: 2024-08-15 10:30:00" in text
    assert "Size: 640 × 480" in text and "Format: JPEG" in text and "Name: camera.jpg" in text
    assert "Similarity" not in text  # a library photo, not a result
    assert viewer.details.isVisible()
    qtbot.keyClick(viewer, Qt.Key.Key_I)  # type: ignore[attr-defined]
    assert not viewer.details.isVisible()


def test_find_lookalikes_emits_the_photo_shown(qtbot: object, viewer: PhotoViewer, folder: Path) -> None:
    with qtbot.waitSignal(viewer.find_lookalikes, timeout=1000) as asked:  # type: ignore[attr-defined]
        qtbot.mouseClick(viewer.buttons["Find look-alikes"], Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert asked.args == [str(folder / "camera.jpg")]


def test_an_unreadable_photo_says_why_in_the_viewer(qtbot: object, viewer: PhotoViewer) -> None:
    viewer.step(2)
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is viewer.message, timeout=10_000)  # type: ignore[attr-defined]
    assert viewer.message.text().startswith("Cannot show broken.jpg: ")
    assert "JPEG" in viewer.message.text()
    viewer.step(1)  # and the next photo shows again
    assert viewer.stack.currentWidget() is viewer.canvas


def test_a_pair_s_jpeg_offers_its_raw(qtbot: object, viewer: PhotoViewer, folder: Path) -> None:
    assert not viewer.raw_button.isVisible()  # camera.jpg has no RAW beside it
    viewer.step(3)
    qtbot.waitUntil(viewer.raw_button.isVisible, timeout=10_000)  # type: ignore[attr-defined]
    assert viewer.raw_button.text() == "Open the RAW (IMG_1.CR2)"
    assert viewer.raws() == (str(folder / "IMG_1.CR2"),)


def test_a_result_shows_its_score_and_the_raw_the_search_named(viewer: PhotoViewer, folder: Path) -> None:
    result = SearchResult(9, str(folder / "camera.jpg"), 0.875, 640, 480, None, ("/elsewhere/X.NEF",))
    viewer.show_set([result], 0)
    assert "Similarity: 0.875" in viewer.details.text()
    assert viewer.raw_button.isVisible() and viewer.raws() == ("/elsewhere/X.NEF",)


def test_a_photo_removed_while_shown_gives_way_to_the_next(viewer: PhotoViewer, folder: Path) -> None:
    viewer.step(1)
    viewer.apply_changes(LibraryChanges(removed=(2,)), {})
    assert viewer.current_path() == str(folder / "broken.jpg") and len(viewer.items) == 3
    assert "portrait.jpg was removed from the library" in viewer.note.text()
    viewer.apply_changes(LibraryChanges(removed=(1, 3, 4)), {})
    assert viewer.current() is None and viewer.stack.currentWidget() is viewer.message
