"""Reading vectors folders for `lookalike import-vectors`: every shard checked (digest, columns, model
fields, vector sizes: core.cluster.shard_format), paths rewritten by --path-map, as one `VectorBatch`.

All of it is read before the library is touched: one damaged shard refuses the whole import. What is
checked against the library (model, precision, a re-embedded sample) and the attaching are
core.library.vector_import's, run on the library's write queue.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from core.cluster.shard_format import ShardError, VectorsInfo, read_info, read_shard
from core.errors import LookalikeError
from core.library.vector_import import VectorBatch, VectorRow

PathMap = Sequence[tuple[str, str]]


def parse_path_map(values: Sequence[str]) -> list[tuple[str, str]]:
    """OLD=NEW prefixes, longest OLD first (so /a/b=... wins over /a=... for paths below /a/b)."""
    pairs = []
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            raise LookalikeError(f"--path-map {value!r}: expected OLD=NEW (two folder paths)")
        pairs.append((old.rstrip(os.sep) or os.sep, new.rstrip(os.sep) or os.sep))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def map_path(path: str, path_map: PathMap) -> str:
    """`path` with its first matching OLD folder replaced by NEW; whole folder names only (/a=/b leaves /ab)."""
    for old, new in path_map:
        if path == old:
            return new
        if path.startswith(old.rstrip(os.sep) + os.sep):
            return new.rstrip(os.sep) + os.sep + path[len(old.rstrip(os.sep)) + 1 :]
    return path


def read_batch(folders: Sequence[Path], path_map: PathMap = ()) -> VectorBatch:
    """The rows of every finished shard of `folders` (made with one model, preprocessing and precision)."""
    if not folders:
        raise LookalikeError("give at least one vectors folder")
    infos = [(Path(f), read_info(Path(f))) for f in folders]
    first = infos[0][1]
    for folder, info in infos[1:]:
        if _made_with(info) != _made_with(first):
            raise ShardError(f"{folder} holds vectors made with {_made_with(info)}, {infos[0][0]} with "
                             f"{_made_with(first)}: import them separately")
    rows: list[VectorRow] = []
    for folder, info in infos:
        if not info.shards:
            raise ShardError(f"{folder} has no finished shard")
        for name in sorted(info.shards):
            rows.extend(_row(r, path_map) for r in read_shard(folder, name, info))
    return VectorBatch(first.model, first.revision, first.dim, first.preprocessing, first.precision, tuple(rows))


def _made_with(info: VectorsInfo) -> tuple[str, str | None, int, str, str]:
    return info.model, info.revision, info.dim, info.preprocessing, info.precision


def _row(raw: dict, path_map: PathMap) -> VectorRow:
    return VectorRow(map_path(raw["path"], path_map), raw["size"], raw["mtime_ns"], raw["hash"], raw["vector"],
                     raw["error"])
