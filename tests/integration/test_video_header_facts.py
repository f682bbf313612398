"""A movie's header is the uploader's to write; what the decoder plays is not. The duration, the
frame rate and the picture size that the scan, the limits and the published file go by are
those of the picture stream itself (a probe found a header claiming 0.1 s for a 4 s clip: the
scan searched one frame and published a face uncovered; an 11-minute clip claiming 10 s and a
4K stream claiming 640x338 passed the limits; a trimmed clip played at double speed)."""

from __future__ import annotations

import io
import struct
from datetime import date
from fractions import Fraction

import av
import numpy as np
import pytest

from consent_db.models import Photo
from gatekeeper.adapters.video import read_frames
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.photos.ingest import IngestOutcome
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from tests import videogen
from tests.integration.helpers import context_like, ingest, school
from tests.videogen import Mover

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
W, H, FPS = 640, 360, 15


@pytest.fixture
def pupils(ctx):
    """TOM has online consent, EIL none; both enrolled; the school camera registered."""
    return school(ctx, consented=("TOM",))


def _box(data: bytearray, path: list[bytes]) -> int:
    """Where the payload of the first box along `path` starts (moov/trak/tkhd, ...)."""
    start, end = 0, len(data)
    for kind in path:
        at = start
        while at < end:
            size, name = struct.unpack(">I4s", data[at:at + 8])
            if name == kind:
                start, end = at + 8, at + size
                break
            at += size
        else:
            raise AssertionError(f"no {kind!r} box")
    return start


def lying_header(data: bytes, *, seconds: float | None = None,
                 size: tuple[int, int] | None = None) -> bytes:
    """The movie with its video track header (and movie header) claiming another duration or
    display size; the samples, and so what plays, unchanged."""
    out = bytearray(data)
    mvhd = _box(out, [b"moov", b"mvhd"])
    (scale,) = struct.unpack(">I", out[mvhd + 12:mvhd + 16])
    tkhd = _box(out, [b"moov", b"trak", b"tkhd"])
    assert out[mvhd] == 0 and out[tkhd] == 0  # version 0 headers, as PyAV writes them
    if seconds is not None:
        out[mvhd + 16:mvhd + 20] = struct.pack(">I", round(seconds * scale))
        out[tkhd + 20:tkhd + 24] = struct.pack(">I", round(seconds * scale))
    if size is not None:
        out[tkhd + 76:tkhd + 84] = struct.pack(">II", size[0] << 16, size[1] << 16)
    return bytes(out)


