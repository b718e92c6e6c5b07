"""Reading a model folder into torch, on tiny real SigLIP / SigLIP 2 checkpoints (no hub access needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.embedding.embedder import load_embedder
from core.embedding.loading import load_model, load_tokenizer
from core.errors import ModelError
from tests.imagegen import photo_like


def test_auto_classes_pick_siglip_for_fixed_res_and_siglip2_for_naflex(
    tiny_siglip_dir: Path, tiny_siglip2_dir: Path
) -> None:
    from transformers import AutoModel

    for folder, family, name in ((tiny_siglip_dir, "siglip", "SiglipModel"), (tiny_siglip2_dir, "siglip2", "Siglip2Model")):
        assert type(AutoModel.from_pretrained(str(folder), use_safetensors=True)).__name__ == name
        assert type(load_model(folder, family, "cpu", "fp32")).__name__ == name  # type: ignore[arg-type]


def test_a_folder_of_the_other_family_is_refused(tiny_siglip_dir: Path) -> None:
    with pytest.raises(ModelError, match="loaded as SiglipModel, not Siglip2Model"):
        load_model(tiny_siglip_dir, "siglip2", "cpu", "fp32")


def test_folder_with_only_pickle_weights_is_refused(tiny_siglip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_siglip_dir, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(
        ModelError, match=r"only safetensors weights are loaded; this folder holds only pickle"
    ):
        load_embedder(str(folder))


def test_a_damaged_weights_file_is_a_model_error_naming_the_folder(tiny_siglip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_siglip_dir, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(b"\x08" + b"\x00" * 7 + b"not a header")  # a download cut short, a bad disk
    with pytest.raises(ModelError, match=f"The model in {folder} cannot be loaded"):
        load_model(folder, "siglip", "cpu", "fp32")


def test_precision_not_offered_on_cpu_is_refused(tiny_siglip_dir: Path) -> None:
    with pytest.raises(ModelError, match="fp16"):
        load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp16")


def test_int8_quantizes_the_linear_layers_but_not_the_patch_embedding(tiny_siglip2_dir: Path) -> None:
    import torch

    model = load_model(tiny_siglip2_dir, "siglip2", "cpu", "int8")
    kinds = {name: type(module) for name, module in model.named_modules()}
    feed_forward = [kind for name, kind in kinds.items() if name.endswith("mlp.fc1")]
    assert feed_forward and torch.nn.Linear not in feed_forward  # every layer's first MLP layer is int8
    assert kinds["vision_model.embeddings.patch_embedding"] is torch.nn.Linear  # read for its dtype


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precisions_stay_close_to_fp32(precision: str, tiny_siglip_dir: Path) -> None:
    photos = [photo_like(seed, (96, 72)) for seed in range(5)]
    reduced = load_embedder(str(tiny_siglip_dir), device="cpu", precision=precision)
    assert reduced.precision == precision
    vectors = reduced.embed_images(photos)
    assert vectors.dtype == np.float32
    full = load_embedder(str(tiny_siglip_dir), device="cpu", precision="fp32").embed_images(photos)
    assert np.sum(vectors * full, axis=1).min() > 0.98  # both are unit rows: the sum is the cosine


def test_gemma_tokenizer_alone_would_not_lower_case(tiny_siglip_dir: Path) -> None:
    tokenizer = load_tokenizer(tiny_siglip_dir)
    assert type(tokenizer).__name__ == "GemmaTokenizer"
    assert tokenizer("RED Shoes")["input_ids"] != tokenizer("red shoes")["input_ids"]


_LOAD_FROM_THREADS = """
import sys, threading
from core.embedding.embedder import load_embedder
from core.embedding.image_inputs import image_processor
errors = []
def run(load):
    try:
        load()
    except Exception as error:
        errors.append(repr(error))
loads = [lambda: load_embedder(sys.argv[1], "cpu", "fp32")] * 7 + [lambda: image_processor(sys.argv[1])]
threads = [threading.Thread(target=run, args=(load,)) for load in loads]
for t in threads: t.start()
for t in threads: t.join()
print(errors)
"""


def test_first_loads_on_several_threads_at_once_all_succeed(tiny_siglip_dir: Path) -> None:
    # In a fresh process, so transformers is imported for the first time by the racing threads (as when the
    # app's first search and the precision check load the model together). Unguarded, about one such run in
    # three failed with "cannot import name 'AutoModel' from 'transformers'": a race, so this catches a
    # regression often, not always (each run costs seconds of imports).
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", _LOAD_FROM_THREADS, str(tiny_siglip_dir)], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip().splitlines()[-1] == "[]", run.stdout + run.stderr
