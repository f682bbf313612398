"""Generated detection truth: real face crops from the shared face set pasted at known sizes and
places into generated scenes, so the truth comes from construction, not from any detector.

The crops come from the single-person photos in `people/`: a face is cut out with a margin of
hair, neck and background around it (a face box is only the centre of a pasted crop); its box
inside the crop was proposed by a sure detection of a large (>= 80 px) face, where any detector
is reliable, and checked by eye (bench/labels/corrections.json). The pasted face size is the
long side of that box (hairline to chin), the conservative measure: a "10 px" face here is no
taller than 10 px.

Scenes are textured noise, gradients and shapes, with the shared no-face photos (dogs, a
cartoon) pasted as clutter, so false boxes are measured too. Everything is drawn from a
`random.Random(seed)`: the same seed gives the same images on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from gatekeeper.domain.images import decode

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass(frozen=True)
class Crop:
    """A real face with its surroundings; `box` is the face (x0, y0, x1, y1) inside `image`."""

    source: str
    image: Image.Image
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Pasted:
    """One face of a composite: its box as [top, right, bottom, left] and size (long side)."""

    box: tuple[float, float, float, float]
    size_px: float
    source: str


def crop_boxes(faces_dir: Path, detector) -> list[dict]:
    """Crop proposals, one per usable people/ photo: exactly one sure face of at least 80 px,
    with room around it for a margin of head and background. A person checks each on the
    contact sheet before it goes into the labels."""
    out: list[dict] = []
    for path in sorted((faces_dir / "people").rglob("*")):
        if path.suffix.lower() not in SUFFIXES or "aligned" in path.name:
            continue
        try:
            img = decode(path.read_bytes(), 80_000_000).pixels.convert("RGB")
        except Exception:  # an animated or odd file: not needed for crops
            continue
        scale = min(1.0, 1024 / max(img.size))
        small = img.resize((round(img.width * scale), round(img.height * scale)))
        dets = [d for d in detector.detect(np.asarray(small), 0.5) if d.score >= 0.8]
        if len(dets) != 1:
            continue
        d = dets[0]
        x0, y0, x1, y1 = (v / scale for v in (d.x0, d.y0, d.x1, d.y1))
        w, h = x1 - x0, y1 - y0
        if max(w, h) < 80:
            continue
        # Hair, ears and background around the face (up to 0.45 of its size, at least 0.25):
        # tight face-only crops would paste as a bare oval, which no camera takes.
        if x0 < 0.25 * w or y0 < 0.3 * h or x1 + 0.25 * w > img.width or y1 + 0.25 * h > img.height:
            continue
        crop = [max(0, int(x0 - 0.45 * w)), max(0, int(y0 - 0.45 * h)),
                min(img.width, int(x1 + 0.45 * w)), min(img.height, int(y1 + 0.6 * h))]
        out.append({"file": str(path.relative_to(faces_dir)), "crop": crop,
                    "box": [round(v, 1) for v in (x0, y0, x1, y1)]})
    return out


def load_crops(faces_dir: Path, entries: list[dict]) -> list[Crop]:
    """The labelled crops (file, crop rectangle, face box in the photo) as images."""
    crops = []
    for e in entries:
        img = decode((faces_dir / e["file"]).read_bytes(), 80_000_000).pixels.convert("RGB")
        cx0, cy0, cx1, cy1 = e["crop"]
        x0, y0, x1, y1 = e["box"]
        crops.append(Crop(e["file"], img.crop((cx0, cy0, cx1, cy1)),
                          (x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0)))
    return crops


def scene(width: int, height: int, rng: random.Random, clutter: list[Image.Image]) -> Image.Image:
    """A busy background: a colour gradient, blotches, shapes, lines, noise and no-face photos."""
    gy, gx = np.mgrid[0:64, 0:64].astype(np.float32) / 63
    c0, c1, c2 = (np.array([rng.randint(30, 220) for _ in range(3)], np.float32) for _ in range(3))
    grad = c0 * (1 - gx[..., None]) + c1 * gx[..., None] * (1 - gy[..., None]) + c2 * gy[..., None] / 2
    img = Image.fromarray(np.clip(grad, 0, 255).astype(np.uint8)).resize((width, height))
    draw = ImageDraw.Draw(img)
    area = width * height
    for _ in range(max(20, area // 60_000)):
        x, y = rng.randrange(width), rng.randrange(height)
        s = rng.randint(8, max(9, min(width, height) // 6))
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        kind = rng.random()
        if kind < 0.4:
            draw.rectangle((x, y, x + s, y + rng.randint(4, s)), fill=colour)
        elif kind < 0.8:
            draw.ellipse((x, y, x + s, y + rng.randint(4, s)), fill=colour)
        else:
            draw.line((x, y, x + rng.randint(-s, s), y + rng.randint(-s, s)), fill=colour,
                      width=rng.randint(1, 6))
    for other in clutter:
        k = rng.uniform(0.2, 1.0) * min(width / other.width, height / other.height)
        piece = other.resize((max(1, int(other.width * k)), max(1, int(other.height * k))))
        img.paste(piece, (rng.randrange(max(1, width - piece.width)),
                          rng.randrange(max(1, height - piece.height))))
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 6, (height, width, 1))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))


def _feather(size: tuple[int, int]) -> Image.Image:
    """An elliptical mask with a soft edge, so a crop blends into the scene."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx + 0.5) / w * 2 - 1) ** 2 + ((yy + 0.5) / h * 2 - 1) ** 2)
    return Image.fromarray((np.clip((1.0 - r) / 0.25, 0, 1) * 255).astype(np.uint8))


