"""The editor reviews a video in real headless Chromium at 1280 and 390 px: the tracks as
thumbnails with their decision per channel, a covered preview the browser plays (rendered by a
worker: the page says "Preparing the preview…" until it is ready, then swaps the player in by
itself, or without JavaScript by refreshing), naming a
track, covering a track and an area for a time span, and approving, all from the keyboard; the
office sees the stage of their own upload and nothing of its faces. Axe clean, no sideways
scrolling, screenshots opened and checked."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

from consent_db.models import Person, Photo
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.context import NoJobQueue
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.photos.scan import scan_pending
from gatekeeper.services.video.previews import render_preview
from tests import videogen
from tests.e2e.test_browser import SHOTS, browser, check_page, live, sign_in  # noqa: F401
from tests.integration.helpers import TOM, consent, people, person_row, users

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


class Worker(NoJobQueue):
    """The preview jobs, run in a thread as a worker process would; held (not run) until
    `release`, so the page can be seen while the preview is being prepared."""

    def __init__(self, ctx) -> None:
        self.ctx, self.held, self.asked = ctx, True, []
        self.threads: list[threading.Thread] = []

    def video_preview(self, photo_id: int, channel: Channel) -> None:
        self.asked.append((photo_id, channel))
        if not self.held:
            self._run(photo_id, channel)

    def _run(self, photo_id: int, channel: Channel) -> None:
        t = threading.Thread(target=render_preview, kwargs={
            "ctx": self.ctx, "photo_id": photo_id, "channel": channel}, daemon=True)
        t.start()
        self.threads.append(t)

    def release(self) -> None:
        self.held = False
        for photo_id, channel in self.asked:
            self._run(photo_id, channel)


@pytest.fixture
def worker(ctx):
    ctx.jobs = Worker(ctx)
    yield ctx.jobs
    for t in ctx.jobs.threads:
        t.join(timeout=120)


def _video(ctx) -> tuple[int, dict[str, int]]:
    """A scanned clip: Tom (enrolled, online consent) and Eileen (nobody known)."""
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("ANN"))
    consent(ctx, "TOM")
    consent(ctx, "ANN")
    enrol(ctx=ctx, external_id="TOM", photos=[("t.jpg", TOM.read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    shot = ingest_bytes(ctx=ctx, data=videogen.clip(seconds=2.0, fps=15).data, name="race.mp4",
                        event_name="Sports Day", actor_id=u["office1"].id)
    assert scan_pending(ctx=ctx)
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, shot.photo_id)
        tom = uow.session.query(Person).filter_by(external_id="TOM").one().id
        tracks = {"tom" if f.person_id == tom else "eileen": f.id for f in photo.faces}
    assert len(tracks) == 2
    return shot.photo_id, tracks


def _plays(page) -> float:
    """The preview's duration once the browser has loaded and decoded its first frame."""
    page.wait_for_function("() => { const v = document.getElementById('preview-video');"
                           " return v && v.readyState >= 2; }", timeout=120_000)
    return float(page.evaluate("document.getElementById('preview-video').duration"))


def _shot_opens(name: str, width: int) -> None:
    with Image.open(SHOTS / f"a11y-{name}-{width}.png") as img:
        assert img.width == width and img.height > 400, img.size


