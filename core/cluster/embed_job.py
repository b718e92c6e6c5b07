"""`cluster-embed`: embed a manifest's photos on a Ray cluster (or this machine's own Ray) with Ray Data.

The job is one Ray Data pipeline; Ray schedules it, nothing here does:
    manifest rows (blocks of BLOCK_ROWS, never across a shard)
    -> prepare_batch in CPU tasks (hash + Lookalike's decode + preprocess; core.cluster.ray_stages)
    -> EmbedActor on an actor pool (one model per actor, one GPU each where the cluster has GPUs)
    -> back on the driver, rows gathered by shard; a shard is written (core.cluster.shard_format.write_shard:
       atomic, then named in the metadata) as soon as its last row arrives.
Rows may come back in any order (Ray Data's preserve_order stays off: one slow photo must not hold up the
whole stream); the driver re-orders each shard by manifest row before writing it. A killed job loses only
the shards not yet named in the metadata; a re-run embeds just those.

Reads go to the --path-map'ed path; shards keep the manifest's path, size and mtime, which is what the
library knows the photo by (import-vectors matches on them). Ray and pyarrow are imported here only
inside functions: they come with the optional `cluster` extra.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.cluster.job_plan import (
    BLOCK_ROWS,
    ClusterShape,
    ModelFacts,
    cluster_shape,
    model_facts,
    open_vectors_folder,
    shard_bounds,
    shards_left,
)
from core.cluster.path_map import PathMap
from core.cluster.ray_stages import EmbedActor, prepare_batch
from core.cluster.shard_format import (
    VectorsInfo,
    read_manifest_table,
    require_pyarrow,
    shard_name,
    write_shard,
)
from core.embedding.registry import DEFAULT_MODEL
from core.errors import LookalikeError

DECODE_TASK_MEMORY = 512 * 1024 * 1024


@dataclass(frozen=True)
class EmbedJob:
    manifest: Path
    out: Path
    model: str = DEFAULT_MODEL
    address: str | None = None  # None: start a Ray on this machine, or use the one this process started
    path_map: PathMap = field(default_factory=PathMap)
    precision: str | None = None  # None: bf16 on GPUs, fp32 on CPUs
    shard_size: int = 1000


@dataclass(frozen=True)
class ShardDone:
    name: str
    done: int  # shards finished, those of earlier runs included
    total: int
    photos: int  # photos this run has finished
    rate: float  # photos per second since this run's pipeline started


@dataclass
class EmbedReport:
    out: str
    model: str
    device: str = ""
    precision: str = ""
    actors: int = 0
    shards: int = 0
    skipped_shards: int = 0  # finished by an earlier run
    written_shards: int = 0
    embedded: int = 0
    failed: int = 0
    seconds: float = 0.0
    photos_per_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def run_embed_job(job: EmbedJob, on_shard: Callable[[ShardDone], None] | None = None) -> EmbedReport:
    if job.shard_size < 1:
        raise LookalikeError("--shard-size must be at least 1")
    require_pyarrow()
    table = read_manifest_table(job.manifest)
    facts = model_facts(job.model)
    started_ray = connect(job.address)
    try:
        import ray

        shape = cluster_shape(ray.cluster_resources(), job.precision)
        info = open_vectors_folder(job.out, facts, shape.precision, job.manifest, table.num_rows, job.shard_size)
        bounds = shard_bounds(table.num_rows, job.shard_size)
        left = shards_left(info, bounds)
        report = EmbedReport(str(job.out), facts.key, shape.device, shape.precision, shape.actors,
                             len(bounds), len(bounds) - len(left))
        if left:
            _Run(job, table, facts, shape, info, bounds, report, on_shard).go(left)
        return report
    finally:
        if started_ray:
            import ray

            ray.shutdown()


def connect(address: str | None) -> bool:
    """Join the cluster at `address`, or start a quiet local Ray with this machine's CPUs. Returns whether
    this call started Ray (and so must shut it down); a Ray this process already runs is used as it is."""
    import ray
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False  # the command prints its own per-shard lines
    context.print_on_execution_start = False
    context.raise_original_map_exception = True  # a ModelError on a worker arrives as a ModelError
    context.execution_options.preserve_order = False  # the driver orders rows per shard itself
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if ray.is_initialized():
        return False
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise LookalikeError(f"cannot reach a Ray cluster at {address or 'this machine'}: {exc}") from exc
    return True


class _Run:
    """One pass over the shards left: build the pipeline, gather its rows, write shards as they fill."""

    def __init__(self, job: EmbedJob, table: Any, facts: ModelFacts, shape: ClusterShape, info: VectorsInfo,
                 bounds: list[tuple[int, int]], report: EmbedReport, on_shard: Callable[[ShardDone], None] | None):
        self.job, self.facts, self.shape, self.info = job, facts, shape, info
        self.bounds, self.report, self.on_shard = bounds, report, on_shard
        self.paths: list[str] = table.column("path").to_pylist()
        self.sizes: list[int] = table.column("size").to_pylist()
        self.mtimes: list[int] = table.column("mtime_ns").to_pylist()
        self.gathered: dict[int, dict[int, tuple[str, str, bytes]]] = {}
        self.photos = 0
        self.start = time.monotonic()

    def go(self, left: list[int]) -> None:
        for batch in self._results(self._dataset(left)):
            for index, hash_, error, vector in zip(batch["index"], batch["hash"], batch["error"], batch["vector"],
                                                   strict=True):
                self._gather(int(index), str(hash_), str(error), bytes(vector))
        self.report.seconds = round(time.monotonic() - self.start, 3)
        self.report.photos_per_s = round(self.photos / max(self.report.seconds, 1e-9), 2)
        missing = sorted(self.gathered)
        if missing:  # Ray lost rows without an error: never expected, never silently accepted
            raise LookalikeError(f"the cluster returned shard(s) {missing} incomplete; run again to finish them")

    def _dataset(self, left: list[int]) -> Any:
        import pyarrow as pa
        import ray

        blocks = []
        for number in left:
            start, end = self.bounds[number]
            for lo in range(start, end, BLOCK_ROWS):
                hi = min(end, lo + BLOCK_ROWS)
                blocks.append(pa.table({
                    "index": pa.array(range(lo, hi), pa.int64()),
                    "read_path": pa.array([self.job.path_map.apply(p) for p in self.paths[lo:hi]], pa.string()),
                }))
        shape = self.shape
        # `memory` reserves what a decode task may hold (its block's pixels, one large photo being decoded)
        # and, being a remote argument the actor does not have, keeps the stages apart: Ray Data fuses map
        # stages with identical ones, and the decoding would then run inside the model's actor.
        prepared = ray.data.from_arrow(blocks).map_batches(
            prepare_batch,  # type: ignore[arg-type]  # its extra arguments come as fn_kwargs batch_size=None, batch_format="numpy", num_cpus=1, memory=DECODE_TASK_MEMORY,
            fn_kwargs={"target": self.facts.image_size, "preprocess": self.facts.preprocess},
        )
        return prepared.map_batches(
            EmbedActor, batch_size=shape.batch, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=shape.actors),
            num_cpus=shape.actor_cpus, num_gpus=shape.actor_gpus or None,
            fn_constructor_kwargs={"source": self.facts.source, "device": shape.device,
                                   "precision": shape.precision, "threads": shape.actor_cpus, "dim": self.facts.dim},
        )

    def _results(self, dataset: Any) -> Iterator[dict[str, Any]]:
        """The pipeline's batches; a failure of Ray itself (a lost node, a worker that could not load the
        model) becomes a LookalikeError saying what was kept."""
        from ray.exceptions import RayError

        try:
            yield from dataset.iter_batches(batch_size=None, batch_format="numpy")
        except (RayError, OSError) as exc:
            done = self.report.skipped_shards + self.report.written_shards
            raise LookalikeError(f"the cluster job failed after {done} of {self.report.shards} shards "
                                 f"(those are kept; run the same command again to finish): {exc}") from exc

    def _gather(self, index: int, hash_: str, error: str, vector: bytes) -> None:
        number = index // self.job.shard_size
        rows = self.gathered.setdefault(number, {})
        rows[index] = (hash_, error, vector)
        start, end = self.bounds[number]
        if len(rows) == end - start:
            self._write(number, start, end, self.gathered.pop(number))

    def _write(self, number: int, start: int, end: int, rows: dict[int, tuple[str, str, bytes]]) -> None:
        out = []
        for i in range(start, end):
            hash_, error, vector = rows[i]
            out.append({"path": self.paths[i], "size": self.sizes[i], "mtime_ns": self.mtimes[i],
                        "hash": None if error else hash_ or None, "vector": None if error else vector,
                        "error": error or None})
        self.info = write_shard(self.job.out, number, out, self.info)
        self.photos += end - start
        self.report.written_shards += 1
        self.report.failed += sum(1 for r in out if r["error"])
        self.report.embedded += sum(1 for r in out if not r["error"])
        if self.on_shard is not None:
            rate = self.photos / max(time.monotonic() - self.start, 1e-9)
            done = self.report.skipped_shards + self.report.written_shards
            self.on_shard(ShardDone(shard_name(number), done, self.report.shards, self.photos, rate))
