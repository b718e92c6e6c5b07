"""Which formats `core.imaging.decode` opens, and recognising content by its first bytes (for precise reasons)."""

from __future__ import annotations

import os
import struct
import threading

# Extension -> the label we show users; the same labels name what the content turns out to be.
EXTENSION_LABELS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".png": "PNG",
    ".webp": "WebP",
    ".gif": "GIF",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".heic": "HEIC",
    ".heif": "HEIC",
    ".avif": "AVIF",
    # Canon, Fujifilm and Sony cameras write HEIF as .hif.
    ".hif": "HEIC",
    # Stereo and multi-picture JPEG (3D cameras, some phones): Pillow reads it as MPO; we use the first frame.
    ".mpo": "JPEG",
    # JPEG File Interchange Format, the name some browsers and Windows save JPEGs under.
    ".jfif": "JPEG",
}

# Camera RAW files: read by core.imaging.raw (LibRaw), never by Pillow. One label per maker; DNG is its own.
RAW_EXTENSION_LABELS: dict[str, str] = {
    ".cr2": "Canon RAW",
    ".cr3": "Canon RAW",
    ".nef": "Nikon RAW",
    ".arw": "Sony RAW",
    ".dng": "DNG",
    ".orf": "Olympus RAW",
    ".rw2": "Panasonic RAW",
    ".raf": "Fujifilm RAW",
    ".pef": "Pentax RAW",
    ".srw": "Samsung RAW",
}
RAW_LABELS: frozenset[str] = frozenset(RAW_EXTENSION_LABELS.values())
EXTENSION_LABELS.update(RAW_EXTENSION_LABELS)

# Image formats we know but do not index, and why not, in the words `lookalike status` lists them with.
# Named so a user sees why a file beside their photos is missing from search, instead of it vanishing.
# Not here (never listed): vector art and icons (.svg, .ico), documents (.pdf), text; not photos at all.
# JPEG XL: no Pillow plugin is installed (pillow-jxl-plugin would add one); JPEG 2000 and Photoshop:
# Pillow reads them, but their decoders are attack surface no camera or phone file needs.
SKIPPED_EXTENSIONS: dict[str, str] = {
    ".psd": "Photoshop documents (.psd)",
    ".psb": "Photoshop large documents (.psb)",
    ".xcf": "GIMP images (.xcf)",
    ".kra": "Krita images (.kra)",
    ".jxl": "JPEG XL images (.jxl)",
    ".jp2": "JPEG 2000 images (.jp2)",
    ".j2k": "JPEG 2000 images (.j2k)",
    ".jpf": "JPEG 2000 images (.jpf)",
    ".jpx": "JPEG 2000 images (.jpx)",
    ".exr": "OpenEXR images (.exr)",
    ".hdr": "Radiance HDR images (.hdr)",
}


def skip_reason(name: str) -> str | None:
    """Why a file with this name is listed but not indexed, or None when its extension is not skipped."""
    kind = SKIPPED_EXTENSIONS.get(os.path.splitext(name)[1].lower())
    return f"{kind} are not supported" if kind else None


# The only Pillow plugins ever tried: exotic decoders (PSD, EPS, FITS...) are attack surface we don't need.
# AVIF before HEIF so Pillow's own AVIF plugin (libavif) gets AVIF files, not libheif.
PILLOW_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF", "HEIF")

_PILLOW_LABELS = {"JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "HEIF": "HEIC"}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"BM", "BMP"),
    # Recognised but unsupported: worth naming in the reason rather than "not an image".
    (b"%PDF", "PDF"),
    (b"8BPS", "PSD"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
)

_lock = threading.Lock()
_registered = False


def ensure_plugins() -> None:
    """Register pillow-heif's HEIF opener once (it adds a Pillow plugin; it changes nothing else)."""
    global _registered
    with _lock:
        if not _registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _registered = True


def label_for_pillow_format(pillow_format: str | None) -> str:
    return _PILLOW_LABELS.get(pillow_format or "", pillow_format or "image")


def sniff(head: bytes) -> str | None:
    """What the first bytes say the content is, or None when they say nothing we know."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    return next((label for magic, label in _MAGIC if head.startswith(magic)), None)


def _sniff_ftyp(head: bytes) -> str | None:
    box_size = int.from_bytes(head[:4], "big")
    brands = head[8 : min(max(box_size, 12), len(head))]
    if b"avif" in brands or b"avis" in brands:
        return "AVIF"
    if any(brand in brands for brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")):
        return "HEIC"
    return None


def without_png_text(data: bytes) -> bytes:
    """The PNG `data` minus its tEXt/zTXt/iTXt chunks (pixels and eXIf kept); unchanged if not walkable."""
    signature, pos, kept = data[:8], 8, []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            kept.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return signature + b"".join(kept)
