"""ICC matrix/TRC profiles built from published primaries: what a colour space given only by numbers
(a HEIF nclx box: "primaries 12, transfer 13") becomes so LittleCMS can convert it like an embedded profile.

The bytes are minimal ICC v2 display profiles, written with struct: colorants are the primaries' XYZ at
full strength, adapted from the space's white to the D50 connection space (Bradford), as every matrix
profile stores them; one tone curve serves the three channels. The tests build their Display P3 and
Adobe RGB photos with these too (tests/iccprofiles.py).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

Chromaticity = tuple[float, float]
Primaries = tuple[Chromaticity, Chromaticity, Chromaticity]  # red, green, blue (CIE x, y)

D50_XYZ = (0.9642, 1.0, 0.8249)  # the ICC connection space's white
D65_WHITE: Chromaticity = (0.3127, 0.3290)
DCI_WHITE: Chromaticity = (0.314, 0.351)  # digital cinema projectors' greenish white (SMPTE RP 431-2)

SRGB_PRIMARIES: Primaries = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))  # = BT.709
# Display P3 and DCI-P3 share these primaries; Display P3 uses D65 white, DCI-P3 DCI_WHITE.
P3_PRIMARIES: Primaries = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_RGB_PRIMARIES: Primaries = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
BT2020_PRIMARIES: Primaries = ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046))

# IEC 61966-2-1 as an ICC parametric curve (type 3): Y = (aX + b)^g above d, cX below.
SRGB_PARAMETERS = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)

_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def matrix_profile(
    primaries: Primaries, white: Chromaticity, curve: bytes, name: str = "Lookalike RGB"
) -> bytes:
    """An RGB display profile: `primaries` and `white` (CIE xy), one tone `curve` (`srgb_curve()`,
    `gamma_curve(...)`) for all three channels."""
    columns = _d50_colorants(primaries, white)
    tags = [
        (b"desc", _text_description(name)),
        (b"cprt", b"text" + bytes(4) + b"No copyright, built from published primaries\x00"),
        (b"wtpt", _xyz(D50_XYZ)),
        (b"rXYZ", _xyz(columns[:, 0])),
        (b"gXYZ", _xyz(columns[:, 1])),
        (b"bXYZ", _xyz(columns[:, 2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    return _assemble(tags)


def srgb_curve() -> bytes:
    return parametric_curve(SRGB_PARAMETERS)


def gamma_curve(gamma: float) -> bytes:
    """A pure power curve (u8.8 fixed point, so 563/256 for Adobe RGB is stored exactly)."""
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)


def parametric_curve(parameters: Sequence[float]) -> bytes:
    """An ICC 'para' curve of type 3 (g, a, b, c, d): Y = (aX + b)^g for X >= d, else cX."""
    return b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(_s15(p) for p in parameters)


def _d50_colorants(primaries: Primaries, white: Chromaticity) -> np.ndarray:
    """Columns: the XYZ of each primary at full strength, `white` -> D50 by the Bradford transform."""
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    white_xyz = np.array([white[0] / white[1], 1.0, (1 - white[0] - white[1]) / white[1]])
    to_xyz = xyz * np.linalg.solve(xyz, white_xyz)
    cone_ratio = (_BRADFORD @ np.array(D50_XYZ)) / (_BRADFORD @ white_xyz)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_ratio) @ _BRADFORD
    return np.asarray(adapt @ to_xyz)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values: Sequence[float] | np.ndarray) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(float(v)) for v in values)


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
    header += b"".join(_s15(v) for v in D50_XYZ)
    header = header.ljust(128, b"\x00")
    return header + struct.pack(">I", len(tags)) + table + data
