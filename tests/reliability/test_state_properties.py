"""Property: any sequence of create / modify / rename / move / delete / rescan leaves the same library as
a fresh index of the final folder (same photos, same vectors), and FAISS agrees with SQLite."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.library.facade import Library
from tests.imagegen import write_photo

NAMES = [f"{c}.jpg" for c in "abcde"]
SUBS = ["s0", "s1"]
SIZE = (64, 48)

op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(SUBS), st.sampled_from(NAMES), st.integers(0, 40)),
    st.tuples(st.just("modify"), st.integers(0, 20), st.integers(0, 40)),
    st.tuples(st.just("rename"), st.integers(0, 20), st.sampled_from(NAMES)),
    st.tuples(st.just("move"), st.integers(0, 20)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("rescan"),),
)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jpg"))


def _apply(root: Path, step: tuple, lib: Library) -> None:
    kind, files = step[0], _files(root)
    if kind == "create":
        target = root / step[1] / step[2]
        if not target.exists():
            write_photo(target, seed=step[3], size=SIZE)
    elif kind == "rescan":
        lib.update()
    elif files:
        path = files[step[1] % len(files)]
        if kind == "modify":
            mtime = path.stat().st_mtime_ns
            write_photo(path, seed=100 + step[2], size=SIZE)
            os.utime(path, ns=(mtime + 10**9, mtime + 10**9))  # an editor's save: a later mtime
        elif kind == "rename" and not (path.parent / step[2]).exists():
            path.rename(path.parent / step[2])
        elif kind == "move":
            other = root / SUBS[1 - SUBS.index(path.parent.name)] / path.name
            if not other.exists():
                path.rename(other)
        elif kind == "delete":
            path.unlink()


def _state(lib: Library) -> dict[str, np.ndarray]:
    """path -> stored vector, for every photo row; asserts each row is indexed and FAISS agrees."""
    dim = lib.store.model_dim(lib.model_key)
    rows = lib.store.list_photos(lib.model_key)
    assert all(p.status == "ok" for p in rows), [(p.path, p.status, p.error) for p in rows if p.status != "ok"]
    assert dim is not None or not rows
    if not rows:
        return {}
    ids, vecs = lib.store.vectors_for_photos(lib.model_key, dim, [p.id for p in rows])
    assert sorted(ids.tolist()) == sorted(p.id for p in rows)  # every photo has its vector
    index = lib._cache.get()  # the index a search would use: it must hold exactly these ids
    assert index is not None and sorted(index.ids().tolist()) == sorted(ids.tolist())
    by_id = {p.id: p.path for p in rows}
    return {by_id[int(i)]: v for i, v in zip(ids, vecs, strict=True)}


@pytest.mark.timeout(240)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(op, min_size=1, max_size=10))
def test_any_sequence_of_file_changes_ends_like_a_fresh_index(tiny_siglip_dir: Path, steps: list[tuple]) -> None:
    work = Path(tempfile.mkdtemp(prefix="lookalike-prop-"))
    # fp32: the CPU default (dynamic int8) quantizes activations per batch, so a photo's vector depends
    # by up to ~1e-2 on its batch-mates, and batches differ between the two libraries by design.
    old_precision = os.environ.get("LOOKALIKE_PRECISION")
    os.environ["LOOKALIKE_PRECISION"] = "fp32"
    try:
        root = work / "photos"
        for sub in SUBS:
            (root / sub).mkdir(parents=True)
        write_photo(root / "s0" / "a.jpg", seed=0, size=SIZE)
        with Library(work / "data", model=str(tiny_siglip_dir), workers=0) as lib:
            lib.add_folder(root)
            lib.update()
            for step in steps:
                _apply(root, step, lib)
            lib.update()
            got = _state(lib)
        with Library(work / "fresh", model=str(tiny_siglip_dir), workers=0) as fresh:
            fresh.add_folder(root)
            fresh.update()
            want = _state(fresh)
        assert sorted(got) == sorted(want) == [str(p) for p in _files(root)]
        for path, vec in want.items():
            np.testing.assert_allclose(got[path], vec, atol=1e-3, err_msg=path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if old_precision is None:
            del os.environ["LOOKALIKE_PRECISION"]
        else:
            os.environ["LOOKALIKE_PRECISION"] = old_precision
