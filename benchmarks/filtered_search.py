"""Filtered search: latency and recall of VectorIndex.search(..., allowed=ids), and the SQL that gives the ids.

    nice .venv/bin/python benchmarks/filtered_search.py [--sizes 100000,1000000] [--queries 100] [--sql-rows 100000]

Goals (issue #16): one filtered query p50 < 30 ms at 100k photos, < 60 ms at 1M, recall@10 >= 0.95
against exact (brute force over the vectors that pass), for filters keeping 1%, 10% and 100%.

Vectors: the clustered 768-d mixture of benchmarks/search_speed.py, each photo knowing its cluster.
Passing ids are chosen two ways:
- random: a filter unrelated to content (a file type, "has a location");
- clustered: a date range over a timeline where each cluster is an album shot at one time, so the photos
  that pass look alike and sit in a few IVF lists, maybe far from the query. The hard case for IVF.
Queries: half edited copies of passing photos ("more like this, in this album"), half fresh photos from
anywhere (a query whose best passing matches may be far away).

The latency is the whole call, as Library.search makes it: selector construction included. The SQL side
(ids passing a date range and a camera in a real 100k-row library table) is measured once, separately:
core.library.searching.PassingIds keeps those ids across queries until the library changes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.search_speed import (  # noqa: E402
    CHUNK,
    DIM,
    LATENT,
    PROJECTION,
    SCALE,
    make_centres,
    peak_rss_mb,
    unit,
)
from core.vectors.index import VectorIndex  # noqa: E402

K = 10
SHARES = (0.01, 0.10, 1.0)


def labelled_points(
    rng: np.random.Generator, centres: np.ndarray, weights: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """search_speed.sample_points, also returning each point's cluster."""
    labels = rng.choice(len(centres), size=m, p=weights)
    spread = rng.uniform(0.5, 1.0, size=(m, 1)).astype(np.float32)
    latent = centres[labels] + rng.standard_normal((m, LATENT), dtype=np.float32) * spread
    noise = rng.standard_normal((m, DIM), dtype=np.float32) * (np.float32(0.2) * SCALE)
    return unit(unit(latent @ PROJECTION) + noise), labels


