"""What a precision check's verdict is valid for: the model's exact weights, the device, torch and the CPU.

A verdict is reused only where all of these are the same: another revision of the weights, another torch
(new kernels) or another CPU (other instruction sets, so other speeds and other int8 paths) is checked
again. A model from the registry is named by its pinned revision; a local folder has none, so it is named
by a digest of its weights (hashing 1.5 GB takes a few seconds: `weights_signature` lets the caller keep
the digest until a weights file changes).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

from core.embedding import device as devices
from core.embedding.precision_check import CHECK_VERSION


def weights_signature(folder: Path) -> list[list[Any]]:
    """(name, size, mtime_ns) of each weights file: changes whenever a file is replaced or edited."""
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(Path(folder).glob("*.safetensors"))]


def weights_digest(folder: Path) -> str:
    """blake2b of every weights file's bytes, in name order."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(folder).glob("*.safetensors")):
        digest.update(path.name.encode())
        with open(path, "rb") as weights:
            while chunk := weights.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def machine_parts(device: str) -> dict[str, Any]:
    """The device, torch and CPU as they affect a check's outcome; shown to people beside the verdict."""
    import torch

    parts: dict[str, Any] = {
        "device": device,
        "torch": torch.__version__,
        "cpu": _cpu_name(),
        "cpu_features": sorted(devices.cpu_features()),
        "cores": os.cpu_count() or 1,
    }
    if device == "cuda":
        parts["gpu"] = torch.cuda.get_device_name()
    return parts


def fingerprint(model_key: str, weights: str, machine: dict[str, Any]) -> str:
    """A short stable id of (model, its weights' revision or digest, machine parts, check version)."""
    content = {"model": model_key, "weights": weights, "machine": machine, "check": CHECK_VERSION}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


@functools.cache
def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
