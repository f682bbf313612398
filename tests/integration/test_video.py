"""A video through the same gate as photos: ingest (by content, limits, QuickTime provenance),
scan (tracks, the enrolled pupil named), approve, publish (every frame of the pupil without
consent covered, the consented pupil shown, no sound, no metadata)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from consent_db.models import Person, Photo
from gatekeeper.adapters.video import read_frames
from gatekeeper.domain.movie import read_movie
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.dpo.register import subject_access_export
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import IngestOutcome
from gatekeeper.services.photos.live import recheck_all
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.review import approve, release
from gatekeeper.services.photos.scan import scan_photo
from tests import videogen
from tests.integration.helpers import EILEEN, TOM, consent, ingest, people, person_row, school, users
from tests.oracles import exiftool_tags

PLANTED = [b"Canon", b"EOS 250D", b"0123456789", b"Familyname", b"Mrs Smith", b"51.5074"]
ALLOWED_GROUPS = {"ExifTool", "File", "System", "QuickTime", "Track1", "Composite"}


@pytest.fixture
def pupils(ctx):
    """TOM has online consent, EIL none; both enrolled; the school camera registered."""
    return school(ctx, consented=("TOM",))


def _face_truth(ctx, clip: videogen.Clip) -> dict[str, tuple[int, int, int, int]]:
    """Each face's detector box inside its tile (x0, y0, x1, y1 relative to the tile)."""
    out = {}
    for name, tile in videogen._tiles(170).items():
        [f] = ctx.faces.find_faces(tile, look_sideways=False, encode=False)
        out[name] = (f.box.left, f.box.top, f.box.right, f.box.bottom)
    return out


