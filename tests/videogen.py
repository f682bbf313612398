"""Test clips made by code: the public-domain face fixtures moving over a background, written by
PyAV with QuickTime camera tags (and, if asked, a sound track), with the truth
of where each face is on every frame."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

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
