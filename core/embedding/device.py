"""Choosing the torch device, precision and batch size for the embedder. Imports torch inside functions."""

from __future__ import annotations

import os

from core.errors import ModelError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16", "int8")

# bf16 on CPU roughly doubles throughput, but is only offered where it keeps the vectors close enough to
# fp32 ones that search results stay the same (cosine >= CPU_BF16_MIN_COSINE per image). Measured by
# benchmarks/embed_speed.py on the full-size B/16-224 architecture with RANDOM weights (no hub access
# here), per-image cosine to fp32 over 32 photo-like images: bf16 min 0.99997, mean 0.99997; int8 min
# 0.99972, mean 0.99977. Random weights lack the activation outliers of trained ones, which are what
# usually hurt low precision: re-measure with the released weights before relying on this.
CPU_BF16_MIN_COSINE = 0.99
MEASURED_CPU_BF16_COSINE = 0.99997  # the minimum above
CPU_BF16_OK = MEASURED_CPU_BF16_COSINE >= CPU_BF16_MIN_COSINE

# The CPU default is the fastest precision that keeps every vector within cosine 0.99 of fp32 (the issue's
# bar; vectors made at different precisions then mix harmlessly in one library). B/16-224 at batch 8 on a
# 2-core machine: fp32 ~4.4, bf16 ~8.2, int8 ~12.7 images/s. Re-measured by benchmarks/index_speed.py on
# 12 MP photo-like JPEGs through the real decode path (random weights, same caveat as above): int8 min
# cosine 0.9997 -> int8. Should trained weights fall below the bar, set MEASURED_CPU_INT8_COSINE and the
# default drops to bf16, then fp32.
MEASURED_CPU_INT8_COSINE = 0.9997
CPU_INT8_OK = MEASURED_CPU_INT8_COSINE >= CPU_BF16_MIN_COSINE
PRECISION_ENV = "LOOKALIKE_PRECISION"

# Batches: large enough to keep the device busy, small enough that a cancel or a search query waits little.
# CPU: each B/16-224 batch of 8 takes ~1-2 s, and larger batches gain little there. CUDA (H100, B/16-224,
# bf16, model only): ~3000 images/s from batch 32 up, so 128 leaves headroom for larger models without
# making a batch long. MPS: a middle ground, not measured.
BATCH_SIZES = {"cpu": 8, "mps": 32, "cuda": 128}

# Batches the model runs at once while indexing (threads sharing one model), and torch threads for each.
# CPU: two lanes, each on half the cores. One lane over all cores loses ~25% when a decode worker shares
# them: torch's threads meet at a barrier after every op, so whenever the OS gives the decoder one core the
# model's other thread waits at the barrier. Single-thread lanes have no barrier to wait at. Measured on 2
# cores, B/16-224 int8, batch 8 (benchmarks/index_speed.py): the model alone runs 11.4 img/s either way; the
# whole pipeline goes from ~7.6 (one lane, 2 threads) to the rate in README.md's performance table.
# GPUs take one lane: a GPU runs one batch at a time anyway.
LANES_ENV = "LOOKALIKE_MODEL_LANES"


def model_lanes(device: str, threads: int) -> int:
    """Lanes for `device` where torch has `threads` intra-op threads (LOOKALIKE_MODEL_LANES overrides)."""
    env = os.environ.get(LANES_ENV)
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ModelError(f"{LANES_ENV} must be a whole number, not {env!r}.") from None
    return 2 if device == "cpu" and threads >= 2 else 1


# CPU int8 runs one image per forward pass: dynamic quantization scales activations per pass, so a photo's
# vector then does not depend on which photos were indexed with it, and it is no slower (B/16-224, 2 cores,
# two lanes, 3 interleaved rounds: 13.3 vs 12.6 images/s; pipeline peak memory 1.45 vs 1.7 GB). fp32 and
# bf16 have no such dependency and run whole batches (fp32: 4.5 vs 4.2 images/s at one per pass).
def forward_size(device: str, precision: str) -> int:
    """Images per model call; the batch (BATCH_SIZES) stays the unit of lanes, commits and progress."""
    return 1 if device == "cpu" and precision == "int8" else BATCH_SIZES[device]


def pick_device(requested: str = "auto") -> str:
    """Auto picks CUDA, then Apple MPS, then CPU. An explicit device that is missing is a ModelError."""
    import torch

    if requested not in DEVICES:
        raise ModelError(f"Unknown device {requested!r}; choose one of {', '.join(DEVICES)}.")
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if (requested == "cuda" and not cuda) or (requested == "mps" and not mps):
        raise ModelError(f"Device {requested!r} was asked for but is not available on this computer.")
    return requested


def pick_precision(device: str, requested: str | None = None) -> str:
    """The precision asked for (argument, else LOOKALIKE_PRECISION), else the device's default: half
    precision on a GPU (bf16 where supported), the fastest close-enough one on CPU (`cpu_default`)."""
    requested = requested or os.environ.get(PRECISION_ENV) or None
    if requested is None:
        return _default_precision(device)
    if requested not in PRECISIONS:
        raise ModelError(f"Unknown precision {requested!r}; choose one of {', '.join(PRECISIONS)}.")
    if requested not in allowed_precisions(device):
        raise ModelError(
            f"Precision {requested!r} is not offered on {device}; choose one of "
            f"{', '.join(allowed_precisions(device))}."
        )
    return requested


def allowed_precisions(device: str) -> tuple[str, ...]:
    if device == "cpu":
        # fp16 matmuls on CPU are slow or missing; int8 dynamic quantization is a CPU-only kernel.
        return ("fp32", "bf16", "int8") if CPU_BF16_OK else ("fp32", "int8")
    if device == "cuda":
        return ("fp32", "bf16", "fp16") if _cuda_bf16() else ("fp32", "fp16")
    return ("fp32", "fp16")


def _default_precision(device: str) -> str:
    if device == "cuda":
        return "bf16" if _cuda_bf16() else "fp16"
    if device == "mps":
        return "fp16"
    return cpu_default(_cpu_int8_available())


def cpu_default(int8_available: bool = True) -> str:
    """int8 if it holds the cosine bar (and the kernel exists), else bf16 if it holds, else fp32."""
    if CPU_INT8_OK and int8_available:
        return "int8"
    return "bf16" if CPU_BF16_OK else "fp32"


def _cpu_int8_available() -> bool:
    import torch

    engines = getattr(getattr(torch.backends, "quantized", None), "supported_engines", [])
    quantize = getattr(getattr(torch, "ao", None), "quantization", None)
    return hasattr(quantize, "quantize_dynamic") and any(e in engines for e in ("x86", "fbgemm", "qnnpack"))


def _cuda_bf16() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def torch_dtype(precision: str):  # -> torch.dtype; untyped so this module does not import torch
    """The dtype weights are loaded in; int8 loads fp32 and quantizes afterwards."""
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
