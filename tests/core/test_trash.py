"""Moving photos to the trash: only library files, only unchanged ones, always recoverable, never deleted.

Real files and the real Send2Trash; the `trash` fixture (tests/conftest.py) sends it to a temp folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from core.files.trash import TrashOutcome, TrashRequest, move_to_trash
from tests.conftest import reimport_send2trash
from tests.reliability.mounts import small_tmpfs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop trash")

PHOTO_BYTES = b"\xff\xd8\xff\xe0 not really a JPEG, but bytes to recover \xff\xd9" * 50


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    return folder


def _photo(folder: Path, name: str = "IMG_0001.jpg", data: bytes = PHOTO_BYTES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _request(path: Path) -> TrashRequest:
    st = path.stat()
    return TrashRequest(str(path), st.st_size, st.st_mtime_ns)


def _trashed_files(trash: Path) -> list[str]:
    files = trash / "files"
    return sorted(os.listdir(files)) if files.exists() else []


def _assert_kept(outcome: TrashOutcome, path: Path, reason_part: str) -> None:
    assert not outcome.trashed and outcome.bytes == 0
    assert outcome.reason is not None and reason_part in outcome.reason, outcome.reason
    assert path.read_bytes() == PHOTO_BYTES


def test_a_photo_goes_to_the_trash_whole_and_recoverable(trash: Path, library: Path) -> None:
    photo = _photo(library / "2024")
    [outcome] = move_to_trash([_request(photo)], [str(library)])
    assert outcome == TrashOutcome(str(photo), True, None, len(PHOTO_BYTES))
    assert not photo.exists()
    assert (trash / "files" / "IMG_0001.jpg").read_bytes() == PHOTO_BYTES
    info = (trash / "info" / "IMG_0001.jpg.trashinfo").read_text()
    assert f"Path={photo}" in info  # where the desktop's "Restore" puts it back


def test_a_file_outside_the_library_folders_stays(trash: Path, library: Path, tmp_path: Path) -> None:
    elsewhere = _photo(tmp_path / "library-old")  # shares the library's name as a prefix
    link_outside = tmp_path / "shortcuts" / "IMG_0001.jpg"  # lives outside, leads into the library
    link_outside.parent.mkdir()
    link_outside.symlink_to(_photo(library))
    outcomes = move_to_trash([_request(elsewhere), _request(link_outside)], [str(library)])
    _assert_kept(outcomes[0], elsewhere, "not in a library folder")
    _assert_kept(outcomes[1], link_outside, "not in a library folder")
    assert _trashed_files(trash) == []


def test_a_path_climbing_out_of_a_library_folder_stays(trash: Path, library: Path, tmp_path: Path) -> None:
    elsewhere = _photo(tmp_path / "private")
    climbing = TrashRequest(
        f"{library}/../private/IMG_0001.jpg", len(PHOTO_BYTES), elsewhere.stat().st_mtime_ns
    )
    [outcome] = move_to_trash([climbing], [str(library)])
    _assert_kept(outcome, elsewhere, "not in a library folder")


def test_a_symlink_in_a_library_folder_leading_outside_moves_nothing(
    trash: Path, library: Path, tmp_path: Path
) -> None:
    outside = _photo(tmp_path / "private")
    link = library / "IMG_0001.jpg"
    link.symlink_to(outside)
    folder_link = library / "linked-folder"
    folder_link.symlink_to(tmp_path / "private")
    outcomes = move_to_trash([_request(link), _request(folder_link / "IMG_0001.jpg")], [str(library)])
    for outcome in outcomes:
        _assert_kept(outcome, outside, "not in a library folder")
    assert link.is_symlink() and _trashed_files(trash) == []


def test_a_symlink_to_another_library_photo_moves_the_link_not_the_photo(trash: Path, library: Path) -> None:
    kept = _photo(library / "originals")
    link = library / "album" / "IMG_0001.jpg"
    link.parent.mkdir()
    link.symlink_to(kept)
    [outcome] = move_to_trash([_request(link)], [str(library)])
    assert outcome.trashed and outcome.bytes == len(str(kept))  # a symlink's size: its target's path
    assert not os.path.lexists(link)
    assert kept.read_bytes() == PHOTO_BYTES
    assert (trash / "files" / "IMG_0001.jpg").is_symlink()


def test_a_photo_that_vanished_is_reported_not_moved(trash: Path, library: Path) -> None:
    photo = _photo(library)
    request = _request(photo)
    photo.unlink()
    [outcome] = move_to_trash([request], [str(library)])
    assert outcome == TrashOutcome(str(photo), False, "vanished since it was grouped: nothing to move", 0)


def test_a_photo_edited_since_it_was_grouped_stays(trash: Path, library: Path) -> None:
    resized, touched = _photo(library, "resized.jpg"), _photo(library, "touched.jpg")
    seen = _request(resized)
    resized_seen = TrashRequest(seen.path, seen.size + 1, seen.mtime_ns)  # it was one byte longer then
    touched_seen = _request(touched)
    os.utime(touched, ns=(touched_seen.mtime_ns, touched_seen.mtime_ns + 1))  # same size, saved again
    outcomes = move_to_trash([resized_seen, touched_seen], [str(library)])
    _assert_kept(outcomes[0], resized, "changed since it was grouped: not moved; group again")
    _assert_kept(outcomes[1], touched, "changed since it was grouped: not moved; group again")
    assert _trashed_files(trash) == []


def test_a_folder_is_not_a_photo_to_trash(trash: Path, library: Path) -> None:
    folder = library / "2024"
    folder.mkdir()
    [outcome] = move_to_trash([_request(folder)], [str(library)])
    assert not outcome.trashed and outcome.reason == "is not a regular file: not moved"
    assert folder.is_dir()


def _skip_if_permissions_are_ignored(tmp_path: Path) -> None:
    """Root (with CAP_DAC_OVERRIDE) writes into read-only folders; run these with it dropped:
    capsh --drop=cap_dac_override,cap_dac_read_search -- -c 'python -m pytest ...'."""
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o555)
    if os.access(probe, os.W_OK):
        pytest.skip("this process ignores file permissions (root)")


def test_a_photo_in_a_read_only_folder_stays(trash: Path, library: Path, tmp_path: Path) -> None:
    _skip_if_permissions_are_ignored(tmp_path)
    photo = _photo(library / "archive")
    photo.parent.chmod(0o555)
    try:
        [outcome] = move_to_trash([_request(photo)], [str(library)])
    finally:
        photo.parent.chmod(0o755)
    _assert_kept(outcome, photo, f"the folder {photo.parent} is read-only: not moved")
    assert not trash.exists()  # refused before Send2Trash could write a .trashinfo for it


def test_a_read_only_photo_stays_with_a_reason_that_says_so(
    trash: Path, library: Path, tmp_path: Path
) -> None:
    _skip_if_permissions_are_ignored(tmp_path)
    photo = _photo(library)
    photo.chmod(0o444)  # Send2Trash refuses files the user may not write, though the folder is writable
    [outcome] = move_to_trash([_request(photo)], [str(library)])
    _assert_kept(outcome, photo, "the file is read-only")
    assert _trashed_files(trash) == []


def test_no_usable_home_trash_leaves_the_photo_and_deletes_nothing(
    tmp_path: Path, library: Path, trash: Path
) -> None:
    # $XDG_DATA_HOME below a regular file: the trash cannot be created, and Send2Trash has no fallback.
    (tmp_path / "not-a-folder").write_bytes(b"")
    os.environ["XDG_DATA_HOME"] = str(tmp_path / "not-a-folder" / "share")
    reimport_send2trash()
    photo = _photo(library)
    before = photo.stat()
    [outcome] = move_to_trash([_request(photo)], [str(library)])
    _assert_kept(outcome, photo, f"no trash is available for {library}")
    assert "never deletes permanently" in str(outcome.reason)
    assert photo.stat().st_mtime_ns == before.st_mtime_ns


def test_a_photo_on_another_volume_goes_to_that_volume_s_trash(tmp_path: Path, trash: Path) -> None:
    with small_tmpfs(tmp_path / "usb", "1m") as volume:
        photo = _photo(volume / "DCIM")
        [outcome] = move_to_trash([_request(photo)], [str(volume)])
        assert outcome.trashed and not photo.exists()
        volume_trash = volume / f".Trash-{os.getuid()}"
        assert (volume_trash / "files" / "IMG_0001.jpg").read_bytes() == PHOTO_BYTES
        assert (volume_trash / "info" / "IMG_0001.jpg.trashinfo").exists()
        assert _trashed_files(trash) == []  # never copied across to the home trash


def test_a_volume_without_a_usable_trash_keeps_its_photo(tmp_path: Path, trash: Path) -> None:
    with small_tmpfs(tmp_path / "usb", "1m") as volume:
        (volume / f".Trash-{os.getuid()}").write_bytes(b"")  # the volume's trash cannot be a folder
        photo = _photo(volume / "DCIM")
        [outcome] = move_to_trash([_request(photo)], [str(volume)])
        _assert_kept(outcome, photo, f"no trash is available for {photo.parent}")
        assert _trashed_files(trash) == []  # no fallback to the home trash on another device


def test_a_home_trash_on_another_device_gets_a_whole_copy_first(
    tmp_path: Path, library: Path, trash: Path
) -> None:
    # Send2Trash's one fallback (EXDEV): copy into the home trash, then unlink. Still recoverable.
    with small_tmpfs(tmp_path / "data-disk", "1m") as data_disk:
        os.environ["XDG_DATA_HOME"] = str(data_disk)
        reimport_send2trash()
        photo = _photo(library)
        [outcome] = move_to_trash([_request(photo)], [str(library)])
        assert outcome.trashed and not photo.exists()
        # Its first try left a .trashinfo behind, so the copy is named "IMG_0001 1.jpg".
        [copy] = (data_disk / "Trash" / "files").iterdir()
        assert copy.read_bytes() == PHOTO_BYTES


def test_one_failure_never_stops_the_others(trash: Path, library: Path, tmp_path: Path) -> None:
    first, second = _photo(library, "a.jpg"), _photo(library, "b.jpg")
    outside = _photo(tmp_path / "private")
    gone = TrashRequest(str(library / "gone.jpg"), 1, 1)
    # 250 characters: a legal name whose "<name>.trashinfo" is too long, so Send2Trash itself fails.
    long_named = _photo(library, "x" * 246 + ".jpg")
    requests = [_request(first), gone, _request(outside), _request(long_named), _request(second)]
    outcomes = move_to_trash(requests, [str(library)])
    assert [o.path for o in outcomes] == [r.path for r in requests]
    assert [o.trashed for o in outcomes] == [True, False, False, False, True]
    assert outcomes[3].reason == "could not be moved to the trash (File name too long): not moved"
    assert _trashed_files(trash) == ["a.jpg", "b.jpg"]
    assert outside.read_bytes() == long_named.read_bytes() == PHOTO_BYTES


def test_a_relative_path_is_never_resolved_against_the_working_folder(
    trash: Path, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = _photo(library)
    monkeypatch.chdir(library)
    [outcome] = move_to_trash(
        [TrashRequest("IMG_0001.jpg", len(PHOTO_BYTES), photo.stat().st_mtime_ns)], [str(library)]
    )
    _assert_kept(outcome, photo, "not an absolute path")


def test_a_photo_on_a_read_only_mounted_drive_is_kept_with_a_reason(tmp_path: Path, trash: Path) -> None:
    # A read-only mount (a locked SD card, a read-only share) stops root too, unlike a chmod.
    from tests.reliability.mounts import remount_read_only, remount_read_write

    with small_tmpfs(tmp_path / "card", "1m") as card:
        photo = _photo(card / "DCIM")
        request = _request(photo)
        remount_read_only(card)
        try:
            [outcome] = move_to_trash([request], [str(card)])
        finally:
            remount_read_write(card)
        _assert_kept(outcome, photo, f"the folder {photo.parent} is read-only")
        assert not (card / f".Trash-{os.getuid()}").exists() and _trashed_files(trash) == []
