"""The library list narrowed by a filter: the photos that pass, in the grid's browse order.

The ids that pass come from `PassingIds` (cached until the library changes, shared with searches under
the same filter); the listing keeps the store's order, so the grid needs no sort of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.library.filters import PhotoFilter
    from core.library.searching import PassingIds
    from core.store.database import Photo, Store


def photos_passing(store: Store, model_key: str, passing: PassingIds, f: PhotoFilter) -> list[Photo]:
    """Every listed photo passing `f`, newest first as `Store.list_photos`; all of them without a filter."""
    listed = store.list_photos(model_key)
    ids = passing.of(f)
    if ids is None:
        return listed
    keep = set(ids.tolist())  # a set lookup per row: 100,000 rows filter in ~10 ms
    return [p for p in listed if p.id in keep]
