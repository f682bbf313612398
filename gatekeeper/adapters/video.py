"""Video in and out through PyAV (BSD-3; its wheels bundle FFmpeg's libraries, so nothing is
run as a separate program and nothing is downloaded at run time): decode to upright RGB frames,
encode RGB frames to H.264 MP4.

Decoding reads the first picture stream only (no sound, subtitles or data), every decoded frame
once in presentation order, turned upright as the stream's display matrix says (a phone held
upright writes its turn there, not in the pixels) and scaled to the size the caller expects, so
the frame numbers of a scan and of a publish are the same frames.

Encoding writes a new file from pixels alone: one H.264 stream, no container, stream or chapter
metadata, no creation date, no encoder string (`bitexact`), the encoder's SEI messages removed
(x264 writes its settings there), and no sound unless the caller passes the source whose sound
may be kept: that is decoded and re-encoded as AAC with nothing of the source's tags.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from gatekeeper.errors import InvalidImage

SEI = 6  # H.264 NAL unit type of supplemental enhancement information (x264's settings string)
AUDIO_RATE = 48000
AUDIO_BITRATE = 128_000


def _open(data: bytes) -> Any:
    try:
        return av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError) as exc:
        raise InvalidImage(f"video could not be decoded: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """What the decoder's error means for whoever uploaded the file (not FFmpeg's errno and
    function names): a damaged or cut-short file is by far the usual cause."""
    if isinstance(exc, av.error.InvalidDataError | EOFError):  # PyAV's EOFError is one too
        return "the file is damaged or cut short"
    text = str(getattr(exc, "strerror", None) or exc).strip() or type(exc).__name__
    return text.splitlines()[0][:160]


def _upright(frame: Any, width: int, height: int) -> np.ndarray:
    """The frame as (height, width, 3) RGB, turned as its display matrix says.

    `frame.rotation` is the matrix's counter-clockwise turn in degrees; turning the pixels by it
    (np.rot90 turns counter-clockwise) shows them as the camera's user saw them."""
    quarter = round(float(frame.rotation or 0) / 90) % 4
    w, h = (height, width) if quarter % 2 else (width, height)
    pixels = frame.to_ndarray(width=w, height=h, format="rgb24")
    return np.ascontiguousarray(np.rot90(pixels, quarter)) if quarter else pixels


def read_frames(data: bytes, width: int, height: int) -> Iterator[np.ndarray]:
    """Every frame of the movie as an upright (height, width, 3) uint8 array, in order;
    InvalidImage when it cannot be decoded."""
    for _, pixels in pick_frames(data, width, height, lambda index: True):
        yield pixels


