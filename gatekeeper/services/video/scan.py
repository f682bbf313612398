"""Scanning a video: faces on sampled frames, linked into tracks, each track named by votes.

Every `step`-th frame is searched with the photo engine (`ctx.faces.find_faces`, without
encodings; in a crowd the YuNet gate is asked, and the second look sifted, only every
GATE_RETRY samples), and the frame after it tells how far each face moved (adapters/motion.py:
a new track's speed, so a fast face found now and then is followed); the boxes are linked into
tracks (`domain.tracks.link`). Then, in further
passes over the frames, only each track's best frames are encoded and identified (at most
BEST_FRAMES, by quality, size and score): the best one first; a track it leaves FAR_SD impostor
SDs or more from being named or near anybody (a crowd's stranger) is settled by it; the others
get the rest of the first FIRST_LOOK, and those that raised somebody all BEST_FRAMES. Each
frame's chosen faces are identified together as one photo (a person twice in a frame is
ambiguous). A track is named by the votes of its best frames whichever way, and encoding every
face of every sampled frame was most of a scan's time. Each track is stored as one Face row: its
best box, its name, and the box of every sampled frame (`frames`), from which publishing covers
it on every frame (a face seen once whose speed was measured: also where that took it on the
next frame). The policy then decides per track as per face.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from sqlalchemy import select, update

from consent_db.models import Face, Person, Photo, utcnow
from gatekeeper.adapters.engine.found import IDENTIFIABLE, Box, FaceQuality
from gatekeeper.adapters.motion import face_motion, gray
from gatekeeper.adapters.video import pick_frames, played
from gatekeeper.domain.fusion import Gallery
from gatekeeper.domain.matching import UNKNOWN, Match
from gatekeeper.domain.tracks import Box4, Track, ambiguous_pairs, link, shifted, vote
from gatekeeper.services.consent.gallery import identify_faces
from gatekeeper.services.context import Context
from gatekeeper.services.records import get_photo

if TYPE_CHECKING:  # the engine's module loads the networks: only where it is used
    from gatekeeper.adapters.faces import FaceEngine, FoundFace

BEST_FRAMES = 5  # a track's name is voted by at most this many of its best frames
FIRST_LOOK = 3  # encoded first; the rest of the best only where these raised somebody
# A track whose best frame leaves this many impostor SDs of room before anybody would be named
# or near is settled by that frame alone (see find_tracks).
FAR_SD = 2.5
GATE_RETRY = 5  # in a crowd, the YuNet gate is asked again on every GATE_RETRY-th sample
# ... and the second look's windows are sifted again on every GATE_RETRY-th sample once a
# sifting kept this share of them: then it costs more than the looks it saves (a 720p crowd:
# 75 % kept; the search 9.4 -> 8.8 CPU s for 20 frames without sifting, the same faces).
SIFT_KEEPS = 0.7


# A frame rate is the file's timestamps, which its writer sets: however fast they claim the
# frames go, never more than this many frames between two searched ones (5 a second at 60 fps;
# a phone's 240 fps slow motion is searched more often than it needs, never less).
MAX_STEP = 12


def sample_step(fps: float | None, scan_fps: float) -> int:
    """Search every n-th frame so that about `scan_fps` frames a second are searched, and at
    least one frame in MAX_STEP."""
    return min(MAX_STEP, max(1, round((fps or 25.0) / max(scan_fps, 0.1))))


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


def _rank(f: FoundFace) -> tuple[int, float]:
    """Sharp before soft before unidentifiable, then larger and surer."""
    return (2 if f.quality is FaceQuality.OK else int(f.quality in IDENTIFIABLE),
            f.box.width * f.score)


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
        _as_played(photo, data)
        width, height, fps = photo.width, photo.height, photo.fps
        uow.commit()
    step = sample_step(fps, ctx.settings.video_scan_fps)
    beat = _Beat(ctx, photo_id)
    found: dict[tuple[int, int], FoundFace] = {}
    sampled: list[tuple[int, list[Box4]]] = []
    search = _Search(ctx.faces)
    speeds: dict[tuple[int, int], tuple[float, float]] = {}
    ahead: tuple[int, np.ndarray, list[Box4]] | None = None  # the last sample's gray, boxes

    decoded = 0  # frames the decoder gave: the count publishing will see

    def wanted(i: int) -> bool:  # a sample, or the frame after one with faces (read lazily)
        nonlocal decoded
        decoded = i + 1
        return i % step == 0 or (ahead is not None and ahead[0] == i - 1)

    for index, frame in pick_frames(data, width, height, wanted):
        if index % step:  # the frame after a sample: how far its faces moved
            if ahead is not None:
                speeds |= _speeds(ahead, gray(frame))
            continue
        faces = search(Image.fromarray(frame))
        for k, f in enumerate(faces):
            found[(index, k)] = f
        boxes = [_box(f) for f in faces]
        sampled.append((index, boxes))
        ahead = (index, gray(frame), boxes) if boxes and step > 1 else None
        beat()
    _decoded(ctx, photo_id, decoded)
    tracks = link(sampled, max_gap=3 * step, speeds=speeds)
    best = {id(t): _best_keys(t, found) for t in tracks}
    # The best frame of every track first. A track it places far from everyone (a crowd's
    # stranger) is settled by it; the others get the first look's other frames, and a track
    # whose first look raised somebody (named or near) the rest of its best frames.
    # Not where someone with a safeguarding flag is enrolled: anyone near them blocks the video,
    # so every track gets its whole first look.
    settle = not _watched(ctx, gallery)
    # The first pass keeps the faces the later passes may encode, so they decode nothing again
    # (within the crops' budget: past it, a pass decodes the frames it wants as before).
    crops = _Crops(width, height, {k for keys in best.values() for k in keys[1:]})
    matched = _identify(ctx, data, width, height, found, {keys[0] for keys in best.values()
                                                          if keys}, gallery, beat, crops)
    rest = {k for keys in best.values() if not (settle and _far(keys[:1], matched))
            for k in keys[1:BEST_FRAMES if _raised(keys[:1], matched) else FIRST_LOOK]}
    matched |= _identify(ctx, data, width, height, found, rest, gallery, beat, crops)
    late = {k for keys in best.values() if _raised(keys[:FIRST_LOOK], matched)
            for k in keys[FIRST_LOOK:] if k not in matched and k not in rest}
    matched |= _identify(ctx, data, width, height, found, late, gallery, beat, crops)
    return _rows(tracks, {i: [k for k in keys if k in matched] for i, keys in best.items()},
                 found, matched)


def _as_played(photo: Photo, data: bytes) -> None:
    """The stored duration and rate as the picture stream plays them: a movie recorded before
    ingest checked its header against its frames may carry the header's (one claiming 0.1 s for
    4 s would have one frame searched); the publish goes by them too. The frame count is the
    decoder's, kept after the search (_decoded)."""
    plays = played(data)
    if abs((photo.duration_s or 0) - plays.seconds) > 0.05:
        photo.duration_s = plays.seconds
        photo.fps = plays.frames / plays.seconds if plays.seconds > 0 else photo.fps


