"""Reviewing a video: naming and covering a track, a cover over a time span (covered on exactly
the frames of its span in the published MP4, decoded with the project's video adapter), the
track thumbnails and the covered preview (reviewers only, what publishing would show)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from consent_db.models import Person, Photo
from gatekeeper.adapters.video import read_frames
from gatekeeper.domain.movie import read_movie
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidInput, InvalidState, PermissionDenied
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.live import settle
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.read import photo_detail
from gatekeeper.services.photos.review import add_cover, approve, cover_track, identify_face
from gatekeeper.services.photos.scan import scan_photo
from gatekeeper.services.video.review import track_thumbnail, video_preview
from tests import videogen
from tests.integration.helpers import TOM, consent, event_photo, ingest, people, person_row, users

W, H = 640, 360
PATCH = (560, 24, 632, 160)  # background only: no face passes there in the generated clip


@pytest.fixture
def school(ctx):
    """TOM (online consent) enrolled; ANN (online consent) on roll but not enrolled; the school
    camera registered. Eileen's face in the clip is nobody the engine knows."""
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("ANN"))
    consent(ctx, "TOM")
    consent(ctx, "ANN")
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    return u


def _clip(seconds: float) -> videogen.Clip:
    """The generated clip with a black and white check (a name badge, say) where PATCH is."""
    frames, truth = videogen.frames_of(seconds, 15)
    x0, y0, x1, y1 = PATCH
    yy, xx = np.mgrid[y0:y1, x0:x1]
    badge = np.where(((xx // 8 + yy // 8) % 2)[..., None] == 0, 255, 0).astype(np.uint8)
    painted = []
    for f in frames:
        f = f.copy()
        f[y0:y1, x0:x1] = badge
        painted.append(f)
    return videogen.Clip(videogen.write_mp4(painted, 15, tags=videogen.CAMERA_TAGS), 15, (W, H),
                         truth)


def _scanned(ctx, u, seconds: float = 2.0) -> tuple[int, videogen.Clip]:
    clip = _clip(seconds)
    result = ingest(ctx, u["office1"], clip.data, name="sports.mp4")
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    return result.photo_id, clip


def _tracks(ctx, photo_id: int) -> dict[str, int]:
    """Face id of each track, by who is in it (Tom's known; the other is Eileen's)."""
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        tom = uow.session.query(Person).filter_by(external_id="TOM").one().id
        assert len(photo.faces) == 2, [(f.person_id, f.frames) for f in photo.faces]
        return {"tom" if f.person_id == tom else "eileen": f.id for f in photo.faces}


def _publish(ctx, u, photo_id: int) -> bytes:
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=u["editor1"])
    done = publish_one(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE, on=date.today())
    assert done.location, done.refused
    return Path(done.location).read_bytes()


def _spread(frame: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = box
    return float(frame[y0:y1, x0:x1].astype(np.float64).reshape(-1, 3).std(axis=0).max())


def _face_spread(frame: np.ndarray, tile: tuple[int, int, int, int]) -> float:
    """The spread of the middle of a pasted face tile (a covered head is one flat colour)."""
    x0, y0, x1, y1 = tile
    dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
    return _spread(frame, (x0 + dx, y0 + dy, x1 - dx, y1 - dy))


def test_a_time_span_cover_covers_exactly_the_frames_of_its_span(ctx, school):
    photo_id, clip = _scanned(ctx, school)
    add_cover(ctx=ctx, photo_id=photo_id, box=PATCH, user=school["editor1"], span=(0.5, 1.2))
    detail = photo_detail(ctx=ctx, photo_id=photo_id)
    assert detail["covers"][0]["start_s"] == 0.5 and detail["covers"][0]["end_s"] == 1.2
    frames = list(read_frames(_publish(ctx, school, photo_id), W, H))
    assert len(frames) == 30
    # at 15 frames a second, 0.5 s to 1.2 s is on screen in frames 7 (0.467-0.533 s) to 17
    covered = [i for i, f in enumerate(frames) if _spread(f, PATCH) < 3]
    assert covered == list(range(7, 18)), [round(_spread(f, PATCH), 1) for f in frames]
    assert all(_spread(f, PATCH) > 60 for i, f in enumerate(frames) if i not in covered)
    # Tom is shown throughout: a cover for a time span hides no track beyond its rectangle
    assert all(_face_spread(f, where["tom"]) > 20 for f, where in zip(frames, clip.truth,
                                                                       strict=True))
    # a second span added while the video is live: the live copy is re-rendered with both
    add_cover(ctx=ctx, photo_id=photo_id, box=PATCH, user=school["editor1"], span=(1.6, 1.7))
    assert settle(ctx=ctx, photo_ids=[photo_id]).rerendered
    with ctx.uow() as uow:
        [live] = [p for p in uow.session.get(Photo, photo_id).publications
                  if p.taken_down_at is None]
        frames = list(read_frames(Path(live.location).read_bytes(), W, H))
    covered = [i for i, f in enumerate(frames) if _spread(f, PATCH) < 3]
    assert covered == [*range(7, 18), 24, 25]  # 1.6 s to 1.7 s: frames 24 (1.6-1.667) and 25


def test_subject_access_keeps_a_time_span_cover_to_its_frames(ctx, school):
    """The export covers an editor's timed rectangle on its frames only, as publishing does
    (it was applied on every frame)."""
    import io
    import zipfile

    from gatekeeper.services.dpo.register import subject_access_export

    photo_id, _clip_ = _scanned(ctx, school)
    add_cover(ctx=ctx, photo_id=photo_id, box=PATCH, user=school["editor1"], span=(0.5, 1.2))
    export = subject_access_export(ctx=ctx, external_id="TOM", user=school["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        [name] = [n for n in zf.namelist() if n.startswith("photos/")]
        frames = list(read_frames(zf.read(name), W, H))
    covered = [i for i, f in enumerate(frames) if _spread(f, PATCH) < 3]
    assert covered == list(range(7, 18)), [round(_spread(f, PATCH), 1) for f in frames]


def test_a_time_span_cover_is_refused_on_a_photo_and_when_it_makes_no_sense(ctx, school):
    photo_id, _ = _scanned(ctx, school, seconds=1.0)
    editor = school["editor1"]
    for span, words in (((1.0, 0.5), "later end"), ((-1.0, 0.5), "later end"),
                        ((5.0, 6.0), "after the video ends"), ((float("nan"), 1.0), "later end")):
        with pytest.raises(InvalidInput, match=words):
            add_cover(ctx=ctx, photo_id=photo_id, box=PATCH, user=editor, span=span)
    still = ingest(ctx, school["office1"], event_photo(), name="still.jpg")
    with pytest.raises(InvalidInput, match="still photo"):
        add_cover(ctx=ctx, photo_id=still.photo_id, box=(1, 1, 20, 20), user=editor,
                  span=(0.0, 1.0))
    with ctx.uow() as uow:
        assert uow.session.get(Photo, photo_id).covers == []


def test_identify_a_track_then_cover_it_follows_through_to_the_live_copy(ctx, school):
    photo_id, clip = _scanned(ctx, school)
    tracks = _tracks(ctx, photo_id)
    editor = school["editor1"]
    with ctx.uow() as uow:
        revision = uow.session.get(Photo, photo_id).revision
    # Eileen's track is nobody known: covered; the editor names it as ANN, who has consent
    identify_face(ctx=ctx, face_id=tracks["eileen"], external_id="ANN", user=editor)
    detail = photo_detail(ctx=ctx, photo_id=photo_id)
    assert set(detail["channels"]["online"]["shown_faces"]) == {tracks["tom"], tracks["eileen"]}
    frames = list(read_frames(_publish(ctx, school, photo_id), W, H))
    assert all(_face_spread(f, where["eileen"]) > 20 for f, where in zip(frames, clip.truth,
                                                                          strict=True))
    # then covers the track: one cover over its best box for its whole span, the track is
    # hand-covered (never shown), and the live copy is re-rendered with it covered everywhere
    cover_track(ctx=ctx, face_id=tracks["eileen"], user=editor)
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        [cover] = photo.covers
        face = next(f for f in photo.faces if f.id == tracks["eileen"])
        assert (cover.x0, cover.y0, cover.x1, cover.y1) == (face.left, face.top, face.right,
                                                            face.bottom)
        seen = [r[0] for r in face.frames]
        assert cover.start_ms <= min(seen) * 1000 / 15 and cover.end_ms >= (max(seen) + 1) * 1000 / 15
        assert photo.revision == revision + 2 and photo.approvals == []
    detail = photo_detail(ctx=ctx, photo_id=photo_id)
    assert detail["channels"]["online"]["shown_faces"] == [tracks["tom"]]
    settled = settle(ctx=ctx, photo_ids=[photo_id])
    assert settled.rerendered
    with ctx.uow() as uow:
        [live] = [p for p in uow.session.get(Photo, photo_id).publications
                  if p.taken_down_at is None]
        data = Path(live.location).read_bytes()
    frames = list(read_frames(data, W, H))
    assert all(_face_spread(f, where["eileen"]) < 6 for f, where in zip(frames, clip.truth,
                                                                         strict=True))
    assert all(_face_spread(f, where["tom"]) > 20 for f, where in zip(frames, clip.truth,
                                                                       strict=True))


def test_thumbnails_and_preview_are_for_reviewers_and_show_what_publishing_would(ctx, school):
    photo_id, clip = _scanned(ctx, school)
    tracks = _tracks(ctx, photo_id)
    editor, office = school["editor1"], school["office1"]
    thumb = track_thumbnail(ctx=ctx, face_id=tracks["tom"], viewer=editor)
    assert thumb[:3] == b"\xff\xd8\xff"
    with pytest.raises(PermissionDenied):
        track_thumbnail(ctx=ctx, face_id=tracks["tom"], viewer=office)  # their own upload
    with pytest.raises(PermissionDenied):
        video_preview(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE, viewer=office)
    data = video_preview(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE, viewer=editor)
    info = read_movie(data)
    assert info.codec == "h264" and not info.has_audio
    frames = list(read_frames(data, W, H))  # scaled back to the frame size to compare
    assert len(frames) == len(clip.truth)
    for f, where in zip(frames, clip.truth, strict=True):
        assert _face_spread(f, where["eileen"]) < 8  # unknown: covered
        assert _face_spread(f, where["tom"]) > 20  # consent: shown
    # the same state gives the cached bytes; a correction gives a new preview
    assert video_preview(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE,
                         viewer=editor) is data
    identify_face(ctx=ctx, face_id=tracks["tom"], external_id=None, user=editor)
    again = list(read_frames(video_preview(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE,
                                           viewer=editor), W, H))
    assert all(_face_spread(f, where["tom"]) < 8 for f, where in zip(again, clip.truth,
                                                                      strict=True))
    # a video not scanned yet has no preview (no tracks: nothing would be covered)
    fresh = ingest(ctx, school["office1"], _clip(1.0).data, name="later.mp4")
    with pytest.raises(InvalidState, match="received"):
        video_preview(ctx=ctx, photo_id=fresh.photo_id, channel=Channel.ONLINE, viewer=editor)
    # a channel on which the video is blocked has no preview
    people(ctx, person_row("TOM", flag="yes"))
    identify_face(ctx=ctx, face_id=tracks["tom"], external_id="TOM", user=editor)
    with pytest.raises(InvalidState, match="blocked"):
        video_preview(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE, viewer=editor)


def test_the_cli_covers_an_area_of_a_video_for_a_time_span(tmp_path, capsys):
    import json

    from gatekeeper.entrypoints.cli import main
    from tests.integration.helpers import PASSWORD

    home = ["--home", str(tmp_path / "h")]
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD)
    assert main(["init", *home]) == 0
    for name, role in (("office1", "office"), ("editor1", "editor")):
        assert main(["users", "add", name, "--role", role, "--password-file", str(pw),
                     *home]) == 0
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(_clip(1.0).data)
    assert main(["ingest", str(clip), "--event", "Trip", "--by", "office1", *home]) == 0
    box = [str(v) for v in PATCH]
    capsys.readouterr()
    assert main(["photos", "cover", "1", *box, "--from", "0.25", "--to", "0.5", "--by",
                 "editor1", *home]) == 0
    assert "from 0.25 s to 0.5 s added" in capsys.readouterr().out
    assert main(["photos", "cover", "1", *box, "--from", "0.25", "--by", "editor1", *home]) != 0
    assert "both --from and --to" in capsys.readouterr().err
    assert main(["photos", "show", "1", "--json", *home]) == 0
    [cover] = json.loads(capsys.readouterr().out)["covers"]
    assert (cover["box"], cover["start_s"], cover["end_s"]) == ([*PATCH], 0.25, 0.5)
