"""`lookalike export-vectors`: the library's vectors for one model, in the shard format other machines
and `import-vectors` read (core.cluster.shard_format): one row per readable photo with a vector.

A folder declares one precision. A library whose vectors were made at several (a precision changed, a
re-embedding under way) is written as one subfolder per precision (OUT/fp32, OUT/bf16...), each imported
on its own terms; vectors from before precisions were recorded go to OUT/unrecorded, which an import
refuses (nothing vouches for them). With one precision, OUT itself holds the shards.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.cluster.shard_format import METADATA_NAME, VectorsInfo, write_shard
from core.embedding.model_files import fetch_model
from core.embedding.preprocess import preprocessing_version
from core.embedding.registry import resolve_model
from core.errors import LookalikeError
from core.library.facade import Library
from core.store.transfer import export_rows

SHARD_ROWS = 50_000  # ~80 MB of 768-dim vectors per shard: a handful of files per million photos
UNRECORDED = "unrecorded"  # the precision named for vectors made before precisions were recorded


@dataclass(frozen=True)
class Exported:
    folder: Path
    precision: str
    rows: int
    shards: int


def export_vectors(library: Library, out: Path, shard_rows: int = SHARD_ROWS) -> list[Exported]:
    """Write `library`'s vectors for its model into `out` (an empty or new folder); one entry per folder."""
    key = library.model_key
    dim = library.store.model_dim(key)
    precisions = library.store.vector_precisions(key)
    if dim is None or not precisions:
        raise LookalikeError(f"this library has no vectors for {key} yet: run `lookalike index` first")
    out = Path(out)
    if (out / METADATA_NAME).exists() or any((out / _name(p)).exists() for p in precisions if len(precisions) > 1):
        raise LookalikeError(f"{out} already holds exported vectors: choose an empty folder")
    resolved = resolve_model(library.model_source)
    preprocessing = preprocessing_version(fetch_model(resolved))
    done = []
    with library.store.read() as conn:
        for precision, group in itertools.groupby(export_rows(conn, key), key=lambda r: r["precision"]):
            folder = out / _name(precision) if len(precisions) > 1 else out
            info = VectorsInfo(key, resolved.revision, dim, preprocessing, _name(precision), made_by="export-vectors")
            rows = 0
            for number, batch in enumerate(_batched(group, shard_rows)):
                info = write_shard(folder, number, batch, info)
                rows += len(batch)
            done.append(Exported(folder, info.precision, rows, len(info.shards)))
    return done


def _batched(rows: Iterator[dict], n: int) -> Iterator[list[dict]]:
    while batch := list(itertools.islice(rows, n)):
        yield batch


def _name(precision: str | None) -> str:
    return precision or UNRECORDED
