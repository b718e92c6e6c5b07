from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.vectors.index import IndexFileError, VectorIndex

DIM = 64
SMALL_LIMIT = 2_000  # tests cross into IVF quickly; the default limit is 150k


def clustered(n: int, seed: int = 0, n_centres: int = 200) -> np.ndarray:
    """Normalised points around Gaussian centres in a low-dimensional subspace (like embeddings)."""
    rng = np.random.default_rng(seed)
    projection = np.random.default_rng(99).standard_normal((16, DIM))
    centres = rng.standard_normal((n_centres, 16))
    latent = centres[rng.integers(0, n_centres, n)] + 0.6 * rng.standard_normal((n, 16))
    x = latent @ projection + 0.5 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def ids_for(n: int, start: int = 1) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int64) * 3  # not 0..n-1: ids are not positions


def filled(
    n: int, exact_limit: int = SMALL_LIMIT, seed: int = 0
) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    index = VectorIndex(DIM, exact_limit=exact_limit)
    ids, vectors = ids_for(n), clustered(n, seed)
    for start in range(0, n, 256):  # the batch size the indexing pipeline uses
        index.add(ids[start : start + 256], vectors[start : start + 256])
    return index, ids, vectors


def exact_top(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> set[int]:
    return set(ids[np.argsort(-(vectors @ query))[:k]].tolist())


def recall_at_10(index: VectorIndex, ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray) -> float:
    hits = sum(len({i for i, _ in index.search(q, 10)} & exact_top(ids, vectors, q, 10)) for q in queries)
    return hits / (10 * len(queries))


@pytest.fixture(params=["exact", "ivf"])
def any_kind(request: pytest.FixtureRequest) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    index, ids, vectors = filled(5_000 if request.param == "ivf" else 500)
    assert index.kind == request.param
    return index, ids, vectors


# -- basic search -------------------------------------------------------------------------------


def test_a_photo_finds_itself_first_with_score_one(any_kind) -> None:
    index, ids, vectors = any_kind
    for row in (0, 17, len(ids) - 1):
        best_id, score = index.search(vectors[row], 5)[0]
        assert best_id == ids[row]
        assert score == pytest.approx(1.0, abs=1e-4)


def test_results_are_best_first_and_scores_are_cosines(any_kind) -> None:
    index, ids, vectors = any_kind
    results = index.search(vectors[3], 10)
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    by_id = dict(zip(ids.tolist(), vectors, strict=True))
    for photo_id, score in results:
        assert score == pytest.approx(float(by_id[photo_id] @ vectors[3]), abs=1e-4)


def test_queries_and_vectors_are_normalised_on_the_way_in() -> None:
    index = VectorIndex(DIM)
    vectors = clustered(10)
    index.add(ids_for(10), vectors * 7.0)
    assert index.search(vectors[0] * 0.1, 1)[0][1] == pytest.approx(1.0, abs=1e-4)


def test_empty_index_returns_nothing() -> None:
    index = VectorIndex(DIM)
    assert index.search(clustered(1)[0], 10) == []
    assert index.search_many(clustered(3), 10) == [[], [], []]
    assert len(index) == 0 and index.ids().size == 0


def test_k_larger_than_the_index_returns_every_photo_once() -> None:
    index, ids, vectors = filled(7)
    results = index.search(vectors[0], 50)
    assert sorted(i for i, _ in results) == sorted(ids.tolist())


def test_search_never_returns_padding_even_when_ivf_lists_are_short(any_kind) -> None:
    index, _, vectors = any_kind
    for k in (1, 10, 400, 5_000):
        results = index.search(vectors[1], k)
        assert len(results) == min(k, len(index))
        assert all(i >= 0 for i, _ in results)


def test_exclude_skips_those_ids_and_still_returns_k(any_kind) -> None:
    index, ids, vectors = any_kind
    first = [i for i, _ in index.search(vectors[0], 5)]
    results = index.search(vectors[0], 5, exclude=first[:3])
    assert len(results) == 5
    assert not {i for i, _ in results} & set(first[:3])


def test_search_many_agrees_with_search(any_kind) -> None:
    index, _, vectors = any_kind
    many = index.search_many(vectors[:4], 6)
    for q, row in zip(vectors[:4], many, strict=True):
        assert [i for i, _ in row] == [i for i, _ in index.search(q, 6)]


def test_wrong_shapes_are_refused() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(ValueError):
        index.add(ids_for(2), clustered(3))
    with pytest.raises(ValueError):
        index.search(np.zeros(DIM + 1, np.float32), 3)
    with pytest.raises(ValueError):
        index.add(np.array([-1]), clustered(1))


# -- replace and remove -------------------------------------------------------------------------


def test_adding_an_id_again_replaces_its_vector(any_kind) -> None:
    index, ids, vectors = any_kind
    size = len(index)
    index.add(ids[:1], vectors[1:2])  # photo ids[0] was edited: it now looks like photo ids[1]
    assert len(index) == size
    hits = dict(index.search(vectors[1], 3))
    assert hits[int(ids[0])] == pytest.approx(1.0, abs=1e-4)
    assert [i for i, _ in index.search(vectors[1], len(index))].count(int(ids[0])) == 1


def test_duplicate_ids_in_one_batch_keep_the_last_vector() -> None:
    index = VectorIndex(DIM)
    vectors = clustered(3)
    index.add(np.array([5, 5, 5]), vectors)
    assert len(index) == 1
    assert index.search(vectors[2], 1)[0] == (5, pytest.approx(1.0, abs=1e-4))


def test_removed_photos_are_never_returned(any_kind) -> None:
    index, ids, vectors = any_kind
    gone = ids[:50]
    index.remove(np.concatenate([gone, [10**12]]))  # an id never added is ignored
    assert len(index) == len(ids) - 50
    assert int(gone[0]) not in index and int(ids[60]) in index
    found = {i for row in index.search_many(vectors[:50], 20) for i, _ in row}
    assert not found & set(gone.tolist())
    np.testing.assert_array_equal(index.ids(), np.sort(ids[50:]))


# -- exact -> approximate --------------------------------------------------------------------------


def test_crossing_the_exact_limit_switches_to_ivf_and_keeps_recall() -> None:
    index, ids, vectors = filled(6_000)
    assert index.kind == "ivf"
    queries = clustered(100, seed=1)  # fresh photos, not in the index
    assert recall_at_10(index, ids, vectors, queries) >= 0.95


def test_build_above_the_limit_is_ivf_with_recall() -> None:
    ids, vectors = ids_for(8_000), clustered(8_000)
    index = VectorIndex.build(DIM, ids, vectors, exact_limit=SMALL_LIMIT)
    assert index.kind == "ivf" and len(index) == 8_000
    assert recall_at_10(index, ids, vectors, clustered(100, seed=2)) >= 0.95


def test_ivf_keeps_recall_after_growing_past_retraining() -> None:
    index, ids, vectors = filled(10_000, exact_limit=1_000)  # trained at ~1k, retrained at ~4k
    assert recall_at_10(index, ids, vectors, clustered(100, seed=3)) >= 0.95


def test_ivf_shrinking_far_below_the_limit_goes_back_to_exact() -> None:
    index, ids, vectors = filled(3_000)
    index.remove(ids[:2_500])
    assert index.kind == "exact" and len(index) == 500
    assert index.search(vectors[2_600], 1)[0][0] == ids[2_600]


# -- persistence ---------------------------------------------------------------------------------


def test_save_and_load_give_identical_results_and_the_stamp(any_kind, tmp_path: Path) -> None:
    index, _, vectors = any_kind
    stamp = {"model": "siglip2-base-224", "generation": 7, "count": len(index)}
    index.save(tmp_path / "index.lkv", stamp)
    loaded, loaded_stamp = VectorIndex.load(tmp_path / "index.lkv")
    assert loaded_stamp == stamp
    assert loaded.kind == index.kind and loaded.dim == DIM and len(loaded) == len(index)
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    assert loaded.search_many(vectors[:20], 10) == index.search_many(vectors[:20], 10)


def test_a_loaded_index_can_still_change(tmp_path: Path) -> None:
    index, ids, vectors = filled(3_000)
    index.save(tmp_path / "i.lkv", {})
    loaded, _ = VectorIndex.load(tmp_path / "i.lkv")
    loaded.remove(ids[:1])
    loaded.add(ids[1:2], vectors[5:6])
    assert int(ids[0]) not in loaded and loaded.search(vectors[5], 2)[1][0] in (ids[1], ids[5])


def saved(tmp_path: Path) -> Path:
    index, _, _ = filled(300)
    path = tmp_path / "index.lkv"
    index.save(path, {"generation": 1})
    return path


def test_missing_file_is_an_index_file_error(tmp_path: Path) -> None:
    with pytest.raises(IndexFileError, match="missing"):
        VectorIndex.load(tmp_path / "nope.lkv")


@pytest.mark.parametrize("keep", [0, 5, 20, 1000, -1])
def test_truncated_file_is_detected(tmp_path: Path, keep: int) -> None:
    path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(IndexFileError, match="truncated"):
        VectorIndex.load(path)


@pytest.mark.parametrize("where", [60, 5_000, -10])
def test_a_flipped_byte_is_a_checksum_mismatch(tmp_path: Path, where: int) -> None:
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[where] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match="checksum"):
        VectorIndex.load(path)


