"""The status bar, the folder rows and the errors panel never contradict each other or the library: the
counts follow an index run as its batches commit, "indexing" and "paused" end with the run, the model
label says what is loaded, a model chosen mid-run takes over at once, and the buttons stay put."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import Cancelled
from core.library.intents import Update
from core.library.write_queue import JobEvent
from core.tasks.progress import Progress
from desktop.errors_panel import ErrorsPanel
from desktop.status_bar import StatusBar
from tests.imagegen import write_photo


def pause_when(window: Any, first: Callable[[JobEvent], bool]) -> list[JobEvent]:
    """Pause the queue on its own thread at the `first` event that matches: the running job holds at
    its next checkpoint for as long as the test looks. Returns the finished jobs as they come."""
    queue = window.session.owner.queue
    finished: list[JobEvent] = []
    paused: list[bool] = []

    def on_event(event: JobEvent) -> None:
        if not paused and first(event):
            paused.append(True)
            queue.pause()
        if event.kind == "finished":
            finished.append(event)

    queue.subscribe(on_event)
    return finished


def test_counts_and_folder_rows_follow_a_paused_run_and_paused_ends_with_it(
    qtbot, make_window, library_folder: Path
) -> None:
    for seed in range(16):  # 29 photos: batches of 8 left to decode when the first one commits
        write_photo(library_folder / f"more_{seed}.jpg", seed=500 + seed, size=(320, 240))
    window = make_window()
    pause_when(window, lambda e: e.progress is not None and e.progress.stage == "indexing" and e.progress.done > 0)
    window.folders.add_requested.emit(str(library_folder))
    qtbot.waitUntil(lambda: window.session.paused, timeout=20_000)
    # Part done, paused: the photo count shows the vectors committed so far, and the folder row the same.
    counts = re.compile(r"29 photos, (\d+) indexed")
    qtbot.waitUntil(lambda: bool(counts.fullmatch(window.status.photos_label.text()))
                    and 0 < int(counts.fullmatch(window.status.photos_label.text())[1]) < 29, timeout=10_000)
    row = re.compile(r".*\n29 photos · indexing (\d+)/29", re.S)
    qtbot.waitUntil(lambda: bool(m := row.fullmatch("".join(window.folders.folder_texts())))
                    and 0 < int(m[1]) < 29, timeout=10_000)
    window.pause_indexing()  # what the button does (the queue holds already): the bar says paused
    assert window.status.progress_label.text().endswith("· paused")
    with qtbot.waitSignal(window.session.indexing_finished, timeout=60_000):
        window.resume_indexing()
    qtbot.waitUntil(lambda: window.status.photos_label.text() == "29 photos, 29 indexed", timeout=10_000)
    qtbot.waitUntil(lambda: "29 photos · indexed" in "".join(window.folders.folder_texts()), timeout=10_000)
    assert not window.status.progress_label.isVisible() and not window.session.paused
    assert window.status.pause_button.text() == "Pause"
    assert window.status.model_label.text() == "Model: ready"


def test_a_model_chosen_mid_run_takes_over_at_once_and_the_model_label_follows(
    qtbot, make_window, library_folder: Path, tiny_siglip2_dir: Path
) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.status.model_label.text() == "Model: ready", timeout=20_000)  # loaded at open
    finished = pause_when(window, lambda e: e.kind == "started" and isinstance(e.job.intent, Update))
    notices: list[str] = []
    window.session.notice.connect(notices.append)
    window.folders.add_requested.emit(str(library_folder))
    qtbot.waitUntil(lambda: window.session.paused and window.session.indexing, timeout=20_000)
    window.session.apply_settings(replace(window.session.running_settings, model=str(tiny_siglip2_dir)))
    try:
        assert any("new model" in n for n in notices)
        # The old model's run was cancelled (what it committed stays), not left to run to its end.
        qtbot.waitUntil(lambda: any(isinstance(e.job.intent, Update) for e in finished), timeout=20_000)
        first = next(e.job for e in finished if isinstance(e.job.intent, Update))
        assert isinstance(first.error, Cancelled) or (first.error is None and first.result.index.cancelled)
    finally:
        window.session.resume()  # a failure must not leave the queue paused under the window's close
    with qtbot.waitSignal(window.session.indexing_finished, timeout=60_000):
        window.resume_indexing()
    assert window.session.library.model_source == str(tiny_siglip2_dir)
    qtbot.waitUntil(lambda: window.status.photos_label.text() == "13 photos, 13 indexed", timeout=10_000)
    # The new model indexed everything: it is loaded, and the label says so (not "not loaded").
    assert window.session.library.model_loaded
    qtbot.waitUntil(lambda: window.status.model_label.text() == "Model: ready", timeout=5_000)


def test_status_bar_buttons_stay_put_as_numbers_grow_and_empty_stages_are_not_shown(qtbot) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.resize(1300, 30)
    bar.show()
    bar.set_indexing(True)
    bar.set_progress(Progress("indexing", 3, 9, 1.0, 6.0))
    bar.set_photo_count(9, 3)
    bar.set_failures(1)
    qtbot.wait(10)
    before = (bar.pause_button.mapTo(bar, bar.pause_button.rect().topLeft()).x(),
              bar.errors_button.mapTo(bar, bar.errors_button.rect().topLeft()).x())
    bar.set_progress(Progress("checking precision", 152_000, 200_000, 123.4, 3_700.0))
    bar.set_photo_count(200_000, 152_000)
    bar.set_failures(12_345)
    bar.set_model_state("downloading")
    qtbot.wait(10)
    after = (bar.pause_button.mapTo(bar, bar.pause_button.rect().topLeft()).x(),
             bar.errors_button.mapTo(bar, bar.errors_button.rect().topLeft()).x())
    assert after == before
    shown = bar.progress_label.text()
    bar.set_progress(Progress("matching moved photos", 0, 0, 0.0, None))
    assert bar.progress_label.text() == shown  # a stage with nothing to do is not shown
    bar.set_paused(True)
    assert bar.progress_label.text() == "Checking precision 152,000/200,000 · paused"
    bar.set_progress(Progress("indexing", 5, 9, 1.0, 4.0), paused=False)  # the queue's truth wins
    assert bar.pause_button.text() == "Pause" and "paused" not in bar.progress_label.text()


def test_counts_are_written_with_real_plurals(qtbot) -> None:
    from core.library.records import FolderStatus
    from desktop.folders_panel import folder_line

    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.set_failures([("/p/a.jpg", "broken")])
    assert panel.summary.text().startswith("1 photo could not be read and was skipped")
    panel.set_failures([("/p/a.jpg", "broken"), ("/p/b.jpg", "broken")])
    assert panel.summary.text().startswith("2 photos could not be read and were skipped")
    assert "(s)" not in panel.summary.text()
    one = FolderStatus("/p/one", True, 1, 0, 0)
    assert folder_line(one, indexing=False) == "one\n1 photo · 0 indexed"
    assert folder_line(one, indexing=True) == "one\n1 photo · indexing 0/1"
