"""A photo's context menu: a JPEG that stands for a RAW+JPEG pair offers its RAW too."""

from __future__ import annotations

from desktop.photo_actions import photo_menu
from desktop.qt import QWidget


def test_a_pair_s_jpeg_offers_its_raw_and_a_lone_photo_does_not(qtbot: object) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)  # type: ignore[attr-defined]
    lone = [a.text() for a in photo_menu(parent, "/p/a.jpg", lambda _: None).actions()]
    paired = [a.text() for a in photo_menu(parent, "/p/IMG_1.JPG", lambda _: None, ("/p/IMG_1.CR2",)).actions()]
    assert not any("RAW" in text for text in lone)
    assert "Open the RAW (IMG_1.CR2)" in paired and "Copy the RAW's path (IMG_1.CR2)" in paired
