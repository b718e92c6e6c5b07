"""One library, two models: each keeps its own vectors and index file; switching back costs nothing.

Real parts throughout: photo files, SQLite, FAISS index files, and two different tiny random models.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.embedding.registry import resolve_model
from core.library.facade import Library
from core.tasks.progress import Progress, TaskHandle
from core.vectors.index import VectorIndex


@pytest.fixture
def two_models(tiny_siglip_dir: Path, tiny_siglip2_dir: Path) -> tuple[str, str]:
    return str(tiny_siglip_dir), str(tiny_siglip2_dir)


@pytest.fixture
def indexed(library: Library, photo_dir: Path) -> Library:
    """The `library` fixture (tiny SigLIP, "model A") with `photo_dir` indexed."""
    library.add_folder(photo_dir)
    library.update()
    return library


@pytest.fixture
def build_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on the real VectorIndex.build: one entry (the vector count) per index rebuilt from SQLite."""
    calls: list[int] = []
    real = VectorIndex.build.__func__  # type: ignore[attr-defined]

    def spy(cls: type, dim: int, ids: np.ndarray, vectors: np.ndarray, **kw: object) -> VectorIndex:
        calls.append(len(ids))
        return real(cls, dim, ids, vectors, **kw)

    monkeypatch.setattr(VectorIndex, "build", classmethod(spy))
    return calls


def all_vectors(lib: Library, model: str) -> tuple[np.ndarray, np.ndarray]:
    key = resolve_model(model).key
    dim = lib.store.model_dim(key)
    assert dim is not None
    ids = [p.id for p in lib.photos()]
    return lib.store.vectors_for_photos(key, dim, ids)


def test_switching_to_a_second_model_embeds_every_photo_once_with_progress(
    indexed: Library, two_models: tuple[str, str]
) -> None:
    model_a, model_b = two_models
    ids_a, before = all_vectors(indexed, model_a)
    snapshots: list[Progress] = []

    indexed.set_model(model_b)
    report = indexed.update(TaskHandle(on_progress=snapshots.append))

    assert report.summary()["embedded"] == 12
    indexing = [p for p in snapshots if p.stage == "indexing"]
    assert indexing[0].total == 12 and indexing[-1].done == 12
    ids_after, after = all_vectors(indexed, model_a)
    assert np.array_equal(ids_a, ids_after) and np.array_equal(before, after)  # A's vectors untouched
    assert indexed.store.count_indexable(resolve_model(model_b).key) == 12
    assert indexed.index_path(resolve_model(model_a).key).exists()
    assert indexed.index_path(resolve_model(model_b).key).exists()
    assert indexed.update().summary()["embedded"] == 0  # once only


def test_switching_back_embeds_nothing_and_loads_the_saved_index(
    indexed: Library, two_models: tuple[str, str], photo_dir: Path, build_calls: list[int]
) -> None:
    model_a, model_b = two_models
    query = str(photo_dir / "img_02.jpg")
    results_a = [(r.path, r.score) for r in indexed.search_image(query, k=12)]
    file_a = indexed.index_path()
    stamp = file_a.stat().st_mtime_ns
    indexed.set_model(model_b)
    indexed.update()
    results_b = [(r.path, r.score) for r in indexed.search_image(query, k=12)]
    build_calls.clear()

    indexed.set_model(model_a)
    report = indexed.update()
    again = [(r.path, r.score) for r in indexed.search_image(query, k=12)]

    assert report.summary()["embedded"] == 0
    assert not indexed.model_loaded  # a library photo's query uses its stored vector
    assert build_calls == []  # A's index file was loaded, not rebuilt from SQLite
    assert file_a.stat().st_mtime_ns == stamp
    assert again == results_a
    assert [s for _, s in results_b] != [s for _, s in results_a]  # each model answers with its own vectors


def test_switching_away_after_a_removal_keeps_the_first_index_file_fresh(
    indexed: Library, two_models: tuple[str, str], photo_dir: Path, build_calls: list[int]
) -> None:
    model_a, model_b = two_models
    (photo_dir / "img_07.jpg").unlink()
    assert indexed.update().summary()["removed"] == 1  # nothing to embed: A's index changed in memory only
    indexed.set_model(model_b)
    indexed.update()
    build_calls.clear()

    indexed.set_model(model_a)
    indexed.update()
    results = indexed.search_image(str(photo_dir / "img_02.jpg"), k=20)

    assert build_calls == []
    assert len(results) == 11 and str(photo_dir / "img_07.jpg") not in [r.path for r in results]


def test_status_reports_the_active_model(
    tmp_path: Path, photo_dir: Path, two_models: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    model_a, model_b = two_models
    data = tmp_path / "data"
    with Library(data, model=model_a, workers=0) as lib:
        lib.add_folder(photo_dir)
        lib.update()
        lib.set_model(model_b)
        lib.update()

    assert main(["status", "--data-dir", str(data), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["model"] == resolve_model(model_b).key
    assert (status["photos"], status["indexed"], status["pending"]) == (12, 12, 0)


def test_another_model_can_be_searched_side_by_side_without_switching(
    tmp_path: Path, tiny_siglip_dir: Path, tiny_siglip2_dir: Path, photo_dir: Path
) -> None:
    from core.library.facade import Library

    with Library(tmp_path / "data", model=str(tiny_siglip2_dir), workers=0) as lib:
        lib.add_folder(photo_dir)
        lib.update()
        lib.set_model(str(tiny_siglip_dir))
        lib.update()
        query = str(photo_dir / "img_02.jpg")
        mine = lib.search_image(query, k=5, exclude_self=True)
        theirs = lib.search_with_model(str(tiny_siglip2_dir), query, k=5, exclude_self=True)
        assert len(theirs) == 5 and query not in [r.path for r in theirs]
        assert [r.score for r in mine] != [r.score for r in theirs]  # two different models
        models = {m.source: m for m in lib.models()}
        assert models[str(tiny_siglip_dir)].active and models[str(tiny_siglip_dir)].indexed == 12
        assert not models[str(tiny_siglip2_dir)].active and models[str(tiny_siglip2_dir)].indexed == 12
        # The side view follows the library: a deleted photo leaves its results too.
        (photo_dir / "img_03.jpg").unlink()
        lib.update()
        again = lib.search_with_model(str(tiny_siglip2_dir), query, k=20)
        assert str(photo_dir / "img_03.jpg") not in [r.path for r in again] and len(again) == 11


def test_a_search_racing_a_model_switch_uses_one_model_throughout(
    indexed: Library, two_models: tuple[str, str]
) -> None:
    model_a, model_b = two_models
    indexed.set_model(model_b)
    indexed.update()
    indexed.set_model(model_a)
    expected = [(r.path, r.score) for r in indexed.search_text("a photo", k=5)]
    embedder_a = indexed.embedder()
    real_embed = embedder_a.embed_texts

    def switch_midway(texts: list[str]) -> np.ndarray:
        vectors = real_embed(texts)
        indexed.set_model(model_b)  # lands between the query vector and the index lookup
        return vectors

    embedder_a.embed_texts = switch_midway  # type: ignore[method-assign]
    raced = [(r.path, r.score) for r in indexed.search_text("a photo", k=5)]
    assert raced == expected  # model A's query against model A's index, never a mix
    assert indexed.model_key == resolve_model(model_b).key
