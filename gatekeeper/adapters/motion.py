"""How far a face moves from one frame to the next, measured from the pixels (OpenCV template
matching): a video's scan searches one frame in a few, so a face seen once has no speed from
its sightings, and a fast one (a child running past) is gone from where it was by the next
search. Its speed from the very next frame tells the tracker where to look for it.

The face's box on the first frame (shrunk to `WORK_PX` wide, as the search needs no more) is
looked for in a window around it on the next frame, up to `reach` face widths away; the best
place counts only where the match is sure (`MIN_MATCH`, normalised correlation), well above the
window's average (not a flat patch: a wall) and clearly above the best place more than
`APART` face widths from it (not a repeating one: a row of like faces or shirts), so such
patches give no speed rather than a wrong one. Faces under `MIN_FACE_PX` are not matched: so
few pixels match too many places.
"""

from __future__ import annotations

from typing import Any

import numpy as np

WORK_PX = 24  # the face's width while matching
MIN_MATCH = 0.6  # normalised correlation of a sure match
MIN_SPREAD = 0.1  # the best place must beat the window's average by this much (not a flat patch)
APART = 0.3  # ... and every place this many face widths away from it by MIN_SPREAD (not a repeat)
MIN_FACE_PX = 16

Box4 = tuple[int, int, int, int]  # top, right, bottom, left


def gray(rgb: np.ndarray) -> np.ndarray:
    """A frame's luminance (matching needs no colour)."""
    import cv2  # deferred: only scanning and rendering processes load OpenCV

    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def face_motion(first: np.ndarray, second: np.ndarray, box: Box4, *,
                reach: float = 1.5, sure: float = MIN_MATCH,
                guess: tuple[int, int] = (0, 0)) -> tuple[float, float] | None:
    """The face in `box` on gray frame `first` moved by (dx, dy) pixels on gray frame `second`
    (the next frame), or None when the pixels do not say surely. `reach`: the farthest move
    looked for, in face widths, from `guess` (where the caller expects it: no move by default);
    `sure`: the correlation a match needs."""
    import cv2  # deferred: only scanning and rendering processes load OpenCV

    top, right, bottom, left = box
    h, w = first.shape[:2]
    top, left = max(0, top), max(0, left)
    bottom, right = min(h, bottom), min(w, right)
    fw, fh = right - left, bottom - top
    if fw < MIN_FACE_PX or fh < MIN_FACE_PX:
        return None
    k = min(1.0, WORK_PX / fw)
    pad = int(round(reach * fw))
    gx, gy = guess
    wx0, wy0 = max(0, left + gx - pad), max(0, top + gy - pad)
    wx1, wy1 = min(w, right + gx + pad), min(h, bottom + gy + pad)
    if wx1 - wx0 < fw or wy1 - wy0 < fh:
        return None  # the window runs off the picture: the face cannot be looked for there
    template = _scaled(cv2, first[top:bottom, left:right], k)
    window = _scaled(cv2, second[wy0:wy1, wx0:wx1], k)
    if (window.shape[0] < template.shape[0] or window.shape[1] < template.shape[1]
            or float(template.std()) < 2.0):
        return None
    scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if best < sure or best - float(scores.mean()) < MIN_SPREAD:
        return None
    apart = max(1, round(APART * fw * k))
    others = scores.copy()
    others[max(0, by - apart):by + apart + 1, max(0, bx - apart):bx + apart + 1] = -1.0
    if others.size and best - float(others.max()) < MIN_SPREAD:
        return None  # as good a match elsewhere: a repeating patch
    return (bx / k + wx0 - left, by / k + wy0 - top)


def _scaled(cv2: Any, patch: np.ndarray, k: float) -> np.ndarray:
    if k >= 1.0:
        return np.ascontiguousarray(patch)
    size = (max(1, round(patch.shape[1] * k)), max(1, round(patch.shape[0] * k)))
    return np.asarray(cv2.resize(patch, size, interpolation=cv2.INTER_AREA))
