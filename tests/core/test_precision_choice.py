"""A library proves a faster precision on its own model and photos before using it, remembers the verdict,
honours an explicit choice (with a warning when it failed), and re-embeds vectors made at a failed
precision while search keeps working."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.library.facade import Library
from core.tasks.progress import TaskHandle
from tests.imagegen import write_photo
from tests.tinymodels import add_activation_outliers


@pytest.fixture(autouse=True)
def auto_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOKALIKE_PRECISION", raising=False)  # the check chooses


@pytest.fixture
def outlier_model(tmp_path: Path, tiny_siglip_dir: Path) -> Path:
    folder = tmp_path / "outlier-model"
    shutil.copytree(tiny_siglip_dir, folder)
    return add_activation_outliers(folder)


@pytest.fixture
def opened(tmp_path: Path, photo_dir: Path) -> Iterator:  # type: ignore[type-arg]
    libraries: list[Library] = []

    def open_library(model: Path, **options: object) -> Library:
        library = Library(tmp_path / "data", model=str(model), device="cpu", workers=0, **options)  # type: ignore[arg-type]
        libraries.append(library)
        if not library.folders():
            library.add_folder(photo_dir)
        return library

    yield open_library
    for library in libraries:
        library.close()


def _precisions(library: Library) -> dict[str | None, int]:
    return library.store.vector_precisions(library.model_key)


def test_int8_that_fails_the_check_is_not_used_and_the_status_says_why(opened, outlier_model: Path) -> None:  # type: ignore[no-untyped-def]
    library = opened(outlier_model)
    library.update()
    status = library.status().precision
    verdict = status.verdict
    assert verdict is not None and (verdict.own_photos, verdict.sample) == (12, 32)
    int8 = verdict.check("int8")
    assert int8 is not None and not int8.passed and int8.min_cosine < 0.9
    assert status.in_use == verdict.chosen != "int8" and verdict.passed(status.in_use)
    assert _precisions(library) == {status.in_use: 12}  # every vector made at the precision that passed
    assert "int8 failed (min similarity" in status.describe() and status.warning is None


def test_the_verdict_is_reused_and_checked_again_when_the_weights_change(  # type: ignore[no-untyped-def]
    opened, tiny_siglip_dir: Path, tmp_path: Path, photo_dir: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_siglip_dir, model)
    first = opened(model)
    first.update()
    verdict = first.status().precision.verdict
    assert verdict is not None and verdict.check("int8").passed  # type: ignore[union-attr]
    first.close()

    write_photo(photo_dir / "new.jpg", seed=99)
    again = opened(model)
    again.update()
    assert again.status().precision.verdict == verdict  # not checked again: same model, same machine
    again.close()

    add_activation_outliers(model)  # a new revision of the weights (a local folder is known by their digest)
    write_photo(photo_dir / "newer.jpg", seed=98)  # something to embed with them
    changed = opened(model)
    changed.update()
    rechecked = changed.status().precision.verdict
    assert rechecked is not None and rechecked.fingerprint != verdict.fingerprint
    assert not rechecked.check("int8").passed  # type: ignore[union-attr]
    assert len(changed.store.precision_verdicts(changed.model_key)) == 2


def test_an_explicit_precision_that_failed_is_honoured_with_a_warning(opened, outlier_model: Path) -> None:  # type: ignore[no-untyped-def]
    library = opened(outlier_model, precision="int8")
    library.update()
    status = library.status().precision
    assert status.in_use == "int8" and status.requested_by == "--precision"
    assert status.warning is not None and "int8" in status.warning and "failed" in status.warning
    assert _precisions(library) == {"int8": 12}  # used as asked, nothing re-embedded
    assert status.reembedding == 0


def test_vectors_made_at_a_failed_precision_are_re_embedded_and_the_library_stays_consistent(  # type: ignore[no-untyped-def]
    opened, outlier_model: Path
) -> None:
    forced = opened(outlier_model, precision="int8")
    forced.update()
    with forced.store.write() as conn:  # two vectors from before precisions were recorded
        conn.execute(text("UPDATE vectors SET precision = NULL WHERE rowid IN (SELECT rowid FROM vectors LIMIT 2)"))
    forced.close()

    library = opened(outlier_model)
    assert library.status().precision.reembedding == 12  # judged from the stored verdict, before any work
    library.embedder().batch_size = 2  # six batches, so the cancel falls between them
    handle = TaskHandle(on_progress=lambda p: handle.cancel() if p.stage == "indexing" and p.done else None)
    assert library.index(handle).cancelled  # stopped after the first batches: part old, part new
    assert 0 < sum(n for p, n in _precisions(library).items() if p in ("int8", None)) < 12
    _each_photo_finds_itself(library)

    report = library.update()
    chosen = library.status().precision.in_use
    assert chosen != "int8" and _precisions(library) == {chosen: 12}
    assert report.index.embedded > 0 and library.status().precision.reembedding == 0
    _each_photo_finds_itself(library)
    assert library.status().counts.indexed == 12


def _each_photo_finds_itself(library: Library) -> None:
    for photo in library.photos():
        assert library.search_image(photo.id, k=1)[0].photo_id == photo.id


def test_the_command_line_reports_the_verdict_and_warns_about_a_failed_explicit_precision(  # type: ignore[no-untyped-def]
    tmp_path: Path, outlier_model: Path, photo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli.main import main

    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["index", str(photo_dir), *data, "--model", str(outlier_model), "--precision", "int8"]) == 0
    assert "warning: precision int8 (set by --precision) failed this model's precision check" in capsys.readouterr().err

    assert main(["status", *data, "--json"]) == 0
    precision = json.loads(capsys.readouterr().out)["precision"]
    assert precision["device"] == "cpu" and precision["chosen"] != "int8"
    assert precision["in_use"] == precision["chosen"]  # nothing explicit in this process
    int8 = next(c for c in precision["checks"] if c["precision"] == "int8")
    assert int8["passed"] is False and int8["min_cosine"] < 0.995 and int8["images_per_s"] > 0
    assert {"neighbour_overlap", "text_agreement", "reason"} <= set(int8)
    assert precision["sample"] == {"photos": 12, "generated": 20}
    assert precision["reembedding"] == 12  # made at int8 as asked; `auto` re-embeds them

    assert main(["status", *data]) == 0
    assert "int8 failed (min similarity" in capsys.readouterr().out


def test_a_verdict_is_valid_for_one_revision_device_torch_and_cpu_only() -> None:
    from core.embedding.fingerprint import fingerprint

    machine = {"device": "cpu", "torch": "2.13.0", "cpu": "x", "cpu_features": ["avx2"], "cores": 2}
    first = fingerprint("siglip2-base-224", "75de2d5", machine)
    assert fingerprint("siglip2-base-224", "75de2d5", dict(machine)) == first
    assert fingerprint("siglip2-base-224", "a-new-revision", machine) != first
    for part, other in (("torch", "2.14.0"), ("cpu_features", ["avx2", "amx_bf16"]), ("device", "cuda")):
        assert fingerprint("siglip2-base-224", "75de2d5", {**machine, part: other}) != first


def test_an_explicit_precision_names_where_it_was_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.library.precision import requested_precision

    assert requested_precision(None, "settings") == (None, "")
    monkeypatch.setenv("LOOKALIKE_PRECISION", "int8")
    assert requested_precision(None, "settings") == ("int8", "LOOKALIKE_PRECISION")
    assert requested_precision("fp32", "--precision") == ("fp32", "--precision")  # the flag wins


def test_searches_are_answered_while_the_check_runs(opened, tiny_siglip_dir: Path, photo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    import threading

    first = opened(tiny_siglip_dir, precision="fp32")  # vectors to search, made without a check
    first.update()
    first.close()
    write_photo(photo_dir / "new.jpg", seed=77)
    library = opened(tiny_siglip_dir)
    in_check = threading.Event()

    def hold_the_check(p) -> None:  # type: ignore[no-untyped-def]
        if p.stage == "checking precision" and p.done == 1:
            handle.pause()  # it waits at its next step, as a long check on a real model would still be running
            in_check.set()

    handle = TaskHandle(on_progress=hold_the_check)
    job = threading.Thread(target=library.update, args=(handle,))
    job.start()
    try:
        assert in_check.wait(60)
        assert len(library.search_text("a dog", k=50)) == 12
        assert len(library.search_image(photo_dir / "img_00.jpg", k=50)) == 12
        assert library.status().precision.verdict is None  # the check is indeed still going
    finally:
        handle.resume()
        job.join(60)
    assert library.status().precision.verdict is not None and library.status().counts.indexed == 13