def make_library(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, clusters, centres, weights)."""
    centres = make_centres(rng, max(1000, min(5000, n // 200)))
    weights = rng.lognormal(0.0, 1.0, len(centres))
    weights /= weights.sum()
    data = np.empty((n, DIM), np.float32)
    clusters = np.empty(n, np.int64)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        data[start:stop], clusters[start:stop] = labelled_points(rng, centres, weights, stop - start)
    return data, clusters, centres, weights


def passing_sets(rng: np.random.Generator, clusters: np.ndarray, share: float) -> dict[str, np.ndarray]:
    """Sorted ids keeping `share` of the photos: at random, and as one date range of an album timeline."""
    n = clusters.size
    m = max(K, round(share * n))
    if m >= n:
        return {"all": np.arange(n, dtype=np.int64)}
    album_time = rng.permutation(int(clusters.max()) + 1)  # when each album was shot
    timeline = np.lexsort((rng.random(n), album_time[clusters]))  # photos in the order they were taken
    start = int(rng.integers(0, n - m))
    return {
        "random": np.sort(rng.choice(n, size=m, replace=False)).astype(np.int64),
        "clustered": np.sort(timeline[start : start + m]).astype(np.int64),
    }


def make_queries(
    rng: np.random.Generator, data: np.ndarray, passing: np.ndarray, centres: np.ndarray, weights: np.ndarray,
    m: int,
) -> np.ndarray:
    half = m // 2
    picked = data[rng.choice(passing, size=half)]
    edited = unit(picked + rng.standard_normal(picked.shape, dtype=np.float32) * (np.float32(0.3) * SCALE))
    return np.concatenate([edited, labelled_points(rng, centres, weights, m - half)[0]])


def exact_top(queries: np.ndarray, data: np.ndarray, passing: np.ndarray) -> np.ndarray:
    """The true top K ids among `passing`: brute force over their vectors only."""
    if passing.size == len(data):  # every photo: no 3 GB copy at 1M
        return faiss.knn(queries, data, K, metric=faiss.METRIC_INNER_PRODUCT)[1].astype(np.int64)
    _, rows = faiss.knn(queries, data[passing], K, metric=faiss.METRIC_INNER_PRODUCT)
    return passing[rows]


def measure(index: VectorIndex, queries: np.ndarray, passing: np.ndarray | None, truth: np.ndarray) -> str:
    """Wall and CPU time per query (the search runs on one thread, so its CPU time is what it costs on an
    idle machine: wall time on a machine shared with other work counts the waits too), and recall."""
    for q in queries[:5]:  # warm caches
        index.search(q, K, allowed=passing)
    wall, cpu, hits = [], [], 0
    for q, true_row in zip(queries, truth, strict=True):
        t, c = time.perf_counter(), time.thread_time()
        got = index.search(q, K, allowed=passing)
        cpu.append((time.thread_time() - c) * 1e3)
        wall.append((time.perf_counter() - t) * 1e3)
        hits += len({i for i, _ in got} & set(true_row.tolist()))
    return (
        f"wall p50 {np.percentile(wall, 50):6.1f} p95 {np.percentile(wall, 95):6.1f} ms  "
        f"cpu p50 {np.percentile(cpu, 50):6.1f} p95 {np.percentile(cpu, 95):6.1f} ms  recall@{K} {hits / truth.size:.4f}"
    )


def run_size(n: int, n_queries: int) -> None:
    rng = np.random.default_rng(n)
    t = time.perf_counter()
    data, clusters, centres, weights = make_library(rng, n)
    index = VectorIndex.build(DIM, np.arange(n, dtype=np.int64), data)
    print(
        f"n={n:,}: {index.kind} index ready in {time.perf_counter() - t:.0f} s, peak RSS {peak_rss_mb():,.0f} MB",
        flush=True,
    )
    everyone = np.arange(n, dtype=np.int64)
    queries = make_queries(rng, data, everyone, centres, weights, n_queries)
    print(f"  no filter (plain search)          {measure(index, queries, None, exact_top(queries, data, everyone))}")
    for share in SHARES:
        for how, passing in passing_sets(rng, clusters, share).items():
            queries = make_queries(rng, data, passing, centres, weights, n_queries)
            truth = exact_top(queries, data, passing)
            print(f"  keep {share:4.0%} {how:<9} ({passing.size:>9,} pass) "
                  f"{measure(index, queries, passing, truth)}", flush=True)


def run_sql(rows: int, repeats: int) -> None:
    """Time passing_ids (core.store.filtering) on a real library table of `rows` photos."""
    from core.library.filters import PhotoFilter
    from core.store.database import Store
    from core.store.filtering import passing_ids
    from core.store.schema import photos

    rng = np.random.default_rng(1)
    cameras = [("Canon", "EOS R6"), ("Apple", "iPhone 13"), ("Apple", "iPhone 8"), ("SONY", "ILCE-7M3"),
               ("NIKON CORPORATION", "NIKON Z 6"), ("FUJIFILM", "X-T4"), ("Google", "Pixel 7"), ("samsung", "SM-G991B")]
    first, span = 1.3e9, 10 * 365 * 86400.0  # ten years of photos
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "library.db")
        folder = store.add_folder(str(Path(tmp) / "Photos"))
        taken = np.sort(rng.uniform(first, first + span, rows))
        camera = rng.choice(len(cameras), rows, p=[0.3, 0.25, 0.15, 0.1, 0.08, 0.06, 0.04, 0.02])
        batch = [
            {"folder_id": folder.id, "path": f"{tmp}/Photos/{i // 500}/IMG_{i:07d}.jpg", "size": 3_000_000 + i,
             "mtime_ns": int(taken[i] * 1e9), "hash": f"{i:032x}", "width": 4000, "height": 3000,
             "taken_at": float(taken[i]), "status": "ok", "camera_make": cameras[camera[i]][0],
             "camera_model": cameras[camera[i]][1], "format": "JPEG", "has_gps": int(i % 3 == 0)}
            for i in range(rows)
        ]
        with store.write() as conn:
            conn.execute(photos.insert(), batch)
        day = 86400.0
        filters = {
            "date range keeping 1%": PhotoFilter(after=first + span / 2, before=first + span / 2 + span / 100),
            "date range keeping 10%": PhotoFilter(after=first, before=first + span / 10),
            "date range keeping 100%": PhotoFilter(after=first - day, before=first + span + day),
            "camera 'sony' (10%)": PhotoFilter(camera="sony"),
            "camera 'iphone' (40%)": PhotoFilter(camera="iphone"),
            "1 year + camera 'canon'": PhotoFilter(after=first, before=first + span / 10, camera="canon"),
        }
        print(f"SQL: passing ids from a {rows:,}-row library table (core.store.filtering.passing_ids)")
        for name, f in filters.items():
            lat = []
            for _ in range(repeats):
                t = time.perf_counter()
                with store.read() as conn:
                    ids = passing_ids(conn, f)
                lat.append((time.perf_counter() - t) * 1e3)
            print(f"  {name:<26} {ids.size:>7,} ids  p50 {np.percentile(lat, 50):6.1f} ms  "
                  f"p95 {np.percentile(lat, 95):6.1f} ms", flush=True)
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--sql-rows", type=int, default=100_000, help="0: skip the SQL measurement")
    args = parser.parse_args()
    print(f"faiss {faiss.__version__}, {args.queries} queries per case, k={K}, one thread per query", flush=True)
    if args.sql_rows:
        run_sql(args.sql_rows, repeats=20)
    for n in (int(v) for v in args.sizes.split(",") if v):
        run_size(n, args.queries)


if __name__ == "__main__":
    main()
