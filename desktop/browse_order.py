"""The grid's browse order, the same as the store's listing, and the list surgery that keeps a sorted
grid in step with a change record. Qt-free."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias, TypeVar

if TYPE_CHECKING:
    from core.library.records import Photo

BrowseKey: TypeAlias = "tuple[float, str]"
T = TypeVar("T")


def browse_key(photo: Photo) -> BrowseKey:
    """The store's browse order (`Store.list_photos`: core.store.filtering.BROWSE_DATE DESC, then path
    ASC): the date taken, else the file's time, so the order holds from the first listing on. Python
    compares str by code point, which is the order SQLite's BINARY collation gives UTF-8."""
    return (-browse_date(photo), photo.path)


def browse_date(photo: Photo) -> float:
    """The date a photo sorts by: taken, else its file's modification time (as SQLite computes it)."""
    return photo.taken_at if photo.taken_at is not None else photo.mtime_ns / 1e9


def is_listed(photo: Photo) -> bool:
    """Whether the grid shows `photo`: as `Store.list_photos`, every photo that is not offline
    (a failed photo stays, so its error can be seen)."""
    return photo.status != "offline"


def cut(items: list[T], rows: list[int]) -> list[T]:
    """`items` without the (ascending) `rows`, copied slice by slice: at C speed, where a loop over
    100,000 rows in Python is not."""
    out: list[T] = []
    start = 0
    for row in rows:
        out += items[start:row]
        start = row + 1
    return out + items[start:]


def splice(items: list[T], points: list[int], extra: list[T]) -> list[T]:
    """`items` with each `extra[i]` inserted before `items[points[i]]` (`points` ascending)."""
    out: list[T] = []
    start = 0
    for point, item in zip(points, extra, strict=True):
        out += items[start:point]
        out.append(item)
        start = point
    return out + items[start:]


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of neighbours."""
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and out[-1][1] == row - 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out
