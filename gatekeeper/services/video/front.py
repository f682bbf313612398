"""A shown face in front of covered ones: a consented pupil walking past a crowd hides the faces
behind him, so the detector loses them and their tracks go on where they were heading (coasting,
padded, held at the edge: covered where they might be, to fail closed). Those covers land on the
pupil's face, in front of faces that cannot be seen there.

Where a shown track is seen (on a sample, or between two of its samples one step apart) and
its own face is found again on the frame's pixels, the pixels of the inner part of its box that
are surely still the pupil's own are left as they are by the covers of tracks the detector lost
around that frame:

- what he is matched against is his face on his last sample where it was found so (the chain
  is anchored on a clear sample, which leaves nothing uncovered itself): which of its pixels
  are surely his own is carried with it, all of them only from a clear sample (the detector
  found him whole, not cut by the picture's edge, and no hidden face's box, found there or
  where a lost one may be, reaches into his core), and otherwise only those that were his on
  the sample before and still looked so: it never grows back on its own;
- his face must match it (adapters/motion.py, at SAME_FACE correlation or more), searched near
  where his sightings put him, and be found within AGREE of his box from there; the core is
  the inner part of the box where he was found, inside the one his sightings give;
- in it, a pixel is left only where it still looks as that sample did, moved as he moved (in
  every colour within PIXEL_AGREE levels, a 3x3 mean, the largest over 5x5 around it), and was
  his own there: a face stepping partly in front of him (its pixels differ) stays covered
  however long it stands still.

The covers of tracks seen around that frame (which can be beside him and reach into his box),
of faces without tracks, and the editors' rectangles are drawn over him as ever. Rows of a track
that are not on a sample (where a measured speed took a face seen once) are not sightings here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

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
PIXEL_AGREE = 12.0  # levels, every channel, 3x3 mean, the largest over 5x5: still as he was
RENEW = 0.9  # a clean sample renews the reference when this share of his core still matches

Kept = tuple[Region, np.ndarray]  # a core and, over it, which pixels to leave (bool)


def seen_around(sightings: Sightings, index: int, step: int) -> bool:
    """Whether the track was found on `index` or on the samples on both sides of it (at most
    `step` frames apart): not coasting, padded or held there."""
    at = bisect_left(sightings, index, key=itemgetter(0))  # the first sighting from `index`
    if at == len(sightings):
        return False
    found_then = sightings[at][0]
    return found_then == index or (at > 0 and found_then - sightings[at - 1][0] <= step)


@dataclass
class _Reference:
    """A shown face's last sighting it may be matched against: where it was, that frame's grey
    and colour pixels, and which pixels of its core are surely its own (core-sized, bool)."""

    box: Box4
    grey: np.ndarray
    colour: np.ndarray
    own: np.ndarray


class FrontFaces:
    """The shown tracks of one render, fed every frame in order (`cores`)."""

    def __init__(self, shown: Sequence[Sightings], step: int) -> None:
        step = max(1, step)
        self.shown = [s for s in ([r for r in t if r[0] % step == 0] for t in shown) if s]
        self.step = step
        self.ref: dict[int, _Reference] = {}  # track -> what it is matched against

    def cores(self, index: int, frame: np.ndarray, others: Sequence[Box4] = ()) -> list[Kept]:
        """Where on this frame each shown face seen in front is left uncovered. Asked of every
        frame in order, with `others`: the boxes of the hidden tracks there (found or where they
        may be). A sample where he was found whole and no other face's box reaches into his
        core is clear: all his core is his own there (the first clear one anchors the chain and
        leaves nothing uncovered); each sample where he is found again becomes what the frames
        after it are matched against, with only the pixels that were his own carried over."""
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
            clear = sighted and not _cut(expected, frame) and not any(
                _overlaps(o, _core(expected)) for o in others)
            if k not in self.ref:
                if clear:
                    self.ref[k] = _Reference(expected, now, frame, _full(_core(expected)))
                continue
            kept = self._kept(self.ref[k], expected, now, frame)
            if kept is None:
                continue
            found, core, mask = kept
            out.append((core, mask))
            if sighted:  # what the next frames are matched against: his face as it is now
                own = _full(_core(found)) if clear and mask.mean() >= RENEW else _placed(
                    mask, core, _core(found))
                self.ref[k] = _Reference(found, now, frame, own)
        return out

    def _kept(self, ref: _Reference, expected: Box4, now: np.ndarray,
              frame: np.ndarray) -> tuple[Box4, Region, np.ndarray] | None:
        """Where his face is found (its box), his core there, and which of its pixels to leave;
        None when his face is not found surely where his sightings put him."""
        b0 = ref.box
        (x0, y0), (x1, y1) = _centre(b0), _centre(expected)
        ex, ey = round(x1 - x0), round(y1 - y0)  # where his sightings put him
        moved = face_motion(ref.grey, now, b0, reach=0.5, sure=SAME_FACE, guess=(ex, ey))
        if moved is None:
            return None
        w, h = max(1, b0[1] - b0[3]), max(1, b0[2] - b0[0])
        dx, dy = _exact(ref.grey, now, _core(b0), round(moved[0]), round(moved[1]))
        if abs(dx - ex) > AGREE * w or abs(dy - ey) > AGREE * h:
            return None
        found = shifted(b0, dx, dy)
        core = _inside(_core(found), _core(expected))
        if core is None:
            return None
        same = _same_pixels(ref.colour, frame, core, dx, dy)
        return found, core, same & _carried(ref, core, dx, dy)


def _centre(box: Box4) -> tuple[float, float]:
    return (box[1] + box[3]) / 2, (box[0] + box[2]) / 2


def _cut(box: Box4, frame: np.ndarray) -> bool:
    """Whether the box meets the picture's edge (a face cut there is boxed as its part in it)."""
    h, w = frame.shape[:2]
    return box[3] <= 1 or box[0] <= 1 or box[1] >= w - 1 or box[2] >= h - 1


