"""Finding a model's files: a local folder as given, else the hub cache, else a download (with progress).

A hub failure becomes one of the core's typed errors: ModelUnavailableError when the model is not on this
computer and the hub cannot be reached (the offline first run), ModelError otherwise. huggingface_hub and
tqdm are imported inside functions, like torch elsewhere: importing this module stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.embedding.registry import ResolvedModel
from core.errors import ModelError, ModelUnavailableError

DownloadProgress = Callable[[int, int], None]  # (bytes done, bytes total); total grows as files start

# What we fetch from the hub: configs, tokenizer files (tokenizer.json, spiece.model / tokenizer.model are
# data, not code) and safetensors weights. Never pickle (*.bin) or other framework weights.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.model"]


def fetch_model(resolved: ResolvedModel, progress: DownloadProgress | None = None) -> Path:
    """The folder holding the model: the local folder itself, the hub cache, or a fresh download.

    Downloads resume: the hub keeps partial files (*.incomplete) and continues them on the next try.
    `progress` is called on the hub's download threads.
    """
    if resolved.spec is None:
        return Path(resolved.source)
    cached = _cached_snapshot(resolved)
    if cached is not None:
        return cached
    return _download(resolved, progress)


def _cached_snapshot(resolved: ResolvedModel) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        folder = Path(
            snapshot_download(
                resolved.source,
                revision=resolved.revision,
                allow_patterns=ALLOW_PATTERNS,
                local_files_only=True,
            )
        )
    except Exception:  # noqa: BLE001 - any cache miss (absent, partial, unreadable) means "download"
        return None
    return folder if _looks_complete(folder) else None


def _looks_complete(folder: Path) -> bool:
    # The hub returns a snapshot folder even when an earlier download stopped half-way (finished files are
    # linked into it one by one), so check that every file the model needs is there.
    required = ["config.json", "preprocessor_config.json"]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            required += sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError):
            return False
    elif not any(folder.glob("*.safetensors")):
        return False
    return all((folder / name).is_file() for name in required)


def _download(resolved: ResolvedModel, progress: DownloadProgress | None) -> Path:
    from huggingface_hub import snapshot_download

    assert resolved.spec is not None
    try:
        folder = snapshot_download(
            resolved.source,
            revision=resolved.revision,
            allow_patterns=ALLOW_PATTERNS,
            tqdm_class=_progress_class(progress) if progress else None,
        )
    except Exception as error:  # noqa: BLE001 - translated into the core's typed errors
        raise _download_error(resolved, error) from error
    return Path(folder)


def _download_error(resolved: ResolvedModel, error: Exception) -> ModelError:
    from huggingface_hub import errors as hub

    spec = resolved.spec
    assert spec is not None
    if isinstance(error, (hub.RepositoryNotFoundError, hub.RevisionNotFoundError, hub.GatedRepoError)):
        return ModelError(f"{spec.repo_id} at revision {spec.revision} is not available on the hub: {error}")
    if _is_network_error(error):
        return offline_error(resolved)
    return ModelError(f"Downloading {spec.repo_id} failed: {error}")


def offline_error(resolved: ResolvedModel) -> ModelUnavailableError:
    """The offline first run, quoting the download size of the model asked for (when the registry knows
    it). The message is worded for the command line; the GUI words its own from the error's fields."""
    spec = resolved.spec
    assert spec is not None  # a local folder is never downloaded, so it is never unavailable
    size = f" ({spec.download_size})" if spec.download_size else ""
    return ModelUnavailableError(
        f"The model {spec.key} ({spec.repo_id}) is not on this computer yet and cannot be downloaded "
        f"now. To use it, connect to the internet once to download it{size}, "
        "or choose a local model folder with --model /path.",
        model=spec.key,
        download_size=spec.download_size,
    )


def _is_network_error(error: BaseException) -> bool:
    from huggingface_hub import errors as hub

    offline = (
        hub.LocalEntryNotFoundError,
        hub.OfflineModeIsEnabled,
        hub.HfHubHTTPError,
        ConnectionError,
        TimeoutError,
    )
    incomplete = getattr(hub, "IncompleteSnapshotError", None)  # newer huggingface_hub only
    if isinstance(error, offline) or (incomplete is not None and isinstance(error, incomplete)):
        return True
    # httpx / requests transport errors (the hub client changed between versions): name, not import.
    return type(error).__module__.split(".")[0] in (
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "requests",
        "urllib3",
    )


class _NullFile:
    """Where the download bars draw: we report through the callback, not to the terminal."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _progress_class(callback: DownloadProgress) -> type:
    """A tqdm class for `snapshot_download(tqdm_class=...)` that reports byte progress to `callback`.

    The hub makes several bars from it: a file count ("Fetching N files", not bytes), the bytes written
    to disk (total = sum of file sizes: this is the one reported) and, in newer versions, a network
    transfer bar ("Downloading bytes", total only estimated, skipped).
    """
    from tqdm import tqdm

    class _Reporter(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._reports = kwargs.get("unit") == "B" and not str(kwargs.get("desc", "")).startswith(
                "Downloading bytes"
            )
            kwargs.pop("name", None)  # hub passes it to its own tqdm subclass only; plain tqdm rejects it
            kwargs.update(disable=False, file=_NullFile())  # a disabled tqdm stops counting
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self._reports:
                callback(int(self.n), int(self.total or 0))
            return shown

    return _Reporter
