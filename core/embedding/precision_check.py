"""The precision check: is a faster precision as good as fp32 for THIS model, on these photos, on this machine?

Each candidate embeds the calibration sample (and a few text queries) and is compared with fp32:
- min cosine of each image's vector to its fp32 one >= 0.995. Two unit vectors at cosine c lie
  sqrt(2(1-c)) apart: 0.1 at 0.995, a tenth of the gap between a photo and a typical look-alike in
  SigLIP's space, and 0.995 is where ranking changes start to show in the measures below;
- each image's top-10 neighbours within the sample: on average >= 90 % the same as fp32's (a look-alike
  list that keeps 9 of its 10 photos reads as the same list);
- each query's top-5 images: on average >= 80 % the same. Lower than the neighbour bar because text-to-image
  scores of one sample are close together (SigLIP's text cosines span a few hundredths), so near-ties at
  rank 5 swap even at bf16 (0.975 measured on B/16 with bf16 at cosine 0.99997).
Then the fastest precision that passed is chosen; fp32 when none did or none was faster.

When plain int8 fails, the layer groups that activation outliers hit are found on the same sample
(core.embedding.quantization) and "int8-mixed" (int8 elsewhere, those groups float) is checked the same way.
Speed is measured the way indexing runs the model (its lanes, its batch and forward sizes), on the
preprocessed sample, so decoding and preprocessing (the same for every precision) are left out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from core.embedding.calibration import TEXT_QUERIES
from core.embedding.precision_verdict import CandidateCheck
from core.embedding.quantization import int8_errors, outlier_groups, ranked_groups
from core.errors import ModelError
from core.tasks.progress import TaskHandle

if TYPE_CHECKING:
    from core.embedding.embedder import Embedder

CHECK_VERSION = 1  # bump when the thresholds or the measures change: stored verdicts are then re-checked
MIN_COSINE = 0.995
MIN_NEIGHBOUR_OVERLAP = 0.9
MIN_TEXT_AGREEMENT = 0.8
NEIGHBOURS = 10
TEXT_TOP = 5
# int8-mixed tries: the outlier groups first, then twice as many of the worst groups, up to this many tries.
MIXED_TRIES = 3

MakeEmbedder = Callable[[str, Sequence[str]], "Embedder"]  # (precision, layer groups kept float)


@dataclass(frozen=True)
class Measured:
    vectors: np.ndarray
    texts: np.ndarray | None
    images_per_s: float


def check_precisions(
    make: MakeEmbedder,
    sample: Callable[[int], Sequence[Image.Image]],
    candidates: Sequence[str],
    handle: TaskHandle | None = None,
) -> tuple[list[CandidateCheck], str]:
    """Measure fp32 and each candidate on `sample(the model's input size)`; returns every check (fp32
    first) and the choice."""
    handle = handle or TaskHandle()
    handle.start("checking precision", 1 + len(candidates), unit="precisions")
    reference_model = make("fp32", ())
    items = _preprocessed(reference_model, sample(reference_model.image_size))
    reference = _measure(reference_model, items)
    reference_model.unload()
    handle.advance()
    checks = [_compare("fp32", reference, reference)]
    for precision in candidates:
        handle.checkpoint()
        check = _check(make, precision, (), items, reference)
        if precision == "int8" and not check.passed:
            checks.append(check)
            check = _check_mixed(make, items, reference, handle)
        checks.append(check)
        handle.advance()
    return checks, choose(checks)


def choose(checks: Sequence[CandidateCheck]) -> str:
    """The fastest precision that passed (fp32 always does: it is the reference)."""
    passed = [c for c in checks if c.passed]
    return max(passed, key=lambda c: c.images_per_s).precision if passed else "fp32"


def _check(
    make: MakeEmbedder, precision: str, keep_float: Sequence[str], items: list, reference: Measured
) -> CandidateCheck:
    embedder = make(precision, keep_float)
    try:
        return _compare(precision, _measure(embedder, items), reference, keep_float)
    finally:
        embedder.unload()


def _check_mixed(make: MakeEmbedder, items: list, reference: Measured, handle: TaskHandle) -> CandidateCheck:
    """int8 with the outlier-hit layer groups kept float; more groups each try, up to MIXED_TRIES."""
    fp32 = make("fp32", ())
    try:
        errors = int8_errors(fp32.model(), lambda: _embed_images_and_texts(fp32, items[:8]))
    finally:
        fp32.unload()
    ranked = ranked_groups(errors)
    keep = outlier_groups(errors) or ranked[:1]
    check = _check(make, "int8-mixed", tuple(keep), items, reference)
    for _ in range(MIXED_TRIES - 1):
        if check.passed or len(keep) >= len(ranked):
            break
        handle.checkpoint()
        keep = ranked[: 2 * len(keep)]
        check = _check(make, "int8-mixed", tuple(keep), items, reference)
    return check


def _preprocessed(embedder: Embedder, images: Sequence[Image.Image]) -> list:
    preprocess = embedder.preprocessor()
    return [preprocess(image) for image in images]


def _measure(embedder: Embedder, items: list) -> Measured:
    """Vectors of the sample and of the queries, and images/s through the model as indexing runs it."""
    with ThreadPoolExecutor(embedder.lanes, thread_name_prefix="lookalike-check", initializer=embedder.start_lane) as pool:
        list(pool.map(embedder.embed_preprocessed, [items[:1]] * embedder.lanes))  # warm-up: kernels, caches
        started = time.perf_counter()
        batches = [items[i : i + embedder.batch_size] for i in range(0, len(items), embedder.batch_size)]
        vectors = np.concatenate(list(pool.map(embedder.embed_preprocessed, batches)))
        seconds = time.perf_counter() - started
    embedder.end_lanes()
    return Measured(vectors, _texts(embedder), len(items) / max(seconds, 1e-9))


def _embed_images_and_texts(embedder: Embedder, items: list) -> None:
    """Feed both towers, so the int8 error of every linear layer is measured."""
    embedder.embed_preprocessed(items)
    _texts(embedder)


def _texts(embedder: Embedder) -> np.ndarray | None:
    try:
        return embedder.embed_texts(list(TEXT_QUERIES))
    except ModelError:
        return None  # no usable tokenizer: the model cannot answer text queries at any precision


def _compare(
    precision: str, measured: Measured, reference: Measured, keep_float: Sequence[str] = ()
) -> CandidateCheck:
    cosines = np.sum(measured.vectors * reference.vectors, axis=1)
    overlap = neighbour_overlap(reference.vectors, measured.vectors, NEIGHBOURS)
    text = None
    if measured.texts is not None and reference.texts is not None:
        text = top_overlap(reference.texts @ reference.vectors.T, measured.texts @ measured.vectors.T, TEXT_TOP)
    reasons = []
    if cosines.min() < MIN_COSINE:
        reasons.append(f"min similarity {cosines.min():.3f} to full precision is below {MIN_COSINE}")
    if overlap < MIN_NEIGHBOUR_OVERLAP:
        reasons.append(f"look-alike lists agree {overlap:.0%}, below {MIN_NEIGHBOUR_OVERLAP:.0%}")
    if text is not None and text < MIN_TEXT_AGREEMENT:
        reasons.append(f"text results agree {text:.0%}, below {MIN_TEXT_AGREEMENT:.0%}")
    return CandidateCheck(
        precision, round(float(cosines.min()), 5), round(float(cosines.mean()), 5), round(overlap, 4),
        None if text is None else round(text, 4), round(measured.images_per_s, 2), not reasons, "; ".join(reasons),
        tuple(keep_float),
    )


def neighbour_overlap(reference: np.ndarray, measured: np.ndarray, k: int) -> float:
    """Mean share of each image's top-k neighbours (itself excluded) that both sets of vectors agree on."""
    n = len(reference)
    if n < 2:
        return 1.0
    first, second = reference @ reference.T, measured @ measured.T
    np.fill_diagonal(first, -np.inf)
    np.fill_diagonal(second, -np.inf)
    return top_overlap(first, second, min(k, n - 1))


def top_overlap(first: np.ndarray, second: np.ndarray, k: int) -> float:
    """Mean over rows of |top-k of first ∩ top-k of second| / k (ties broken by column, the same way)."""
    k = min(k, first.shape[1])
    if k <= 0:
        return 1.0
    a = np.argsort(-first, axis=1, kind="stable")[:, :k]
    b = np.argsort(-second, axis=1, kind="stable")[:, :k]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))
