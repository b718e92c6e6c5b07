"""The registry of known models and resolving a `--model` value (registry key, repo id or local folder).

Nothing here imports torch or transformers: resolving is cheap and runs before the GUI shows a window.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from core.errors import ModelError

Family = Literal["siglip", "siglip2"]
FAMILIES: tuple[Family, ...] = ("siglip", "siglip2")


@dataclass(frozen=True)
class ModelSpec:
    key: str  # the storage key: vectors in the library are stored under it
    repo_id: str
    revision: str  # a commit sha, so a hub update can never silently change stored vectors
    family: Family  # config model_type: "siglip" fixed resolution, "siglip2" NaFlex
    label: str  # for people
    download_mb: int = 0  # approximate size of what we download (weights + tokenizer); 0: size unknown

    @property
    def download_size(self) -> str | None:
        """The download size as messages quote it ("~1,500 MB"), or None when it is unknown."""
        return f"~{self.download_mb:,} MB" if self.download_mb else None


# Revisions are commit shas, so a hub update can never silently change the vectors stored under a key.
# They were read from public code that pins these repos (MTEB's model registry among them); no machine
# this was written on reaches the hub to re-check them. Bump one deliberately, with a new storage key
# if the weights changed.
#
# Download sizes (MB = 10^6 bytes) are what ALLOW_PATTERNS in core.embedding.model_files fetches: the fp32
# model.safetensors plus the tokenizer (the SigLIP 2 Gemma tokenizer: tokenizer.json ~34 MB and
# tokenizer.model 4.24 MB, per the hub's file page of google/siglip2-base-patch16-224 and of a redistribution
# of it; SigLIP 1: spiece.model 798 kB and tokenizer.json 2.4 MB). Weights are 4 bytes per parameter. No
# machine this was written on reaches the hub, so each number says where it was read; rounded to 100 MB
# (10 MB below 1 GB), they are for messages only.

DEFAULT_MODEL = "siglip2-base-224"

KNOWN_MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            "siglip2-base-224",
            "google/siglip2-base-patch16-224",
            "75de2d55ec2d0b4efc50b3e9ad70dba96a7b2fa2",
            "siglip",
            "SigLIP 2 B/16 224 (default)",
            # 375,187,970 fp32 parameters (its hub page, as a model catalogue quotes it) = 1,501 MB
            # + tokenizer 38 MB = ~1,540 MB.
            1_500,
        ),
        ModelSpec(
            "siglip2-base-256",
            "google/siglip2-base-patch16-256",
            "3f9f96cb90da5dbc758b01813f2f6f1aee24c1ab",
            "siglip",
            "SigLIP 2 B/16 256",
            # Derived, not read: B/16-224's tensors but 256 position embeddings instead of 196 (+0.2 MB).
            1_500,
        ),
        ModelSpec(
            "siglip2-base-384",
            "google/siglip2-base-patch16-384",
            "f775b65a79762255128c981547af89addcfe0f88",
            "siglip",
            "SigLIP 2 B/16 384",
            # Derived, not read: B/16-224's tensors but 576 position embeddings instead of 196 (+1.2 MB).
            1_500,
        ),
        ModelSpec(
            "siglip2-so400m-384",
            "google/siglip2-so400m-patch14-384",
            "e8e487298228002f3d8a82e0cd5c8ea9c567f57f",
            "siglip",
            "SigLIP 2 So400m/14 384 (large, slow on CPU)",
            # Derived, not read: siglip2-so400m-patch16-512 has 1,136,556,698 fp32 parameters (same catalogue)
            # (4,546 MB); patch 14 at 384 has 729 positions instead of 1024 and a smaller patch kernel
            # (-2 MB together) + tokenizer 38 MB = ~4,580 MB.
            4_600,
        ),
        ModelSpec(
            "siglip2-so400m-naflex",
            "google/siglip2-so400m-patch16-naflex",
            "cc24074f717b612951c2dead130904ab9b65a81e",
            "siglip2",
            "SigLIP 2 So400m/16 NaFlex (keeps aspect ratio; large)",
            # Derived, not read: as So400m/16-512 (4,546 MB) with 256 position embeddings instead of
            # 1024 (-3.5 MB) + tokenizer 38 MB = ~4,580 MB.
            4_600,
        ),
        ModelSpec(
            "siglip-base-384",
            "google/siglip-base-patch16-384",
            "41aec1c83b32e0a6fca20ad88ba058aa5b5ea394",
            "siglip",
            "SigLIP 1 B/16 384",
            # The hub's file list: model.safetensors 814 MB + spiece.model 0.8 MB + tokenizer.json 2.4 MB
            # (added by the pinned revision 41aec1c) = ~817 MB.
            820,
        ),
    )
}


class ResolvedModel(NamedTuple):
    key: str  # storage key
    source: str  # hub repo id, or an absolute folder path
    revision: str | None  # None for a local folder
    spec: ModelSpec | None  # None for a local folder

    @property
    def is_local(self) -> bool:
        return self.spec is None


PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")


def resolve_model(model: str) -> ResolvedModel:
    """A registry key, a registry repo id, or a local folder with config.json and *.safetensors."""
    if model in KNOWN_MODELS:
        spec = KNOWN_MODELS[model]
        return ResolvedModel(spec.key, spec.repo_id, spec.revision, spec)
    for spec in KNOWN_MODELS.values():
        if model == spec.repo_id:
            return ResolvedModel(spec.key, spec.repo_id, spec.revision, spec)
    folder = Path(model).expanduser()
    if folder.is_dir():
        folder = folder.resolve()
        check_model_folder(folder)
        return ResolvedModel(local_key(folder), str(folder), None, None)
    known = ", ".join(KNOWN_MODELS)
    raise ModelError(
        f"Unknown model {model!r}. Known models: {known}; or give a local folder holding "
        "config.json and *.safetensors."
    )


def check_model_folder(folder: Path) -> Family:
    """Raise ModelError unless `folder` holds a SigLIP / SigLIP 2 config and safetensors weights."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelError(f"{folder} is not a model folder: it has no config.json.")
    if not _safetensors_files(folder):
        if any((folder / name).exists() for name in PICKLE_WEIGHTS):
            raise ModelError(
                f"{folder}: only safetensors weights are loaded; this folder holds only pickle weights "
                "(pytorch_model.bin), which can run arbitrary code when loaded. Convert them to "
                "model.safetensors or choose another folder."
            )
        raise ModelError(f"{folder} has no model weights (*.safetensors).")
    return _family(config_path)


def _family(config_path: Path) -> Family:
    try:
        model_type = json.loads(config_path.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as error:
        raise ModelError(f"{config_path} cannot be read: {error}") from error
    for family in FAMILIES:
        if model_type == family:
            return family
    raise ModelError(
        f"{config_path.parent} holds a {model_type!r} model; only SigLIP and SigLIP 2 "
        "(model_type 'siglip' or 'siglip2') can be used."
    )


def local_key(folder: Path) -> str:
    """`local:<name>-<hash>`: stable across sessions, and changes when config or weights change.

    Weight file sizes stand in for their contents: hashing gigabytes on every start would be slow, and a
    different model (or a re-conversion) changes config.json or a tensor size.
    """
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    for path in _safetensors_files(folder):
        digest.update(f"\0{path.name}\0{path.stat().st_size}".encode())
    return f"local:{folder.name}-{digest.hexdigest()[:12]}"


def _safetensors_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.safetensors"))
