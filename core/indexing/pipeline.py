"""The indexing pipeline: decode in worker processes -> embed in batches -> write in batched transactions.

The three stages overlap: workers decode ahead (bounded look-ahead, so memory stays flat however many
photos are pending), model lanes (threads; two on a multi-core CPU, see core.embedding.device.model_lanes) run
batches through the model, and a writer thread commits each batch. A batch is committed (vectors + photo
rows, one transaction) before FAISS hears of it, so a kill at any moment loses at most the batches in
flight and never attaches a vector to the wrong photo.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from core.errors import Cancelled, DecodeError
from core.imaging.pixel_print import PRINT_VERSION
from core.indexing.scanner import file_hash
from core.store import facts
from core.store.database import Photo, Store, bump_generation, encode_vector, insert_vectors, update_photos
from core.store.duplicates import save_prints
from core.tasks.progress import TaskHandle

log = logging.getLogger(__name__)

# Decoded photos waiting for the model, per batch: 3 batches keep the model busy while a slow file (a
# network drive, a huge PNG) holds one worker, and bound memory to a few MB per worker.
LOOKAHEAD_BATCHES = 3


class EmbedsPrepared(Protocol):
    key: str
    precision: str  # what the model runs at: recorded with every vector it makes
    batch_size: int
    image_size: int
    lanes: int  # batches the model may run at once

    def preprocessor(self) -> Callable[[Any], dict[str, np.ndarray]]: ...
    def embed_preprocessed(self, items: Sequence[dict[str, np.ndarray]]) -> np.ndarray: ...
    def start_lane(self) -> None: ...  # once on each lane thread
    def end_lanes(self) -> None: ...  # after the lanes have stopped


@dataclass
class Prepared:
    """What a worker sends back for one photo: pixels ready for the model, or why it failed."""

    photo_id: int
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: float | None = None
    pixels: dict[str, np.ndarray] | None = None
    print: bytes | None = None  # core.imaging.pixel_print, for duplicate finding
    error: str | None = None
    notes: str | None = None  # what the decoders wrote to the worker's stderr meanwhile (libtiff, warnings)


@dataclass
class IndexReport:
    embedded: int = 0
    reused: int = 0  # vectors found by content hash (identical copies), no model run
    failed: int = 0
    cancelled: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def prepare(photo_id: int, path: str, target: int, preprocess: Callable[[Any], dict]) -> Prepared:
    """Runs in a worker process: hash the bytes, decode, preprocess. Never raises for a bad photo."""
    from core.imaging.decode import load_photo
    from core.imaging.pixel_print import pixel_print

    out = Prepared(photo_id)
    try:
        before = os.stat(path)
        out.hash = file_hash(path)
        # Decoded at the model's size (224+ for real models): the print is made from the same pixels, never
        # from a second decode that would change what the model sees.
        decoded = load_photo(path, target=target)
        after = os.stat(path)
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            out.hash, out.error = None, "file changed while it was being read; it will be retried"
            return out
        out.width, out.height = decoded.width, decoded.height
        out.taken_at = decoded.taken_at.timestamp() if decoded.taken_at else None
        out.pixels = preprocess(decoded.image)
        out.print = pixel_print(decoded.image)
    except DecodeError as exc:
        out.error = exc.reason
    except FileNotFoundError:
        out.error = "file vanished while it was being read"
    except PermissionError:
        out.error = "permission denied"
    except OSError as exc:
        out.error = f"could not read the file: {exc.strerror or exc}"
    except Exception as exc:  # a decoder bug must cost one photo, not the whole run
        out.error = f"unexpected error while decoding: {type(exc).__name__}: {exc}"
    out.notes = _take_stderr()
    return out


def default_workers() -> int:
    """All cores but one for decoding: the model needs the last one (and more, on a CPU-only machine)."""
    env = os.environ.get("LOOKALIKE_WORKERS")
    if env is not None:
        return max(0, int(env))
    return max(1, (os.cpu_count() or 2) - 1)


def make_executor(workers: int) -> Executor:
    """Worker processes, started with 'spawn': forking a process that holds torch threads can deadlock.
    `workers=0` decodes on one thread of this process (tests, tiny libraries)."""
    if workers <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="lookalike-decode")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
    )


def _worker_init() -> None:
    # Ctrl+C is for the main process, which stops cleanly; a worker dying on it would break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _capture_stderr()


# In a worker process: a file standing in for its stderr (fd 2). libtiff writes its messages there from C
# ("ZIPDecode: Decoding error at scanline 0", naming no photo); so do Python's warnings and the log records
# of a process with no log file. What appears while a photo is prepared goes back with it (`notes`), and
# the main process logs it with the photo's path instead of the terminal showing it.
_stderr_file: int | None = None


def _capture_stderr() -> None:
    global _stderr_file
    sys.stderr.flush()
    fd, name = tempfile.mkstemp(prefix="lookalike-worker-stderr-")
    os.unlink(name)  # only this process holds it: gone with it
    os.dup2(fd, 2)
    _stderr_file = fd
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")  # records to stderr, so here


def _take_stderr() -> str | None:
    """What the worker wrote to fd 2 since the last call (None outside a worker or when nothing)."""
    if _stderr_file is None:
        return None
    sys.stderr.flush()
    end = os.lseek(_stderr_file, 0, os.SEEK_END)
    if end == 0:
        return None
    os.lseek(_stderr_file, 0, os.SEEK_SET)
    data = os.read(_stderr_file, end)
    os.ftruncate(_stderr_file, 0)
    os.lseek(_stderr_file, 0, os.SEEK_SET)  # shared with fd 2: the next write starts at 0 again
    return data.decode("utf-8", "replace").strip() or None


OnCommitted = Callable[[list[str]], None]  # hashes that just got vectors
Embedded = list["Prepared"]  # a batch after the model: fresh vectors are in p.pixels["vector"]


class Pipeline:
    def __init__(
        self, store: Store, embedder: EmbedsPrepared, handle: TaskHandle, on_committed: OnCommitted,
        workers: int | None = None, lock: threading.RLock | None = None, stale: Collection[str | None] = (),
    ) -> None:
        self.store, self.embedder, self.handle = store, embedder, handle
        # Precisions whose vectors are made again: a photo's copy holding one is no vector to reuse.
        self.stale = stale
        # Held while a batch is committed and handed to FAISS, so the index is never saved in between.
        self.lock = lock or threading.RLock()
        self.on_committed = on_committed
        self.workers = default_workers() if workers is None else workers
        self.report = IndexReport()
        self._paths: dict[int, str] = {}
        # Hashes a lane is embedding and the writer has not committed yet: another lane's batch holding an
        # identical copy reuses that vector instead of computing it again.
        self._claimed: set[str] = set()
        self._claims = threading.Lock()

    def run(self, photos: Sequence[Photo]) -> IndexReport:
        self.handle.start("indexing", len(photos))
        if not photos:
            return self.report
        self._paths = {p.id: p.path for p in photos}
        writer = _Writer(self._commit)
        try:
            with make_executor(self.workers) as pool, _ModelLanes(self.embedder, self._embed, writer) as lanes:
                self._feed(pool, photos, lanes)
        except Cancelled:
            self.report.cancelled = True
        finally:
            writer.close()
        return self.report

    def _feed(self, pool: Executor, photos: Sequence[Photo], lanes: _ModelLanes) -> None:
        pre = self.embedder.preprocessor()
        size = self.embedder.batch_size
        ahead: deque[Future[Prepared]] = deque()
        batch: list[Prepared] = []
        todo = iter(photos)
        try:
            while True:
                for p in _take(todo, size * LOOKAHEAD_BATCHES - len(ahead)):
                    ahead.append(pool.submit(prepare, p.id, p.path, self.embedder.image_size, pre))
                if not ahead:
                    break
                prepared = ahead.popleft().result()
                if prepared.notes:
                    log.warning("while decoding %s: %s", self._paths.get(prepared.photo_id, "?"), prepared.notes)
                batch.append(prepared)
                if len(batch) >= size or not ahead:
                    self.handle.checkpoint()
                    lanes.submit(batch)
                    batch = []
            lanes.finish()
        except Cancelled:
            lanes.finish()  # batches already in the model are paid for: keep them
            raise
        finally:
            for f in ahead:
                f.cancel()

    def _embed(self, batch: list[Prepared]) -> Embedded:
        """On a lane thread: run the model on the photos whose content has no vector yet (nor one being
        made by another lane); the rest reuse theirs."""
        fresh = self._claim_fresh(batch)
        if not fresh:
            return batch
        vecs = self.embedder.embed_preprocessed([p.pixels for p in fresh.values()])  # type: ignore[misc]
        for p, v in zip(fresh.values(), vecs, strict=True):
            p.pixels = {"vector": v}
        return batch

    def _claim_fresh(self, batch: list[Prepared]) -> dict[str, Prepared]:
        hashes = [p.hash for p in batch if p.pixels is not None and p.hash]
        # Read under the lock: a claim is released only after its vector is committed, so a hash is always
        # either claimed or visible here.
        with self._claims:
            known = self.store.hashes_with_vectors(self.embedder.key, hashes, self.stale) | self._claimed
            fresh: dict[str, Prepared] = {}
            for p in batch:
                if p.pixels is not None and p.hash and p.hash not in known:
                    fresh.setdefault(p.hash, p)
            self._claimed.update(fresh)
        return fresh

    def _commit(self, batch: Embedded) -> None:
        ok = [p for p in batch if p.error is None]
        bad = [p for p in batch if p.error is not None]
        fresh = [(p.hash, encode_vector(p.pixels["vector"])) for p in ok if p.pixels and "vector" in p.pixels]
        with self.lock:
            self._write(ok, bad, fresh)
            self.on_committed([p.hash for p in ok if p.hash])
        with self._claims:
            self._claimed.difference_update(h for h, _ in fresh)
        self.report.embedded += len(fresh)
        self.report.reused += len(ok) - len(fresh)
        self.report.failed += len(bad)
        self.report.failures.extend((self._paths.get(p.photo_id, "?"), p.error or "") for p in bad)
        self.handle.advance(len(batch))

    def _write(self, ok: list[Prepared], bad: list[Prepared], fresh: list[tuple[str | None, bytes]]) -> None:
        with self.store.write() as conn:
            update_photos(conn, [
                {"b_id": p.photo_id, "hash": p.hash, "width": p.width, "height": p.height, "status": "ok", "error": None}
                for p in ok
            ])
            # The date is the header's (read before embedding, core.library.facts); the decode's only fills in.
            facts.date_from_decode(conn, [{"b_id": p.photo_id, "taken_at": p.taken_at} for p in ok if p.taken_at])
            update_photos(conn, [
                {"b_id": p.photo_id, "hash": p.hash, "status": "failed", "error": p.error} for p in bad
            ])
            insert_vectors(conn, self.embedder.key, fresh, self.embedder.precision)  # type: ignore[arg-type]
            save_prints(conn, [(p.hash, p.print) for p in ok if p.hash and p.print], PRINT_VERSION)
            if ok:
                bump_generation(conn, self.embedder.key)


def _take(it: Iterable[Photo], n: int) -> list[Photo]:
    out: list[Photo] = []
    if n <= 0:
        return out
    for p in it:
        out.append(p)
        if len(out) >= n:
            break
    return out


class _ModelLanes:
    """Runs up to `embedder.lanes` batches through the model at once, each on a thread of its own, and
    hands each finished batch to the writer (in the order they finish: each batch commits on its own)."""

    def __init__(self, embedder: EmbedsPrepared, embed: Callable[[list[Prepared]], Embedded], writer: _Writer):
        self._embedder, self._embed, self._writer = embedder, embed, writer
        self.count = max(1, embedder.lanes)
        self._pool = ThreadPoolExecutor(self.count, "lookalike-model", initializer=embedder.start_lane)
        self._running: set[Future[Embedded]] = set()

    def submit(self, batch: list[Prepared]) -> None:
        """Queue a batch for the next free lane; waits while every lane is busy."""
        while len(self._running) >= self.count:
            self._hand_over(wait(self._running, return_when=FIRST_COMPLETED).done)
        self._running.add(self._pool.submit(self._embed, batch))

    def finish(self) -> None:
        """Wait for the batches in the model and hand them all to the writer."""
        self._hand_over(wait(self._running).done)

    def _hand_over(self, done: set[Future[Embedded]]) -> None:
        for future in done:
            self._running.discard(future)
            self._writer.put(future.result())  # a model error surfaces here, on the feeding thread
        self._writer.raise_if_failed()

    def __enter__(self) -> _ModelLanes:
        return self

    def __exit__(self, *exc: object) -> None:
        # After an error the lanes' results are dropped (nothing of them was committed), but the lanes
        # finish their batch first: torch cannot be interrupted mid-call.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._embedder.end_lanes()


class _Writer:
    """One thread that commits batches in order while the model works on the next one."""

    def __init__(self, commit: Callable[[Any], None]) -> None:
        self._commit = commit
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lookalike-writer", daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self.raise_if_failed()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._commit(item)
                except BaseException as exc:  # surfaced on the caller's thread
                    self._error = exc
