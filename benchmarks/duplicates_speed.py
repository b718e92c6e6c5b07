"""Duplicate finding at scale: time, memory and recall of similar pairs, then star grouping.

    .venv/bin/python benchmarks/duplicates_speed.py --n 100000
    .venv/bin/python benchmarks/duplicates_speed.py --n 1000000 --sample 10000 [--probe 4] [--json out.json]

Goals (2-core reference machine): 100k photos grouped in under 20 s, 1M in under 5 min, using under
1.5 GB beyond the vectors the index already holds for search, with recall >= 0.99 of the pairs above
the floor (0.80) and above the default threshold (0.92) against exhaustive search.

Vectors: photo-like clustered unit vectors. Topics -> scenes -> photos; a photo is its scene's centre
plus its own variation, so two photos of one scene mostly score 0.3-0.75 (printed as a check), photos
of different scenes lower. About 5% of the photos are planted look-alikes of another photo (pairs and
triples) at cosines spread over 0.80-0.995; their difference lies partly along the scene structure
(the hard case for coarse lists: it moves a copy towards a neighbouring list) and partly at random.

The index is built as the library builds it (`VectorIndex.build`: exact up to 150k, IVF above), so
100k runs the clustered-copy path and 1M reads the IVF lists in place. The generated array is freed
after the build: what remains is what the library holds. Memory "beyond the index" is the peak
resident set during the step (VmHWM, reset just before it) minus the resident set before it.

Recall: exhaustive search by blocked matrix products. With --sample below n, only pairs whose first
(smaller-id) member is one of `sample` random photos are counted, on both sides; exhaustive search
costs sample x n x 768 multiply-adds, so at 1M the sample is what the machine can afford.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.duplicates.grouping import star_groups  # noqa: E402
from core.duplicates.records import DEFAULT_THRESHOLD, FLOOR  # noqa: E402
from core.vectors import ivf, similar_pairs  # noqa: E402
from core.vectors.index import VectorIndex  # noqa: E402

DIM = 768
LATENT = 128
CHUNK = 50_000
PHOTOS_PER_SCENE = 100
PLANTED_SHARE = 0.05  # photos that are a look-alike copy of another photo
QUERY_BLOCK = 2_048  # exhaustive search: query rows per matrix product


def unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    faiss.normalize_L2(x)
    return x


class Scenes:
    """Topics and scenes in a LATENT-dim subspace (embeddings have low intrinsic dimension)."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.projection = rng.standard_normal((LATENT, DIM), dtype=np.float32)
        topics = unit(rng.standard_normal((max(50, n // 5_000), LATENT), dtype=np.float32))
        n_scenes = max(100, n // PHOTOS_PER_SCENE)
        own = unit(rng.standard_normal((n_scenes, LATENT), dtype=np.float32))
        self.centres = unit(0.5 * topics[rng.integers(0, len(topics), n_scenes)] + 0.87 * own)
        weights = rng.lognormal(0.0, 0.8, n_scenes)  # uneven album sizes
        self.weights = weights / weights.sum()

    def embed(self, latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Latent points -> 768-d unit vectors, with a little full-rank noise (no photo is exactly in
        the subspace)."""
        noise = rng.standard_normal((len(latent), DIM), dtype=np.float32) * np.float32(0.15 / np.sqrt(DIM))
        return unit(unit(latent @ self.projection) + noise)

    def photos(self, rng: np.random.Generator, m: int) -> np.ndarray:
        scene = rng.choice(len(self.centres), size=m, p=self.weights)
        # How typical of its scene a photo is: two photos at a, b score about a*b (0.3-0.75).
        a = rng.uniform(0.55, 0.87, size=(m, 1)).astype(np.float32)
        own = unit(rng.standard_normal((m, LATENT), dtype=np.float32))
        return self.embed(a * self.centres[scene] + np.sqrt(1 - a * a) * own, rng)


def make_dataset(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Scenes, np.ndarray]:
    scenes = Scenes(rng, n)
    data = np.empty((n, DIM), np.float32)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        data[start:stop] = scenes.photos(rng, stop - start)
    return data, scenes, plant_copies(rng, data, scenes)


def plant_copies(rng: np.random.Generator, data: np.ndarray, scenes: Scenes) -> np.ndarray:
    """Overwrite ~5% of the rows with look-alikes of other rows: 2/3 pairs, 1/3 triples."""
    n = len(data)
    copies = int(n * PLANTED_SHARE)
    rows = rng.permutation(n)
    copy_rows = rows[:copies]
    per_original = np.where(rng.random(copies) < 1 / 3, 2, 1)  # a triple is an original with two copies
    originals_arr = np.repeat(rows[copies : 2 * copies], per_original)[:copies]
    for start in range(0, len(copy_rows), CHUNK):
        src = data[originals_arr[start : start + CHUNK]]
        data[copy_rows[start : start + CHUNK]] = look_alikes(rng, src, scenes)
    return np.stack([originals_arr, copy_rows], axis=1)  # (copies, 2): original row, copy row


def look_alikes(rng: np.random.Generator, src: np.ndarray, scenes: Scenes) -> np.ndarray:
    m = len(src)
    along = scenes.embed(rng.standard_normal((m, LATENT), dtype=np.float32), rng)
    away = unit(rng.standard_normal((m, DIM), dtype=np.float32))
    mix = rng.uniform(0.0, 1.0, size=(m, 1)).astype(np.float32)
    step = mix * along + (1 - mix) * away
    step -= np.sum(step * src, axis=1, keepdims=True) * src  # orthogonal to the original
    step = unit(step)
    cos = rng.uniform(0.80, 0.995, size=(m, 1)).astype(np.float32)
    return unit(cos * src + np.sqrt(1 - cos * cos) * step)


def within_scene_cosines(rng: np.random.Generator, scenes: Scenes) -> np.ndarray:
    """Cosines of photo pairs drawn from one scene (a check that the data looks like photos)."""
    m = 2_000
    scene = rng.choice(len(scenes.centres), size=m, p=scenes.weights)
    a = rng.uniform(0.55, 0.87, size=(2, m, 1)).astype(np.float32)
    own = unit(rng.standard_normal((2 * m, LATENT), dtype=np.float32)).reshape(2, m, LATENT)
    x = scenes.embed(a[0] * scenes.centres[scene] + np.sqrt(1 - a[0] ** 2) * own[0], rng)
    y = scenes.embed(a[1] * scenes.centres[scene] + np.sqrt(1 - a[1] ** 2) * own[1], rng)
    return np.sum(x * y, axis=1)


# -- measuring ------------------------------------------------------------------------------------


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := current RSS


def peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def index_chunks(index: VectorIndex) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Views of the vectors the index holds (the benchmark's own array is gone by then)."""
    raw: Any = index._index
    source = ivf.exact_chunks(raw) if index.kind == "exact" else ivf.ivf_chunks(raw)
    yield from source()


def query_vectors(index: VectorIndex, sample: np.ndarray) -> np.ndarray:
    out = np.empty((len(sample), DIM), np.float32)
    for ids, vecs in index_chunks(index):
        hit = np.isin(ids, sample)
        if hit.any():
            out[np.searchsorted(sample, ids[hit])] = vecs[hit]
    return out


def exhaustive_pairs(index: VectorIndex, sample: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (q, j, score) with q in `sample` (sorted), j > q and cosine >= floor."""
    queries = query_vectors(index, sample)
    qa, qb, qs = [], [], []
    chunks = list(index_chunks(index))
    for start in range(0, len(sample), QUERY_BLOCK):
        q_ids, q = sample[start : start + QUERY_BLOCK], queries[start : start + QUERY_BLOCK]
        for ids, vecs in chunks:
            if ids.max() <= q_ids[0]:
                continue  # every candidate precedes every query: the pair is counted from the other side
            scores = q @ vecs.T
            i, j = np.nonzero((scores >= floor) & (ids[None, :] > q_ids[:, None]))
            qa.append(q_ids[i])
            qb.append(ids[j].copy())
            qs.append(scores[i, j])
    return np.concatenate(qa), np.concatenate(qb), np.concatenate(qs)


def pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.minimum(a, b).astype(np.int64) * (1 << 32) + np.maximum(a, b)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.isin(truth, found).mean()) if truth.size else 1.0


# -- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"n": args.n, "probe": args.probe, "seed": args.seed, "floor": FLOOR,
                           "threshold": DEFAULT_THRESHOLD, "cpus": ivf.cpu_threads()}
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    data, scenes, planted_rows = make_dataset(rng, args.n)
    planted = len(planted_rows)
    within = within_scene_cosines(rng, scenes)
    out |= {"generate_s": time.perf_counter() - t, "planted": planted,
            "within_scene_cos_p10_p50_p90": np.percentile(within, [10, 50, 90]).round(3).tolist()}
    line(f"generated {args.n:,} vectors ({planted:,} planted look-alikes) in {out['generate_s']:.1f} s; "
         f"within-scene cosine p10/p50/p90 {out['within_scene_cos_p10_p50_p90']}")

    t = time.perf_counter()
    index = VectorIndex.build(DIM, np.arange(args.n, dtype=np.int64), data)
    del data
    gc.collect()
    out |= {"build_s": time.perf_counter() - t, "kind": index.kind, "index_vectors_mb": args.n * DIM * 4 / 2**20}
    if index.kind == "ivf":
        out["nlist"] = index._index.nlist
    line(f"built {index.kind} index in {out['build_s']:.1f} s; its vectors {out['index_vectors_mb']:,.0f} MB")

    before = rss_mb()
    reset_peak()
    t, cpu = time.perf_counter(), time.process_time()
    pairs = index.similar_pairs(FLOOR, probe=args.probe)
    out["pairs_s"], out["pairs_cpu_s"] = time.perf_counter() - t, time.process_time() - cpu
    out["pairs_peak_beyond_mb"] = peak_mb() - before
    out["pairs_found"] = len(pairs)
    line(f"similar_pairs(>= {FLOOR}) {out['pairs_s']:.1f} s ({out['pairs_cpu_s']:.1f} s of CPU; "
         f"load average {psutil.getloadavg()[0]:.1f}), {len(pairs):,} pairs, "
         f"peak {out['pairs_peak_beyond_mb']:,.0f} MB beyond the {before:,.0f} MB held before")

    before_group = rss_mb()
    reset_peak()
    t = time.perf_counter()
    ids = index.ids()
    keep = pairs.score >= DEFAULT_THRESHOLD
    groups = star_groups(len(ids), np.searchsorted(ids, pairs.a[keep]), np.searchsorted(ids, pairs.b[keep]))
    out["group_s"] = time.perf_counter() - t
    out["group_peak_beyond_mb"] = peak_mb() - before
    out["groups"] = len(groups)
    out["total_s"] = out["pairs_s"] + out["group_s"]
    out["peak_beyond_index_mb"] = max(out["pairs_peak_beyond_mb"], out["group_peak_beyond_mb"])
    line(f"star_groups(>= {DEFAULT_THRESHOLD}) {out['group_s']:.2f} s, {len(groups):,} groups "
         f"({int(keep.sum()):,} pairs); peak {out['group_peak_beyond_mb']:,.0f} MB beyond {before:,.0f} MB "
         f"(RSS then {before_group:,.0f} MB)")

    out |= measure_recall(index, pairs, args)
    if index.kind == "ivf":
        out["planted_recall_by_probe"] = probe_curve(index, planted_rows[:, 0], planted_rows[:, 1])
        line(f"planted look-alike pairs ({planted:,}, cosine 0.80-0.995) in lists one probes, by probe: "
             f"{out['planted_recall_by_probe']}")
    return out


def probe_curve(index: VectorIndex, a: np.ndarray, b: np.ndarray) -> dict[int, float]:
    """Of pairs (a, b), the share pairs_above would compare at each probe: same list, or one's list
    among the other's `probe` nearest centroids. Cheap (no pair search), so it can guide PROBE."""
    raw: Any = index._index
    centroids = ivf.normalized(raw.quantizer.reconstruct_n(0, raw.nlist))
    home = np.empty(len(index), np.int32)
    members = np.unique(np.concatenate([a, b]))
    vectors = np.empty((len(members), DIM), np.float32)
    for list_no, (ids, vecs) in enumerate(similar_pairs.ivf_blocks(raw)[1]):
        home[ids] = list_no
        hit = np.isin(ids, members)
        vectors[np.searchsorted(members, ids[hit])] = vecs[hit]
    va, vb = vectors[np.searchsorted(members, a)], vectors[np.searchsorted(members, b)]
    ha, hb = home[a], home[b]

    def rank(v: np.ndarray, target: np.ndarray) -> np.ndarray:  # centroids nearer than the target list
        scores = v @ centroids.T
        return (scores > scores[np.arange(len(v)), target][:, None]).sum(axis=1)

    ra, rb = rank(va, hb), rank(vb, ha)
    return {p: round(float(((ha == hb) | (ra < p) | (rb < p)).mean()), 4) for p in (2, 3, 4, 6, 8, 12, 16)}


def measure_recall(index: VectorIndex, pairs: similar_pairs.PairList, args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed + 1)
    size = min(args.sample, args.n)
    sample = np.sort(rng.choice(args.n, size, replace=False)) if size < args.n else np.arange(args.n)
    t = time.perf_counter()
    ta, tb, ts = exhaustive_pairs(index, sample, FLOOR)
    exhaustive_s = time.perf_counter() - t
    lo = np.minimum(pairs.a, pairs.b)
    in_sample = np.isin(lo, sample)
    found_all = pair_keys(pairs.a[in_sample], pairs.b[in_sample])
    found_strict = found_all[pairs.score[in_sample] >= DEFAULT_THRESHOLD]
    truth_all, truth_strict = pair_keys(ta, tb), pair_keys(ta, tb)[ts >= DEFAULT_THRESHOLD]
    out = {"sample": size, "exhaustive_s": exhaustive_s, "truth_pairs_floor": int(truth_all.size),
           "truth_pairs_threshold": int(truth_strict.size), "recall_floor": recall(found_all, truth_all),
           "recall_threshold": recall(found_strict, truth_strict),
           "false_pairs": int((~np.isin(found_all, truth_all)).sum())}
    line(f"recall over pairs whose first photo is one of {size:,} sampled (exhaustive {exhaustive_s:.0f} s): "
         f">= {FLOOR}: {out['recall_floor']:.4f} of {truth_all.size:,}; "
         f">= {DEFAULT_THRESHOLD}: {out['recall_threshold']:.4f} of {truth_strict.size:,}; "
         f"pairs found that exhaustive search lacks: {out['false_pairs']}")
    if index.kind == "ivf" and ta.size:
        out["exhaustive_recall_by_probe"] = probe_curve(index, ta, tb)
        line(f"exhaustive pairs >= {FLOOR} in lists one probes, by probe: {out['exhaustive_recall_by_probe']}")
    return out


def line(text: str) -> None:
    print(text, flush=True)


def summary(r: dict[str, Any]) -> None:
    goal_s = 20 if r["n"] <= 100_000 else 300
    checks = {
        f"time {r['total_s']:.1f} s < {goal_s} s": r["total_s"] < goal_s,
        f"memory {r['peak_beyond_index_mb']:,.0f} MB < 1536 MB beyond the index": r["peak_beyond_index_mb"] < 1536,
        f"recall >= {FLOOR} {r['recall_floor']:.4f} >= 0.99": r["recall_floor"] >= 0.99,
        f"recall >= {DEFAULT_THRESHOLD} {r['recall_threshold']:.4f} >= 0.99": r["recall_threshold"] >= 0.99,
    }
    line(f"SUMMARY n={r['n']:,} {r['kind']} probe {r['probe']} ({r['cpus']} cpus, recall on {r['sample']:,} queries): "
         + "; ".join(f"{k} {'MET' if ok else 'MISSED'}" for k, ok in checks.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--probe", type=int, default=similar_pairs.PROBE)
    parser.add_argument("--sample", type=int, default=100_000, help="query photos for exhaustive recall")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    result = run(args)
    summary(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
