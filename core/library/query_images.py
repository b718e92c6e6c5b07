"""What a user searches with, turned into a query vector: a library photo (by id or path) uses its stored
vector; a file anywhere, image bytes or a PIL image is embedded by the model now.

An image that must be embedded is decoded once before the model loads (`check_readable`): loading takes
seconds, and a query by an unreadable file should fail at once, naming it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from core.errors import LibraryError

if TYPE_CHECKING:
    from PIL.Image import Image

    from core.embedding.model_slot import ModelSlot
    from core.store.database import Photo, Store

ImageSource: TypeAlias = "str | os.PathLike[str] | bytes | int | Image"

# The shorter side the readability check decodes to: JPEG's 1/8 draft and HEIC thumbnails make it cheap,
# and it still reads the whole file. The real decode (at the model's size) follows once the model is up.
CHECK_TARGET = 64


def check_readable(store: Store, model_key: str, slot: ModelSlot, sources: Sequence[ImageSource]) -> None:
    """Raise DecodeError (naming the file) for the first source the model would embed but that cannot be
    decoded, before anything loads the model; nothing to do when it is loaded already."""
    from core.imaging.decode import open_image, open_image_bytes

    if slot.loaded:
        return
    for source in sources:
        if isinstance(source, bytes):
            open_image_bytes(source, target=CHECK_TARGET)
        elif isinstance(source, (str, os.PathLike)) and _stored(store, model_key, source) is None:
            open_image(source, target=CHECK_TARGET)


def query_vector(store: Store, model_key: str, slot: ModelSlot, source: ImageSource) -> tuple[np.ndarray, int | None]:
    """The vector to search with, and the library photo it came from (None for an outside image)."""
    from core.imaging.decode import open_image, open_image_bytes

    photo = library_photo(store, source)
    stored = _stored(store, model_key, source, photo)
    if stored is not None:
        return stored, photo.id if photo else None
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


def _stored(store: Store, model_key: str, source: ImageSource, photo: Photo | None = None) -> np.ndarray | None:
    """The stored vector of the library photo `source` names, if it has one for this model."""
    photo = photo or library_photo(store, source)
    dim = store.model_dim(model_key)
    if photo is None or dim is None:
        return None
    got, vecs = store.vectors_for_photos(model_key, dim, [photo.id])
    return vecs[0] if len(got) else None


def library_photo(store: Store, source: ImageSource) -> Photo | None:
    if isinstance(source, bool):
        return None
    if isinstance(source, int):
        return store.photo(source)
    if isinstance(source, (str, os.PathLike)):
        return store.photo_by_path(os.path.abspath(os.fspath(source)))
    return None
