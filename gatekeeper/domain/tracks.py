"""Faces over time: link the boxes found on sampled frames into tracks, name a track by votes,
and say where a track must be covered on any frame. Pure: boxes, frame numbers and matches in,
values out.

Boxes are (top, right, bottom, left) in frame pixels, the face engine's order.

- Linking: a box joins the live track whose predicted box (its last box moved on at the speed
  of its last two sightings) overlaps it most (IoU at least `min_iou`), or whose predicted centre
  is within `reach` box widths with a size within a factor of two (`first_reach`, wider, for a
  track seen once: its speed is not known yet); a track stays live for `max_gap` frames without
  a box, and a moving one coasts on its prediction for `coast` frames, so a face the detector
  loses for a few samples (a shake, a blur) stays one track. A fast face that passes over
  another hides it and is found where it stood: the hidden face's track takes that box, and
  the fast face's own track (moving more than `reach` widths a sample) takes it too.
- Naming (`vote`): a track is a person only when that person wins at least `share` of its best
  frames' votes, at least `min_votes` of them, and nobody else has any; everyone near any of its
  frames stays near (a safeguarding flag blocks on a possible sighting, as for photos). Two tracks
  named as the same person at the same time are both ambiguous (as a person twice in one photo).
- Covering (`cover_box`): between two boxes the box is interpolated and grown by half the step
  between them (the face may have moved anywhere on the way); for `pad` frames before the first
  and after the last box the box spans the end box and where the face's motion would take it.
  A track that begins or ends at the frame's edge came in or went out there, cut by the edge,
  where the detector loses a face first (half a face is not a face to it, but can be to a
  viewer): it is held for `hold` frames more, until its motion has taken it wholly out.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from gatekeeper.domain.matching import Match

Box4 = tuple[int, int, int, int]  # top, right, bottom, left


@dataclass
class Track:
    """One face over time: (frame, box, key) of each sighting, frames ascending; `key` is the
    caller's handle on the detection (e.g. its index among that frame's faces)."""

    sightings: list[tuple[int, Box4, int]] = field(default_factory=list)
    speed: tuple[float, float] | None = None  # measured at the first sighting (pixels a frame)

    @property
    def first(self) -> int:
        return self.sightings[0][0]

    @property
    def last(self) -> int:
        return self.sightings[-1][0]

    @property
    def moving(self) -> bool:
        """Whether its motion is known: from two sightings, or measured at its first."""
        return len(self.sightings) > 1 or self.speed is not None

    def motion(self) -> tuple[float, float]:
        """Pixels a frame (x, y): from its last two sightings, else the measured speed."""
        if len(self.sightings) > 1:
            return velocity([(f, b) for f, b, _ in self.sightings[-2:]])
        return self.speed or (0.0, 0.0)


def iou(a: Box4, b: Box4) -> float:
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area = (a[1] - a[3]) * (a[2] - a[0]) + (b[1] - b[3]) * (b[2] - b[0]) - inter
    return inter / area if area > 0 else 0.0


def _centre(b: Box4) -> tuple[float, float]:
    return (b[1] + b[3]) / 2, (b[0] + b[2]) / 2


def velocity(sightings: Sequence[tuple[int, Box4]]) -> tuple[float, float]:
    """The face's motion in pixels a frame (x, y) from its last two sightings; (0, 0) from one."""
    if len(sightings) < 2:
        return 0.0, 0.0
    (f0, b0), (f1, b1) = sightings[-2], sightings[-1]
    (x0, y0), (x1, y1) = _centre(b0), _centre(b1)
    return (x1 - x0) / max(1, f1 - f0), (y1 - y0) / max(1, f1 - f0)


def shifted(b: Box4, dx: float, dy: float) -> Box4:
    return (round(b[0] + dy), round(b[1] + dx), round(b[2] + dy), round(b[3] + dx))


def _distance(a: Box4, b: Box4) -> float | None:
    """Centre distance in mean box widths, or None when the sizes differ by more than twice."""
    wa, wb = a[1] - a[3], b[1] - b[3]
    if wa <= 0 or wb <= 0 or max(wa, wb) > 2 * min(wa, wb):
        return None
    (xa, ya), (xb, yb) = _centre(a), _centre(b)
    return float(((xa - xb) ** 2 + (ya - yb) ** 2) ** 0.5 / ((wa + wb) / 2))


