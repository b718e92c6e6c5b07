"""`lookalike export-vectors` and `lookalike import-vectors`: vectors made on one machine attached to a
library on another without embedding again (#18; the format: core.cluster.shard_format).

    lookalike export-vectors [--data-dir D] [--model M] --out DIR
    lookalike import-vectors [--data-dir D] [--model M] [--json] [--path-map OLD=NEW]... DIR...

An import is a write: it needs the library's writer lock. While another process owns the library (the
app, `lookalike index --watch`) it is refused, not handed over: checking a sample re-embeds photos, which
belongs on this machine's terminal, and the owner would have to hold every row in one request.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.owning import open_owner, say
from core.cluster.vectors_export import export_vectors
from core.cluster.vectors_import import parse_path_map, read_batch
from core.errors import LibraryBusyError
from core.library.facade import Library
from core.library.intents import ImportVectors
from core.library.vector_import import ImportReport


def add_vectors_parsers(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, model: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "export-vectors", parents=[common, model], help="write the library's vectors as Parquet shards",
        description="One row per readable photo with a vector for the library's model (or --model).",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="an empty or new folder")
    p = sub.add_parser(
        "import-vectors", parents=[common, model], help="attach vectors made on another machine",
        description="Checks the model, preprocessing, precision and a re-embedded sample; writes nothing "
        "unless all of it agrees. Vectors already in the library are never replaced.",
    )
    p.add_argument("folders", nargs="+", metavar="DIR", help="vectors folders (export-vectors, cluster-embed)")
    p.add_argument("--path-map", action="append", default=[], metavar="OLD=NEW",
                   help="where the other machine's folder OLD is here (repeatable)")


def cmd_export_vectors(args: argparse.Namespace) -> int:
    with Library(args.data_dir, model=args.model, device=args.device, readonly=True) as library:
        written = export_vectors(library, Path(args.out))
    for part in written:
        say(f"{part.rows} vectors ({part.precision}) in {part.shards} shard(s) in {part.folder}")
    if args.json:
        print(json.dumps({"folders": [{"folder": str(p.folder), "precision": p.precision, "rows": p.rows}
                                      for p in written]}))
    return 0


def cmd_import_vectors(args: argparse.Namespace) -> int:
    batch = read_batch([Path(f) for f in args.folders], parse_path_map(args.path_map))  # before any lock
    try:
        owner = open_owner(args, 0, serve=False)
    except LibraryBusyError as exc:
        raise LibraryBusyError(
            "another Lookalike process (the app, or `lookalike index --watch`) owns this library: close it, "
            "then run import-vectors again"
        ) from exc
    try:
        owner.start()
        report: ImportReport = owner.submit(ImportVectors(batch), origin="cli").wait()
    finally:
        owner.close()
    if args.json:
        print(json.dumps(report.summary()))
    else:
        s = report.summary()
        print(f"{s['imported']} vectors imported for {s['matched_photos']} photos; {s['unknown_hashes']} rows "
              f"matched no photo here, {s['rejected']} rejected")
    if not report.imported and not report.matched_photos:
        print("lookalike: nothing new: every vector that fits this library was already in it", file=sys.stderr)
    return 0
