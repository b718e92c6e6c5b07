"""Embedding speed and reduced-precision closeness on the full-size SigLIP 2 B/16-224 architecture.

The hub is out of reach here, so the weights are RANDOM: speed is the real model's, closeness is only
indicative (trained weights have activation outliers that random ones lack). The model is saved to a
temp folder and loaded through `load_embedder`, so the real loading path is what gets timed.

    .venv/bin/python benchmarks/embed_speed.py [--device cpu] [--batches 1 8 32] [--images 32] [--folder DIR]

Per precision it prints the load time and peak RSS, `embed_images` images/s per batch size (decoded
photos already shrunk as imageio's fast path gives them, so the HF processor's time is included), the
model-only rate through `embed_preprocessed`, and the cosine of each reduced precision to fp32.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.embedding import device as devices  # noqa: E402
from core.embedding.embedder import Embedder, load_embedder  # noqa: E402
from tests.imagegen import photo_like  # noqa: E402

# google/siglip2-base-patch16-224's sizes.
BASE_224 = {
    "text_config": {
        "vocab_size": 256_000,
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "max_position_embeddings": 64,
    },
    "vision_config": {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "patch_size": 16,
        "image_size": 224,
    },
}
PREPROCESSOR = (
    '{"image_processor_type": "SiglipImageProcessor", "do_resize": true, "size": {"height": 224, '
    '"width": 224}, "resample": 2, "do_rescale": true, "rescale_factor": 0.00392156862745098, '
    '"do_normalize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}'
)


def build(folder: Path) -> None:
    """Random-weight B/16-224 saved like a hub snapshot (run in a child so its memory is not counted)."""
    import torch
    from transformers import SiglipConfig, SiglipModel

    torch.manual_seed(0)
    SiglipModel(SiglipConfig(**BASE_224)).eval().save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(PREPROCESSOR, encoding="utf-8")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed_load(folder: Path, device: str, precision: str) -> tuple[Embedder, float]:
    started = time.perf_counter()
    embedder = load_embedder(str(folder), device=device, precision=precision)
    return embedder, time.perf_counter() - started


def images_per_second(embed: Callable[[list], object], items: list, batch: int, repeats: int) -> float:
    embed(items[:batch])  # warm-up: first calls allocate and pick kernels
    started = time.perf_counter()
    for _ in range(repeats):
        embed(items[:batch])
        _sync()
    return batch * repeats / (time.perf_counter() - started)


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--precisions", nargs="+", help="default: fp32 and every reduced one offered (one per process for RSS)"
    )
    parser.add_argument("--images", type=int, default=32, help="photo-like images for the closeness check")
    parser.add_argument("--folder", type=Path, help="reuse a model folder built by an earlier run")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.build_only)
        return

    import torch

    with tempfile.TemporaryDirectory(prefix="embed-speed-") as tmp:
        folder = args.folder or Path(tmp) / "siglip2-b16-224-random"
        if not (folder / "config.json").exists():
            started = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--build-only", str(folder)], check=True)
            print(f"built and saved random B/16-224 in {time.perf_counter() - started:.1f} s")
        device = devices.pick_device(args.device)
        print(f"device: {device}; torch threads: {torch.get_num_threads()}")
        run(folder, device, args.batches, args.images, args.precisions)


def run(folder: Path, device: str, batch_sizes: list[int], n_images: int, chosen: list[str] | None) -> None:
    # Pre-shrunk like imageio's fast path gives them (shorter side = the model's image_size).
    images = [photo_like(seed, (298, 224)) for seed in range(max(n_images, *batch_sizes))]
    precisions = ["fp32", *(p for p in ("bf16", "fp16", "int8") if p in devices.allowed_precisions(device))]
    print(f"precisions offered on {device}: {', '.join(precisions)}")
    precisions = chosen or precisions
    reference: np.ndarray | None = None
    for precision in precisions:
        rss_before = peak_rss_mb()
        embedder, seconds = timed_load(folder, device, precision)
        print(
            f"\n[{precision}] load {seconds:.1f} s; peak RSS {peak_rss_mb():.0f} MB "
            f"(was {rss_before:.0f} MB before this load)"
        )
        items = [embedder.preprocessor()(image) for image in images]
        for batch in batch_sizes:
            repeats = 3 if batch == 1 else 2 if batch <= 8 else 1
            embedder.batch_size = embedder.forward_size = batch
            rate = images_per_second(embedder.embed_images, images, batch, repeats)
            model_only = images_per_second(embedder.embed_preprocessed, items, batch, repeats)
            print(f"  batch {batch:>3}: {rate:6.1f} images/s ({model_only:6.1f} model only)")
        embedder.batch_size = devices.BATCH_SIZES[device]
        embedder.forward_size = devices.forward_size(device, embedder.precision)
        vectors = embedder.embed_images(images[:n_images])
        # Weights are memory-mapped and paged in on first use, so the peak shows only after embedding.
        print(f"  peak RSS after embedding: {peak_rss_mb():.0f} MB")
        if reference is None:
            reference = vectors
        else:
            cos = np.sum(vectors * reference, axis=1)
            print(f"  cosine to fp32 over {n_images} images: min {cos.min():.5f}, mean {cos.mean():.5f}")
        embedder.unload()
        del embedder


if __name__ == "__main__":
    main()
