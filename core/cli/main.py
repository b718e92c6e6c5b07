"""The `lookalike` command line: index, search, status, settings and eval over the same core the app uses.

With no subcommand (or a photo path), `lookalike` opens the desktop window; the launcher in
`desktop/launcher.py` decides that before calling `main` here.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from core.cli.cluster_commands import add_cluster_parsers, cmd_cluster_embed, cmd_export_manifest
from core.cli.commands import SUBCOMMANDS, first_word, refusal
from core.cli.duplicates_command import add_duplicates_parser, cmd_duplicates
from core.cli.owning import absolute_folders, own_or_hand_off, say
from core.cli.progress_bar import ProgressBar
from core.cli.search_command import add_search_parser, cmd_list, cmd_search
from core.cli.settings_command import add_settings_parser, cmd_settings
from core.cli.vectors_commands import add_vectors_parsers, cmd_export_vectors, cmd_import_vectors
from core.embedding.device import PRECISIONS
from core.embedding.registry import KNOWN_MODELS
from core.errors import Cancelled, LookalikeError, ModelError
from core.library.facade import Library, LibraryStatus, UpdateReport
from core.library.records import PrecisionStatus
from core.session.owner import LibraryOwner
from core.tasks.progress import TaskHandle


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lookalike",
        description="Find look-alike photos in your photo folders. With no command, opens the app "
        "(`lookalike PHOTO` opens it on that photo's look-alikes).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="library folder (default: per-user data dir; LOOKALIKE_DATA_DIR)")
    common.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")

    model = argparse.ArgumentParser(add_help=False)
    model.add_argument(
        "--model", help=f"model key ({', '.join(KNOWN_MODELS)}) or a local model folder; LOOKALIKE_MODEL"
    )
    model.add_argument("--device", default=None, help="auto, cpu, cuda or mps (default: the library's setting)")

    p = sub.add_parser("index", parents=[common, model], help="add folders and bring the index up to date")
    p.add_argument("folders", nargs="*", metavar="FOLDER", help="photo folders to add (default: all known)")
    p.add_argument("--workers", type=int, default=None, help="decoding processes (default: cores - 1)")
    p.add_argument(
        "--precision", choices=PRECISIONS, default=None,
        help="model precision (default: the fastest that passes the precision check; LOOKALIKE_PRECISION)",
    )
    p.add_argument(
        "--watch", action="store_true",
        help="then keep watching the folders and apply changes until Ctrl+C (one line per change on stderr)",
    )

    add_search_parser(sub, common, model)

    sub.add_parser("status", parents=[common], help="folders, photo counts, failures, index size")
    add_settings_parser(sub, common)
    add_eval_parser(sub)
    add_duplicates_parser(sub, common, model)
    add_vectors_parsers(sub, common, model)
    add_cluster_parsers(sub, common)
    return parser


def main(argv: Sequence[str]) -> int:
    word = first_word(list(argv))
    if word is not None and word not in SUBCOMMANDS:
        print(refusal(word), file=sys.stderr)  # before argparse, whose "invalid choice" suggests nothing
        return 2
    if word is not None:  # `lookalike --data-dir D status`, as the window's options are typed: options after it
        at = list(argv).index(word)
        argv = [word, *argv[:at], *argv[at + 1:]]
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    quiet_logging()
    command: Callable[[argparse.Namespace], int] = {
        "index": cmd_index, "search": cmd_search, "list": cmd_list, "status": cmd_status, "settings": cmd_settings,
        "eval": cmd_eval, "duplicates": cmd_duplicates,
        "export-vectors": cmd_export_vectors, "import-vectors": cmd_import_vectors,
        "export-manifest": cmd_export_manifest, "cluster-embed": cmd_cluster_embed,
    }[args.command]
    try:
        return command(args)
    except ModelError as exc:
        print(f"lookalike: model error: {exc}", file=sys.stderr)
        return 3
    except LookalikeError as exc:
        print(f"lookalike: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lookalike: interrupted; everything indexed so far is kept", file=sys.stderr)
        return 130


def quiet_logging() -> None:
    """The core logs failures with tracebacks: they go to the log file (as the app's do), while the
    terminal gets the typed error's one-line message; nothing logged reaches stderr."""
    from core.files.logs import configure_logging

    try:
        configure_logging()
    except OSError:  # no writable cache folder: the command still runs, without a log
        logging.getLogger().addHandler(logging.NullHandler())


def cmd_index(args: argparse.Namespace) -> int:
    folders = absolute_folders(args.folders)
    owner = own_or_hand_off(
        args, "index", {"folders": folders}, watch=args.watch, on_error=lambda exc: say(f"error: {exc}"),
        on_notice=say, on_batch=lambda b: say(b.describe()),
    )
    if not isinstance(owner, LibraryOwner):
        with Library(args.data_dir, readonly=True) as lib:  # the owner's counts, read beside it
            print_summary(owner["report"], args.json, lib.status())
        if args.watch:
            say("that process watches the folders already; nothing more to do here")
        return 0
    if not folders and not owner.library.folders():
        owner.close()
        print("lookalike: no folders yet: give one, e.g. `lookalike index ~/Pictures`", file=sys.stderr)
        return 2
    return run_index(owner, folders, args)


def run_index(owner: LibraryOwner, folders: list[str], args: argparse.Namespace) -> int:
    bar = ProgressBar(sys.stderr)
    owner.queue.subscribe(lambda e: bar.update(e.progress) if e.progress is not None else None)
    owner.start()
    try:
        report = owner.index(folders, origin="cli").wait()
    except (KeyboardInterrupt, Cancelled):
        bar.finish()
        owner.close()  # the batch in hand is committed, the index saved
        print("lookalike: interrupted; everything indexed so far is kept", file=sys.stderr)
        return 130
    except BaseException:  # a full disk, a read-only folder: stop the queue's thread, then say why
        bar.finish()
        close_after_failure(owner)
        raise
    bar.finish()
    print_index_report(report, args.json, owner.library.status())
    warning = owner.library.precision_status().warning
    if warning:
        print(f"lookalike: warning: {warning}", file=sys.stderr)
    if args.watch:
        return watch_folders(owner)
    owner.close(drain=True)  # finishes what other processes handed over meanwhile
    return 0


def close_after_failure(owner: LibraryOwner) -> None:
    """Close `owner` after its job failed; closing may fail for the same reason (the disk is still
    full), which is logged: the job's own error is the one the user needs to read."""
    try:
        owner.close()
    except Exception:  # noqa: BLE001 - the first error is already on its way to the user
        logging.getLogger(__name__).exception("closing the library after a failed index also failed")


def print_index_report(report: UpdateReport, as_json: bool, status: LibraryStatus) -> None:
    print_summary(report.summary(), as_json, status)
    for path, reason in report.index.failures:
        print(f"skipped {path}: {reason}", file=sys.stderr)


def print_summary(summary: dict[str, int], as_json: bool, status: LibraryStatus) -> None:
    """This run's counts, and the whole library's beside them: a re-run fails nothing new ("failed": 0)
    while photos an earlier run could not read are still failed in the library."""
    c = status.counts
    library = {"photos": c.photos, "indexed": c.indexed, "failed": c.failed, "offline": c.offline}
    if as_json:
        print(json.dumps({**summary, "library": library}), flush=True)
        return
    print(
        f"{summary['scanned']} photos scanned: {summary['embedded']} embedded, "
        f"{summary['reused']} reused, {summary['removed']} removed, {summary['failed']} failed",
        flush=True,
    )
    if c.failed > summary["failed"]:
        say(f"the library holds {c.failed} photo(s) that could not be read; `lookalike status` lists them")


def watch_folders(owner: LibraryOwner) -> int:
    """`index --watch`: apply changes as they happen until SIGINT or SIGTERM, then stop cleanly: the
    batch being embedded is committed, the search index saved, and the exit status is 0."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        say(f"watching {len(owner.library.folders())} folder(s); Ctrl+C to stop")
        while not stop.wait(0.5):  # a timeout, so the signal handler runs promptly on every platform
            pass
        say("stopping: finishing the current batch")
    finally:
        owner.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped; the index is saved")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with Library(args.data_dir, readonly=True) as lib:
        status = lib.status()
    if args.json:
        print(json.dumps(status_json(status)))
    else:
        print(format_status(status))
    return 0


def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="compare models on a labelled image set (mAP, precision@k, recall@10, speed; text queries)",
        description="Each image queries all the others; a result is right when it has the same class. Each "
        "class's folder name is also a text query (golden_retriever asks for 'golden retriever'), and the "
        "model's own match cut is checked against the labels.",
    )
    p.add_argument("folder", metavar="FOLDER", help="one subfolder per class, or a CSV of path,label")
    p.add_argument("--models", required=True, help="comma-separated model keys or local model folders")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    p.add_argument("--report", metavar="OUT.html", help="also write a self-contained HTML report")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    p.add_argument(
        "--precision", choices=("fp32", "bf16", "fp16", "int8"), default=None,
        help="model precision (default: fp32, the reference; LOOKALIKE_PRECISION)",
    )


def cmd_eval(args: argparse.Namespace) -> int:
    from core.eval.evaluation import evaluate

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        print("lookalike: --models needs at least one model", file=sys.stderr)
        return 2
    bar = ProgressBar(sys.stderr)
    try:
        handle = TaskHandle(on_progress=bar.update)
        result = evaluate(args.folder, models, args.device, handle, args.precision)
    except KeyboardInterrupt:
        bar.finish()
        print("lookalike: eval interrupted; nothing was written", file=sys.stderr)
        return 130
    bar.finish()
    for path, reason in result.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if args.report:
        from core.eval.report import write_report

        write_report(result, args.report)
        print(f"report written to {args.report}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print(format_eval(result.summary()))
    return 0


def format_eval(summary: dict) -> str:
    columns = ["mAP", "precision@1", "precision@5", "precision@10", "recall@10", "images_per_s"]
    width = max(len("model"), *(len(m["model"]) for m in summary["models"]))
    lines = [
        f"{summary['images']} images, {summary['classes']} classes; each image queries all the others",
        f"{'model':<{width}}  " + "  ".join(f"{c:>12}" for c in columns),
    ]
    for m in summary["models"]:
        cells = [f"{m[c]:>12.1f}" if c == "images_per_s" else f"{m[c]:>12.4f}" for c in columns]
        lines.append(f"{m['model']:<{width}}  " + "  ".join(cells))
    return "\n".join(lines + format_text_eval(summary["models"], width))


def format_text_eval(models: list[dict], width: int) -> list[str]:
    """The text queries' table: each class's name asks for its images; then the model's own match cut."""
    texts = [(m["model"], m["text"]) for m in models if m.get("text")]
    if not texts:
        return []
    columns = ["mAP", "precision@1", "precision@5", "recall@10", "match_precision", "match_recall"]
    lines = [
        "",
        f"text queries: each class's name ({texts[0][1]['classes']}) ranks every image; "
        f"match: the model's probability >= {texts[0][1]['match_threshold']:g}",
        f"{'model':<{width}}  " + "  ".join(f"{c:>15}" for c in columns),
    ]
    for model, t in texts:
        cells = ["{:>15}".format("-" if t[c] is None else f"{t[c]:.4f}") for c in columns]
        lines.append(f"{model:<{width}}  " + "  ".join(cells))
    return lines


def status_json(s: LibraryStatus) -> dict:
    c = s.counts
    return {
        "data_dir": s.data_dir,
        "model": s.model,
        "folders": [
            {"path": f.path, "online": f.online, "photos": f.photos, "indexed": f.indexed, "failed": f.failed}
            for f in s.folders
        ],
        "photos": c.photos, "indexed": c.indexed, "pending": c.pending, "failed": c.failed,
        "offline": c.offline,
        "failures": [{"path": p, "reason": r} for p, r in s.failures],
        "skipped": len(s.skipped),  # of "failed" and "failures": formats we know but do not index
        "index_bytes": s.index_bytes,
        "database_bytes": s.database_bytes,
        "precision": precision_json(s.precision),
    }


def precision_json(p: PrecisionStatus | None) -> dict | None:
    """The precision in use and the check's evidence (`status --json`'s "precision")."""
    if p is None:
        return None
    verdict = p.verdict
    return {
        "device": verdict.device if verdict else None,
        "in_use": p.in_use,
        "chosen": verdict.chosen if verdict else None,
        "requested": p.requested,
        "requested_by": p.requested_by or None,
        "warning": p.warning,
        "reembedding": p.reembedding,
        "summary": p.describe(),
        "checks": [c.to_json() for c in verdict.checks] if verdict else [],
        "sample": {"photos": verdict.own_photos, "generated": verdict.sample - verdict.own_photos} if verdict else None,
        "check_seconds": verdict.seconds if verdict else None,
        "checked_at": verdict.checked_at if verdict else None,
        "machine": verdict.machine if verdict else None,
    }


def format_status(s: LibraryStatus) -> str:
    c = s.counts
    lines = [f"library: {s.data_dir}", f"model:   {s.model}", "folders:"]
    lines += [
        f"  {f.path}  ({f.photos} photos{'' if f.online else ', OFFLINE'})" for f in s.folders
    ] or ["  (none)"]
    lines.append(
        f"photos:  {c.photos} ({c.indexed} indexed, {c.pending} pending, {c.failed} failed, {c.offline} offline)"
    )
    lines.append(f"index:   {_size(s.index_bytes)} search index, {_size(s.database_bytes)} database")
    if s.precision is not None:
        lines.append(f"precision: {s.precision.describe()}")
        if s.precision.warning:
            lines.append(f"warning: {s.precision.warning}")
    skipped = s.skipped
    unreadable = [f for f in s.failures if f not in skipped]
    if unreadable:
        lines.append("failed photos:")
        lines += [f"  {p}: {r}" for p, r in unreadable]
    if skipped:
        lines.append("not indexed (formats Lookalike does not read; counted as failed):")
        lines += [f"  {p}: {r}" for p, r in skipped]
    return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
