"""Test clips made by code: the public-domain face fixtures moving over a background, written by
the pip-shipped ffmpeg with QuickTime camera tags (and, if asked, a sound track), with the truth
of where each face is on every frame."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


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
              audio: bool = False, container: str = "mp4", keys: bool = True) -> bytes:
    """Encode RGB frames as H.264; `tags` as QuickTime metadata (Keys with `keys`, else the
    container's own atoms), a sine tone as AAC sound with `audio`."""
    h, w = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"clip.{container}"
        cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
               "-i", "-"]
        if audio:
            cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={len(frames) / fps}"]
        cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-crf", "18"]
        if audio:
            cmd += ["-c:a", "aac", "-shortest"]
        for k, v in (tags or {}).items():
            cmd += ["-metadata", f"{k}={v}"]
        if keys and tags:
            cmd += ["-movflags", "use_metadata_tags"]
        cmd.append(str(out))
        subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True)
        return out.read_bytes()


CAMERA_TAGS = {"make": "Canon", "model": "EOS 250D", "serial": "0123456789",
               "title": "Sports day with Tom Familyname", "comment": "Taken by Mrs Smith",
               "location": "+51.5074-000.1278/", "creation_time": "2026-07-10T10:30:00Z"}


def clip(*, seconds: float = 2.0, fps: int = 15, tags: dict[str, str] | None = None,
         audio: bool = False, container: str = "mp4") -> Clip:
    frames, truth = frames_of(seconds, fps)
    data = write_mp4(frames, fps, tags=CAMERA_TAGS if tags is None else tags, audio=audio,
                     container=container)
    return Clip(data, fps, (frames[0].shape[1], frames[0].shape[0]), truth)
