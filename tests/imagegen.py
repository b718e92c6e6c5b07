"""Deterministic test images: photo-like pictures, files with EXIF, and a folder of hostile/broken files.

Shared by every test that needs real image files; nothing here needs a model or network.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

# Shapes are drawn on a small canvas and upscaled: smooth like a photo's large structures, and cheap.
_CANVAS_LONG_SIDE = 96

_SUFFIX_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".heic": "HEIF",
    ".heif": "HEIF",
    ".avif": "AVIF",
}
# Formats whose Pillow writers accept an `exif=` argument.
_EXIF_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF"}

TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
TAG_EXIF_IFD = 0x8769
TAG_DATETIME_ORIGINAL = 0x9003


def photo_like(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A deterministic RGB picture with a colour gradient, soft blobs, stripes and grain, distinct per seed."""
    width, height = size
    rng = np.random.default_rng(seed)
    scale = _CANVAS_LONG_SIDE / max(width, height)
    cw, ch = max(2, round(width * scale)), max(2, round(height * scale))
    ys, xs = np.mgrid[0:ch, 0:cw].astype(np.float32)
    ys, xs = ys / max(ch - 1, 1), xs / max(cw - 1, 1)

    canvas = _gradient(rng, xs, ys)
    for _ in range(int(rng.integers(4, 9))):
        _add_blob(canvas, rng, xs, ys)
    small = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    big = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
    # Luma grain at full resolution: real photos have fine texture that JPEG and resizers must cope with.
    grain = rng.integers(-6, 7, size=(height, width, 1), dtype=np.int16)
    return Image.fromarray(np.clip(big + grain, 0, 255).astype(np.uint8), "RGB")


