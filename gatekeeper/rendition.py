"""Build a publishable file from pixels only: covered, resized, encoded afresh, then verified.

Nothing of the original's bytes is copied: the encoder is handed a new image object with empty
`info`, no EXIF, no ICC profile, no comment. The verifier then walks the result independently.
"""

from __future__ import annotations

import io

from PIL import Image

from .verify import verify_jpeg


def encode_jpeg(img: Image.Image, max_side: int, quality: int) -> bytes:
    """A baseline sRGB JPEG of at most `max_side` pixels on its long side, verified clean."""
    pixels = Image.frombytes("RGB", img.size, img.convert("RGB").tobytes())  # a clean object
    if max(pixels.size) > max_side:
        scale = max_side / max(pixels.size)
        pixels = pixels.resize(
            (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale))),
            Image.Resampling.LANCZOS,
        )
    buf = io.BytesIO()
    pixels.save(buf, format="JPEG", quality=quality, optimize=True, exif=b"", icc_profile=None)
    data = buf.getvalue()
    verify_jpeg(data)
    return data
