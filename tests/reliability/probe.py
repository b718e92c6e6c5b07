"""Run the real `lookalike` command line with counting and kill points, for the crash harness.

    python -m tests.reliability.probe index --data-dir D --model M --workers 0 FOLDER

Product code stays untouched; this wrapper only observes it from outside:
- `RELIABILITY_EMBED_LOG=<file>`: every call of `Embedder.embed_preprocessed` appends the number of
  images it embedded, flushed and fsynced *before* the vectors go back to the pipeline, so a SIGKILL can
  never hide an embedding that happened (it may only count one whose vectors were then lost).
- `RELIABILITY_PAUSE_AT=commit|save` and `RELIABILITY_MARKER=<file>`: on reaching that point (after
  skipping the first `RELIABILITY_PAUSE_SKIP` times) the probe writes the marker and sleeps, so the harness can SIGKILL the process exactly there:
    commit  inside the batch's SQLite transaction, after the vectors were inserted, before COMMIT;
    save    inside the FAISS index save, after the temp file was written, before it replaces the old file.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

PAUSE_S = 2.0  # long enough for the harness's 10 ms polling to see the marker and kill


def _append_line(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


_reached: dict[str, int] = {}


def _pause_if(point: str) -> None:
    """Pause at the (RELIABILITY_PAUSE_SKIP + 1)-th time `point` is reached, if it is the chosen one."""
    if os.environ.get("RELIABILITY_PAUSE_AT") != point:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] <= int(os.environ.get("RELIABILITY_PAUSE_SKIP", "0")):
        return
    _append_line(os.environ["RELIABILITY_MARKER"], point)
    time.sleep(PAUSE_S)


def _count_embeddings(original: Callable[..., Any], log: str) -> Callable[..., Any]:
    def embed_preprocessed(self: Any, items: Any) -> Any:
        vectors = original(self, items)
        _append_line(log, str(len(vectors)))
        return vectors

    return embed_preprocessed


def install() -> None:
    import core.embedding.embedder
    import core.indexing.pipeline
    import core.vectors.index_file

    log = os.environ.get("RELIABILITY_EMBED_LOG")
    if log:
        cls = core.embedding.embedder.Embedder
        cls.embed_preprocessed = _count_embeddings(cls.embed_preprocessed, log)  # type: ignore[method-assign]

    insert_vectors = core.indexing.pipeline.insert_vectors

    def insert_then_pause(conn: Any, model: str, items: Any, precision: str | None) -> None:
        insert_vectors(conn, model, items, precision)
        if items:
            _pause_if("commit")

    core.indexing.pipeline.insert_vectors = insert_then_pause  # type: ignore[assignment]

    write_body = core.vectors.index_file._write_body

    def write_body_then_pause(f: Any, index: Any, dim: int, meta_bytes: bytes) -> None:
        write_body(f, index, dim, meta_bytes)
        f.flush()
        _pause_if("save")

    core.vectors.index_file._write_body = write_body_then_pause  # type: ignore[assignment]


def main() -> int:
    if sys.argv[1:2] == ["--zygote"]:
        return zygote()
    install()
    from core.cli.main import main as cli_main

    return cli_main(sys.argv[1:])


def zygote() -> int:
    """Fork one fresh `lookalike` process per request, with the heavy imports already done.

    Importing torch and transformers takes seconds on the 2-core reference machine; paying it once lets
    the harness kill and restart the command line twenty-odd times inside the test's time budget. Each
    child is a separate process that opens the library from scratch (SQLite, the writer lock, FAISS,
    the model) exactly as `lookalike index` does; only the imports are inherited. Nothing here runs the
    model or opens a file of the library, so no thread pool or handle crosses the fork.

    Protocol (one JSON object a line on stdin): {"argv": [...], "env": {...}, "output": path}; the reply
    on stdout is the child's pid. When the child ends, the zygote reaps it and writes its exit code
    (negative: killed by that signal) to `output + ".rc"`.
    """
    import json
    import signal

    import torch  # noqa: F401
    import transformers  # noqa: F401
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer  # noqa: F401
    from transformers.models.siglip import modeling_siglip  # noqa: F401

    import core.cli.main  # noqa: F401
    import core.embedding.embedder  # noqa: F401
    import core.library.facade  # noqa: F401
    import core.vectors.index  # noqa: F401

    outputs: dict[int, str] = {}

    def reap(_signum: int, _frame: Any) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            with open(outputs.pop(pid) + ".rc", "w") as f:
                f.write(str(os.waitstatus_to_exitcode(status)))

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        request = json.loads(line)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # record the pid before reaping it
        pid = os.fork()
        if pid == 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _child(request)
        outputs[pid] = request["output"]
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        print(pid, flush=True)
    return 0


def _child(request: dict[str, Any]) -> None:
    rc = 1
    try:
        out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.update(request["env"])
        install()
        from core.cli.main import main as cli_main

        rc = cli_main(request["argv"])
    except BaseException as exc:  # report it in the output file; the exit status says it failed
        print(f"probe: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)


if __name__ == "__main__":
    raise SystemExit(main())
