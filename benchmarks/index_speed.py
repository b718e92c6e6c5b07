"""Indexing throughput: the tutorial pipeline against `lookalike index`, same photos, same machine.

    .venv/bin/python benchmarks/index_speed.py --photos 48 [--model-folder F] [--precision int8]
        [--device cpu] [--workers W] [--json OUT.json]

1. Writes N photo-like 12 MP JPEGs (4000x3000, EXIF date, every 5th rotated by EXIF 6, every 5th by 8)
   into a cache folder reused across runs (`--photo-dir`, default <tmp>/lookalike-bench/photos-N).
2. Builds the full-size SigLIP 2 B/16-224 architecture with RANDOM weights in `--model-folder` when that
   folder holds no model (no hub here; speed is the real model's).
3. Times, each in its own process so its memory is its own:
   - reference: the tutorial loop, one image at a time: PIL open + RGB, `processor(images=img)`,
     `model.get_image_features`, add to `faiss.IndexFlatL2` (fp32, as the tutorials do);
   - lookalike: `lookalike index --data-dir <temp> --model F --precision P` through `core.cli.main.main`
     (the product path), timed around the pipeline; model load reported separately. Without
     `--precision` the library's precision check runs first (its cost and verdict are reported) and the
     model phase then measures the precision it chose;
   - decode ceiling: the pipeline's worker function (`prepare`: hash + fast decode + preprocess) on the
     pipeline's worker count, and on every core;
   - model ceiling: `embed_preprocessed` on ready batches, run on the model's lanes as the pipeline runs
     them (two threads of one core each on a multi-core CPU), plus the cosine of P's vectors to fp32's.
Rates exclude model loading. Efficiency = lookalike rate / min(decode ceiling, model ceiling). On a CPU
both stages share the cores, so the summary also gives the bound that sharing sets,
1 / (1/model ceiling + 1/decode rate on all cores), and the pipeline's rate against it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

BENCH_DIR = Path(tempfile.gettempdir()) / "lookalike-bench"
SIZE_12MP = (4000, 3000)


# ---- inputs -------------------------------------------------------------------------------------------
def photo_paths(folder: Path, n: int, unique: int) -> list[Path]:
    """N cached 12 MP JPEGs; missing ones are written on every core (about 1 s each).

    Beyond `unique` pictures, photo i is a copy of photo i % unique with a distinct tag appended after
    the JPEG's end marker: decoders ignore it, so decoding costs the same, but the file's content hash
    differs, so the pipeline embeds it instead of reusing the copy's vector."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{i:05d}.jpg" for i in range(n)]
    missing = [i for i, p in enumerate(paths[:unique]) if not p.exists()]
    if missing:
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(os.cpu_count() or 1) as pool:
            pool.starmap(_write_one, [(str(paths[i]), i) for i in missing])
        print(f"wrote {len(missing)} 12 MP JPEGs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for i in range(unique, n):
        if not paths[i].exists():
            paths[i].write_bytes(paths[i % unique].read_bytes() + f"lookalike-bench-{i}".encode())
    return paths


def _write_one(path: str, seed: int) -> None:
    from tests.imagegen import write_photo

    orientation = {1: 6, 3: 8}.get(seed % 5)  # some portrait photos stored sideways, as phones do
    tmp = Path(path).with_name(f".{Path(path).name}.part")
    write_photo(tmp, seed, size=SIZE_12MP, fmt="JPEG", exif_orientation=orientation,
                taken_at=datetime(2024, 5, 1))
    tmp.replace(path)  # a half-written cache file is never reused


def ensure_model(folder: Path) -> None:
    if (folder / "config.json").exists():
        return
    started = time.perf_counter()
    subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks/embed_speed.py"), "--build-only", str(folder)],
                   check=True)
    print(f"built random B/16-224 in {folder} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


# ---- phases (each runs in a child process: `--phase NAME`, one JSON line on stdout) ------------------------
def phase_reference(args: argparse.Namespace, paths: list[Path]) -> dict:
    import torch

    paths = paths[: args.reference_photos or len(paths)]
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModel

    started = time.perf_counter()
    device = "cuda" if args.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    model = AutoModel.from_pretrained(args.model_folder).to(device).eval()
    processor = AutoImageProcessor.from_pretrained(args.model_folder)
    index = _flat_l2(model.config.vision_config.hidden_size)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    for i, path in enumerate(paths):
        if i == 1:  # the first image pays for paging the weights in and picking kernels: count it as load
            load_s += time.perf_counter() - started
            started = time.perf_counter()
        image = Image.open(path).convert("RGB")
        inputs = processor(images=image, return_tensors="pt").to(device)
        with torch.no_grad():
            out = model.get_image_features(**inputs)
        features = out if isinstance(out, torch.Tensor) else out.pooler_output
        index.add(features.float().cpu().numpy())
    seconds = time.perf_counter() - started
    return {"load_s": load_s, "seconds": seconds, "images_per_s": (len(paths) - 1) / seconds,
            "photos": len(paths), "device": device, "peak_rss_mb": _own_peak_mb()}


def _flat_l2(dim: int):  # faiss.IndexFlatL2, or a list with the same `add` where faiss is missing
    try:
        import faiss

        return faiss.IndexFlatL2(dim)
    except ImportError:
        class _Rows(list):
            def add(self, x: np.ndarray) -> None:
                self.append(x)

        return _Rows()


def phase_model(args: argparse.Namespace, paths: list[Path]) -> dict:
    """Model-only rate at the chosen precision, and the cosine of its vectors to fp32 ones."""
    from core.embedding.embedder import load_embedder
    from core.indexing.pipeline import prepare

    started = time.perf_counter()
    embedder = load_embedder(args.model_folder, device=args.device, precision=args.precision)
    load_s = time.perf_counter() - started
    pre = embedder.preprocessor()
    sample = paths[: max(args.unique, 8)]  # decoded on this one thread: keep it short
    items = [p.pixels for p in (prepare(i, str(path), embedder.image_size, pre) for i, path in enumerate(sample))]
    size = embedder.batch_size
    rounds = 8 * size * embedder.lanes  # at least eight full batches per lane: ~10 s on a 2-core CPU
    work = (items * (1 + rounds // len(items)))[: max(len(items), rounds)]
    vectors, seconds = _through_lanes(embedder, work)
    out = {"precision": embedder.precision, "device": embedder.device, "batch_size": size, "load_s": load_s,
           "lanes": embedder.lanes, "images_per_s": len(work) / seconds, "peak_rss_mb": _own_peak_mb()}
    if embedder.precision != "fp32":
        mine = vectors[: len(items)]
        embedder.unload()
        reference = load_embedder(args.model_folder, device=args.device, precision="fp32")
        cos = np.sum(reference.embed_preprocessed(items) * mine, axis=1)
        out.update(cosine_min=float(cos.min()), cosine_mean=float(cos.mean()), cosine_images=len(items))
    return out


def _through_lanes(embedder, work: list) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    """The model stage as the pipeline runs it: `embedder.lanes` batches at once, one per thread."""
    from concurrent.futures import ThreadPoolExecutor

    size = embedder.batch_size
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    with ThreadPoolExecutor(embedder.lanes, initializer=embedder.start_lane) as pool:
        list(pool.map(embedder.embed_preprocessed, batches[: embedder.lanes]))  # warm-up: kernels, weights
        _sync()
        started = time.perf_counter()
        vectors = np.concatenate(list(pool.map(embedder.embed_preprocessed, batches)))
        _sync()
        seconds = time.perf_counter() - started
    embedder.end_lanes()
    return vectors, seconds


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def phase_lookalike(args: argparse.Namespace, paths: list[Path]) -> dict:
    """`lookalike index` as a user runs it, with timers around model loading and the pipeline."""
    import core.embedding.embedder
    import core.indexing.pipeline
    from core.cli.main import main

    timings: dict[str, float] = {}
    load, run = core.embedding.embedder.load_embedder, core.indexing.pipeline.Pipeline.run

    def timed_load(*a, **kw):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return load(*a, **kw)
        finally:
            timings["load_s"] = timings.get("load_s", 0.0) + time.perf_counter() - started

    def timed_run(self, photos):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return run(self, photos)
        finally:
            timings["pipeline_s"] = time.perf_counter() - started
            timings["workers"] = self.workers

    core.embedding.embedder.load_embedder = timed_load  # type: ignore[assignment]
    core.indexing.pipeline.Pipeline.run = timed_run  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-data-") as data:
        argv = ["index", str(Path(paths[0]).parent), "--data-dir", data, "--model", args.model_folder,
                "--device", args.device, "--json"]
        argv += ["--precision", args.precision] if args.precision else []
        argv += ["--workers", str(args.workers)] if args.workers is not None else []
        started = time.perf_counter()
        status = main(argv)
        total = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"lookalike index failed with status {status}")
        check = _precision_check(data, args.model_folder)
    return {**timings, **check, "total_s": total, "images_per_s": len(paths) / timings["pipeline_s"],
            "peak_rss_mb": _own_peak_mb()}


def _precision_check(data: str, model: str) -> dict:
    """The precision the library ran at, and what its precision check measured (when it ran)."""
    from core.library.facade import Library

    with Library(data, model=model, readonly=True) as library:
        status = library.precision_status()
    verdict = status.verdict
    out: dict = {"precision": status.in_use}
    if verdict is not None:
        out.update(check_s=verdict.seconds, check=[c.to_json() for c in verdict.checks], chosen=verdict.chosen)
    return out


def phase_decode(args: argparse.Namespace, paths: list[Path]) -> dict:
    """The decode stage alone: `prepare` on a warm pool of W workers, for W = pipeline's and all cores."""
    from concurrent.futures import ProcessPoolExecutor

    from core.embedding.image_inputs import ImagePreprocessor
    from core.embedding.preprocess import numpy_preprocessor
    from core.indexing.pipeline import _worker_init, default_workers, prepare

    pre = numpy_preprocessor(args.model_folder) or ImagePreprocessor(args.model_folder)
    target = pre.height if hasattr(pre, "height") else 224
    out = {}
    for label, workers in (("pipeline_workers", args.workers or default_workers()), ("all_cores", os.cpu_count())):
        with ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), _worker_init) as pool:
            list(pool.map(prepare, range(workers), [str(paths[0])] * workers, [target] * workers,
                          [pre] * workers))  # warm-up: workers started and imports done
            started = time.perf_counter()
            done = list(pool.map(prepare, range(len(paths)), map(str, paths), [target] * len(paths),
                                 [pre] * len(paths)))
            seconds = time.perf_counter() - started
        assert all(p.error is None for p in done), [p.error for p in done if p.error]
        out[label] = {"workers": workers, "images_per_s": len(paths) / seconds}
    return out


