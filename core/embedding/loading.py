"""Reading a model folder into torch: weights (safetensors only, never remote code) in the chosen precision,
int8 quantization, device placement, the tokenizer, torch's thread count, and handing memory back.

Stateless functions: the `Embedder` calls them, and core.embedding.model_slot decides when it loads and
unloads, so nothing here keeps a model alive. torch and transformers are imported inside functions.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

from core.embedding import device as devices
from core.embedding.quantization import quantize_int8
from core.embedding.registry import Family
from core.errors import ModelError

_EXPECTED_CLASSES = {"siglip": "SiglipModel", "siglip2": "Siglip2Model"}

# transformers resolves its names lazily, and two threads importing it for the first time at once can see a
# half-initialised module: "cannot import name 'AutoModel' from 'transformers'" (seen when the precision
# check loaded a model while the app's first search loaded another). Every import of it goes through here.
_IMPORT_LOCK = threading.Lock()


def transformers_module() -> Any:
    """transformers with the auto classes we use resolved, imported under a process-wide lock."""
    with _IMPORT_LOCK:
        import transformers

        for name in ("AutoModel", "AutoTokenizer", "AutoImageProcessor"):
            getattr(transformers, name)
        return transformers


def load_model(
    folder: Path, family: Family, device: str, precision: str, keep_float: Collection[str] = ()
) -> Any:
    """The model in `folder`, in `precision`, in eval mode on `device`. int8 is quantized after loading;
    int8-mixed keeps the layer groups `keep_float` names in fp32 (core.embedding.quantization)."""
    import torch

    AutoModel = transformers_module().AutoModel  # noqa: N806 - the class, as transformers names it
    from safetensors import SafetensorError  # a damaged weights file (truncated download, bad disk)

    try:
        # The folder is a snapshot at the pinned revision (or the user's own folder), so no revision here.
        model = AutoModel.from_pretrained(
            str(folder),
            dtype=devices.torch_dtype(precision),
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=True,
        )
    except (OSError, ValueError, RuntimeError, SafetensorError) as error:
        raise ModelError(f"The model in {folder} cannot be loaded: {error}") from error
    if type(model).__name__ != _EXPECTED_CLASSES[family]:
        raise ModelError(f"{folder} loaded as {type(model).__name__}, not {_EXPECTED_CLASSES[family]}.")
    model.eval()
    if precision in devices.INT8:
        model = quantize_int8(model, keep_float if precision == "int8-mixed" else ())
    return model.to(torch.device(device))


def load_tokenizer(folder: Path) -> Any:
    AutoTokenizer = transformers_module().AutoTokenizer  # noqa: N806
    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError, ImportError, AttributeError) as error:
        # e.g. SigLIP 1's sentencepiece-only tokenizer without the `sentencepiece` package installed.
        raise ModelError(f"The tokenizer in {folder} cannot be loaded: {error}") from error


def torch_threads() -> int:
    """torch's intra-op thread count on this thread (lanes split it; core.embedding.device.model_lanes)."""
    import torch

    return int(torch.get_num_threads())


def set_torch_threads(count: int) -> None:
    """For the calling thread and threads that first use torch after it (torch keeps the count per thread)."""
    import torch

    torch.set_num_threads(count)


def release_memory(device: str) -> None:
    """After the last reference to a model is dropped: collect it and hand its memory back to the system."""
    gc.collect()
    _return_freed_memory()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()


def _return_freed_memory() -> None:
    """glibc keeps freed heap pages mapped; hand them back so an unloaded model stops counting as resident."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # musl or another libc: nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)
