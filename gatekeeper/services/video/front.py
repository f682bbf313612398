"""A shown face in front of covered ones: a consented pupil walking past a crowd hides the faces
behind him, so the detector loses them and their tracks go on where they were heading (coasting,
padded, held at the edge: covered where they might be, to fail closed). Those covers land on the
pupil's face, in front of faces that cannot be seen there.

Where a shown track is seen (between two of its sightings one sample apart, or on one) and its
own face is found on the frame's pixels where its sightings put it (matched against its last
sighting, adapters/motion.py), nothing can be in front of its face: the inner part of its box is
left as it is by the covers of tracks the detector lost around that frame. The covers of tracks
seen around that frame, and the editors' rectangles, are drawn over it as ever: a face seen
beside the pupil may overlap his box, and is covered whatever it hides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gatekeeper.adapters.motion import face_motion, gray
from gatekeeper.domain.redact import Region
from gatekeeper.domain.spans import box_at
from gatekeeper.domain.tracks import Box4

Sightings = Sequence[tuple[int, Box4]]
AGREE = 0.2  # the face found within this share of its box from where its sightings put it
# ... matching its last sighting this closely (normalised correlation): the same face a few
# frames on matches at 0.9 or more; another face stepping half in front of it brings it down
SAME_FACE = 0.8
CORE_X, CORE_Y = 0.15, 0.1  # the box's inner part: no ear, hair or corner of someone behind


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
        self.shown = [list(s) for s in shown if s]
        self.step = step
        self.last: dict[int, tuple[int, np.ndarray]] = {}  # track -> (frame, gray) last sighted

    def cores(self, index: int, frame: np.ndarray) -> list[Region]:
        """The inner parts of the shown faces seen in front on this frame (asked of every frame
        in order: a sighting's pixels are what the frames after it are matched against)."""
        if not self.shown:
            return []
        out: list[Region] = []
        now: np.ndarray | None = None
        for k, sightings in enumerate(self.shown):
            if not seen_around(sightings, index, self.step):
                continue
            box = box_at(sightings, index)
            if box is None:
                continue
            now = gray(frame) if now is None else now
            sighted = next((b for f, b in sightings if f == index), None)
            if sighted is not None:  # the detector found it here
                self.last[k] = (index, now)
                out.append(_core(sighted))
                continue
            if k in self.last and self._found_where_expected(k, sightings, box, now):
                out.append(_core(box))
        return out

    def _found_where_expected(self, k: int, sightings: Sightings, box: Box4,
                              now: np.ndarray) -> bool:
        f0, before = self.last[k]
        b0 = next(b for f, b in sightings if f == f0)
        moved = face_motion(before, now, b0, reach=0.5, sure=SAME_FACE)
        if moved is None:
            return False
        w, h = max(1, b0[1] - b0[3]), max(1, b0[2] - b0[0])
        ex, ey = box[3] - b0[3], box[0] - b0[0]
        return abs(moved[0] - ex) <= AGREE * w and abs(moved[1] - ey) <= AGREE * h


def _core(box: Box4) -> Region:
    top, right, bottom, left = box
    w, h = right - left, bottom - top
    return Region(int(left + CORE_X * w), int(top + CORE_Y * h), int(right - CORE_X * w),
                  int(bottom - CORE_Y * h))


def keep(out: np.ndarray, source: np.ndarray, cores: list[Region]) -> None:
    """Put the source's pixels back in `out` inside each core."""
    h, w = out.shape[:2]
    for c in cores:
        x0, y0, x1, y1 = max(0, c.x0), max(0, c.y0), min(w, c.x1), min(h, c.y1)
        if x1 > x0 and y1 > y0:
            out[y0:y1, x0:x1] = source[y0:y1, x0:x1]