def pick_frames(data: bytes, width: int, height: int, wanted: Callable[[int], bool],
                last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(index, upright pixels) of the frames `wanted` says yes to, in order, up to frame `last`
    (None: to the end). Every frame is decoded (each depends on those before it), but only the
    wanted ones are turned into RGB arrays: a scan wants one frame in five (at 4K a conversion
    costs about as much as decoding the frame). InvalidImage when it cannot be decoded."""
    container = _open(data)
    try:
        if not container.streams.video:
            raise InvalidImage("video could not be decoded: no picture stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for index, frame in enumerate(container.decode(stream)):
                if wanted(index):
                    yield index, _upright(frame, width, height)
                if last is not None and index >= last:
                    break
        except av.FFmpegError as exc:
            raise InvalidImage(f"video could not be decoded: {_reason(exc)}") from None
    finally:
        container.close()


@dataclass(frozen=True)
class Played:
    """What the picture stream holds as the decoder plays it (its packets, not the header)."""

    frames: int  # packets shown (samples an edit list leaves out are not)
    seconds: float  # the time they span, the last frame's own duration included
    coded_width: int  # the decoder's picture size, before any display turn
    coded_height: int
    pixel_aspect: float = 1.0  # each pixel's width to its height (1: square pixels)


def played(data: bytes) -> Played:
    """The picture stream's frames, their span and the decoded picture size, from its packets
    (demuxed, not decoded: a fraction of a second for a long movie). A container's header says
    what its writer put there; the scan's sampling, the limits and the published file's rate
    must follow what plays. InvalidImage when there is nothing to play."""
    container = _open(data)
    try:
        if not container.streams.video:
            raise InvalidImage("video could not be decoded: no picture stream")
        stream = container.streams.video[0]
        base = stream.time_base or Fraction(1, 90000)
        stamps: list[int] = []
        alone = 0  # the duration a packet gives itself (for a movie of one frame)
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard or packet.pts is None:
                    continue
                stamps.append(int(packet.pts))
                alone = int(packet.duration or 0)
        except av.FFmpegError as exc:
            raise InvalidImage(f"video could not be decoded: {_reason(exc)}") from None
        if not stamps:
            raise InvalidImage("video could not be decoded: no frame")
        stamps.sort()
        # each frame lasts the usual gap to the next (the median: one odd gap changes nothing)
        gap = int(np.median(np.diff(stamps))) if len(stamps) > 1 else alone
        seconds = float((stamps[-1] - stamps[0] + gap) * base)
        if seconds <= 0:
            rate = float(stream.average_rate or 0) or 25.0
            seconds = len(stamps) / rate
        cc = stream.codec_context
        if cc is None:  # FFmpeg has no decoder for it
            raise InvalidImage("video could not be decoded: no decoder for its picture")
        sar = cc.sample_aspect_ratio  # the bitstream's own (the stream's is made from the header)
        return Played(len(stamps), seconds, int(cc.width or 0), int(cc.height or 0),
                      float(sar) if sar else 1.0)
    finally:
        container.close()


def still(data: bytes, at_s: float, width: int, height: int) -> np.ndarray:
    """The upright frame on screen `at_s` seconds after the first frame (a seek to the keyframe
    before, then decoding on): the reviewer's picture, and proof at upload that the picture
    stream decodes at all."""
    container = _open(data)
    try:
        if not container.streams.video:
            raise InvalidImage("video could not be decoded: no picture stream")
        stream = container.streams.video[0]
        last = None
        try:
            # `at_s` counts from the first frame shown; the stream's clock may start elsewhere
            # (a fragment's decode time, an edit list's empty start, frames before the first
            # keyframe that never show), and seeking goes by that clock
            first = next(iter(container.decode(stream)), None)
            origin = float(first.time) if first is not None and first.time is not None else 0.0
            if stream.time_base and at_s > 0:
                container.seek(int((origin + at_s) / stream.time_base), stream=stream,
                               backward=True)
            for frame in container.decode(stream):  # the frame on screen at that moment
                if frame.time is not None and frame.time > origin + at_s + 1e-6:
                    last = last or frame
                    break
                last = frame
        except av.FFmpegError as exc:
            raise InvalidImage(f"video could not be decoded: {_reason(exc)}") from None
        if last is None:
            raise InvalidImage("video could not be decoded: no frame")
        return _upright(last, width, height)
    finally:
        container.close()


def even_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The encoded size: long side at most `max_side`, both sides even (4:2:0 needs them so)."""
    k = min(1.0, max_side / max(width, height)) if max_side > 0 else 1.0
    return max(2, int(width * k) // 2 * 2), max(2, int(height * k) // 2 * 2)


def _audio_frames(data: bytes) -> Iterator[Any]:
    """The source's sound as decoded frames (nothing else of the source is read)."""
    container = _open(data)
    try:
        if not container.streams.audio:
            return
        try:
            yield from container.decode(container.streams.audio[0])
        except av.FFmpegError as exc:
            raise InvalidImage(f"sound could not be decoded: {_reason(exc)}") from None
    finally:
        container.close()


class _Sound:
    """The kept sound, re-encoded as AAC and handed to the muxer up to a time, so that it is
    interleaved with the picture (and never held whole in memory)."""

    def __init__(self, out: Any, source: bytes) -> None:
        self.stream = out.add_stream("aac", rate=AUDIO_RATE)
        self.stream.layout = "stereo"
        self.stream.bit_rate = AUDIO_BITRATE
        self.stream.codec_context.flags |= av.codec.context.Flags.bitexact
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        self.frames = _audio_frames(source)
        self.done = False
        self.sent = 0  # samples handed to the encoder

    def until(self, out: Any, seconds: float | None) -> None:
        """Encode and mux the sound up to `seconds` (None: all of it, then flush)."""
        while not self.done and (seconds is None or self.sent / AUDIO_RATE <= seconds):
            frame = next(self.frames, None)
            if frame is None:
                self.done = True
                break
            frame.pts = None
            for chunk in self.resampler.resample(frame):
                chunk.pts = self.sent
                chunk.time_base = Fraction(1, AUDIO_RATE)
                self.sent += chunk.samples
                out.mux(self.stream.encode(chunk))
        if seconds is None:
            for chunk in self.resampler.resample(None):
                chunk.pts = self.sent
                chunk.time_base = Fraction(1, AUDIO_RATE)
                self.sent += chunk.samples
                out.mux(self.stream.encode(chunk))
            out.mux(self.stream.encode(None))


def encode(frames: Iterable[np.ndarray], width: int, height: int, fps: float, *,
           max_side: int, crf: int = 23, sound_from: bytes | None = None) -> bytes:
    """H.264 MP4 (yuv420p, fast start) from RGB frames of (height, width); nothing else in it
    but, with `sound_from`, that movie's sound re-encoded as AAC."""
    out_w, out_h = even_size(width, height, max_side)
    rate = Fraction(fps).limit_denominator(1001)
    with tempfile.TemporaryDirectory(prefix="gk-video-") as tmp:
        dst = Path(tmp) / "out.mp4"
        try:
            _write(dst, frames, rate, out_w, out_h, crf, sound_from)
        except av.FFmpegError as exc:
            raise InvalidImage(f"video could not be encoded: {_reason(exc)}") from None
        return dst.read_bytes()


def _write(dst: Path, frames: Iterable[np.ndarray], rate: Fraction, width: int, height: int,
           crf: int, sound_from: bytes | None) -> None:
    with av.open(str(dst), mode="w", format="mp4",
                 options={"fflags": "+bitexact", "movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        sound = _Sound(out, sound_from) if sound_from is not None else None
        strip = _SeiStrip(stream)
        for index, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels, dtype=np.uint8),
                                               format="rgb24")
            frame = frame.reformat(width=width, height=height, format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(rate.denominator, rate.numerator)
            _mux(out, strip, stream.encode(frame))
            if sound is not None:
                sound.until(out, float((index + 1) / rate))
        _mux(out, strip, stream.encode(None))
        for packet in strip.flush():
            out.mux(packet)
        if sound is not None:
            sound.until(out, None)


class _SeiStrip:
    """x264's SEI messages (its version and settings) removed from the packets; the filter is
    made at the first packet, once the encoder has set the stream's parameters."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.bsf: Any = None

    def filter(self, packet: Any) -> list[Any]:
        if self.bsf is None:
            self.bsf = av.bitstream.BitStreamFilterContext(
                f"filter_units=remove_types={SEI}", self.stream)
        out: list[Any] = self.bsf.filter(packet)
        for clean in out:
            clean.stream = self.stream
        return out

    def flush(self) -> list[Any]:
        return [] if self.bsf is None else self.filter(None)


def _mux(out: Any, strip: _SeiStrip, packets: list[Any]) -> None:
    for packet in packets:
        out.mux(strip.filter(packet) if packet.size else [packet])