def _gradient(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    corners = rng.uniform(0, 255, size=(4, 3)).astype(np.float32)
    x, y = xs[..., None], ys[..., None]
    top = corners[0] * (1 - x) + corners[1] * x
    bottom = corners[2] * (1 - x) + corners[3] * x
    return top * (1 - y) + bottom * y


def _add_blob(canvas: np.ndarray, rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray) -> None:
    cx, cy = rng.uniform(0, 1, size=2)
    rx, ry = rng.uniform(0.08, 0.4, size=2)
    dx, dy = np.abs(xs - cx) / rx, np.abs(ys - cy) / ry
    # Ellipses and rounded boxes: different shapes give a vision model different things to look at.
    dist = np.sqrt(dx * dx + dy * dy) if rng.random() < 0.6 else np.maximum(dx, dy)
    softness = rng.uniform(0.05, 0.4)
    mask = np.clip((1 - dist) / softness, 0, 1)[..., None]
    colour = rng.uniform(0, 255, size=3).astype(np.float32)
    if rng.random() < 0.4:
        angle, freq = rng.uniform(0, np.pi), rng.uniform(10, 40)
        stripes = np.sin((xs * np.cos(angle) + ys * np.sin(angle)) * freq)[..., None]
        colour = colour + 40 * stripes
    canvas *= 1 - mask
    canvas += colour * mask


def _exif(orientation: int | None, taken_at: datetime | None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[TAG_ORIENTATION] = orientation
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[TAG_DATETIME] = stamp
        exif.get_ifd(TAG_EXIF_IFD)[TAG_DATETIME_ORIGINAL] = stamp
    return exif


def _ensure_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def write_photo(
    path: Path,
    seed: int,
    size: tuple[int, int] = (640, 480),
    fmt: str | None = None,
    exif_orientation: int | None = None,
    taken_at: datetime | None = None,
    quality: int = 90,
) -> Path:
    """Write `photo_like(seed, size)` to `path` (format from the suffix unless `fmt`), with EXIF when asked.

    The pixels are stored as generated; `exif_orientation` only sets the tag, so a reader that honours it
    returns the image rotated (orientation 6 or 8 swaps width and height).
    """
    path = Path(path)
    fmt = (fmt or _SUFFIX_FORMATS[path.suffix.lower()]).upper()
    if fmt == "HEIF":
        _ensure_heif()
    image = photo_like(seed, size)
    options: dict[str, object] = {}
    if fmt in ("JPEG", "WEBP", "HEIF", "AVIF"):
        options["quality"] = quality
    if fmt == "HEIF":
        # x265's default preset takes ~10 s for a 4 MP picture on a 2-core machine; ultrafast ~0.5 s. The
        # file is as valid, only larger: decoding, which the tests exercise, is the same.
        options["enc_params"] = {"preset": "ultrafast"}
    if fmt in _EXIF_FORMATS and (exif_orientation is not None or taken_at is not None):
        options["exif"] = _exif(exif_orientation, taken_at).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt, **options)
    return path


def _jpeg_bytes(seed: int, size: tuple[int, int] = (320, 240), **options: object) -> bytes:
    buffer = io.BytesIO()
    photo_like(seed, size).save(buffer, format="JPEG", quality=85, **options)
    return buffer.getvalue()


def _png_bytes(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    photo_like(seed, size).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` RGB pixels but holds one row: a decompression bomb stand-in."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * min(width, 4096)))
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _png_with_huge_text(seed: int) -> bytes:
    """A valid PNG with a zTXt chunk that inflates past Pillow's 1 MB text limit (like a huge XMP packet)."""
    plain = _png_bytes(seed)
    text = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"x" * (4 * 1024 * 1024)))
    iend = plain.rindex(b"IEND") - 4
    return plain[:iend] + text + plain[iend:]


def many_frames_gif(frames: int, size: tuple[int, int] = (16, 16)) -> bytes:
    """A GIF with `frames` frames, written by hand so it is made in milliseconds whatever the count."""
    width, height = size
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF1, 0, 0)  # 4-colour global table
    palette = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    blocks = [_gif_frame(width, height, colour=i % 4) for i in range(4)]
    body = b"".join(blocks[i % 4] for i in range(frames))
    return header + palette + loop + body + b";"


def _gif_frame(width: int, height: int, colour: int) -> bytes:
    control = b"\x21\xf9\x04\x00\x02\x00\x00\x00"  # graphic control: 20 ms, no transparency
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    # LZW with 2-bit minimum code size: a clear code before every two pixels keeps all codes 3 bits wide.
    codes: list[int] = []
    pixels = width * height
    for start in range(0, pixels, 2):
        codes += [4] + [colour] * min(2, pixels - start)
    codes.append(5)
    bits = sum(code << (3 * i) for i, code in enumerate(codes))
    data = bits.to_bytes((3 * len(codes) + 7) // 8, "little")
    sub_blocks = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return control + descriptor + b"\x02" + sub_blocks + b"\x00"


def _multipage_tiff(seed: int) -> bytes:
    pages = [photo_like(seed + i, (200 + 40 * i, 150)) for i in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def _exif_with_bad_orientation() -> bytes:
    exif = Image.Exif()
    exif[TAG_ORIENTATION] = 99
    return _jpeg_bytes(5, exif=exif.tobytes())


def _jpeg_with_garbage_exif() -> bytes:
    jpeg = _jpeg_bytes(6)
    junk = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(range(256)) * 4
    app1 = b"\xff\xe1" + struct.pack(">H", len(junk) + 2) + junk
    return jpeg[:2] + app1 + jpeg[2:]


def write_bad_files(folder: Path) -> dict[str, str]:
    """Write every hostile or broken case into `folder`; return {file name: description}.

    Each description starts with "fails:" (load_photo must raise DecodeError) or "decodes:" (a hostile
    but valid file that must load). Cases the platform cannot make (FIFOs on Windows, unreadable files
    when running as root) are left out.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    jpeg, png = _jpeg_bytes(1), _png_bytes(2)
    rng = np.random.default_rng(1234)
    files: dict[str, tuple[bytes, str]] = {
        "empty.jpg": (b"", "fails: empty file (0 bytes)"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "fails: JPEG cut in half"),
        "truncated_header.jpg": (jpeg[:20], "fails: JPEG cut inside its header"),
        "truncated.png": (png[: len(png) // 2], "fails: PNG cut in half"),
        "random.jpg": (rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "fails: random bytes"),
        "notes.png": (b"just some text, not a picture\n" * 20, "fails: a text file named .png"),
        "tiny_1x1.png": (
            _image_bytes(Image.new("RGB", (1, 1), "red"), "PNG"),
            "fails: 1x1 pixels, too small",
        ),
        "bomb_40000x40000.png": (png_header_only(40000, 40000), "fails: header claims 1.6 gigapixels"),
        "jpeg_named.png": (jpeg, "decodes: JPEG content with a .png extension"),
        "panorama_30000x100.jpg": (
            _image_bytes(photo_like(7, (30000, 100)), "JPEG"),
            "decodes: 30000x100 panorama strip",
        ),
        "frames_10000.gif": (many_frames_gif(10_000), "decodes: GIF with 10,000 frames (first frame only)"),
        "multipage.tiff": (_multipage_tiff(8), "decodes: 3-page TIFF (first page only)"),
        "huge_text_chunk.png": (_png_with_huge_text(9), "decodes: PNG with a 4 MB compressed text chunk"),
        "orientation_99.jpg": (_exif_with_bad_orientation(), "decodes: EXIF orientation 99 (ignored)"),
        "garbage_exif.jpg": (_jpeg_with_garbage_exif(), "decodes: malformed EXIF block"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    described = {name: description for name, (_, description) in files.items()}
    (folder / "folder.jpg").mkdir(exist_ok=True)
    described["folder.jpg"] = "fails: a directory named like a photo"
    if hasattr(os, "mkfifo"):
        fifo = folder / "fifo.jpg"
        if not fifo.exists():
            os.mkfifo(fifo)
        described["fifo.jpg"] = "fails: a FIFO named like a photo (opening it for reading would block)"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        locked = folder / "no_permission.jpg"
        locked.write_bytes(jpeg)
        locked.chmod(0)
        described["no_permission.jpg"] = "fails: file mode 000 (permission denied)"
    return described


def _image_bytes(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def write_camera_jpeg(
    path: Path, *, taken: str | None = None, offset: str | None = None, gps: bool = False,
    orientation: int | None = None, camera: tuple[str, str] | None = None, seed: int = 3,
    size: tuple[int, int] = (640, 480),
) -> Path:
    """A JPEG with the EXIF a camera writes: capture time and its offset, GPS, orientation, make and model."""
    exif = Image.Exif()
    if camera:
        exif[0x010F], exif[0x0110] = camera
    if orientation:
        exif[0x0112] = orientation
    ifd = exif.get_ifd(0x8769)
    if taken:
        ifd[0x9003] = taken
    if offset:
        ifd[0x9011] = offset
    if gps:
        where = exif.get_ifd(0x8825)
        where[1], where[2], where[3], where[4] = "N", (35.0, 40.0, 0.0), "E", (139.0, 45.0, 0.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    photo_like(seed, size).save(path, "JPEG", exif=exif.tobytes())
    return path
