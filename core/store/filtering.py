"""Which photos pass a filter, in SQL: the id set a filtered search ranks within, and the library list
(and its order: `BROWSE_DATE`).

The filter arrives as plain values (core.library.filters.PhotoFilter is built above the store); a
photo whose facts are unknown (not read yet) passes no filter that needs them.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from sqlalchemy import Integer, and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from core.store.schema import photos

# The date the library list sorts by, newest first: the date taken when the header's facts are known, else
# the file's modification time, which the scan knows from the start. So a photo without a date (or whose
# facts are not read yet, or that cannot be read) sits among its neighbours in time, never at the end, and
# reading its facts moves it only when the camera's date differs. Python's side is desktop.browse_order;
# `mtime_ns / 1e9` there and here is the same double, and core.imaging.photo_facts stores exactly it as the
# date of a photo without one, so reading such a photo's facts never moves it at all.
BROWSE_DATE = func.coalesce(photos.c.taken_at, photos.c.mtime_ns / 1e9)


class FilterValues(Protocol):
    @property
    def after(self) -> float | None: ...
    @property
    def before(self) -> float | None: ...
    @property
    def folder(self) -> str | None: ...
    @property
    def formats(self) -> tuple[str, ...]: ...
    @property
    def camera(self) -> str | None: ...
    @property
    def orientation(self) -> str | None: ...
    @property
    def min_pixels(self) -> int | None: ...
    @property
    def has_location(self) -> bool: ...


def conditions(f: FilterValues) -> list[ColumnElement[Any]]:
    """The WHERE terms of a filter (all must hold), for readable, online photos."""
    out: list[ColumnElement[Any]] = [photos.c.status == "ok"]
    if f.after is not None:
        out.append(photos.c.taken_at >= f.after)
    if f.before is not None:
        out.append(photos.c.taken_at < f.before)
    if f.folder:
        prefix = f.folder.rstrip("/\\")
        out.append(or_(photos.c.path.like(_escaped(prefix) + "/%", escape="\\"),
                       photos.c.path.like(_escaped(prefix) + "\\%", escape="\\")))
    if f.formats:
        out.append(photos.c.format.in_(f.formats))
    if f.camera:
        name = func.lower(func.coalesce(photos.c.camera_make, "") + " " + func.coalesce(photos.c.camera_model, ""))
        out.append(name.like("%" + _escaped(f.camera.lower()) + "%", escape="\\"))
    if f.orientation:
        w, h = photos.c.width, photos.c.height
        shape = {"landscape": w > h, "portrait": h > w, "square": w == h}[f.orientation]
        out.append(and_(w.is_not(None), h.is_not(None), shape))
    if f.min_pixels:
        out.append(photos.c.width.cast(Integer) * photos.c.height >= f.min_pixels)
    if f.has_location:
        out.append(photos.c.has_gps == 1)
    return out


def passing_ids(conn: Connection, f: FilterValues) -> np.ndarray:
    """The sorted ids of the photos that pass `f`."""
    q = select(photos.c.id).where(*conditions(f)).order_by(photos.c.id)
    return np.fromiter(conn.scalars(q), dtype=np.int64)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
