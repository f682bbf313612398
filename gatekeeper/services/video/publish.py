"""Rendering a video for a channel: decode every frame, cover every track that may not be shown
(padded in time and space; a shown face seen in front of tracks lost behind it is left to be
seen, video/front.py), the editors' rectangles on every frame, and encode a new H.264 MP4
from the pixels alone: no metadata, and no sound unless the DPO's option keeps it on the channel
(`video.sound`; then re-encoded as AAC). A movie that still carries anything it must not
(`domain.movie.leftovers`, read back by the box reader) is never returned.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter

import numpy as np

from consent_db.models import Face, Photo
from gatekeeper.adapters.video import encode, read_frames
from gatekeeper.domain.movie import leftovers, read_movie
from gatekeeper.domain.policy import PhotoDecision, Verdict
from gatekeeper.domain.redact import Region, cover_pixels, face_size
from gatekeeper.domain.spans import regions_on
from gatekeeper.domain.tracks import Box4, cover_box, reach_of
from gatekeeper.domain.vocabulary import Channel, CoverMode
from gatekeeper.errors import InvalidImage
from gatekeeper.services.context import Context
from gatekeeper.services.facts import cover_regions
from gatekeeper.services.video.front import FrontFaces, keep, seen_around
from gatekeeper.services.video.scan import edge_hold, pad_frames, sample_step
from gatekeeper.services.video.sound import keeps_sound


def sightings_of(photo: Photo, face: Face) -> list[tuple[int, Box4]]:
    """Where a track is on its sampled frames; a face without per-frame boxes is where its box
    is on every frame (fail closed)."""
    if face.frames:
        return [(int(r[0]), (int(r[1]), int(r[2]), int(r[3]), int(r[4]))) for r in face.frames]
    box = (face.top, face.right, face.bottom, face.left)
    return [(0, box), (max(0, (photo.frame_count or 1) - 1), box)]


def hidden_tracks(photo: Photo, decision: PhotoDecision) -> list[list[tuple[int, Box4]]]:
    """The sightings of every track not shown."""
    return [sightings_of(photo, f) for f in _hidden(photo, decision)]


def _hidden(photo: Photo, decision: PhotoDecision) -> list[Face]:
    return [f for f in photo.faces if decision.faces.get(f.id) is not Verdict.SHOW]


def shown_tracks(photo: Photo, decision: PhotoDecision) -> list[list[tuple[int, Box4]]]:
    """The sightings of every track shown (found on sampled frames; never a track without)."""
    return [sightings_of(photo, f) for f in photo.faces
            if decision.faces.get(f.id) is Verdict.SHOW and f.frames]


def track_region(sightings: Sequence[tuple[int, Box4]], index: int, pad: int, w: int,
                 h: int, hold: int = 0) -> tuple[Region, bool] | None:
    """The head to cover for a track on frame `index` (region, rounded), or None.

    The head is grown around the track's box (interpolated, padded and spread along its motion)
    by the margins of the face's own size at its nearest sighting, as a photo's head is around
    its face: growing by the spread box's size would cover neighbours, a consented pupil among
    them. Corners are rounded as for photos, but square where the head meets the frame's edge
    (a face cut by the edge would be left in a rounded corner). A track ending at the edge is
    held `hold` frames more (`domain.tracks.cover_box`)."""
    box = cover_box(sightings, index, pad, hold=hold, size=(w, h))
    return None if box is None else head_around(box, sightings, index, w, h)


def nearest(sightings: Sequence[tuple[int, Box4]], index: int) -> Box4:
    """The box of the sighting nearest `index` (the earlier of two as near; the first of a
    frame found twice), by halving: a long track has thousands of sightings."""
    at = bisect_left(sightings, index, key=itemgetter(0))  # the first sighting from `index`
    if at < len(sightings) and (at == 0 or sightings[at][0] - index < index - sightings[at - 1][0]):
        return sightings[at][1]
    before = sightings[at - 1][0]
    return sightings[bisect_left(sightings, before, key=itemgetter(0))][1]


def head_around(box: Box4, sightings: Sequence[tuple[int, Box4]], index: int, w: int,
                h: int) -> tuple[Region, bool]:
    """The head around a track's cover box on frame `index` (see track_region)."""
    near = nearest(sightings, index)
    fw, fh = face_size(*near, w, h)
    top, right, bottom, left = box
    region = Region(max(0, int(left - 0.35 * fw)), max(0, int(top - 0.60 * fh)),
                    min(w, int(right + 0.35 * fw + 1)), min(h, int(bottom + 0.25 * fh + 1)))
    inside = region.x0 > 0 and region.y0 > 0 and region.x1 < w and region.y1 < h
    return region, inside


