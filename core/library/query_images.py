"""What a user searches with, turned into a query vector: a library photo (by id or path) uses its stored
vector; a file anywhere, image bytes or a PIL image is embedded by the model now."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from core.errors import LibraryError

if TYPE_CHECKING:
    from PIL.Image import Image

    from core.embedding.model_slot import ModelSlot
    from core.store.database import Photo, Store

ImageSource: TypeAlias = "str | os.PathLike[str] | bytes | int | Image"


def query_vector(store: Store, model_key: str, slot: ModelSlot, source: ImageSource) -> tuple[np.ndarray, int | None]:
    """The vector to search with, and the library photo it came from (None for an outside image)."""
    from core.imaging.decode import open_image, open_image_bytes

    photo = library_photo(store, source)
    dim = store.model_dim(model_key)
    if photo is not None and dim is not None:
        got, vecs = store.vectors_for_photos(model_key, dim, [photo.id])
        if len(got):
            return vecs[0], photo.id
    if isinstance(source, int):
        raise LibraryError(f"photo {source} is not in the library or not indexed yet")
    # Busy from the moment we hold the embedder: an idle unload while the photo decodes would leave
    # this call reloading weights the slot no longer knows about.
    with slot.in_use():
        embedder = slot.get()
        if isinstance(source, bytes):
            image = open_image_bytes(source, target=embedder.image_size)
        elif isinstance(source, (str, os.PathLike)):
            image = open_image(source, target=embedder.image_size)
        else:
            image = source.convert("RGB")
        return embedder.embed_images([image])[0], photo.id if photo else None


def library_photo(store: Store, source: ImageSource) -> Photo | None:
    if isinstance(source, bool):
        return None
    if isinstance(source, int):
        return store.photo(source)
    if isinstance(source, (str, os.PathLike)):
        return store.photo_by_path(os.path.abspath(os.fspath(source)))
    return None
