"""Duplicate grouping on constructed vectors, where a random tiny model could not tell: finding every
pair above a threshold, star groups that never chain, determinism, decisions, and the keeper rules."""

from __future__ import annotations

import numpy as np
import pytest

from core.duplicates.grouping import star_groups
from core.duplicates.keeper import keeper_first
from core.duplicates.records import DuplicateMember
from core.vectors import similar_pairs
from core.vectors.index import VectorIndex

DIM = 64


def _library_like(n: int, planted: int, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors (photos of a few hundred scenes) with `planted` near-copies at cosine
    0.80-0.995 (rows 0..2*planted: row 2i+1 is a copy of row 2i)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(8, n // 100), DIM))
    x = centres[rng.integers(0, len(centres), n)] + rng.normal(size=(n, DIM)) * 1.5
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for i in range(0, 2 * planted, 2):
        noise = rng.normal(size=DIM)
        noise -= (noise @ x[i]) * x[i]
        noise /= np.linalg.norm(noise)
        cos = 0.80 + 0.195 * rng.random()
        x[i + 1] = cos * x[i] + np.sqrt(1 - cos * cos) * noise
    return x.astype(np.float32)


def _exhaustive(x: np.ndarray, floor: float) -> set[tuple[int, int]]:
    scores = x @ x.T
    i, j = np.nonzero(np.triu(scores, k=1) >= floor)
    return set(zip(i.tolist(), j.tolist(), strict=True))


def _found(index: VectorIndex, floor: float) -> set[tuple[int, int]]:
    pairs = index.similar_pairs(floor)
    return {(min(a, b), max(a, b)) for a, b in zip(pairs.a.tolist(), pairs.b.tolist(), strict=True)}


@pytest.mark.parametrize("exact_limit", [10**6, 1_500], ids=["exact index", "ivf index"])
def test_every_pair_above_the_threshold_is_found_and_nothing_below_it(
    exact_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above the all-against-all size (lowered from 8,000 to keep the test quick): the blocked search runs.
    monkeypatch.setattr(similar_pairs, "EXHAUSTIVE_BELOW", 1_000)
    n = 5_000
    x = _library_like(n, planted=400)
    index = VectorIndex.build(DIM, np.arange(n), x, exact_limit=exact_limit)
    assert index.kind == ("exact" if exact_limit > n else "ivf")
    truth, found = _exhaustive(x, 0.85), _found(index, 0.85)
    assert len(truth) >= 250  # the planted pairs above 0.85, and a few unplanned ones
    assert found <= truth  # nothing below the threshold, no pair twice-counted as another
    assert len(found & truth) / len(truth) >= 0.99


def test_a_small_library_is_compared_all_against_all() -> None:
    x = _library_like(500, planted=50, seed=3)
    index = VectorIndex.build(DIM, np.arange(1000, 1500), x)
    truth = {(a + 1000, b + 1000) for a, b in _exhaustive(x, 0.8)}
    assert _found(index, 0.8) == truth


def test_a_burst_chain_does_not_become_one_group() -> None:
    # Frames 0-1-2-3-4-5, each like its neighbours only: components would make one group of six.
    a, b = np.arange(5), np.arange(1, 6)
    groups = star_groups(6, a, b)
    edges = set(zip(a.tolist(), b.tolist(), strict=True))
    for group in groups:
        centre = group[0]
        assert all((min(centre, m), max(centre, m)) in edges for m in group[1:])  # each member is like its centre
    assert groups == [[1, 0, 2], [3, 4]]  # the most connected frame first; 5 is like 4 only, taken by 3


def test_groups_do_not_depend_on_the_order_pairs_arrive_in() -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 300, 2_000)
    b = rng.integers(0, 300, 2_000)
    keep = a < b
    a, b = a[keep], b[keep]
    first = star_groups(300, a, b)
    order = rng.permutation(a.size)
    assert star_groups(300, a[order], b[order]) == first


def test_photos_the_user_called_not_duplicates_never_share_a_group() -> None:
    # 0 is like 1 and 2, and 1 like 2: one group, unless 1 and 2 were decided apart.
    a, b = np.array([0, 0, 1]), np.array([1, 2, 2])
    assert star_groups(3, a, b) == [[0, 1, 2]]
    groups = star_groups(3, a, b, apart={(1, 2)})
    assert not any(1 in g and 2 in g for g in groups)


def _member(path: str, w: int, h: int, size: int, taken: float | None = None, raw: bool = False) -> DuplicateMember:
    companions = ((path.rsplit(".", 1)[0] + ".CR2", 20_000_000, 1),) if raw else ()
    return DuplicateMember(hash(path), path, path, size, 1, w, h, taken, 1.0, companions)


def test_the_keeper_is_the_best_photo_by_the_rules_in_the_users_order() -> None:
    big_jpeg = _member("/a/big.jpg", 4000, 3000, 9_000_000, taken=200.0)
    heic = _member("/b/phone.heic", 4000, 3000, 2_000_000, taken=100.0)
    small = _member("/c/mail.jpg", 1000, 750, 300_000, taken=50.0)
    pair = _member("/d/IMG_1.JPG", 4000, 3000, 5_000_000, raw=True)

    ordered, why = keeper_first([big_jpeg, heic, small], ["resolution", "format", "size", "date", "folders"])
    assert ordered[0] is heic and why == ("the better format",)  # not the bigger JPEG
    assert keeper_first([big_jpeg, heic, small, pair], ["format"])[0][0] is pair  # RAW+JPEG first
    assert keeper_first([big_jpeg, heic], ["size"])[0][0] is big_jpeg
    assert keeper_first([big_jpeg, heic, small], ["date"])[0][0] is small
    assert keeper_first([big_jpeg, heic], ["folders"], preferred=["/a"])[0][0] is big_jpeg
    # Every rule tied: the path decides, the same on every run.
    twin = _member("/e/big.jpg", 4000, 3000, 9_000_000, taken=200.0)
    assert keeper_first([twin, big_jpeg], ["resolution"])[0][0] is big_jpeg
