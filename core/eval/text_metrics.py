"""Text-to-image metrics for a labelled set: each class's name is a text query, and the model's own match
threshold checked against the user's labels.

Definitions:
- A class's text query is its name with underscores as spaces ("golden_retriever" -> "golden retriever").
- Each text query ranks EVERY image by cosine (best first, ties in input order); an image is relevant when
  it belongs to that class. mAP, precision@k and recall@10 are then as in core.eval.metrics, averaged
  over the classes.
- The threshold check: for every (class, image) pair, the model calls it a match when its own probability
  sigmoid(scale * cosine + bias) (Embedder.match_calibration) reaches MATCH_THRESHOLD, the cut a text
  search in the app uses. Precision = right matches / pairs called a match (None when none is);
  recall = right matches / images (each image belongs to exactly one class). Counted over all pairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.eval.metrics import from_relevance, label_codes
from core.library.searching import MATCH_THRESHOLD

TEXT_PRECISION_KS = (1, 5)


@dataclass(frozen=True)
class TextMetrics:
    mAP: float  # noqa: N815 - the standard name
    precision: dict[int, float]  # k -> mean precision@k over the classes
    recall_at_10: float
    classes: int
    calibration: tuple[float, float]  # the model's (scale, bias)
    match_precision: float | None  # None: the model called no pair a match
    match_recall: float
    matches: int  # (class, image) pairs the model called a match

    def numbers(self) -> dict[str, float | None]:
        """The metrics by their JSON names."""
        return {
            "mAP": self.mAP,
            **{f"precision@{k}": v for k, v in self.precision.items()},
            "recall@10": self.recall_at_10,
            "match_precision": self.match_precision,
            "match_recall": self.match_recall,
        }

    def as_dict(self) -> dict[str, object]:
        """The JSON summary's "text" object."""
        scale, bias = self.calibration
        rounded = {name: None if v is None else round(v, 6) for name, v in self.numbers().items()}
        return {
            **rounded,
            "classes": self.classes,
            "matches": self.matches,
            "match_threshold": MATCH_THRESHOLD,
            "calibration": {"scale": scale, "bias": bias},
        }


def class_query(label: str) -> str:
    """The text a class folder's name asks for: "golden_retriever" and "golden retriever" alike."""
    return re.sub(r"\s+", " ", label.replace("_", " ")).strip() or label


def match_probability(cosines: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    """The model's probability that a text and an image match (core.library.searching._match, vectorised)."""
    scale, bias = calibration
    return 1.0 / (1.0 + np.exp(-(scale * np.asarray(cosines, np.float64) + bias)))


def text_metrics(
    texts: np.ndarray, classes: Sequence[str], images: np.ndarray, labels: Sequence[str],
    calibration: tuple[float, float],
) -> TextMetrics:
    """`texts[c]` (L2-normalised) is the query of `classes[c]`; `images` (L2-normalised) carry `labels`."""
    if len(texts) != len(classes) or len(images) != len(labels):
        raise ValueError("each text needs its class and each image its label")
    codes = label_codes([*classes, *labels])
    class_codes, image_codes = codes[: len(classes)], codes[len(classes) :]
    cosines = _unit(texts) @ _unit(images).T  # classes x images
    right = image_codes[None, :] == class_codes[:, None]
    order = np.argsort(-cosines.astype(np.float64), axis=1, kind="stable")
    ranked = from_relevance(np.take_along_axis(right, order, axis=1)).summary()
    called = match_probability(cosines, calibration) >= MATCH_THRESHOLD
    true_matches = int((called & right).sum())
    return TextMetrics(
        mAP=ranked.mAP,
        precision={k: ranked.precision[k] for k in TEXT_PRECISION_KS},
        recall_at_10=ranked.recall_at_10,
        classes=len(classes),
        calibration=calibration,
        match_precision=true_matches / int(called.sum()) if called.any() else None,
        match_recall=true_matches / max(int(right.sum()), 1),
        matches=int(called.sum()),
    )


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)
