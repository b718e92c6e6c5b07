"""Live folders on real parts: real watchdog observers on temp folders, real SQLite, FAISS and the tiny
SigLIP model. Each test changes files the way a user (or a phone, a camera, an editor) would and waits
until the watcher has settled."""

from __future__ import annotations

import errno
import io
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.library.facade import Library
from core.watch.debouncer import Debouncer
from core.watch.watcher import LibraryWatcher, WatchBatch
from tests.imagegen import photo_like, write_photo

QUIET_S = 0.5


class Recorder:
    """Collects what the watcher reports, from its threads."""

    def __init__(self) -> None:
        self.batches: list[WatchBatch] = []
        self.notices: list[str] = []
        self.errors: list[Exception] = []

    @property
    def embedded(self) -> int:
        return sum(b.embedded for b in self.batches)

    def rescans(self, reason: str) -> int:
        return sum(1 for b in self.batches if b.kind == "rescan" and reason in b.reason)


def make_watcher(library: Library, rec: Recorder, **kw: object) -> LibraryWatcher:
    options: dict = {"quiet_s": QUIET_S, "poll_s": 0.2, "polling_interval_s": 0.3, **kw}
    return LibraryWatcher(
        library, on_batch=rec.batches.append, on_notice=rec.notices.append, on_error=rec.errors.append, **options
    )


@pytest.fixture
def watched(library: Library, photo_dir: Path) -> Iterator[tuple[Library, LibraryWatcher, Recorder]]:
    library.add_folder(photo_dir)
    library.update()
    rec = Recorder()
    watcher = make_watcher(library, rec)
    watcher.start()
    settle(watcher)
    rec.batches.clear()
    yield library, watcher, rec
    watcher.stop()
    assert rec.errors == []


