"""The precision check on the full-size SigLIP 2 B/16-224 architecture: what it costs, what it chooses, and
what outlier-aware int8 recovers.

    .venv/bin/python benchmarks/precision_check.py [--model-folder F] [--photos DIR] [--device cpu] [--json OUT]

Three checks, each as a library runs it (core.embedding.precision_check, 32-image sample):
1. the random-weight model with this machine's candidates (bf16 only where the CPU has it natively);
2. the same model as a CPU without native bf16 sees it (int8 the only candidate): int8 must pass and be
   chosen (exit status 1 otherwise): this is "a model on which int8 passes gets int8";
3. a copy given activation outliers (tests.tinymodels.add_activation_outliers: one LayerNorm channel x50
   per layer, the q/k/v weights divided to match, so fp32 computes the same function): plain int8's cosine,
   and int8-mixed's cosine and speed.
RANDOM weights (no hub here): speeds are the real model's; closeness says nothing about the released weights,
which is why the product checks on the user's machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.embedding.calibration import SAMPLE_SIZE, generated_images  # noqa: E402
from core.embedding.device import check_candidates  # noqa: E402
from core.embedding.embedder import load_embedder  # noqa: E402
from core.embedding.precision_check import check_precisions  # noqa: E402
from tests.tinymodels import add_activation_outliers, write_tokenizer  # noqa: E402

BENCH_DIR = Path(tempfile.gettempdir()) / "lookalike-bench"


def ensure_models(folder: Path) -> Path:
    """The random B/16 (built by embed_speed.py when missing), with a tokenizer; returns its outlier copy."""
    if not (folder / "config.json").exists():
        import subprocess

        subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks/embed_speed.py"), "--build-only", str(folder)],
                       check=True)
    if not (folder / "tokenizer.json").exists():
        write_tokenizer(folder)
    outliers = folder.with_name(folder.name + "-outliers")
    if not (outliers / "model.safetensors").exists():
        shutil.copytree(folder, outliers, dirs_exist_ok=True)
        add_activation_outliers(outliers)
    return outliers


def sample_from(photos: Path | None):  # type: ignore[no-untyped-def]
    def sample(image_size: int) -> list:
        from core.imaging.decode import open_image

        paths = sorted(photos.glob("*.jpg"))[:SAMPLE_SIZE] if photos else []
        own = [open_image(p, target=image_size) for p in paths]
        return own + generated_images(SAMPLE_SIZE - len(own))

    return sample


def run(folder: Path, device: str, candidates: tuple[str, ...], photos: Path | None) -> dict:
    started = time.perf_counter()
    checks, chosen = check_precisions(
        lambda precision, keep: load_embedder(str(folder), device, precision, keep_float=tuple(keep)),
        sample_from(photos), candidates,
    )
    out = {"model": folder.name, "candidates": list(candidates), "chosen": chosen,
           "seconds": round(time.perf_counter() - started, 1),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "checks": [{k: v for k, v in c.to_json().items() if k != "keep_float"} | {"kept_float": len(c.keep_float)}
                      for c in checks]}
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-folder", type=Path, default=BENCH_DIR / "siglip2-b16-224-random")
    parser.add_argument("--photos", type=Path, default=None, help="JPEGs for the sample (default: generated)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    outliers = ensure_models(args.model_folder)
    here = check_candidates(args.device)
    results = [
        run(args.model_folder, args.device, here, args.photos),
        run(args.model_folder, args.device, tuple(c for c in here if c != "bf16"), args.photos),
        run(outliers, args.device, here, args.photos),
    ]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if "int8" in here and results[1]["chosen"] != "int8":
        sys.exit("int8 passes on the random full-size model but was not chosen without bf16")


if __name__ == "__main__":
    main()
