"""Compare models: the clicked photo's look-alikes under two models, side by side."""

from __future__ import annotations

from pathlib import Path

from tests.desktop.helpers import add_folder_and_wait


def test_the_compare_panel_shows_both_models_for_the_clicked_photo_beside_the_grid(
    qtbot, make_window, library_folder: Path, tiny_siglip2_dir: Path, tiny_siglip_dir: Path
) -> None:
    window = make_window()
    add_folder_and_wait(qtbot, window, library_folder, 13)
    lib = window.session.library
    # Give the library a second model's vectors, as switching models in Preferences does.
    done = []
    window.tasks.write(lambda: (lib.set_model(str(tiny_siglip2_dir)), lib.update(),
                                lib.set_model(str(tiny_siglip_dir))), done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)

    window.show_compare()
    compare = window.compare_panel
    qtbot.waitUntil(lambda: compare.left.picker.count() == 2, timeout=10_000)
    assert compare.left.model() == str(tiny_siglip_dir)  # the active model on the left
    assert compare.right.model() == str(tiny_siglip2_dir)
    assert compare.window() is window  # docked in the main window: a click in the grid never hides it

    query = str(library_folder / "img_03.jpg")
    with qtbot.waitSignal(compare.compared, timeout=30_000):
        window.search_path(query)
    left, right = compare.left.pane.model.results, compare.right.pane.model.results
    assert left[0].path == right[0].path == str(library_folder / "img_03 copy.jpg")
    assert query not in [r.path for r in left + right]
    assert len(left) == len(right) == 12
    assert [r.score for r in left] != [r.score for r in right]  # two different models
