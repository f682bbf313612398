"""Test clips made by code: the public-domain face fixtures moving over a background, written by
PyAV with QuickTime camera tags (and, if asked, a sound track), with the truth
of where each face is on every frame."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from bench.video import motion_blur
from tests import imagegen

TOM = imagegen.FIXTURES / "tom_cruise.jpg"
EILEEN = imagegen.FIXTURES / "eileen_collins.png"


@dataclass(frozen=True)
class Clip:
    data: bytes
    fps: int
    size: tuple[int, int]
    # per frame, per face name: the pasted tile (x0, y0, x1, y1) in frame pixels
    truth: list[dict[str, tuple[int, int, int, int]]]


def _tiles(face_px: int) -> dict[str, Image.Image]:
    tom = imagegen.load(TOM)
    eileen = imagegen.load(EILEEN).crop((120, 20, 330, 230))
    return {name: img.resize((round(img.width * face_px / img.height), face_px))
            for name, img in (("tom", tom), ("eileen", eileen))}


def frames_of(seconds: float = 2.0, fps: int = 15, size: tuple[int, int] = (640, 360),
              face_px: int = 170) -> tuple[list[np.ndarray], list[dict]]:
    """Tom walks left to right along the top, Eileen right to left lower down."""
    w, h = size
    tiles = _tiles(face_px)
    n = round(seconds * fps)
    frames, truth = [], []
    for i in range(n):
        t = i / max(1, n - 1)
        canvas = Image.new("RGB", size, (90, 130, 90))
        # a little texture so the background is not flat (a flat cover would be trivial)
        stripes = np.asarray(canvas).copy()
        stripes[:, ::16] = (70, 110, 70)
        canvas = Image.fromarray(stripes)
        places = {"tom": (int(10 + t * (w / 2 - 40)), 10),
                  "eileen": (int(w - tiles["eileen"].width - 10 - t * (w / 2 - 40)),
                             h - face_px - 10)}
        boxes = {}
        for name, (x, y) in places.items():
            tile = tiles[name]
            canvas.paste(tile, (x, y))
            boxes[name] = (x, y, x + tile.width, y + tile.height)
        frames.append(np.asarray(canvas))
        truth.append(boxes)
    return frames, truth


def write_mp4(frames: list[np.ndarray], fps: int, *, tags: dict[str, str] | None = None,
              audio: bool = False, container: str = "mp4", keys: bool = True,
              rotation: int = 0) -> bytes:
    """Encode RGB frames as H.264 with PyAV; `tags` as QuickTime metadata (Keys with `keys`,
    else the container's own atoms), a sine tone as AAC sound with `audio`, and a display
    matrix turning the picture by `rotation` degrees counter-clockwise (as a phone writes it)."""
    h, w = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / f"clip.{container}"
        options = {"movflags": "use_metadata_tags"} if keys and tags else {}
        with av.open(str(out_path), mode="w", format="mov" if container == "mov" else "mp4",
                     options=options) as out:
            out.metadata.update(tags or {})
            video = out.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = w, h, "yuv420p"
            video.options = {"crf": "18", "preset": "veryfast"}
            if rotation:
                video.set_display_rotation(rotation)
            sound = out.add_stream("aac", rate=44100) if audio else None
            for i, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = i
                frame.time_base = Fraction(1, fps)
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
            if sound is not None:
                n = round(len(frames) / fps * 44100)
                tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)).astype(np.float32)
                for k, start in enumerate(range(0, n, 1024)):
                    chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024],
                                                       format="fltp", layout="mono")
                    chunk.sample_rate, chunk.pts = 44100, k * 1024
                    out.mux(sound.encode(chunk))
                out.mux(sound.encode(None))
        return out_path.read_bytes()


CAMERA_TAGS = {"make": "Canon", "model": "EOS 250D", "serial": "0123456789",
               "title": "Sports day with Tom Familyname", "comment": "Taken by Mrs Smith",
               "location": "+51.5074-000.1278/", "creation_time": "2026-07-10T10:30:00Z"}


def clip(*, seconds: float = 2.0, fps: int = 15, tags: dict[str, str] | None = None,
         audio: bool = False, container: str = "mp4") -> Clip:
    frames, truth = frames_of(seconds, fps)
    data = write_mp4(frames, fps, tags=CAMERA_TAGS if tags is None else tags, audio=audio,
                     container=container)
    return Clip(data, fps, (frames[0].shape[1], frames[0].shape[0]), truth)


def face_boxes(engine, face_px: int = 170) -> dict[str, tuple[int, int, int, int]]:
    """Each face's detector box inside its tile (x0, y0, x1, y1 relative to the tile)."""
    out = {}
    for name, tile in _tiles(face_px).items():
        [f] = engine.find_faces(tile, look_sideways=False, encode=False)
        out[name] = (f.box.left, f.box.top, f.box.right, f.box.bottom)
    return out


def spread(frame: np.ndarray, clip: Clip, boxes: dict[str, tuple[int, int, int, int]],
           name: str, index: int) -> float:
    """How much the face `name` varies on frame `index` (largest channel's standard deviation):
    a face shown is far above 20, a solid cover below 6."""
    x0, y0 = clip.truth[index][name][:2]
    fx0, fy0, fx1, fy1 = boxes[name]
    region = frame[y0 + fy0:y0 + fy1, x0 + fx0:x0 + fx1].astype(np.float64)
    return float(region.reshape(-1, 3).std(axis=0).max())


@dataclass(frozen=True)
class Mover:
    """One face in a scene: where its tile is on each frame (None: out of the picture), how
    long a horizontal motion blur it has (pixels), and whether a hand hides its lower half."""

    name: str
    place: Callable[[int], tuple[int, int] | None]
    blur: Callable[[int], int] = lambda i: 0
    hand: Callable[[int], bool] = lambda i: False


def scene(movers: list[Mover], *, seconds: float = 2.0, fps: int = 15,
          size: tuple[int, int] = (640, 360), face_px: int = 170) -> Clip:
    """A clip of the fixtures' faces moving as `movers` say, with the truth of each frame
    (only the faces in the picture)."""
    w, h = size
    tiles = _tiles(face_px)
    frames, truth = [], []
    for i in range(round(seconds * fps)):
        canvas = np.full((h, w, 3), (90, 130, 90), np.uint8)
        canvas[:, ::16] = (70, 110, 70)
        img = Image.fromarray(canvas)
        boxes = {}
        for m in movers:
            at = m.place(i)
            if at is None:
                continue
            tile = motion_blur(tiles[m.name], m.blur(i))
            if m.hand(i):
                tile = tile.copy()
                tile.paste((200, 160, 140), (0, tile.height * 45 // 100, tile.width, tile.height))
            img.paste(tile, at)
            boxes[m.name] = (at[0], at[1], at[0] + tile.width, at[1] + tile.height)
        frames.append(np.asarray(img))
        truth.append(boxes)
    return Clip(write_mp4(frames, fps, tags=CAMERA_TAGS), fps, size, truth)


def visible_face(frame: np.ndarray, clip: Clip, boxes: dict[str, tuple[int, int, int, int]],
                 name: str, index: int, min_share: float = 0.25) -> np.ndarray | None:
    """The pixels of face `name`'s detector box on frame `index` that are inside the picture,
    or None when the face is out of it (or less than `min_share` of it is in)."""
    where = clip.truth[index].get(name)
    if where is None:
        return None
    h, w = frame.shape[:2]
    fx0, fy0, fx1, fy1 = boxes[name]
    x0, y0, x1, y1 = where[0] + fx0, where[1] + fy0, where[0] + fx1, where[1] + fy1
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 <= cx0 or cy1 <= cy0 or (cx1 - cx0) * (cy1 - cy0) < min_share * (x1 - x0) * (y1 - y0):
        return None
    return frame[cy0:cy1, cx0:cx1]


def uncovered(frames: list[np.ndarray], clip: Clip, boxes: dict[str, tuple[int, int, int, int]],
              name: str) -> list[int]:
    """The frames on which face `name` is in the picture and not covered solid (its visible
    box varies: a solid cover leaves only compression noise, under 6)."""
    out = []
    for i, frame in enumerate(frames):
        region = visible_face(frame, clip, boxes, name, i)
        if region is not None and region.reshape(-1, 3).astype(np.float64).std(axis=0).max() >= 6:
            out.append(i)
    return out
