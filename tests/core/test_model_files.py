"""Finding a model's files: the hub cache, half-finished downloads, download progress and the offline
first run (no hub access needed: offline runs use HF_HUB_OFFLINE and an empty cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.embedding.model_files import _looks_complete, _progress_class, offline_error
from core.embedding.registry import KNOWN_MODELS, ResolvedModel

REPO_ROOT = Path(__file__).resolve().parents[2]

# Asks for a model with an empty hub cache and the hub switched off; prints the error's message, then its
# fields on one line. Exit 0 only if it raised ModelUnavailableError without importing torch.
OFFLINE_RUN = (
    "import sys\n"
    "from core.embedding.embedder import load_embedder\n"
    "from core.errors import ModelUnavailableError\n"
    "try:\n"
    "    load_embedder(sys.argv[1])\n"
    "except ModelUnavailableError as error:\n"
    "    print(error)\n"
    "    print(f'fields: {error.model} {error.download_size}')\n"
    "    sys.exit(0 if 'torch' not in sys.modules else 3)\n"
    "sys.exit(2)\n"
)


def ask_offline(model: str, tmp_path: Path) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_RUN, model], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 30
    return done.stdout


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


def test_offline_without_a_cached_copy_says_how_to_get_the_model(tmp_path: Path) -> None:
    message = ask_offline("siglip2-base-224", tmp_path)
    assert "siglip2-base-224" in message and "google/siglip2-base-patch16-224" in message
    assert "connect to the internet once to download it (~1,500 MB)" in message
    assert "choose a local model folder with --model /path" in message


@pytest.mark.parametrize("key", ["siglip-base-384", "siglip2-so400m-384"])
def test_the_offline_message_quotes_the_size_of_the_model_asked_for(key: str, tmp_path: Path) -> None:
    size = f"~{KNOWN_MODELS[key].download_mb:,} MB"
    assert size != "~1,500 MB"  # a size other than the default model's, so a fixed number would fail
    output = ask_offline(key, tmp_path)
    assert f"download it ({size})" in output
    assert "1,500" not in output
    assert f"fields: {key} {size}" in output  # what the GUI words its own advice from


def test_a_model_of_unknown_size_is_offered_without_a_size() -> None:
    spec = replace(KNOWN_MODELS["siglip2-base-224"], download_mb=0)
    error = offline_error(ResolvedModel(spec.key, spec.repo_id, spec.revision, spec))
    assert error.download_size is None and "MB" not in str(error)
    assert "connect to the internet once to download it, or choose a local model folder" in str(error)


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
