"""The two stages of `cluster-embed` that run on the cluster's workers, as Ray Data `map_batches` UDFs.

- `prepare_batch` (Ray tasks, one CPU each): hash, decode and preprocess each photo with Lookalike's own
  code (core.indexing.pipeline.prepare), so vectors made on a cluster are the vectors the app makes.
- `EmbedActor` (an actor pool, one model per actor, one GPU each where there are GPUs): the model.

Batches are dicts of numpy columns. Text columns use "" for "none" (hash, error) and the vector column
b"" for a photo that failed: Arrow stores plain strings and bytes more simply than nullable objects.
Nothing here imports ray: Ray calls these; the driver (core.cluster.embed_job) wires them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

Batch = dict[str, np.ndarray]
PIXELS = "in_"  # prefix of the columns holding the model's inputs (pixel_values, for NaFlex more)


def prepare_batch(batch: Batch, target: int, preprocess: Callable[[Any], dict[str, np.ndarray]]) -> Batch:
    """Rows `index`, `read_path` -> `index`, `hash`, `error` and the preprocessed inputs. Never raises for
    a bad photo: its error travels in the row and its inputs are a blank image's (never embedded)."""
    from core.indexing.pipeline import prepare

    indexes = [int(i) for i in batch["index"]]
    done = [prepare(i, str(path), target, preprocess) for i, path in zip(indexes, batch["read_path"], strict=True)]
    blank = None
    inputs: list[dict[str, np.ndarray]] = []
    for p in done:
        if p.pixels is None or p.error is not None:
            blank = blank if blank is not None else preprocess(Image.new("RGB", (target, target)))
            inputs.append(blank)
        else:
            inputs.append(p.pixels)
    out: Batch = {
        "index": np.asarray(indexes, dtype=np.int64),
        "hash": np.asarray([(p.hash or "") if p.error is None else "" for p in done], dtype=object),
        "error": np.asarray([p.error or "" for p in done], dtype=object),
    }
    for name in inputs[0] if inputs else ():
        out[PIXELS + name] = np.stack([item[name] for item in inputs])
    return out


class EmbedActor:
    """One loaded model on one worker (and its GPU, when Ray gave it one). `source` is a registry key
    (loaded from the worker's Hugging Face cache, downloaded there if missing) or a folder every worker
    sees at the same path."""

    def __init__(self, source: str, device: str, precision: str, threads: int, dim: int) -> None:
        from core.embedding.embedder import load_embedder
        from core.embedding.loading import set_torch_threads
        from core.errors import ModelError

        if device == "cpu":
            set_torch_threads(max(1, threads))  # its share of the node: decoding tasks use the rest
        self.embedder = load_embedder(source, device, precision)
        if self.embedder.dim != dim:
            raise ModelError(f"{source} on this worker makes {self.embedder.dim}-d vectors, the driver's {dim}-d")

    def __call__(self, batch: Batch) -> Batch:
        from core.store.database import encode_vector

        good = [i for i, error in enumerate(batch["error"]) if not error]
        names = [c for c in batch if c.startswith(PIXELS)]
        items = [{name[len(PIXELS):]: batch[name][i] for name in names} for i in good]
        vectors = self.embedder.embed_preprocessed(items) if items else np.zeros((0, 0), np.float32)
        blobs = [b""] * len(batch["index"])
        for i, vector in zip(good, vectors, strict=True):
            blobs[i] = encode_vector(vector)
        return {"index": batch["index"], "hash": batch["hash"], "error": batch["error"],
                "vector": np.asarray(blobs, dtype=object)}
