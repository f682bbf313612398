"""A shown face in front of covered ones: a consented pupil walking past a crowd hides the faces
behind him, so the detector loses them and their tracks go on where they were heading (coasting,
padded, held at the edge: covered where they might be, to fail closed). Those covers land on the
pupil's face, in front of faces that cannot be seen there.

Where a shown track is seen (on a sample, or between two of its samples one step apart) and
its own face is found again on the frame's pixels, the pixels of the inner part of its box that
are still the pupil's own are left as they are by the covers of tracks the detector lost around
that frame:

- the pupil's face is matched (adapters/motion.py, at SAME_FACE correlation or more) against
  its last sighting that was itself matched so (the first sighting anchors the chain and gets
  nothing), and must be found within AGREE of its box from where its sightings put it; a
  sample where the detector found him is checked as any other frame (a track can be handed
  another child's box);
- the core is the inner part of the box where he was found, inside the box his sightings give;
- in it, only the pixels that still look as on his last matched sighting (moved as he moved:
  a 5x5 mean difference of PIXEL_AGREE levels or less in every colour) are left; another face stepping
  partly in front of him differs there, and stays covered.

The covers of tracks seen around that frame (which can be beside him and reach into his box),
of faces without tracks, and the editors' rectangles are drawn over him as ever. Rows of a track
that are not on a sample (where a measured speed took a face seen once) are not sightings here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gatekeeper.adapters.motion import face_motion, gray
from gatekeeper.domain.redact import Region
from gatekeeper.domain.spans import box_at
from gatekeeper.domain.tracks import Box4, shifted

Sightings = Sequence[tuple[int, Box4]]
AGREE = 0.2  # found within this share of its box from where its sightings put it
SAME_FACE = 0.8  # correlation with its last matched sighting (the same face a few frames on:
# 0.96 in the middle, over the walkers of bench/video.py's clips)
CORE_X, CORE_Y = 0.15, 0.1  # the box's inner part: no ear, hair or corner of someone behind
PIXEL_AGREE = 12.0  # levels, 5x5 mean, every channel: still looks as on his last sighting

Kept = tuple[Region, np.ndarray]  # a core and, over it, which pixels to leave (bool)


def seen_around(sightings: Sightings, index: int, step: int) -> bool:
    """Whether the track was found on `index` or on the samples on both sides of it (at most
    `step` frames apart): not coasting, padded or held there."""
    for (f0, _), (f1, _) in zip(sightings, sightings[1:], strict=False):
        if f0 <= index <= f1 and f1 - f0 <= step:
            return True
    return any(f == index for f, _ in sightings)


class FrontFaces:
    """The shown tracks of one render, fed every frame in order (`cores`)."""

    def __init__(self, shown: Sequence[Sightings], step: int) -> None:
        step = max(1, step)
        self.shown = [s for s in ([r for r in t if r[0] % step == 0] for t in shown) if s]
        self.step = step
        # track -> its last matched sighting: box, grey and colour pixels of that frame
        self.last: dict[int, tuple[Box4, np.ndarray, np.ndarray]] = {}

    def cores(self, index: int, frame: np.ndarray) -> list[Kept]:
        """Where on this frame each shown face seen in front is left uncovered (asked of every
        frame in order: a matched sighting is what the frames after it are matched against)."""
        if not self.shown:
            return []
        out: list[Kept] = []
        now: np.ndarray | None = None
        for k, sightings in enumerate(self.shown):
            if not seen_around(sightings, index, self.step):
                continue
            expected = box_at(sightings, index)
            if expected is None:
                continue
            now = gray(frame) if now is None else now
            sighted = any(f == index for f, _ in sightings)
            if k not in self.last:
                if sighted:  # the anchor: nothing left uncovered yet
                    self.last[k] = (expected, now, frame)
                continue
            kept = self._kept(k, expected, now, frame)
            if kept is not None:
                out.append(kept)
                if sighted:
                    self.last[k] = (expected, now, frame)
        return out

    def _kept(self, k: int, expected: Box4, now: np.ndarray, frame: np.ndarray) -> Kept | None:
        b0, before, colour = self.last[k]
        ex, ey = expected[3] - b0[3], expected[0] - b0[0]  # where his sightings put him
        moved = face_motion(before, now, b0, reach=0.5, sure=SAME_FACE, guess=(ex, ey))
        if moved is None:
            return None
        w, h = max(1, b0[1] - b0[3]), max(1, b0[2] - b0[0])
        dx, dy = _exact(before, now, _core(b0), round(moved[0]), round(moved[1]))
        if abs(dx - ex) > AGREE * w or abs(dy - ey) > AGREE * h:
            return None
        core = _inside(_core(shifted(b0, dx, dy)), _core(expected))
        if core is None:
            return None
        return core, _same_pixels(colour, frame, core, dx, dy)


def _exact(before: np.ndarray, now: np.ndarray, core: Region, dx: int, dy: int,
           slack: int = 4) -> tuple[int, int]:
    """The shift (dx, dy) to the pixel: the face's core on `before` matched on `now` at full
    size within `slack` pixels of the shift found at the working size (a face of 120 px is
    matched at 24, a pixel there is 5 here: the pixels left must line up with his own)."""
    import cv2

    h, w = now.shape[:2]
    x0, y0, x1, y1 = max(0, core.x0), max(0, core.y0), min(w, core.x1), min(h, core.y1)
    wx0, wy0 = x0 + dx - slack, y0 + dy - slack
    wx1, wy1 = x1 + dx + slack, y1 + dy + slack
    if x1 - x0 < 8 or y1 - y0 < 8 or wx0 < 0 or wy0 < 0 or wx1 > w or wy1 > h:
        return dx, dy
    scores = cv2.matchTemplate(now[wy0:wy1, wx0:wx1], before[y0:y1, x0:x1], cv2.TM_CCOEFF_NORMED)
    _, _, _, (bx, by) = cv2.minMaxLoc(scores)
    return dx + bx - slack, dy + by - slack


def _core(box: Box4) -> Region:
    top, right, bottom, left = box
    w, h = right - left, bottom - top
    return Region(int(left + CORE_X * w), int(top + CORE_Y * h), int(right - CORE_X * w),
                  int(bottom - CORE_Y * h))


def _inside(a: Region, b: Region) -> Region | None:
    r = Region(max(a.x0, b.x0), max(a.y0, b.y0), min(a.x1, b.x1), min(a.y1, b.y1))
    return r if r.x1 > r.x0 and r.y1 > r.y0 else None


def _same_pixels(before: np.ndarray, now: np.ndarray, core: Region, dx: int,
                 dy: int) -> np.ndarray:
    """Which pixels of `core` on `now` look as the same place did on `before`, `dx, dy` back
    (RGB: every channel within PIXEL_AGREE, as a 5x5 mean)."""
    import cv2

    h, w = now.shape[:2]
    x0, y0, x1, y1 = max(0, core.x0), max(0, core.y0), min(w, core.x1), min(h, core.y1)
    mask = np.zeros((max(0, core.y1 - core.y0), max(0, core.x1 - core.x0)), bool)
    # the same place on `before`, clipped to both frames
    sx0, sy0 = max(x0, dx), max(y0, dy)
    sx1, sy1 = min(x1, w + dx), min(y1, h + dy)
    if sx1 <= sx0 or sy1 <= sy0:
        return mask
    cur = now[sy0:sy1, sx0:sx1].astype(np.float32)
    old = before[sy0 - dy:sy1 - dy, sx0 - dx:sx1 - dx].astype(np.float32)
    diff = cv2.blur(np.abs(cur - old), (5, 5))
    mask[sy0 - core.y0:sy1 - core.y0, sx0 - core.x0:sx1 - core.x0] = (
        diff.max(axis=2) if diff.ndim == 3 else diff) <= PIXEL_AGREE
    return mask


def keep(out: np.ndarray, source: np.ndarray, kept: list[Kept]) -> None:
    """Put the source's pixels back in `out` where each core's mask says."""
    h, w = out.shape[:2]
    for core, mask in kept:
        x0, y0, x1, y1 = max(0, core.x0), max(0, core.y0), min(w, core.x1), min(h, core.y1)
        if x1 <= x0 or y1 <= y0:
            continue
        m = mask[y0 - core.y0:y1 - core.y0, x0 - core.x0:x1 - core.x0]
        out[y0:y1, x0:x1][m] = source[y0:y1, x0:x1][m]
