"""The model's image inputs made by the checkpoint's own Hugging Face image processor, and their batching.

Two ways turn a photo into pixel arrays. This module holds the general one: transformers'
`AutoImageProcessor` read from the checkpoint (fixed resolution and NaFlex alike), loaded once per process
and wrapped in the picklable `ImagePreprocessor` that decode workers call; `stack_preprocessed` batches
either way's output for the model, and `decode_size` tells imageio how far it may shrink a photo first.
`core.embedding.preprocess` holds the other: a numpy-only copy of the fixed-resolution processor, which
spares each worker process the transformers import. transformers is imported inside functions only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from core.errors import ModelError

# The only inputs the image towers take; processors may return more (e.g. image sizes) that they reject.
IMAGE_INPUTS = ("pixel_values", "pixel_attention_mask", "spatial_shapes")


@dataclass(frozen=True)
class ImagePreprocessor:
    """Picklable: PIL image -> the checkpoint's own preprocessing, as numpy arrays WITHOUT a batch dim.

    Fixed resolution ("siglip"): {"pixel_values": float32 (3, H, W)}.
    NaFlex ("siglip2"): {"pixel_values": float32 (max_num_patches, patch*patch*3),
                         "pixel_attention_mask": int32 (max_num_patches,), "spatial_shapes": int64 (2,)}.
    Holds only the model folder; the Hugging Face processor is loaded on first use, once per process.
    """

    folder: str

    def __call__(self, image: Image.Image) -> dict[str, np.ndarray]:
        batch = image_processor(self.folder)(images=[rgb(image)], return_tensors="np")
        return {key: np.asarray(batch[key])[0] for key in IMAGE_INPUTS if key in batch}


def stack_preprocessed(items: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack per-image arrays into a batch, zero-padding the patch axis to the longest item.

    NaFlex processors already pad every image to max_num_patches, so padding is a no-op for items from
    one processor; it keeps mixed patch budgets correct (padding rows are masked out by the zero mask).
    """
    if not items:
        raise ValueError("no preprocessed images to stack")
    batch: dict[str, np.ndarray] = {}
    for key in items[0]:
        arrays = [np.asarray(item[key]) for item in items]
        if key in ("pixel_values", "pixel_attention_mask"):
            arrays = _pad_first_axis(arrays)
        try:
            batch[key] = np.stack(arrays)
        except ValueError as error:
            raise ValueError(f"preprocessed {key!r} arrays of different shapes cannot be batched") from error
    return batch


def _pad_first_axis(arrays: list[np.ndarray]) -> list[np.ndarray]:
    longest = max(a.shape[0] for a in arrays)
    return [
        a if a.shape[0] == longest else np.pad(a, [(0, longest - a.shape[0])] + [(0, 0)] * (a.ndim - 1))
        for a in arrays
    ]


def decode_size(processor: Any) -> int:
    """The shorter side imageio's fast path should shrink photos to, so the processor only ever shrinks.

    Fixed resolution: the processor's target size (224 for B/16-224); it squashes to that square.
    NaFlex: the processor keeps aspect ratio and picks h x w (multiples of the patch) with
    (h/p)*(w/p) <= max_num_patches; the shorter side is then at most p*sqrt(max_num_patches) (a square
    image reaches it: 16*16 = 256 for 256 patches), and the longer side at most that times the aspect ratio,
    so a photo pre-shrunk to that shorter side is never upscaled by the processor.
    """
    max_patches = getattr(processor, "max_num_patches", None)
    patch = getattr(processor, "patch_size", None)
    if max_patches and patch:
        return int(patch) * (math.isqrt(int(max_patches) - 1) + 1)  # patch * ceil(sqrt(max_patches))
    size = processor.size
    for name in ("shortest_edge", "height"):
        value = size.get(name) if isinstance(size, dict) else getattr(size, name, None)
        if value:
            return int(value)
    raise ModelError(f"cannot tell the input size of image processor {type(processor).__name__}")


_PROCESSORS: dict[str, Any] = {}
_PROCESSORS_LOCK = threading.Lock()


def image_processor(folder: str) -> Any:
    """The checkpoint's own image processor (size, resample, mean/std from its config), once per process.

    Kept for the life of the process: it holds a few numbers, not weights, so unloading the model (which
    core.embedding.model_slot decides) has no reason to drop it."""
    with _PROCESSORS_LOCK:
        if folder not in _PROCESSORS:
            from core.embedding.loading import transformers_module

            try:
                _PROCESSORS[folder] = transformers_module().AutoImageProcessor.from_pretrained(
                    folder, local_files_only=True, trust_remote_code=False
                )
            except (OSError, ValueError) as error:
                raise ModelError(f"The image processor in {folder} cannot be loaded: {error}") from error
        return _PROCESSORS[folder]


def rgb(image: Image.Image) -> Image.Image:
    # imageio already returns RGB; other callers may pass L or RGBA, which processors treat as 1 or 4 channels.
    return image if image.mode == "RGB" else image.convert("RGB")
