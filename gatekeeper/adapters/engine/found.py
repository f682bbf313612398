"""What a scan returns, and the candidate boxes the passes hand to the gate."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gatekeeper.adapters.detector import Detection


class FaceQuality(StrEnum):
    """Why a face can or cannot be identified (OK and SOFT faces are encoded)."""

    OK = "ok"
    SOFT = "soft"  # a little blurred: identified only under a stricter margin, never a template
    TOO_SMALL = "too_small"
    TOO_BLURRED = "too_blurred"
    TOO_TURNED = "too_turned"


@dataclass(frozen=True)
class Box:
    """A face box in upright image pixels, in face_recognition's (top, right, bottom, left) order."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass
class FoundFace:
    box: Box
    score: float
    rotation: int  # 0, 90 or 270: the turn in which the face stood upright
    quality: FaceQuality
    encoding: np.ndarray | None = None  # dlib, 128 float64
    sface_encoding: np.ndarray | None = None  # SFace, 128 float32 of unit length
    # CenterFace's five landmarks in upright image pixels: subject's right eye, left eye, nose,
    # right and left mouth corners
    landmarks: tuple[tuple[float, ...], ...] | None = None


# A detection in full-resolution upright pixels (x0, y0, x1, y1), the raw detection, the turn it
# was found in, and its five landmarks in upright pixels (none from the second look)
Candidate = tuple[tuple[float, ...], Detection, int, tuple[tuple[float, ...], ...]]


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0, min(a.right, b.right) - max(a.left, b.left))
    h = max(0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = w * h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


IDENTIFIABLE = frozenset({FaceQuality.OK, FaceQuality.SOFT})