def link(frames: list[tuple[int, list[Box4]]], *, max_gap: int, min_iou: float = 0.2,
         reach: float = 1.0, first_reach: float = 3.0, coast: int | None = None,
         speeds: Mapping[tuple[int, int], tuple[float, float]] | None = None) -> list[Track]:
    """Tracks from the boxes of each sampled frame ((frame number, boxes), frames ascending).

    A track's next box is looked for where its motion so far (constant velocity from its last
    two sightings) puts it: overlapping that predicted box, or with a centre within `reach` box
    widths of it. A track seen once has no motion yet, so a box up to `first_reach` widths away
    joins it (a fast face moves far between samples); where `speeds` (keyed by (frame, index
    of the box on that frame)) has its speed measured there, it is looked for as a moving one
    first (where its speed puts it ranks first), and still as one seen once. A moving track
    coasts on its prediction for up to `coast` frames (default twice `max_gap`) when the
    detector loses it longer."""
    coast = 2 * max_gap if coast is None else coast
    tracks: list[Track] = []
    live: list[int] = []  # tracks that may still take a box (a gap only grows), ascending
    for frame, boxes in frames:
        pairs = []
        alive, predicted = [], []
        for ti in live:
            t = tracks[ti]
            gap = frame - t.last
            if gap > (max(coast, max_gap) if t.moving else max_gap):
                continue
            alive.append(ti)
            dx, dy = t.motion()
            predicted.append(shifted(t.sightings[-1][1], dx * gap, dy * gap))
        near_boxes = _within(predicted, [tracks[ti].sightings[0][1] for ti in alive], boxes,
                             max(reach, first_reach) if min_iou > 0 else None)
        for ti, expected, mine in zip(alive, predicted, near_boxes, strict=True):
            t = tracks[ti]
            gap = frame - t.last
            moving = t.moving
            for bi in mine:
                box = boxes[bi]
                overlap = iou(expected, box)
                far = _distance(expected, box)
                near = far is not None and far <= (reach if moving else first_reach)
                if not near and len(t.sightings) == 1:  # a measured speed can be wrong
                    own = _distance(t.sightings[0][1], box)
                    near = own is not None and own <= first_reach
                if (overlap >= min_iou or near) and (gap <= max_gap or overlap >= min_iou
                                                     or (far is not None and far <= reach)):
                    pairs.append((overlap, -(far if far is not None else 9.0), -gap, ti, bi))
        taken_t: set[int] = set()
        taken_b: set[int] = set()
        ranked = sorted(pairs, reverse=True)
        for *_, ti, bi in ranked:
            if ti in taken_t or bi in taken_b:
                continue
            tracks[ti].sightings.append((frame, boxes[bi], bi))
            taken_t.add(ti)
            taken_b.add(bi)
        # A fast face passing over another hides it and is found where the hidden one stood,
        # whose track takes the box; the fast face's own track, which predicts it there, takes
        # it too (one box, two tracks: only ever more covered).
        shared: set[int] = set()
        for *_, ti, bi in ranked:
            if ti in taken_t or bi in shared or not _fast(tracks[ti], frame, reach):
                continue
            tracks[ti].sightings.append((frame, boxes[bi], bi))
            taken_t.add(ti)
            shared.add(bi)
        speed = speeds or {}
        fresh = [Track([(frame, box, bi)], speed.get((frame, bi)))
                 for bi, box in enumerate(boxes) if bi not in taken_b]
        live = alive + list(range(len(tracks), len(tracks) + len(fresh)))
        tracks += fresh
    return tracks


def _within(expected: list[Box4], first: list[Box4], boxes: list[Box4],
            reach: float | None) -> list[list[int]]:
    """For each track (its predicted box and its first box), the boxes that could overlap the
    predicted one or lie within `reach` box widths of either (None: every box): a bound that
    never leaves out a box `link` would pair, weighed for all tracks at once, so that a crowd's
    every track is not weighed against every box in Python."""
    everything = list(range(len(boxes)))
    if reach is None or len(expected) * len(boxes) < 64:  # not worth the arrays
        return [everything for _ in expected]
    b = np.asarray(boxes, dtype=np.float64)[None, :, :]
    keep = np.zeros((len(expected), len(boxes)), dtype=bool)
    for mine in (expected, first):
        a = np.asarray(mine, dtype=np.float64)[:, None, :]
        # Sums of the two widths and heights: boxes overlap only where their centres are
        # within half of those, and _distance is the centres' distance in mean widths.
        w = np.abs(a[..., 1] - a[..., 3]) + np.abs(b[..., 1] - b[..., 3])
        h = np.abs(a[..., 2] - a[..., 0]) + np.abs(b[..., 2] - b[..., 0])
        far = reach * w / 2
        keep |= ((np.abs((a[..., 1] + a[..., 3]) - (b[..., 1] + b[..., 3])) / 2
                  <= np.maximum(far, w / 2) + 1)
                 & (np.abs((a[..., 0] + a[..., 2]) - (b[..., 0] + b[..., 2])) / 2
                    <= np.maximum(far, h / 2) + 1))
    return [np.nonzero(row)[0].tolist() for row in keep]


def _fast(track: Track, frame: int, reach: float) -> bool:
    """Whether a track is moving more than `reach` box widths between its last sighting and
    `frame`. Not a new track: its speed is unknown, and one seen once beside a consented pupil
    would take the pupil's box and cover the pupil."""
    if len(track.sightings) < 2:
        return False
    dx, dy = velocity([(f, b) for f, b, _ in track.sightings[-2:]])
    last = track.sightings[-1][1]
    width = max(1, last[1] - last[3])
    return bool(((dx * dx + dy * dy) ** 0.5) * (frame - track.last) > reach * width)


@dataclass(frozen=True)
class TrackName:
    person_id: int | None
    distance: float | None
    margin: float | None
    near_person_ids: frozenset[int]
    votes: int  # for person_id (or for nobody)