def settle(watcher: LibraryWatcher, timeout: float = 30.0) -> None:
    """Wait until the watcher has seen, debounced and applied everything (events take a moment to come)."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if watcher.idle:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > QUIET_S + 0.8:  # longer than watchdog's 0.5 s move pairing
                return
        else:
            quiet_since = None
        time.sleep(0.05)
    raise AssertionError("the watcher did not settle")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def paths(library: Library) -> set[str]:
    return {p.path for p in library.photos()}


def best(library: Library, query: object) -> tuple[str, float]:
    hit = library.search_image(query, k=1)[0]  # type: ignore[arg-type]
    return hit.path, hit.score


def test_a_new_photo_becomes_searchable(watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path) -> None:
    library, watcher, rec = watched
    new = photo_dir / "new.jpg"
    write_photo(new, seed=500)
    settle(watcher)
    assert best(library, photo_like(500))[0] == str(new)
    assert rec.embedded == 1


def jpeg_bytes(seed: int) -> bytes:
    """A whole photo-like JPEG, to be written to disk in pieces the way a slow copy does."""
    buf = io.BytesIO()
    photo_like(seed).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_a_photo_written_in_pieces_is_embedded_once_and_complete(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path
) -> None:
    library, watcher, rec = watched
    data = jpeg_bytes(501)
    target = photo_dir / "slow_copy.jpg"
    with open(target, "wb") as f:
        for start in range(0, len(data), len(data) // 4 + 1):  # pauses shorter than the quiet period
            f.write(data[start : start + len(data) // 4 + 1])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(QUIET_S * 0.6)
    settle(watcher)
    assert rec.embedded == 1
    path, score = best(library, data)  # the complete file's own vector
    assert path == str(target) and score == pytest.approx(1.0, abs=5e-3)
    assert library.status().counts.failed == 0


def test_a_copy_that_stalls_longer_than_the_quiet_period_waits_for_the_rest(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path
) -> None:
    library, watcher, rec = watched
    data = jpeg_bytes(502)
    target = photo_dir / "usb_stall.jpg"
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        time.sleep(QUIET_S * 3)  # the size is stable, but the JPEG has no end marker yet
        f.write(data[len(data) // 2 :])
    settle(watcher)
    assert rec.embedded == 1 and library.status().counts.failed == 0
    assert best(library, data) == (str(target), pytest.approx(1.0, abs=5e-3))


def test_a_photo_edited_in_place_is_embedded_again(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path
) -> None:
    library, watcher, rec = watched
    target = photo_dir / "img_03.jpg"
    before = library.search_image(str(target), k=1)[0].photo_id
    write_photo(target, seed=503)
    settle(watcher)
    assert rec.embedded == 1
    hit = library.search_image(photo_like(503), k=1)[0]
    assert (hit.path, hit.photo_id) == (str(target), before)


def test_an_editors_save_to_temp_then_rename_is_embedded_once(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path
) -> None:
    library, watcher, rec = watched
    target = photo_dir / "img_04.jpg"
    temp = photo_dir / ".img_04.jpg.tmp"  # hidden and not a photo name: never indexed itself
    write_photo(temp, seed=504, fmt="JPEG")
    os.replace(temp, target)
    settle(watcher)
    assert rec.embedded == 1
    assert best(library, photo_like(504))[0] == str(target)
    assert len(paths(library)) == 12


def test_a_deleted_photo_leaves_the_results(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path
) -> None:
    library, watcher, _ = watched
    gone = photo_dir / "img_06.jpg"
    probe = gone.read_bytes()
    gone.unlink()
    settle(watcher)
    assert str(gone) not in paths(library)
    assert str(gone) not in [r.path for r in library.search_image(probe, k=20)]


def test_a_renamed_photo_keeps_its_vector(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path
) -> None:
    library, watcher, rec = watched
    old, new = photo_dir / "img_07.jpg", photo_dir / "renamed.jpg"
    old.rename(new)
    settle(watcher)
    assert rec.embedded == 0
    assert str(new) in paths(library) and str(old) not in paths(library)
    assert best(library, new.read_bytes()) == (str(new), pytest.approx(1.0, abs=5e-3))


def test_a_renamed_folder_of_100_photos_embeds_nothing(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "albums"
    for i in range(100):
        write_photo(root / "2024 trip" / f"p{i:03d}.jpg", seed=1000 + i, size=(64, 48))
    library.add_folder(root)
    assert library.update().index.embedded == 100
    rec = Recorder()
    with make_watcher(library, rec) as watcher:
        settle(watcher)
        (root / "2024 trip").rename(root / "Lisbon 2024")
        settle(watcher)
    assert rec.embedded == 0 and not rec.errors
    assert paths(library) == {str(root / "Lisbon 2024" / f"p{i:03d}.jpg") for i in range(100)}
    assert library.status().counts.indexed == 100


def test_a_photo_moved_to_another_library_folder_embeds_nothing(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path, tmp_path: Path
) -> None:
    library, watcher, rec = watched
    other = tmp_path / "other"
    other.mkdir()
    library.add_folder(other)
    settle(watcher)  # the watcher picks the new folder up by itself
    shutil.move(photo_dir / "img_05.jpg", other / "img_05.jpg")
    (photo_dir / "trip").rename(other / "trip")  # a whole folder too
    settle(watcher)
    assert rec.embedded == 0
    moved = {str(other / "img_05.jpg"), str(other / "trip" / "img_10.jpg"), str(other / "trip" / "img_11.jpg")}
    assert moved <= paths(library) and len(paths(library)) == 12
    assert library.status().counts.indexed == 12


def test_moving_in_from_outside_embeds_and_moving_out_removes(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path, tmp_path: Path
) -> None:
    library, watcher, rec = watched
    outside = tmp_path / "downloads"
    write_photo(outside / "fresh.jpg", seed=505)
    shutil.move(outside / "fresh.jpg", photo_dir / "fresh.jpg")
    shutil.move(photo_dir / "img_08.jpg", outside / "img_08.jpg")
    settle(watcher)
    assert rec.embedded == 1
    assert str(photo_dir / "fresh.jpg") in paths(library)
    assert str(photo_dir / "img_08.jpg") not in paths(library) and len(paths(library)) == 12


def test_a_burst_of_1000_photos_is_indexed_exactly_once(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "burst"
    root.mkdir()
    library.add_folder(root)
    rec = Recorder()
    progress: list[int] = []
    with make_watcher(library, rec, on_progress=lambda p: progress.append(p.total)) as watcher:
        settle(watcher)
        for i in range(1000):
            write_photo(root / f"b{i:04d}.jpg", seed=2000 + i, size=(48, 32))
        settle(watcher, timeout=120)
    counts = library.status().counts
    assert (counts.photos, counts.indexed, counts.pending) == (1000, 1000, 0)
    assert rec.embedded == 1000 and not rec.errors
    assert max(progress) > 1  # batched, with progress over many photos at a time


def test_an_unplugged_folder_goes_offline_and_returns_without_embedding(
    watched: tuple[Library, LibraryWatcher, Recorder], photo_dir: Path, tmp_path: Path
) -> None:
    library, watcher, rec = watched
    parked = tmp_path / "unplugged"
    photo_dir.rename(parked)
    wait_for(lambda: library.status().counts.offline == 12)
    assert library.search_image(photo_like(1), k=5) == []
    parked.rename(photo_dir)
    wait_for(lambda: library.status().counts.indexed == 12)
    settle(watcher)
    assert rec.embedded == 0
    assert library.status().counts.offline == 0
    assert rec.rescans("offline") >= 1 and rec.rescans("back online") >= 1


def test_hitting_the_watch_limit_falls_back_to_polling_with_one_notice(
    library: Library, photo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchdog.observers import inotify

    def out_of_watches(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(inotify.InotifyObserver, "schedule", out_of_watches)
    library.add_folder(photo_dir)
    library.update()
    rec = Recorder()
    with make_watcher(library, rec) as watcher:
        settle(watcher)
        assert watcher.polling_folders == [str(photo_dir)]
        write_photo(photo_dir / "polled.jpg", seed=506)
        wait_for(lambda: str(photo_dir / "polled.jpg") in paths(library))
        settle(watcher)
    assert len(rec.notices) == 1 and "limit" in rec.notices[0] and str(photo_dir) in rec.notices[0]
    assert rec.embedded == 1 and not rec.errors


def test_an_inotify_queue_overflow_triggers_a_rescan(
    watched: tuple[Library, LibraryWatcher, Recorder],
) -> None:
    from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent

    _, watcher, rec = watched
    # What the kernel sends when its queue overflowed, fed to watchdog's own inotify reader.
    observer = next(iter(watcher._watches.values()))._observer
    observer._inotify_fd.handle_event(InotifyEvent(-1, InotifyConstants.IN_Q_OVERFLOW, 0, b""))  # type: ignore[union-attr]
    wait_for(lambda: rec.rescans("overflow") == 1)


def test_stop_is_idempotent_and_ends_every_thread(library: Library, photo_dir: Path) -> None:
    library.add_folder(photo_dir)
    before = set(threading.enumerate())
    watcher = make_watcher(library, Recorder())
    watcher.start()
    settle(watcher)
    watcher.stop()
    watcher.stop()
    from watchdog.utils import BaseThread

    # The library may keep its own timers (model idle unload); the watcher's and watchdog's must be gone.
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not [t.name for t in left if t.name.startswith("lookalike-watch") or isinstance(t, BaseThread)]


def test_the_debouncer_holds_a_growing_file_until_it_stops_changing(tmp_path: Path) -> None:
    now = [0.0]
    deb = Debouncer(lambda paths: None, quiet_s=1.0, clock=lambda: now[0])
    target = tmp_path / "growing.png"
    image = Image.new("RGB", (32, 32), "red")
    image.save(target)
    deb.touch(str(target))
    assert deb.tick() == []  # first look
    for _ in range(4):
        now[0] += 0.6
        with open(target, "ab") as f:
            f.write(b"x" * 10)  # still growing: never quiet for a whole second
        assert deb.tick() == []
    image.save(target)  # the writer finishes
    now[0] += 0.6
    assert deb.tick() == []  # changed again
    now[0] += 1.1
    assert deb.tick() == [str(target)]
    assert len(deb) == 0


def test_starting_rescans_once_and_the_reconciling_timer_counts_from_that_scan(
    library: Library, photo_dir: Path
) -> None:
    library.add_folder(photo_dir)
    rec = Recorder()
    with make_watcher(library, rec) as watcher:  # poll_s 0.2: a timer due from the start fires at once
        settle(watcher)
    assert rec.rescans("start") == 1
    assert rec.rescans("timer") == 0  # no second full scan of the whole library right after the first
    assert rec.errors == []
