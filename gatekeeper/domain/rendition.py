"""Build a publishable file from pixels only: covered, resized, encoded afresh, then verified.

Nothing of the original's bytes is copied: the encoder is handed a new image object with empty
`info`, no EXIF, no ICC profile, no comment. The verifier then walks the result independently.
"""

from __future__ import annotations

import io

from PIL import Image

from gatekeeper.domain.verify import verify_jpeg, verify_png

MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}


def _clean_pixels(img: Image.Image, max_side: int) -> Image.Image:
    """A new RGB image object holding only the pixels, scaled to at most `max_side`."""
    pixels = Image.frombytes("RGB", img.size, img.convert("RGB").tobytes())
    if max(pixels.size) > max_side:
        scale = max_side / max(pixels.size)
        pixels = pixels.resize(
            (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale))),
            Image.Resampling.LANCZOS,
        )
    return pixels


def encode(img: Image.Image, fmt: str, max_side: int, quality: int) -> bytes:
    """The published bytes in `fmt` ('JPEG' or 'PNG'), verified clean."""
    if fmt == "PNG":
        return encode_png(img, max_side)
    return encode_jpeg(img, max_side, quality)


def encode_png(img: Image.Image, max_side: int) -> bytes:
    """An 8-bit RGB PNG with only IHDR/IDAT/IEND chunks, verified clean."""
    buf = io.BytesIO()
    _clean_pixels(img, max_side).save(buf, format="PNG", optimize=True)
    data = buf.getvalue()
    verify_png(data)
    return data


def encode_jpeg(img: Image.Image, max_side: int, quality: int) -> bytes:
    """A baseline sRGB JPEG of at most `max_side` pixels on its long side, verified clean."""
    pixels = _clean_pixels(img, max_side)
    buf = io.BytesIO()
    pixels.save(buf, format="JPEG", quality=quality, optimize=True, exif=b"", icc_profile=None)
    data = buf.getvalue()
    verify_jpeg(data)
    return data
