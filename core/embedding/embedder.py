"""SigLIP / SigLIP 2 image and text embeddings: `load_embedder(model, device)` -> `Embedder`.

torch and transformers are imported only inside functions: `import core.embedding.embedder` stays cheap so the
GUI window appears before they load (checked by a test). Weights are read from safetensors only.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import math
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from core.embedding import device as devices
from core.embedding.preprocess import NumpyPreprocessor, numpy_preprocessor
from core.embedding.registry import Family, ResolvedModel, check_model_folder, resolve_model
from core.errors import ModelError, ModelUnavailableError

DownloadProgress = Callable[[int, int], None]  # (bytes done, bytes total); total grows as files start

# What we fetch from the hub: configs, tokenizer files (tokenizer.json, spiece.model / tokenizer.model are
# data, not code) and safetensors weights. Never pickle (*.bin) or other framework weights.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.model"]

# The only inputs the image towers take; processors may return more (e.g. image sizes) that they reject.
IMAGE_INPUTS = ("pixel_values", "pixel_attention_mask", "spatial_shapes")

T = TypeVar("T")


def load_embedder(
    model: str,
    device: str = "auto",
    precision: str | None = None,
    download_progress: DownloadProgress | None = None,
) -> Embedder:
    """Resolve `model`, fetch it if needed (cache first), and load it on `device`.

    Raises ModelError (unknown model, bad folder, load failure) or ModelUnavailableError (not cached and
    the hub cannot be reached). `download_progress` is called on download threads.
    """
    resolved = resolve_model(model)
    folder = fetch_model(resolved, download_progress)
    family = check_model_folder(folder)
    return Embedder(resolved.key, folder, family, device, precision)


class Embedder:
    """One loaded model. Thread-safe: up to `lanes` batches run through it at once (see
    core.embedding.device.model_lanes); loading, unloading and tokenising are serialised by a lock.

    Vectors are float32, L2-normalised rows of length `dim`. After `unload()` the next call reloads the
    model from its folder (no network), so idle unloading is invisible to callers.
    """

    def __init__(
        self, key: str, folder: Path, family: Family, device: str = "auto", precision: str | None = None
    ) -> None:
        self.key = key
        self.folder = folder
        self.family = family
        self.device = devices.pick_device(device)
        self.precision = devices.pick_precision(self.device, precision)
        self.batch_size = devices.BATCH_SIZES[self.device]  # the pipeline's unit: lanes, commits, progress
        self.forward_size = devices.forward_size(self.device, self.precision)  # images per model call
        self._lock = threading.RLock()
        self._model: Any = None
        self._tokenizer: Any = None
        config = self._model_or_load().config
        self._all_threads = _torch_threads()
        self.lanes = devices.model_lanes(self.device, self._all_threads)
        self._calls = threading.BoundedSemaphore(self.lanes)
        self.dim: int = int(config.vision_config.hidden_size)
        # Released checkpoints have 64 text positions; max_length padding must fill exactly all of them.
        self.max_text_length: int = int(config.text_config.max_position_embeddings)
        self.image_size: int = decode_size(_image_processor(str(folder)))

    # ---- images -----------------------------------------------------------------------------------------
    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        processor = _image_processor(str(self.folder))
        parts = [
            self._run_images(dict(processor(images=[_rgb(im) for im in chunk], return_tensors="np")))
            for chunk in _chunks(images, self.forward_size)
        ]
        return self._concat(parts)

    def preprocessor(self) -> ImagePreprocessor | NumpyPreprocessor:
        """For worker processes: the numpy copy of a fixed-resolution processor (no transformers import in
        workers: seconds and ~300 MB each), else the checkpoint's own HF processor (NaFlex)."""
        return numpy_preprocessor(self.folder) or ImagePreprocessor(str(self.folder))

    def embed_preprocessed(self, items: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        """Embed `ImagePreprocessor` outputs (one dict per image, arrays without the batch dimension)."""
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
            import torch

            torch.set_num_threads(max(1, self._all_threads // self.lanes))

    def end_lanes(self) -> None:
        """After the lanes stop: threads that first use torch later inherit the last count set, so put the
        full count back (a search thread started after indexing must not run on one core)."""
        if self.lanes > 1:
            import torch

            torch.set_num_threads(self._all_threads)

    # ---- lifecycle --------------------------------------------------------------------------------------
    def unload(self) -> None:
        """Free the model and tokenizer (idle unloading); the next embed call loads them again."""
        with self._lock:
            self._model = None
            self._tokenizer = None
        gc.collect()
        _return_freed_memory()
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _model_or_load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _load_model(self.folder, self.family, self.device, self.precision)
            return self._model

    def _tokenizer_or_load(self) -> Any:
        # Loaded on the first text query: indexing never needs it.
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = _load_tokenizer(self.folder)
            return self._tokenizer

    def _concat(self, parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def __repr__(self) -> str:
        return f"Embedder({self.key!r}, dim={self.dim}, device={self.device!r}, precision={self.precision!r})"


# ---- preprocessing (also runs in worker processes) --------------------------------------------------------
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
        batch = _image_processor(self.folder)(images=[_rgb(image)], return_tensors="np")
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


def _image_processor(folder: str) -> Any:
    """The checkpoint's own image processor (size, resample, mean/std from its config), once per process."""
    with _PROCESSORS_LOCK:
        if folder not in _PROCESSORS:
            from transformers import AutoImageProcessor

            try:
                _PROCESSORS[folder] = AutoImageProcessor.from_pretrained(
                    folder, local_files_only=True, trust_remote_code=False
                )
            except (OSError, ValueError) as error:
                raise ModelError(f"The image processor in {folder} cannot be loaded: {error}") from error
        return _PROCESSORS[folder]


def _rgb(image: Image.Image) -> Image.Image:
    # imageio already returns RGB; other callers may pass L or RGBA, which processors treat as 1 or 4 channels.
    return image if image.mode == "RGB" else image.convert("RGB")


# ---- loading ----------------------------------------------------------------------------------------------
_EXPECTED_CLASSES = {"siglip": "SiglipModel", "siglip2": "Siglip2Model"}


def _load_model(folder: Path, family: Family, device: str, precision: str) -> Any:
    import torch
    from transformers import AutoModel

    try:
        # The folder is a snapshot at the pinned revision (or the user's own folder), so no revision here.
        model = AutoModel.from_pretrained(
            str(folder),
            dtype=devices.torch_dtype(precision),
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=True,
        )
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelError(f"The model in {folder} cannot be loaded: {error}") from error
    if type(model).__name__ != _EXPECTED_CLASSES[family]:
        raise ModelError(f"{folder} loaded as {type(model).__name__}, not {_EXPECTED_CLASSES[family]}.")
    model.eval()
    if precision == "int8":
        model = _quantize_int8(model)
    return model.to(torch.device(device))


def _quantize_int8(model: Any) -> Any:
    """Dynamic int8 quantization of the nn.Linear layers (weights int8, activations quantized per batch).

    SigLIP 2 NaFlex's patch embedding is an nn.Linear whose `.weight.dtype` the model reads, which a
    quantized layer lacks: it stays fp32 (one small layer, run once per image)."""
    import torch

    quantize = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantize is None or not hasattr(quantize, "quantize_dynamic"):
        raise ModelError("int8 needs torch.ao.quantization.quantize_dynamic, which this torch lacks.")
    with warnings.catch_warnings():
        # Deprecated in favour of torchao (not a dependency); still present and working in torch 2.13.
        warnings.simplefilter("ignore")
        # inplace: a copy would hold the fp32 and int8 models at once (+1.5 GB peak for B/16).
        layers = {
            name: quantize.default_dynamic_qconfig
            for name, module in model.named_modules()
            # exact type: attention's out_proj subclasses Linear and must stay a float layer
            if type(module) is torch.nn.Linear and not name.endswith("patch_embedding")
        }
        return quantize.quantize_dynamic(model, layers, dtype=torch.qint8, inplace=True)


def _load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError, ImportError, AttributeError) as error:
        # e.g. SigLIP 1's sentencepiece-only tokenizer without the `sentencepiece` package installed.
        raise ModelError(f"The tokenizer in {folder} cannot be loaded: {error}") from error


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _return_freed_memory() -> None:
    """glibc keeps freed heap pages mapped; hand them back so an unloaded model stops counting as resident."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # musl or another libc: nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)


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


# ---- fetching from the hub --------------------------------------------------------------------------------
def fetch_model(resolved: ResolvedModel, progress: DownloadProgress | None = None) -> Path:
    """The folder holding the model: the local folder itself, the hub cache, or a fresh download.

    Downloads resume: the hub keeps partial files (*.incomplete) and continues them on the next try.
    """
    if resolved.spec is None:
        return Path(resolved.source)
    cached = _cached_snapshot(resolved)
    if cached is not None:
        return cached
    return _download(resolved, progress)


def _cached_snapshot(resolved: ResolvedModel) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        folder = Path(
            snapshot_download(
                resolved.source,
                revision=resolved.revision,
                allow_patterns=ALLOW_PATTERNS,
                local_files_only=True,
            )
        )
    except Exception:  # noqa: BLE001 - any cache miss (absent, partial, unreadable) means "download"
        return None
    return folder if _looks_complete(folder) else None


def _looks_complete(folder: Path) -> bool:
    # The hub returns a snapshot folder even when an earlier download stopped half-way (finished files are
    # linked into it one by one), so check that every file the model needs is there.
    required = ["config.json", "preprocessor_config.json"]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            required += sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError):
            return False
    elif not any(folder.glob("*.safetensors")):
        return False
    return all((folder / name).is_file() for name in required)


def _download(resolved: ResolvedModel, progress: DownloadProgress | None) -> Path:
    from huggingface_hub import snapshot_download

    assert resolved.spec is not None
    try:
        folder = snapshot_download(
            resolved.source,
            revision=resolved.revision,
            allow_patterns=ALLOW_PATTERNS,
            tqdm_class=_progress_class(progress) if progress else None,
        )
    except Exception as error:  # noqa: BLE001 - translated into the core's typed errors
        raise _download_error(resolved, error) from error
    return Path(folder)


def _download_error(resolved: ResolvedModel, error: Exception) -> ModelError:
    from huggingface_hub import errors as hub

    spec = resolved.spec
    assert spec is not None
    if isinstance(error, (hub.RepositoryNotFoundError, hub.RevisionNotFoundError, hub.GatedRepoError)):
        return ModelError(f"{spec.repo_id} at revision {spec.revision} is not available on the hub: {error}")
    if _is_network_error(error):
        return ModelUnavailableError(
            f"The model {spec.key} ({spec.repo_id}) is not on this computer yet and cannot be downloaded "
            f"now. To use it, connect to the internet once to download it (~{spec.download_mb:,} MB), "
            "or choose a local model folder with --model /path."
        )
    return ModelError(f"Downloading {spec.repo_id} failed: {error}")


def _is_network_error(error: BaseException) -> bool:
    from huggingface_hub import errors as hub

    offline = (
        hub.LocalEntryNotFoundError,
        hub.OfflineModeIsEnabled,
        hub.HfHubHTTPError,
        ConnectionError,
        TimeoutError,
    )
    incomplete = getattr(hub, "IncompleteSnapshotError", None)  # newer huggingface_hub only
    if isinstance(error, offline) or (incomplete is not None and isinstance(error, incomplete)):
        return True
    # httpx / requests transport errors (the hub client changed between versions): name, not import.
    return type(error).__module__.split(".")[0] in (
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "requests",
        "urllib3",
    )


class _NullFile:
    """Where the download bars draw: we report through the callback, not to the terminal."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _progress_class(callback: DownloadProgress) -> type:
    """A tqdm class for `snapshot_download(tqdm_class=...)` that reports byte progress to `callback`.

    The hub makes several bars from it: a file count ("Fetching N files", not bytes), the bytes written
    to disk (total = sum of file sizes: this is the one reported) and, in newer versions, a network
    transfer bar ("Downloading bytes", total only estimated, skipped).
    """
    from tqdm import tqdm

    class _Reporter(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._reports = kwargs.get("unit") == "B" and not str(kwargs.get("desc", "")).startswith(
                "Downloading bytes"
            )
            kwargs.pop("name", None)  # hub passes it to its own tqdm subclass only; plain tqdm rejects it
            kwargs.update(disable=False, file=_NullFile())  # a disabled tqdm stops counting
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self._reports:
                callback(int(self.n), int(self.total or 0))
            return shown

    return _Reporter
