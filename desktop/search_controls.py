"""`SearchControls`: the query line and the results' controls above the results pane: what is being
searched for (with Clear), the sort (similarity / date taken), the cut-off for image searches (off by
default), "Show more" when the model's relevance cut left results out, and the answer's note.

`Searcher` runs the searches: it keeps the `ComposedQuery`, builds the core's `SearchQuery` from it,
the filter bar's filter and these controls, and shows the `SearchAnswer` that comes back. A newer
search makes an older answer stale: each search carries a tag and only the latest one's answer shows.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.library.filters import PhotoFilter
from desktop.composed_query import ComposedQuery
from desktop.qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QObject,
    QPixmap,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from core.library.searching import SearchAnswer
    from desktop.library_session import LibrarySession
    from desktop.results_pane import ResultsPane

SORTS = (("Similarity", "score"), ("Date taken", "date"))
SHOW_ALL = -1.0  # min_score that lifts the relevance cut
SEARCH_FAILED = "Could not search"  # the title a failed search leaves in the results pane


class SearchControls(QWidget):
    changed = Signal()  # the sort or the cut-off changed: ask again
    clear_requested = Signal()
    more_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.query_line = QLabel("Query: nothing yet")
        self.query_line.setAccessibleName("Query")
        self.query_line.setWordWrap(True)
        self.clear_button = QPushButton("Clear query")
        self.sort = QComboBox()
        self.sort.setAccessibleName("Sort results")
        for label, value in SORTS:
            self.sort.addItem(label, value)
        self.cut = QCheckBox("at least")
        self.cut.setToolTip("Image searches: leave out results less similar than this (cosine)")
        self.min_score = QDoubleSpinBox()
        self.min_score.setAccessibleName("Minimum similarity")
        self.min_score.setRange(-1.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setDecimals(2)
        self.min_score.setValue(0.5)
        self.min_score.setEnabled(False)
        self.more_button = QPushButton("Show more")
        self.more_button.setToolTip("The model called only these a match: show the next nearest photos too")
        self.more_button.hide()
        self.note = QLabel()
        self.note.setAccessibleName("Search note")
        self.note.setWordWrap(True)
        self.note.hide()
        self._layout()
        self.sort.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.cut.toggled.connect(self._cut_toggled)
        self.min_score.editingFinished.connect(self._cut_edited)
        self.clear_button.clicked.connect(self.clear_requested.emit)
        self.more_button.clicked.connect(self.more_requested.emit)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.query_line, 1)
        top.addWidget(self.clear_button)
        row = QHBoxLayout()
        row.addWidget(QLabel("Sort"))
        row.addWidget(self.sort)
        row.addSpacing(8)
        row.addWidget(self.cut)
        row.addWidget(self.min_score)
        row.addStretch(1)
        row.addWidget(self.more_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 0, 6, 0)
        column.addLayout(top)
        column.addLayout(row)
        column.addWidget(self.note)

    def _cut_edited(self) -> None:
        if self.cut.isChecked():
            self.changed.emit()

    def _cut_toggled(self, on: bool) -> None:
        self.min_score.setEnabled(on)
        self.changed.emit()

    def sort_value(self) -> str:
        return str(self.sort.currentData())

    def cut_off(self) -> float | None:
        return self.min_score.value() if self.cut.isChecked() else None

    def show_query(self, query: ComposedQuery) -> None:
        self.query_line.setText(f"Query: {query.describe()}")
        self.clear_button.setEnabled(not query.empty or bool(query.avoid))

    def show_answer(self, answer: SearchAnswer | None) -> None:
        self.more_button.setVisible(answer is not None and answer.more)
        note = answer.note if answer is not None else None
        self.note.setText(note or "")
        self.note.setVisible(bool(note))


class Searcher(QObject):
    """The window's searches: one composed query at a time; answers shown in `results`."""

    shown = Signal(object)  # the ComposedQuery whose answer is now in the results pane
    started = Signal(object)  # a ComposedQuery is being asked (a new one, or the same again)

    def __init__(self, session: LibrarySession, results: ResultsPane, controls: SearchControls,
                 filters: Callable[[], PhotoFilter], k: Callable[[], int]) -> None:
        super().__init__()
        self.session, self.results, self.controls = session, results, controls
        self._filters, self._k = filters, k
        self.query = ComposedQuery()
        self.running = False
        self._show_all = False
        self._tags = itertools.count()
        self._tag: int | None = None
        session.answer_ready.connect(self._on_answer)
        session.search_failed.connect(self._on_failed)
        controls.changed.connect(self.rerun)
        controls.more_requested.connect(self.show_more)
        controls.clear_requested.connect(self.clear)

    # -- what the user does ---------------------------------------------------------------------------
    def like(self, image: str | bytes) -> None:
        """A photo clicked, dropped or pasted: a new query by it alone."""
        self.start(ComposedQuery(images=(image,)))

    def add(self, image: str | bytes) -> None:
        self.start(self.query.adding(image))

    def avoid(self, image: str | bytes) -> None:
        self.start(self.query.avoiding(image))

    def type_text(self, text: str) -> None:
        """A typed text joins the example photos, if any ("this one, but at night")."""
        self.start(self.query.with_text(text))

    def clear(self) -> None:
        self._tag, self.running, self.query = None, False, ComposedQuery()
        self.controls.show_query(self.query)
        self.controls.show_answer(None)
        self.results.show_results("Click a photo to see its look-alikes", [])

    def rerun(self) -> None:
        """The filter, the sort or the cut-off changed: ask the same question again."""
        if not self.query.empty:
            self.start(self.query, self._show_all)

    def show_more(self) -> None:
        self.start(self.query, show_all=True)

    # -- asking and showing -----------------------------------------------------------------------------
    def start(self, query: ComposedQuery, show_all: bool = False) -> None:
        self.controls.show_query(query)
        self.query, self._show_all = query, show_all
        if query.empty:
            self.controls.show_answer(None)
            self.results.show_message("Add an example photo or a text", "“Not like this” needs something to search for.")
            return
        min_score = SHOW_ALL if show_all else (None if query.text_only else self.controls.cut_off())
        request = query.search_query(self._k(), self._filters(), self.controls.sort_value(), min_score)
        self._tag, self.running = next(self._tags), True
        self.results.show_message(self._title(query), "Searching…")
        self.started.emit(query)
        self.session.search(request, self._tag)

    def _on_answer(self, tag: Any, answer: SearchAnswer) -> None:
        if tag != self._tag:
            return  # an older search finished after a newer one started
        self.running = False
        query = self.query
        first = query.images[0] if len(query.images) == 1 else None
        pixmap = None
        if isinstance(first, bytes):
            pixmap = QPixmap()
            pixmap.loadFromData(first)
            pixmap = pixmap.scaled(96, 96, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        self.results.show_results(self._title(query), answer.results,
                                  query_path=first if isinstance(first, str) else None, query_pixmap=pixmap,
                                  noun="match" if query.text_only else "look-alike")
        self.controls.show_answer(answer)
        self.shown.emit(query)

    def _on_failed(self, tag: Any, message: str) -> None:
        """A search that failed leaves nothing of the previous answer on screen: no old results under
        the new title, no old query picture, and says why where the results would be."""
        if tag != self._tag:
            return
        self.running = False
        self.results.show_results(self._title(self.query), [])
        self.results.show_message(f"{SEARCH_FAILED}: {self._title(self.query)}", message)
        self.controls.show_answer(None)

    @staticmethod
    def _title(query: ComposedQuery) -> str:
        if query.text_only:
            return f"Photos matching “{query.text}”"
        if len(query.images) == 1 and not query.text and not query.avoid:
            first = query.images[0]
            return "Look-alikes of the pasted image" if isinstance(first, bytes) else \
                f"Look-alikes of {os.path.basename(first)}"
        return f"Photos {query.describe()}"