def _decoded(ctx: Context, photo_id: int, frames: int) -> None:
    """The frame count as the decoder gave the frames (packets before a clip's first keyframe,
    as a stream copy cut mid-group leaves them, are counted by the stream but never shown)."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if frames and photo.frame_count != frames:
            photo.frame_count = frames
            uow.commit()


def _speeds(ahead: tuple[int, np.ndarray, list[Box4]], after: np.ndarray
            ) -> dict[tuple[int, int], tuple[float, float]]:
    """The measured motion of each face of a sample to the frame after it (where sure)."""
    index, before, boxes = ahead
    out = {}
    for k, box in enumerate(boxes):
        moved = face_motion(before, after, box)
        if moved is not None:
            out[(index, k)] = moved
    return out


def _watched(ctx: Context, gallery: Gallery) -> bool:
    """Whether anyone in the gallery carries a safeguarding "never photograph" flag."""
    if len(gallery) == 0:
        return False
    ids = sorted({int(i) for i in gallery.person_ids})
    with ctx.uow() as uow:
        return uow.session.scalar(select(Person.id).where(
            Person.safeguarding_no_photo.is_(True), Person.id.in_(ids)).limit(1)) is not None


def _raised(keys: list[tuple[int, int]], matched: dict[tuple[int, int], Match]) -> bool:
    return any(k in matched and (matched[k].person_id is not None or matched[k].near_person_ids)
               for k in keys)


def _far(keys: list[tuple[int, int]], matched: dict[tuple[int, int], Match]) -> bool:
    """Whether each of these frames was encoded and left at least FAR_SD impostor standard
    deviations of room before anybody would be named or near (domain.fusion)."""
    rooms = [matched[k].headroom if k in matched else None for k in keys]
    return all(room is not None and room >= FAR_SD for room in rooms)


class _Search:
    """How each sampled frame is searched. A crowd stays a crowd from one sample to the next, so
    what the engine's shortcuts were worth on one sample holds for the next few. The YuNet gate
    of the working pass is not asked on the GATE_RETRY - 1 samples after one where it found a
    crowd (its windows covered most of the frame, so the whole frame was searched): the whole
    frame is searched, as the gate would have had it searched. The second look's windows are not
    sifted on the GATE_RETRY - 1 samples after one where the sifting kept SIFT_KEEPS of them or
    more: every window is looked at (a superset of the looks)."""

    def __init__(self, engine: FaceEngine) -> None:
        self.engine = engine
        self.crowd_left = 0  # samples still searched whole without asking the gate
        self.sift_left = 0  # samples still looked at without sifting

    def __call__(self, img: Image.Image) -> list[FoundFace]:
        ask, sift = self.crowd_left == 0, self.sift_left == 0
        faces = self.engine.find_faces(img, look_sideways=False, encode=False, ask_gate=ask,
                                       sift=sift)
        self.crowd_left = (GATE_RETRY - 1 if self.engine.gate_crowded else 0) if ask else (
            self.crowd_left - 1)
        kept = self.engine.sift_kept
        self.sift_left = (GATE_RETRY - 1 if kept is not None and kept >= SIFT_KEEPS else 0) if (
            sift) else self.sift_left - 1
        return faces


class _Beat:
    """Keeps a long scan's claim fresh, at most every third of the stuck-scan limit."""

    def __init__(self, ctx: Context, photo_id: int) -> None:
        self.ctx, self.photo_id = ctx, photo_id
        self.every = max(5.0, ctx.settings.scan_stuck_after_s / 3)
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last > self.every:
            _heartbeat(self.ctx, self.photo_id)
            self.last = time.monotonic()


