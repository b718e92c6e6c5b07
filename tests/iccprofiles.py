"""ICC profiles built in the tests from published primaries: Display P3 and Adobe RGB (1998).

No .icc file is shipped with a fresh CI machine, so these write minimal ICC v2 matrix/TRC display
profiles with struct: colorants are the primaries' XYZ adapted to the D50 connection space (Bradford),
as every matrix profile stores them.
"""

from __future__ import annotations

import struct

import numpy as np

D50 = (0.9642, 1.0, 0.8249)
D65_XY = (0.3127, 0.3290)
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
# Display P3: DCI-P3 primaries, D65 white, the sRGB tone curve (Apple's profile stores it as this 'para').
DISPLAY_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
# Adobe RGB (1998): its own primaries and a pure gamma of 563/256 (2.19921875).
ADOBE_RGB = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
SRGB = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
SRGB_PARAMETERS = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


def display_p3_profile() -> bytes:
    return matrix_profile("Display P3 (test)", DISPLAY_P3, _parametric_curve(SRGB_PARAMETERS))


def srgb_matrix_profile() -> bytes:
    """sRGB as a camera or editor might write it: other bytes than Pillow's own sRGB profile, same colours."""
    return matrix_profile("sRGB (test)", SRGB, _parametric_curve(SRGB_PARAMETERS))


def adobe_rgb_profile() -> bytes:
    return matrix_profile("Adobe RGB (1998) (test)", ADOBE_RGB, _gamma_curve(563 / 256))


def matrix_profile(name: str, primaries: tuple[tuple[float, float], ...], curve: bytes) -> bytes:
    columns = _d50_colorants(primaries)
    tags = [
        (b"desc", _text_description(name)),
        (b"cprt", b"text" + bytes(4) + b"No copyright, test data\x00"),
        (b"wtpt", _xyz(D50)),
        (b"rXYZ", _xyz(columns[:, 0])),
        (b"gXYZ", _xyz(columns[:, 1])),
        (b"bXYZ", _xyz(columns[:, 2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    return _assemble(tags)


def _d50_colorants(primaries: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Columns: the XYZ of each primary at full strength, D65 white -> D50 by the Bradford transform."""
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    white = np.array([D65_XY[0] / D65_XY[1], 1.0, (1 - D65_XY[0] - D65_XY[1]) / D65_XY[1]])
    to_xyz = xyz * np.linalg.solve(xyz, white)
    cone_ratio = (_BRADFORD @ np.array(D50)) / (_BRADFORD @ white)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_ratio) @ _BRADFORD
    return adapt @ to_xyz


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values: object) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(float(v)) for v in values)  # type: ignore[attr-defined]


def _gamma_curve(gamma: float) -> bytes:
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)


def _parametric_curve(parameters: tuple[float, ...]) -> bytes:
    return b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(_s15(p) for p in parameters)


def _text_description(name: str) -> bytes:
    ascii_name = name.encode("ascii") + b"\x00"
    # ascii part, then empty Unicode and ScriptCode parts (the ScriptCode part is a fixed 67 bytes).
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_name)) + ascii_name + bytes(8) + bytes(3 + 67)


def _assemble(tags: list[tuple[bytes, bytes]]) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset, table, data = 128 + table_size, b"", b""
    for signature, body in tags:
        padded = body + bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += padded
    size = 128 + table_size + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += bytes(12) + b"acsp" + bytes(4 + 4 + 4 + 4 + 8 + 4)
    header += b"".join(_s15(v) for v in D50)
    header = header.ljust(128, b"\x00")
    return header + struct.pack(">I", len(tags)) + table + data
