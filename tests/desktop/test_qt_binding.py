"""The Qt binding itself: releases with bugs that would crash the app are kept out by pyproject's pin."""

from __future__ import annotations

import sys

from desktop.qt import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt


class _Empty(QAbstractListModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return None  # what every view model answers for roles it does not draw


def test_a_model_answering_none_does_not_leak_references_to_none(qapp: object) -> None:
    # PySide6 6.12.0 releases None once per such call: on Python 3.11 the app aborted ("deallocating
    # None") after ~10^5 calls, i.e. after scrolling a large grid. Views call data() constantly.
    model = _Empty()
    index = model.index(0, 0)
    before = sys.getrefcount(None)
    for _ in range(2000):
        index.data(Qt.ItemDataRole.DecorationRole)
    assert sys.getrefcount(None) - before >= 0
