"""Reading an MP4 / MOV / M4V container's header: recognised by its boxes, never by name.

A small box reader (ISO/IEC 14496-12 and QuickTime): duration, frame rate, display size (the track
matrix's turn applied), video codec, whether there is sound, and the camera's QuickTime tags
(UserData `©mak`/`©mod`, Keys `make`/`model`/`serial`, `com.apple.quicktime.*`) for provenance.
Pure: bytes in, values out; any malformed box raises InvalidImage.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gatekeeper.domain.camera import CameraInfo
from gatekeeper.errors import InvalidImage

# brand -> our format name (Photo.format): the major brand, else a compatible one (sniff)
BRANDS = {b"isom": "mp4", b"iso2": "mp4", b"iso4": "mp4", b"iso5": "mp4", b"iso6": "mp4",
          b"mp41": "mp4", b"mp42": "mp4", b"avc1": "mp4", b"MSNV": "mp4", b"XAVC": "mp4",
          b"qt  ": "mov", b"M4V ": "m4v", b"M4VH": "m4v", b"M4VP": "m4v"}
VIDEO_FORMATS = frozenset(BRANDS.values())
CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc"}
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts"}
_EPOCH_1904 = datetime(1904, 1, 1)
DAMAGED = "video is damaged or cut short: upload the camera's file again"
# No camera films faster (phones' slow motion: 240). A higher rate can only come from timestamps
# written to mislead: the frames would play in a flash.
MAX_FPS = 300


@dataclass(frozen=True)
class MovieInfo:
    format: str  # mp4 | mov | m4v
    duration_s: float
    fps: float
    width: int  # as displayed (a turned track's sides swapped)
    height: int
    codec: str  # h264 | hevc | the sample entry's four letters
    frame_count: int
    has_audio: bool
    camera: CameraInfo
    tags: tuple[tuple[str, str], ...] = ()  # every UserData / Keys tag found, camera or not
    created: int = 0  # the movie header's creation time (seconds since 1904; 0: none)
    tracks: int = 1
    coded: tuple[int, int] = (0, 0)  # the decoder's picture size (0, 0: not read)
    turned: bool = False  # the track's matrix turns the picture a quarter
    pixel_aspect: float = 1.0  # the stream's pixel width to height


def leftovers(info: MovieInfo, *, sound: bool = False) -> list[str]:
    """What a published movie must not carry and this one does (empty: clean); `sound`: the
    channel keeps sound, so one sound track (and no other) may be there."""
    out = [f"tag {name}" for name, _ in info.tags]
    if info.created:
        out.append("creation date")
    if info.has_audio and not sound:
        out.append("sound")
    if info.tracks != 1 + (sound and info.has_audio):
        out.append(f"{info.tracks} tracks")
    return out


# Still-image and raw files built on the same box format: never a movie, whatever they list.
STILL_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
                          b"msf1", b"avif", b"avis", b"crx ", b"jpeg", b"miaf"})
# Boxes a QuickTime file may begin with before its `ftyp` box, or instead of one.
_LEADING = frozenset({b"wide", b"free", b"skip"})
_CLASSIC = _LEADING | {b"mdat", b"moov", b"pnot", b"udta", b"uuid"}


def _brand(major: bytes, compatible: list[bytes]) -> str | None:
    """Our format for an `ftyp` box: its major brand if we know it, else (a camera maker's own,
    Canon's `CAEP`, a phone's `3gp4`) the first compatible brand we know; never a still."""
    if major in STILL_BRANDS:
        return None
    if major in BRANDS:
        return BRANDS[major]
    if major.startswith((b"3gp", b"3g2")):
        return "mp4"
    return next((BRANDS[b] for b in compatible if b in BRANDS), None)


def sniff(data: bytes) -> str | None:
    """The movie format the file's boxes name, or None (not a movie we take): its `ftyp` box's
    brands (after any `wide`, `free` or `skip` boxes); a classic QuickTime file without one is
    a `mov` when its top-level boxes are QuickTime's and hold a `moov`."""
    at, seen = 0, 0
    while at + 8 <= len(data) and seen < 64:
        size, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
        if kind == b"ftyp":
            end = min(len(data), at + size) if size >= 16 else at
            if end - at < 16:
                return None
            compatible = [data[i:i + 4] for i in range(at + 16, min(end - 3, at + 16 + 4 * 64), 4)]
            return _brand(data[at + 8:at + 12], compatible)
        if kind not in _CLASSIC:
            return None
        if kind == b"moov":
            return "mov"
        seen += 1
        if size == 1 and at + 16 <= len(data):  # a 64-bit size (a large mdat)
            size = int.from_bytes(data[at + 8:at + 16], "big")
        if size < 8:
            return None
        at += size
    return None


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise InvalidImage(DAMAGED)
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise InvalidImage(DAMAGED)
        yield kind, pos + header, pos + size
        pos += size


def _find(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)


@dataclass
class _Track:
    handler: bytes = b""
    width: float = 0.0
    height: float = 0.0
    turned: bool = False
    timescale: int = 0
    duration: int = 0
    samples: int = 0
    codec: str = ""
    shown: int = 0  # the track header's duration, in the movie's timescale (the edit list's span)


