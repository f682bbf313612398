"""Scanning a video: faces on sampled frames, linked into tracks, each track named by votes.

Every `step`-th frame is searched with the photo engine (`ctx.faces.find_faces`) and its usable
faces identified together, as one photo (a person twice in a frame is ambiguous); the boxes are
linked into tracks (`domain.tracks.link`), each track named by the votes of its best frames, and
stored as one Face row: its best box, its name, and the box of every sampled frame (`frames`),
from which publishing covers it on every frame. The policy then decides per track as per face.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PIL import Image
from sqlalchemy import update

from consent_db.models import Face, Photo, utcnow
from gatekeeper.adapters.video import read_frames
from gatekeeper.domain.fusion import Gallery
from gatekeeper.domain.matching import UNKNOWN, Match
from gatekeeper.domain.tracks import Box4, Track, ambiguous_pairs, link, vote
from gatekeeper.services.consent.gallery import identify_faces
from gatekeeper.services.context import Context
from gatekeeper.services.records import get_photo

if TYPE_CHECKING:  # the engine's module loads the networks: only where it is used
    from gatekeeper.adapters.faces import FoundFace

BEST_FRAMES = 5  # a track's name is voted by at most this many of its best frames


def sample_step(fps: float | None, scan_fps: float) -> int:
    """Search every n-th frame so that about `scan_fps` frames a second are searched."""
    return max(1, round((fps or 25.0) / max(scan_fps, 0.1)))


def pad_frames(step: int) -> int:
    """Frames a track stays covered before its first and after its last sighting: a face the
    detector found late (turning in, entering, blurred) was there on the samples between."""
    return 2 * step + 2


EDGE_HOLD_S = 2.0  # how long a face cut by the frame's edge is covered once the detector lost it


def edge_hold(fps: float | None) -> int:
    """Frames a track that ends at the frame's edge stays covered past its pad (until its motion
    takes it out): a face leaving or entering is cut by the edge, and half a face is one the
    detector no longer finds but a viewer may still know."""
    return round(EDGE_HOLD_S * (fps or 25.0))


def _box(f: FoundFace) -> Box4:
    return (f.box.top, f.box.right, f.box.bottom, f.box.left)


def _rank(f: FoundFace) -> tuple[bool, float]:
    return (f.quality.value == "ok", f.box.width * f.score)


def _heartbeat(ctx: Context, photo_id: int) -> None:
    """A long scan keeps its claim fresh, so no sweep takes it for a dead worker's."""
    with ctx.uow() as uow:
        uow.session.execute(update(Photo).where(Photo.id == photo_id)
                            .values(scan_started_at=utcnow()))
        uow.commit()


def find_tracks(*, ctx: Context, photo_id: int, data: bytes, gallery: Gallery) -> list[Face]:
    """The video's face tracks as unsaved Face rows (scan.py saves and decides them)."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        width, height, fps = photo.width, photo.height, photo.fps
    step = sample_step(fps, ctx.settings.video_scan_fps)
    beat_every = max(5.0, ctx.settings.scan_stuck_after_s / 3)
    last_beat = time.monotonic()
    found: dict[tuple[int, int], FoundFace] = {}
    matched: dict[tuple[int, int], Match] = {}
    sampled: list[tuple[int, list[Box4]]] = []
    for index, frame in enumerate(read_frames(data, width, height)):
        if index % step:
            continue
        faces = ctx.faces.find_faces(Image.fromarray(frame), look_sideways=False,
                                     encode=len(gallery) > 0)
        usable = [f for f in faces if f.encoding is not None]
        by_face = {id(f): m for f, m in zip(usable, identify_faces(usable, gallery, ctx.settings),
                                            strict=True)}
        for k, f in enumerate(faces):
            found[(index, k)] = f
            matched[(index, k)] = by_face.get(id(f), UNKNOWN)
        sampled.append((index, [_box(f) for f in faces]))
        if time.monotonic() - last_beat > beat_every:
            _heartbeat(ctx, photo_id)
            last_beat = time.monotonic()
    tracks = link(sampled, max_gap=3 * step)
    return _rows(tracks, found, matched)


def _rows(tracks: list[Track], found: dict[tuple[int, int], FoundFace],
          matched: dict[tuple[int, int], Match]) -> list[Face]:
    names = []
    for t in tracks:
        keys = [(frame, k) for frame, _, k in t.sightings]
        usable = [key for key in keys if found[key].encoding is not None]
        best = sorted(usable, key=lambda key: _rank(found[key]), reverse=True)[:BEST_FRAMES]
        names.append(vote([matched[k] for k in best], [matched[k] for k in keys]))
    twice = ambiguous_pairs([(t.first, t.last, n.person_id) for t, n in zip(tracks, names,
                                                                             strict=True)])
    rows = []
    for i, (t, name) in enumerate(zip(tracks, names, strict=True)):
        keys = [(frame, k) for frame, _, k in t.sightings]
        top = found[max(keys, key=lambda key: _rank(found[key]))]
        person = None if i in twice else name.person_id
        rows.append(Face(
            top=top.box.top, right=top.box.right, bottom=top.box.bottom, left=top.box.left,
            score=top.score, rotation=0, quality=top.quality.value, person_id=person,
            distance=name.distance if person else None, margin=name.margin if person else None,
            near_person_ids=sorted(name.near_person_ids), decided_by="auto",
            frames=[[frame, *box] for frame, box, _ in t.sightings],
        ))
    return rows

