"""Choosing the torch device, precision and batch size for the embedder. Imports torch inside functions."""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from core.errors import ModelError

DEVICES = ("auto", "cpu", "cuda", "mps")
# int8-mixed: int8 with the layer groups that activation outliers hit kept float (core.embedding.quantization);
# which groups is the precision check's finding, stored in its verdict.
PRECISIONS = ("fp32", "bf16", "fp16", "int8", "int8-mixed")
INT8 = ("int8", "int8-mixed")

# No faster precision is used on a promise: the library measures each candidate against fp32 on the user's
# own model, photos and machine before using it (core.library.precision). An Embedder asked for no
# precision therefore runs fp32, the reference every candidate is measured against.
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
# whole pipeline goes from ~7.6 (one lane, 2 threads) to the rate in docs/models-and-performance.md's performance table.
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
    return 1 if device == "cpu" and precision in INT8 else BATCH_SIZES[device]


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


def available_devices() -> tuple[str, ...]:
    """The devices this computer can run the model on ("cpu" first), for a choice offered to a user.

    Never imports torch (seconds, and a GUI asks at once): once torch is imported anyway, torch itself
    answers; before that, the installed torch's build (its version file says whether it has CUDA or was
    built for Apple silicon) and the machine (an NVIDIA driver, an Apple-silicon Mac) answer."""
    torch = sys.modules.get("torch")
    if torch is not None:
        mps = getattr(torch.backends, "mps", None)
        return ("cpu", *(("cuda",) if torch.cuda.is_available() else ()),
                *(("mps",) if mps is not None and mps.is_available() else ()))
    return ("cpu", *(("cuda",) if _torch_has_cuda() and _nvidia_driver() else ()),
            *(("mps",) if _apple_silicon() else ()))


def _torch_has_cuda() -> bool:
    """Whether the installed torch was built with CUDA: torch/version.py says `cuda = None` when not."""
    spec = importlib.util.find_spec("torch")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            text = (Path(folder) / "version.py").read_text(encoding="utf-8")
        except OSError:
            continue
        line = next((ln for ln in text.splitlines() if ln.startswith("cuda")), "")
        return "None" not in line and "'" in line
    return False


def _nvidia_driver() -> bool:
    if sys.platform.startswith("linux"):
        return Path("/proc/driver/nvidia/version").exists()
    if sys.platform == "win32":
        return shutil.which("nvidia-smi") is not None
    return False


def _apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def requested_precision(explicit: str | None = None) -> str | None:
    """The precision the user asked for (an argument, else LOOKALIKE_PRECISION), or None: let the check choose."""
    requested = explicit or os.environ.get(PRECISION_ENV) or None
    if requested is not None and requested not in PRECISIONS:
        raise ModelError(f"Unknown precision {requested!r}; choose one of {', '.join(PRECISIONS)}.")
    return requested


def pick_precision(device: str, requested: str | None = None) -> str:
    """The precision asked for (argument, else LOOKALIKE_PRECISION), else fp32; refused where the device
    does not offer it."""
    chosen = requested_precision(requested) or "fp32"
    if chosen not in allowed_precisions(device):
        raise ModelError(
            f"Precision {chosen!r} is not offered on {device}; choose one of "
            f"{', '.join(allowed_precisions(device))}."
        )
    return chosen


def allowed_precisions(device: str) -> tuple[str, ...]:
    """What may run on `device`: fp32 and every candidate the precision check measures there."""
    candidates = check_candidates(device)
    return ("fp32", *candidates, *(("int8-mixed",) if "int8" in candidates else ()))


def check_candidates(device: str) -> tuple[str, ...]:
    """The faster-than-fp32 precisions the check measures on `device` (int8-mixed is derived from int8 when
    plain int8 fails). CPU: bf16 only where the CPU has native bf16 (elsewhere it is emulated and slower
    than fp32), int8 where torch has a dynamic-quantization kernel; fp16 matmuls on CPU are slow or
    missing. GPUs: half precision; int8 dynamic quantization is a CPU-only kernel."""
    if device == "cpu":
        return (*(("bf16",) if native_cpu_bf16() else ()), *(("int8",) if _cpu_int8_available() else ()))
    if device == "cuda":
        return ("bf16", "fp16") if _cuda_bf16() else ("fp16",)
    return ("fp16",)


@functools.cache  # the CPU does not change while the process runs; every plan asks
def cpu_features() -> frozenset[str]:
    """The CPU's instruction-set flags that decide low-precision speed (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split()) & _SPEED_FLAGS
    except OSError:
        pass
    return frozenset()


# x86: avx512_bf16 / amx_bf16 are native bf16 matmuls, the vnni and amx_int8 flags speed int8; ARM: bf16
# and i8mm. Recorded in the check's fingerprint: a verdict from another CPU does not carry over.
_SPEED_FLAGS = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8", "avx512_vnni", "avx_vnni",
                          "bf16", "i8mm", "asimddp"})
_NATIVE_BF16 = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def native_cpu_bf16() -> bool:
    if sys.platform == "darwin":  # Apple M2 and later have bf16; M1 emulates it (then slower than fp32)
        return platform.machine() == "arm64" and _sysctl("hw.optional.arm.FEAT_BF16") == "1"
    return bool(cpu_features() & _NATIVE_BF16)


def _sysctl(name: str) -> str:
    try:
        return subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


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
