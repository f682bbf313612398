"""A video's sound and lifecycle: no sound unless the DPO keeps it for a channel (then AAC with
no tags); erasure and the retention purge cover a person in place in a video that others are in
(the original rebuilt, live copies re-rendered from it); subject access shows the requester's
own track only and never the sound; certificates say which photos were videos."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from consent_db.models import AuditEvent, Face, Person, Photo, Publication
from gatekeeper.adapters.video import read_frames
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.accounts.options import change_option, list_options
from gatekeeper.services.dpo.purge import apply_purge, erase_person
from gatekeeper.services.dpo.register import subject_access_export
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.review import add_cover, approve
from gatekeeper.services.photos.scan import scan_photo
from gatekeeper.services.video.review import track_thumbnail
from tests import videogen
from tests.integration.helpers import consent, ingest, people, person_row, school  # noqa: F401
from tests.oracles import exiftool_tags

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
W, H = 640, 360


@pytest.fixture
def pupils(ctx):
    u = school(ctx)  # TOM and EIL enrolled with online consent; the camera registered
    consent(ctx, "TOM", channel="display")
    return u


@pytest.fixture
def clip():
    return videogen.clip(seconds=2.0, fps=15, audio=True)


def _scanned(ctx, u, clip) -> int:
    result = ingest(ctx, u["office1"], clip.data, name="sports-day.mp4")
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    return result.photo_id


def _publish(ctx, u, photo_id, channels) -> dict[Channel, Path]:
    approve(ctx=ctx, photo_id=photo_id, channels=channels, user=u["editor1"])
    out = {}
    for channel in channels:
        res = publish_one(ctx=ctx, photo_id=photo_id, channel=channel, on=date.today())
        assert res.location, res.refused
        out[channel] = Path(res.location)
    return out


def _sound_streams(path: Path) -> list[str]:
    with av.open(str(path)) as movie:
        return [s.codec_context.name for s in movie.streams.audio]


def _exif_sound(path: Path) -> list[str]:
    return [k for k, v in exiftool_tags(path).items()
            if k.startswith("Track") and (k.startswith("Track2") or "Audio" in k)]


def _person(ctx, ext: str) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(Person.id).where(Person.external_id == ext))


@SQLITE
def test_sound_is_dropped_unless_the_dpo_keeps_it_for_the_channel(ctx, pupils, clip):
    assert {o.key for o in list_options(ctx=ctx)} >= {
        "video_sound_online", "video_sound_display", "video_sound_print"}
    photo_id = _scanned(ctx, pupils, clip)
    first = _publish(ctx, pupils, photo_id, [Channel.ONLINE])
    assert _sound_streams(first[Channel.ONLINE]) == [] and _exif_sound(first[Channel.ONLINE]) == []

    change_option(ctx=ctx, key="video_sound_display", text="yes", user=pupils["dpo1"])
    copies = _publish(ctx, pupils, photo_id, [Channel.DISPLAY])
    display = copies[Channel.DISPLAY]
    assert _sound_streams(display) == ["aac"] and _exif_sound(display)
    assert _sound_streams(first[Channel.ONLINE]) == []  # the other channel still has none
    data = display.read_bytes()
    for needle in (b"Canon", b"0123456789", b"Familyname", b"Mrs Smith", b"51.5074", b"Lavf"):
        assert needle not in data, needle
    with av.open(str(display)) as movie:
        assert all(set(s.metadata) <= {"language", "handler_name", "vendor_id"}
                   for s in movie.streams)

    # subject access never carries the sound (it can speak other people's names)
    change_option(ctx=ctx, key="video_sound_online", text="yes", user=pupils["dpo1"])
    export = subject_access_export(ctx=ctx, external_id="TOM", user=pupils["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        [name] = [n for n in zf.namelist() if n.startswith("photos/")]
        with av.open(io.BytesIO(zf.read(name))) as movie:
            assert not movie.streams.audio


@SQLITE
def test_the_dpos_sound_choice_reaches_the_copies_already_live(ctx, pupils, clip):
    """New-user walk: switching a channel's sound off changed only copies made afterwards; a
    live copy kept the sound (which can speak pupils' names) until something else re-rendered
    it. The option is a fact of the live copies: a change marks the photos live on its channel
    and the reconcile re-renders each copy without (or with) its sound, the old file gone."""
    from gatekeeper.services import rechecks
    from gatekeeper.services.photos.live import settle

    change_option(ctx=ctx, key="video_sound_display", text="yes", user=pupils["dpo1"])
    photo_id = _scanned(ctx, pupils, clip)
    copies = _publish(ctx, pupils, photo_id, [Channel.DISPLAY, Channel.ONLINE])
    assert _sound_streams(copies[Channel.DISPLAY]) == ["aac"]
    assert _sound_streams(copies[Channel.ONLINE]) == []

    change_option(ctx=ctx, key="video_sound_display", text="no", user=pupils["dpo1"])
    with ctx.uow() as uow:
        assert rechecks.due(uow.session, older_than=rechecks.now()) == [photo_id]
    settled = settle(ctx=ctx, photo_ids=[photo_id])
    assert len(settled.rerendered) == 1  # the display copy; the online one had no sound
    with ctx.uow() as uow:
        live = {p.channel: p for p in uow.session.get(Photo, photo_id).publications
                if p.taken_down_at is None}
    assert _sound_streams(Path(live["display"].location)) == []
    assert not copies[Channel.DISPLAY].exists()  # the copy with sound is gone
    assert live["display"].sound is False and live["online"].sound is False


def test_subject_access_shows_their_own_track_and_covers_everyone_else(ctx, pupils, clip):
    photo_id = _scanned(ctx, pupils, clip)
    assert photo_id
    boxes = videogen.face_boxes(ctx.faces)
    export = subject_access_export(ctx=ctx, external_id="EIL", user=pupils["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        [name] = [n for n in zf.namelist() if n.startswith("photos/")]
        frames = list(read_frames(zf.read(name), W, H))
    assert len(frames) == len(clip.truth)
    for i, frame in enumerate(frames):
        assert videogen.spread(frame, clip, boxes, "eileen", i) > 20, i
        assert videogen.spread(frame, clip, boxes, "tom", i) < 6, i


def test_subject_access_lifts_an_editors_cover_only_where_it_hides_the_requester(
        ctx, pupils, clip):
    """Probe: a cover an editor drew where Tom stands on his best frame was dropped from his
    export on every frame; Tom walks on, and what it hid there later (a name badge, someone
    else) was shown. It is lifted only on the frames where it hides him."""
    photo_id = _scanned(ctx, pupils, clip)
    with ctx.uow() as uow:
        [tom] = uow.session.scalars(select(Face).where(
            Face.photo_id == photo_id, Face.person_id == _person(ctx, "TOM"))).all()
        box = (tom.left, tom.top, tom.right, tom.bottom)
    add_cover(ctx=ctx, photo_id=photo_id, box=box, user=pupils["editor1"])
    export = subject_access_export(ctx=ctx, external_id="TOM", user=pupils["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        [name] = [n for n in zf.namelist() if n.startswith("photos/")]
        frames = list(read_frames(zf.read(name), W, H))
    boxes = videogen.face_boxes(ctx.faces)
    x0, y0, x1, y1 = box
    under, elsewhere = 0, 0
    for i, frame in enumerate(frames):
        tx0, ty0 = clip.truth[i]["tom"][:2]
        fx0, fy0, fx1, fy1 = boxes["tom"]
        ox = max(0, min(x1, tx0 + fx1) - max(x0, tx0 + fx0))
        oy = max(0, min(y1, ty0 + fy1) - max(y0, ty0 + fy0))
        share = ox * oy / ((x1 - x0) * (y1 - y0))
        spot = frame[y0:y1, x0:x1].reshape(-1, 3).astype(np.float64).std(axis=0).max()
        if share == 0:  # he has walked on: the spot stays covered
            elsewhere += 1
            assert spot < 6, i
        elif share > 0.8:  # he stands under it: his own face is his to see
            under += 1
            assert videogen.spread(frame, clip, boxes, "tom", i) > 20, i
    assert under and elsewhere


def _original_frames(ctx, photo_id):
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        return list(read_frames(ctx.stores.private.get(photo.original_key), W, H))


def _certificate(ctx) -> dict:
    with ctx.uow() as uow:
        return uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "certificate.issued").order_by(AuditEvent.id.desc())).first().details


def test_erasure_covers_the_person_in_place_and_rerenders_the_live_copies(ctx, pupils, clip):
    photo_id = _scanned(ctx, pupils, clip)
    copies = _publish(ctx, pupils, photo_id, [Channel.ONLINE, Channel.DISPLAY])
    boxes = videogen.face_boxes(ctx.faces)
    before = {c: p.read_bytes() for c, p in copies.items()}
    with ctx.uow() as uow:
        [her_track] = uow.session.scalars(select(Face.id).where(
            Face.photo_id == photo_id, Face.person_id == _person(ctx, "EIL"))).all()
    editor = pupils["editor1"]
    assert _spread(track_thumbnail(ctx=ctx, face_id=her_track, viewer=editor)) > 20  # cached

    plan = erase_person(ctx=ctx, external_id="EIL", user=pupils["dpo1"])
    assert plan.photos_to_cover == {photo_id: [plan.people[0]]} and plan.photos_to_delete == []
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo.status != "purged" and photo.media == "video"
        live = {Channel(p.channel): p for p in photo.publications if p.taken_down_at is None}
    # the online copy showed her: taken down; the display copy did not: re-rendered
    assert set(live) == {Channel.DISPLAY}
    original = _original_frames(ctx, photo_id)
    assert len(original) == len(clip.truth)
    for i, frame in enumerate(original):  # gone from the stored original, every frame
        assert videogen.spread(frame, clip, boxes, "eileen", i) < 6, i
        assert videogen.spread(frame, clip, boxes, "tom", i) > 20, i
    display = ctx.stores.public[Channel.DISPLAY].get(live[Channel.DISPLAY].key)
    assert display != before[Channel.DISPLAY]  # rendered again, from the new original
    for i, frame in enumerate(read_frames(display, W, H)):
        assert videogen.spread(frame, clip, boxes, "eileen", i) < 6, i
        assert videogen.spread(frame, clip, boxes, "tom", i) > 20, i
    with av.open(io.BytesIO(ctx.stores.private.get(photo.original_key))) as movie:
        assert not movie.streams.audio  # a voice cannot be covered: the sound goes
    cert = _certificate(ctx)
    assert cert["photos_covered"] == [photo_id] and cert["videos_covered"] == [photo_id]
    assert cert["videos_deleted"] == []
    # the editor's thumbnail of her track is cut from the new original, not the one cached
    # before (in another process, a CLI erasure clears no cache of the web's)
    assert _spread(track_thumbnail(ctx=ctx, face_id=her_track, viewer=editor)) < 6


def _spread(jpeg: bytes) -> float:
    """The pixels' spread over the middle half of a thumbnail (a cover is flat)."""
    a = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float32)
    h, w = a.shape[:2]
    return float(a[h // 4:3 * h // 4, w // 4:3 * w // 4].std(axis=(0, 1)).max())


@SQLITE
def test_the_purge_covers_a_leaver_in_place_and_deletes_a_video_of_leavers_only(
        ctx, pupils, clip):
    shared = _scanned(ctx, pupils, clip)
    alone = _scanned(ctx, pupils, videogen.Clip(
        videogen.write_mp4(videogen.frames_of(1.0, 15)[0][:8], 15,
                           tags=videogen.CAMERA_TAGS), 15, (W, H), []))
    with ctx.uow() as uow:  # the second clip: keep only Tom's track named
        photo = uow.session.get(Photo, alone)
        for f in photo.faces:
            if f.person_id != _person(ctx, "TOM"):
                f.person_id = None
        uow.commit()
    boxes = videogen.face_boxes(ctx.faces)
    tom, today = _person(ctx, "TOM"), date.today()
    people(ctx, person_row("TOM", left=today.isoformat()), person_row("EIL"))
    plan = apply_purge(ctx=ctx, today=today + timedelta(days=31))
    assert plan.people == [tom]
    assert plan.photos_to_cover == {shared: [tom]} and plan.photos_to_delete == [alone]
    for i, frame in enumerate(_original_frames(ctx, shared)):
        assert videogen.spread(frame, clip, boxes, "tom", i) < 6, i
        assert videogen.spread(frame, clip, boxes, "eileen", i) > 20, i
    cert = _certificate(ctx)
    assert cert["videos_covered"] == [shared] and cert["videos_deleted"] == [alone]
    with ctx.uow() as uow:
        assert uow.session.get(Photo, alone).status == "purged"
        assert not uow.session.scalars(select(Publication)).all()
