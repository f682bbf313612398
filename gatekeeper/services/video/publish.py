"""Rendering a video for a channel: decode every frame, cover every track that may not be shown
(padded in time and space), the editors' rectangles on every frame, and encode a new H.264 MP4
from the pixels alone: no sound, no metadata. A movie that still carries anything it must not
(`domain.movie.leftovers`, read back by the box reader) is never returned.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from consent_db.models import Photo
from gatekeeper.adapters.video import encode, read_frames
from gatekeeper.domain.movie import leftovers, read_movie
from gatekeeper.domain.policy import PhotoDecision, Verdict
from gatekeeper.domain.redact import Region, cover, head_region
from gatekeeper.domain.spans import regions_on
from gatekeeper.domain.tracks import Box4, cover_box
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidImage
from gatekeeper.services.context import Context
from gatekeeper.services.facts import cover_regions
from gatekeeper.services.video.scan import pad_frames, sample_step


def hidden_tracks(photo: Photo, decision: PhotoDecision) -> list[list[tuple[int, Box4]]]:
    """The sightings of every track not shown; a face without per-frame boxes is covered where
    its box is on every frame (fail closed)."""
    out = []
    for f in photo.faces:
        if decision.faces.get(f.id) is Verdict.SHOW:
            continue
        if f.frames:
            out.append([(int(r[0]), (int(r[1]), int(r[2]), int(r[3]), int(r[4])))
                        for r in f.frames])
        else:
            out.append([(0, (f.top, f.right, f.bottom, f.left)),
                        (max(0, (photo.frame_count or 1) - 1), (f.top, f.right, f.bottom, f.left))])
    return out


def covered_frames(frames: Iterator[np.ndarray], hidden: list[list[tuple[int, Box4]]],
                   covers: list[Region], pad: int, ctx: Context) -> Iterator[np.ndarray]:
    """Each frame with the hidden tracks' heads and the rectangles covered."""
    for index, frame in enumerate(frames):
        h, w = frame.shape[:2]
        regions = [(r, False) for r in regions_on(covers, index)]
        for sightings in hidden:
            box = cover_box(sightings, index, pad)
            if box is not None:
                regions.append((head_region(*box, w, h), True))
        yield np.asarray(cover(Image.fromarray(frame), regions, ctx.settings.cover_mode)) \
            if regions else frame


def render_video(*, ctx: Context, photo: Photo, decision: PhotoDecision, data: bytes,
                 channel: Channel, covers: list[Region] | None = None) -> bytes:
    """The exact MP4 that would be published for this video, decision and channel."""
    rule = ctx.settings.channel_rule(channel)
    boxes = covers if covers is not None else cover_regions(photo)
    pad = pad_frames(sample_step(photo.fps, ctx.settings.video_scan_fps))
    frames = covered_frames(read_frames(data, photo.width, photo.height),
                            hidden_tracks(photo, decision), boxes, pad, ctx)
    out = encode(frames, photo.width, photo.height, photo.fps or 25.0,
                 max_side=rule.max_side, crf=ctx.settings.video_crf)
    left = leftovers(read_movie(out))
    if left:
        raise InvalidImage(f"published video would still carry: {', '.join(left)}")
    return out
