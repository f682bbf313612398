"""The 0/90/270 degree turns a photo is searched in, and what the landmarks say of a face."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gatekeeper.adapters.detector import Detection


def rotate(arr: np.ndarray, rotation: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(arr, k=rotation // 90))


def to_upright(x: float, y: float, rotation: int, w: int, h: int) -> tuple[float, float]:
    """Map a point of the image turned by `rotation` (counter-clockwise) back to upright (w x h)."""
    if rotation == 90:
        return w - y, x
    if rotation == 270:
        return y, h - x
    return x, y


def from_upright(x: float, y: float, rotation: int, w: int, h: int) -> tuple[float, float]:
    if rotation == 90:
        return y, w - x
    if rotation == 270:
        return h - y, x
    return x, y


def map_box(x0: float, y0: float, x1: float, y1: float,
            fn: Callable[[float, float, int, int, int], tuple[float, float]],
            rotation: int, w: int, h: int) -> tuple[float, float, float, float]:
    pts = [fn(x, y, rotation, w, h) for x, y in ((x0, y0), (x1, y1))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def yaw_of(det: Detection) -> float:
    """How far the nose sits from the eyes' midpoint, relative to eye distance (0 = frontal)."""
    (rx, _), (lx, _), (nx, _) = det.landmarks[0], det.landmarks[1], det.landmarks[2]
    eye_distance = abs(lx - rx)
    if eye_distance < 1e-6:
        return 1.0
    return abs(nx - (rx + lx) / 2) / eye_distance


def upright(det: Detection) -> bool:
    """Eyes above the nose, nose above the mouth corners: the face stands upright in this turn."""
    (_, ry), (_, ly), (_, ny), (_, my1), (_, my2) = det.landmarks
    return max(ry, ly) < ny < min(my1, my2)