def covered_frames(frames: Iterator[np.ndarray], hidden: list[list[tuple[int, Box4]]],
                   covers: list[Region], pad: int, mode: CoverMode,
                   hold: int = 0, shown: list[list[tuple[int, Box4]]] | None = None,
                   step: int = 1, tracked: list[bool] | None = None) -> Iterator[np.ndarray]:
    """Each frame with the hidden tracks' heads and the rectangles covered. `shown`: the tracks
    shown, whose faces in front are not covered by tracks lost behind them (video/front.py);
    `step`: frames between two samples of the scan; `tracked`: per hidden track, whether it was
    found on sampled frames (a face without frames is where its box is on every frame, never
    lost behind anyone)."""
    front = FrontFaces(shown or [], step)
    reaching = _Reaching(hidden, pad, hold)
    for index, frame in enumerate(frames):
        h, w = frame.shape[:2]
        seen = [(r, False) for r in regions_on(covers, index)]
        lost: list[tuple[Region, bool]] = []
        others: list[Box4] = []  # where the hidden faces are, or may be
        for k in reaching.on(index):
            sightings = hidden[k]
            spread = cover_box(sightings, index, pad, hold=hold, size=(w, h))
            if spread is None:
                continue
            others.append(spread)
            region = head_around(spread, sightings, index, w, h)
            maybe_behind = (tracked is None or tracked[k]) and not seen_around(sightings, index,
                                                                               step)
            (lost if maybe_behind else seen).append(region)
        cores = front.cores(index, frame, others)  # every frame: it remembers the last sighting
        if not cores:
            regions = seen + lost
            yield cover_pixels(frame.copy(), regions, mode) if regions else frame
            continue
        out = cover_pixels(frame.copy(), lost, mode)
        keep(out, frame, cores)
        yield cover_pixels(out, seen, mode) if seen else out


class _Reaching:
    """The hidden tracks whose cover can reach each frame, asked in frame order, each frame's
    in the tracks' order (overlapping covers are drawn in it): a long video holds thousands of
    tracks, and a frame is reached by a few."""

    def __init__(self, hidden: list[list[tuple[int, Box4]]], pad: int, hold: int) -> None:
        spans = [(*reach_of(s, pad, hold), k) for k, s in enumerate(hidden) if s]
        self.starts = sorted(spans)
        self.next = 0  # the first span not yet begun
        self.active: list[tuple[int, int]] = []  # (track, last frame reached), tracks ascending

    def on(self, index: int) -> list[int]:
        """The tracks that may be covered on frame `index` (frames asked in ascending order)."""
        begun = []
        while self.next < len(self.starts) and self.starts[self.next][0] <= index:
            _, end, k = self.starts[self.next]
            begun.append((k, end))
            self.next += 1
        if begun:
            self.active = sorted(self.active + begun)
        self.active = [(k, end) for k, end in self.active if end >= index]
        return [k for k, _ in self.active]


def _beating(frames: Iterator[np.ndarray], beat: Callable[[], None] | None
             ) -> Iterator[np.ndarray]:
    for frame in frames:
        if beat is not None:
            beat()
        yield frame


def render_video(*, ctx: Context, photo: Photo, decision: PhotoDecision, data: bytes,
                 channel: Channel, covers: list[Region] | None = None,
                 keep_sound: bool | None = None,
                 beat: Callable[[], None] | None = None) -> bytes:
    """The exact MP4 that would be published for this video, decision and channel; its sound
    is kept only where `keep_sound` is not False and the channel's option says so. `beat` is
    called at every frame (a long render says it is alive)."""
    rule = ctx.settings.channel_rule(channel)
    sound = keep_sound is not False and keeps_sound(ctx=ctx, channel=channel)
    boxes = covers if covers is not None else cover_regions(photo)
    step = sample_step(photo.fps, ctx.settings.video_scan_fps)
    frames = covered_frames(_beating(read_frames(data, photo.width, photo.height), beat),
                            hidden_tracks(photo, decision), boxes, pad_frames(step),
                            ctx.settings.cover_mode, edge_hold(photo.fps),
                            shown_tracks(photo, decision), step,
                            [bool(f.frames) for f in _hidden(photo, decision)])
    out = encode(frames, photo.width, photo.height, photo.fps or 25.0,
                 max_side=rule.max_side, crf=ctx.settings.video_crf,
                 sound_from=data if sound else None)
    left = leftovers(read_movie(out), sound=sound)
    if left:
        raise InvalidImage(f"published video would still carry: {', '.join(left)}")
    return out
