"""The on-disk format of a vector index: one file, written atomically, checked on load.

Layout (little endian):
    header   magic (8 bytes) | format version u32 | dim u32 | meta length u32 | payload length u64 | crc32 u32
    meta     JSON object (the caller's stamp plus the index's own settings)
    payload  `faiss.write_index` bytes

The crc32 covers meta + payload, so a truncated, torn or bit-flipped file is refused before FAISS
sees it (FAISS would happily load a flipped vector byte, and may allocate wildly on a flipped size).
The payload is streamed through FAISS's callback writer/reader: a 3 GB index is never copied into
one Python bytes object.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import faiss

from core.errors import LookalikeError
from core.files.atomic import remove_stale_temps, write_atomically

# The stubs shipped with faiss miss part of its SWIG surface (callback IO, DirectMap, search params).
_faiss: Any = faiss

MAGIC = b"LKALIKEV"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIIIQI")
_READ_CHUNK = 16 << 20


class IndexFileError(LookalikeError):
    """The index file is missing, truncated, corrupt or not ours. The message says which.

    The index is a cache derived from SQLite: the caller's answer is to rebuild it.
    """


def write_index_file(path: Path, index: Any, dim: int, meta: dict[str, Any]) -> None:
    """Write `index` to `path` so that a crash at any moment leaves the old file or the new one."""
    path = Path(path)
    # One writer per index file (the library's writer lock), so any temp file here is a dead save's.
    remove_stale_temps(path)
    meta_bytes = json.dumps(meta, sort_keys=True).encode("utf-8")
    # `_write_body` is looked up at call time: the reliability probe wraps it to pause mid-save.
    write_atomically(path, lambda f: _write_body(f, index, dim, meta_bytes))


def read_index_file(path: Path) -> tuple[Any, int, dict[str, Any]]:
    """Return (faiss index, dim, meta); raise IndexFileError saying what is wrong."""
    path = Path(path)
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; open errors need their own message
    except FileNotFoundError:
        raise IndexFileError(f"index file {path} is missing") from None
    except OSError as e:
        raise IndexFileError(f"index file {path} cannot be read: {e}") from e
    with f:
        dim, meta_len, payload_len, crc = _read_header(f, path)
        _check_size(f, path, meta_len, payload_len)
        meta_bytes = f.read(meta_len)
        _check_crc(f, path, meta_bytes, payload_len, crc)
        meta = _parse_meta(meta_bytes, path)
        f.seek(_HEADER.size + meta_len)
        index = _deserialize(f, path, payload_len)
    if index.d != dim:
        raise IndexFileError(f"index file {path} has the wrong dimension ({index.d}, header says {dim})")
    return index, dim, meta


def _write_body(f: BinaryIO, index: Any, dim: int, meta_bytes: bytes) -> None:
    # The header is written twice: a placeholder first, the real lengths and crc once known.
    f.write(_HEADER.pack(MAGIC, FORMAT_VERSION, dim, len(meta_bytes), 0, 0))
    f.write(meta_bytes)
    crc = zlib.crc32(meta_bytes)
    size = 0

    def sink(chunk: bytes) -> None:
        nonlocal crc, size
        f.write(chunk)
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)

    writer = _faiss.PyCallbackIOWriter(sink)
    faiss.write_index(index, writer)
    del writer  # flushes FAISS's internal buffer into `sink`
    f.seek(0)
    f.write(_HEADER.pack(MAGIC, FORMAT_VERSION, dim, len(meta_bytes), size, crc))


def _read_header(f: BinaryIO, path: Path) -> tuple[int, int, int, int]:
    raw = f.read(_HEADER.size)
    if raw[: len(MAGIC)] != MAGIC[: len(raw)]:  # a file cut inside the magic counts as truncated
        raise IndexFileError(f"index file {path} is not a Lookalike index (bad magic)")
    if len(raw) < _HEADER.size:
        raise IndexFileError(f"index file {path} is truncated (incomplete header)")
    _, version, dim, meta_len, payload_len, crc = _HEADER.unpack(raw)
    if version != FORMAT_VERSION:
        raise IndexFileError(f"index file {path} has unsupported format version {version}")
    return dim, meta_len, payload_len, crc


def _check_size(f: BinaryIO, path: Path, meta_len: int, payload_len: int) -> None:
    expected = _HEADER.size + meta_len + payload_len
    actual = os.fstat(f.fileno()).st_size
    if actual < expected:
        raise IndexFileError(f"index file {path} is truncated ({actual} of {expected} bytes)")
    if actual > expected:
        raise IndexFileError(f"index file {path} is corrupt ({actual - expected} unexpected trailing bytes)")


def _check_crc(f: BinaryIO, path: Path, meta_bytes: bytes, payload_len: int, expected: int) -> None:
    crc = zlib.crc32(meta_bytes)
    left = payload_len
    while left:
        chunk = f.read(min(left, _READ_CHUNK))
        if not chunk:
            raise IndexFileError(f"index file {path} is truncated (payload ends early)")
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    if crc != expected:
        raise IndexFileError(f"index file {path} is corrupt (checksum mismatch)")


def _parse_meta(meta_bytes: bytes, path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IndexFileError(f"index file {path} is corrupt (unreadable header JSON: {e})") from e
    if not isinstance(meta, dict):
        raise IndexFileError(f"index file {path} is corrupt (header JSON is not an object)")
    return meta


def _deserialize(f: BinaryIO, path: Path, payload_len: int) -> Any:
    reader = _faiss.PyCallbackIOReader(_bounded_reader(f, payload_len))
    try:
        return faiss.read_index(reader)
    except RuntimeError as e:
        raise IndexFileError(f"index file {path} could not be deserialized by FAISS: {e}") from e


def _bounded_reader(f: BinaryIO, limit: int) -> Callable[[int], bytes]:
    # FAISS must not read past the payload, whatever a (checksummed, so unlikely) bad size says.
    left = limit

    def read(n: int) -> bytes:
        nonlocal left
        data = f.read(min(n, left))
        left -= len(data)
        return data

    return read