def _track(data: bytes, start: int, end: int) -> _Track:
    t = _Track()
    tkhd = _find(data, start, end, b"tkhd")
    if tkhd:
        s, _ = tkhd
        v1 = data[s] == 1
        t.shown = struct.unpack(">Q" if v1 else ">I", data[s + 28:s + 36] if v1 else
                                data[s + 20:s + 24])[0]
        matrix_at = s + (52 if v1 else 40)
        a, b = struct.unpack(">ii", data[matrix_at:matrix_at + 8])
        t.turned = a == 0 and b != 0  # a 90 or 270 degree turn
        t.width, t.height = (v / 65536 for v in struct.unpack(">II", data[matrix_at + 36:matrix_at + 44]))
    mdia = _find(data, start, end, b"mdia")
    if mdia is None:
        return t
    mdhd, hdlr = _find(data, *mdia, b"mdhd"), _find(data, *mdia, b"hdlr")
    if hdlr:
        t.handler = data[hdlr[0] + 8:hdlr[0] + 12]
    if mdhd:
        s = mdhd[0]
        if data[s] == 1:
            t.timescale, t.duration = struct.unpack(">IQ", data[s + 20:s + 32])
        else:
            t.timescale, t.duration = struct.unpack(">II", data[s + 12:s + 20])
    minf = _find(data, *mdia, b"minf")
    stbl = _find(data, *minf, b"stbl") if minf else None
    if stbl:
        stts, stsd = _find(data, *stbl, b"stts"), _find(data, *stbl, b"stsd")
        if stts:
            (n,) = struct.unpack(">I", data[stts[0] + 4:stts[0] + 8])
            entries = data[stts[0] + 8:stts[0] + 8 + 8 * n]
            t.samples = sum(struct.unpack(">I", entries[i:i + 4])[0] for i in range(0, len(entries), 8))
        if stsd and stsd[1] - stsd[0] >= 16:
            kind = data[stsd[0] + 12:stsd[0] + 16]
            t.codec = CODECS.get(kind, kind.decode("latin-1").strip())
    return t


def _text(payload: bytes) -> str | None:
    """A tag's value: an iTunes-style `data` box, or QuickTime's (length, language, text)."""
    if len(payload) >= 16 and payload[4:8] == b"data":
        raw = payload[16:struct.unpack(">I", payload[:4])[0]]
    elif len(payload) >= 4:
        (n,) = struct.unpack(">H", payload[:2])
        raw = payload[4:4 + n]
    else:
        return None
    text = raw.decode("utf-8", "replace").strip("\x00 ").strip()
    return text[:64] or None


_FIELDS = {"make": "make", "model": "model", "serial": "serial", "serialnumber": "serial",
           "serial_number": "serial", "camera.serial": "serial", "creationdate": "date",
           "creation_time": "date", "\xa9mak": "make", "\xa9mod": "model", "\xa9day": "date"}


def _field(key: str) -> str | None:
    key = key.lower()
    for prefix in ("com.apple.quicktime.", "com.android.", "mdta"):
        key = key.removeprefix(prefix)
    return _FIELDS.get(key) or _FIELDS.get(key.rsplit(".", 1)[-1])


def _meta(data: bytes, start: int, end: int, out: list[tuple[str, str]]) -> None:
    """Keys + ilst (QuickTime metadata): index -> key name -> value."""
    if end - start >= 8 and data[start + 4:start + 8] not in (b"hdlr", b"keys", b"ilst"):
        start += 4  # the ISO full box's version and flags
    keys: list[str] = []
    ilst = None
    for kind, s, e in _boxes(data, start, end):
        if kind == b"keys":
            pos = s + 8
            while pos + 8 <= e:
                (size,) = struct.unpack(">I", data[pos:pos + 4])
                if size < 8:
                    break
                keys.append(data[pos + 8:pos + size].decode("utf-8", "replace"))
                pos += size
        elif kind == b"ilst":
            ilst = (s, e)
    if ilst is None:
        return
    for kind, s, e in _boxes(data, *ilst):
        index = struct.unpack(">I", kind)[0]
        name = keys[index - 1] if keys and 0 < index <= len(keys) else kind.decode("latin-1")
        out.append((name, _text(data[s:e]) or ""))


def _udta(data: bytes, start: int, end: int, out: list[tuple[str, str]]) -> None:
    for kind, s, e in _boxes(data, start, end):
        if kind == b"meta":
            _meta(data, s, e, out)
        else:
            out.append((kind.decode("latin-1"), _text(data[s:e]) or ""))


def _when(text: str | None, mvhd_seconds: int) -> datetime | None:
    if text:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return when.replace(tzinfo=None) if when.tzinfo is None else \
                (when - (when.utcoffset() or timedelta())).replace(tzinfo=None)
        except ValueError:
            pass
    return _EPOCH_1904 + timedelta(seconds=mvhd_seconds) if mvhd_seconds else None


