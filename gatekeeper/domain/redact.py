"""Irreversible covering of heads: a solid fill (default) or coarse, noisy pixelation. No blur.

Geometry (docs/developers/engine.md, "Covering geometry"): the detector box (forehead to chin)
is grown to the whole head: 35 % of its width added on each side for ears and hair, 60 % of its
height above for hair, 25 % below for chin and neck; the region is a rounded rectangle (corner
radius 35 % of the shorter side), clipped to the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from gatekeeper.domain.vocabulary import CoverMode


@dataclass(frozen=True)
class Region:
    """A rectangle in image pixels (x0, y0 inclusive; x1, y1 exclusive)."""

    x0: int
    y0: int
    x1: int
    y1: int


def head_region(top: int, right: int, bottom: int, left: int, width: int, height: int) -> Region:
    """The detector box grown to the whole head, clipped to the image."""
    w, h = right - left, bottom - top
    return Region(
        max(0, int(left - 0.35 * w)),
        max(0, int(top - 0.60 * h)),
        min(width, int(right + 0.35 * w + 1)),
        min(height, int(bottom + 0.25 * h + 1)),
    )


def _mask(size: tuple[int, int], rounded: bool) -> Image.Image:
    """A region-sized mask: a rounded rectangle for heads, the full rectangle otherwise."""
    mask = Image.new("L", size, 0)
    radius = int(0.35 * min(size)) if rounded else 0
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius=radius,
                                           fill=255)
    return mask


def cover(
    img: Image.Image,
    regions: list[tuple[Region, bool]],
    mode: CoverMode = CoverMode.SOLID,
    rng: np.random.Generator | None = None,
) -> Image.Image:
    """A copy of `img` with every region covered; (region, rounded) pairs, rounded for heads.

    Each region is worked on locally (crop, fill, paste through its mask), so the cost grows with
    the covered area, not with the photo's size."""
    out = img.convert("RGB").copy()
    rng = rng or np.random.default_rng()
    for region, rounded in regions:
        if region.x1 <= region.x0 or region.y1 <= region.y0:
            continue
        box = (region.x0, region.y0, region.x1, region.y1)
        patch = np.asarray(out.crop(box), dtype=np.float64)
        if mode is CoverMode.PIXELATE:
            fill = _pixelated(patch, rng)
        else:
            fill = np.broadcast_to(patch.reshape(-1, 3).mean(axis=0), patch.shape)
        filled = Image.fromarray(np.clip(fill, 0, 255).astype(np.uint8))
        out.paste(filled, box[:2], _mask(filled.size, rounded))
    return out


def _pixelated(patch: np.ndarray, rng: np.random.Generator, blocks_across: int = 6) -> np.ndarray:
    """At most `blocks_across` blocks over the region's width; each block's mean jittered by noise."""
    h, w = patch.shape[:2]
    block = max(1, -(-w // blocks_across))
    out = np.empty_like(patch)
    for y in range(0, h, block):
        for x in range(0, w, block):
            cell = patch[y : y + block, x : x + block]
            colour = cell.reshape(-1, 3).mean(axis=0) + rng.normal(0, 18, 3)
            out[y : y + block, x : x + block] = colour
    return out


def hidden_by_covers(face: Region, covers: list[Region], share: float = 0.5) -> bool:
    """Whether hand-drawn covers hide at least `share` of a face's detector box: such a face
    counts as covered in every count, view and copy, whoever it was identified as."""
    area = max(0, face.x1 - face.x0) * max(0, face.y1 - face.y0)
    if area == 0:
        return False
    mask = np.zeros((face.y1 - face.y0, face.x1 - face.x0), dtype=bool)
    for c in covers:
        x0, y0 = max(c.x0, face.x0) - face.x0, max(c.y0, face.y0) - face.y0
        x1, y1 = min(c.x1, face.x1) - face.x0, min(c.y1, face.y1) - face.y0
        if x1 > x0 and y1 > y0:
            mask[y0:y1, x0:x1] = True
    return bool(mask.sum() >= share * area)
