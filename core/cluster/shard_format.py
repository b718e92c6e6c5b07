"""The files vectors travel in between machines: Parquet shards plus one small metadata file.

A vectors folder (what `cluster-embed` and `export-vectors` write, what `import-vectors` reads) holds:
- `part-00000.parquet`, ...: one row per photo, SHARD_COLUMNS below; a photo that could not be read
  has no hash and no vector but an `error` (the reason), so failures travel with the results;
- `lookalike-vectors.json`: the model (key, pinned revision, dimension), the preprocessing version,
  the precision, and per shard its row count and SHA-256, written after the shard itself. A shard the
  metadata does not name is unfinished (a killed job); one whose digest differs was changed or damaged.

A manifest (`export-manifest`) is one Parquet file of MANIFEST_COLUMNS: the photos still to embed.

Vectors are float16, little-endian, L2-normalised: exactly the bytes the library stores
(core.store.database.encode_vector), so an import never re-encodes them.

pyarrow is imported lazily: it comes with the optional `cluster` extra, and the app never needs it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import LookalikeError

FORMAT = 1
METADATA_NAME = "lookalike-vectors.json"
MANIFEST_COLUMNS = ("path", "size", "mtime_ns", "hash")
SHARD_COLUMNS = ("path", "size", "mtime_ns", "hash", "model", "revision", "preprocessing", "precision",
                 "vector", "error")
VECTOR_BYTES_PER_DIM = 2  # float16


class ShardError(LookalikeError):
    """A vectors folder or manifest that cannot be used as it is (missing, damaged, another model...)."""


def require_pyarrow() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise LookalikeError(
            "this command needs the cluster extra: pip install 'lookalike[cluster]' (Ray and pyarrow)"
        ) from exc
    return pq


@dataclass(frozen=True)
class VectorsInfo:
    """What every vector in a folder was made with; an import checks it against the library's model."""

    model: str  # the model's storage key
    revision: str | None  # the pinned revision of a registry model; None for a local folder
    dim: int
    preprocessing: str  # core.embedding.preprocess version: how pixels became model input
    precision: str  # what the model ran at: "fp32", "bf16", "fp16", ...
    shards: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"rows": n, "sha256": hex}
    made_by: str = ""  # "cluster-embed" or "export-vectors"

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, raw: dict[str, Any], where: Path) -> VectorsInfo:
        if raw.get("format") != FORMAT:
            raise ShardError(f"{where} is in an unknown format ({raw.get('format')!r}; this Lookalike reads {FORMAT})")
        try:
            return cls(str(raw["model"]), raw["revision"], int(raw["dim"]), str(raw["preprocessing"]),
                       str(raw["precision"]), dict(raw.get("shards", {})), str(raw.get("made_by", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ShardError(f"{where} is damaged: {exc}") from exc


def shard_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def read_info(folder: Path) -> VectorsInfo:
    path = Path(folder) / METADATA_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShardError(f"{folder} holds no vectors ({METADATA_NAME} is missing)") from None
    except (OSError, ValueError) as exc:
        raise ShardError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ShardError(f"{path} is damaged: not a JSON object")
    return VectorsInfo.from_json(raw, path)


def write_info(folder: Path, info: VectorsInfo) -> None:
    """Replace the metadata file atomically (a shard counts as finished once it is named here)."""
    from core.files.atomic import write_bytes_atomically

    text = json.dumps(info.to_json(), indent=2, sort_keys=True) + "\n"
    write_bytes_atomically(Path(folder) / METADATA_NAME, text.encode("utf-8"))


def write_shard(folder: Path, number: int, rows: Sequence[dict[str, Any]], info: VectorsInfo) -> VectorsInfo:
    """Write shard `number` atomically, then record it (rows, digest) in the metadata; returns the new info.

    Each row holds SHARD_COLUMNS except those `info` fixes (model, revision, preprocessing, precision)."""
    import pyarrow as pa

    pq = require_pyarrow()
    name = shard_name(number)
    columns = {c: [r.get(c) for r in rows] for c in ("path", "size", "mtime_ns", "hash", "vector", "error")}
    table = pa.table({
        "path": pa.array(columns["path"], pa.string()),
        "size": pa.array(columns["size"], pa.int64()),
        "mtime_ns": pa.array(columns["mtime_ns"], pa.int64()),
        "hash": pa.array(columns["hash"], pa.string()),
        "model": pa.array([info.model] * len(rows), pa.string()),
        "revision": pa.array([info.revision] * len(rows), pa.string()),
        "preprocessing": pa.array([info.preprocessing] * len(rows), pa.string()),
        "precision": pa.array([info.precision] * len(rows), pa.string()),
        "vector": pa.array(columns["vector"], pa.binary()),
        "error": pa.array(columns["error"], pa.string()),
    })
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    pq.write_table(table, partial)
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(partial, folder / name)
    shards = {**info.shards, name: {"rows": len(rows), "sha256": file_sha256(folder / name)}}
    updated = VectorsInfo(info.model, info.revision, info.dim, info.preprocessing, info.precision, shards, info.made_by)
    write_info(folder, updated)
    return updated


def read_shard(folder: Path, name: str, info: VectorsInfo) -> list[dict[str, Any]]:
    """The rows of a finished shard, checked: its digest, columns, model fields and vector sizes.
    ShardError (naming the shard and what is wrong) for anything that does not check out."""
    pq = require_pyarrow()
    path = Path(folder) / name
    expected = info.shards.get(name)
    if expected is None:
        raise ShardError(f"{path} is not a finished shard of this folder")
    if not path.exists():
        raise ShardError(f"{path} is missing")
    if file_sha256(path) != expected.get("sha256"):
        raise ShardError(f"{path} was changed or damaged after it was written (its SHA-256 differs)")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for a damaged file
        raise ShardError(f"{path} is not a readable Parquet file: {exc}") from exc
    if tuple(table.column_names) != SHARD_COLUMNS:
        raise ShardError(f"{path} has columns {table.column_names}, not {list(SHARD_COLUMNS)}")
    rows = table.to_pylist()
    if len(rows) != expected.get("rows"):
        raise ShardError(f"{path} holds {len(rows)} rows; its metadata says {expected.get('rows')}")
    for row in rows:
        _check_row(row, info, path)
    return rows


def _check_row(row: dict[str, Any], info: VectorsInfo, path: Path) -> None:
    fixed = (row["model"], row["revision"], row["preprocessing"], row["precision"])
    if fixed != (info.model, info.revision, info.preprocessing, info.precision):
        raise ShardError(f"{path}: a row made with {fixed} in a folder of {info.model} vectors")
    vector = row["vector"]
    if row["error"] is None and (vector is None or len(vector) != info.dim * VECTOR_BYTES_PER_DIM or not row["hash"]):
        got = "none" if vector is None else f"{len(vector) // VECTOR_BYTES_PER_DIM}"
        raise ShardError(f"{path}: {row['path']} has a vector of dimension {got}, not {info.dim}")


def finished_shards(folder: Path) -> Iterator[str]:
    """The names of the shards the metadata lists, in order."""
    yield from sorted(read_info(folder).shards)


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# -- manifests --------------------------------------------------------------------------------------


def write_manifest(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """The photos to embed: MANIFEST_COLUMNS per row (hash None where the library does not know it)."""
    import pyarrow as pa

    pq = require_pyarrow()
    table = pa.table({
        "path": pa.array([r["path"] for r in rows], pa.string()),
        "size": pa.array([r["size"] for r in rows], pa.int64()),
        "mtime_ns": pa.array([r["mtime_ns"] for r in rows], pa.int64()),
        "hash": pa.array([r.get("hash") for r in rows], pa.string()),
    })
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(table, partial)
    os.replace(partial, path)


def read_manifest(path: Path) -> list[dict[str, Any]]:
    return read_manifest_table(path).to_pylist()


def read_manifest_table(path: Path) -> Any:
    """The manifest as a pyarrow Table, checked (columnar: 5 million rows stay ~0.5 GB, not Python dicts)."""
    pq = require_pyarrow()
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise ShardError(f"no manifest at {path}") from None
    except Exception as exc:
        raise ShardError(f"{path} is not a readable manifest: {exc}") from exc
    if tuple(table.column_names) != MANIFEST_COLUMNS:
        raise ShardError(f"{path} has columns {table.column_names}, not {list(MANIFEST_COLUMNS)}")
    return table