def _placed(mask: np.ndarray, region: Region, core: Region) -> np.ndarray:
    """`mask` (over `region`) as a mask over `core`: False where it does not reach."""
    out = np.zeros((max(0, core.y1 - core.y0), max(0, core.x1 - core.x0)), bool)
    x0, y0 = max(region.x0, core.x0), max(region.y0, core.y0)
    x1, y1 = min(region.x1, core.x1), min(region.y1, core.y1)
    if x1 > x0 and y1 > y0:
        out[y0 - core.y0:y1 - core.y0, x0 - core.x0:x1 - core.x0] = mask[
            y0 - region.y0:y1 - region.y0, x0 - region.x0:x1 - region.x0]
    return out


def _overlaps(box: Box4, region: Region) -> bool:
    top, right, bottom, left = box
    return min(right, region.x1) > max(left, region.x0) and min(bottom, region.y1) > max(
        top, region.y0)


def _full(core: Region) -> np.ndarray:
    return np.ones((max(0, core.y1 - core.y0), max(0, core.x1 - core.x0)), bool)


def _carried(ref: _Reference, core: Region, dx: int, dy: int) -> np.ndarray:
    """Which pixels of `core` (now) were his own on the reference, `dx, dy` back: what was
    not his there never becomes his by standing still."""
    rc = _core(ref.box)
    out = np.zeros((max(0, core.y1 - core.y0), max(0, core.x1 - core.x0)), bool)
    # a pixel (x, y) now is (x - dx, y - dy) on the reference
    x0, y0 = max(core.x0, rc.x0 + dx), max(core.y0, rc.y0 + dy)
    x1, y1 = min(core.x1, rc.x1 + dx), min(core.y1, rc.y1 + dy)
    if x1 > x0 and y1 > y0:
        out[y0 - core.y0:y1 - core.y0, x0 - core.x0:x1 - core.x0] = ref.own[
            y0 - dy - rc.y0:y1 - dy - rc.y0, x0 - dx - rc.x0:x1 - dx - rc.x0]
    return out


def _exact(before: np.ndarray, now: np.ndarray, core: Region, dx: int, dy: int,
           slack: int = 4) -> tuple[int, int]:
    """The shift (dx, dy) to the pixel: the face's core on `before` matched on `now` at full
    size within `slack` pixels of the shift found at the working size (a face of 120 px is
    matched at 24, a pixel there is 5 here: the pixels left must line up with his own)."""
    import cv2  # deferred: only scanning and rendering processes load OpenCV

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
    import cv2  # deferred: only scanning and rendering processes load OpenCV

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
    diff = cv2.blur(np.abs(cur - old), (3, 3))
    diff = diff.max(axis=2) if diff.ndim == 3 else diff
    worst = cv2.dilate(diff, np.ones((5, 5), np.uint8))  # the largest nearby: a thin line counts
    mask[sy0 - core.y0:sy1 - core.y0, sx0 - core.x0:sx1 - core.x0] = worst <= PIXEL_AGREE
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
