"""Irreversible covering of heads: a solid fill (default) or coarse, noisy pixelation. No blur.

Geometry (docs/developers/engine.md, "Covering geometry"): the detector box (forehead to chin)
is grown to the whole head: 35 % of its width added on each side for ears and hair, 60 % of its
height above for hair, 25 % below for chin and neck; the region is a rounded rectangle (corner
radius 35 % of the shorter side), clipped to the image. A box cut by the image's edge is grown
by the size of the whole face (`face_size`), not of the strip in the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


FACE_ASPECT = 1.25  # a detector box's height to its width, forehead to chin (CenterFace ~1.2)


def face_size(top: int, right: int, bottom: int, left: int, width: int,
              height: int) -> tuple[float, float]:
    """The face's width and height from its detector box. A box cut by the image's edge is
    only the part in the picture: its size across the edge is taken from the other side's
    (a face rising out through the top is boxed down to a strip, and a head grown by the
    strip's height would leave its chin uncovered)."""
    w, h = float(right - left), float(bottom - top)
    cut_across = top <= 1 or bottom >= height - 1  # a pixel of rounding in a resized copy
    cut_along = left <= 1 or right >= width - 1
    if cut_across and not cut_along:
        h = max(h, FACE_ASPECT * w)
    elif cut_along and not cut_across:
        w = max(w, h / FACE_ASPECT)
    return w, h


def head_region(top: int, right: int, bottom: int, left: int, width: int, height: int) -> Region:
    """The detector box grown to the whole head, clipped to the image."""
    w, h = face_size(top, right, bottom, left, width, height)
    return Region(
        max(0, int(left - 0.35 * w)),
        max(0, int(top - 0.60 * h)),
        min(width, int(right + 0.35 * w + 1)),
        min(height, int(bottom + 0.25 * h + 1)),
    )


Corners = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _corners(width: int, height: int, radius: int) -> Corners:
    """The four corner squares (top-left, top-right, bottom-left, bottom-right) of the rounded
    rectangle Pillow draws in a region of this size: True inside. Remembered, corners only (a
    video covers heads of many sizes frame after frame; a 4K head's whole mask would be big).

    Where the corners stand apart (2 * radius < each side - 2), Pillow draws each as a quarter
    of a circle of `radius` in its own corner, the rest as rectangles that do not reach into the
    corner squares: the squares depend on the radius alone, and are remembered by it (a 720p
    clip's 9 500 heads have a few dozen radii but thousands of sizes). Smaller regions, where
    Pillow joins the corners, are drawn at their size."""
    if 2 * radius < min(width, height) - 2:
        return _round_corners(radius)
    return _drawn_corners(width, height, radius)


@lru_cache(maxsize=256)
def _round_corners(radius: int) -> Corners:
    side = 2 * radius + 3  # the smallest region whose corners stand apart
    return _drawn_corners.__wrapped__(side, side, radius)


@lru_cache(maxsize=256)
def _drawn_corners(width: int, height: int, radius: int) -> Corners:
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1), radius=radius,
                                           fill=255)
    inside = np.asarray(mask) > 0
    top, bottom = slice(0, radius), slice(height - radius, height)
    left, right = slice(0, radius), slice(width - radius, width)
    out = (inside[top, left].copy(), inside[top, right].copy(), inside[bottom, left].copy(),
           inside[bottom, right].copy())
    for corner in out:
        corner.flags.writeable = False
    return out


PIXEL = np.dtype((np.void, 3))  # one RGB pixel as a single item


def _fill(patch: np.ndarray, fill: np.ndarray, rounded: bool) -> None:
    """Write `fill` (a colour, or an array of the patch's shape) over the patch, through a
    rounded rectangle (corner radius 35 % of the shorter side) for heads, else all of it. The
    bands between the corners are written whole; only the four corner squares go through the
    mask."""
    h, w = patch.shape[:2]
    r = int(0.35 * min(w, h)) if rounded else 0
    if fill.ndim == 1:
        _fill_solid(patch, fill, r)
        return
    if r < 1:
        patch[...] = fill
        return
    patch[r:h - r] = fill[r:h - r]
    for rows in (slice(0, r), slice(h - r, h)):
        patch[rows, r:w - r] = fill[rows, r:w - r]
    squares = [(rows, cols) for rows in (slice(0, r), slice(h - r, h))
               for cols in (slice(0, r), slice(w - r, w))]
    for (rows, cols), inside in zip(squares, _corners(w, h, r), strict=True):
        patch[rows, cols][inside] = fill[rows, cols][inside]


def _fill_solid(patch: np.ndarray, colour: np.ndarray, r: int) -> None:
    """`_fill` of one colour, as fast as a video's many heads a frame need it (a fifth of the
    time of numpy's broadcast over 3-channel pixels): the bands as rectangles drawn by OpenCV
    (in place in the patch, a view of the picture), the corners through their masks on the
    patch seen as one 3-byte item a pixel. The same pixels as the general path."""
    import cv2  # deferred: only the processes that cover load OpenCV

    h, w = patch.shape[:2]
    bgr = tuple(int(v) for v in colour)  # OpenCV takes the channels in the array's order
    if r < 1:
        cv2.rectangle(patch, (0, 0), (w - 1, h - 1), bgr, -1)
        return
    cv2.rectangle(patch, (0, r), (w - 1, h - r - 1), bgr, -1)  # h - 2r >= 1 when r >= 1
    cv2.rectangle(patch, (r, 0), (w - r - 1, r - 1), bgr, -1)
    cv2.rectangle(patch, (r, h - r), (w - r - 1, h - 1), bgr, -1)
    pixels, item = patch.view(PIXEL)[..., 0], colour.view(PIXEL)[0]
    squares = [(rows, cols) for rows in (slice(0, r), slice(h - r, h))
               for cols in (slice(0, r), slice(w - r, w))]
    for (rows, cols), inside in zip(squares, _corners(w, h, r), strict=True):
        pixels[rows, cols][inside] = item


def cover(
    img: Image.Image,
    regions: list[tuple[Region, bool]],
    mode: CoverMode = CoverMode.SOLID,
    rng: np.random.Generator | None = None,
) -> Image.Image:
    """A copy of `img` with every region covered; (region, rounded) pairs, rounded for heads."""
    pixels = np.array(img.convert("RGB"))
    return Image.fromarray(cover_pixels(pixels, regions, mode, rng))


def cover_pixels(
    pixels: np.ndarray,
    regions: list[tuple[Region, bool]],
    mode: CoverMode = CoverMode.SOLID,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """`pixels` (an RGB array, changed in place and returned) with every region covered.

    Each region is worked on locally (its mean, or its pixelation, written through its mask), so
    the cost grows with the covered area, not with the picture's size; regions are covered in
    turn, each from the pixels the ones before it left."""
    import cv2  # deferred: only the processes that cover load OpenCV

    rng = rng or np.random.default_rng()
    height, width = pixels.shape[:2]
    for region, rounded in regions:
        x0, y0 = max(0, region.x0), max(0, region.y0)
        x1, y1 = min(width, region.x1), min(height, region.y1)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = pixels[y0:y1, x0:x1]
        if mode is CoverMode.PIXELATE:
            fill = np.clip(_pixelated(patch.astype(np.float64), rng), 0, 255).astype(np.uint8)
        else:
            # the mean, truncated, from an exact integer sum (OpenCV's sum is 20x numpy's)
            total = np.asarray(cv2.sumElems(patch)[:3], dtype=np.int64)
            fill = (total // (patch.shape[0] * patch.shape[1])).astype(np.uint8)
        _fill(patch, fill, rounded)
    return pixels


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