def _best_keys(track: Track, found: dict[tuple[int, int], FoundFace]) -> list[tuple[int, int]]:
    """The track's sightings worth encoding: its best usable ones, at most BEST_FRAMES."""
    keys = [(frame, k) for frame, _, k in track.sightings]
    usable = [key for key in keys if found[key].quality in IDENTIFIABLE]
    return sorted(usable, key=lambda key: _rank(found[key]), reverse=True)[:BEST_FRAMES]


def _identify(ctx: Context, data: bytes, width: int, height: int,
              found: dict[tuple[int, int], FoundFace], chosen: set[tuple[int, int]],
              gallery: Gallery, beat: _Beat, crops: _Crops) -> dict[tuple[int, int], Match]:
    """The chosen faces encoded on their frames and identified, each frame's together with
    its faces encoded by an earlier pass (a person twice in one frame is ambiguous whichever
    pass encoded which: their matches are returned again, to replace the earlier ones); an
    empty gallery names nobody, so nothing is encoded. A face `crops` kept is encoded on its
    crop; the frames of the others are decoded (a further pass over the video), and on them
    `crops` keeps the faces a later pass may want."""
    if not chosen or len(gallery) == 0:
        return {}
    by_frame: dict[int, list[int]] = {}
    for frame, k in chosen:
        by_frame.setdefault(frame, []).append(k)
    matched: dict[tuple[int, int], Match] = {}

    def identified(index: int) -> None:
        usable = [(k, found[(index, k)]) for k in range(_count(found, index))
                  if found[(index, k)].encoding is not None]
        for (k, _), m in zip(usable, identify_faces([f for _, f in usable], gallery,
                                                    ctx.settings), strict=True):
            matched[(index, k)] = m
        beat()

    decode = {f for f, ks in by_frame.items() if not all((f, k) in crops for k in ks)}
    for index in sorted(set(by_frame) - decode):
        for k in sorted(by_frame[index]):
            crops.encode(ctx.faces, (index, k), found[(index, k)])
        identified(index)
    wanted = decode | crops.frames_to_keep()
    if not wanted:
        return matched
    for index, pixels in pick_frames(data, width, height, wanted.__contains__, max(wanted)):
        crops.keep(index, pixels, found)
        if index not in decode:
            continue
        ks = sorted(by_frame[index])
        ctx.faces.encode_found(Image.fromarray(pixels), [found[(index, k)] for k in ks])
        crops.drop((index, k) for k in ks)  # encoded on the frame: their crops serve no pass
        identified(index)
    return matched


