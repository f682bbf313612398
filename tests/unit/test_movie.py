"""The movie header reader: recognised by content, camera tags from Keys and UserData, limits,
and what a published movie must not carry."""

from __future__ import annotations

import pytest

from gatekeeper.domain.movie import leftovers, read_movie, refusal, sniff
from gatekeeper.errors import InvalidImage
from tests import videogen


@pytest.fixture(scope="module")
def frames():
    return videogen.frames_of(seconds=1.0, fps=10, size=(320, 180), face_px=80)[0]


def test_sniff_by_content():
    assert sniff(b"\x00\x00\x00\x18ftypqt  \x00\x00\x02\x00qt  ") == "mov"
    assert sniff(b"\x00\x00\x00\x18ftypM4V \x00\x00\x02\x00") == "m4v"
    assert sniff(b"\xff\xd8\xff\xe0" + b"\x00" * 20) is None
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") is None  # HEIC is a photo


@pytest.mark.parametrize(("container", "keys"), [("mp4", True), ("mov", True), ("mov", False)])
def test_camera_tags(frames, container, keys):
    tags = {"make": "Canon", "model": "EOS 250D"} | ({"serial": "0123456789"} if keys else {})
    info = read_movie(videogen.write_mp4(frames, 10, tags=tags, container=container, keys=keys))
    assert (info.format, info.width, info.height, info.codec) == (container, 320, 180, "h264")
    assert info.duration_s == pytest.approx(1.0) and info.fps == pytest.approx(10)
    assert (info.camera.make, info.camera.model) == ("Canon", "EOS 250D")
    assert info.camera.serial == ("0123456789" if keys else None)


def test_no_camera_data_and_sound(frames):
    info = read_movie(videogen.write_mp4(frames, 10, tags={}, audio=True))
    assert info.camera.make is None and info.camera.serial is None
    assert info.has_audio and "sound" in leftovers(info)


def test_refusals(frames):
    info = read_movie(videogen.write_mp4(frames, 10, tags={}))
    assert refusal(info, max_seconds=600, max_side=4096, max_pixels=4096 * 2160) is None
    assert "too long" in (refusal(info, max_seconds=0.5, max_side=4096, max_pixels=10**8) or "")
    assert "too large" in (refusal(info, max_seconds=600, max_side=200, max_pixels=10**8) or "")


@pytest.mark.parametrize("cut", [20, 200, 2000])
def test_truncated_or_foreign_files_are_refused(frames, cut):
    data = videogen.write_mp4(frames, 10, tags={})
    # ffmpeg writes moov last: a file cut short has no header
    with pytest.raises(InvalidImage):
        read_movie(data[:cut])
    with pytest.raises(InvalidImage):
        read_movie(b"not a movie at all")


def test_duration_is_the_span_shown_not_the_decoder_delay():
    """x264's B-frames make FFmpeg 8 write a media duration one frame longer than the movie;
    the edit list's span (the track header's duration) is what is shown."""
    frames = videogen.frames_of(seconds=2.0, fps=15)[0]
    info = read_movie(videogen.write_mp4(frames, 15, tags={}))
    assert (info.duration_s, info.fps, info.frame_count) == (pytest.approx(2.0), pytest.approx(15), 30)


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body


@pytest.mark.parametrize(("major", "compatible", "expected"), [
    (b"CAEP", (b"CAEP", b"isom", b"mp41"), "mp4"),  # Canon's cameras
    (b"3gp4", (b"isom", b"3gp4"), "mp4"),  # phones' 3GPP
    (b"abcd", (b"qt  ",), "mov"),  # a maker's own brand, compatible with QuickTime
    (b"heic", (b"mif1", b"heic", b"iso8"), None),  # a HEIC photo, whatever else it lists
    (b"crx ", (b"crx ", b"isom"), None),  # Canon's raw stills (CR3)
    (b"abcd", (b"abcd",), None),  # nothing we know
])
def test_sniff_takes_compatible_brands(major, compatible, expected):
    assert sniff(_ftyp(major, *compatible) + b"\x00" * 8) == expected


def test_a_movie_with_boxes_before_its_type_or_none_is_still_a_movie(frames):
    mov = videogen.write_mp4(frames, 10, tags={}, container="mov")
    wide = b"\x00\x00\x00\x08wide"
    assert sniff(wide + mov) == "mov"
    info = read_movie(wide + mov)
    assert (info.format, info.frame_count) == ("mov", 10)
    size = int.from_bytes(mov[:4], "big")  # the ftyp box: a classic QuickTime file has none
    assert sniff(wide + mov[size:]) == "mov"
    assert read_movie(wide + mov[size:]).frame_count == 10
    assert sniff(wide + b"\x00\x00\x00\x10junkjunkjunkjunk") is None


def test_a_huge_ftyp_size_lists_no_more_than_a_few_brands():
    """A hostile size (0xFFFFFFFF) once had every 4 bytes of a large upload listed as a brand
    (hundreds of MB for a 60 MB upload): only the first 64 compatible brands are read."""
    within = b"\xff\xff\xff\xffftypabcd\x00\x00\x00\x00" + b"wxyz" * 63 + b"isom"
    beyond = b"\xff\xff\xff\xffftypabcd\x00\x00\x00\x00" + b"wxyz" * 64 + b"isom"
    assert sniff(within + b"wxyz" * 1000) == "mp4"
    assert sniff(beyond + b"wxyz" * 1000) is None
