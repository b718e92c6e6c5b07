"""`lookalike export-manifest` and `lookalike cluster-embed`: embedding an archive too large for one machine.

export-manifest -> (copy the manifest to the cluster) -> cluster-embed -> import-vectors (its own module).

export-manifest writes to the library (it adds folders and scans them), so it runs as the library's owner,
through the owner's write queue. While another process owns the library (the app, `index --watch`) it
waits for it to close and says so: a scan cannot be handed over (handoff carries only the CLI's ops, and
the owner's answer would be an update that embeds here, which is what this command exists to avoid).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.cli.owning import absolute_folders, say
from core.cli.progress_bar import ProgressBar
from core.embedding.device import PRECISIONS
from core.embedding.registry import DEFAULT_MODEL, KNOWN_MODELS
from core.errors import LibraryBusyError
from core.library.facade import Library
from core.library.intents import Scan
from core.session.owner import LibraryOwner


def add_cluster_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export-manifest", parents=[common],
        help="scan folders (no embedding) and list the photos that still need a vector, for cluster-embed",
    )
    p.add_argument("folders", nargs="*", metavar="FOLDER", help="photo folders to add and scan first")
    p.add_argument("--model", help="the model whose vectors are missing (default: the library's model)")
    p.add_argument("--all", action="store_true", help="list every readable photo, with a vector or not")
    p.add_argument("--out", required=True, metavar="MANIFEST.parquet", help="the manifest to write")

    p = sub.add_parser(
        "cluster-embed", help="embed a manifest's photos on a Ray cluster (or a local Ray); resumable",
        description="Writes Parquet shards and lookalike-vectors.json to --out; run it again to finish "
        "the shards a stopped run did not write. Needs the cluster extra: pip install 'lookalike[cluster]'.",
    )
    p.add_argument("--manifest", required=True, help="a manifest from export-manifest")
    p.add_argument("--out", required=True, metavar="DIR", help="the vectors folder (new, or a run's to resume)")
    p.add_argument("--model", default=None,
                   help=f"model key ({', '.join(KNOWN_MODELS)}) or a model folder every worker sees "
                   f"(default: LOOKALIKE_MODEL, else {DEFAULT_MODEL})")
    p.add_argument("--address", help="the Ray cluster (e.g. 10.0.0.5:6379 or auto); default: a local Ray")
    p.add_argument("--path-map", action="append", default=[], metavar="OLD=NEW",
                   help="read photos under OLD at NEW on the cluster (repeatable); shards keep the OLD path")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="model precision (default: bf16 on GPUs, fp32 on CPUs)")
    p.add_argument("--shard-size", type=int, default=1000, help="photos per shard (default 1000)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def cmd_export_manifest(args: argparse.Namespace) -> int:
    from core.cluster.manifest import export_manifest

    folders = absolute_folders(args.folders)
    owner = LibraryOwner(_library_when_free(args))
    if not folders and not owner.library.folders():
        owner.close()
        print("lookalike: no folders yet: give one, e.g. `lookalike export-manifest --out m.parquet ~/Pictures`",
              file=sys.stderr)
        return 2
    bar = ProgressBar(sys.stderr)
    owner.queue.subscribe(lambda e: bar.update(e.progress) if e.progress is not None else None)
    owner.start()
    try:
        owner.submit(Scan(tuple(folders)), origin="cli").wait()
        bar.finish()
        report = export_manifest(owner.library, Path(args.out), args.model, args.all)
    finally:
        bar.finish()
        owner.close(drain=True)  # finishes what other processes handed over meanwhile
    if args.json:
        print(json.dumps(report.summary()))
    else:
        what = "readable photos" if report.everything else "photos that need a vector"
        print(f"{report.photos} {what} for {report.model} listed in {report.path}")
    return 0


def _library_when_free(args: argparse.Namespace) -> Library:
    """The library as its writer; while another process owns it, wait (saying so) until it closes.
    The model stays the library's own: --model only names which vectors are missing."""
    try:
        return Library(args.data_dir, lock_timeout_s=0)
    except LibraryBusyError:
        say("another Lookalike process owns this library (the app, or `lookalike index --watch`): "
            "export-manifest waits for it to close; Ctrl+C to stop")
        return Library(args.data_dir, lock_timeout_s=-1)


def cmd_cluster_embed(args: argparse.Namespace) -> int:
    from core.cluster.embed_job import EmbedJob, run_embed_job
    from core.cluster.path_map import PathMap

    job = EmbedJob(
        Path(args.manifest), Path(args.out), args.model or os.environ.get("LOOKALIKE_MODEL") or DEFAULT_MODEL,
        args.address, PathMap.parse(args.path_map), args.precision, args.shard_size,
    )
    report = run_embed_job(job, on_shard=lambda d: say(
        f"{d.name} written: {d.done}/{d.total} shards, {d.photos} photos, {d.rate:.1f} photos/s"))
    if args.json:
        print(json.dumps(report.summary()))
    else:
        print(f"{report.written_shards} shards written ({report.skipped_shards} done before) to {report.out}: "
              f"{report.embedded} photos embedded, {report.failed} failed, {report.photos_per_s} photos/s "
              f"on {report.actors} {report.device} model(s) at {report.precision}")
    return 0
