"""A second process on the same library: searches work alongside indexing, a second indexer is refused,
and nothing is corrupted. In one process: searches from threads during an update stay consistent."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from core.library.facade import Library
from tests.imagegen import write_photo
from tests.reliability.crash_harness import Launcher, check_after_kill

PHOTOS = 150


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for i in range(PHOTOS):
        write_photo(root / f"c{i:03d}.jpg", seed=5000 + i, size=(96, 72))
    return root


@pytest.mark.skipif(sys.platform == "win32", reason="the fork-based launcher is POSIX")
@pytest.mark.timeout(300)
def test_searches_work_and_a_second_indexer_is_handed_to_the_process_that_indexes(
    many_photos: Path, tiny_siglip_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    common = ["--data-dir", str(data), "--model", str(tiny_siglip_dir)]
    launcher = Launcher(fork=True)  # real processes, forked after the imports (see probe.py)
    try:
        writer = launcher.start(["index", *common, "--workers", "0", str(many_photos)], {},
                                tmp_path / "writer.out")
        time.sleep(0.5)
        second = launcher.start(["index", *common], {}, tmp_path / "second.out")
        searches: list[Path] = []
        # A copy from outside the library: the photo's own search would leave the photo out.
        photo = str(many_photos / "c007.jpg")
        query = shutil.copyfile(photo, tmp_path / "query.jpg")
        while writer.exit_code() is None or len(searches) < 3:
            out = tmp_path / f"search-{len(searches)}.out"
            child = launcher.start(["search", *common, "--image", str(query), "--k", "5", "--json"], {}, out)
            while child.exit_code() is None:
                time.sleep(0.01)
            assert child.exit_code() == 0, out.read_text()
            searches.append(out)
            time.sleep(0.5)  # a person's pace, leaving the cores to the indexer
        while second.exit_code() is None:
            time.sleep(0.01)
    finally:
        launcher.close()

    assert writer.exit_code() == 0, (tmp_path / "writer.out").read_text()
    assert second.exit_code() == 0, (tmp_path / "second.out").read_text()  # handed over, never refused
    assert "handing this to it" in (tmp_path / "second.out").read_text()
    check_after_kill(data)  # SQLite and the index file are whole
    with sqlite3.connect(data / "library.sqlite3") as conn:
        known = {row[0] for row in conn.execute("SELECT path FROM photos")}
    conn.close()
    during = 0
    for out in searches:
        results = json.loads(out.read_text().strip().splitlines()[-1])["results"]
        scores = [r["score"] for r in results]
        assert scores == sorted(scores, reverse=True)
        assert {r["path"] for r in results} <= known
        during += bool(results) and len(results) <= 5
    print(f"\n{len(searches)} searches from a second process while indexing, {during} with results")
    last = json.loads(searches[-1].read_text().strip().splitlines()[-1])["results"]
    assert last[0]["path"] == photo  # once indexed, the photo is found first


@pytest.mark.timeout(240)
def test_searches_from_threads_during_an_update_are_consistent(
    library: Library, many_photos: Path
) -> None:
    library.add_folder(many_photos)
    query = many_photos / "c042.jpg"
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def search_until_done() -> None:
        while not done.is_set():
            try:
                results = library.search_image(query, k=10)
                scores = [r.score for r in results]
                assert scores == sorted(scores, reverse=True)
                assert all(library.photo(r.photo_id) is not None for r in results)
                seen.append(len(results))
            except BaseException as exc:  # reported on the test's thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=search_until_done) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        library.update()
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert len(seen) >= 2
    assert library.search_image(query, k=1)[0].path == str(query)
