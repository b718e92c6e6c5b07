from __future__ import annotations

from core.store.changes import LibraryChanges


def test_an_empty_record_is_false_and_any_change_is_true() -> None:
    assert not LibraryChanges()
    assert LibraryChanges(folders=True)
    assert LibraryChanges(moved=(3,))


def test_a_photo_added_then_removed_was_never_seen() -> None:
    merged = LibraryChanges(added=(1, 2)).merged(LibraryChanges(removed=(2,), updated=(1,)))
    assert merged.added == (1,)
    assert merged.removed == ()
    assert merged.updated == ()  # a view reads an added row whole anyway


def test_updates_and_moves_of_surviving_photos_accumulate() -> None:
    merged = LibraryChanges(updated=(5,), moved=(7,)).merged(LibraryChanges(updated=(6, 5), removed=(7,)))
    assert merged.updated == (5, 6)
    assert merged.moved == ()
    assert merged.removed == (7,)


def test_an_id_reused_after_removal_is_both_removed_and_added() -> None:
    merged = LibraryChanges(removed=(9,)).merged(LibraryChanges(added=(9,)))
    assert merged.removed == (9,) and merged.added == (9,)


def test_a_reused_id_removed_again_still_reports_the_first_photos_removal() -> None:
    # Photo 9 is deleted, a new photo gets id 9, and is deleted too: a view showing the first photo 9
    # must still drop it.
    merged = LibraryChanges(removed=(9,), added=(9,)).merged(LibraryChanges(removed=(9,)))
    assert merged.removed == (9,) and merged.added == ()
