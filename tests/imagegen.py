"""Test images made by code: composites of real faces with chosen EXIF, dirty files, bad files."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"


def load(path: Path) -> Image.Image:
    img = Image.open(path)
    img.load()
    return img.convert("RGB")


def exif_bytes(make: str | None = "Canon", model: str | None = "EOS 250D",
               serial: str | None = "0123456789", taken: datetime | None = None,
               orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if orientation:
        exif[0x0112] = orientation
    ifd = exif.get_ifd(0x8769)
    if serial:
        ifd[0xA431] = serial  # BodySerialNumber
    ifd[0x9003] = (taken or datetime(2026, 7, 10, 10, 30)).strftime("%Y:%m:%d %H:%M:%S")
    return exif.tobytes()


def jpeg(img: Image.Image, exif: bytes | None = None, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    img.save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


def row_of_faces(faces: list[Image.Image], height: int = 420, gap: int = 60,
                 background=(90, 130, 90)) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Paste photos side by side on one canvas; returns it and each tile's (x0, y0, x1, y1)."""
    tiles = [f.resize((round(f.width * height / f.height), height)) for f in faces]
    width = sum(t.width for t in tiles) + gap * (len(tiles) + 1)
    canvas = Image.new("RGB", (width, height + 2 * gap), background)
    boxes, x = [], gap
    for t in tiles:
        canvas.paste(t, (x, gap))
        boxes.append((x, gap, x + t.width, gap + t.height))
        x += t.width + gap
    return canvas, boxes
