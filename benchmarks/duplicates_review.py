"""How fast the duplicates workspace opens on 10,000 groups and moves from one group to the next.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.duplicates_review [--groups 10000] [--steps 300]

No model and no library: 10,000 `DuplicateGroup` records are built over real small image files (a few
hundred JPEGs, reused across groups as a large library's photos would be) and handed to the view through
its `show_groups` seam. Measured on the GUI thread, each step including the event processing that
paints the compare pane: opening (the list filled and the first group shown) and every next-group step
(J), against the goal of < 100 ms each.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from core.duplicates.records import DuplicateGroup, DuplicateMember
from tests.imagegen import write_photo

FILES = 300


def make_groups(folder: Path, n: int) -> list[DuplicateGroup]:
    files = [write_photo(folder / f"p{i:04d}.jpg", seed=i, size=(160, 120)) for i in range(FILES)]
    groups = []
    for g in range(n):
        count = 2 + g % 4
        members = tuple(
            DuplicateMember(g * 10 + k, str(files[(g * 7 + k) % FILES]), f"h{g}-{k}", 40_000 + 1000 * k,
                            0, 160 - 10 * k, 120, 1.7e9 + g, 1.0 - 0.01 * k)
            for k in range(count)
        )
        groups.append(DuplicateGroup("same" if g % 3 else "near", members, ("the most pixels",)))
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()

    from desktop.duplicates_view import DuplicatesView
    from desktop.library_session import LibrarySession
    from desktop.qt import QApplication
    from desktop.tasks import TaskManager
    from desktop.thumbnail_cache import ThumbnailCache

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        groups = make_groups(Path(tmp) / "photos", args.groups)
        tasks = TaskManager()
        session = LibrarySession(tasks, Path(tmp) / "data")  # never opened: the view is fed directly
        view = DuplicatesView(session, ThumbnailCache(tasks, Path(tmp) / "cache"))
        view.resize(1400, 850)
        view.show()
        app.processEvents()

        start = time.perf_counter()
        view.show_groups(groups)
        app.processEvents()
        opened_ms = (time.perf_counter() - start) * 1000

        steps = []
        for _ in range(args.steps):
            start = time.perf_counter()
            view.next_group()
            app.processEvents()  # thumbnails and cameras arriving from the workers are drawn here too
            steps.append((time.perf_counter() - start) * 1000)
        back = []
        for _ in range(50):
            start = time.perf_counter()
            view.previous_group()
            app.processEvents()
            back.append((time.perf_counter() - start) * 1000)
        assert view.row == args.steps - 50 and view.list.currentIndex().isValid()
        assert view.compare.group is groups[view.row]
        tasks.shutdown(wait=True)

    steps.sort()
    print(f"groups: {args.groups:,}; open (list filled, first group shown): {opened_ms:.1f} ms")
    print(f"next group x{args.steps}: median {statistics.median(steps):.1f} ms, "
          f"p95 {steps[int(len(steps) * 0.95) - 1]:.1f} ms, max {steps[-1]:.1f} ms")
    print(f"previous group x50: median {statistics.median(back):.1f} ms, max {max(back):.1f} ms")


if __name__ == "__main__":
    main()
