"""cluster-embed on this machine's own Ray against `lookalike index`, same photos, same model, same machine.

    .venv/bin/python benchmarks/cluster_embed.py [--photos 300] [--model-folder F] [--shard-size 100]

Writes N photo-like 640x480 JPEGs (tests/imagegen.py) and, unless `--model-folder` is given, the tiny test
model (tests/tinymodels.py: the real SigLIP code path, a very small network), so what is measured is the
engine around the model: decoding, hashing, scheduling, moving pixels, writing results. Each command runs
in its own process, as a user runs it:
  - `lookalike index --precision fp32` on a fresh library (the app's pipeline, SQLite writes included);
  - `lookalike export-manifest` on another fresh library (a scan, nothing read), then
    `lookalike cluster-embed` of that manifest on a local Ray (fp32: no GPU here).
Prints JSON: wall seconds and photos/s of each, cluster-embed's own pipeline rate (after Ray started and
the model loaded on its actor), and the engine's overhead: cluster-embed's wall time minus index's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def lookalike(*args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "desktop.launcher", *args, "--json"], cwd=REPO_ROOT,
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"lookalike {args[0]} failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--model-folder", type=Path, default=None)
    parser.add_argument("--shard-size", type=int, default=100)
    args = parser.parse_args()
    from tests.imagegen import write_photo
    from tests.tinymodels import build_tiny_siglip

    work = Path(tempfile.mkdtemp(prefix="lookalike-cluster-bench-"))
    model = args.model_folder or build_tiny_siglip(work / "model")
    photos = work / "photos"
    for i in range(args.photos):
        write_photo(photos / f"p{i:05d}.jpg", seed=i)

    index_s, index = lookalike("index", "--data-dir", str(work / "lib-index"), "--model", str(model),
                               "--precision", "fp32", str(photos))
    manifest_s, manifest = lookalike("export-manifest", "--data-dir", str(work / "lib-cluster"), "--model",
                                     str(model), "--out", str(work / "m.parquet"), str(photos))
    embed_s, embed = lookalike("cluster-embed", "--manifest", str(work / "m.parquet"), "--out",
                               str(work / "vectors"), "--model", str(model), "--shard-size", str(args.shard_size))
    n = args.photos
    print(json.dumps({
        "photos": n, "model": "tiny test model" if args.model_folder is None else str(model),
        "cpus": os.cpu_count(),
        "index": {"wall_s": round(index_s, 2), "photos_per_s": round(n / index_s, 1), "report": index},
        "export_manifest": {"wall_s": round(manifest_s, 2), "photos": manifest["photos"]},
        "cluster_embed": {"wall_s": round(embed_s, 2), "photos_per_s": round(n / embed_s, 1),
                          "pipeline_photos_per_s": embed["photos_per_s"], "pipeline_s": embed["seconds"],
                          "fixed_start_s": round(embed_s - embed["seconds"], 2)},
        "overhead_vs_index_s": round(embed_s - index_s, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
