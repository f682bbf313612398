"""Independent verifiers for published files: walk the container and refuse anything unexpected.

They parse bytes themselves (no Pillow), so an encoder bug or a smuggled segment cannot pass.
Allowed JPEG structure: SOI, one APP0 'JFIF', DQT, SOF0/SOF2, DHT, DRI, SOS + entropy data, EOI,
and nothing after EOI. Allowed PNG chunks: IHDR, PLTE, IDAT, IEND (no text, time, ICC or EXIF).
"""

from __future__ import annotations

import struct

from gatekeeper.errors import UnsafeOutput

_ALLOWED_JPEG = {0xDB: "DQT", 0xC0: "SOF0", 0xC2: "SOF2", 0xC4: "DHT", 0xDD: "DRI", 0xDA: "SOS",
                 0xE0: "APP0"}
_ALLOWED_PNG = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def verify_jpeg(data: bytes) -> None:
    """Raise UnsafeOutput unless `data` is a minimal JFIF with nothing after EOI."""
    if data[:2] != b"\xff\xd8":
        raise UnsafeOutput("not a JPEG (no SOI marker)")
    pos, n, app0_seen = 2, len(data), False
    while pos < n:
        if data[pos] != 0xFF:
            raise UnsafeOutput(f"JPEG structure broken at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            if pos + 2 != n:
                raise UnsafeOutput(f"{n - pos - 2} bytes after the JPEG end marker")
            return
        if marker not in _ALLOWED_JPEG:
            raise UnsafeOutput(f"JPEG segment 0x{marker:02X} is not allowed in a published file")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segment = data[pos + 4 : pos + 2 + length]
        if marker == 0xE0:
            if app0_seen or not segment.startswith(b"JFIF\x00") or length != 16:
                raise UnsafeOutput("APP0 segment is not a plain JFIF header")
            app0_seen = True
        pos += 2 + length
        if marker == 0xDA:
            pos = _skip_entropy(data, pos)
    raise UnsafeOutput("JPEG has no end marker")


def _skip_entropy(data: bytes, pos: int) -> int:
    """Index of the next real marker after entropy-coded data (skips stuffing and restarts)."""
    n = len(data)
    while pos < n - 1:
        if data[pos] == 0xFF and data[pos + 1] != 0x00 and not 0xD0 <= data[pos + 1] <= 0xD7:
            return pos
        pos += 1
    raise UnsafeOutput("JPEG scan data runs to the end of the file")


def verify_png(data: bytes) -> None:
    """Raise UnsafeOutput unless `data` is a PNG of only IHDR/PLTE/IDAT/IEND, nothing after IEND."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise UnsafeOutput("not a PNG (bad signature)")
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind not in _ALLOWED_PNG:
            raise UnsafeOutput(f"PNG chunk {kind.decode('latin-1')!r} is not allowed")
        pos += 12 + length
        if kind == b"IEND":
            if pos != len(data):
                raise UnsafeOutput(f"{len(data) - pos} bytes after the PNG end chunk")
            return
    raise UnsafeOutput("PNG has no IEND chunk")
