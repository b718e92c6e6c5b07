"""ICC profiles the tests embed in photos: Display P3, Adobe RGB (1998) and an sRGB one of other bytes.

Built by the core's builder (core.imaging.icc_profiles) from published primaries: no .icc file is shipped
with a fresh CI machine.
"""

from __future__ import annotations

from core.imaging.icc_profiles import (
    ADOBE_RGB_PRIMARIES,
    D65_WHITE,
    P3_PRIMARIES,
    SRGB_PRIMARIES,
    gamma_curve,
    matrix_profile,
    srgb_curve,
)


def display_p3_profile() -> bytes:
    # Display P3: DCI-P3 primaries, D65 white, the sRGB tone curve (Apple's profile stores it as this 'para').
    return matrix_profile(P3_PRIMARIES, D65_WHITE, srgb_curve(), "Display P3 (test)")


def srgb_matrix_profile() -> bytes:
    """sRGB as a camera or editor might write it: other bytes than Pillow's own sRGB profile, same colours."""
    return matrix_profile(SRGB_PRIMARIES, D65_WHITE, srgb_curve(), "sRGB (test)")


def adobe_rgb_profile() -> bytes:
    # Adobe RGB (1998): its own primaries and a pure gamma of 563/256 (2.19921875).
    return matrix_profile(ADOBE_RGB_PRIMARIES, D65_WHITE, gamma_curve(563 / 256), "Adobe RGB (1998) (test)")