def phase_nvjpeg(args: argparse.Namespace, paths: list[Path]) -> dict:
    """GPU JPEG decoding alone (torchvision + nvJPEG), batches of 64 files read on this thread; for
    comparison with the CPU decode ceiling. Not used by the product (yet)."""
    import torch
    from torchvision.io import decode_jpeg

    datas = [torch.frombuffer(bytearray(p.read_bytes()), dtype=torch.uint8) for p in paths[:512]]
    decode_jpeg(datas[:8], device="cuda")
    torch.cuda.synchronize()
    started = time.perf_counter()
    for start in range(0, len(datas), 64):
        images = decode_jpeg(datas[start : start + 64], device="cuda")
        small = [torch.nn.functional.interpolate(im[None].float(), size=(224, 224), mode="bilinear",
                                                 antialias=True) for im in images]
        del images, small
    torch.cuda.synchronize()
    return {"images_per_s": len(datas) / (time.perf_counter() - started), "note": "files already in memory"}


PHASES = {"reference": phase_reference, "model": phase_model, "lookalike": phase_lookalike,
          "decode": phase_decode, "nvjpeg": phase_nvjpeg}


def _own_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_phase(args: argparse.Namespace, name: str, extra: Sequence[str] = ()) -> dict:
    """Run one phase in a child; poll the RSS of it and its workers (the tree's peak, summed)."""

    argv = [sys.executable, __file__, "--phase", name, *sys.argv[1:], *extra]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    peak = [0.0]
    threading.Thread(target=_poll_rss, args=(child.pid, peak), daemon=True).start()
    stdout, _ = child.communicate()
    if child.returncode != 0:  # recorded, so the other phases' numbers still come out
        print(f"{name}: FAILED with status {child.returncode}", file=sys.stderr)
        return {"error": f"exit status {child.returncode}"}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_tree_rss_mb"] = peak[0]
    print(f"{name}: {json.dumps(result)}", file=sys.stderr)
    return result


