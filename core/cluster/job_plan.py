"""What a `cluster-embed` run is about to do, worked out on the driver before Ray runs anything: the
model's facts, the cluster's shape (GPUs or CPUs, how many model actors) and which shards are left.

Resuming is by shard: the vectors folder's metadata names the finished ones, and a small job file
(JOB_NAME) records the manifest's digest and the shard size, so a re-run with another manifest or
--shard-size is refused instead of mixing rows of two plans in one folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.cluster.shard_format import ShardError, VectorsInfo, file_sha256, read_info, shard_name, write_info
from core.embedding.registry import resolve_model
from core.files.atomic import write_bytes_atomically

JOB_NAME = "cluster-embed-job.json"
# Photos per decode task: enough to pay for a Ray task's start (~ms) many times over, few enough that a
# shard of 1000 spreads over dozens of CPUs.
BLOCK_ROWS = 32


@dataclass(frozen=True)
class ModelFacts:
    key: str  # storage key, as the library stores vectors under it
    revision: str | None
    source: str  # what each worker loads: a registry key (its HF cache) or an absolute folder path
    dim: int
    preprocessing: str  # core.embedding.preprocess.preprocessing_version
    image_size: int  # the decode target (core.embedding.image_inputs.decode_size)
    preprocess: Any  # picklable: PIL image -> model inputs, the pipeline's own preprocessor


def model_facts(model: str) -> ModelFacts:
    """Read from the model's folder on the driver (the HF cache, downloading if needed, or the folder):
    the preprocessing and dimension go into the metadata before any worker has loaded the model."""
    from transformers import AutoConfig

    from core.embedding.image_inputs import ImagePreprocessor, decode_size, image_processor
    from core.embedding.model_files import fetch_model
    from core.embedding.preprocess import numpy_preprocessor, preprocessing_version

    resolved = resolve_model(model)
    folder = fetch_model(resolved)
    config = AutoConfig.from_pretrained(str(folder))
    preprocess = numpy_preprocessor(folder) or ImagePreprocessor(str(folder))
    return ModelFacts(
        resolved.key, resolved.revision, resolved.key if resolved.spec else str(folder),
        int(config.vision_config.hidden_size), preprocessing_version(folder),
        decode_size(image_processor(str(folder))), preprocess,
    )


@dataclass(frozen=True)
class ClusterShape:
    device: str  # "cuda" when the cluster has GPUs, else "cpu"
    precision: str
    actors: int  # model copies: one per GPU, else one per 16 CPUs
    actor_cpus: int
    actor_gpus: int
    batch: int  # photos per model call


def cluster_shape(resources: dict[str, float], precision: str | None) -> ClusterShape:
    gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
    if gpus:
        # bf16 on GPUs: the measured rates in docs/models-and-performance.md are bf16, and its vectors pass the precision check there.
        return ClusterShape("cuda", precision or "bf16", gpus, 1, 1, 128)
    actors = max(1, cpus // 16)
    # The models get half the CPUs: the other half decode (a JPEG decode costs about what a B/16 forward does).
    return ClusterShape("cpu", precision or "fp32", actors, max(1, cpus // 2 // actors), 0, 16)



def shard_bounds(rows: int, shard_size: int) -> list[tuple[int, int]]:
    return [(start, min(rows, start + shard_size)) for start in range(0, rows, shard_size)]


def open_vectors_folder(out: Path, facts: ModelFacts, precision: str, manifest: Path, rows: int,
                        shard_size: int) -> VectorsInfo:
    """The folder's metadata: new, or the existing one after checking it belongs to this very job."""
    out = Path(out)
    job = {"manifest_sha256": file_sha256(manifest), "rows": rows, "shard_size": shard_size}
    wanted = VectorsInfo(facts.key, facts.revision, facts.dim, facts.preprocessing, precision, {}, "cluster-embed")
    if not (out / JOB_NAME).exists():
        if out.exists() and any(out.iterdir()):
            raise ShardError(f"{out} is not empty and holds no cluster-embed job: give an empty or new folder")
        out.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(out / JOB_NAME, (json.dumps(job, indent=2) + "\n").encode("utf-8"))
        write_info(out, wanted)
        return wanted
    earlier = json.loads((out / JOB_NAME).read_text(encoding="utf-8"))
    if earlier != job:
        raise ShardError(f"{out} holds a job for another manifest or --shard-size ({earlier}); "
                         "give a new --out, or the same manifest and shard size to resume")
    info = read_info(out)
    made = (info.model, info.revision, info.dim, info.preprocessing, info.precision)
    if made != (wanted.model, wanted.revision, wanted.dim, wanted.preprocessing, wanted.precision):
        raise ShardError(f"{out} holds vectors made with {made}; this run would make {wanted.model} at "
                         f"{precision} ({wanted.preprocessing}): give a new --out")
    return info


def shards_left(info: VectorsInfo, bounds: list[tuple[int, int]]) -> list[int]:
    """Shard numbers the metadata does not list yet; a listed one with the wrong row count is refused."""
    left = []
    for number, (start, end) in enumerate(bounds):
        done = info.shards.get(shard_name(number))
        if done is None:
            left.append(number)
        elif done.get("rows") != end - start:
            raise ShardError(f"{shard_name(number)} holds {done.get('rows')} rows, not {end - start}")
    return left
