"""The library end to end on real parts: photo files on disk, SQLite, FAISS and the tiny SigLIP model."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import LibraryBusyError, ModelError
from core.library.facade import Library
from core.tasks.progress import Progress, TaskHandle
from tests.imagegen import write_photo


def top(lib: Library, image: object, k: int = 5) -> list[tuple[str, float]]:
    return [(r.path, r.score) for r in lib.search_image(image, k=k)]  # type: ignore[arg-type]


def test_first_index_embeds_every_photo(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    report = library.update()
    assert report.summary() == {"scanned": 12, "embedded": 12, "reused": 0, "removed": 0, "failed": 0}
    counts = library.status().counts
    assert (counts.photos, counts.indexed, counts.pending) == (12, 12, 0)


def test_second_run_embeds_nothing_and_does_not_load_the_model(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(photo_dir)
        lib.update()
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        report = lib.update()
        assert report.summary()["embedded"] == 0
        assert not lib.model_loaded


def test_a_library_photo_finds_itself_first_with_score_one(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    query = str(photo_dir / "img_03.jpg")
    hits = top(library, query)
    assert hits[0][0] == query
    assert hits[0][1] == pytest.approx(1.0, abs=1e-3)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_exclude_self_leaves_the_query_out(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    query = str(photo_dir / "img_03.jpg")
    results = library.search_image(query, k=5, exclude_self=True)
    assert query not in [r.path for r in results]
    assert len(results) == 5


def test_renamed_photo_keeps_its_embedding(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    old, new = photo_dir / "img_04.jpg", photo_dir / "renamed.jpg"
    old.rename(new)
    report = library.update()
    assert report.summary() == {"scanned": 12, "embedded": 0, "reused": 1, "removed": 0, "failed": 0}
    assert top(library, str(new))[0][0] == str(new)
    assert str(old) not in [p for p, _ in top(library, str(new), k=12)]


def test_move_between_library_folders_embeds_nothing(library: Library, photo_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_photo(other / "x.jpg", seed=99)
    library.add_folder(photo_dir)
    library.add_folder(other)
    library.update()
    shutil.move(photo_dir / "img_05.jpg", other / "img_05.jpg")
    report = library.update()
    assert report.index.embedded == 0 and report.scan.moved == 1
    assert top(library, str(other / "img_05.jpg"))[0][0] == str(other / "img_05.jpg")


def test_folder_rename_embeds_nothing_and_search_returns_new_paths(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    (photo_dir / "trip").rename(photo_dir / "holiday")
    report = library.update()
    assert report.summary()["embedded"] == 0 and report.scan.moved == 2
    new = str(photo_dir / "holiday" / "img_10.jpg")
    assert top(library, new)[0][0] == new
    paths = [r.path for r in library.search_image(new, k=20)]
    assert not any("/trip/" in p for p in paths)


def test_deleted_photo_disappears_from_results(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    gone = photo_dir / "img_06.jpg"
    keep = photo_dir / "img_07.jpg"
    probe = gone.read_bytes()
    gone.unlink()
    report = library.update()
    assert report.summary()["removed"] == 1
    paths = [r.path for r in library.search_image(probe, k=20)]
    assert str(gone) not in paths and str(keep) in paths
    assert library.status().counts.photos == 11


def test_photo_edited_in_place_is_embedded_again(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    target = photo_dir / "img_08.jpg"
    before = library.search_image(str(target), k=1)[0]
    write_photo(target, seed=1234)
    report = library.update()
    assert report.summary()["embedded"] == 1
    after = library.search_image(str(target), k=1)[0]
    assert after.path == str(target) and after.photo_id == before.photo_id
    # The new content is found by its own pixels, not by the old vector.
    from tests.imagegen import photo_like

    assert library.search_image(photo_like(1234), k=1)[0].path == str(target)


def test_identical_copy_reuses_the_vector(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    shutil.copy2(photo_dir / "img_01.jpg", photo_dir / "copy_of_01.jpg")
    report = library.update()
    assert report.index.embedded == 0 and report.summary()["reused"] == 1
    hits = library.search_image(str(photo_dir / "img_01.jpg"), k=2)
    assert {h.path for h in hits} == {str(photo_dir / "img_01.jpg"), str(photo_dir / "copy_of_01.jpg")}
    assert hits[1].score == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("damage", ["delete", "truncate", "garbage"])
def test_broken_index_file_is_rebuilt_with_the_same_results(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path, damage: str
) -> None:
    data = tmp_path / "data"
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(photo_dir)
        lib.update()
        expected = top(lib, str(photo_dir / "img_02.jpg"), k=12)
        index_file = lib.index_path()
    assert index_file.exists()
    if damage == "delete":
        index_file.unlink()
    elif damage == "truncate":
        index_file.write_bytes(index_file.read_bytes()[: index_file.stat().st_size // 2])
    else:
        index_file.write_bytes(os.urandom(4096))
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        got = top(lib, str(photo_dir / "img_02.jpg"), k=12)
    assert [p for p, _ in got] == [p for p, _ in expected]
    assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def test_stale_index_file_is_rebuilt(tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path) -> None:
    data = tmp_path / "data"
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(photo_dir)
        lib.update()
        stale = lib.index_path().read_bytes()
        (photo_dir / "img_00.jpg").unlink()
        lib.update()
        lib.index_path().write_bytes(stale)  # as if the process died before saving the new index
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        paths = [r.path for r in lib.search_image(str(photo_dir / "img_01.jpg"), k=20)]
    assert len(paths) == 11 and str(photo_dir / "img_00.jpg") not in paths


def test_search_by_an_image_outside_the_library(library: Library, photo_dir: Path, tmp_path: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    outside = tmp_path / "elsewhere" / "probe.png"
    write_photo(outside, seed=9, fmt="PNG")  # same picture as img_09.jpg, another format
    hits = library.search_image(str(outside), k=3)
    assert hits[0].path == str(photo_dir / "img_09.jpg")
    assert library.search_image(outside.read_bytes(), k=1)[0].path == str(photo_dir / "img_09.jpg")


def test_text_search_returns_ranked_results(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    library.update()
    results = library.search_text("red canvas shoes", k=5)
    assert len(results) == 5
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)


def test_progress_reaches_the_total(library: Library, photo_dir: Path) -> None:
    seen: list[Progress] = []
    library.add_folder(photo_dir)
    library.update(TaskHandle(on_progress=seen.append))
    last = [p for p in seen if p.stage == "indexing"][-1]
    assert last.done == last.total == 12


def test_cancel_keeps_a_consistent_library_that_the_next_run_completes(
    tmp_path: Path, tiny_siglip_dir: Path, photo_dir: Path
) -> None:
    data = tmp_path / "data"

    def cancel_after_first_batch(p: Progress) -> None:
        if p.stage == "indexing" and p.done > 0:
            handle.cancel()

    handle = TaskHandle(on_progress=cancel_after_first_batch)
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(photo_dir)
        # Batches of 2: the lanes and the writer's queue hold at most 5 batches beyond the first commit, so
        # the cancel it triggers always leaves some of the 6 batches unstarted.
        lib.embedder().batch_size = 2
        first = lib.update(handle)
        assert first.index.cancelled
        assert 0 < first.index.embedded < 12
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        second = lib.update()
        assert first.index.embedded + second.index.embedded == 12
        assert lib.status().counts.indexed == 12
        assert len(lib.search_image(str(photo_dir / "img_00.jpg"), k=20)) == 12


def test_corrupt_photo_is_skipped_and_reported(library: Library, photo_dir: Path) -> None:
    (photo_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    library.add_folder(photo_dir)
    report = library.update()
    assert report.summary()["embedded"] == 12 and report.summary()["failed"] == 1
    failures = dict(library.status().failures)
    assert str(photo_dir / "broken.jpg") in failures
    assert failures[str(photo_dir / "broken.jpg")]


def test_unmounted_folder_goes_offline_and_comes_back_without_embedding(
    library: Library, photo_dir: Path, tmp_path: Path
) -> None:
    library.add_folder(photo_dir)
    library.update()
    parked = tmp_path / "parked"
    photo_dir.rename(parked)  # as if the drive were unplugged
    report = library.update()
    assert report.scan.offline == 12 and report.summary()["removed"] == 0
    counts = library.status().counts
    assert counts.offline == 12 and counts.photos == 12
    assert library.search_text("anything", k=5) == []
    parked.rename(photo_dir)
    report = library.update()
    assert report.summary()["embedded"] == 0 and report.scan.back_online == 12
    assert len(library.search_text("anything", k=20)) == 12


def test_hidden_folders_and_other_files_are_ignored(library: Library, photo_dir: Path) -> None:
    write_photo(photo_dir / ".thumbnails" / "t.jpg", seed=50)
    (photo_dir / "notes.txt").write_text("not a photo")
    library.add_folder(photo_dir)
    assert library.update().scan.scanned == 12


def test_symlink_loop_is_not_followed_forever(library: Library, photo_dir: Path) -> None:
    os.symlink(photo_dir, photo_dir / "trip" / "loop")
    library.add_folder(photo_dir)
    assert library.update().scan.scanned == 12


def test_a_second_writer_is_refused_while_readers_still_search(
    library: Library, photo_dir: Path, tiny_siglip_dir: Path
) -> None:
    library.add_folder(photo_dir)
    library.update()
    with pytest.raises(LibraryBusyError, match="another Lookalike process"):
        Library(library.data_dir, model=str(tiny_siglip_dir))
    with Library(library.data_dir, model=str(tiny_siglip_dir), readonly=True) as reader:
        assert reader.search_image(str(photo_dir / "img_00.jpg"), k=1)[0].path == str(photo_dir / "img_00.jpg")


def test_a_library_that_fails_to_open_lets_the_next_attempt_in(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    gc.disable()  # a failed Library may sit in a reference cycle until the collector runs: its lock must not
    try:
        with pytest.raises(ModelError, match="no-such-model"):
            Library(tmp_path / "data", model="no-such-model")
        with Library(tmp_path / "data", model=str(tiny_siglip_dir)) as lib:  # not "another process is updating"
            assert lib.status().counts.photos == 0
    finally:
        gc.enable()


def test_subscribers_hear_what_changed(library: Library, photo_dir: Path) -> None:
    from core.library.facade import LibraryChanges

    heard: list[LibraryChanges] = []
    library.subscribe(heard.append)
    library.add_folder(photo_dir)
    library.update()
    added = {i for c in heard for i in c.added}
    indexed = {i for c in heard for i in c.updated}
    assert len(added) == 12 and indexed == added
    heard.clear()
    gone = library.store.photo_by_path(str(photo_dir / "img_00.jpg"))
    (photo_dir / "img_00.jpg").unlink()
    library.update()
    assert gone is not None and [i for c in heard for i in c.removed] == [gone.id]
