"""Tiny SigLIP / SigLIP 2 checkpoints built from configs, for tests that cannot reach the Hugging Face hub.

Each builder writes a folder laid out like a hub snapshot (config.json, model.safetensors, tokenizer files,
preprocessor_config.json) so the real loading code in `core.embedding.loading` is exercised end to end. The configs
mirror the released checkpoints in everything that changes behaviour (tokenizer class, right padding, EOS
appended, no attention mask, 64 text positions, bilinear resize, mean/std 0.5) and shrink only the sizes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Words the tiny tokenizer learns; anything else falls back to byte tokens, as Gemma's does.
# fmt: off
_WORDS = [
    "a", "an", "the", "of", "on", "in", "at", "with", "and", "red", "blue", "green", "yellow", "white",
    "black", "shoes", "shoe", "dog", "dogs", "cat", "cats", "photo", "picture", "beach", "sunset",
    "mountain", "mountains", "car", "cars", "street", "city", "tree", "trees", "house", "snow", "night",
    "portrait", "people", "person", "child", "children", "flower", "flowers", "sea", "lake", "sky",
    "cloud", "clouds", "birthday", "cake",
]
# fmt: on
_SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]  # Gemma's ids 0..4
_BYTE_TOKENS = [f"<0x{i:02X}>" for i in range(256)]

_TINY_TEXT = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    # 64 like every released checkpoint: max_length padding depends on it.
    "max_position_embeddings": 64,
    "pad_token_id": 0,
    "bos_token_id": 2,
    "eos_token_id": 1,
}
_TINY_VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}


def _train_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A BPE vocabulary over ▁-prefixed pieces, laid out like Gemma's (specials, then byte fallback)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    # Split before each ▁ so pieces look like Gemma's ("red", "▁shoes"); no merge crosses a word boundary.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    corpus = [" ".join(_WORDS[i : i + 6]) for i in range(len(_WORDS))] * 3
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=_SPECIAL_TOKENS + _BYTE_TOKENS, show_progress=False
    )
    tok.train_from_iterator(corpus, trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return model["vocab"], merges  # type: ignore[return-value]


def _save_tokenizer(folder: Path) -> int:
    """Save a GemmaTokenizer configured as SigLIP 2's hub tokenizer; returns its vocabulary size."""
    from transformers import GemmaTokenizer

    vocab, merges = _train_vocab()
    tokenizer = GemmaTokenizer(
        vocab=vocab,
        merges=merges,
        # As google/siglip2-*: EOS appended, no BOS, right padding, and no attention mask (the original
        # model attends to the padding it was trained with).
        add_bos_token=False,
        add_eos_token=True,
        padding_side="right",
        model_input_names=["input_ids"],
    )
    tokenizer.save_pretrained(folder)
    return len(vocab)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


# What every tiny processor shares with the released ones: bilinear resize, [-1, 1] normalisation.
_PROCESSOR_COMMON = {
    "do_resize": True,
    "resample": 2,  # BILINEAR, as the SigLIP 2 checkpoints use
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "do_convert_rgb": True,
}


def _save_model(folder: Path, seed: int, make_model: Any, processor: dict[str, Any]) -> Path:
    """Tokenizer, seeded random weights (safetensors) and the processor config, as save_pretrained lays them out."""
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab_size = _save_tokenizer(folder)
    torch.manual_seed(seed)
    make_model({**_TINY_TEXT, "vocab_size": vocab_size}).eval().save_pretrained(folder)
    _write_json(folder / "preprocessor_config.json", {**processor, **_PROCESSOR_COMMON})
    return folder


def build_tiny_siglip(folder: Path, seed: int = 0) -> Path:
    """A fixed-resolution checkpoint (model_type "siglip", like google/siglip2-base-patch16-224)."""
    from transformers import SiglipConfig, SiglipModel

    def make(text: dict[str, Any]) -> Any:
        vision = {**_TINY_VISION, "image_size": 32, "patch_size": 8}
        return SiglipModel(SiglipConfig(text_config=text, vision_config=vision))

    processor = {"image_processor_type": "SiglipImageProcessor", "processor_class": "SiglipProcessor",
                 "size": {"height": 32, "width": 32}}
    return _save_model(folder, seed, make, processor)


