"""Landmarks for SFace's aligned crop, looked for again at the detector's best scale (one of
issue 29's routes, measured on the children's proxy: no face more recognised, so the engine does
not use it).

A face of a class photo is boxed in the pass where it is small (60-90 px faces at a working scale
of about 1.4, in a tile of the whole photo): CenterFace's five landmarks there are a few pixels
off, and SFace's 112x112 crop is aligned on them. Detecting again on a crop around the face,
resized so that the face is `FACE_PX` wide (CenterFace's surest range), gives the landmarks of
that face alone at a scale where a pixel of error weighs less.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from gatekeeper.adapters.detector import CenterFace

FACE_PX = 128  # the face's width in the crop detected again
PAD = 0.6  # the crop reaches this many face widths beyond the box on each side
MIN_SCORE = 0.3


def refined_landmarks(detector: CenterFace, rgb: Image.Image,
                      box: tuple[float, float, float, float],
                      landmarks: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Five (x, y) landmarks of the face in `box` (x0, y0, x1, y1, upright pixels of `rgb`): those
    found again on the face alone at FACE_PX wide, or `landmarks` where it is not found there
    (its box must hold the first landmarks' eye midpoint)."""
    x0, y0, x1, y1 = box
    w = max(1.0, x1 - x0)
    cx0, cy0 = max(0.0, x0 - PAD * w), max(0.0, y0 - PAD * w)
    cx1, cy1 = min(float(rgb.width), x1 + PAD * w), min(float(rgb.height), y1 + PAD * w)
    scale = FACE_PX / w
    size = (max(1, round((cx1 - cx0) * scale)), max(1, round((cy1 - cy0) * scale)))
    crop = np.asarray(rgb.crop((round(cx0), round(cy0), round(cx1), round(cy1)))
                      .resize(size, Image.Resampling.BICUBIC).convert("RGB"))
    old = np.asarray(landmarks, dtype=np.float64)
    ex, ey = (old[0] + old[1]) / 2
    sx, sy = (ex - round(cx0)) * scale, (ey - round(cy0)) * scale
    found = [d for d in detector.detect(crop, MIN_SCORE, exact=True)
             if d.x0 <= sx <= d.x1 and d.y0 <= sy <= d.y1]
    if not found:
        return old
    best = max(found, key=lambda d: d.score)
    return np.array([(x / scale + round(cx0), y / scale + round(cy0)) for x, y in best.landmarks],
                    dtype=np.float64)
