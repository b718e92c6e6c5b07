"""Duplicate finding on a real library: planted copies through the real pipeline and the tiny model,
decisions that persist, and the clean-up to the (test's own) system trash, bad inputs included."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.duplicates.cleanup import CleanupPlan
from core.library.facade import Library
from core.tasks.progress import TaskHandle
from tests.dupgen import plant

pytestmark = pytest.mark.skipif(not os.sys.platform.startswith("linux"), reason="the freedesktop trash")


def _names(group) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(m.path).name for m in group.members]


@pytest.fixture
def planted(tmp_path: Path, tiny_siglip_dir: Path) -> tuple[Path, dict[str, list[Path]]]:
    """An indexed library of planted duplicates; returns its data folder and the planted sets."""
    sets = plant(tmp_path / "photos")
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(tmp_path / "photos")
        library.update()
    return tmp_path / "data", sets


def _open(data: Path, tiny: Path) -> Library:
    return Library(data, model=str(tiny), workers=0)


def test_planted_copies_are_found_in_their_tiers_and_distinct_photos_never_merged(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path
) -> None:
    data, sets = planted
    with _open(data, tiny_siglip_dir) as library:
        [exact] = library.duplicate_groups("exact")
        assert exact.tier == "exact" and sorted(_names(exact)) == ["beach (1).jpg", "beach.jpg"]

        [same] = library.duplicate_groups("same")
        assert same.tier == "same"
        assert sorted(map(Path, (m.path for m in same.members))) == sorted(sets["same"])
        # Most pixels, then JPEGs tie on format, then the biggest file: the original with its EXIF;
        # its byte copy ties on everything, and the path decides.
        assert same.keeper.path == str(sets["exact"][0])
        assert same.reclaimable_bytes == sum(p.stat().st_size for p in sets["same"][1:])

        near = library.duplicate_groups("near")
        beach = next(g for g in near if same.keeper.path in {m.path for m in g.members})
        assert beach.tier == "near" and str(sets["crop"][0]) in {m.path for m in beach.members}
        distinct = {str(p) for p in sets["distinct"]}
        for group in near:  # never two distinct photos together, nor one with the beach copies
            assert len(distinct & {m.path for m in group.members}) <= (0 if group is beach else 1)


def test_the_same_library_gives_the_same_groups_in_the_same_order(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path
) -> None:
    data, _ = planted
    runs = []
    for _ in range(2):
        with _open(data, tiny_siglip_dir) as library:
            library.update()  # a rescan changes nothing
            runs.append([(g.tier, [m.path for m in g.members]) for g in library.duplicate_groups("near", 0.85)])
    assert runs[0] == runs[1] and runs[0]


def test_not_duplicates_is_remembered_and_the_group_never_comes_back(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path
) -> None:
    data, _ = planted
    with _open(data, tiny_siglip_dir) as library:
        [same] = library.duplicate_groups("same")
        library.decide_duplicates([m.hash for m in same.members], "distinct")
        assert library.duplicate_groups("same") == []
    with _open(data, tiny_siglip_dir) as library:
        library.update()
        assert library.duplicate_groups("same") == []
        assert library.duplicate_groups("exact") == []  # its identical copies were in the group too


def test_moving_to_the_trash_takes_exactly_the_non_keepers_and_the_library_follows(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path, trash: Path
) -> None:
    data, sets = planted
    with _open(data, tiny_siglip_dir) as library:
        [same] = library.duplicate_groups("same")
        before = {p: p.read_bytes() for p in sets["same"]}
        report = library.trash_duplicates(CleanupPlan((same,)))
        assert sorted(o.path for o in report.moved) == sorted(str(p) for p in sets["same"][1:])
        assert report.bytes == sum(len(before[p]) for p in sets["same"][1:])
        assert sets["same"][0].exists() and not any(p.exists() for p in sets["same"][1:])
        trashed = sorted(os.listdir(trash / "files"))
        assert trashed == sorted(p.name for p in sets["same"][1:])
        for p in sets["same"][1:]:  # recoverable, byte for byte
            assert (trash / "files" / p.name).read_bytes() == before[p]
        listed = {p.path for p in library.photos()}
        assert str(sets["same"][0]) in listed and not listed & {str(p) for p in sets["same"][1:]}
        handle = TaskHandle()
        assert library.duplicate_groups("same", handle=handle) == []
        assert handle.snapshot().stage == ""  # regrouped from the pairs already found, none compared again
        assert all(p.exists() for p in sets["crop"] + sets["burst"] + sets["distinct"])


def test_files_that_changed_or_vanished_since_grouping_are_not_moved_and_the_rest_are(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path, trash: Path
) -> None:
    data, sets = planted
    with _open(data, tiny_siglip_dir) as library:
        [same] = library.duplicate_groups("same")
    keeper, *others = [Path(m.path) for m in same.members]
    vanished, changed, *rest = others
    vanished.unlink()
    with changed.open("ab") as f:
        f.write(b"edited")
    with _open(data, tiny_siglip_dir) as library:
        report = library.trash_duplicates(CleanupPlan((same,)))
    reasons = {Path(o.path): o.reason for o in report.refused}
    assert "vanished" in str(reasons[vanished]) and "changed since it was grouped" in str(reasons[changed])
    assert {Path(o.path) for o in report.moved} == set(rest)
    assert changed.exists() and keeper.exists()


def test_nothing_of_a_group_is_moved_while_its_keeper_is_missing(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path, trash: Path
) -> None:
    data, sets = planted
    with _open(data, tiny_siglip_dir) as library:
        [same] = library.duplicate_groups("same")
        keeper = Path(same.keeper.path)
        keeper.rename(keeper.with_name("moved-away.jpg"))  # as if its drive went offline
        report = library.trash_duplicates(CleanupPlan((same,)))
    assert report.moved == [] and len(report.refused) == len(same.others)
    assert all("is missing" in str(o.reason) for o in report.refused)
    assert all(Path(m.path).exists() for m in same.others)
    assert not (trash / "files").exists()


def test_a_raw_and_jpeg_pair_is_one_member_and_goes_to_the_trash_whole(
    tmp_path: Path, tiny_siglip_dir: Path, trash: Path
) -> None:
    from dataclasses import replace

    from tests.dnggen import write_dng
    from tests.imagegen import write_photo

    shoot, backup = tmp_path / "photos" / "shoot", tmp_path / "photos" / "backup"
    jpeg = write_photo(shoot / "IMG_0001.JPG", seed=5)
    raw = write_dng(shoot / "IMG_0001.DNG")
    backup.mkdir()
    copy = Path(shutil.copyfile(jpeg, backup / "IMG_0001.JPG"))
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(tmp_path / "photos")
        library.update()
        [group] = library.duplicate_groups("exact")
        pair = next(m for m in group.members if m.path == str(jpeg))
        assert len(group.members) == 2 and pair.companions[0][0] == str(raw)
        assert group.keeper is pair and pair.format == "DNG+JPG"  # the RAW's format wins
        # Keep the backup's copy instead: the pair goes, both files.
        library.apply_settings(replace(library.settings, keeper_rules=("folders",), preferred_folders=(str(backup),)))
        [group] = library.duplicate_groups("exact")
        assert group.keeper.path == str(copy)
        report = library.trash_duplicates(CleanupPlan((group,)))
    assert sorted(o.path for o in report.moved) == sorted([str(jpeg), str(raw)])
    assert copy.exists() and not jpeg.exists() and not raw.exists()


def test_photos_indexed_before_pixel_prints_get_them_from_the_next_update_without_embedding(
    planted: tuple[Path, dict[str, list[Path]]], tiny_siglip_dir: Path
) -> None:
    import sqlite3

    data, sets = planted
    with sqlite3.connect(data / "library.sqlite3") as db:  # as a library from before schema 3 has none
        db.execute("DELETE FROM pixel_prints")
    with _open(data, tiny_siglip_dir) as library:
        # No pixel evidence: only the identical files are grouped; nothing is called "the same picture".
        assert [g.tier for g in library.duplicate_groups("same")] == ["exact"]
        report = library.update()
        assert report.index.embedded == 0 and report.index.reused == len(library.photos())
        [same] = library.duplicate_groups("same")
        assert sorted(m.path for m in same.members) == sorted(str(p) for p in sets["same"])
