"""`DuplicateCompare`: one duplicate group's members side by side, each with its facts, the values that
differ between members highlighted, the suggested keeper marked with the reason it was chosen.

The member cards are made once and reused from group to group (moving through 10,000 groups must stay
well under 100 ms a step); thumbnails come from the shared `ThumbnailCache`, cameras from EXIF read off
the GUI thread only for the group on screen (`set_cameras`).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from core.duplicates.records import DuplicateGroup, DuplicateMember
from desktop.duplicate_groups_model import size_text
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPalette,
    QPen,
    QScrollArea,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.thumbnail_cache import ThumbnailCache

FIELDS = ("Dimensions", "File size", "Format", "Date taken", "Camera", "Folder")
THUMB = 180  # five cards fit a 1400-pixel window side by side
DIFFERS = QColor(255, 226, 140)  # a value not shared by every member: where to look
KEEPER = QColor(58, 154, 74)


def member_facts(member: DuplicateMember, camera: str | None) -> list[str]:
    """The member's values, in FIELDS order, as shown."""
    dims = f"{member.width} × {member.height}" if member.width and member.height else "unknown"
    taken = datetime.fromtimestamp(member.taken_at).strftime("%Y-%m-%d %H:%M:%S") if member.taken_at else "none"
    return [dims, size_text(member.bytes), member.format, taken, camera or "unknown", member.folder]


def differing_cells(rows: list[list[str]]) -> list[set[int]]:
    """Per member, the fields to highlight: on the keeper (row 0) every field some member differs in,
    on each other member the fields where it differs from the keeper: what trashing it would lose."""
    keeper = rows[0]
    others = [{i for i, value in enumerate(row) if value != keeper[i]} for row in rows[1:]]
    return [set().union(*others), *others]


class MemberCard(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(THUMB + 110)
        self.badge = QLabel()
        self.badge.setWordWrap(True)
        self.picture = QLabel()
        self.picture.setFixedSize(THUMB, THUMB)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel()
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(len(FIELDS), 1)
        self.table.setVerticalHeaderLabels(list(FIELDS))
        self.table.horizontalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setFixedHeight(self.table.verticalHeader().length() + 4)
        self.items = [QTableWidgetItem() for _ in FIELDS]
        for row, item in enumerate(self.items):
            self.table.setItem(row, 0, item)
        column = QVBoxLayout(self)
        column.addWidget(self.badge)
        column.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.name)
        column.addWidget(self.table)
        column.addStretch(1)
        self.path = ""
        self.edge: QColor | None = None

    def show_member(self, number: int, member: DuplicateMember, keeper: bool, chosen: bool,
                    reasons: tuple[str, ...]) -> None:
        self.path = member.path
        if keeper:
            why = f": {', '.join(reasons)}" if reasons else ""
            self.badge.setText(f"<b>{number} · Keep</b>{why}")
        else:
            # How alike the model finds it (cosine to the group's centre; 1.000 for identical copies).
            self.badge.setText(f"{number} · similarity {member.score:.3f} · to the trash on Delete")
        self.name.setText(os.path.basename(member.path))
        self.name.setToolTip(member.path)
        # The chosen card (Left/Right, 1-9) is framed; Enter makes it the keeper. Painted, not a style
        # sheet: re-polishing a card and its table costs milliseconds on every step through the groups.
        self.edge = self.palette().color(QPalette.ColorRole.Highlight) if chosen else KEEPER if keeper else None
        self.update()

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        if self.edge is not None:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.edge, 3))
            painter.drawRoundedRect(self.rect().adjusted(2, 2, -2, -2), 6, 6)
            painter.end()

    def show_facts(self, values: list[str], differing: set[int]) -> None:
        for row, (item, value) in enumerate(zip(self.items, values, strict=True)):
            item.setText(value)
            item.setToolTip(value)
            item.setBackground(DIFFERS if row in differing else QColor(0, 0, 0, 0))


class DuplicateCompare(QScrollArea):
    def __init__(self, cache: ThumbnailCache) -> None:
        super().__init__()
        self.cache = cache
        self.group: DuplicateGroup | None = None
        self.chosen = 0
        self.cameras: dict[str, str | None] = {}
        self.cards: list[MemberCard] = []
        self.setWidgetResizable(True)
        inner = QWidget()
        self.row = QHBoxLayout(inner)
        self.row.addStretch(1)
        self.empty = QLabel("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.row.insertWidget(0, self.empty)
        self.setWidget(inner)
        cache.ready.connect(self._thumbnail_ready)

    def show_group(self, group: DuplicateGroup | None, chosen: int = 0, message: str = "") -> None:
        self.group, self.chosen = group, chosen
        members = group.members if group is not None else ()
        while len(self.cards) < len(members):
            card = MemberCard()
            self.row.insertWidget(len(self.cards) + 1, card)
            self.cards.append(card)
        for i, card in enumerate(self.cards):
            card.setVisible(i < len(members))
        self.empty.setText(message)
        self.empty.setVisible(group is None)
        if group is None:
            return
        for i, member in enumerate(members):
            self.cards[i].show_member(i + 1, member, i == 0, i == chosen and len(members) > 1, group.reasons)
            self._show_picture(self.cards[i])
        self._show_facts()
        if 0 <= chosen < len(members):
            self.ensureWidgetVisible(self.cards[chosen])

    def set_cameras(self, cameras: dict[str, str | None]) -> None:
        """Cameras read for the shown group (path -> name); the facts are redrawn with them."""
        self.cameras.update(cameras)
        if self.group is not None:
            self._show_facts()

    def _show_facts(self) -> None:
        assert self.group is not None
        rows = [member_facts(m, self.cameras.get(m.path)) for m in self.group.members]
        for card, values, differing in zip(self.cards, rows, differing_cells(rows), strict=False):
            card.show_facts(values, differing)

    def _show_picture(self, card: MemberCard) -> None:
        pixmap = self.cache.pixmap(card.path, THUMB)
        if pixmap is not None:
            card.picture.setPixmap(pixmap)
        else:
            card.picture.clear()
            card.picture.setText("Unreadable" if self.cache.failed(card.path) else "…")

    def _thumbnail_ready(self, path: str) -> None:
        for card in self.cards:
            if card.isVisible() and card.path == path:
                self._show_picture(card)
