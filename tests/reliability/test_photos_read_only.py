"""Lookalike only ever reads photos: indexing, re-indexing and searching change no byte, no mtime,
and create nothing inside the photo folders."""

from __future__ import annotations

from pathlib import Path

from core.library.facade import Library
from tests.reliability.test_hostile_files import _fingerprint


def test_indexing_and_searching_leave_the_photo_folders_exactly_as_they_were(
    library: Library, photo_dir: Path
) -> None:
    before = _fingerprint(photo_dir)
    library.add_folder(photo_dir)
    library.update()
    (photo_dir / "img_03.jpg").rename(photo_dir / "trip" / "moved.jpg")  # the user moves one...
    before = _fingerprint(photo_dir)
    library.update()  # ...and Lookalike only follows
    library.search_image(photo_dir / "img_01.jpg", k=5)
    library.search_text("a red photo", k=5)
    assert _fingerprint(photo_dir) == before
    assert len(before) == 13  # 12 photos and the sub-folder: nothing added beside them
