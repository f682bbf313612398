"""Reviewing a video: naming and covering a track, a cover over a time span (covered on exactly
the frames of its span in the published MP4, decoded with the project's video adapter), the
track thumbnails and the covered preview (reviewers only, what publishing would show; rendered
by a worker into the private store, never in the web request, and deleted with the video)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from consent_db.models import Person, Photo, utcnow
from gatekeeper.adapters.video import read_frames
from gatekeeper.domain.movie import read_movie
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.context import NoJobQueue
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.live import settle
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.read import photo_detail
from gatekeeper.services.photos.review import add_cover, approve, cover_track, identify_face
from gatekeeper.services.photos.scan import scan_photo
from gatekeeper.services.video.previews import (
    PreviewState,
    preview_status,
    previews_prefix,
    render_preview,
    video_preview,
)
from gatekeeper.services.video.review import track_thumbnail
from tests import videogen
from tests.integration.helpers import TOM, consent, event_photo, ingest, people, person_row, users
from tests.integration.test_web_roles import signed_in

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
    # then covers the track: one cover naming the track (its best box and span kept for a
    # rescan), the track is hand-covered (never shown), and the live copy is re-rendered with
    # it covered everywhere it moves, and nothing more
    cover_track(ctx=ctx, face_id=tracks["eileen"], user=editor)
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        [cover] = photo.covers
        assert cover.face_id == tracks["eileen"]
        face = next(f for f in photo.faces if f.id == tracks["eileen"])
        spot = (face.left, face.top, face.right, face.bottom)
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
    # New-user walk: the track's cover was also a fixed rectangle where she stood on her best
    # frame, held for her whole span: that spot stayed covered after she walked on (a
    # consented pupil passing there would have been covered). Now it is as in the source.
    away = [i for i, where in enumerate(clip.truth) if where["eileen"][2] < spot[0]
            or where["eileen"][0] > spot[2]]
    assert away
    x0, y0, x1, y1 = spot
    stripe = [x - x0 for x in range(x0, x1) if x % 16 == 0]  # the background's dark columns
    for i in away:  # a flat cover takes the stripes away; uncovered, they are 20 levels darker
        spot_px = frames[i][y0:y1, x0:x1, 1].astype(np.float64)
        plain = np.delete(spot_px, stripe, axis=1).mean()
        assert plain - spot_px[:, stripe].mean() > 10, i
    detail = photo_detail(ctx=ctx, photo_id=photo_id)
    assert detail["covers"][0]["track"] == tracks["eileen"] and detail["manual_covers"] == []


class Jobs(NoJobQueue):
    """The preview jobs the web side asks for, kept for the test to run (the worker's part)."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, Channel]] = []

    def video_preview(self, photo_id: int, channel: Channel) -> None:
        self.asked.append((photo_id, channel))


@pytest.fixture
def jobs(ctx):
    ctx.jobs = Jobs()
    return ctx.jobs


def _work(ctx, jobs: Jobs) -> list[str]:
    """What a worker does with the jobs asked for so far."""
    done = [render_preview(ctx=ctx, photo_id=p, channel=c) for p, c in jobs.asked]
    jobs.asked.clear()
    return done


def _stored(ctx, photo_id: int) -> list[str]:
    """Every preview object of the video in the private store."""
    with ctx.uow() as uow:
        sha = uow.session.get(Photo, photo_id).sha256
    return list(ctx.stores.private.keys(previews_prefix(sha)))


def _mp4s(ctx, photo_id: int) -> list[str]:
    return [k for k in _stored(ctx, photo_id) if k.endswith(".mp4")]


def _status(ctx, photo_id: int, viewer) -> PreviewState:
    return preview_status(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE,
                          viewer=viewer).state


def _preview(ctx, photo_id: int, viewer) -> bytes:
    return video_preview(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE, viewer=viewer)


def test_thumbnails_and_preview_are_for_reviewers_and_show_what_publishing_would(
        ctx, school, jobs):
    photo_id, clip = _scanned(ctx, school)
    tracks = _tracks(ctx, photo_id)
    editor, office = school["editor1"], school["office1"]
    thumb = track_thumbnail(ctx=ctx, face_id=tracks["tom"], viewer=editor)
    assert thumb[:3] == b"\xff\xd8\xff"
    with pytest.raises(PermissionDenied):
        track_thumbnail(ctx=ctx, face_id=tracks["tom"], viewer=office)  # their own upload
    for ask in (_status, _preview):
        with pytest.raises(PermissionDenied):
            ask(ctx, photo_id, office)
    assert jobs.asked == [] and _stored(ctx, photo_id) == []
    # the editor's first look asks a worker for it, once, and renders nothing itself
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING
    with pytest.raises(NotFound, match="being prepared"):
        _preview(ctx, photo_id, editor)
    assert jobs.asked == [(photo_id, Channel.ONLINE)]
    assert [k.rsplit(".", 1)[1] for k in _stored(ctx, photo_id)] == ["pending"]
    # the worker renders it into the private store, never a public one
    assert _work(ctx, jobs) == ["ready"]
    assert _status(ctx, photo_id, editor) is PreviewState.READY
    data = _preview(ctx, photo_id, editor)
    [key] = _stored(ctx, photo_id)
    assert key.endswith(".mp4") and ctx.stores.private.get(key) == data
    assert all(list(store.keys()) == [] for store in ctx.stores.public.values())
    info = read_movie(data)
    assert info.codec == "h264" and not info.has_audio
    frames = list(read_frames(data, W, H))  # scaled back to the frame size to compare
    assert len(frames) == len(clip.truth)
    for f, where in zip(frames, clip.truth, strict=True):
        assert _face_spread(f, where["eileen"]) < 8  # unknown: covered
        assert _face_spread(f, where["tom"]) > 20  # consent: shown
        assert _spread(f, PATCH) > 60  # no cover there yet
    # the same state gives the stored bytes and asks for nothing
    assert _preview(ctx, photo_id, editor) == data and jobs.asked == []
    # a correction makes a new preview; the old one is deleted when the new one is written
    identify_face(ctx=ctx, face_id=tracks["tom"], external_id=None, user=editor)
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING
    assert _work(ctx, jobs) == ["ready"]
    again = list(read_frames(_preview(ctx, photo_id, editor), W, H))
    assert all(_face_spread(f, where["tom"]) < 8 for f, where in zip(again, clip.truth,
                                                                      strict=True))
    assert len(_mp4s(ctx, photo_id)) == 1 and _mp4s(ctx, photo_id) != [key]
    # so does a new cover
    before = _mp4s(ctx, photo_id)
    add_cover(ctx=ctx, photo_id=photo_id, box=PATCH, user=editor)
    with pytest.raises(NotFound, match="being prepared"):
        _preview(ctx, photo_id, editor)
    assert _work(ctx, jobs) == ["ready"]
    covered = list(read_frames(_preview(ctx, photo_id, editor), W, H))
    assert all(_spread(f, PATCH) < 8 for f in covered)  # was > 60
    assert len(_mp4s(ctx, photo_id)) == 1 and _mp4s(ctx, photo_id) != before
    # a video not scanned yet has no preview (no tracks: nothing would be covered)
    fresh = ingest(ctx, school["office1"], _clip(1.0).data, name="later.mp4")
    with pytest.raises(InvalidState, match="received"):
        _status(ctx, fresh.photo_id, editor)
    # a channel on which the video is blocked has no preview
    people(ctx, person_row("TOM", flag="yes"))
    identify_face(ctx=ctx, face_id=tracks["tom"], external_id="TOM", user=editor)
    for ask in (_status, _preview):
        with pytest.raises(InvalidState, match="blocked"):
            ask(ctx, photo_id, editor)
    assert jobs.asked == []


def test_the_page_says_preparing_until_a_worker_has_rendered_the_preview(ctx, school, jobs):
    """The web request never renders: the page, its polled fragment and the MP4's address
    say "preparing" (404 for the MP4: JSON for a player, a page for a browser) until the job
    has run, then the player is there and the MP4 is served in byte ranges."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    photo_id, _clip_ = _scanned(ctx, school)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        editor, _ = signed_in(app, "editor1")
        mp4 = editor.get(f"/photos/{photo_id}/video/online", headers={"Accept": "*/*"})
        assert mp4.status_code == 404 and "being prepared" in mp4.json()["detail"]
        # the channel's full render (a photo's preview link) is no way round: it points here
        full = editor.get(f"/photos/{photo_id}/preview/online", follow_redirects=False)
        assert full.status_code == 303
        assert full.headers["location"] == f"/photos/{photo_id}/video/online"
        page = editor.get(f"/photos/{photo_id}")
        assert page.status_code == 200
        assert "Preparing the preview" in page.text and "<video" not in page.text
        assert f'data-poll="/photos/{photo_id}/video/online/player"' in page.text
        assert '<noscript><meta http-equiv="refresh"' in page.text  # without JavaScript
        html = editor.get(f"/photos/{photo_id}/video/online", headers={"Accept": "text/html"})
        assert html.status_code == 404 and "being prepared" in html.text
        assert html.headers["content-type"].startswith("text/html")
        player = editor.get(f"/photos/{photo_id}/video/online/player")
        assert player.status_code == 200 and "Preparing the preview" in player.text
        assert jobs.asked == [(photo_id, Channel.ONLINE)]  # asked once, however often polled
        office, _ = signed_in(app, "office1")
        for url in ("video/online", "video/online/player"):
            assert office.get(f"/photos/{photo_id}/{url}").status_code == 403, url

        assert _work(ctx, jobs) == ["ready"]
        player = editor.get(f"/photos/{photo_id}/video/online/player")
        assert '<video id="preview-video"' in player.text
        assert f'src="/photos/{photo_id}/video/online"' in player.text
        assert "data-poll" not in player.text and "Preparing" not in player.text
        page = editor.get(f"/photos/{photo_id}")
        assert "<video" in page.text and "Preparing" not in page.text and "noscript" not in page.text
        [key] = _mp4s(ctx, photo_id)
        whole = editor.get(f"/photos/{photo_id}/video/online")
        assert whole.status_code == 200 and whole.content == ctx.stores.private.get(key)
        assert whole.headers["content-type"] == "video/mp4"
        part = editor.get(f"/photos/{photo_id}/video/online", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
        assert jobs.asked == []


def test_a_worker_killed_while_rendering_is_noticed_by_its_silence(ctx, school, jobs,
                                                                   monkeypatch):
    """A rendering worker renews its marker; one that died is asked again after DEAD_AFTER of
    silence (not after ASK_AGAIN), and a second job leaves a live render to its worker."""
    from gatekeeper.services.video import previews, publish

    photo_id, _clip_ = _scanned(ctx, school)
    editor = school["editor1"]
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING
    [(pid, channel)] = jobs.asked
    jobs.asked.clear()
    [marker] = _stored(ctx, photo_id)

    def killed(**kw):  # the worker renders a few frames, saying it is alive, then dies
        kw["beat"]()
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "render_video", killed)
    with pytest.raises(KeyboardInterrupt):
        render_preview(ctx=ctx, photo_id=pid, channel=channel)
    monkeypatch.undo()
    assert ctx.stores.private.get(marker).decode().startswith("rendering ")
    # while it might be alive the page asks nobody, and a second job leaves it alone
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING and jobs.asked == []
    assert render_preview(ctx=ctx, photo_id=pid, channel=channel) == "rendering elsewhere"
    # heard of last DEAD_AFTER ago, long before ASK_AGAIN: dead, so asked for again
    when = utcnow() - previews.DEAD_AFTER - timedelta(seconds=1)
    ctx.stores.private.put(marker, f"rendering {when.isoformat()}".encode())
    assert previews.DEAD_AFTER < previews.ASK_AGAIN
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING
    assert jobs.asked == [(photo_id, Channel.ONLINE)]
    assert _work(ctx, jobs) == ["ready"]
    assert [k.rsplit(".", 1)[1] for k in _stored(ctx, photo_id)] == ["mp4"]


def test_a_failed_preview_is_shown_on_the_page_and_can_be_asked_for_again(
        ctx, school, jobs, monkeypatch):
    from fastapi.testclient import TestClient

    from gatekeeper.errors import InvalidImage
    from gatekeeper.services.video import publish
    from web.app import create_app

    photo_id, _clip_ = _scanned(ctx, school)

    def broken(**_kw):
        raise InvalidImage("the video could not be decoded (test)")

    monkeypatch.setattr(publish, "render_video", broken)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        editor, token = signed_in(app, "editor1")
        editor.get(f"/photos/{photo_id}")
        assert _work(ctx, jobs) == ["failed"]
        assert _mp4s(ctx, photo_id) == []
        for url in (f"/photos/{photo_id}", f"/photos/{photo_id}/video/online/player"):
            text = editor.get(url).text
            assert "could not be made" in text and "could not be decoded (test)" in text, url
            assert "Preparing" not in text and 'id="preview-retry"' in text
        mp4 = editor.get(f"/photos/{photo_id}/video/online", headers={"Accept": "*/*"})
        assert mp4.status_code == 404 and "could not be decoded" in mp4.json()["detail"]
        assert jobs.asked == []  # a failure is not asked for again by itself
        monkeypatch.undo()
        again = editor.post(f"/photos/{photo_id}/video/online/retry", data={"csrf": token})
        assert again.status_code == 303
        assert again.headers["location"] == f"/photos/{photo_id}?preview=online#preview"
        assert jobs.asked == [(photo_id, Channel.ONLINE)]
        assert _work(ctx, jobs) == ["ready"]
        assert "<video" in editor.get(f"/photos/{photo_id}/video/online/player").text


def test_huey_renders_the_preview_when_the_queue_runs_its_jobs_at_once(ctx, school):
    """The task is registered and wired through the JobQueue port (huey's immediate mode, as
    a worker beside `gatekeeper serve` would run it)."""
    from workers.queue import HueyJobQueue
    from workers.tasks import make_huey

    photo_id, _clip_ = _scanned(ctx, school)
    ctx.jobs = HueyJobQueue(make_huey(ctx.settings, immediate=True, ctx=ctx))
    editor = school["editor1"]
    assert _status(ctx, photo_id, editor) is PreviewState.PREPARING  # the job ran meanwhile
    assert _status(ctx, photo_id, editor) is PreviewState.READY
    assert read_movie(_preview(ctx, photo_id, editor)).codec == "h264"


def test_erasure_and_the_purge_remove_the_previews(ctx, school, jobs):
    """Covered in place (someone else is in it): the previews made from the old original go
    with it; deleted (nobody else is): every preview goes with the video."""
    from gatekeeper.services.dpo.purge import erase_person

    dpo, editor = school["dpo1"], school["editor1"]
    shared, _clip_ = _scanned(ctx, school)
    identify_face(ctx=ctx, face_id=_tracks(ctx, shared)["eileen"], external_id="ANN",
                  user=editor)
    _status(ctx, shared, editor)
    assert _work(ctx, jobs) == ["ready"] and len(_mp4s(ctx, shared)) == 1
    erase_person(ctx=ctx, external_id="ANN", user=dpo)
    with ctx.uow() as uow:
        assert uow.session.get(Photo, shared).status == "awaiting_review"  # Tom remains
    assert _stored(ctx, shared) == []
    # the next preview is made from the covered original
    assert _status(ctx, shared, editor) is PreviewState.PREPARING
    assert _work(ctx, jobs) == ["ready"] and len(_mp4s(ctx, shared)) == 1
    erase_person(ctx=ctx, external_id="TOM", user=dpo)  # nobody else is named in it now
    with ctx.uow() as uow:
        assert uow.session.get(Photo, shared).status == "purged"
    assert _stored(ctx, shared) == []


def test_a_preview_made_for_an_earlier_decision_leaves_the_store_when_the_decision_changes(
        ctx, school, jobs):
    """Probe: a preview showing Tom stayed in the private store after the editor covered his
    track, drew a cover and his consent was withdrawn, until the video was purged (it could not
    be fetched, but it kept his face where nothing needed it). A correction or a change of fact
    reconciles the video (`settle`), which drops every preview no channel's decision today
    would make; one that still stands is kept."""
    editor = school["editor1"]
    photo_id, _clip_ = _scanned(ctx, school)
    for channel in (Channel.ONLINE, Channel.DISPLAY):
        preview_status(ctx=ctx, photo_id=photo_id, channel=channel, viewer=editor)
    consent(ctx, "TOM", channel="display")
    assert _work(ctx, jobs) == ["ready", "ready"] and len(_mp4s(ctx, photo_id)) == 2
    settle(ctx=ctx, photo_ids=[photo_id])  # nothing changed since: both stand
    assert len(_mp4s(ctx, photo_id)) == 2
    consent(ctx, "TOM", channel="display", granted="no")  # he is covered on display now
    settle(ctx=ctx, photo_ids=[photo_id])
    [kept] = _mp4s(ctx, photo_id)
    assert "-online-" in kept  # the online one still shows what publishing would
    add_cover(ctx=ctx, photo_id=photo_id, box=PATCH, user=editor)
    settle(ctx=ctx, photo_ids=[photo_id])
    assert _stored(ctx, photo_id) == []


def test_a_preview_finished_after_an_erasure_is_not_kept(ctx, school, jobs, monkeypatch):
    """The worker renders for minutes: an erasure that commits meanwhile (and deletes the
    video's previews after its commit) must not be followed by a preview written from the
    original it replaced."""
    from gatekeeper.services.dpo.purge import erase_person
    from gatekeeper.services.video import publish

    photo_id, _clip_ = _scanned(ctx, school)
    render = publish.render_video

    def slow(**kw):
        data = render(**kw)
        erase_person(ctx=ctx, external_id="TOM", user=school["dpo1"])
        return data

    monkeypatch.setattr(publish, "render_video", slow)
    _status(ctx, photo_id, school["editor1"])
    assert _work(ctx, jobs) == ["stale"]
    assert _stored(ctx, photo_id) == []


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
    # minutes:seconds as on the web form (a probe found the CLI took seconds only)
    assert main(["photos", "cover", "1", *box, "--from", "0:00.5", "--to", "0:01", "--by",
                 "editor1", *home]) == 0
    assert "from 0.5 s to 1 s added" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:  # argparse's refusal of a malformed argument
        main(["photos", "cover", "1", *box, "--from", "1:2:3", "--to", "5", "--by", "editor1",
              *home])
    assert refused.value.code == 2
    assert "minutes:seconds (1:05), not '1:2:3'" in capsys.readouterr().err


def test_a_held_videos_player_says_why_not_that_something_changed(ctx, school):
    """A probe opened the player of a held video: the refusal (409) was titled "Changed
    meanwhile", though nothing had changed; the page now says the step is not possible now."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    bare = videogen.clip(seconds=1.0, tags={})
    held = ingest(ctx, school["office1"], bare.data, name="phone.mp4")
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        editor, _ = signed_in(app, "editor1")
        page = editor.get(f"/photos/{held.photo_id}/video/online/player",
                          headers={"Accept": "text/html"})
        assert page.status_code == 409
        assert "Not possible now" in page.text and "Changed meanwhile" not in page.text
        assert "held" in page.text
