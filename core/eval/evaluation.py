"""Measuring models on a labelled image set: `lookalike eval`.

A labelled set is a folder with one subfolder per class, or a CSV of `path,label`. Each model embeds every
image (decoded as the library would, through `core.imaging.decode`), then every image queries all the others and
`core.eval.metrics` scores the rankings. Models run one after another and each is unloaded before the
next loads, so only one is ever in memory. Unreadable images are skipped and reported, never fatal.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.embedding.registry import resolve_model
from core.errors import DecodeError, LookalikeError
from core.eval.metrics import RetrievalMetrics, metrics_from_vectors, rank_others
from core.eval.text_metrics import TextMetrics, class_query, text_metrics
from core.imaging.decode import is_supported_name, open_image
from core.tasks.progress import TaskHandle

if TYPE_CHECKING:
    from PIL.Image import Image

    from core.embedding.embedder import Embedder

# Decoding is mostly C code that releases the GIL: a few threads keep one model busy on a laptop.
DECODE_THREADS = 4


class DatasetError(LookalikeError):
    """The labelled set cannot be evaluated (no images, fewer than two classes, a malformed CSV)."""


@dataclass(frozen=True)
class LabelledImage:
    path: str  # absolute
    label: str


@dataclass
class ModelRun:
    """One model's pass over the set: vectors row-aligned with `Evaluation.images`, and its metrics."""

    model: str  # as the user gave it (a registry key or a folder)
    key: str  # the embedder's storage key
    seconds: float  # decoding + embedding, wall clock
    embedded: int
    vectors: np.ndarray
    metrics: RetrievalMetrics | None = None
    class_texts: dict[str, np.ndarray] = field(default_factory=dict)  # class -> its name's text vector
    calibration: tuple[float, float] = (1.0, 0.0)  # the model's match calibration (scale, bias)
    text: TextMetrics | None = None  # each class name as a text query

    @property
    def images_per_s(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0

    def numbers(self) -> dict[str, float]:
        """The metrics and the speed, by their JSON names."""
        assert self.metrics is not None, "metrics are computed once every model has run"
        return {**self.metrics.as_dict(), "images_per_s": self.images_per_s}

    def summary(self) -> dict[str, object]:
        rounded = {name: round(v, 2 if name == "images_per_s" else 6) for name, v in self.numbers().items()}
        text = self.text.as_dict() if self.text is not None else None
        return {"model": self.model, "key": self.key, **rounded, "text": text}


@dataclass
class Evaluation:
    source: str  # the folder or CSV evaluated
    images: list[LabelledImage]  # those every model could read, sorted by path
    runs: list[ModelRun]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    date: datetime = field(default_factory=datetime.now)

    @property
    def labels(self) -> list[str]:
        return [im.label for im in self.images]

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))

    def summary(self) -> dict[str, object]:
        return {
            "models": [run.summary() for run in self.runs],
            "images": len(self.images),
            "classes": len(self.classes),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }

    def top_k(self, run: ModelRun, query: int, k: int = 5) -> list[tuple[int, float]]:
        """(image index, score) of the query's k best matches among the other images."""
        scores = run.vectors[query : query + 1] @ run.vectors.T
        order = rank_others(scores, np.array([query]))[0][:k]
        return [(int(i), float(scores[0, i])) for i in order]


# -- the labelled set ---------------------------------------------------------------------------------
def load_labelled(source: str | os.PathLike[str]) -> list[LabelledImage]:
    """The images of a labelled set, sorted by path (the tie-break order of the metrics).

    `source` is a CSV file of `path,label` rows (header optional; paths relative to the CSV's folder or
    absolute), or a folder: one subfolder per class (images anywhere below it), or else the one CSV in it.
    Images directly in the folder have no class and are ignored. Raises DatasetError.
    """
    root = Path(source).expanduser()
    if root.is_file():
        items = _from_csv(root)
    elif root.is_dir():
        items = _from_class_folders(root)
        csvs = sorted(root.glob("*.csv"))
        if not items and len(csvs) == 1:
            items = _from_csv(csvs[0])
    else:
        raise DatasetError(f"{root} is neither a folder nor a CSV file")
    unique = {item.path: item for item in reversed(items)}  # a path listed twice keeps its first label
    return sorted(unique.values(), key=lambda item: item.path)


