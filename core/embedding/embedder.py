"""SigLIP / SigLIP 2 image and text embeddings: `load_embedder(model, device)` -> `Embedder`.

This module runs the model; its neighbours find the files (model_files), read them into torch (loading)
and turn photos into the model's inputs (image_inputs, preprocess). A library's `Embedder` is owned by its
core.embedding.model_slot.ModelSlot, which decides when it is loaded and unloaded.

torch and transformers are imported only inside functions: `import core.embedding.embedder` stays cheap so
the GUI window appears before they load (checked by a test).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from core.embedding import device as devices
from core.embedding import loading
from core.embedding.image_inputs import (
    IMAGE_INPUTS,
    ImagePreprocessor,
    decode_size,
    image_processor,
    rgb,
    stack_preprocessed,
)
from core.embedding.model_files import DownloadProgress, fetch_model
from core.embedding.preprocess import NumpyPreprocessor, numpy_preprocessor
from core.embedding.registry import Family, check_model_folder, resolve_model

T = TypeVar("T")


def load_embedder(
    model: str,
    device: str = "auto",
    precision: str | None = None,
    download_progress: DownloadProgress | None = None,
    keep_float: Sequence[str] = (),
) -> Embedder:
    """Resolve `model`, fetch it if needed (cache first), and load it on `device`.

    Raises ModelError (unknown model, bad folder, load failure) or ModelUnavailableError (not cached and
    the hub cannot be reached). `download_progress` is called on download threads.
    """
    resolved = resolve_model(model)
    folder = fetch_model(resolved, download_progress)
    family = check_model_folder(folder)
    return Embedder(resolved.key, folder, family, device, precision, keep_float)


class Embedder:
    """One loaded model. Thread-safe: up to `lanes` batches run through it at once (see
    core.embedding.device.model_lanes); loading, unloading and tokenising are serialised by a lock.

    Vectors are float32, L2-normalised rows of length `dim`. `unload()` frees the weights; a call made
    afterwards through a reference still held loads them again from the folder (no network). A ModelSlot
    never relies on that: it drops an unloaded Embedder and makes a new one on the next use.
    """

    def __init__(
        self,
        key: str,
        folder: Path,
        family: Family,
        device: str = "auto",
        precision: str | None = None,
        keep_float: Sequence[str] = (),
    ) -> None:
        self.key = key
        self.folder = folder
        self.family = family
        self.device = devices.pick_device(device)
        self.precision = devices.pick_precision(self.device, precision)
        self.keep_float = tuple(keep_float)  # int8-mixed: the layer groups kept float
        self.batch_size = devices.BATCH_SIZES[self.device]  # the pipeline's unit: lanes, commits, progress
        self.forward_size = devices.forward_size(self.device, self.precision)  # images per model call
        self._lock = threading.RLock()
        self._model: Any = None
        self._tokenizer: Any = None
        config = self._model_or_load().config
        self._all_threads = loading.torch_threads()
        self.lanes = devices.model_lanes(self.device, self._all_threads)
        self._calls = threading.BoundedSemaphore(self.lanes)
        self.dim: int = int(config.vision_config.hidden_size)
        # Released checkpoints have 64 text positions; max_length padding must fill exactly all of them.
        self.max_text_length: int = int(config.text_config.max_position_embeddings)
        self.image_size: int = decode_size(image_processor(str(folder)))

    # ---- images -----------------------------------------------------------------------------------------
    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        processor = image_processor(str(self.folder))
        parts = [
            self._run_images(dict(processor(images=[rgb(im) for im in chunk], return_tensors="np")))
            for chunk in _chunks(images, self.forward_size)
        ]
        return self._concat(parts)

    def preprocessor(self) -> ImagePreprocessor | NumpyPreprocessor:
        """For worker processes: the numpy copy of a fixed-resolution processor (no transformers import in
        workers: seconds and ~300 MB each), else the checkpoint's own HF processor (NaFlex)."""
        return numpy_preprocessor(self.folder) or ImagePreprocessor(str(self.folder))

    def embed_preprocessed(self, items: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        """Embed `preprocessor()` outputs (one dict per image, arrays without the batch dimension)."""
        parts = [self._run_images(stack_preprocessed(chunk)) for chunk in _chunks(items, self.forward_size)]
        return self._concat(parts)

    def _run_images(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        model = self._model_or_load()  # a local reference: an unload meanwhile frees it after this batch
        inputs = {k: _to_device(arrays[k], self.device) for k in IMAGE_INPUTS if k in arrays}
        inputs["pixel_values"] = inputs["pixel_values"].to(devices.torch_dtype(self.precision))
        with self._calls, torch.inference_mode():
            return _normalised(model.get_image_features(**inputs))

    # ---- text -------------------------------------------------------------------------------------------
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        # SigLIP 2 was trained on lower-cased text, and the Gemma tokenizer of the fixed-resolution
        # checkpoints does not lower-case by itself ("RED Shoes" would become other tokens).
        lowered = [text.lower() for text in texts]
        return self._concat([self._run_texts(chunk) for chunk in _chunks(lowered, self.batch_size * 4)])

    def _run_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        with self._lock:  # the Rust tokenizer is not safe to call from two threads at once
            model = self._model_or_load()
            # padding="max_length" as in training: the text tower pools the LAST position, so padding=True
            # (to the longest text in the batch) would pool a different token and quietly degrade search.
            encoded = self._tokenizer_or_load()(
                texts,
                padding="max_length",
                max_length=self.max_text_length,
                truncation=True,
                return_tensors="pt",
            )
        # Pass exactly what the checkpoint's tokenizer returns: released ones return no attention mask
        # because the original model attends to its padding.
        inputs = {name: tensor.to(self.device) for name, tensor in encoded.items()}
        with self._calls, torch.inference_mode():
            return _normalised(model.get_text_features(**inputs))

    # ---- lanes: batches run side by side while indexing ---------------------------------------------------
    def start_lane(self) -> None:
        """Call once on each thread that runs batches beside others: it gets its share of torch's threads
        (torch keeps that count per thread)."""
        if self.lanes > 1:
            loading.set_torch_threads(max(1, self._all_threads // self.lanes))

    def end_lanes(self) -> None:
        """After the lanes stop: threads that first use torch later inherit the last count set, so put the
        full count back (a search thread started after indexing must not run on one core)."""
        if self.lanes > 1:
            loading.set_torch_threads(self._all_threads)

    # ---- lifecycle (driven by core.embedding.model_slot) ---------------------------------------------------
    def unload(self) -> None:
        """Free the model and tokenizer (idle unloading)."""
        with self._lock:
            self._model = None
            self._tokenizer = None
        loading.release_memory(self.device)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> Any:
        """The torch model itself (the precision check hooks its layers), loaded if it is not."""
        return self._model_or_load()

    def match_calibration(self) -> tuple[float, float]:
        """SigLIP's own (scale, bias): sigmoid(scale * cosine + bias) is the model's probability that a
        text and an image match, learnt by its sigmoid loss (CLIP has no such calibration)."""
        model = self._model_or_load()
        return float(model.logit_scale.detach().float().exp()), float(model.logit_bias.detach().float())

    def _model_or_load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = loading.load_model(
                    self.folder, self.family, self.device, self.precision, self.keep_float
                )
            return self._model

    def _tokenizer_or_load(self) -> Any:
        # Loaded on the first text query: indexing never needs it.
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = loading.load_tokenizer(self.folder)
            return self._tokenizer

    def _concat(self, parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def __repr__(self) -> str:
        return f"Embedder({self.key!r}, dim={self.dim}, device={self.device!r}, precision={self.precision!r})"


def _to_device(array: np.ndarray, device: str) -> Any:
    """On CUDA: copy from pinned memory without blocking, so the copy overlaps the previous batch's work
    still queued on the GPU (the stream orders it before the model reads it)."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if device != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _normalised(output: Any) -> np.ndarray:
    import torch

    # transformers 5 returns an output object; older versions (and some heads) return the tensor itself.
    features = output if isinstance(output, torch.Tensor) else output.pooler_output
    features = torch.nn.functional.normalize(features.float(), dim=-1)
    return features.cpu().numpy().astype(np.float32, copy=False)


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
