"""How long does the first screen of thumbnails take on a library we have never shown, with and without a
file manager's thumbnails in the freedesktop shared cache?

    nice .venv/bin/python benchmarks/thumbnails_first_screen.py [--photos 1000] [--screen 40] [--rounds 3]
        [--size 4000x3000]

Photos: N photo-like JPEGs, 12 MP (4000x3000, what most phones and many cameras write) unless --size says
otherwise, made once and kept in /tmp/lookalike-bench/photos-WxH for later runs (about 1 s and 2.2 MB each
at 12 MP: the first run of 1,000 spends ~17 minutes generating them). "First screen": the first 40 photos at the default
zoom (136 px, so 256 px files), about what the default 1360x860 window shows; made with 2 worker threads
as `ThumbnailCache` does, our own cache cold (a fresh folder every round). (a) no shared cache at all;
(b) a warm shared cache: every photo has a valid `large` entry, written here as a file manager would
(PNG, Thumb::URI, Thumb::MTime, Thumb::Size). The photos are in the OS file cache in both cases, so (a) is
a best case for decoding; from a cold disk the shared cache wins by more. (a') is (a) on the same pixels
saved with an embedded Display P3 profile (kept in photos-WxH-p3): what colour management costs a screen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, PngImagePlugin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.imaging.decode import open_image  # noqa: E402
from core.imaging.icc_profiles import D65_WHITE, P3_PRIMARIES, matrix_profile, srgb_curve  # noqa: E402
from core.imaging.shared_thumbnails import entry_name, file_uri  # noqa: E402
from core.imaging.thumbnails import make_thumbnail  # noqa: E402
from tests.imagegen import photo_like, write_photo  # noqa: E402

BENCH_DIR = Path("/tmp/lookalike-bench")
PHOTO_SIZE = (4000, 3000)
FILE_SIZE = 256  # the file size the default zoom (136 px) asks for on a plain screen
WORKERS = 2  # ThumbnailCache's default


def make_photos(count: int, size: tuple[int, int] = PHOTO_SIZE) -> list[Path]:
    folder = BENCH_DIR / f"photos-{size[0]}x{size[1]}"
    photos = [folder / f"photo_{i:05d}.jpg" for i in range(count)]
    missing = [p for p in photos if not p.exists()]
    if missing:
        print(f"generating {len(missing)} photos in {folder} (once)...", flush=True)
    for photo in missing:
        write_photo(photo, seed=int(photo.stem.split("_")[1]), size=size)
    return photos


def make_p3_photos(count: int, size: tuple[int, int] = PHOTO_SIZE) -> list[Path]:
    """The first `count` photos' pixels again (write_photo's quality 90), tagged Display P3 as iPhones do."""
    folder = BENCH_DIR / f"photos-{size[0]}x{size[1]}-p3"
    folder.mkdir(parents=True, exist_ok=True)
    profile = matrix_profile(P3_PRIMARIES, D65_WHITE, srgb_curve(), "Display P3 (benchmark)")
    photos = [folder / f"photo_{i:05d}.jpg" for i in range(count)]
    for i, photo in enumerate(photos):
        if not photo.exists():
            photo_like(i, size).save(photo, quality=90, icc_profile=profile)
    return photos


def write_shared_entries(photos: list[Path], shared: Path) -> None:
    """What GNOME Files leaves behind after showing the folder: one `large` PNG a photo."""
    folder = shared / "large"
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        uri, st = file_uri(photo), photo.stat()
        image = open_image(photo, target=256)
        image.thumbnail((256, 256))
        info = PngImagePlugin.PngInfo()
        info.add_text("Thumb::URI", uri)
        info.add_text("Thumb::MTime", str(st.st_mtime_ns // 1_000_000_000))
        info.add_text("Thumb::Size", str(st.st_size))
        image.save(folder / entry_name(uri), "PNG", pnginfo=info)


def first_screen_seconds(photos: list[Path], own_cache: Path) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda p: make_thumbnail(p, FILE_SIZE, own_cache), photos))
    return time.perf_counter() - start


def measure(label: str, photos: list[Path], rounds: int, tmp: Path) -> None:
    times = [first_screen_seconds(photos, tmp / f"own-{label}-{r}") for r in range(rounds)]
    best, median = min(times), statistics.median(times)
    print(f"{label}: first {len(photos)} thumbnails in {median * 1000:.0f} ms median, {best * 1000:.0f} ms best "
          f"({median / len(photos) * 1000:.1f} ms a photo, {WORKERS} workers, {rounds} rounds)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--screen", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", default=f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}", help="photo size WxH (default 12 MP)")
    args = ap.parse_args()
    size = (int(args.size.split("x")[0]), int(args.size.split("x")[1]))
    photos = make_photos(args.photos, size)
    screen = photos[: args.screen]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        os.environ["XDG_CACHE_HOME"] = str(tmp / "xdg-empty")  # (a): no shared cache at all
        measure("(a) no shared cache", screen, args.rounds, tmp)
        measure("(a') no shared cache, Display P3 photos", make_p3_photos(args.screen, size), args.rounds, tmp)
        start = time.perf_counter()
        os.environ["XDG_CACHE_HOME"] = str(tmp / "xdg")
        write_shared_entries(photos, tmp / "xdg" / "thumbnails")
        print(f"(setup) a file manager's {len(photos)} shared entries written in {time.perf_counter() - start:.1f} s")
        measure("(b) warm shared cache", screen, args.rounds, tmp)
        with Image.open(next((tmp / "xdg" / "thumbnails" / "large").iterdir())) as im:
            print(f"shared entries: {im.size[0]}x{im.size[1]} PNG; photos {size[0]}x{size[1]} JPEG, "
                  f"{screen[0].stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
