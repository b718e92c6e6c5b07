"""Search latency, recall and build cost of core.vectors.index on clustered synthetic vectors.

    .venv/bin/python benchmarks/search_speed.py [--sizes 100000,1000000] [--exact-limit N] [--nprobes 32,64]

Vectors: a two-level Gaussian mixture on the unit sphere (super-centres -> a few thousand cluster
centres -> points), normalised, like photo embeddings where near-duplicates and same-scene shots
cluster. Uniform random 768-d vectors have no neighbourhood structure and defeat every ANN index,
so they say nothing about photos.

Queries: half are perturbed database vectors (an edited copy of a photo), half fresh points drawn
from the clusters (a new photo of a known scene). Recall@10 is measured against exact brute force.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.vectors.index import DEFAULT_EXACT_LIMIT, VectorIndex  # noqa: E402

DIM = 768
SCALE = np.float32(1 / np.sqrt(DIM))  # float32: a float64 factor would double the temporaries
K = 10
CHUNK = 50_000
LATENT = 96
PROJECTION = np.random.default_rng(7).standard_normal((LATENT, DIM), dtype=np.float32)


def unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    faiss.normalize_L2(x)
    return x


def make_centres(rng: np.random.Generator, n_centres: int) -> np.ndarray:
    # Centres live in a LATENT-dim subspace: real embeddings have low intrinsic dimension, which is
    # what gives neighbours meaning (and what makes the ANN problem neither trivial nor hopeless).
    return rng.standard_normal((n_centres, LATENT), dtype=np.float32)


def sample_points(rng: np.random.Generator, centres: np.ndarray, weights: np.ndarray, m: int) -> np.ndarray:
    labels = rng.choice(len(centres), size=m, p=weights)
    spread = rng.uniform(0.5, 1.0, size=(m, 1)).astype(np.float32)  # clusters overlap their neighbours
    latent = centres[labels] + rng.standard_normal((m, LATENT), dtype=np.float32) * spread
    # Small full-rank noise on top: no two photos are exactly in the subspace.
    noise = rng.standard_normal((m, DIM), dtype=np.float32) * (np.float32(0.2) * SCALE)
    return unit(unit(latent @ PROJECTION) + noise)


def make_dataset(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centres = make_centres(rng, max(1000, min(5000, n // 200)))
    weights = rng.lognormal(0.0, 1.0, len(centres))  # uneven cluster sizes, like real albums
    weights /= weights.sum()
    data = np.empty((n, DIM), np.float32)  # filled in chunks: never two full-size temporaries
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        data[start:stop] = sample_points(rng, centres, weights, stop - start)
    return data, centres, weights


def make_queries(rng: np.random.Generator, data: np.ndarray, centres, weights, m: int) -> np.ndarray:
    half = m // 2
    picked = data[rng.integers(0, len(data), half)]
    perturbed = unit(picked + rng.standard_normal(picked.shape, dtype=np.float32) * (np.float32(0.3) * SCALE))
    return np.concatenate([perturbed, sample_points(rng, centres, weights, m - half)])


def recall_at_k(index: VectorIndex, queries: np.ndarray, truth: np.ndarray) -> float:
    hits = 0
    for q, true_row in zip(queries, truth, strict=True):
        got = {i for i, _ in index.search(q, K)}
        hits += len(got & set(true_row.tolist()))
    return hits / truth.size


def latencies_ms(index: VectorIndex, queries: np.ndarray) -> np.ndarray:
    for q in queries[:10]:  # warm caches and the OpenMP pool
        index.search(q, K)
    out = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, K)
        out.append((time.perf_counter() - t) * 1e3)
    return np.array(out)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_search(index: VectorIndex, queries: np.ndarray, truth: np.ndarray, label: str) -> None:
    lat = latencies_ms(index, queries)
    recall = recall_at_k(index, queries, truth)
    print(
        f"  {label:<22} p50 {np.percentile(lat, 50):6.2f} ms  p95 {np.percentile(lat, 95):6.2f} ms  "
        f"recall@{K} {recall:.4f}",
        flush=True,
    )


def run_size(n: int, exact_limit: int, n_queries: int, nprobes: list[int]) -> None:
    rng = np.random.default_rng(n)
    t = time.perf_counter()
    data, centres, weights = make_dataset(rng, n)
    queries = make_queries(rng, data, centres, weights, n_queries)
    print(
        f"n={n:,}: generated in {time.perf_counter() - t:.1f} s, peak RSS {peak_rss_mb():,.0f} MB", flush=True
    )
    _, truth = faiss.knn(queries, data, K, metric=faiss.METRIC_INNER_PRODUCT)

    t = time.perf_counter()
    index = VectorIndex.build(DIM, np.arange(n, dtype=np.int64), data, exact_limit=exact_limit)
    build_s = time.perf_counter() - t
    print(f"  build {build_s:.1f} s, kind {index.kind}, peak RSS {peak_rss_mb():,.0f} MB", flush=True)
    report_search(index, queries, truth, f"{index.kind} (default)")
    for nprobe in nprobes:  # tuning aid: overrides the default nprobe of an IVF index
        if index.kind == "ivf":
            index._index.nprobe = nprobe
            report_search(index, queries, truth, f"ivf nlist {index._index.nlist} nprobe {nprobe}")
    report_file(index)


def report_file(index: VectorIndex) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.lkv"
        t = time.perf_counter()
        index.save(path, {"benchmark": True})
        save_s = time.perf_counter() - t
        size_mb = path.stat().st_size / 2**20
        t = time.perf_counter()
        VectorIndex.load(path)
        load_s = time.perf_counter() - t
    print(
        f"  file {size_mb:,.0f} MB, save {save_s:.1f} s, load {load_s:.1f} s, peak RSS {peak_rss_mb():,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--exact-limit", type=int, default=DEFAULT_EXACT_LIMIT)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nprobes", default="", help="extra nprobe values to measure on IVF indexes")
    args = parser.parse_args()
    nprobes = [int(v) for v in args.nprobes.split(",") if v]
    print(f"faiss {faiss.__version__}, exact_limit {args.exact_limit:,}, {args.queries} queries, k={K}")
    for n in (int(v) for v in args.sizes.split(",")):
        run_size(n, args.exact_limit, args.queries, nprobes)


if __name__ == "__main__":
    main()