def _poll_rss(pid: int, peak: list[float]) -> None:
    import psutil

    try:
        proc = psutil.Process(pid)
        while proc.is_running():
            total = 0
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            peak[0] = max(peak[0], total / 2**20)
            time.sleep(0.05)
    except psutil.Error:
        return


def summarise(n: int, results: dict) -> dict:
    if not all("error" not in results.get(name, {"error": 1}) for name in ("decode", "model", "lookalike")):
        return {}
    ref, mine = results.get("reference"), results["lookalike"]
    ref = None if ref is None or "error" in ref else ref
    decode = results["decode"]["pipeline_workers"]["images_per_s"]
    model = results["model"]["images_per_s"]
    slower = min(decode, model)
    summary = {
        "photos": n,
        "cpu_count": os.cpu_count(),
        "reference_images_per_s": ref and ref["images_per_s"],
        "lookalike_images_per_s": mine["images_per_s"],
        "speedup": ref and mine["images_per_s"] / ref["images_per_s"],
        "decode_ceiling_images_per_s": decode,
        "decode_all_cores_images_per_s": results["decode"]["all_cores"]["images_per_s"],
        "model_ceiling_images_per_s": model,
        "bottleneck": "decode" if decode < model else "model",
        "efficiency_vs_slower_stage": mine["images_per_s"] / slower,
        **_shared_core_bound(results, mine["images_per_s"]),
        "precision": results["model"]["precision"],
        "precision_check_s": mine.get("check_s"),
        "precision_check": mine.get("check"),
        "cosine_to_fp32_min": results["model"].get("cosine_min"),
        "lookalike_peak_rss_mb": mine["peak_tree_rss_mb"],
        "lookalike_load_s": mine.get("load_s"),
        "reference_load_s": ref and ref["load_s"],
    }
    return summary


