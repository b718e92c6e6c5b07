"""Search that narrows and knows when to stop: filters applied before ranking (the true top k among the
photos that pass), every filter alone and combined, bad filter values, the model's own match probability,
composed queries and sorting by date."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from core.errors import LibraryError
from core.library.facade import Library
from core.library.filters import FilterError, PhotoFilter, parse_filter
from core.library.searching import SearchQuery
from core.vectors.index import VectorIndex
from tests.imagegen import write_camera_jpeg, write_photo


@pytest.mark.parametrize("exact_limit", [10**6, 2_000], ids=["exact index", "ivf index"])
def test_a_filter_keeping_3_of_10000_photos_gives_exactly_those_3_in_true_order(exact_limit: int) -> None:
    # Also a random 4% and an "album" (800 photos alike, at the far side from the query), the hard case for
    # an IVF search that probes only the lists nearest the query.
    rng = np.random.default_rng(5)
    n, dim = 10_000, 32
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = VectorIndex.build(dim, np.arange(n), x, exact_limit=exact_limit)
    query = x[17]
    album = np.sort(np.argsort(x @ -query)[:800])  # photos that look alike, far from the query: one album
    for allowed in (np.sort(rng.choice(n, 3, replace=False)), np.sort(rng.choice(n, 400, replace=False)), album):
        truth = [int(i) for i in allowed[np.argsort(-(x[allowed] @ query), kind="stable")][:10]]
        got = index.search(query, 10, allowed=allowed)
        assert [pid for pid, _ in got] == truth
        assert all(abs(score - float(x[pid] @ query)) < 1e-4 for pid, score in got)


@pytest.mark.parametrize("exact_limit", [10**6, 2_000], ids=["exact index", "ivf index"])
def test_allowed_ids_in_any_order_with_repeats_and_excluded_ones_select_the_same_photos(exact_limit: int) -> None:
    rng = np.random.default_rng(8)
    n, dim = 5_000, 16
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = VectorIndex.build(dim, np.arange(n), x, exact_limit=exact_limit)
    passing = np.sort(rng.choice(n, 60, replace=False))
    skip = {int(passing[0]), int(passing[-1]), n + 7}  # an excluded id outside the filter changes nothing
    kept = np.array([i for i in passing if int(i) not in skip])
    truth = [int(i) for i in kept[np.argsort(-(x[kept] @ x[3]), kind="stable")][:10]]
    shuffled = rng.permutation(np.concatenate([passing, passing[:20]]))  # SQLite sorts; a caller may not
    got = index.search(x[3], 10, exclude=skip, allowed=shuffled)
    assert [pid for pid, _ in got] == truth


@pytest.fixture
def camera_library(tmp_path: Path, tiny_siglip_dir: Path) -> tuple[Library, dict[str, Path]]:
    root = tmp_path / "photos"
    photos = {
        "tokyo": write_camera_jpeg(root / "trip" / "tokyo.jpg", taken="2024:08:03 10:00:00", offset="+09:00",
                                   gps=True, camera=("Canon", "Canon EOS R5"), seed=1, size=(1200, 800)),
        "beach": write_camera_jpeg(root / "trip" / "beach.jpg", taken="2024:08:20 18:00:00",
                                   camera=("Apple", "iPhone 15"), seed=2, size=(600, 900)),
        "winter": write_camera_jpeg(root / "home" / "winter.jpg", taken="2023:12:24 09:00:00",
                                    camera=("Apple", "iPhone 15"), seed=3, size=(800, 800)),
        "scan": write_photo(root / "home" / "scan.png", seed=4, size=(400, 300)),
    }
    library = Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0)
    library.add_folder(root)
    library.update()
    return library, photos


def _names(library: Library, f: PhotoFilter, **query: object) -> list[str]:
    answer = library.search(SearchQuery(images=(str(query.pop("image")),), k=10, filters=f, **query))  # type: ignore[arg-type]
    return sorted(Path(r.path).stem for r in answer.results)


def test_every_filter_alone_and_combined_narrows_to_the_photos_that_pass(
    camera_library: tuple[Library, dict[str, Path]], tmp_path: Path
) -> None:
    library, p = camera_library
    folders = tuple(f.path for f in library.folders())
    with library:
        assert _names(library, parse_filter(after="2024-08"), image=p["scan"]) == ["beach", "tokyo"]
        assert _names(library, parse_filter(before="2024-08-03"), image=p["scan"]) == ["tokyo", "winter"]  # inclusive
        assert _names(library, parse_filter(after="2024-08-04", before="2024-12"), image=p["scan"]) == ["beach"]
        folder = parse_filter(folder=str(tmp_path / "photos" / "home"), library_folders=folders)
        assert _names(library, folder, image=p["tokyo"]) == ["scan", "winter"]
        assert _names(library, folder, image=p["winter"]) == ["scan"]  # the example itself is left out
        assert _names(library, parse_filter(types="png"), image=p["tokyo"]) == ["scan"]
        assert _names(library, parse_filter(types="jpeg,heic"), image=p["scan"]) == ["beach", "tokyo", "winter"]
        assert _names(library, parse_filter(camera="iphone"), image=p["scan"]) == ["beach", "winter"]
        assert _names(library, parse_filter(orientation="portrait"), image=p["scan"]) == ["beach"]
        assert _names(library, parse_filter(orientation="square"), image=p["scan"]) == ["winter"]
        assert _names(library, parse_filter(min_megapixels=0.6), image=p["scan"]) == ["tokyo", "winter"]
        assert _names(library, parse_filter(has_location=True), image=p["scan"]) == ["tokyo"]
        combined = parse_filter(after="2024", camera="iphone", orientation="portrait", types="jpeg")
        assert _names(library, combined, image=p["scan"]) == ["beach"]


def test_bad_filter_values_are_named_and_contradictions_give_an_empty_result_with_a_note(
    camera_library: tuple[Library, dict[str, Path]], tmp_path: Path
) -> None:
    library, p = camera_library
    with library:
        for bad, words in (({"after": "August"}, "'August' is not a date"), ({"before": "2024-02-30"}, "not a date that exists"),
                           ({"types": "jpeg,psd"}, "unknown type 'psd'"), ({"orientation": "tall"}, "'tall'"),
                           ({"min_megapixels": -1}, "more than 0")):
            with pytest.raises(FilterError, match=words):
                parse_filter(**bad)  # type: ignore[arg-type]
        with pytest.raises(FilterError, match="is not in the library"):
            parse_filter(folder=str(tmp_path), library_folders=tuple(f.path for f in library.folders()))
        answer = library.search(SearchQuery(images=(str(p["scan"]),), filters=parse_filter(after="2025", before="2024")))
        assert answer.results == [] and answer.note and "nothing can pass" in answer.note


def test_results_sort_by_date_taken_newest_first(camera_library: tuple[Library, dict[str, Path]]) -> None:
    library, p = camera_library
    with library:
        answer = library.search(SearchQuery(images=(str(p["scan"]),), k=10, sort="date"))
        assert [Path(r.path).stem for r in answer.results] == ["beach", "tokyo", "winter"]


def test_a_text_search_keeps_what_the_model_calls_a_match_and_says_when_it_cut(
    tmp_path: Path, tiny_siglip_dir: Path
) -> None:
    from tests.tinymodels import calibrated_to_cut

    folder = tmp_path / "photos"
    paths = [write_photo(folder / f"p{seed}.jpg", seed=seed) for seed in range(8)]
    # The model's own threshold falls between its 3rd and 4th best photo for the query.
    model, bias = calibrated_to_cut(tiny_siglip_dir, tmp_path / "model", paths, "red shoes", keep=3)
    with Library(tmp_path / "data", model=str(model), workers=0) as library:
        library.add_folder(folder)
        library.update()
        everything = library.search(SearchQuery(text="red shoes", k=8, min_score=-1)).results
        assert len(everything) == 8
        for r in everything:  # the model's own sigmoid(scale * cosine + bias)
            assert r.match == pytest.approx(1 / (1 + math.exp(-(20.0 * r.score + bias))), abs=1e-6)
        answer = library.search(SearchQuery(text="red shoes", k=8))
        assert [r.path for r in answer.results] == [r.path for r in everything[:3]] and answer.more
        floor = everything[4].score
        assert [r.path for r in library.search(SearchQuery(text="red shoes", k=8, min_score=floor)).results] == \
            [r.path for r in everything[:5]]


def test_composed_queries_search_with_the_combined_vector(camera_library: tuple[Library, dict[str, Path]]) -> None:
    library, p = camera_library
    with library:
        dim = library.store.model_dim(library.model_key) or 0
        ids = {Path(ph.path).stem: ph.id for ph in library.photos()}
        got, rows = library.store.vectors_for_photos(library.model_key, dim, [ids["tokyo"], ids["beach"], ids["winter"]])
        by_id = dict(zip(got.tolist(), rows, strict=True))
        vecs = [by_id[ids[name]] for name in ("tokyo", "beach", "winter")]
        unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
        both = unit(unit(vecs[0]) + unit(vecs[1]))
        answer = library.search(SearchQuery(images=(str(p["tokyo"]), str(p["beach"])), k=5))
        assert {Path(r.path).stem for r in answer.results} == {"winter", "scan"}  # the examples left out
        winter = next(r for r in answer.results if Path(r.path).stem == "winter")
        assert winter.score == pytest.approx(float(both @ unit(vecs[2])), abs=2e-3)

        avoid = library.search(SearchQuery(images=(str(p["tokyo"]),), not_images=(str(p["winter"]),), k=5))
        without = unit(unit(vecs[0]) - 0.5 * unit(vecs[2]))
        beach = next(r for r in avoid.results if Path(r.path).stem == "beach")
        assert beach.score == pytest.approx(float(without @ unit(vecs[1])), abs=2e-3)
        assert "winter" not in {Path(r.path).stem for r in avoid.results}

        text = unit(library.embedder().embed_texts(["night"])[0])
        mixed = library.search(SearchQuery(images=(str(p["tokyo"]),), text="night", k=5))
        beach = next(r for r in mixed.results if Path(r.path).stem == "beach")
        assert beach.score == pytest.approx(float(unit(unit(vecs[0]) + text) @ unit(vecs[1])), abs=2e-3)
        assert all(r.match is None for r in mixed.results)  # a probability only for a text alone
        with pytest.raises(LibraryError, match="not only images to avoid"):
            library.search(SearchQuery(not_images=(str(p["tokyo"]),)))


def test_the_command_line_filters_searches_and_lists_the_same_way(
    camera_library: tuple[Library, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from core.cli.main import main

    library, p = camera_library
    data = str(library.data_dir)
    with library:
        assert main(["list", "--data-dir", data, "--camera", "iphone", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)["photos"]
        assert [Path(x["path"]).stem for x in listed] == ["beach", "winter"]  # newest first
        assert listed[0] == {"path": str(p["beach"]), "taken": "2024-08-20T18:00:00", "camera": "Apple iPhone 15",
                             "width": 600, "height": 900}
        assert main(["search", "--data-dir", data, "--image", str(p["scan"]), "--after", "2024-08",
                     "--has-location", "--json"]) == 0
        found = json.loads(capsys.readouterr().out)["results"]
        assert [(Path(r["path"]).stem, r["taken"]) for r in found] == [("tokyo", "2024-08-03T10:00:00")]
        assert main(["search", "--data-dir", data, "--image", str(p["scan"]), "--type", "psd"]) == 2
        assert "unknown type 'psd'" in capsys.readouterr().err
