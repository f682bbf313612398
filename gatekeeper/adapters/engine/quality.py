"""The quality gate: which found faces can be identified (large, frontal and sharp enough; a
soft one under a stricter rule); the others are only ever covered, small ones generously."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gatekeeper.adapters.engine.found import Box, Candidate, FaceQuality, FoundFace
from gatekeeper.adapters.engine.options import EngineOptions
from gatekeeper.adapters.engine.turns import yaw_of


def sharpness(gray_crop: np.ndarray) -> float:
    """Standard deviation of the Laplacian of a face crop resampled to 64x64 (scale-free)."""
    img = Image.fromarray(gray_crop).resize((64, 64), Image.Resampling.BILINEAR)
    a = np.asarray(img, dtype=np.float32)
    lap = (-4 * a[1:-1, 1:-1] + a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:])
    return float(lap.std())


def grown(box: Box, factor: float, w: int, h: int) -> Box:
    """A small face's box grown about its centre: at a few pixels CenterFace's box can fall
    short of the face, and a face that is only covered is better covered generously."""
    dx, dy = (factor - 1) * box.width / 2, (factor - 1) * box.height / 2
    return Box(max(0, int(box.top - dy)), min(w, int(round(box.right + dx))),
               min(h, int(round(box.bottom + dy))), max(0, int(box.left - dx)))


def gate(o: EngineOptions, cand: Candidate, gray: np.ndarray, w: int, h: int) -> FoundFace:
    """The found face of a candidate box, with the quality that says whether it may be encoded."""
    (x0, y0, x1, y1), det, rotation, marks = cand
    box = Box(max(0, int(y0)), min(w, int(round(x1))), min(h, int(round(y1))), max(0, int(x0)))
    quality = FaceQuality.OK
    if min(box.width, box.height) < o.min_face_px:
        quality = FaceQuality.TOO_SMALL
        box = grown(box, o.small_box_growth, w, h)
    elif yaw_of(det) > o.max_yaw:
        quality = FaceQuality.TOO_TURNED
    else:
        sharp = sharpness(gray[box.top : box.bottom, box.left : box.right])
        if sharp < o.min_sharpness:
            quality = FaceQuality.TOO_BLURRED
        elif sharp < o.sharp_from:
            quality = FaceQuality.SOFT
    return FoundFace(box=box, score=det.score, rotation=rotation, quality=quality,
                     landmarks=marks)