def _shared_core_bound(results: dict, rate: float) -> dict:
    """On a CPU both stages need the same cores: each photo costs 1/model-rate of the machine to embed
    plus 1/decode-rate-on-all-cores to decode, which bounds any pipeline at 1 / (sum of the two)."""
    if results["model"]["device"] != "cpu":
        return {}
    bound = 1 / (1 / results["model"]["images_per_s"] + 1 / results["decode"]["all_cores"]["images_per_s"])
    return {"shared_core_bound_images_per_s": bound, "efficiency_vs_shared_core_bound": rate / bound}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--photo-dir", type=Path, default=None, help="cache of generated JPEGs")
    parser.add_argument("--unique", type=int, default=64, help="distinct pictures; the rest are tagged copies")
    parser.add_argument("--reference-photos", type=int, default=None,
                        help="time the (slow) reference on the first R photos only (default: all)")
    parser.add_argument("--model-folder", default=str(BENCH_DIR / "siglip2-b16-224-random"))
    parser.add_argument("--precision", default=None, help="default: what the library's precision check chooses")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=None, help="decode workers (default: cores - 1)")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--phases", nargs="+", default=None, help="subset/order of: " + " ".join(PHASES))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.photo_dir or BENCH_DIR / f"photos-{args.photos}"  # `lookalike index` takes the whole folder
    if args.phase:
        paths = sorted(folder.glob("photo_*.jpg"))[: args.photos]
        print(json.dumps(PHASES[args.phase](args, paths)))
        return
    paths = photo_paths(folder, args.photos, min(args.photos, args.unique))
    ensure_model(Path(args.model_folder))
    # lookalike before model: without --precision the model phase measures what the precision check chose.
    names = args.phases or ["decode", *([] if args.skip_reference else ["reference"]), "lookalike", "model"]
    results: dict[str, dict] = {}
    for name in names:
        chosen = results.get("lookalike", {}).get("precision")
        extra = ["--precision", chosen] if name == "model" and not args.precision and chosen else []
        results[name] = run_phase(args, name, extra)
        report = {"summary": summarise(len(paths), results), "phases": results}
        if args.json:  # after every phase: a run cut short still leaves what it measured
            args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
