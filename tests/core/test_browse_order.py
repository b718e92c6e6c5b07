"""The library list's order holds from the first listing on: a photo sorts by its date taken, else its
file's time, so neither reading its facts nor indexing moves it, and a photo without a date sits among
the others by its file time instead of at the end."""

from __future__ import annotations

import os
from pathlib import Path

from core.imaging.photo_facts import read_facts
from core.library.facade import Library
from core.store.database import Store
from core.store.scan_plan import NewPhoto, ScanPlan
from desktop.browse_order import browse_key
from tests.imagegen import write_camera_jpeg, write_photo

DAY = 86_400


def _aged(path: Path, when: float) -> Path:
    os.utime(path, (when, when))
    return path


def names(library: Library) -> list[str]:
    return [Path(p.path).name for p in library.photos()]


def test_the_order_after_the_scan_is_the_order_after_indexing(tmp_path: Path, tiny_siglip_dir: Path) -> None:
    folder = tmp_path / "photos"
    now = 1_750_000_000
    # File times contradict the dates taken, so a list sorted by either alone differs from the final one.
    _aged(write_camera_jpeg(folder / "a_2019.jpg", taken="2019:05:01 12:00:00", seed=1), now - 10 * DAY)
    _aged(write_camera_jpeg(folder / "c_2022.jpg", taken="2022:05:01 12:00:00", seed=2), now - 20 * DAY)
    _aged(write_photo(folder / "b_no_date.png", seed=3), now - 30 * DAY)
    broken = folder / "d_broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")  # never gets a date taken: sorts by its (newest) file time
    _aged(broken, now)
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as library:
        library.add_folder(folder)
        library.scan()
        first = names(library)
        library.index()
        assert names(library) == first == ["d_broken.jpg", "b_no_date.png", "c_2022.jpg", "a_2019.jpg"]


def test_a_photo_without_a_date_keeps_its_place_when_its_facts_arrive(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "p.png", seed=4)
    os.utime(path, ns=(1_700_000_000_123_456_836, 1_700_000_000_123_456_836))  # st_mtime differs in its last bit
    st = os.stat(path)
    assert read_facts(str(path)).taken_at == st.st_mtime_ns / 1e9  # the exact date it sorted by before


def test_the_grids_key_is_the_stores_order_with_and_without_dates(tmp_path: Path) -> None:
    store = Store(tmp_path / "library.db")
    folder = store.add_folder(str(tmp_path))
    t = 1_700_000_000
    files = {"a.jpg": (t + 5, None), "b.jpg": (t + 1, float(t + 3)), "c.jpg": (t + 3, None),
             "d.jpg": (t - 9, float(t + 9)), "e.jpg": (t + 3, None), "f.jpg": (t, float(t + 3))}
    store.apply_plan(ScanPlan(insert=[NewPhoto(folder.id, str(tmp_path / n), 1, m * 10**9, None) for n, (m, _) in files.items()]))
    dated = {str(tmp_path / n): taken for n, (_, taken) in files.items() if taken is not None}
    with store.write() as conn:
        from core.store.schema import photos

        for path, taken in dated.items():
            conn.execute(photos.update().where(photos.c.path == path).values(taken_at=taken))
    listed = store.list_photos("m")
    assert [Path(p.path).name for p in listed] == ["d.jpg", "a.jpg", "b.jpg", "c.jpg", "e.jpg", "f.jpg"]
    assert sorted(reversed(listed), key=browse_key) == listed
