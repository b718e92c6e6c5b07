"""The indexing pipeline's behaviour: worker processes, bounded look-ahead, failures, cancel, precision,
the numpy preprocessing used in workers, and idle model unloading. Real tiny models, files and SQLite."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import core.pipeline
from core import device as devices
from core.errors import ModelError
from core.library import Library
from core.progress import Progress, TaskHandle
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


class SmallBatches:
    """The real tiny embedder with batches of 2, counting how far decoding ran ahead of the model."""

    def __init__(self, embedder: Any, started: list[int]) -> None:
        self.inner, self.started = embedder, started
        self.key, self.image_size, self.batch_size = embedder.key, embedder.image_size, 2
        self.embedded = 0
        self.max_ahead = 0

    def preprocessor(self) -> Any:
        return self.inner.preprocessor()

    def embed_preprocessed(self, items: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        self.max_ahead = max(self.max_ahead, self.started[0] - self.embedded)
        self.embedded += len(items)
        time.sleep(0.02)  # a slow model: decoding would race ahead if nothing bounded it
        return self.inner.embed_preprocessed(items)


def test_decoding_runs_at_most_a_few_batches_ahead_of_the_model(
    tmp_path: Path, tiny_siglip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    for i in range(30):
        write_photo(folder / f"p{i:02d}.jpg", seed=i, size=(64, 48))
    started = [0]
    real_prepare = core.pipeline.prepare

    def counting_prepare(*args: Any) -> Any:
        started[0] += 1
        return real_prepare(*args)

    monkeypatch.setattr(core.pipeline, "prepare", counting_prepare)
    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(folder)
        lib.scan()
        fake = SmallBatches(lib.embedder(), started)
        pipeline = core.pipeline.Pipeline(lib.store, fake, TaskHandle(), lambda hashes: None, workers=0)
        report = pipeline.run(lib.store.pending_photos(lib.model_key))
    assert report.embedded == 30
    # Photos decoded but not yet embedded never exceed the look-ahead (plus the batch being filled).
    assert 0 < fake.max_ahead <= fake.batch_size * (core.pipeline.LOOKAHEAD_BATCHES + 1)


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
    from core.embedder import ImagePreprocessor
    from core.preprocess import numpy_preprocessor

    mine, theirs = numpy_preprocessor(tiny_siglip_dir), ImagePreprocessor(str(tiny_siglip_dir))
    assert mine is not None
    for seed in range(4):
        image = photo_like(seed, (43, 32))  # as imageio's fast path hands it over: shorter side = target
        a, b = mine(image)["pixel_values"].ravel(), theirs(image)["pixel_values"].ravel()
        assert a.shape == b.shape
        assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) >= 0.999
        assert np.abs(a - b).max() < 1e-4


def test_naflex_models_keep_the_hugging_face_processor(tiny_siglip2_dir: Path) -> None:
    from core.embedder import ImagePreprocessor, load_embedder
    from core.preprocess import numpy_preprocessor

    assert numpy_preprocessor(tiny_siglip2_dir) is None
    assert isinstance(load_embedder(str(tiny_siglip2_dir), device="cpu").preprocessor(), ImagePreprocessor)


def test_cpu_default_is_the_fastest_precision_that_stays_close_to_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(devices.PRECISION_ENV, raising=False)
    assert devices.cpu_default() == "int8"  # measured: int8 min cosine 0.9997 >= 0.99
    assert devices.cpu_default(int8_available=False) == "bf16"
    monkeypatch.setattr(devices, "CPU_INT8_OK", False)
    assert devices.cpu_default() == "bf16"
    monkeypatch.setattr(devices, "CPU_BF16_OK", False)
    assert devices.cpu_default() == "fp32"


def test_lookalike_precision_overrides_the_default_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(devices.PRECISION_ENV, "fp32")
    assert devices.pick_precision("cpu") == "fp32"
    assert devices.pick_precision("cpu", "bf16") == "bf16"  # an explicit argument wins over the variable
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