def lying_timestamps(data: bytes, delta: int = 1) -> bytes:
    """The movie with every frame's duration in its sample table (stts) set to `delta` ticks:
    the timestamps, and so the rate FFmpeg plays, are the writer's too."""
    out = bytearray(data)
    stts = _box(out, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"])
    (entries,) = struct.unpack(">I", out[stts + 4:stts + 8])
    for k in range(entries):
        at = stts + 8 + 8 * k + 4
        out[at:at + 4] = struct.pack(">I", delta)
    return bytes(out)


def _later(i: int) -> tuple[int, int] | None:
    """She walks in after the first frame and is gone before the last."""
    return (40 + 6 * i, H - 200) if 8 <= i <= 50 else None


@SQLITE
def test_a_header_claiming_a_short_movie_does_not_thin_the_scan(ctx, pupils):
    clip = videogen.scene([Mover("eileen", _later)], seconds=4.0, fps=FPS)
    lied = lying_header(clip.data, seconds=0.1)
    result = ingest(ctx, pupils["office1"], lied, name="short.mp4")
    assert result.outcome is IngestOutcome.ACCEPTED, result.reason
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        assert photo.frame_count == 60
        assert photo.duration_s == pytest.approx(4.0, abs=0.1)
        assert photo.fps == pytest.approx(FPS, rel=0.05)
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    approve(ctx=ctx, photo_id=result.photo_id, channels=[Channel.ONLINE],
            user=pupils["editor1"])
    res = publish_one(ctx=ctx, photo_id=result.photo_id, channel=Channel.ONLINE, on=date.today())
    assert res.location, res.refused
    with open(res.location, "rb") as f:
        published = f.read()
    frames = list(read_frames(published, W, H))
    boxes = videogen.face_boxes(ctx.faces)
    assert len(frames) == 60
    assert videogen.uncovered(frames, clip, boxes, "eileen") == []
    with av.open(io.BytesIO(published)) as movie:  # plays at the source's speed
        assert movie.streams.video[0].average_rate == FPS


def test_limits_go_by_the_stream_not_the_header(ctx, pupils):
    office = pupils["office1"]
    tiny = [np.full((64, 64, 3), 40 + i % 200, np.uint8) for i in range(90)]
    long_one = lying_header(videogen.write_mp4(tiny, 1, tags=videogen.CAMERA_TAGS), seconds=10)
    refused = ingest(context_like(ctx, video_max_seconds=60), office, long_one, name="long.mp4")
    assert refused.outcome is IngestOutcome.REJECTED
    assert refused.reason and "too long (1.5 minutes" in refused.reason

    clip = videogen.clip(seconds=1.0)
    squashed = ingest(ctx, office, lying_header(clip.data, size=(640, 180)), name="flat.mp4")
    assert squashed.outcome is IngestOutcome.REJECTED  # a squashed face, stretched back later
    assert squashed.reason and "picture as 640x180, its frames are 640x360" in squashed.reason
    small_claim = lying_header(clip.data, size=(160, 90))
    big = ingest(context_like(ctx, video_max_side=320), office, small_claim, name="big.mp4")
    assert big.outcome is IngestOutcome.REJECTED
    assert big.reason and "too large (640x360" in big.reason


def _trimmed(frames: list[np.ndarray]) -> bytes:
    """The frames with the first half before time zero: a trimmed clip, whose edit list shows
    only the second half."""
    with io.BytesIO() as buf:
        with av.open(buf, "w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
            out.metadata.update(videogen.CAMERA_TAGS)
            stream = out.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
            stream.options = {"bf": "0", "preset": "veryfast"}
            for i, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts, frame.time_base = i - len(frames) // 2, Fraction(1, FPS)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        return buf.getvalue()


def test_a_trimmed_clip_keeps_its_speed(ctx, pupils):
    frames, _ = videogen.frames_of(4.0, FPS)
    result = ingest(ctx, pupils["office1"], _trimmed(frames), name="trimmed.mp4")
    assert result.outcome is IngestOutcome.ACCEPTED, result.reason
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        assert photo.frame_count == 30
        assert photo.fps == pytest.approx(FPS, rel=0.05)
        assert photo.duration_s == pytest.approx(2.0, abs=0.1)


@SQLITE
def test_a_movie_stored_with_its_header_facts_is_scanned_as_it_plays(ctx, pupils):
    """A row recorded before ingest read the stream (or its header's facts written back by
    anything else) is put right by the scan, which the publish then follows."""
    clip = videogen.scene([Mover("eileen", _later)], seconds=4.0, fps=FPS)
    result = ingest(ctx, pupils["office1"], clip.data, name="old.mp4")
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        photo.duration_s, photo.fps = 0.1, 600.0
        uow.commit()
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        assert photo.fps == pytest.approx(FPS, rel=0.05)
        assert photo.duration_s == pytest.approx(4.0, abs=0.1)
        assert len(photo.faces) >= 1


def test_timestamps_claiming_thousands_of_frames_a_second_are_refused(ctx, pupils):
    """A reviewer's probe: every frame's duration in the sample table set to one tick made the
    stream itself claim 15 360 frames a second (the sample step then skipped the whole clip)."""
    clip = videogen.clip(seconds=2.0)
    result = ingest(ctx, pupils["office1"], lying_timestamps(clip.data), name="flash.mp4")
    assert result.outcome is IngestOutcome.REJECTED
    assert result.reason and "not a camera's video" in result.reason


def test_a_codec_without_a_decoder_is_refused_in_words_not_a_crash(ctx, pupils):
    data = bytearray(videogen.clip(seconds=1.0).data)
    at = data.index(b"avc1", data.index(b"stsd"))  # the sample entry's four letters, in stsd
    data[at:at + 4] = b"zzzz"
    result = ingest(ctx, pupils["office1"], bytes(data), name="odd.mp4")
    assert result.outcome is IngestOutcome.REJECTED
    assert result.reason and "codec zzzz not taken" in result.reason


def _cut_mid_group(data: bytes, drop: int) -> bytes:
    """The movie's packets copied (not re-encoded) from the `drop`-th on: a cut that is not at a
    keyframe, as a quick trim by stream copy makes; frames before the next keyframe never show."""
    with av.open(io.BytesIO(data)) as src, io.BytesIO() as buf:
        with av.open(buf, "w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
            out.metadata.update(videogen.CAMERA_TAGS)
            stream = out.add_stream_from_template(src.streams.video[0])
            for k, packet in enumerate(src.demux(src.streams.video[0])):
                if packet.size == 0 or k < drop:
                    continue
                packet.stream = stream
                out.mux(packet)
        return buf.getvalue()


@SQLITE
def test_frames_before_the_first_keyframe_are_not_counted_and_stills_follow_the_shown_ones(
        ctx, pupils):
    from gatekeeper.adapters.video import still

    frames = [np.array(f) for f in videogen.frames_of(4.0, FPS)[0]]
    for i, f in enumerate(frames):  # each frame's number in its corner, as a grey level
        f[:16, :16] = 4 * i
    with io.BytesIO() as buf:
        with av.open(buf, "w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
            out.metadata.update(videogen.CAMERA_TAGS)
            s = out.add_stream("libx264", rate=FPS)
            s.width, s.height, s.pix_fmt = W, H, "yuv420p"
            s.options = {"bf": "0", "g": "20", "keyint_min": "20", "sc_threshold": "0"}
            for i, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, FPS)
                out.mux(s.encode(frame))
            out.mux(s.encode(None))
        whole = buf.getvalue()
    cut = _cut_mid_group(whole, 5)
    shown = list(read_frames(cut, W, H))
    assert len(shown) < 55  # the decoder shows nothing before the next keyframe
    result = ingest(ctx, pupils["office1"], cut, name="cut.mp4")
    assert result.outcome is IngestOutcome.ACCEPTED, result.reason
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    with ctx.uow() as uow:
        assert uow.session.get(Photo, result.photo_id).frame_count == len(shown)
    for i in (0, 10, len(shown) - 1):
        picture = still(cut, (i + 0.5) / FPS, W, H)
        assert abs(int(picture[:16, :16].mean()) - int(shown[i][:16, :16].mean())) <= 2, i