def test_wrong_magic_is_detected(tmp_path: Path) -> None:
    path = saved(tmp_path)
    path.write_bytes(b"NOTOURS!" + path.read_bytes()[8:])
    with pytest.raises(IndexFileError, match="magic"):
        VectorIndex.load(path)


def test_a_plain_faiss_file_is_not_ours(tmp_path: Path) -> None:
    import faiss

    path = tmp_path / "plain.index"
    faiss.write_index(faiss.IndexFlatIP(DIM), str(path))
    with pytest.raises(IndexFileError, match="magic"):
        VectorIndex.load(path)


def test_interrupted_save_leaves_the_previous_file_loadable(tmp_path: Path, monkeypatch) -> None:
    path = saved(tmp_path)
    bigger, _, _ = filled(600)

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        bigger.save(path, {"generation": 2})
    monkeypatch.undo()
    loaded, stamp = VectorIndex.load(path)
    assert stamp == {"generation": 1} and len(loaded) == 300
    assert [p.name for p in tmp_path.iterdir()] == ["index.lkv"]  # the temp file was removed


def test_a_temp_file_left_by_a_killed_save_is_ignored_then_cleaned(tmp_path: Path) -> None:
    path = saved(tmp_path)
    stale = tmp_path / ".index.lkv.killed.tmp"
    stale.write_bytes(b"LKALIKEV half a file")
    assert VectorIndex.load(path)[1] == {"generation": 1}
    filled(400)[0].save(path, {"generation": 2})
    assert not stale.exists()
    assert VectorIndex.load(path)[1] == {"generation": 2}


# -- threads ---------------------------------------------------------------------------------------


def test_searches_run_safely_while_another_thread_adds_and_removes() -> None:
    index, ids, vectors = filled(1_500)
    extra_ids, extra = ids_for(3_000, start=10_000), clustered(3_000, seed=5)
    valid = set(ids.tolist()) | set(extra_ids.tolist())
    stop = time.monotonic() + 2.0
    errors: list[BaseException] = []

    def searcher(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while time.monotonic() < stop:
                results = index.search(vectors[rng.integers(len(vectors))], 10)
                assert results and all(i in valid for i, _ in results)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    def writer() -> None:
        try:
            step = 0
            while time.monotonic() < stop:  # crosses the 2,000 limit, replaces and removes
                batch = slice((step * 256) % 3_000, (step * 256) % 3_000 + 256)
                index.add(extra_ids[batch], extra[batch])
                index.remove(extra_ids[(step * 256 + 1024) % 3_000 :][:256])
                index.add(ids[:64], vectors[64:128])
                step += 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert index.kind == "ivf"  # the writer pushed it over the limit while searches ran
    assert len(set(index.ids().tolist())) == len(index)
