"""The indexing pipeline's behaviour: worker processes, bounded look-ahead, failures, cancel, precision,
the numpy preprocessing used in workers, and idle model unloading. Real tiny models, files and SQLite."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import core.indexing.pipeline
from core.embedding import device as devices
from core.errors import ModelError
from core.library.facade import Library
from core.tasks.progress import Progress, TaskHandle
from tests.imagegen import photo_like, write_photo


def vectors_by_name(lib: Library) -> dict[str, np.ndarray]:
    photos = lib.photos()
    got, vecs = lib.store.vectors_for_photos(lib.model_key, lib.embedder().dim, [p.id for p in photos])
    paths = {p.id: Path(p.path).name for p in photos}
    return {paths[int(i)]: v for i, v in zip(got, vecs, strict=True)}


def test_a_worker_process_indexes_the_same_vectors_as_decoding_inline(
    tmp_path: Path, photo_dir: Path, tiny_siglip_dir: Path
) -> None:
    results = []
    for workers in (0, 1):  # 1 = a real spawned decoding process
        with Library(tmp_path / f"data{workers}", model=str(tiny_siglip_dir), workers=workers,
                     precision="fp32") as lib:
            lib.add_folder(photo_dir)
            report = lib.update()
            assert (report.index.embedded, report.index.failed) == (12, 0)
            results.append(vectors_by_name(lib))
    inline, spawned = results
    assert inline.keys() == spawned.keys() and len(inline) == 12
    for name in inline:
        np.testing.assert_allclose(spawned[name], inline[name], atol=1e-5)


class SlowModel:
    """The real tiny embedder with batches of 2 and a slow model, recording how far decoding ran ahead of
    the model, how many batches were in the model at once, and each lane thread's torch thread count."""

    def __init__(self, embedder: Any, started: list[int] | None = None, delay: float = 0.02) -> None:
        self.inner, self.started, self.delay = embedder, started or [0], delay
        self.key, self.image_size, self.batch_size = embedder.key, embedder.image_size, 2
        self.precision = embedder.precision
        self.lanes = embedder.lanes
        self.embedded = self.max_ahead = self.inside = self.most_inside = 0
        self.lane_threads: set[int] = set()
        self._lock = threading.Lock()

    def preprocessor(self) -> Any:
        return self.inner.preprocessor()

    def start_lane(self) -> None:
        self.inner.start_lane()

    def end_lanes(self) -> None:
        self.inner.end_lanes()

    def embed_preprocessed(self, items: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        import torch

        with self._lock:
            self.max_ahead = max(self.max_ahead, self.started[0] - self.embedded)
            self.embedded += len(items)
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.lane_threads.add(torch.get_num_threads())
        try:
            time.sleep(self.delay)  # a slow model: decoding would race ahead if nothing bounded it
            return self.inner.embed_preprocessed(items)
        finally:
            with self._lock:
                self.inside -= 1


def test_decoding_runs_at_most_a_few_batches_ahead_of_the_model(
    tmp_path: Path, tiny_siglip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    for i in range(30):
        write_photo(folder / f"p{i:02d}.jpg", seed=i, size=(64, 48))
    started = [0]
    real_prepare = core.indexing.pipeline.prepare

    def counting_prepare(*args: Any) -> Any:
        started[0] += 1
        return real_prepare(*args)

    monkeypatch.setattr(core.indexing.pipeline, "prepare", counting_prepare)
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(folder)
        lib.scan()
        fake = SlowModel(lib.embedder(), started)
        pipeline = core.indexing.pipeline.Pipeline(lib.store, fake, TaskHandle(), lambda hashes: None, workers=0)
        report = pipeline.run(lib.store.pending_photos(lib.model_key))
    assert report.embedded == 30
    # Photos decoded but not yet embedded never exceed the look-ahead, plus the batch being filled and
    # the batches entering the model lanes (an unbounded look-ahead would reach most of the 30).
    lanes = fake.lanes
    assert 0 < fake.max_ahead <= fake.batch_size * (core.indexing.pipeline.LOOKAHEAD_BATCHES + 1 + lanes)


def index_in_name_order(lib: Library, model: SlowModel) -> core.indexing.pipeline.IndexReport:
    lib.scan()
    pending = sorted(lib.store.pending_photos(lib.model_key), key=lambda p: p.path)
    return core.indexing.pipeline.Pipeline(lib.store, model, TaskHandle(), lambda hashes: None, workers=0).run(pending)


@pytest.mark.parametrize("lanes", [1, 2])
def test_model_lanes_run_batches_side_by_side_with_the_same_vectors(
    lanes: int, tmp_path: Path, photo_dir: Path, tiny_siglip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(devices.LANES_ENV, str(lanes))
    with Library(tmp_path / "one", model=str(tiny_siglip_dir), workers=0, precision="fp32") as one_lane:
        monkeypatch.setenv(devices.LANES_ENV, "1")  # the reference: one batch at a time
        one_lane.add_folder(photo_dir)
        one_lane.update()
    monkeypatch.setenv(devices.LANES_ENV, str(lanes))
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0, precision="fp32") as lib:
        lib.add_folder(photo_dir)
        embedder = lib.embedder()
        all_threads = torch_threads()
        slow = SlowModel(embedder, delay=0.2)
        report = index_in_name_order(lib, slow)
        assert (report.embedded, embedder.lanes, slow.most_inside) == (12, lanes, lanes)
        # Each lane runs on its share of the cores; afterwards new threads get all of them again.
        assert slow.lane_threads == {max(1, all_threads // lanes)}
        assert torch_threads(new_thread=True) == all_threads
        mine, reference = vectors_by_name(lib), vectors_by_name(one_lane)
    assert mine.keys() == reference.keys() and len(mine) == 12
    for name in mine:  # stored as float16, and batches of 2 here against 8 there: equal to rounding
        assert float(mine[name] @ reference[name]) > 0.9999


def torch_threads(new_thread: bool = False) -> int:
    import torch

    if not new_thread:
        return int(torch.get_num_threads())
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    return seen[0]


def test_identical_copies_in_batches_side_by_side_are_embedded_once(
    tmp_path: Path, tiny_siglip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(devices.LANES_ENV, "2")
    folder = tmp_path / "copies"
    for pair in range(3):  # batches of 2 in name order: (a, b) and their copies (c, d) run side by side
        a = write_photo(folder / f"{pair}a.jpg", seed=2 * pair, size=(64, 48))
        b = write_photo(folder / f"{pair}b.jpg", seed=2 * pair + 1, size=(64, 48))
        (folder / f"{pair}c.jpg").write_bytes(a.read_bytes())
        (folder / f"{pair}d.jpg").write_bytes(b.read_bytes())
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(folder)
        slow = SlowModel(lib.embedder(), delay=0.2)
        report = index_in_name_order(lib, slow)
        assert slow.most_inside == 2
        assert (report.embedded, report.reused) == (6, 6)
        assert len(vectors_by_name(lib)) == 12  # every copy has its vector


def test_model_lanes_default_to_two_on_a_multicore_cpu_and_one_on_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(devices.LANES_ENV, raising=False)
    assert [devices.model_lanes("cpu", n) for n in (1, 2, 16)] == [1, 2, 2]
    assert devices.model_lanes("cuda", 16) == devices.model_lanes("mps", 8) == 1
    monkeypatch.setenv(devices.LANES_ENV, "3")
    assert devices.model_lanes("cpu", 2) == 3
    monkeypatch.setenv(devices.LANES_ENV, "two")
    with pytest.raises(ModelError, match="whole number"):
        devices.model_lanes("cpu", 2)


def test_a_photo_that_cannot_be_decoded_costs_only_itself(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "mixed"
    for i in range(5):
        write_photo(folder / f"ok{i}.jpg", seed=i)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    library.add_folder(folder)
    report = library.update()
    assert (report.index.embedded, report.index.failed) == (5, 1)
    assert [Path(p).name for p, _ in report.index.failures] == ["broken.jpg"]
    assert library.status().counts.indexed == 5


def test_cancelling_mid_run_keeps_what_was_committed_and_the_next_run_finishes(
    tmp_path: Path, tiny_siglip_dir: Path
) -> None:
    folder = tmp_path / "photos"
    for i in range(40):
        write_photo(folder / f"p{i:02d}.jpg", seed=i, size=(64, 48))
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(folder)
        lib.scan()
        # Batches of 2: the lanes and the writer's queue hold at most 5 batches beyond the first commit, so
        # the cancel it triggers stops the run well before its 20 batches, however fast the tiny model is.
        lib.embedder().batch_size = 2

        def cancel_after_first_batch(p: Progress) -> None:
            if p.stage == "indexing" and p.done > 0:
                handle.cancel()

        handle = TaskHandle(on_progress=cancel_after_first_batch)
        first = lib.index(handle)
        assert first.cancelled and 0 < first.embedded < 40
        counts = lib.status().counts
        # Every photo marked indexed has its vector, and the search index holds exactly those.
        assert counts.indexed == first.embedded == len(vectors_by_name(lib))
        assert counts.pending == 40 - first.embedded
        second = lib.index()
        assert not second.cancelled and first.embedded + second.embedded == 40
        assert len(lib.search_image(folder / "p00.jpg", k=100)) == 40


def test_numpy_preprocessing_matches_the_checkpoints_own_processor(tiny_siglip_dir: Path) -> None:
    from core.embedding.image_inputs import ImagePreprocessor
    from core.embedding.preprocess import numpy_preprocessor

    mine, theirs = numpy_preprocessor(tiny_siglip_dir), ImagePreprocessor(str(tiny_siglip_dir))
    assert mine is not None
    for seed in range(4):
        image = photo_like(seed, (43, 32))  # as imageio's fast path hands it over: shorter side = target
        a, b = mine(image)["pixel_values"].ravel(), theirs(image)["pixel_values"].ravel()
        assert a.shape == b.shape
        assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) >= 0.999
        assert np.abs(a - b).max() < 1e-4


def test_naflex_models_keep_the_hugging_face_processor(tiny_siglip2_dir: Path) -> None:
    from core.embedding.embedder import load_embedder
    from core.embedding.image_inputs import ImagePreprocessor
    from core.embedding.preprocess import numpy_preprocessor

    assert numpy_preprocessor(tiny_siglip2_dir) is None
    assert isinstance(load_embedder(str(tiny_siglip2_dir), device="cpu").preprocessor(), ImagePreprocessor)


def test_no_faster_precision_without_a_check_an_embedder_asked_for_none_runs_fp32(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(devices.PRECISION_ENV, raising=False)
    assert devices.pick_precision("cpu") == "fp32"  # the library's precision check chooses anything faster


def test_lookalike_precision_overrides_the_default_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(devices.PRECISION_ENV, "fp32")
    assert devices.pick_precision("cpu") == "fp32"
    assert devices.pick_precision("cpu", "int8") == "int8"  # an explicit argument wins over the variable
    monkeypatch.setenv(devices.PRECISION_ENV, "fp16")
    with pytest.raises(ModelError, match="not offered on cpu"):
        devices.pick_precision("cpu")


def test_the_model_unloads_after_its_idle_time_and_reloads_on_next_use(
    tmp_path: Path, photo_dir: Path, tiny_siglip_dir: Path
) -> None:
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0, idle_unload_s=0.3) as lib:
        lib.add_folder(photo_dir)
        lib.update()
        assert lib.model_loaded
        deadline = time.monotonic() + 5
        while lib.model_loaded and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not lib.model_loaded
        assert len(lib.search_text("a photo", k=3)) == 3  # loads it again, transparently
        assert lib.model_loaded


def test_vectors_made_at_a_stale_precision_are_made_again_in_their_own_rows(
    tmp_path: Path, photo_dir: Path, tiny_siglip_dir: Path
) -> None:
    from core.embedding.embedder import load_embedder

    with Library(tmp_path / "ref", model=str(tiny_siglip_dir), workers=0, precision="fp32") as ref:
        ref.add_folder(photo_dir)
        ref.update()
        at_fp32 = vectors_by_name(ref)
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0, precision="int8") as lib:
        lib.add_folder(photo_dir)
        lib.update()
        key, store = lib.model_key, lib.store
        at_int8 = vectors_by_name(lib)
        assert store.vector_precisions(key) == {"int8": 12}
        fp32 = load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp32")
        assert (fp32.key, fp32.precision) == (key, "fp32")

        stale = store.pending_photos(key, stale={"int8"})
        assert len(stale) == 12 and store.pending_photos(key) == []
        pipeline = core.indexing.pipeline.Pipeline(store, fp32, TaskHandle(), lambda hashes: None, workers=0,
                                                   stale={"int8"})
        report = pipeline.run(stale)

        assert (report.embedded, report.reused, report.failed) == (12, 0, 0)  # none reused: all stale
        assert store.vector_precisions(key) == {"fp32": 12}
        assert store.pending_photos(key, stale={"int8"}) == []
        with store.read() as conn:  # replaced in place: no second row per photo
            assert conn.exec_driver_sql("SELECT count(*) FROM vectors").scalar() == 12
        again = vectors_by_name(lib)
    assert again.keys() == at_fp32.keys() == at_int8.keys() and len(again) == 12
    for name in again:  # the fp32 model's vectors now, where int8's were
        np.testing.assert_allclose(again[name], at_fp32[name], atol=1e-5)
    assert any(not np.allclose(at_int8[n], at_fp32[n], atol=1e-3) for n in again)