class _Crops:
    """The faces a later identification pass may encode, cut from the frames an earlier pass
    decoded (each with a margin of its own size: all dlib and SFace read of it), at most
    MAX_BYTES of them: a later pass that finds all its faces kept decodes no frame again (a
    pass over a long video decodes every frame up to the last it wants). A crop starts on a
    multiple of ALIGN pixels, where dlib's image pyramid samples the frame's own pixels: its
    vector is the one the whole frame gives to within float rounding, as when a face is
    encoded beside others on its frame (SFace's is cut from the landmarks alone: the same)."""

    MAX_BYTES = 128 * 1024 * 1024
    ALIGN = 64

    def __init__(self, width: int, height: int, wanted: set[tuple[int, int]]) -> None:
        self.width, self.height = width, height
        self.wanted = wanted
        self.asked = False
        self.kept: dict[tuple[int, int], tuple[np.ndarray, int, int]] = {}
        self.bytes = 0

    def __contains__(self, key: tuple[int, int]) -> bool:
        return key in self.kept

    def frames_to_keep(self) -> set[int]:
        """The frames holding faces to keep, to the first pass that asks (it keeps them)."""
        frames, self.asked = ({f for f, _ in self.wanted} if not self.asked else set()), True
        return frames

    def keep(self, index: int, pixels: np.ndarray,
             found: dict[tuple[int, int], FoundFace]) -> None:
        for n in range(_count(found, index)):
            key = (index, n)
            if key not in self.wanted or key in self.kept:
                continue
            x0, y0, x1, y1 = self._around(found[key])
            crop = np.ascontiguousarray(pixels[y0:y1, x0:x1])
            if self.bytes + crop.nbytes > self.MAX_BYTES:
                continue  # past the budget: a later pass decodes its frame again
            self.kept[key] = (crop, x0, y0)
            self.bytes += crop.nbytes

    def drop(self, keys: Iterable[tuple[int, int]]) -> None:
        for key in keys:
            item = self.kept.pop(key, None)
            if item is not None:
                self.bytes -= item[0].nbytes

    def encode(self, engine: FaceEngine, key: tuple[int, int], face: FoundFace) -> None:
        """Encode `face` (found at `key`) on its kept crop, its vectors set on it."""
        crop, x0, y0 = self.kept.pop(key)
        self.bytes -= crop.nbytes
        b = face.box
        moved = replace(face, box=Box(b.top - y0, b.right - x0, b.bottom - y0, b.left - x0),
                        landmarks=None if face.landmarks is None else tuple(
                            (x - x0, y - y0) for x, y in face.landmarks))
        engine.encode_found(Image.fromarray(crop), [moved])
        face.encoding, face.sface_encoding = moved.encoding, moved.sface_encoding

    def _around(self, face: FoundFace) -> tuple[int, int, int, int]:
        b, a = face.box, self.ALIGN
        m = max(b.width, b.height)
        x0, y0 = max(0, b.left - m) // a * a, max(0, b.top - m) // a * a
        return (x0, y0, min(self.width, -(-(b.right + m) // a) * a),
                min(self.height, -(-(b.bottom + m) // a) * a))


def _count(found: dict[tuple[int, int], FoundFace], frame: int) -> int:
    """How many faces the search found on `frame` (numbered from 0)."""
    n = 0
    while (frame, n) in found:
        n += 1
    return n


def _rows(tracks: list[Track], best: dict[int, list[tuple[int, int]]],
          found: dict[tuple[int, int], FoundFace],
          matched: dict[tuple[int, int], Match]) -> list[Face]:
    names = []
    for t in tracks:
        mine = [matched.get(k, UNKNOWN) for k in best[id(t)]]
        names.append(vote(mine, mine))
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
            frames=_frames(t),
        ))
    return rows


def _frames(track: Track) -> list[list[int]]:
    """The box of each sighting; for a face seen once whose speed was measured, where that
    speed put it on the next frame too: covering then follows it for its pad (a fast face
    found once would otherwise be covered only where it stood, and be gone from there)."""
    rows = [[frame, *box] for frame, box, _ in track.sightings]
    if len(rows) == 1 and track.speed is not None and max(map(abs, track.speed)) >= 0.5:
        dx, dy = track.speed
        rows.append([track.first + 1, *shifted(track.sightings[0][1], dx, dy)])
    return rows
