"""The embedder, on tiny real SigLIP / SigLIP 2 checkpoints built from configs (no hub access needed)."""

from __future__ import annotations

import pickle
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.embedding.embedder import Embedder, load_embedder
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
# Every module of the package, found on disk so a new one is checked without being listed here.
EMBEDDING_MODULES = sorted(
    f"core.embedding.{m.name}" for m in pkgutil.iter_modules([str(REPO_ROOT / "core" / "embedding")])
)


def test_importing_the_embedder_does_not_import_torch() -> None:
    code = "import core.embedding.embedder, sys; assert 'torch' not in sys.modules; assert 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)


@pytest.mark.parametrize("module", EMBEDDING_MODULES)
def test_no_embedding_module_imports_torch_or_transformers_or_the_hub(module: str) -> None:
    assert {"core.embedding.model_files", "core.embedding.loading", "core.embedding.image_inputs"} <= set(
        EMBEDDING_MODULES
    )
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(n for n in ('torch', 'transformers', 'huggingface_hub', 'tqdm') if n in sys.modules)\n"
        "sys.exit(f'imported {heavy}' if heavy else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


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


def test_unknown_model_is_a_model_error_listing_the_keys() -> None:
    with pytest.raises(ModelError) as caught:
        load_embedder("no-such-model")
    assert all(key in str(caught.value) for key in KNOWN_MODELS)


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


def test_long_text_is_truncated_to_the_text_positions(embedders: dict[str, Embedder]) -> None:
    vector = embedders["siglip"].embed_texts(["red " * 200])
    assert vector.shape == (1, 32)


@pytest.mark.parametrize("family", ["siglip", "siglip2"])
@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_fast_decode_path_embeds_like_the_full_decode(
    embedders: dict[str, Embedder], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, family: str, fmt: str
) -> None:
    """The JPEG draft / HEIC thumbnail fast path must not change what the model sees (cosine >= 0.99).

    NaFlex is checked at the released patch budget (256 patches): at the tiny model's 16 patches (a
    32-pixel image) any two resamplings differ more than the fast path does at real sizes."""
    import json

    from core.imaging.decode import open_image

    embedder = embedders[family]
    if family == "siglip2":
        folder = Path(shutil.copytree(embedder.folder, tmp_path / "naflex-256"))
        config = json.loads((folder / "preprocessor_config.json").read_text())
        (folder / "preprocessor_config.json").write_text(json.dumps({**config, "max_num_patches": 256}))
        embedder = load_embedder(str(folder), device="cpu", precision="fp32")
    paths = _fast_path_photos(fmt, tmp_path_factory)
    fast = embedder.embed_images([open_image(p, target=embedder.image_size) for p in paths])
    full = embedder.embed_images([open_image(p) for p in paths])
    cosines = (fast * full).sum(axis=1)
    assert cosines.min() >= 0.99, cosines


_FAST_PATH_PHOTOS: dict[str, list[Path]] = {}


def _fast_path_photos(fmt: str, factory: pytest.TempPathFactory) -> list[Path]:
    """Four 2400x1800 photos in `fmt`, written once for both model families (a HEIC takes seconds to encode)."""
    from tests.imagegen import write_photo

    if fmt not in _FAST_PATH_PHOTOS:
        folder = factory.mktemp(f"fast-path-{fmt}")
        suffix = ".jpg" if fmt == "JPEG" else ".heic"
        _FAST_PATH_PHOTOS[fmt] = [
            write_photo(folder / f"p{i}{suffix}", seed=300 + i, size=(2400, 1800)) for i in range(4)
        ]
    return _FAST_PATH_PHOTOS[fmt]