def read_movie(data: bytes) -> MovieInfo:
    """The movie's header facts and camera tags; InvalidImage when it is not a usable movie."""
    fmt = sniff(data)
    if fmt is None:
        raise InvalidImage("not an MP4, MOV or M4V movie")
    try:
        moov = _find(data, 0, len(data), b"moov")
        if moov is None:
            raise InvalidImage("movie has no header (moov box): damaged or cut short")
        found: list[tuple[str, str]] = []
        tracks: list[_Track] = []
        created = 0
        movie_timescale = 0
        for kind, s, e in _boxes(data, *moov):
            if kind == b"mvhd":
                created = struct.unpack(">Q" if data[s] == 1 else ">I",
                                        data[s + 4:s + (12 if data[s] == 1 else 8)])[0]
                at = s + (20 if data[s] == 1 else 12)
                (movie_timescale,) = struct.unpack(">I", data[at:at + 4])
            elif kind == b"trak":
                tracks.append(_track(data, s, e))
            elif kind == b"udta":
                _udta(data, s, e, found)
            elif kind == b"meta":
                _meta(data, s, e, found)
    except (struct.error, IndexError, ValueError):
        raise InvalidImage(DAMAGED) from None
    video = next((t for t in tracks if t.handler == b"vide"), None)
    if video is None or not video.timescale:
        raise InvalidImage("movie has no video track")
    fragmented = _find(data, *moov, b"mvex") is not None
    if not fragmented and not (video.samples and video.duration):
        raise InvalidImage("movie's video track has no frames")
    tags: dict[str, str] = {}
    for name, value in found:
        field = _field(name)
        if field and value:
            tags.setdefault(field, value)
    # the span shown (edit list, in the track header) when there is one: the media's own
    # duration also counts the decoder's delay that B-frames add (FFmpeg 8 writes it so)
    duration = (video.shown / movie_timescale if video.shown and movie_timescale
                else video.duration / video.timescale)
    # A fragmented movie (written as it was filmed or streamed) lists its frames in the
    # fragments that follow its header: as_played counts them from the stream.
    rate = video.samples / duration if duration > 0 else 0.0
    w, h = round(video.width), round(video.height)
    if video.turned:
        w, h = h, w
    camera = CameraInfo(make=tags.get("make"), model=tags.get("model"),
                        serial=tags.get("serial"), taken_at=_when(tags.get("date"), created))
    return MovieInfo(fmt, duration, rate, w, h, video.codec, video.samples,
                     any(t.handler == b"soun" for t in tracks), camera, tuple(found), created,
                     len(tracks), turned=video.turned)


def as_played(info: MovieInfo, frames: int, seconds: float, coded: tuple[int, int],
              pixel_aspect: float = 1.0) -> MovieInfo:
    """The header's facts with the duration, frame count and rate of what the picture stream
    plays (adapters/video.played), and the decoder's picture size: the header is the writer's
    to fill in (one claiming 0.1 s for a 4 s clip had a scan search a single frame of it)."""
    return replace(info, duration_s=seconds, frame_count=frames,
                   fps=frames / seconds if seconds > 0 else info.fps, coded=coded,
                   pixel_aspect=pixel_aspect or 1.0)


def _squashed(info: MovieInfo) -> bool:
    """Whether the header's picture has another shape than the decoded one (its pixels' aspect
    and the track's turn allowed for): frames are scaled to the header's size, and a face
    squashed for the scan could be stretched back by anyone who has the published file."""
    cw, ch = info.coded
    if cw <= 0 or ch <= 0 or info.width <= 0 or info.height <= 0:
        return False
    shown_w, shown_h = (ch, cw * info.pixel_aspect) if info.turned else (cw * info.pixel_aspect, ch)
    return abs(math.log((info.width / info.height) / (shown_w / shown_h))) > math.log(1.03)


def codec_refusal(info: MovieInfo) -> str | None:
    """Why the movie's codec is not taken, or None (asked before the stream is read: FFmpeg may
    have no decoder for it)."""
    if info.codec not in ("h264", "hevc"):
        return f"video codec {info.codec or 'unknown'} not taken (H.264 or HEVC only)"
    return None


def refusal(info: MovieInfo, *, max_seconds: float, max_side: int, max_pixels: int) -> str | None:
    """Why the movie is refused at upload (too long, too large, a codec we do not take), or None.
    The size is the larger of the header's and the decoder's (each is checked)."""
    if (codec := codec_refusal(info)) is not None:
        return codec
    if info.fps > MAX_FPS:
        return (f"video frame rate {info.fps:.0f} a second: not a camera's video (at most "
                f"{MAX_FPS} a second)")
    if info.duration_s > max_seconds:
        return (f"video too long ({info.duration_s / 60:.1f} minutes; at most "
                f"{max_seconds / 60:g} minutes)")
    for w, h in ((info.width, info.height), info.coded):
        if max(w, h) > max_side or w * h > max_pixels:
            return f"video too large ({w}x{h}; at most 4K, {max_side} px a side)"
    if _squashed(info):
        return (f"video's header gives its picture as {info.width}x{info.height}, its frames "
                f"are {info.coded[0]}x{info.coded[1]}: a damaged or edited file")
    if info.width < 16 or info.height < 16:
        return "video has no usable picture"
    return None