def paste_face(canvas: Image.Image, crop: Crop, size_px: float, x: int, y: int) -> Pasted:
    """Paste `crop` scaled so its face's long side is `size_px`, crop corner at (x, y)."""
    x0, y0, x1, y1 = crop.box
    k = size_px / max(x1 - x0, y1 - y0)
    w, h = max(2, round(crop.image.width * k)), max(2, round(crop.image.height * k))
    piece = crop.image.resize((w, h), Image.Resampling.LANCZOS)
    canvas.paste(piece, (x, y), _feather((w, h)))
    return Pasted((y + y0 * k, x + x1 * k, y + y1 * k, x + x0 * k), size_px, crop.source)


def composite(width: int, height: int, crops: list[Crop], sizes: list[float], seed: int,
              clutter: list[Image.Image] = ()) -> tuple[Image.Image, list[Pasted]]:
    """A scene of width x height with one pasted face per entry of `sizes`, none overlapping."""
    rng = random.Random(seed)
    canvas = scene(width, height, rng, list(clutter))
    taken: list[tuple[float, float, float, float]] = []
    faces: list[Pasted] = []
    for size in sizes:
        crop = rng.choice(crops)
        x0, y0, x1, y1 = crop.box
        k = size / max(x1 - x0, y1 - y0)
        w, h = crop.image.width * k, crop.image.height * k
        for _ in range(200):
            x, y = rng.randrange(0, max(1, int(width - w))), rng.randrange(0, max(1, int(height - h)))
            r = (x - 4, y - 4, x + w + 4, y + h + 4)
            if all(r[2] < t[0] or r[0] > t[2] or r[3] < t[1] or r[1] > t[3] for t in taken):
                break
        else:
            continue
        taken.append(r)
        faces.append(paste_face(canvas, crop, size, x, y))
    return canvas, faces


# Event-like scenes for the benchmark's two parts (bench/split.py decides which by name): seeds
# 501-512, used by no other composite (the truth's scenes use 21-241, extra_composites 301-318).
EVENT_SEEDS = range(501, 513)
EVENT_SIDES = [(4243, 2828), (4000, 3000), (4896, 3264), (5472, 3648), (6000, 4000), (3648, 5472)]


def event_scenes(publish_side: int) -> list[dict]:
    """12-24 MP scenes with 8-40 real faces each, sizes spread evenly in log scale over
    10-160 px at publication scale (`publish_side` long side), at random places: like event
    photos with people near and far, unlike the truth's scenes of 8-60 px faces."""
    out = []
    for seed in EVENT_SEEDS:
        rng = random.Random(f"event-spec-{seed}")
        width, height = EVENT_SIDES[seed % len(EVENT_SIDES)]
        pub = min(1.0, publish_side / max(width, height))
        sizes = [round(10 * 16 ** rng.random() / pub, 1) for _ in range(rng.randint(8, 40))]
        out.append({"name": f"event_{seed}", "width": width, "height": height, "seed": seed,
                    "sizes": sizes})
    return out


def clutter_images(faces_dir: Path) -> list[Image.Image]:
    """The shared no-face photos, used as clutter that must not be covered."""
    out = []
    for path in sorted((faces_dir / "negatives").glob("*")):
        if path.suffix.lower() in SUFFIXES:
            out.append(decode(path.read_bytes(), 80_000_000).pixels.convert("RGB"))
    return out
