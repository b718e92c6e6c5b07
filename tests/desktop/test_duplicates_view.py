"""The duplicates workspace on a real library with planted duplicates: the "same" group is listed with the
keeper first, the keyboard moves through groups and decides, and a clean-up trashes exactly the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.qt import QApplication, QMessageBox, Qt, QTimer
from tests.desktop.helpers import add_folder_and_wait
from tests.dupgen import plant

PHOTOS = 12  # what plant() writes


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, list[Path]]:
    return plant(tmp_path / "photos")


def open_duplicates(qtbot: Any, window: Any) -> Any:
    """Click the mode switch's Duplicates button, as a user does, and wait for the groups."""
    view = window.duplicates
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)  # shortcuts need it
    with qtbot.waitSignal(view.groups_shown, timeout=30_000):
        qtbot.mouseClick(window.modes.button("Duplicates"), Qt.MouseButton.LeftButton)
    assert window.modes.stack.currentWidget() is view
    view.list.setFocus()
    return view


def names(group: Any) -> list[str]:
    return [Path(m.path).name for m in group.members]


def press(qtbot: Any, view: Any, key: Qt.Key) -> None:
    qtbot.keyClick(view.list, key)


def accept_confirmation() -> None:
    """Click "Move to trash" on the confirmation once it is up (it runs its own event loop)."""
    box = QApplication.activeModalWidget()
    if isinstance(box, QMessageBox):
        box.button(QMessageBox.StandardButton.Yes).click()
    else:
        QTimer.singleShot(20, accept_confirmation)


def test_the_planted_same_group_is_listed_with_its_members_and_the_keeper_first(
    qtbot: Any, make_window: Any, planted: dict[str, list[Path]]
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, planted["same"][0].parent.parent, PHOTOS)
    view = open_duplicates(qtbot, window)

    assert view.model.rowCount() == 1
    group = view.model.groups[0]
    assert group.tier == "same"
    assert sorted(names(group)) == sorted(p.name for p in planted["same"])
    assert group.keeper.path == str(planted["same"][0])  # the original (exact copies tie: first path)
    cards = [c for c in view.compare.cards if c.isVisible()]
    assert [c.name.text() for c in cards] == names(group)
    assert "Keep" in cards[0].badge.text() and "Keep" not in cards[1].badge.text()
    assert view.model.data(view.model.index(0)).startswith("5 photos · ")
    # A value is highlighted where it differs from the keeper's: the half-size PNG's dimensions and
    # format, not the byte-identical copy's; on the keeper, every field some member differs in.
    def marked(card: Any, field: int) -> bool:
        return card.items[field].background().color().alpha() > 0

    png = next(c for c in cards if c.name.text().endswith(".png"))
    copy = next(c for c in cards if c.name.text() == planted["exact"][1].name)
    assert png.items[0].text() == "400 × 300" and png.items[2].text() == "PNG"
    assert marked(png, 0) and marked(png, 2) and not marked(copy, 0) and not marked(copy, 2)
    assert marked(cards[0], 0) and marked(cards[0], 5)  # folders differ (camera, downloads)


def test_the_keyboard_moves_between_groups_and_chooses_the_keeper(
    qtbot: Any, make_window: Any, planted: dict[str, list[Path]]
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, planted["same"][0].parent.parent, PHOTOS)
    view = open_duplicates(qtbot, window)
    with qtbot.waitSignal(view.groups_shown, timeout=30_000):
        view.tier.setCurrentText("near")  # the beach set (with its crop) and the burst
    assert view.model.rowCount() == 2 and view.row == 0

    for key, row in ((Qt.Key.Key_J, 1), (Qt.Key.Key_K, 0), (Qt.Key.Key_Down, 1), (Qt.Key.Key_Up, 0)):
        press(qtbot, view, key)
        assert view.row == row
        assert view.compare.group is view.model.groups[row]

    second = view.model.groups[0].members[1]
    press(qtbot, view, Qt.Key.Key_Right)
    assert view.chosen == 1
    press(qtbot, view, Qt.Key.Key_Return)  # keep this one
    assert view.model.groups[0].keeper == second
    assert view.model.groups[0].reasons == ("chosen by you",)


def test_not_duplicates_removes_the_group_for_good(
    qtbot: Any, make_window: Any, planted: dict[str, list[Path]]
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, planted["same"][0].parent.parent, PHOTOS)
    view = open_duplicates(qtbot, window)
    assert view.model.rowCount() == 1

    press(qtbot, view, Qt.Key.Key_N)
    assert view.model.rowCount() == 0
    qtbot.waitUntil(lambda: window.session.owner.queue.idle, timeout=10_000)
    window.close()

    reopened = make_window()
    view = open_duplicates(qtbot, reopened)
    # None of the group comes back: its byte-identical copies included (kept on purpose, like a backup).
    assert view.model.rowCount() == 0


def test_delete_moves_exactly_the_non_keepers_to_the_trash_and_out_of_the_library(
    qtbot: Any, make_window: Any, planted: dict[str, list[Path]], trash: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, planted["same"][0].parent.parent, PHOTOS)
    view = open_duplicates(qtbot, window)
    keeper, *others = (Path(m.path) for m in view.model.groups[0].members)

    QTimer.singleShot(0, accept_confirmation)
    with qtbot.waitSignal(view.report_shown, timeout=30_000) as shown:
        press(qtbot, view, Qt.Key.Key_Delete)
    report = shown.args[0]
    assert sorted(o.path for o in report.moved) == sorted(str(p) for p in others)
    assert not report.refused
    assert keeper.exists() and not any(p.exists() for p in others)
    assert sorted(p.name for p in (trash / "files").iterdir()) == sorted(p.name for p in others)
    assert view.model.rowCount() == 0
    assert view.report_dialog is not None and "Moved 4 files" in view.report_dialog.summary.text()
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == PHOTOS - len(others), timeout=10_000)
