"""`DuplicatesView`: the duplicates review workspace, the main area's "Duplicates" mode.

Above: the tier, the similarity threshold (its label counts the groups live, on a debounce), the sort,
the keeper rules and "trash the others in all groups". Below: the groups on the left, the selected
group's members side by side (desktop.duplicate_compare). Everything is driven from the keyboard:
J/Down next group, K/Up previous, Left/Right or 1-9 choose a photo, Enter/Space keep the chosen one,
N not duplicates, A keep all, Delete move the others to the trash (after a confirmation).

Groups are found through the `LibrarySession` on the read pool (the first search of a library takes
seconds to minutes and shows progress); decisions and clean-ups are intents on the write queue. A group
decided about or cleaned up leaves the list by itself; the rest is not regrouped. `show_groups` is the
seam benchmarks and tests feed groups through directly.
"""

from __future__ import annotations

from typing import Any

from core.duplicates.cleanup import CleanupPlan, TrashReport
from core.duplicates.records import DEFAULT_THRESHOLD, DEFAULT_TIER, FLOOR, TIERS, DuplicateGroup
from core.library.intents import ApplySettings, DecideDuplicates, TrashDuplicates
from desktop.duplicate_compare import DuplicateCompare
from desktop.duplicate_dialogs import KeeperRulesDialog, TrashReportDialog, confirmation
from desktop.duplicate_groups_model import DuplicateGroupsModel
from desktop.library_session import LibrarySession
from desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QShortcut,
    QSlider,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.thumbnail_cache import ThumbnailCache

COUNT_DELAY_MS = 120  # the live count follows the slider without a query per pixel dragged
REGROUP_DELAY_MS = 400  # regrouping (keepers for every group) once the slider rests
KEYS_HELP = ("J/↓ next · K/↑ previous · ←/→ or 1-9 choose · Enter keep the chosen one · "
             "N not duplicates · A keep all · Delete move the others to the trash")


