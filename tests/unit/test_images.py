"""Decoding untrusted uploads: by content, strict about truncation and bombs, upright sRGB out."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from gatekeeper.domain.images import decode
from gatekeeper.errors import InvalidImage

MAX = 80_000_000


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def photo() -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (120, 200, 3), dtype=np.uint8))


@pytest.mark.parametrize("fmt,expected", [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WEBP"),
                                          ("HEIF", "HEIF"), ("TIFF", "TIFF")])
def test_formats_recognised_by_content(photo, fmt, expected):
    decoded = decode(encoded(photo, fmt), MAX)
    assert decoded.format == expected
    assert decoded.pixels.size == (200, 120) and decoded.pixels.mode == "RGB"


def test_truncated_jpeg_is_refused(photo):
    data = encoded(photo, "JPEG", quality=95)
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        decode(data[: len(data) // 2], MAX)


def test_truncated_even_after_face_recognition_import(photo):
    import face_recognition  # noqa: F401  (switches Pillow's LOAD_TRUNCATED_IMAGES on)

    data = encoded(photo, "JPEG", quality=95)
    with pytest.raises(InvalidImage):
        decode(data[: len(data) // 2], MAX)


@pytest.mark.parametrize("data,reason", [
    (b"", "empty file"),
    (b"hello, this is a text file\n" * 10, "not a JPEG"),
    (b"GIF89a" + b"\x00" * 100, "not a JPEG"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "unreadable|corrupt|not a JPEG"),
])
def test_non_images_are_refused(data, reason):
    with pytest.raises(InvalidImage, match=reason):
        decode(data, MAX)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims huge dimensions (a decompression bomb's calling card)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) \
        + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(InvalidImage, match="too large"):
        decode(_png_header_only(30000, 30000), MAX)


def test_exif_orientation_is_applied(photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    decoded = decode(encoded(photo, "JPEG", exif=exif.tobytes()), MAX)
    assert decoded.pixels.size == (120, 200)
    assert decoded.orientation_tag == 6


def test_missing_orientation_is_reported(photo):
    assert decode(encoded(photo, "JPEG"), MAX).orientation_tag is None


def test_png_16bit_palette_and_alpha_are_normalised():
    grey16 = Image.fromarray(np.full((10, 10), 40000, dtype=np.uint16))
    assert decode(encoded(grey16, "PNG"), MAX).pixels.mode == "RGB"
    assert decode(encoded(Image.new("P", (8, 8), 3), "PNG"), MAX).pixels.mode == "RGB"
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    flat = decode(encoded(rgba, "PNG"), MAX).pixels
    assert flat.getpixel((0, 0)) == (255, 255, 255)  # transparent flattened on white
