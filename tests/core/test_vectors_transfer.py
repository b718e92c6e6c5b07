"""`export-vectors` / `import-vectors`: vectors made by one library attach to another holding copies of the
same photos elsewhere, without embedding them again; anything that does not check out (another model, a
changed shard, vectors that disagree with the model, an unvouched precision) is refused with nothing written."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.cli.main import main
from core.cluster.shard_format import METADATA_NAME, read_info, read_shard, write_shard
from core.cluster.vectors_export import export_vectors
from core.embedding.precision_verdict import CandidateCheck, PrecisionVerdict
from core.library.facade import Library
from core.store.database import Store
from tests.imagegen import write_photo

PHOTOS = 8


@pytest.fixture(scope="module")
def library_a(tmp_path_factory: pytest.TempPathFactory, tiny_siglip_dir: Path) -> Iterator[dict[str, Path]]:
    """Library A: 8 photos indexed at fp32, exported by the command line."""
    root = tmp_path_factory.mktemp("a")
    photos = root / "photos"
    for i in range(PHOTOS):
        write_photo(photos / ("trip" if i % 3 == 0 else "") / f"img_{i}.jpg", seed=100 + i)
    data, vectors = root / "data", root / "vectors"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOOKALIKE_PRECISION", "fp32")
        mp.setenv("LOOKALIKE_CACHE_DIR", str(root / "cache"))
        assert main(["index", "--data-dir", str(data), "--model", str(tiny_siglip_dir), "--workers", "0",
                     str(photos)]) == 0
        assert main(["export-vectors", "--data-dir", str(data), "--out", str(vectors)]) == 0
        yield {"photos": photos, "data": data, "vectors": vectors}


@pytest.fixture
def library_b(tmp_path: Path, library_a: dict[str, Path], tiny_siglip_dir: Path) -> dict[str, Path]:
    """Library B: a copy of A's photos (same bytes and mtimes) at another path, scanned, nothing embedded."""
    photos = tmp_path / "elsewhere" / "pictures"
    shutil.copytree(library_a["photos"], photos)  # copy2: mtimes kept, as rsync -t or a restored backup
    data = tmp_path / "b-data"
    with Library(data, model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(photos)
        lib.scan()
    return {"photos": photos, "data": data}


def import_into(b: dict[str, Path], a: dict[str, Path], *folders: Path, extra: tuple[str, ...] = ()) -> int:
    args = ["import-vectors", "--data-dir", str(b["data"]), "--json", *extra,
            "--path-map", f"{a['photos']}={b['photos']}", *map(str, folders or (a["vectors"],))]
    return main(args)


def stored(data: Path) -> tuple[Any, ...]:
    """Everything an import may change: vectors, known hashes, the models' generations (loading the model
    for a check registers it at generation 0, as any first use does: that is not the import's write)."""
    with sqlite3.connect(data / "library.sqlite3") as db:
        return (
            db.execute("SELECT hash, model, vector, precision FROM vectors ORDER BY hash").fetchall(),
            db.execute("SELECT id, hash FROM photos ORDER BY id").fetchall(),
            db.execute("SELECT key, generation FROM models WHERE generation > 0 ORDER BY key").fetchall(),
        )


def rewrite(source: Path, dest: Path, row: Callable[[int, dict], dict] = lambda i, r: r, **info: Any) -> Path:
    """A properly digested copy of a vectors folder whose rows and/or metadata were changed."""
    original = read_info(source)
    rows = [row(i, r) for i, r in enumerate(r for name in sorted(original.shards)
                                           for r in read_shard(source, name, original))]
    write_shard(dest, 0, rows, replace(original, shards={}, **info))
    return dest


def json_out(capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_imported_vectors_spare_the_embedding_and_search_as_in_the_library_they_came_from(
    library_a: dict[str, Path], library_b: dict[str, Path], tiny_siglip_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_photo(library_b["photos"] / "new_here.jpg", seed=999)  # B has one photo A never saw
    with Library(library_b["data"], workers=0) as lib:
        lib.scan()
    capsys.readouterr()

    assert import_into(library_b, library_a) == 0
    assert json_out(capsys) == {"imported": PHOTOS, "matched_photos": PHOTOS, "unknown_hashes": 0, "rejected": 0}

    assert main(["index", "--data-dir", str(library_b["data"]), "--workers", "0", "--json"]) == 0
    report = json_out(capsys)
    assert (report["embedded"], report["reused"]) == (1, PHOTOS)  # only the photo the shards did not cover

    query = "trip/img_3.jpg"
    with Library(library_a["data"], readonly=True) as a, Library(library_b["data"], readonly=True) as b:
        theirs = [(Path(r.path).relative_to(library_a["photos"]), round(r.score, 5))
                  for r in a.search_image(str(library_a["photos"] / query), k=PHOTOS)]
        ours = [(Path(r.path).relative_to(library_b["photos"]), round(r.score, 5))
                for r in b.search_image(str(library_b["photos"] / query), k=PHOTOS + 1) if "new_here" not in r.path]
    assert ours == theirs and len(ours) == PHOTOS

    assert import_into(library_b, library_a) == 0  # idempotent: a second import stores nothing and says so
    again = capsys.readouterr()
    assert json.loads(again.out) == {"imported": 0, "matched_photos": 0, "unknown_hashes": 0, "rejected": 0}
    assert "nothing new" in again.err


def test_without_the_path_map_rows_match_nothing_and_nothing_is_written(
    library_a: dict[str, Path], library_b: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = stored(library_b["data"])
    assert main(["import-vectors", "--data-dir", str(library_b["data"]), "--json", str(library_a["vectors"])]) == 0
    assert json_out(capsys) == {"imported": 0, "matched_photos": 0, "unknown_hashes": PHOTOS, "rejected": 0}
    assert stored(library_b["data"]) == before


@pytest.mark.parametrize(
    ("change", "named"),
    [({"model": "local:another-model-0123"}, "model 'local:another-model-0123'"),
     ({"revision": "0" * 40}, "revision '" + "0" * 40),
     ({"preprocessing": "decode-0:processor-none"}, "preprocessing 'decode-0:processor-none'")],
)
def test_vectors_of_another_model_revision_or_preprocessing_are_refused(
    library_a: dict[str, Path], library_b: dict[str, Path], tmp_path: Path, change: dict[str, str], named: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = stored(library_b["data"])
    assert import_into(library_b, library_a, rewrite(library_a["vectors"], tmp_path / "other", **change)) == 2
    err = capsys.readouterr().err
    assert named in err and "Nothing was imported" in err
    assert stored(library_b["data"]) == before


def test_vectors_of_another_dimension_are_refused(
    library_a: dict[str, Path], library_b: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dim = read_info(library_a["vectors"]).dim
    halved = rewrite(library_a["vectors"], tmp_path / "halved", lambda i, r: {**r, "vector": r["vector"][:dim]},
                     dim=dim // 2)
    before = stored(library_b["data"])
    assert import_into(library_b, library_a, halved) == 2
    assert f"dimension {dim // 2}, this library's {dim}" in capsys.readouterr().err
    assert stored(library_b["data"]) == before


def three_shards(library_a: dict[str, Path], folder: Path) -> Path:
    with Library(library_a["data"], readonly=True) as a:
        export_vectors(a, folder, shard_rows=3)
    assert sorted(read_info(folder).shards) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    return folder


def changed_bytes(folder: Path) -> str:
    shard = folder / "part-00002.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    return "SHA-256 differs"


def wrong_dimension(folder: Path) -> str:
    info = read_info(folder)
    rows = [{**r, "vector": r["vector"][:-2]} for r in read_shard(folder, "part-00002.parquet", info)]
    write_shard(folder, 2, rows, info)  # digested again: only the vector sizes give it away
    return f"not {info.dim}"


def not_parquet(folder: Path) -> str:
    (folder / "part-00002.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    info = json.loads((folder / METADATA_NAME).read_text())
    info["shards"]["part-00002.parquet"]["sha256"] = __import__("hashlib").sha256(
        (folder / "part-00002.parquet").read_bytes()).hexdigest()
    (folder / METADATA_NAME).write_text(json.dumps(info))
    return "not a readable Parquet file"


@pytest.mark.parametrize("damage", [changed_bytes, wrong_dimension, not_parquet])
def test_one_damaged_shard_refuses_the_whole_import(
    library_a: dict[str, Path], library_b: dict[str, Path], tmp_path: Path, damage: Callable[[Path], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = three_shards(library_a, tmp_path / "vectors")
    said = damage(folder)
    before = stored(library_b["data"])
    assert import_into(library_b, library_a, folder) == 2
    err = capsys.readouterr().err
    assert "part-00002.parquet" in err and said in err
    assert stored(library_b["data"]) == before


def test_vectors_that_disagree_with_the_model_fail_the_sample_check_with_figures(
    library_a: dict[str, Path], library_b: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(7)

    def nudged(i: int, row: dict) -> dict:
        if i != 5:
            return row
        vec = np.frombuffer(row["vector"], "<f2").astype(np.float32)
        vec = vec + rng.normal(0, 0.6 * np.abs(vec).mean(), vec.shape).astype(np.float32)  # cosine ~0.8
        return {**row, "vector": (vec / np.linalg.norm(vec)).astype("<f2").tobytes()}

    before = stored(library_b["data"])
    assert import_into(library_b, library_a, rewrite(library_a["vectors"], tmp_path / "nudged", nudged)) == 2
    err = capsys.readouterr().err
    assert "1 of 8 sampled photos below cosine 0.99" in err and "min 0.9" in err and "median 1.0000" in err
    assert stored(library_b["data"]) == before


def test_rows_with_errors_or_contradicting_hashes_are_rejected_not_fatal(
    library_a: dict[str, Path], library_b: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "--data-dir", str(library_b["data"]), "--workers", "0", "--json"]) == 0  # hashes known
    capsys.readouterr()

    def spoiled(i: int, row: dict) -> dict:
        if i == 0:
            return {**row, "hash": None, "vector": None, "error": "truncated JPEG data"}
        return {**row, "hash": "0" * 64} if i == 1 else row

    before = stored(library_b["data"])
    assert import_into(library_b, library_a, rewrite(library_a["vectors"], tmp_path / "spoiled", spoiled)) == 0
    assert json_out(capsys) == {"imported": 0, "matched_photos": 0, "unknown_hashes": 0, "rejected": 2}
    assert stored(library_b["data"]) == before


def test_bf16_vectors_need_the_libraries_precision_check_to_have_passed_bf16(
    library_a: dict[str, Path], library_b: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bf16 = rewrite(library_a["vectors"], tmp_path / "bf16", precision="bf16")
    before = stored(library_b["data"])
    assert import_into(library_b, library_a, bf16) == 2
    assert "made at bf16" in capsys.readouterr().err
    assert stored(library_b["data"]) == before

    key = read_info(bf16).model
    check = CandidateCheck("bf16", 0.999, 0.9995, 0.98, None, 20.0, True)
    verdict = PrecisionVerdict("fp", key, "cpu", "bf16", (replace(check, precision="fp32"), check), 8, 32, 1.0,
                               time.time())
    store = Store(library_b["data"] / "library.sqlite3")
    store.save_precision_verdict("fp", key, verdict.to_json(), verdict.checked_at)
    store.close()
    assert import_into(library_b, library_a, bf16) == 0  # the same folder, once the check vouches for bf16
    assert json_out(capsys)["imported"] == PHOTOS


def test_an_import_waits_for_no_one_it_is_refused_while_another_process_owns_the_library(
    library_a: dict[str, Path], library_b: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with Library(library_b["data"], workers=0):  # the writer lock, as the app holds it
        assert import_into(library_b, library_a) == 2
    assert "owns this library" in capsys.readouterr().err
