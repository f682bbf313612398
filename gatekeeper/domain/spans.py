"""Covers that hold for part of a video: which frames a time span reaches, and which of the
editors' rectangles apply on a frame. Pure: milliseconds, frame rates and frame numbers in.

Frame `i` is on screen from i/fps to (i+1)/fps; a span from `start` to `end` covers every frame
on screen at any moment of it, so a span ending exactly where a frame begins leaves that frame
alone and one ending inside a frame covers it. Rounding only ever adds a frame, never drops one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gatekeeper.domain.redact import Region
from gatekeeper.errors import InvalidInput


@dataclass(frozen=True)
class TimedRegion(Region):
    """A rectangle covered on frames `first` to `last` (inclusive) only."""

    first: int = 0
    last: int = 0


def span_frames(start_ms: int, end_ms: int, fps: float) -> tuple[int, int] | None:
    """(first, last) frame on screen between `start_ms` and `end_ms`, or None when empty."""
    if end_ms <= start_ms or fps <= 0:
        return None
    first = max(0, math.floor(start_ms * fps / 1000))
    last = math.ceil(end_ms * fps / 1000) - 1
    return (first, last) if last >= first else None


def frames_span_ms(first: int, last: int, fps: float) -> tuple[int, int]:
    """The span in whole milliseconds that covers frames `first` to `last` (at least those)."""
    return math.floor(first * 1000 / fps), math.ceil((last + 1) * 1000 / fps)


def regions_on(covers: Sequence[Region], frame: int) -> list[Region]:
    """The rectangles to cover on `frame`: every untimed one and each timed one whose span
    reaches it."""
    return [c for c in covers
            if not isinstance(c, TimedRegion) or c.first <= frame <= c.last]


def holds_throughout(cover: Region, first: int, last: int) -> bool:
    """Whether `cover` is on every frame from `first` to `last` (a track's sightings)."""
    return not isinstance(cover, TimedRegion) or (cover.first <= first and last <= cover.last)


def lifted_on(cover: Region, spared: set[int]) -> list[Region]:
    """`cover` on every frame it reaches but the `spared` ones: timed rectangles over the runs
    of frames left (an untimed cover's last run reaches as far as any frame could, whatever
    the stored frame count says)."""
    if isinstance(cover, TimedRegion):
        first, last = cover.first, cover.last
    else:
        first, last = 0, 2**31 - 1
    lifted = sorted(f for f in spared if first <= f <= last)
    if not lifted:
        return [cover]
    plain = Region(cover.x0, cover.y0, cover.x1, cover.y1)
    out: list[Region] = []
    start = first
    for f in lifted:
        if f > start:
            out.append(TimedRegion(*_corners(plain), start, f - 1))
        start = f + 1
    if start <= last:
        out.append(TimedRegion(*_corners(plain), start, last))
    return out


def _corners(r: Region) -> tuple[int, int, int, int]:
    return r.x0, r.y0, r.x1, r.y1


Box = tuple[int, int, int, int]  # top, right, bottom, left (the face engine's order)


def box_at(sightings: Sequence[tuple[int, Box]], frame: int) -> Box | None:
    """Where a track is on `frame` ((frame, box) ascending): its box there, interpolated
    between two sightings, or None outside its first and last sighting (for drawing only;
    covering pads in time and space, see domain.tracks.cover_box)."""
    if not sightings or not sightings[0][0] <= frame <= sightings[-1][0]:
        return None
    for (f0, b0), (f1, b1) in zip(sightings, sightings[1:], strict=False):
        if f0 <= frame <= f1:
            t = (frame - f0) / (f1 - f0) if f1 > f0 else 0.0
            top, right, bottom, left = (round(v0 + t * (v1 - v0))
                                        for v0, v1 in zip(b0, b1, strict=True))
            return (top, right, bottom, left)
    return sightings[0][1]  # a single sighting, on its own frame


def clock_seconds(text: str) -> float:
    """A moment of a video as people write it: seconds ("12", "12.5") or minutes:seconds
    ("1:05"); anything else, or not a finite number, is refused with what was typed."""
    parts = text.strip().split(":")
    try:
        if len(parts) > 2 or not all(p.strip() for p in parts):
            raise ValueError
        minutes = int(parts[0]) if len(parts) == 2 else 0
        seconds = float(parts[-1])
        if minutes < 0 or (len(parts) == 2 and not 0 <= seconds < 60):
            raise ValueError
        value = minutes * 60 + seconds
    except ValueError:
        raise InvalidInput(f"a time must be seconds (12.5) or minutes:seconds (1:05), "
                           f"not {text.strip()!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"a time must be a number of seconds, not {text.strip()!r}")
    if value < 0:
        raise InvalidInput(f"a time is counted from the start of the video (0 s), so it "
                           f"cannot be {text.strip()!r}")
    return value
