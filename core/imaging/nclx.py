"""A HEIF photo's nclx colour box (ITU-T H.273 code points) as the ICC profile that says the same.

Many phones (Android cameras, some iPhone modes) describe a HEIC's colours by an nclx box alone, with no
ICC profile: "primaries 12 (P3, D65 white), transfer 13 (sRGB)" is Display P3 by numbers. Read as sRGB
such a photo looks duller. pillow-heif hands the box over as `info["nclx_profile"]` (a dict with
`color_primaries`, `transfer_characteristics`, `matrix_coefficients`, `full_range_flag` and, in 1.x, the
primaries' CIE xy as libheif knows them); libheif has already applied the matrix coefficients and range
(YCbCr -> RGB), so the primaries and the transfer are what is left. They become a matrix profile, which
`core.imaging.colour.to_srgb` converts like an embedded one (its transform cache included).

Pillow's own AVIF plugin, which reads .avif files, does not expose the nclx box: AVIF is not covered.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

from core.imaging.icc_profiles import (
    BT2020_PRIMARIES,
    D65_WHITE,
    DCI_WHITE,
    P3_PRIMARIES,
    SRGB_PRIMARIES,
    Chromaticity,
    Primaries,
    gamma_curve,
    matrix_profile,
    srgb_curve,
)

log = logging.getLogger(__name__)

# H.273 colour primaries. 1 (BT.709) is sRGB's; 2 is "unspecified", which every viewer reads as sRGB.
SRGB_LIKE_PRIMARIES = frozenset({1, 2})
PRIMARIES: dict[int, tuple[Primaries, Chromaticity]] = {
    9: (BT2020_PRIMARIES, D65_WHITE),  # BT.2020 / BT.2100
    # DCI-P3 (SMPTE RP 431-2): Display P3's primaries with the cinema's greenish white; adapted to D65
    # by the profile (Bradford), as a DCI-P3 ICC profile is, so its white shows white.
    11: (P3_PRIMARIES, DCI_WHITE),
    12: (P3_PRIMARIES, D65_WHITE),  # P3-D65: Display P3
}
# H.273 transfer characteristics decoded with the sRGB curve: 13 is sRGB itself; 1, 6, 14, 15 are the
# BT.709 / BT.601 / BT.2020 camera curve (one function), 2 is "unspecified". Not the BT.709 inverse
# OETF: still photos labelled with a video code are display-ready pixels that phones and viewers show
# as sRGB, and keeping the curve means a BT.709 photo is left exactly as stored and a P3 or BT.2020 one
# changes only its gamut, the difference that shows (the two curves differ only in deep shadows).
SRGB_LIKE_TRANSFERS = frozenset({1, 2, 6, 13, 14, 15})
GAMMA_TRANSFERS = {4: 2.2, 5: 2.8, 8: 1.0}  # BT.470 M, BT.470 BG, linear: pure power curves
# High dynamic range: PQ (SMPTE ST 2084) and HLG. Showing them needs tone mapping, not a profile; their
# pixels (libheif scales 10-bit to 8) are left as they are.
HDR_TRANSFERS = {16: "PQ", 18: "HLG"}


def nclx_icc_profile(nclx: Mapping[str, object]) -> bytes | None:
    """The ICC profile meaning what the nclx box `nclx` says; None when that is sRGB (nothing to do), HDR
    (left alone) or unreadable."""
    try:
        primaries = int(nclx.get("color_primaries", 2))  # type: ignore[call-overload]
        transfer = int(nclx.get("transfer_characteristics", 2))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return _profile(primaries, transfer, _libheif_space(nclx))


@functools.cache
def _profile(
    primaries: int, transfer: int, libheif_space: tuple[Primaries, Chromaticity] | None
) -> bytes | None:
    """Cached: one profile a combination, so `to_srgb` finds its transform by the same bytes, and each
    message below is logged once a process."""
    if transfer in HDR_TRANSFERS:
        log.debug("HEIF nclx %s (HDR) photos are left as decoded: no tone mapping", HDR_TRANSFERS[transfer])
        return None
    if transfer in SRGB_LIKE_TRANSFERS:
        curve = srgb_curve()
    elif transfer in GAMMA_TRANSFERS:
        curve = gamma_curve(GAMMA_TRANSFERS[transfer])
    else:
        log.debug("HEIF nclx transfer %d is not known here; read as sRGB", transfer)
        curve = srgb_curve()
    if primaries in SRGB_LIKE_PRIMARIES:
        if transfer not in GAMMA_TRANSFERS:
            return None  # sRGB already: no conversion at all, the common case keeps its speed
        space = (SRGB_PRIMARIES, D65_WHITE)
    else:
        known = PRIMARIES.get(primaries) or libheif_space
        if known is None:
            log.debug("HEIF nclx primaries %d are not known here; read as sRGB", primaries)
            return None
        space = known
    return matrix_profile(*space, curve, name=f"HEIF nclx primaries {primaries} transfer {transfer}")


def _libheif_space(nclx: Mapping[str, object]) -> tuple[Primaries, Chromaticity] | None:
    """The primaries and white as libheif states them for the code (pillow-heif 1.x), for codes outside
    PRIMARIES (BT.470, SMPTE 240M, EBU 3213...); rounded so float noise does not split the cache."""
    names = ("red", "green", "blue", "white")
    try:
        points = [
            (round(float(nclx[f"color_primary_{n}_x"]), 4), round(float(nclx[f"color_primary_{n}_y"]), 4))  # type: ignore[arg-type]
            for n in names
        ]
    except (KeyError, TypeError, ValueError):
        return None
    if any(y <= 0 for _, y in points):
        return None
    return (points[0], points[1], points[2]), points[3]
