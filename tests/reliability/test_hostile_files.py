"""Hostile and broken files in a photo folder: each is skipped with its reason, the rest are indexed,
memory stays bounded, and the photos are only ever read."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import threading
from pathlib import Path

import psutil
import pytest
from PIL import Image

from core.library.facade import Library
from tests.imagegen import photo_like, write_bad_files, write_photo

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, symlinks and byte names are POSIX")

GOOD = 6
RSS_GROWTH_LIMIT = 500 << 20


def _many_page_tiff(pages: int) -> bytes:
    frames = [photo_like(i, (64, 48)) for i in range(pages)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def write_more_bad_files(folder: Path) -> dict[str, str]:
    """The cases tests/imagegen.write_bad_files lacks; same {name: "fails:/decodes:/ignored: ..."} shape."""
    (folder / "loop").mkdir()
    os.symlink("..", folder / "loop" / "back_up")  # walking it naively would never end
    os.mkfifo(folder / "photo.jpg")
    bad_name = os.fsencode(str(folder)) + b"/caf\xe9_latin1.jpg"  # a Latin-1 name: invalid UTF-8
    with open(bad_name, "wb") as f:
        Image.new("RGB", (64, 48), "blue").save(f, format="JPEG")
    long_name = "l" * 251 + ".jpg"  # 255 bytes, the most a Linux file name can hold
    write_photo(folder / long_name, seed=77, size=(96, 72))
    (folder / "pages_200.tiff").write_bytes(_many_page_tiff(200))
    return {
        "loop": "ignored: a symlink loop (a folder, walked once)",
        "photo.jpg": "fails: a FIFO named photo.jpg",
        # listed under its escaped form: SQLite text must be valid UTF-8
        b"caf\xe9_latin1.jpg".decode("utf-8", "backslashreplace"): "fails: file name with invalid UTF-8 bytes",
        long_name: "decodes: a 255-byte file name",
        "pages_200.tiff": "decodes: 200-page TIFF (first page only)",
    }


def _fingerprint(root: Path) -> dict[bytes, tuple[str, int, int]]:
    """Every entry below `root` (bytes names, symlinks not followed): kind, mtime, content digest."""
    out: dict[bytes, tuple[str, int, int]] = {}
    for folder, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            digest = 0
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    digest = int(hashlib.blake2b(f.read(), digest_size=8).hexdigest(), 16)
            out[path] = (oct(st.st_mode), st.st_mtime_ns, digest)
    return out


class PeakRss:
    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.timeout(240)
def test_hostile_files_are_skipped_with_reasons_and_the_rest_indexed_in_bounded_memory(
    tmp_path: Path, tiny_siglip_dir: Path
) -> None:
    root = tmp_path / "photos"
    cases = write_bad_files(root / "bad")
    cases |= write_more_bad_files(root / "bad")
    for i in range(GOOD):
        write_photo(root / f"good_{i}.jpg", seed=i, size=(160, 120))
    before = _fingerprint(root)

    with Library(tmp_path / "data", model=str(tiny_siglip_dir), workers=0) as lib:
        lib.add_folder(root)
        lib.embedder()  # loaded before measuring: the model's memory is not the files' doing
        with PeakRss() as rss:
            report = lib.update()
        status = lib.status()
        indexed = {Path(p.path).name for p in lib.photos() if p.status == "ok"}
        failures = {Path(path).name: reason for path, reason in status.failures}

    print(f"\n{len(cases)} hostile cases; RSS growth {(rss.peak - rss.start) >> 20} MB")
    for name, description in sorted(cases.items()):
        handled = "indexed" if name in indexed else f"skipped: {failures.get(name, 'not listed')}"
        print(f"  {name[:40]:<40} {description} -> {handled}")

    assert {f"good_{i}.jpg" for i in range(GOOD)} <= indexed
    for name, description in cases.items():
        if description.startswith("decodes:"):
            assert name in indexed, (name, failures.get(name))
        elif description.startswith("fails:") and name != "folder.jpg":  # a folder is walked, not read
            assert failures.get(name), f"{name} ({description}) is not listed as failed"
            assert failures[name] != "unknown error"
        else:
            assert name not in indexed and name not in failures
    assert failures["photo.jpg"].startswith("not a regular file")
    assert "not valid UTF-8" in failures[next(n for n in cases if n.startswith("caf"))]
    assert status.counts.indexed == len(indexed) and status.counts.pending == 0
    assert report.index.failed + report.scan.scanned >= len(failures)
    assert rss.peak - rss.start < RSS_GROWTH_LIMIT
    assert _fingerprint(root) == before  # every photo's bytes and mtime unchanged, nothing created
