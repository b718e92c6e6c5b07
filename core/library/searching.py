"""One search, whatever it is made of: example images (several at once), "not like this" examples, a
text, or an image plus a text ("this one, but at night"); narrowed by a filter before ranking; cut where
the model stops considering results matches; sorted by score or by date.

Composition, on L2-normalised vectors: the examples' mean, plus the text (weight TEXT_WEIGHT), minus
NOT_WEIGHT times the "not like this" examples' mean (Rocchio's rule), normalised again. Scores stay
cosines to that query.

Relevance: SigLIP's sigmoid loss makes sigmoid(scale * cosine + bias) (the model's own logit_scale and
logit_bias) its probability that a text and an image match. A text-only search keeps the results whose
probability reaches MATCH_THRESHOLD, and says when it cut some (`more`: "show more" asks again with
min_score -1). Between two photos no such calibration exists: an image search is cut only where the user
sets a minimum score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from core.errors import LibraryError
from core.library.filters import PhotoFilter
from core.library.query_images import ImageSource, check_readable, query_vector
from core.library.records import SearchResult

if TYPE_CHECKING:
    from core.embedding.model_slot import ModelSlot
    from core.library.raw_pairs import Pairs
    from core.store.database import Store
    from core.vectors.index import VectorIndex

MATCH_THRESHOLD = 0.5  # the model finds a match more likely than not
TEXT_WEIGHT = 1.0
NOT_WEIGHT = 0.5
SORTS = ("score", "date")


@dataclass(frozen=True)
class SearchQuery:
    images: tuple[ImageSource, ...] = ()
    not_images: tuple[ImageSource, ...] = ()
    text: str | None = None
    k: int = 20
    filters: PhotoFilter = field(default_factory=PhotoFilter)
    min_score: float | None = None  # cosine; None: the default cut (text: MATCH_THRESHOLD); -1: none
    sort: str = "score"
    exclude_self: bool = True  # leave the example photos themselves out of their results


@dataclass(frozen=True)
class SearchAnswer:
    results: list[SearchResult]
    more: bool = False  # the relevance cut left out results: asking with min_score=-1 shows them
    note: str | None = None  # e.g. why nothing can pass the filter


@dataclass(frozen=True)
class QueryVector:
    vector: np.ndarray
    example_ids: frozenset[int]  # library photos used as examples
    calibration: tuple[float, float] | None  # text-only: (scale, bias) for the match probability


def checked(query: SearchQuery) -> SearchQuery:
    text = (query.text or "").strip() or None
    if not query.images and text is None:
        if query.not_images:
            raise LibraryError("a search needs an example image or a text, not only images to avoid")
        raise LibraryError("the text query is empty")
    if query.k < 1:
        raise LibraryError("the number of results must be at least 1")
    if query.sort not in SORTS:
        raise LibraryError(f"sort must be score or date, not {query.sort!r}")
    return replace(query, text=text)


def compose(store: Store, model_key: str, slot: ModelSlot, query: SearchQuery) -> QueryVector:
    """The one vector `query` searches with."""
    check_readable(store, model_key, slot, (*query.images, *query.not_images))  # before the model loads
    examples = [query_vector(store, model_key, slot, s) for s in query.images]
    avoid = [query_vector(store, model_key, slot, s) for s in query.not_images]
    ids = frozenset(pid for _, pid in examples + avoid if pid is not None)
    parts: list[np.ndarray] = []
    if examples:
        parts.append(_unit(np.mean([_unit(v) for v, _ in examples], axis=0)))
    calibration = None
    if query.text:
        with slot.in_use():
            embedder = slot.get()
            text = _unit(embedder.embed_texts([query.text])[0])
            if not examples:
                calibration = embedder.match_calibration()
        parts.append(TEXT_WEIGHT * text)
    vector = np.sum(parts, axis=0)
    if avoid:
        vector = vector - NOT_WEIGHT * _unit(np.mean([_unit(v) for v, _ in avoid], axis=0))
    return QueryVector(_unit(vector), ids, calibration)


def answer(store: Store, model_key: str, slot: ModelSlot, index: VectorIndex | None, pairs: Pairs,
           passing: PassingIds, query: SearchQuery) -> SearchAnswer:
    """`query` asked of `index` (the model's vectors): the query vector, the photos it may return (pair
    RAWs hidden, the filter's), the nearest, then `finish`."""
    query = checked(query)
    qv = compose(store, model_key, slot, query)
    if index is None:
        return SearchAnswer([])
    exclude = pairs.hidden | (qv.example_ids if query.exclude_self else frozenset())
    allowed = passing.of(query.filters)
    if allowed is not None and allowed.size >= len(index):
        allowed = None  # everything passes: the plain search is the fastest
    hits = index.search(qv.vector, query.k, exclude=exclude, allowed=allowed)
    photos = store.photos_by_ids(pid for pid, _ in hits)
    return finish(hits, photos, pairs.companions, query, qv)


def finish(
    hits: list[tuple[int, float]], photos: dict, companions: dict, query: SearchQuery, qv: QueryVector,
) -> SearchAnswer:
    """Results from ranked hits: the relevance cut, match probabilities, the sort."""
    results = [
        SearchResult(pid, p.path, float(score), p.width, p.height, p.taken_at, companions.get(pid, ()),
                     _match(score, qv.calibration))
        for pid, score in hits
        if (p := photos.get(pid)) is not None
    ]
    kept = _relevant(results, query, qv)
    if query.sort == "date":
        kept.sort(key=lambda r: (r.taken_at is None, -(r.taken_at or 0.0)))
    note = "; ".join(query.filters.notes) or None
    return SearchAnswer(kept, more=len(kept) < len(results), note=note)


def _relevant(results: list[SearchResult], query: SearchQuery, qv: QueryVector) -> list[SearchResult]:
    if query.min_score is not None:
        return [r for r in results if r.score >= query.min_score]
    if qv.calibration is not None:
        return [r for r in results if (r.match or 0.0) >= MATCH_THRESHOLD]
    return results


def _match(score: float, calibration: tuple[float, float] | None) -> float | None:
    if calibration is None:
        return None
    scale, bias = calibration
    return 1.0 / (1.0 + math.exp(-(scale * score + bias)))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


class PassingIds:
    """The ids that pass recent filters, kept until the library changes: a user runs several searches
    under one filter, and reading a million ids from SQLite costs more than the search itself."""

    KEEP = 8

    def __init__(self, store: Store) -> None:
        import threading

        self._store = store
        self._lock = threading.Lock()
        self._known: dict[PhotoFilter, np.ndarray] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._known.clear()

    def of(self, f: PhotoFilter) -> np.ndarray | None:
        """The sorted ids passing `f`; None when nothing is filtered."""
        from core.store.filtering import passing_ids

        if not f.active:
            return None
        with self._lock:
            if f in self._known:
                return self._known[f]
        with self._store.read() as conn:
            ids = passing_ids(conn, f)
        with self._lock:
            if len(self._known) >= self.KEEP:
                self._known.pop(next(iter(self._known)))
            self._known[f] = ids
        return ids