def _from_class_folders(root: Path) -> list[LabelledImage]:
    items = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        for folder, dirs, files in os.walk(entry.path, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            items += [
                LabelledImage(os.path.abspath(os.path.join(folder, name)), entry.name)
                for name in sorted(files)
                if is_supported_name(name) and not name.startswith(".")
            ]
    return items


def _from_csv(path: Path) -> list[LabelledImage]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    items = []
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise DatasetError(f"{path}, line {line}: expected `path,label`, got {row!r}")
        if line == 1 and [c.lower() for c in cells] == ["path", "label"]:
            continue  # the optional header
        image = Path(cells[0]).expanduser()
        items.append(LabelledImage(os.path.abspath(path.parent / image), cells[1]))
    return items


def check_labelled(items: Sequence[LabelledImage], source: str) -> None:
    if not items:
        raise DatasetError(f"{source} holds no images: give a folder with one subfolder per class, or a CSV")
    classes = {item.label for item in items}
    if len(classes) < 2:
        raise DatasetError(f"{source} has {len(classes)} class; comparing look-alikes needs at least 2")


# -- running the models -------------------------------------------------------------------------------
def evaluate(
    source: str | os.PathLike[str],
    models: Sequence[str],
    device: str = "auto",
    handle: TaskHandle | None = None,
    precision: str | None = None,
) -> Evaluation:
    """Embed the set with each model in turn and score each on the images all of them could read."""
    from core.embedding.embedder import load_embedder

    handle = handle or TaskHandle()
    for model in models:
        resolve_model(model)  # a typo in the last model fails now, not after the others have run
    items = load_labelled(source)
    check_labelled(items, str(source))
    runs, failed = [], {}
    for model in models:
        embedder = load_embedder(model, device=device, precision=precision)
        try:
            run, failures = embed_all(embedder, model, items, handle)
            classes = sorted({item.label for item in items})
            texts = embedder.embed_texts([class_query(c) for c in classes])
            run.class_texts, run.calibration = dict(zip(classes, texts, strict=True)), embedder.match_calibration()
        finally:
            embedder.unload()  # the next model loads into the memory this one held
        runs.append(run)
        failed.update(failures)
    keep = [i for i, item in enumerate(items) if item.path not in failed]
    images = [items[i] for i in keep]
    check_labelled(images, f"{source} (after skipping unreadable images)")
    for run in runs:
        # Rows of images another model could not read go too, so every model answers the same queries.
        run.vectors = run.vectors[keep]
        run.metrics = metrics_from_vectors(run.vectors, [im.label for im in images])
        run.text = _text_metrics(run, [im.label for im in images])
    skipped = sorted(failed.items())
    return Evaluation(str(source), images, runs, skipped)


def _text_metrics(run: ModelRun, labels: list[str]) -> TextMetrics:
    classes = sorted(set(labels))  # a class whose every image was unreadable asks nothing
    texts = np.stack([run.class_texts[c] for c in classes])
    return text_metrics(texts, classes, run.vectors, labels, run.calibration)


def embed_all(
    embedder: Embedder, model: str, items: Sequence[LabelledImage], handle: TaskHandle
) -> tuple[ModelRun, dict[str, str]]:
    """Decode and embed every image; rows of unreadable ones stay zero. Returns the run and the failures."""
    handle.start(f"embedding {model}", len(items))
    vectors = np.zeros((len(items), embedder.dim), dtype=np.float32)
    failures: dict[str, str] = {}
    embedded = 0
    started = time.perf_counter()
    with ThreadPoolExecutor(DECODE_THREADS) as pool:
        for start in range(0, len(items), embedder.batch_size):
            handle.checkpoint()
            batch = list(range(start, min(start + embedder.batch_size, len(items))))
            good: list[tuple[int, Image]] = []
            decoded = pool.map(lambda i: _decode(items[i].path, embedder.image_size), batch)
            for i, image in zip(batch, decoded, strict=True):
                if isinstance(image, str):
                    failures[items[i].path] = image
                else:
                    good.append((i, image))
            if good:
                vectors[[i for i, _ in good]] = embedder.embed_images([image for _, image in good])
                embedded += len(good)
            handle.advance(len(batch))
    seconds = time.perf_counter() - started
    return ModelRun(model, embedder.key, seconds, embedded, vectors), failures


def _decode(path: str, size: int) -> Image | str:
    """The image, or the reason it cannot be read (a str)."""
    try:
        return open_image(path, target=size)
    except DecodeError as exc:
        return exc.reason
