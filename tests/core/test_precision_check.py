"""The precision check measures each faster precision against fp32 on a sample, on the real model, and
chooses the fastest that keeps look-alikes and text results as they are; int8 that activation outliers
break is repaired by keeping the layer groups they hit in float."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image

from core.embedding.calibration import generated_images
from core.embedding.device import check_candidates
from core.embedding.embedder import Embedder, load_embedder
from core.embedding.precision_check import MIN_COSINE, check_precisions, choose, neighbour_overlap
from core.embedding.precision_verdict import CandidateCheck
from core.embedding.quantization import int8_errors, outlier_groups, quantizable_layers
from core.errors import Cancelled
from core.tasks.progress import TaskHandle
from tests.tinymodels import add_activation_outliers


@pytest.fixture(scope="module")
def outlier_model(tmp_path_factory: pytest.TempPathFactory, tiny_siglip_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("outliers") / "model"
    shutil.copytree(tiny_siglip_dir, folder)
    return add_activation_outliers(folder)


def _maker(folder: Path):  # type: ignore[no-untyped-def]
    return lambda precision, keep: load_embedder(str(folder), "cpu", precision, keep_float=tuple(keep))


def _sample(_size: int) -> Sequence[Image.Image]:
    return generated_images(32)


def _by_precision(checks: list[CandidateCheck]) -> dict[str, CandidateCheck]:
    return {c.precision: c for c in checks}


def test_int8_broken_by_activation_outliers_fails_and_int8_mixed_repairs_it(outlier_model: Path) -> None:
    checks, chosen = check_precisions(_maker(outlier_model), _sample, ["int8"])
    found = _by_precision(checks)
    assert not found["int8"].passed and found["int8"].min_cosine < 0.9
    assert "min similarity" in found["int8"].reason and f"below {MIN_COSINE}" in found["int8"].reason
    mixed = found["int8-mixed"]
    assert mixed.passed and mixed.min_cosine >= MIN_COSINE and mixed.neighbour_overlap >= 0.9
    # Only the attention inputs the outlier channel feeds are kept float; everything else is int8.
    assert mixed.keep_float and all(group.endswith("self_attn.qkv") for group in mixed.keep_float)
    assert chosen != "int8" and found[chosen].passed


def test_without_outliers_every_candidate_passes(tiny_siglip_dir: Path) -> None:
    candidates = check_candidates("cpu")  # bf16 only where this CPU has it natively
    checks, chosen = check_precisions(_maker(tiny_siglip_dir), _sample, candidates)
    found = _by_precision(checks)
    assert found["fp32"].passed and found["fp32"].min_cosine == pytest.approx(1.0, abs=1e-5)
    assert set(found) == {"fp32", *candidates} and all(c.passed for c in checks)
    assert all(c.images_per_s > 0 and c.text_agreement is not None for c in checks)
    assert chosen == max(checks, key=lambda c: c.images_per_s).precision


def test_the_choice_is_the_fastest_precision_that_passed() -> None:
    def check(precision: str, speed: float, passed: bool) -> CandidateCheck:
        return CandidateCheck(precision, 1.0, 1.0, 1.0, 1.0, speed, passed)

    assert choose([check("fp32", 4, True), check("bf16", 14, True), check("int8", 10, True)]) == "bf16"
    assert choose([check("fp32", 4, True), check("bf16", 14, False), check("int8", 10, True)]) == "int8"
    # Where a "faster" precision is slower here (bf16 emulated on an older CPU), fp32 stays.
    assert choose([check("fp32", 4, True), check("bf16", 3, True)]) == "fp32"


def test_layer_errors_single_out_the_layers_an_outlier_feeds(outlier_model: Path, tiny_siglip_dir: Path) -> None:
    images = generated_images(8)
    for folder, expected in ((tiny_siglip_dir, set()), (outlier_model, {"layers.0.", "layers.1."})):
        embedder = Embedder("t", folder, "siglip", "cpu", "fp32")
        errors = int8_errors(embedder.model(), lambda e=embedder: e.embed_images(images))
        assert len(errors) < len(quantizable_layers(embedder.model()))  # q/k/v grouped as one
        found = outlier_groups(errors)
        assert {g.split("encoder.")[1][:9] for g in found} == expected
        assert all("vision_model" in g for g in found)


def test_neighbour_overlap_is_the_share_of_nearest_neighbours_both_agree_on() -> None:
    import numpy as np

    def at(degrees: list[float]) -> np.ndarray:
        radians = np.radians(degrees)
        return np.stack([np.cos(radians), np.sin(radians)], axis=1)

    reference = at([0, 10, 30, 90])  # nearest: 0->10, 10->0, 30->10, 90->30
    assert neighbour_overlap(reference, reference, 1) == 1.0
    assert neighbour_overlap(reference, at([0, 25, 30, 90]), 1) == 0.75  # only 25's nearest changed (to 30)


def test_a_cancelled_check_stops_between_precisions(tiny_siglip_dir: Path) -> None:
    handle = TaskHandle()
    made: list[str] = []

    def make(precision: str, keep: Sequence[str]) -> Embedder:
        made.append(precision)
        handle.cancel()
        return load_embedder(str(tiny_siglip_dir), "cpu", precision)

    with pytest.raises(Cancelled):
        check_precisions(make, _sample, ["bf16", "int8"], handle)
    assert made == ["fp32"]
