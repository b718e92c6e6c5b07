"""A numpy-only copy of the fixed-resolution SigLIP image processor, for the decode worker processes.

Why: the Hugging Face processor imports transformers (and torch) in every worker: ~6 s of start-up and
~300 MB resident per worker, which is most of a small run's time and, with 15 workers on a GPU machine,
gigabytes. The fixed-resolution processor is three steps we can do with Pillow and numpy from the
checkpoint's own `preprocessor_config.json`: resize to (height, width) with its resample filter, rescale,
normalise with its mean/std. Parity with the HF processor is tested (tests/core/test_pipeline.py).

Only `SiglipImageProcessor` configs qualify; anything else (NaFlex `Siglip2ImageProcessor`, unknown keys
that change the result) returns None and the caller keeps the HF processor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

_FIXED_TYPES = ("SiglipImageProcessor", "SiglipImageProcessorFast", "SiglipImageProcessorPil")
# Keys that do not change the pixels, or whose value we check below; any other key means "use HF".
_KNOWN_KEYS = {
    "image_processor_type", "processor_class", "do_resize", "size", "resample", "do_rescale",
    "rescale_factor", "do_normalize", "image_mean", "image_std", "do_convert_rgb",
}


@dataclass(frozen=True)
class NumpyPreprocessor:
    """Picklable: PIL image -> {"pixel_values": float32 (3, H, W)}, as the HF processor gives it."""

    height: int
    width: int
    resample: int
    rescale: float | None
    mean: tuple[float, float, float] | None
    std: tuple[float, float, float] | None

    def __call__(self, image: Image.Image) -> dict[str, np.ndarray]:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        if rgb.size != (self.width, self.height):
            rgb = rgb.resize((self.width, self.height), Image.Resampling(self.resample))
        pixels: np.ndarray = np.asarray(rgb, dtype=np.float32)
        if self.rescale is not None:
            pixels = pixels * np.float32(self.rescale)
        if self.mean is not None and self.std is not None:
            pixels = (pixels - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return {"pixel_values": np.ascontiguousarray(pixels.transpose(2, 0, 1))}


def numpy_preprocessor(folder: str | Path) -> NumpyPreprocessor | None:
    """The numpy equivalent of `folder`'s image processor, or None when there is no exact equivalent."""
    try:
        config = json.loads((Path(folder) / "preprocessor_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if config.get("image_processor_type") not in _FIXED_TYPES or set(config) - _KNOWN_KEYS:
        return None
    size = config.get("size") or {}
    if not config.get("do_resize", True) or not isinstance(size, dict) or {"height", "width"} - set(size):
        return None
    rescale = float(config.get("rescale_factor", 1 / 255)) if config.get("do_rescale", True) else None
    normalise = config.get("do_normalize", True)
    return NumpyPreprocessor(
        height=int(size["height"]),
        width=int(size["width"]),
        resample=int(config.get("resample", Image.Resampling.BILINEAR)),
        rescale=rescale,
        mean=tuple(config.get("image_mean", (0.5, 0.5, 0.5))) if normalise else None,  # type: ignore[arg-type]
        std=tuple(config.get("image_std", (0.5, 0.5, 0.5))) if normalise else None,  # type: ignore[arg-type]
    )


# Bumped when Lookalike's decoding changes the pixels a model sees (orientation, colour management,
# transparency, the decode size): vectors made before and after would differ.
DECODE_VERSION = 1


def preprocessing_version(model_folder: Path) -> str:
    """Names how photos become model input: our decode version and the checkpoint's processor config.
    Vectors made elsewhere are imported only where this is the same (core.cluster)."""
    import hashlib

    config = Path(model_folder) / "preprocessor_config.json"
    digest = hashlib.sha256(config.read_bytes()).hexdigest()[:16] if config.exists() else "none"
    return f"decode-{DECODE_VERSION}:processor-{digest}"
