"""`ComposedQuery`: what the user is searching for, as the app builds it up: example photos ("find
look-alikes", "Add to the query"), photos to avoid ("Not like this") and a text ("this one, but at
night"). Qt-free; `search_query` turns it into the core's `SearchQuery`."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.library.filters import PhotoFilter
    from core.library.searching import SearchQuery

@dataclass(frozen=True)
class ComposedQuery:
    images: tuple[str | bytes, ...] = ()
    avoid: tuple[str | bytes, ...] = ()
    text: str | None = None

    @property
    def empty(self) -> bool:
        return not self.images and not self.text

    @property
    def text_only(self) -> bool:
        """A text alone: the model's match probability cuts its results (core.library.searching)."""
        return bool(self.text) and not self.images

    def adding(self, image: str | bytes) -> ComposedQuery:
        if image in self.images:
            return self
        return replace(self, images=(*self.images, image), avoid=tuple(a for a in self.avoid if a != image))

    def avoiding(self, image: str | bytes) -> ComposedQuery:
        if image in self.avoid:
            return self
        return replace(self, avoid=(*self.avoid, image), images=tuple(i for i in self.images if i != image))

    def with_text(self, text: str) -> ComposedQuery:
        """Typing a text keeps the example photos: "this one, but at night"."""
        return replace(self, text=text.strip() or None)

    def describe(self) -> str:
        """In words, for the query line and the results' title."""
        parts = []
        if self.images:
            parts.append("like " + ", ".join(_name(i) for i in self.images))
        if self.text:
            parts.append(f"“{self.text}”")
        words = " + ".join(parts) or "nothing yet"
        if self.avoid:
            words += "; not like " + ", ".join(_name(i) for i in self.avoid)
        return words

    def search_query(self, k: int, filters: PhotoFilter, sort: str, min_score: float | None) -> SearchQuery:
        from core.library.searching import SearchQuery

        return SearchQuery(images=self.images, not_images=self.avoid, text=self.text, k=k, filters=filters,
                           sort=sort, min_score=min_score)


def _name(image: str | bytes) -> str:
    return "the pasted image" if isinstance(image, bytes) else os.path.basename(image)