def test_editor_reviews_a_video_by_keyboard_at_desktop_and_phone_width(ctx, live, browser,  # noqa: F811
                                                                        worker):
    photo_id, tracks = _video(ctx)
    # the preview is being prepared by a worker (held here): the page says so, at both widths
    pages = {}
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(page, live, "editor1")
        page.wait_for_url(f"{live}/review")
        page.goto(f"{live}/photos/{photo_id}")
        assert page.inner_text("h1").startswith(f"Video {photo_id}")
        assert "Preparing the preview" in page.inner_text("#preview-preparing")
        assert page.locator("#preview-video").count() == 0
        check_page(page, "video-preparing", width)
        _shot_opens("video-preparing", width)
        pages[width] = page
    # without JavaScript the page refreshes itself until the preview is there
    plain = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    still = plain.new_page()
    sign_in(still, live, "editor1")
    still.wait_for_url(f"{live}/review")
    still.goto(f"{live}/photos/{photo_id}")
    assert still.locator("#preview-preparing").count() == 1
    page.wait_for_timeout(4500)  # two polls: the preview is asked for once, however often polled
    assert worker.asked == [(photo_id, Channel.ONLINE)]
    worker.release()
    still.wait_for_selector("#preview-video", timeout=120_000)  # its refresh (10 s)
    plain.close()
    for width, page in pages.items():
        # the page swapped the player in by itself, with no reload
        assert _plays(page) == pytest.approx(2.0, abs=0.15)
        assert page.locator("#preview-preparing").count() == 0
        assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
        # the player can seek (the preview is served in byte ranges)
        assert page.evaluate("""() => new Promise(done => {
            const v = document.getElementById('preview-video');
            v.addEventListener('seeked', () => done(v.seekable.end(0) > 1.5 && v.currentTime > 1),
                               {once: true});
            v.currentTime = 1.2; })""")
        thumbs = page.locator("ol.tracks img.thumb")
        assert thumbs.count() == 2
        page.wait_for_function("Array.from(document.querySelectorAll('ol.tracks img.thumb'))"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        tom, eileen = (page.locator(f"#face-{tracks[k]}") for k in ("tom", "eileen"))
        assert "online: shown" in tom.inner_text() and "TOM" in tom.inner_text()
        assert "online: covered" in eileen.inner_text() and "unknown" in eileen.inner_text()
        check_page(page, "video", width)
        _shot_opens("video", width)
        page.close()
    assert len(worker.asked) == 1

    page = browser.new_page(viewport={"width": 390, "height": 900})
    sign_in(page, live, "editor1")
    page.wait_for_url(f"{live}/review")
    page.goto(f"{live}/photos/{photo_id}")
    # name Eileen's track as ANN (who has consent) from the keyboard: it is shown online
    box = page.locator(f"#face-{tracks['eileen']} input[name=external_id]")
    box.focus()
    page.keyboard.type("ANN")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#face-{tracks['eileen']}:has-text('online: shown')")
    # cover Tom's track for good: Tab to its button, Enter
    page.locator(f"#cover-face-{tracks['tom']}").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#face-{tracks['tom']}:has-text('online: covered')")
    # listed as the track it covers, wherever it moves (not a rectangle and a time span)
    assert f"Track {tracks['tom']}, wherever it moves" in page.inner_text("#covers")
    # and an area for a time span, by its coordinates; the times taken from the player
    _plays(page)
    page.locator("#cover-area summary").focus()
    page.keyboard.press("Enter")
    for label, value in (("Left", "560"), ("Top", "20"), ("Right", "630"), ("Bottom", "160")):
        page.get_by_label(label, exact=True).fill(value)
    for at, button, label in ((0.5, "From: the player's time", "From (s)"),
                              (1.2, "To: the player's time", "To (s)")):
        page.evaluate("""t => new Promise(done => { const v = document.getElementById('preview-video');
            v.addEventListener('seeked', () => done(), {once: true}); v.currentTime = t; })""", at)
        page.get_by_role("button", name=button).focus()
        page.keyboard.press("Enter")
        assert page.get_by_label(label, exact=True).input_value() == f"{at:.2f}"
    check_page(page, "video-span-form", 390)
    _shot_opens("video-span-form", 390)
    page.get_by_label("To (s)", exact=True).press("Enter")
    page.wait_for_selector("#covers li:has-text('from 0.5 s to 1.2 s')")
    # a time that is not one is refused with a page that says so
    page.locator("#cover-area summary").focus()
    page.keyboard.press("Enter")
    for label, value in (("Left", "1"), ("Top", "1"), ("Right", "9"), ("Bottom", "9"),
                         ("From (s)", "soon"), ("To (s)", "2")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("To (s)", exact=True).press("Enter")
    page.wait_for_selector("text=a time must be seconds")
    page.go_back()
    page.goto(f"{live}/photos/{photo_id}")
    assert _plays(page) == pytest.approx(2.0, abs=0.15)  # the preview follows the corrections
    check_page(page, "video-corrected", 390)
    _shot_opens("video-corrected", 390)
    # the full-size render of a channel (what publishing writes) says it is a video
    full = page.request.get(f"{live}/photos/{photo_id}/preview/online")
    assert full.status == 200 and full.headers["content-type"] == "video/mp4"
    # approve from the keyboard ("a", confirmed)
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("body").focus()
    page.keyboard.press("a")
    page.wait_for_selector("#approved-notice, #publishing")
    assert asked == ["Approve and publish this video on online?"]
    page.close()

    # the office: the stage of their own upload, no faces, no tracks, no preview
    office = browser.new_page(viewport={"width": 390, "height": 900})
    sign_in(office, live, "office1")
    office.wait_for_url(f"{live}/upload")
    office.goto(f"{live}/uploads")
    row = office.locator(f"#photo-{photo_id}")
    assert "video" in row.inner_text() and "approved" in row.inner_text()
    check_page(office, "office-uploads-video", 390)
    office.goto(f"{live}/photos/{photo_id}")
    assert "2 tracks found" in office.inner_text("#office-view")
    assert office.locator("video, img.thumb").count() == 0
    for url in (f"/faces/{tracks['tom']}/thumbnail", f"/photos/{photo_id}/video/online",
                f"/photos/{photo_id}/preview/online"):
        assert office.request.get(f"{live}{url}").status == 403, url
    check_page(office, "office-video", 390)