def test_video_from_upload_to_website(ctx, pupils, tmp_path):
    clip = videogen.clip(seconds=2.0, fps=15, audio=True)
    result = ingest(ctx, pupils["office1"], clip.data, name="Sports day Tom Familyname.mp4")
    assert result.outcome is IngestOutcome.ACCEPTED, result.reason
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        assert (photo.media, photo.format, photo.width, photo.height) == ("video", "mp4", 640, 360)
        assert photo.duration_s == pytest.approx(2.0, abs=0.05) and photo.fps == pytest.approx(15)
        assert (photo.camera_make, photo.camera_serial) == ("Canon", "0123456789")
        assert photo.provenance == "school_device"

    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        ids = {p.external_id: p.id for p in uow.session.query(Person)}
        tracks = {f.person_id: f for f in photo.faces}
        assert set(tracks) == {ids["TOM"], ids["EIL"]}, [(f.person_id, len(f.frames or []))
                                                          for f in photo.faces]
        assert all(len(f.frames) >= 8 for f in photo.faces)  # one track each, over the clip

    approve(ctx=ctx, photo_id=result.photo_id, channels=[Channel.ONLINE],
            user=pupils["editor1"])
    published = publish_one(ctx=ctx, photo_id=result.photo_id, channel=Channel.ONLINE,
                            on=date.today())
    assert published.location, published.refused
    path = Path(published.location)
    assert path.name.startswith("trip-0001-") and path.suffix == ".mp4"
    data = path.read_bytes()

    # nothing identifying in the file, no sound
    for needle in PLANTED:
        assert needle not in data, needle
    info = read_movie(data)
    assert not info.has_audio and info.tracks == 1 and info.codec == "h264"
    tags = exiftool_tags(path)
    groups = {k.split(":", 1)[0] for k in tags if ":" in k}
    assert groups <= ALLOWED_GROUPS, sorted(groups - ALLOWED_GROUPS)
    assert not any(k.split(":")[-1] in ("Make", "Model", "SerialNumber", "Serial", "GPSPosition",
                                        "Title", "Comment", "Encoder") for k in tags)
    dates = [v for k, v in tags.items() if k.endswith("Date") and not k.startswith(("File:",
                                                                                   "System:"))]
    assert dates and all(v.startswith("0000:00:00") for v in dates), dates

    # every frame: Eileen (no consent) covered flat, Tom (consent) shown
    truth = _face_truth(ctx, clip)
    frames = list(read_frames(data, 640, 360))
    assert len(frames) == len(clip.truth)
    for i, (frame, where) in enumerate(zip(frames, clip.truth, strict=True)):
        for name, shown in (("eileen", False), ("tom", True)):
            x0, y0 = where[name][:2]
            fx0, fy0, fx1, fy1 = truth[name]
            region = frame[y0 + fy0:y0 + fy1, x0 + fx0:x0 + fx1].astype(np.float64)
            spread = region.reshape(-1, 3).std(axis=0).max()
            if shown:
                assert spread > 20, (i, name, spread)
            else:
                assert spread < 6, (i, name, spread)
    for i in range(0, len(frames), 4):  # and the engine finds no face where Eileen is
        x0, y0, x1, y1 = clip.truth[i]["eileen"]
        crop = Image.fromarray(frames[i]).crop((max(0, x0 - 20), max(0, y0 - 20), x1 + 20, y1))
        assert ctx.faces.find_faces(crop, look_sideways=False, encode=False) == [], i

    # subject access: the requester's own track shown, everyone else covered, as a video
    export = subject_access_export(ctx=ctx, external_id="EIL", user=pupils["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        [name] = [n for n in zf.namelist() if n.startswith("photos/")]
        assert name.endswith(".mp4")
        own = list(read_frames(zf.read(name), 640, 360))
    x0, y0 = clip.truth[5]["tom"][:2]
    fx0, fy0, fx1, fy1 = truth["tom"]
    assert own[5][y0 + fy0:y0 + fy1, x0 + fx0:x0 + fx1].reshape(-1, 3).std(axis=0).max() < 6

    # takedown: Tom's consent withdrawn, the live copy goes
    consent(ctx, "TOM", granted="no")
    recheck_all(ctx=ctx)
    assert not path.exists()
    with ctx.uow() as uow:
        [pub] = uow.session.get(Photo, result.photo_id).publications
        assert pub.taken_down_at is not None


def test_video_limits_and_refusals(ctx, pupils):
    office = pupils["office1"]
    long_clip = videogen.clip(seconds=2.0)
    short = ctx.settings.model_copy(update={"video_max_seconds": 1.0})
    from tests.integration.helpers import context_like

    refused = ingest(context_like(ctx, video_max_seconds=short.video_max_seconds), office,
                     long_clip.data, name="long.mp4")
    assert refused.outcome is IngestOutcome.REJECTED
    assert refused.reason and "too long" in refused.reason
    big = ingest(context_like(ctx, video_max_side=320), office, long_clip.data, name="4k.mp4")
    assert big.outcome is IngestOutcome.REJECTED and big.reason and "too large" in big.reason
    cut = ingest(ctx, office, long_clip.data[: len(long_clip.data) // 2], name="cut.mp4")
    assert cut.outcome is IngestOutcome.REJECTED and cut.reason
    over = ingest(context_like(ctx, max_upload_bytes=1000), office, long_clip.data, name="b.mp4")
    assert over.outcome is IngestOutcome.REJECTED and over.reason
    # in the sizes people know, with what to do (a camera passes 60 MB in half a minute)
    assert over.reason.startswith(f"file too large ({len(long_clip.data) / 1e6:.1f} MB; the "
                                  "upload limit is 0.0 MB, 1,000 bytes): trim a video")
    # a file named .mp4 that is neither: the refusal names videos too, not only photos
    text = ingest(ctx, office, b"just some text, not a movie\n" * 20, name="clip.mp4")
    assert text.outcome is IngestOutcome.REJECTED and text.reason == (
        "not a photo or video Gatekeeper takes (JPEG, PNG, WebP, HEIC or TIFF; MP4, MOV or M4V)")


def test_video_without_camera_data_is_held_like_a_photo(ctx, pupils):
    bare = videogen.clip(seconds=1.0, tags={}, container="mov")
    result = ingest(ctx, pupils["office1"], bare.data, name="phone.mov")
    assert result.outcome is IngestOutcome.HELD
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        assert (photo.media, photo.format, photo.provenance) == ("video", "mov", "no_camera_data")
    release(ctx=ctx, photo_id=result.photo_id, user=pupils["dpo1"])
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"


def test_safeguarding_flag_in_any_track_blocks_the_video(ctx):
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("EIL", flag="yes"))
    consent(ctx, "TOM")
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())])
    enrol(ctx=ctx, external_id="EIL", photos=[("eil.png", EILEEN.read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    result = ingest(ctx, u["office1"], videogen.clip(seconds=1.0).data, name="v.mp4")
    assert result.outcome is IngestOutcome.ACCEPTED, result.reason
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "blocked"


def test_a_camera_makers_brand_and_a_classic_quicktime_file_are_taken(ctx, pupils):
    """Canon's cameras write MP4 under their own major brand (`CAEP`, compatible with `isom`);
    a classic QuickTime file begins with a `wide` box and may have no `ftyp` at all."""
    data = videogen.clip(seconds=1.0).data
    size = int.from_bytes(data[:4], "big")
    assert data[4:8] == b"ftyp" and size >= 20  # brands rewritten in place: offsets unchanged
    canon = data[:8] + b"CAEP" + data[12:16] + b"CAEP" + data[20:]
    mov = videogen.clip(seconds=1.0, container="mov").data
    size = int.from_bytes(mov[:4], "big")  # its ftyp box becomes a wide and a free box
    classic = (b"\x00\x00\x00\x08wide" + (size - 8).to_bytes(4, "big") + b"free"
               + bytes(size - 16) + mov[size:])
    for name, movie, fmt in (("canon.mp4", canon, "mp4"), ("classic.mov", classic, "mov")):
        result = ingest(ctx, pupils["office1"], movie, name=name)
        assert result.outcome is IngestOutcome.ACCEPTED, result.reason
        with ctx.uow() as uow:
            photo = uow.session.get(Photo, result.photo_id)
            assert (photo.media, photo.format, photo.frame_count) == ("video", fmt, 15)


def test_a_fragmented_movie_is_taken_and_a_damaged_one_refused_in_plain_words(ctx, pupils):
    """Some cameras and recorders write fragmented MP4 (frames listed in fragments after an
    empty header); a file cut short is refused without the decoder's errno and function."""
    import av

    frames, _ = videogen.frames_of(2.0, 15)
    with io.BytesIO() as buf:
        with av.open(buf, "w", format="mp4", options={
                "movflags": "frag_keyframe+empty_moov+use_metadata_tags"}) as out:
            out.metadata.update(videogen.CAMERA_TAGS)
            stream = out.add_stream("libx264", rate=15)
            stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
            for i, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = i
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        fragmented = buf.getvalue()
    result = ingest(ctx, pupils["office1"], fragmented, name="fragmented.mp4")
    assert result.outcome is IngestOutcome.ACCEPTED, result.reason
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        assert (photo.frame_count, round(photo.fps)) == (30, 15)
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    whole = videogen.clip(seconds=2.0).data  # moov last: a cut keeps the header ...
    for cut in (whole[: len(whole) // 2], whole[:-2000]):
        refused = ingest(ctx, pupils["office1"], cut, name="cut.mp4")
        assert refused.outcome is IngestOutcome.REJECTED
        assert refused.reason and "damaged or cut short" in refused.reason, refused.reason
        assert "Errno" not in refused.reason and "avcodec" not in refused.reason