class DuplicatesView(QWidget):
    groups_shown = Signal()  # a list of groups is in the model (found, or fed through show_groups)
    report_shown = Signal(object)  # TrashReport: a clean-up finished and its report is on screen

    def __init__(self, session: LibrarySession, cache: ThumbnailCache) -> None:
        super().__init__()
        self.session = session
        self.model = DuplicateGroupsModel()
        self.compare = DuplicateCompare(cache)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setUniformItemSizes(True)  # 10,000 rows laid out without measuring each
        # A list view lays out every row at once, asking the (Python) model twice a row: 75 ms for 10,000
        # groups. In batches, the first screenful is laid out at once and the rest between events.
        self.list.setLayoutMode(QListView.LayoutMode.Batched)
        self.list.setBatchSize(200)
        self.tier = QComboBox()
        self.tier.addItems(list(TIERS))
        self.tier.setCurrentText(DEFAULT_TIER)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(FLOOR * 100), 100)
        self.slider.setValue(round(DEFAULT_THRESHOLD * 100))
        self.count_label = QLabel()
        self.sort = QComboBox()
        self.sort.addItem("Most space to reclaim", "space")
        self.sort.addItem("Newest first", "date")
        self.progress = QProgressBar()
        self.clean_all = QPushButton("Move the others in all groups to the trash…")
        self.chosen = 0
        self.report_dialog: TrashReportDialog | None = None
        self._generation = 0  # answers to an older question (slider moved since) are dropped
        self._loaded = False
        self._count_timer = self._timer(COUNT_DELAY_MS, self.update_count)
        self._regroup_timer = self._timer(REGROUP_DELAY_MS, self.regroup)
        self._build()
        self._connect()

    def _timer(self, ms: int, slot: Any) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        rules = QPushButton("Keeper rules…")
        rules.clicked.connect(self.edit_keeper_rules)
        top = QHBoxLayout()
        for label, widget in (("Tier", self.tier), ("Similarity", self.slider)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        self.slider.setMinimumWidth(180)
        top.addWidget(self.count_label)
        top.addSpacing(12)
        top.addWidget(QLabel("Sort"))
        top.addWidget(self.sort)
        top.addStretch(1)
        top.addWidget(rules)
        top.addWidget(self.clean_all)
        self.progress.setVisible(False)
        self.review = QSplitter()  # keys work while the focus is anywhere in here
        self.review.addWidget(self.list)
        self.review.addWidget(self.compare)
        self.review.setStretchFactor(1, 4)
        self.review.setSizes([260, 1000])
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 0)
        column.addLayout(top)
        column.addWidget(self.progress)
        column.addWidget(self.review, 1)
        keys = QLabel(KEYS_HELP)
        keys.setEnabled(False)  # drawn dimmed: a reminder, not content
        column.addWidget(keys)
        self._show_count_text(None)

    def _connect(self) -> None:
        self.list.selectionModel().currentRowChanged.connect(lambda current, _old: self._show_row(current.row()))
        self.tier.currentIndexChanged.connect(self._settings_moved)
        self.sort.currentIndexChanged.connect(lambda _i: self.regroup())
        self.slider.valueChanged.connect(self._settings_moved)
        self.clean_all.clicked.connect(self.trash_all)
        self.session.duplicates_progress.connect(self._on_progress)
        self.session.opened.connect(self._on_opened)
        keys: dict[tuple[str, ...], Any] = {
            ("J", "Down"): self.next_group, ("K", "Up"): self.previous_group,
            ("Left",): lambda: self.choose(self.chosen - 1), ("Right",): lambda: self.choose(self.chosen + 1),
            ("Return", "Enter", "Space"): self.keep_chosen, ("N",): self.not_duplicates,
            ("A",): self.keep_all, ("Delete",): self.trash_current,
            **{(str(n),): (lambda n=n: self.choose(n - 1)) for n in range(1, 10)},
        }
        for names, slot in keys.items():
            for name in names:
                shortcut = QShortcut(QKeySequence(name), self.review)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)

    # -- finding groups -------------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return self.slider.value() / 100

    def activate(self) -> None:
        """The mode was shown: find the groups the first time (later, the list as the user left it)."""
        if not self._loaded:
            self.regroup()
        self.list.setFocus()

    def regroup(self) -> None:
        self._regroup_timer.stop()
        if self.session.library is None:
            self.compare.show_group(None, message="The library is still opening…")
            return
        self._generation += 1
        generation, tier, threshold = self._generation, self.tier.currentText(), self.threshold
        self.compare.show_group(None, message="Finding duplicates…")
        self.session.duplicate_groups(
            tier, threshold, self.sort.currentData(),
            lambda groups: self._found(generation, groups),
            lambda exc: self._failed(generation, exc),
        )

    def _on_opened(self) -> None:
        if self.isVisible():
            self.regroup()

    def _found(self, generation: int, groups: list[DuplicateGroup]) -> None:
        if generation == self._generation:
            self.show_groups(groups)

    def show_groups(self, groups: list[DuplicateGroup]) -> None:
        """Show these groups (the seam: found by the library, or handed over by a benchmark)."""
        self._loaded = True
        self.progress.setVisible(False)
        self.model.set_groups(groups)
        self._show_count_text(len(groups))
        self.clean_all.setEnabled(bool(groups))
        self._select(0)
        if not groups:
            self.compare.show_group(None, message="No duplicates at this tier and similarity.")
        self.groups_shown.emit()

    def update_count(self) -> None:
        generation = self._generation
        self.session.duplicate_count(
            self.tier.currentText(), self.threshold,
            lambda n: self._counted(generation, n),
        )

    def _counted(self, generation: int, count: int) -> None:
        if generation == self._generation:
            self._show_count_text(count)

    def _settings_moved(self, _value: int = 0) -> None:
        self._generation += 1
        self._show_count_text(None)
        self._count_timer.start()
        self._regroup_timer.start()

    def _show_count_text(self, count: int | None) -> None:
        groups = "…" if count is None else f"{count:,} group{'s' if count != 1 else ''}"
        self.count_label.setText(f"{self.threshold:.2f} · {groups}")

    def _on_progress(self, progress: Any) -> None:
        self.progress.setVisible(progress.done < progress.total)
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        self.progress.setFormat(f"Finding duplicates: {progress.stage} %p%")

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.progress.setVisible(False)
            self.compare.show_group(None, message=f"Could not find duplicates: {exc}")

    # -- moving and choosing --------------------------------------------------------------------
    @property
    def row(self) -> int:
        return self.list.currentIndex().row()

    def current_group(self) -> DuplicateGroup | None:
        return self.model.group_at(self.row)

    def next_group(self) -> None:
        self._select(min(self.row + 1, self.model.rowCount() - 1))

    def previous_group(self) -> None:
        self._select(max(self.row - 1, 0))

    def _select(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(row))
        else:
            self._show_row(-1)

    def _show_row(self, row: int) -> None:
        self.chosen = 0
        group = self.model.group_at(row)
        self.compare.show_group(group, 0, "" if group else "No groups left.")
        if group is not None:
            paths = [m.path for m in group.members if m.path not in self.compare.cameras]
            if paths:
                self.session.camera_names(paths, lambda names: self.compare.set_cameras(dict(zip(paths, names, strict=True))))

    def choose(self, index: int) -> None:
        group = self.current_group()
        if group is not None and 0 <= index < len(group.members):
            self.chosen = index
            self.compare.show_group(group, index)

    def keep_chosen(self) -> None:
        """The chosen photo becomes this group's keeper; Delete then keeps it and trashes the rest."""
        group = self.model.set_keeper(self.row, self.chosen)
        self.chosen = 0
        self.compare.show_group(group, 0)

    # -- deciding -------------------------------------------------------------------------------
    def not_duplicates(self) -> None:
        self._decide("distinct")

    def keep_all(self) -> None:
        self._decide("kept")

    def _decide(self, decision: str) -> None:
        group = self.current_group()
        if group is not None:
            self.session.submit(DecideDuplicates(tuple(sorted({m.hash for m in group.members})), decision))
            self._leave([group])

    def _leave(self, groups: list[DuplicateGroup]) -> None:
        """These groups are done with: out of the list, the selection on the next one."""
        row = self.row
        for group in groups:
            self.model.remove_key(group.key)
        self._select(min(max(row, 0), self.model.rowCount() - 1))
        self._show_count_text(self.model.rowCount())
        self.clean_all.setEnabled(self.model.rowCount() > 0)

    def trash_current(self) -> None:
        group = self.current_group()
        if group is not None:
            self._trash(CleanupPlan((group,)))

    def trash_all(self) -> None:
        if self.model.groups:
            self._trash(CleanupPlan(tuple(self.model.groups)))

    def _trash(self, plan: CleanupPlan) -> None:
        if confirmation(plan, self).exec() != QMessageBox.StandardButton.Yes:
            return
        groups = list(plan.groups)
        self.session.submit(TrashDuplicates(plan), lambda report: self._trashed(groups, report))

    def _trashed(self, groups: list[DuplicateGroup], report: TrashReport) -> None:
        self._leave(groups)
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = TrashReportDialog(report, self)
        self.report_dialog.show()
        self.report_shown.emit(report)

    # -- keeper rules ---------------------------------------------------------------------------
    def edit_keeper_rules(self) -> None:
        dialog = KeeperRulesDialog(self.session.settings.keeper_rules, self)
        if dialog.exec():
            rules = dialog.chosen_rules()
            if rules != tuple(self.session.settings.keeper_rules):
                self.session.submit(ApplySettings.of(keeper_rules=rules), lambda _change: self.regroup())
