"""`DuplicateGroupsModel`: the duplicate groups under review, one row per group, keeper first in each.

A group decided about or cleaned up leaves by its key (`remove_key`), so the rest of the list, and the
row the user is on, stay as they were: nothing is regrouped. A keeper the user chose replaces the
group's row (`set_keeper`). Rows are drawn from the records as they are, so 10,000 groups cost a list.
"""

from __future__ import annotations

from typing import Any

from core.duplicates.records import DuplicateGroup
from desktop.qt import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

GroupRole = Qt.ItemDataRole.UserRole + 1
CHOSEN_BY_YOU = "chosen by you"


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.0f} bytes"


def group_caption(group: DuplicateGroup) -> str:
    return f"{len(group.members)} photos · {size_text(group.reclaimable_bytes)} to reclaim · {group.tier}"


class DuplicateGroupsModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.groups: list[DuplicateGroup] = []

    def set_groups(self, groups: list[DuplicateGroup]) -> None:
        self.beginResetModel()
        self.groups = list(groups)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.groups)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.groups):
            return None
        group = self.groups[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return group_caption(group)
        if role == Qt.ItemDataRole.ToolTipRole:
            return group.keeper.path
        if role == GroupRole:
            return group
        return None

    def group_at(self, row: int) -> DuplicateGroup | None:
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def row_of(self, key: str) -> int:
        return next((i for i, g in enumerate(self.groups) if g.key == key), -1)

    def remove_key(self, key: str) -> int:
        """Drop the group with this key; its former row, or -1 when it was not listed."""
        row = self.row_of(key)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.groups[row]
            self.endRemoveRows()
        return row

    def set_keeper(self, row: int, member_index: int) -> DuplicateGroup | None:
        """Make member `member_index` of the group at `row` its keeper (first); the new group."""
        group = self.group_at(row)
        if group is None or not 0 < member_index < len(group.members):
            return group
        members = list(group.members)
        members.insert(0, members.pop(member_index))
        self.groups[row] = DuplicateGroup(group.tier, tuple(members), (CHOSEN_BY_YOU,))
        self.dataChanged.emit(self.index(row), self.index(row))
        return self.groups[row]
