"""The embedder, on tiny real SigLIP / SigLIP 2 checkpoints built from configs (no hub access needed)."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.embedding.embedder import (
    Embedder,
    _looks_complete,
    _progress_class,
    decode_size,
    load_embedder,
    stack_preprocessed,
)
from core.embedding.registry import KNOWN_MODELS
from core.errors import ModelError
from tests.imagegen import photo_like

REPO_ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ["siglip", "siglip2"]


@pytest.fixture(scope="module")
def embedders(tiny_siglip_dir: Path, tiny_siglip2_dir: Path) -> dict[str, Embedder]:
    # fp32 explicitly: these tests check parity with the HF reference; the CPU default is int8 (core.embedding.device).
    return {
        "siglip": load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp32"),
        "siglip2": load_embedder(str(tiny_siglip2_dir), device="cpu", precision="fp32"),
    }


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [photo_like(seed, (96, 72)) for seed in range(5)]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def reference_model(folder: Path) -> Any:
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(folder), use_safetensors=True, trust_remote_code=False).eval()


def reference_images(folder: Path, images: list[Image.Image]) -> np.ndarray:
    import torch
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(str(folder))
    with torch.inference_mode():
        out = reference_model(folder).get_image_features(**processor(images=images, return_tensors="pt"))
    return out.pooler_output.numpy()


def reference_texts(folder: Path, texts: list[str], **padding: Any) -> np.ndarray:
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    encoded = tokenizer([t.lower() for t in texts], truncation=True, return_tensors="pt", **padding)
    with torch.inference_mode():
        return reference_model(folder).get_text_features(**encoded).pooler_output.numpy()


# ---- loading ------------------------------------------------------------------------------------------------
def test_importing_the_embedder_does_not_import_torch() -> None:
    code = "import core.embedding.embedder, sys; assert 'torch' not in sys.modules; assert 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)


def test_auto_classes_pick_siglip_for_fixed_res_and_siglip2_for_naflex(
    tiny_siglip_dir: Path, tiny_siglip2_dir: Path, embedders: dict[str, Embedder]
) -> None:
    assert type(reference_model(tiny_siglip_dir)).__name__ == "SiglipModel"
    assert type(reference_model(tiny_siglip2_dir)).__name__ == "Siglip2Model"
    assert type(embedders["siglip"]._model_or_load()).__name__ == "SiglipModel"
    assert type(embedders["siglip2"]._model_or_load()).__name__ == "Siglip2Model"


def test_a_local_folder_loads_with_its_storage_key(
    embedders: dict[str, Embedder], tiny_siglip_dir: Path
) -> None:
    embedder = embedders["siglip"]
    assert embedder.key.startswith(f"local:{tiny_siglip_dir.name}-")
    assert (embedder.device, embedder.precision, embedder.dim) == ("cpu", "fp32", 32)
    assert embedder.batch_size == 8


def test_decode_size_is_the_fixed_size_or_the_naflex_square_side(embedders: dict[str, Embedder]) -> None:
    assert embedders["siglip"].image_size == 32  # the processor's 32x32
    assert embedders["siglip2"].image_size == 32  # patch 8 * sqrt(16 patches)


def test_decode_size_of_released_processors() -> None:
    from types import SimpleNamespace

    assert decode_size(SimpleNamespace(size={"height": 384, "width": 384})) == 384
    assert decode_size(SimpleNamespace(size={"shortest_edge": 256})) == 256
    # so400m-patch16-naflex with its default 256 patches: a square photo becomes 256 x 256.
    assert decode_size(SimpleNamespace(patch_size=16, max_num_patches=256, size=None)) == 256


def test_a_half_downloaded_snapshot_is_not_taken_for_a_cached_model(
    tiny_siglip_dir: Path, tmp_path: Path
) -> None:
    snapshot = Path(shutil.copytree(tiny_siglip_dir, tmp_path / "snapshot"))
    assert _looks_complete(snapshot)
    (snapshot / "model.safetensors").unlink()
    assert not _looks_complete(snapshot)
    (snapshot / "model.safetensors.index.json").write_text(
        '{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}'
    )
    (snapshot / "model-00001-of-00002.safetensors").write_bytes(b"")
    assert not _looks_complete(snapshot)
    (snapshot / "model-00002-of-00002.safetensors").write_bytes(b"")
    assert _looks_complete(snapshot)


def test_unknown_model_is_a_model_error_listing_the_keys() -> None:
    with pytest.raises(ModelError) as caught:
        load_embedder("no-such-model")
    assert all(key in str(caught.value) for key in KNOWN_MODELS)


def test_folder_with_only_pickle_weights_is_refused(tiny_siglip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_siglip_dir, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(
        ModelError, match=r"only safetensors weights are loaded; this folder holds only pickle"
    ):
        load_embedder(str(folder))


def test_offline_without_a_cached_copy_says_how_to_get_the_model(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from core.embedding.embedder import load_embedder\n"
        "from core.errors import ModelUnavailableError\n"
        "try:\n"
        "    load_embedder('siglip2-base-224')\n"
        "except ModelUnavailableError as error:\n"
        "    print(error)\n"
        "    sys.exit(0 if 'torch' not in sys.modules else 3)\n"
        "sys.exit(2)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 30
    message = done.stdout
    assert "siglip2-base-224" in message and "google/siglip2-base-patch16-224" in message
    assert "connect to the internet once to download it (~1,500 MB)" in message
    assert "choose a local model folder with --model /path" in message


def test_precision_not_offered_on_cpu_is_refused(tiny_siglip_dir: Path) -> None:
    with pytest.raises(ModelError, match="fp16"):
        load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp16")


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precisions_stay_close_to_fp32(
    precision: str, tiny_siglip_dir: Path, embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    reduced = load_embedder(str(tiny_siglip_dir), device="cpu", precision=precision)
    assert reduced.precision == precision
    vectors = reduced.embed_images(photos)
    assert vectors.dtype == np.float32
    assert cosines(vectors, embedders["siglip"].embed_images(photos)).min() > 0.98


# ---- images -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_image_vectors_are_unit_float32_rows(
    family: str, embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    vectors = embedders[family].embed_images(photos)
    assert vectors.shape == (len(photos), embedders[family].dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedders[family].embed_images([]).shape == (0, embedders[family].dim)


@pytest.mark.parametrize("family", FAMILIES)
def test_image_vectors_match_the_reference_model(
    family: str, request: pytest.FixtureRequest, embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    folder = request.getfixturevalue(f"tiny_{family}_dir")
    assert cosines(embedders[family].embed_images(photos), reference_images(folder, photos)).min() >= 0.999


@pytest.mark.parametrize("family", FAMILIES)
def test_preprocessed_path_matches_the_direct_path(
    family: str, embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    embedder = embedders[family]
    preprocess = pickle.loads(pickle.dumps(embedder.preprocessor()))  # as sent to a worker process
    items = [preprocess(photo) for photo in photos]
    assert cosines(embedder.embed_preprocessed(items), embedder.embed_images(photos)).min() >= 0.999


def test_preprocessed_items_have_no_batch_dimension(embedders: dict[str, Embedder]) -> None:
    photo = photo_like(1, (96, 48))
    fixed = embedders["siglip"].preprocessor()(photo)
    assert {k: (v.shape, v.dtype) for k, v in fixed.items()} == {"pixel_values": ((3, 32, 32), np.float32)}
    naflex = embedders["siglip2"].preprocessor()(photo)
    assert naflex["pixel_values"].shape == (16, 8 * 8 * 3)
    assert naflex["pixel_attention_mask"].shape == (16,)
    rows, cols = naflex["spatial_shapes"].tolist()
    assert rows * cols <= 16 and cols > rows  # a wide photo stays wide within 16 patches


def test_naflex_batch_mixes_aspect_ratios(tiny_siglip2_dir: Path, embedders: dict[str, Embedder]) -> None:
    embedder = embedders["siglip2"]
    shapes = [(120, 40), (40, 120), (80, 80), (100, 60)]
    mixed = [photo_like(seed, size) for seed, size in enumerate(shapes)]
    together = embedder.embed_images(mixed)
    alone = np.concatenate([embedder.embed_images([image]) for image in mixed])
    assert cosines(together, alone).min() >= 0.999
    assert cosines(together, reference_images(tiny_siglip2_dir, mixed)).min() >= 0.999
    items = [embedder.preprocessor()(image) for image in mixed]
    assert len({tuple(item["spatial_shapes"]) for item in items}) == len(shapes)
    assert cosines(embedder.embed_preprocessed(items), together).min() >= 0.999


def test_stacking_pads_patch_arrays_of_different_budgets() -> None:
    short = {"pixel_values": np.ones((2, 3), np.float32), "pixel_attention_mask": np.ones(2, np.int32)}
    long = {"pixel_values": np.ones((4, 3), np.float32), "pixel_attention_mask": np.ones(4, np.int32)}
    batch = stack_preprocessed([short, long])
    assert batch["pixel_values"].shape == (2, 4, 3)
    assert batch["pixel_attention_mask"].tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]


@pytest.mark.parametrize("family", FAMILIES)
def test_batches_split_internally_give_the_same_vectors(
    family: str, embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    embedder = embedders[family]
    size = embedder.forward_size
    try:
        embedder.forward_size = len(photos)
        whole = embedder.embed_images(photos)
        embedder.forward_size = 2
        split = embedder.embed_images(photos)
    finally:
        embedder.forward_size = size
    assert cosines(split, whole).min() >= 0.999


def test_on_cpu_a_photos_int8_vector_does_not_depend_on_what_it_was_embedded_with(
    tiny_siglip_dir: Path, photos: list[Image.Image]
) -> None:
    embedder = load_embedder(str(tiny_siglip_dir), device="cpu", precision="int8")
    pre = embedder.preprocessor()
    items = [pre(photo) for photo in photos]
    together = embedder.embed_preprocessed(items)  # one pipeline batch
    for i, item in enumerate(items):
        np.testing.assert_array_equal(embedder.embed_preprocessed([item])[0], together[i])


@pytest.mark.parametrize("family", FAMILIES)
def test_duplicates_are_identical_and_different_photos_differ(
    family: str, embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    vectors = embedders[family].embed_images([*photos, photos[0].copy()])
    similarity = vectors @ vectors[0]
    assert similarity[-1] == pytest.approx(1.0, abs=1e-5)
    assert similarity[1:-1].max() < 0.999  # every other photo ranks below the exact duplicate


def test_unload_frees_the_model_and_the_next_call_reloads_it(
    embedders: dict[str, Embedder], photos: list[Image.Image]
) -> None:
    embedder = embedders["siglip"]
    before = embedder.embed_images(photos[:2])
    embedder.unload()
    assert not embedder.loaded
    after = embedder.embed_images(photos[:2])
    assert embedder.loaded
    np.testing.assert_allclose(after, before, atol=1e-6)


# ---- text ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_text_vectors_match_the_reference_with_max_length_padding(
    family: str, request: pytest.FixtureRequest, embedders: dict[str, Embedder]
) -> None:
    folder = request.getfixturevalue(f"tiny_{family}_dir")
    texts = ["a red car on the street", "Birthday CAKE", "a"]
    vectors = embedders[family].embed_texts(texts)
    assert vectors.shape == (3, embedders[family].dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    reference = reference_texts(folder, texts, padding="max_length", max_length=64)
    assert cosines(vectors, reference).min() >= 0.999


@pytest.mark.parametrize("family", FAMILIES)
def test_text_padding_is_max_length_not_longest(
    family: str, request: pytest.FixtureRequest, embedders: dict[str, Embedder]
) -> None:
    folder = request.getfixturevalue(f"tiny_{family}_dir")
    vector = embedders[family].embed_texts(["a"])
    padded_to_longest = reference_texts(folder, ["a"], padding=True)
    assert cosines(vector, padded_to_longest)[0] < 0.99  # padding=True would change the vector


@pytest.mark.parametrize("family", FAMILIES)
def test_text_is_lower_cased(family: str, embedders: dict[str, Embedder]) -> None:
    shouted, quiet = embedders[family].embed_texts(["RED Shoes", "red shoes"])
    np.testing.assert_allclose(shouted, quiet, atol=1e-6)


def test_gemma_tokenizer_alone_would_not_lower_case(tiny_siglip_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_siglip_dir))
    assert type(tokenizer).__name__ == "GemmaTokenizer"
    assert tokenizer("RED Shoes")["input_ids"] != tokenizer("red shoes")["input_ids"]


def test_long_text_is_truncated_to_the_text_positions(embedders: dict[str, Embedder]) -> None:
    vector = embedders["siglip"].embed_texts(["red " * 200])
    assert vector.shape == (1, 32)


# ---- download progress --------------------------------------------------------------------------------------
def test_download_progress_reports_the_bytes_bar_only() -> None:
    reports: list[tuple[int, int]] = []
    bar_class = _progress_class(lambda done, total: reports.append((done, total)))
    # As huggingface_hub's snapshot_download uses its tqdm_class: a file-count bar, a network bar and
    # the bytes-on-disk bar whose total grows as each file starts.
    files = bar_class(total=2, desc="Fetching 2 files")
    network = bar_class(desc="Downloading bytes", total=0, unit="B", unit_scale=True)
    disk = bar_class(desc="Reconstructing (incomplete total...)", total=0, initial=0, unit="B")
    disk.total = 1_000
    network.update(300)
    disk.update(400)
    files.update(1)
    disk.total += 500
    disk.update(1_100)
    assert reports == [(400, 1_000), (1_500, 1_500)]


@pytest.mark.parametrize("family", ["siglip", "siglip2"])
@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_fast_decode_path_embeds_like_the_full_decode(
    embedders: dict[str, Embedder], tmp_path: Path, family: str, fmt: str
) -> None:
    """The JPEG draft / HEIC thumbnail fast path must not change what the model sees (cosine >= 0.99).

    NaFlex is checked at the released patch budget (256 patches): at the tiny model's 16 patches (a
    32-pixel image) any two resamplings differ more than the fast path does at real sizes."""
    import json

    from core.imaging.decode import open_image
    from tests.imagegen import write_photo

    embedder = embedders[family]
    if family == "siglip2":
        folder = Path(shutil.copytree(embedder.folder, tmp_path / "naflex-256"))
        config = json.loads((folder / "preprocessor_config.json").read_text())
        (folder / "preprocessor_config.json").write_text(json.dumps({**config, "max_num_patches": 256}))
        embedder = load_embedder(str(folder), device="cpu", precision="fp32")
    suffix = ".jpg" if fmt == "JPEG" else ".heic"
    paths = [write_photo(tmp_path / f"p{i}{suffix}", seed=300 + i, size=(2400, 1800)) for i in range(4)]
    fast = embedder.embed_images([open_image(p, target=embedder.image_size) for p in paths])
    full = embedder.embed_images([open_image(p) for p in paths])
    cosines = (fast * full).sum(axis=1)
    assert cosines.min() >= 0.99, cosines
