"""`lookalike search` and `lookalike list`: composed, filtered searches and the library list under the
same filters, as the app's filter bar applies them.

    lookalike search --image P [--image P2] [--not-image N]... [--text Q] [filters] [--sort score|date]
                     [--min-score S] [--k K] [--json]
    lookalike list [filters] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime

from core.library.facade import Library
from core.library.filters import ORIENTATIONS, TYPES, PhotoFilter, parse_filter
from core.library.records import SearchResult
from core.library.searching import MATCH_THRESHOLD, SearchQuery
from core.store.database import Photo


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (all must hold; dates as YYYY, YYYY-MM or YYYY-MM-DD, both ends included)")
    g.add_argument("--after", metavar="DATE", help="taken on or after this date")
    g.add_argument("--before", metavar="DATE", help="taken on or before this date")
    g.add_argument("--folder", help="in this library folder or below it")
    g.add_argument("--type", dest="types", metavar="TYPES", help=f"comma-separated: {', '.join(TYPES)}")
    g.add_argument("--camera", metavar="TEXT", help="camera make or model containing TEXT")
    g.add_argument("--orientation", choices=ORIENTATIONS)
    g.add_argument("--min-megapixels", type=float, metavar="N")
    g.add_argument("--has-location", action="store_true", help="only photos with a GPS position")


def add_search_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, model: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "search", parents=[common, model], help="find look-alikes of images and/or a text, filtered",
        description=f"Text searches keep the photos the model calls matches (its own probability >= "
                    f"{MATCH_THRESHOLD}); --min-score replaces that cut (-1 shows everything).",
    )
    p.add_argument("--image", action="append", default=[], help="an example image (repeat for several)")
    p.add_argument("--not-image", action="append", default=[], help="an image the results should not look like")
    p.add_argument("--text", help='a description, e.g. "red canvas shoes"; with --image: "this one, but ..."')
    p.add_argument("--k", type=int, default=20, help="number of results (default 20)")
    p.add_argument("--sort", choices=("score", "date"), default="score", help="by similarity (default) or date taken")
    p.add_argument("--min-score", type=float, default=None, help="keep results with a cosine of at least S")
    add_filter_arguments(p)
    lst = sub.add_parser("list", parents=[common], help="list the library's photos, filtered, newest first")
    add_filter_arguments(lst)


def filter_of(args: argparse.Namespace, lib: Library) -> PhotoFilter:
    return parse_filter(
        after=args.after, before=args.before, folder=args.folder, types=args.types, camera=args.camera,
        orientation=args.orientation, min_megapixels=args.min_megapixels, has_location=args.has_location,
        library_folders=tuple(f.path for f in lib.folders()),
    )


def cmd_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        print("lookalike: --k must be at least 1", file=sys.stderr)
        return 2
    if not args.image and not args.text:
        print("lookalike: search needs --image or --text", file=sys.stderr)
        return 2
    for path in (*args.image, *args.not_image):
        if not os.path.exists(path):
            print(f"lookalike: no such file: {path}", file=sys.stderr)
            return 2
    with Library(args.data_dir, model=args.model, device=args.device, readonly=True) as lib:
        query = SearchQuery(
            images=tuple(args.image), not_images=tuple(args.not_image), text=args.text, k=args.k,
            filters=filter_of(args, lib), min_score=args.min_score, sort=args.sort,
        )
        answer = lib.search(query)
    if answer.note:
        print(f"lookalike: {answer.note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"results": [_result_json(r) for r in answer.results], "more": answer.more}))
        return 0
    for r in answer.results:
        match = f"  match {r.match:.2f}" if r.match is not None else ""
        print(f"{r.score:.4f}{match}  {r.path}")
    if answer.more:
        print("lookalike: more results scored below the model's match threshold: --min-score -1 shows them",
              file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with Library(args.data_dir, readonly=True) as lib:
        photos = lib.photos(filters=filter_of(args, lib))
    if args.json:
        print(json.dumps({"photos": [_photo_json(p) for p in photos]}))
    else:
        for p in photos:
            print(f"{_iso(p.taken_at) or '-':<19}  {p.camera or '-':<24}  {p.path}")
        print(f"{len(photos)} photo(s)", file=sys.stderr)
    return 0


def _result_json(r: SearchResult) -> dict:
    out = {"path": r.path, "score": round(r.score, 6), "taken": _iso(r.taken_at)}
    if r.match is not None:
        out["match"] = round(r.match, 6)
    return out


def _photo_json(p: Photo) -> dict:
    return {"path": p.path, "taken": _iso(p.taken_at), "camera": p.camera, "width": p.width, "height": p.height}


def _iso(seconds: float | None) -> str | None:
    """The capture time as the camera's local time, ISO 8601 (no offset: stored times are local)."""
    return datetime.fromtimestamp(seconds).isoformat(timespec="seconds") if seconds is not None else None
