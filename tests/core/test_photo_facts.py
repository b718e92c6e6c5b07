"""Header facts read without decoding: date taken (with its offset, else the file's time), camera,
upright size, orientation, format, GPS; and the library reading them before it embeds anything."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from core.imaging.photo_facts import read_facts
from core.library.facade import Library
from tests.imagegen import write_camera_jpeg, write_photo


def test_a_camera_photo_gives_its_date_with_offset_camera_size_and_location(tmp_path: Path) -> None:
    path = write_camera_jpeg(tmp_path / "a.jpg", taken="2024:08:03 10:00:00", offset="+09:00", gps=True,
                           orientation=6, camera=("Canon", "Canon EOS R5"))
    facts = read_facts(str(path))
    assert facts.taken_at == datetime(2024, 8, 3, 10, 0, 0).timestamp() and facts.taken_from == "exif"
    assert facts.taken_offset_min == 9 * 60
    assert (facts.camera_make, facts.camera_model) == ("Canon", "Canon EOS R5")
    assert (facts.width, facts.height, facts.orientation) == (480, 640, 6)  # upright: turned a quarter
    assert facts.format == "JPEG" and facts.has_gps


def test_without_exif_the_date_is_the_files_and_nothing_else_is_made_up(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "b.png", seed=1)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    facts = read_facts(str(path))
    assert facts.taken_at == 1_700_000_000 and facts.taken_from == "file" and facts.taken_offset_min is None
    assert facts.camera_make is None and not facts.has_gps and facts.format == "PNG"
    negative = write_camera_jpeg(tmp_path / "c.jpg", taken="2020:01:01 00:00:00", offset="-05:30")
    assert read_facts(str(negative)).taken_offset_min == -330


def test_a_broken_file_gives_the_file_systems_facts_and_never_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    facts = read_facts(str(bad))
    assert facts.taken_from == "file" and facts.width is None and facts.format == "JPEG"
    gone = read_facts(str(tmp_path / "gone.jpg"))
    assert gone.taken_at is None


def test_the_library_reads_dates_before_it_embeds_so_the_grid_order_is_final_at_once(
    tmp_path: Path, tiny_siglip_dir: Path
) -> None:
    folder = tmp_path / "photos"
    old = write_camera_jpeg(folder / "old.jpg", taken="2019:05:01 12:00:00")
    new_no_exif = write_photo(folder / "screenshot.png", seed=2)  # newest by its file time
    middle = write_camera_jpeg(folder / "middle.jpg", taken="2022:05:01 12:00:00")
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(folder)
        library.scan()  # the scan reads new photos' headers: their dates are there before any embedding
        assert [Path(p.path).name for p in library.photos()] == [new_no_exif.name, middle.name, old.name]
        library.index()
        assert [Path(p.path).name for p in library.photos()] == [new_no_exif.name, middle.name, old.name]


def test_a_library_from_before_facts_gets_them_from_its_next_update_without_embedding(
    tmp_path: Path, tiny_siglip_dir: Path
) -> None:
    folder = tmp_path / "photos"
    write_camera_jpeg(folder / "a.jpg", taken="2021:03:04 05:06:07", camera=("Nikon", "Z 8"))
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(folder)
        library.update()
    with sqlite3.connect(tmp_path / "data" / "library.sqlite3") as db:  # as schema 3 left it
        db.execute("UPDATE photos SET facts_version = NULL, camera_make = NULL, camera_model = NULL")
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        report = library.update()
        assert report.index.embedded == 0
    with sqlite3.connect(tmp_path / "data" / "library.sqlite3") as db:
        assert db.execute("SELECT camera_make, camera_model, facts_version FROM photos").fetchall() == [("Nikon", "Z 8", 1)]
