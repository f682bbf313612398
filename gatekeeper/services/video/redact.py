"""Covering people in place in a stored video (erasure, retention purge) when others in it stay:
the original is rebuilt from its frames with those people's tracks covered solid on every frame,
padded in time and space exactly as publishing pads them, so every later copy (re-rendered from
the new original) starts from pixels in which they are gone.

The rebuilt original keeps its frames, frame rate and size, so the tracks' frame numbers still
hold; it has no sound (a voice or a spoken name cannot be covered) and no tags."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from consent_db.models import Photo
from gatekeeper.adapters.video import encode, read_frames
from gatekeeper.domain.vocabulary import CoverMode
from gatekeeper.services.context import Context
from gatekeeper.services.video.publish import covered_frames, sightings_of
from gatekeeper.services.video.scan import edge_hold, pad_frames, sample_step

ORIGINAL_CRF = 14  # near-lossless: the rebuilt original is the source of every later copy


@dataclass(frozen=True)
class Rebuilt:
    data: bytes  # the new original (H.264 MP4)
    middle: np.ndarray  # its middle frame, covered: the reviewer's picture


def cover_people(*, ctx: Context, photo: Photo, person_ids: set[int], data: bytes) -> Rebuilt:
    """The video with the tracks identified as `person_ids` covered on every frame."""
    hidden = [sightings_of(photo, f) for f in photo.faces if f.person_id in person_ids]
    pad = pad_frames(sample_step(photo.fps, ctx.settings.video_scan_fps))
    middle_at = max(0, (photo.frame_count or 1) // 2)
    kept: list[np.ndarray] = []

    def frames() -> Iterator[np.ndarray]:
        for index, frame in enumerate(covered_frames(
                read_frames(data, photo.width, photo.height), hidden, [], pad, CoverMode.SOLID,
                edge_hold(photo.fps))):
            if index == middle_at or not kept:
                kept[:] = [frame]
            yield frame

    out = encode(frames(), photo.width, photo.height, photo.fps or 25.0, max_side=0,
                 crf=ORIGINAL_CRF)
    return Rebuilt(out, kept[0])
