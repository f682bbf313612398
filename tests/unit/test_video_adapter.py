"""The video adapter on PyAV: no program is run, frames come out upright whatever the display
matrix says, and a rebuilt movie carries the pixels and nothing else (exiftool and a byte search
as independent oracles), with sound only when it is asked for, re-encoded without tags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from gatekeeper.adapters.video import encode, pick_frames, read_frames, still
from gatekeeper.domain.movie import read_movie
from tests import videogen
from tests.oracles import exiftool_tags

PLANTED = [b"Canon", b"EOS 250D", b"0123456789", b"Familyname", b"Mrs Smith", b"51.5074",
           b"Lavf", b"Lavc", b"x264", b"libx264", b"2026"]
# what exiftool may say of a clean movie: sizes, timings, codecs, zero dates, handler names
FORBIDDEN = ("Make", "Model", "SerialNumber", "Serial", "GPSCoordinates", "GPSPosition",
             "Title", "Comment", "Encoder", "Artist", "Author", "ChapterList", "Chapter")


@pytest.fixture(scope="module")
def frames():
    return videogen.frames_of(seconds=1.0, fps=10, size=(320, 180), face_px=80)[0]


@pytest.fixture(scope="module")
def tagged(frames):
    return videogen.write_mp4(frames, 10, tags=videogen.CAMERA_TAGS, audio=True)


def _no_programs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a program was run: {args[0] if args else kwargs}")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)


def test_decoding_and_encoding_run_no_program(monkeypatch, frames, tagged):
    _no_programs(monkeypatch)
    decoded = list(read_frames(tagged, 320, 180))
    assert len(decoded) == len(frames)
    assert np.abs(decoded[3].astype(int) - frames[3]).mean() < 4
    assert still(tagged, 0.5, 320, 180).shape == (180, 320, 3)
    out = encode(decoded, 320, 180, 10, max_side=2048)
    assert read_movie(out).frame_count == len(frames)


def test_picked_frames_are_those_read_whole_and_reading_stops_at_the_last(tagged, monkeypatch):
    """A scan converts only the frames it searches or encodes (pick_frames), and the same
    pixels as read_frames gives; decoding stops after the last one asked for."""
    every = list(read_frames(tagged, 320, 180))
    picked = list(pick_frames(tagged, 320, 180, lambda i: i % 3 == 0))
    assert [i for i, _ in picked] == list(range(0, len(every), 3))
    assert all(np.array_equal(px, every[i]) for i, px in picked)
    from gatekeeper.adapters import video

    turned: list[int] = []
    upright = video._upright
    monkeypatch.setattr(video, "_upright", lambda f, w, h: turned.append(1) or upright(f, w, h))
    assert [i for i, _ in pick_frames(tagged, 320, 180, {2, 5}.__contains__, last=5)] == [2, 5]
    assert len(turned) == 2  # only the wanted frames become arrays


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_frames_are_upright_as_the_display_matrix_says(frames, rotation):
    data = videogen.write_mp4(frames, 10, tags={}, rotation=rotation)
    info = read_movie(data)
    upright = np.rot90(frames[4], rotation // 90)
    assert (info.height, info.width) == upright.shape[:2]
    decoded = list(read_frames(data, info.width, info.height))
    assert np.abs(decoded[4].astype(int) - upright).mean() < 4
    # the wrong turn is far off: the comparison can fail
    assert np.abs(np.rot90(decoded[4], 2).astype(int) - upright).mean() > 10
    picture = still(data, 0.4, info.width, info.height)  # frame 4
    assert np.abs(picture.astype(int) - upright).mean() < 4


def _clean(path: Path, *, streams: int) -> None:
    data = path.read_bytes()
    for needle in PLANTED:
        assert needle not in data, needle
    tags = exiftool_tags(path)
    named = {k.split(":")[-1] for k in tags}
    assert not named & set(FORBIDDEN), sorted(named & set(FORBIDDEN))
    dates = [v for k, v in tags.items() if k.endswith("Date") and not k.startswith("System:")]
    assert dates and all(v.startswith("0000:00:00") for v in dates), dates
    with av.open(str(path)) as movie:
        assert set(movie.metadata) <= {"major_brand", "minor_version", "compatible_brands"}
        assert len(movie.streams) == streams and not movie.streams.subtitles
        assert not movie.streams.data and not movie.chapters()
        for s in movie.streams:
            assert set(s.metadata) <= {"language", "handler_name", "vendor_id"}, s.metadata


def test_rebuilt_movie_has_pixels_and_nothing_else(tmp_path, frames, tagged):
    out = tmp_path / "out.mp4"
    out.write_bytes(encode(read_frames(tagged, 320, 180), 320, 180, 10, max_side=2048))
    _clean(out, streams=1)
    with av.open(str(out)) as movie:
        assert not movie.streams.audio and movie.streams.video[0].codec_context.name == "h264"
    assert not read_movie(out.read_bytes()).has_audio


def test_kept_sound_is_aac_without_the_source_tags(tmp_path, tagged):
    out = tmp_path / "out.mp4"
    out.write_bytes(encode(read_frames(tagged, 320, 180), 320, 180, 10, max_side=2048,
                           sound_from=tagged))
    _clean(out, streams=2)
    with av.open(str(out)) as movie:
        [sound] = movie.streams.audio
        assert sound.codec_context.name == "aac"
        seconds = sum(f.samples for f in movie.decode(sound)) / sound.rate
    assert seconds == pytest.approx(1.0, abs=0.1)


def test_sound_from_a_silent_movie_adds_no_track(tmp_path, frames):
    silent = videogen.write_mp4(frames, 10, tags={})
    out = encode(read_frames(silent, 320, 180), 320, 180, 10, max_side=2048, sound_from=silent)
    assert not read_movie(out).has_audio


def _starting_late(n: int, fps: int, offset: int) -> bytes:
    """n frames of distinct greys whose clock starts `offset` frames in (an empty edit first, as
    a fragment's decode time or an edited clip can give)."""
    import io
    from fractions import Fraction

    with io.BytesIO() as buf:
        with av.open(buf, "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
            stream.options = {"bf": "0", "crf": "10"}
            for i in range(n):
                frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 10 + 10 * i, np.uint8),
                                                   format="rgb24")
                frame.pts, frame.time_base = i + offset, Fraction(1, fps)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        return buf.getvalue()


def test_a_still_counts_its_time_from_the_first_frame_whatever_the_clock_says():
    """A reviewer found the thumbnails of a clip whose clock starts at 20 s all cut from its
    first frame: the still's time was taken as the stream's clock, not from the first frame."""
    from gatekeeper.adapters.video import played

    data = _starting_late(20, 10, offset=30)
    with av.open(__import__("io").BytesIO(data)) as movie:
        assert movie.streams.video[0].start_time > 0  # the clock does start late
    assert played(data).frames == 20
    frames = list(read_frames(data, 64, 64))
    for i in (0, 7, 15):
        picture = still(data, (i + 0.5) / 10, 64, 64)
        assert abs(int(picture.mean()) - int(frames[i].mean())) <= 2, i