def vote(best: list[Match], everyone: list[Match], *, share: float = 0.6,
         min_votes: int = 2) -> TrackName:
    """The track's name from the matches of its best frames; `everyone`: all its frames'
    matches (for who is near). A single usable frame is enough when it is all there is."""
    near = frozenset({p for m in everyone for p in m.near_person_ids}
                     | {m.person_id for m in everyone if m.person_id is not None})
    counts = Counter(m.person_id for m in best)
    named = [p for p in counts if p is not None]
    if len(named) != 1 or not best:
        return TrackName(None, None, None, near, counts.get(None, 0))
    person = named[0]
    n = counts[person]
    enough = n >= min(min_votes, len(best)) and n >= share * len(best)
    if not enough:
        return TrackName(None, None, None, near, counts.get(None, 0))
    mine = [m for m in best if m.person_id == person]
    distances = sorted(m.distance for m in mine if m.distance is not None)
    margins = [m.margin for m in mine if m.margin is not None]
    return TrackName(person, distances[len(distances) // 2] if distances else None,
                     min(margins) if margins else None, near, n)


def ambiguous_pairs(spans: list[tuple[int, int, int | None]]) -> set[int]:
    """Indexes of tracks ((first, last, person)) named as a person another track is named as
    at an overlapping time: a person cannot be in two places at once."""
    by_person: dict[int, list[int]] = defaultdict(list)  # only named tracks can clash
    for i, (_, _, person) in enumerate(spans):
        if person is not None:
            by_person[person].append(i)
    out: set[int] = set()
    for mine in by_person.values():
        for k, i in enumerate(mine):
            a0, a1, _ = spans[i]
            for j in mine[k + 1:]:
                b0, b1, _ = spans[j]
                if a0 <= b1 and b0 <= a1:
                    out |= {i, j}
    return out


def _span(a: Box4, b: Box4) -> Box4:
    """The smallest box holding both."""
    return (min(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))


def at_edge(b: Box4, size: tuple[int, int]) -> bool:
    """Whether a face's box is cut by the frame's edge or within half its width of it."""
    w, h = size
    m = max(4.0, 0.5 * (b[1] - b[3]))
    return b[3] <= m or b[0] <= m or b[1] >= w - m or b[2] >= h - m


def _gone(b: Box4, size: tuple[int, int]) -> bool:
    return b[1] <= 0 or b[2] <= 0 or b[3] >= size[0] or b[0] >= size[1]


def _beyond(end: Box4, dx: float, dy: float, d: int, pad: int, hold: int,
            size: tuple[int, int] | None) -> Box4 | None:
    """The box `d` frames past a track's end (before its first or after its last sighting):
    the end box spanned to where its motion takes it; held past `pad` only at the edge."""
    ahead = shifted(end, dx * d, dy * d)
    if d <= pad:
        return _span(end, ahead)
    if size is None or d > pad + hold or not at_edge(end, size) or _gone(ahead, size):
        return None
    return _span(end, ahead)


def cover_box(sightings: Sequence[tuple[int, Box4]], frame: int, pad: int, *, hold: int = 0,
              size: tuple[int, int] | None = None) -> Box4 | None:
    """Where the track must be covered on `frame` ((frame, box) ascending), or None.

    Within `pad` frames before the first or after the last sighting the face may have stopped
    or gone on as it moved: the box spans both the end box and where its motion there would
    have taken it (a face entering or leaving fast, or blurred past the detector). Where that
    end is at the edge of a frame of `size` (width, height), `hold` frames more, until the
    motion takes the face wholly out of the picture."""
    if not sightings:
        return None
    if frame <= sightings[0][0]:
        dx, dy = velocity(sightings[:2])
        return _beyond(sightings[0][1], -dx, -dy, sightings[0][0] - frame, pad, hold, size)
    if frame >= sightings[-1][0]:
        dx, dy = velocity(sightings[-2:])
        return _beyond(sightings[-1][1], dx, dy, frame - sightings[-1][0], pad, hold, size)
    # The first two sightings around `frame` (found by halving: a long track has thousands).
    after = bisect_left(sightings, frame, key=itemgetter(0))
    (f0, b0), (f1, b1) = sightings[after - 1], sightings[after]
    if frame == f1:
        return b1
    t = (frame - f0) / (f1 - f0)
    mid = [v0 + t * (v1 - v0) for v0, v1 in zip(b0, b1, strict=True)]
    grow = [abs(v1 - v0) / 2 for v0, v1 in zip(b0, b1, strict=True)]
    return (int(mid[0] - grow[0]), int(mid[1] + grow[1] + 1),
            int(mid[2] + grow[2] + 1), int(mid[3] - grow[3]))


def reach_of(sightings: Sequence[tuple[int, Box4]], pad: int, hold: int) -> tuple[int, int]:
    """The frames outside which `cover_box` (with this `pad` and `hold`) covers nothing of the
    track: a render asks only the tracks whose reach holds the frame."""
    return sightings[0][0] - pad - hold, sightings[-1][0] + pad + hold