def build_tiny_siglip2(folder: Path, seed: int = 0) -> Path:
    """A NaFlex checkpoint (model_type "siglip2", like google/siglip2-so400m-patch16-naflex)."""
    from transformers import Siglip2Config, Siglip2Model

    def make(text: dict[str, Any]) -> Any:
        # num_patches is the learned position grid (4x4 here, 16x16 released); NaFlex resizes it per image.
        vision = {**_TINY_VISION, "patch_size": 8, "num_patches": 16}
        return Siglip2Model(Siglip2Config(text_config=text, vision_config=vision))

    processor = {"image_processor_type": "Siglip2ImageProcessor", "processor_class": "Siglip2Processor",
                 "patch_size": 8, "max_num_patches": 16}
    return _save_model(folder, seed, make, processor)


def add_activation_outliers(folder: Path, scale: float = 50.0, channel: int = 3, before_mlp: bool = False) -> Path:
    """Give a saved model's vision layers an activation outlier, as trained ViTs have ("massive activations").

    One channel of each layer's first LayerNorm (weight and bias) is multiplied by `scale` and the matching
    input column of the q/k/v projections it feeds divided by it: the fp32 model computes the same function,
    but the activations q/k/v read carry one channel `scale` times larger than the rest, which ruins
    per-tensor int8 activation scales and leaves bf16's per-value precision unharmed. `before_mlp` does the
    same to the second LayerNorm and the MLP's first layer."""
    from safetensors.torch import load_file, save_file

    path = Path(folder) / "model.safetensors"
    weights = load_file(path)
    layers = sorted({name.split(".layers.")[1].split(".")[0] for name in weights if "vision_model.encoder.layers." in name})
    for layer in layers:
        prefix = f"vision_model.encoder.layers.{layer}."
        _scale_channel(weights, prefix + "layer_norm1", [prefix + f"self_attn.{p}_proj" for p in "qkv"], channel, scale)
        if before_mlp:
            _scale_channel(weights, prefix + "layer_norm2", [prefix + "mlp.fc1"], channel, scale)
    save_file(weights, path, metadata={"format": "pt"})
    return Path(folder)


def _scale_channel(weights: dict[str, Any], norm: str, readers: list[str], channel: int, scale: float) -> None:
    weights[norm + ".weight"][channel] *= scale
    weights[norm + ".bias"][channel] *= scale
    for reader in readers:
        weights[reader + ".weight"][:, channel] /= scale


def write_tokenizer(folder: Path) -> int:
    """Give a model folder built without one (benchmarks' full-size random models) the tiny Gemma tokenizer,
    so text queries run; its ids fit any SigLIP 2 vocabulary. Returns its vocabulary size."""
    return _save_tokenizer(Path(folder))


def set_match_calibration(folder: Path, scale: float, bias: float) -> Path:
    """Give a saved model SigLIP's calibration: sigmoid(scale * cosine + bias) (logit_scale stores log(scale))."""
    import math

    import torch
    from safetensors.torch import load_file, save_file

    path = Path(folder) / "model.safetensors"
    weights = load_file(path)
    weights["logit_scale"] = torch.tensor([math.log(scale)], dtype=weights["logit_scale"].dtype)
    weights["logit_bias"] = torch.tensor([bias], dtype=weights["logit_bias"].dtype)
    save_file(weights, path, metadata={"format": "pt"})
    return Path(folder)


def calibrated_to_cut(tiny: Path, dest: Path, photos: list[Path], text: str, keep: int, scale: float = 20.0) -> tuple[Path, float]:
    """A copy of the tiny model at `dest` calibrated so that, for `text`, the model's own match threshold
    (sigmoid(scale * cosine + bias) = 0.5) falls between its `keep`-th and next best of `photos`.
    Returns the copy and its bias."""
    import shutil

    import numpy as np

    from core.embedding.embedder import load_embedder
    from core.imaging.decode import open_image

    probe = load_embedder(str(tiny), device="cpu", precision="fp32")
    images = probe.embed_images([open_image(p, target=probe.image_size) for p in photos])
    query = probe.embed_texts([text])[0]
    cosines = sorted((images @ query / np.linalg.norm(images, axis=1) / np.linalg.norm(query)).tolist(), reverse=True)
    bias = -scale * (cosines[keep - 1] + cosines[keep]) / 2
    return set_match_calibration(Path(shutil.copytree(tiny, dest)), scale=scale, bias=bias), bias
