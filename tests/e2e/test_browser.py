"""The office and the editor in real headless Chromium against a live server."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from consent_db.models import Photo
from gatekeeper.services.consent.enrol import enrol, enrol_staged, stage_reference
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.scan import scan_pending
from tests import imagegen
from tests.integration.helpers import (
    PEOPLE_HEADER,
    consent,
    make_user,
    people,
    person_row,
    users,
)

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PASSWORD = "long-password-1"


@pytest.fixture
def live(ctx):
    """The app served by uvicorn on a free localhost port, sharing the test's Context."""
    import uvicorn

    from web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ctx.settings, ctx), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_office_uploads_and_editor_publishes(ctx, live, browser, tmp_path):
    users(ctx)
    people(ctx, person_row("TOM"), person_row("EIL"))
    consent(ctx, "TOM")
    enrol(ctx=ctx, external_id="TOM", photos=[("t.jpg", (imagegen.FIXTURES / "tom_cruise.jpg")
                                                .read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    eileen = imagegen.load(imagegen.FIXTURES / "eileen_collins.png").crop((120, 20, 330, 230))
    files = []
    for i, faces in enumerate([[tom, eileen], [eileen], [tom]]):
        path = tmp_path / f"photo{i}.jpg"
        path.write_bytes(imagegen.jpeg(imagegen.row_of_faces(faces, height=360)[0],
                                       imagegen.exif_bytes()))
        files.append(path)
    shutil.copy(files[0], tmp_path / "copy-of-photo0.jpg")
    (tmp_path / "broken.jpg").write_bytes(files[1].read_bytes()[:2500])
    files += [tmp_path / "copy-of-photo0.jpg", tmp_path / "broken.jpg"]

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live, "office1")
    page.wait_for_url(f"{live}/upload")
    page.fill("input[name=event]", "Sports Day 2026")
    page.set_input_files("#files", [str(f) for f in files])
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("text=5 of 5 done")
    page.screenshot(path=str(SHOTS / "upload.png"), full_page=True)
    results = page.inner_text("#progress")
    assert results.count("accepted") == 3
    # the two identical files upload in parallel: whichever arrives first is accepted
    accepted = re.search(r"(copy-of-photo0|photo0)\.jpg\s+accepted \(photo (\d+)\)", results)
    first_id = int(accepted.group(2))
    other = "photo0" if accepted.group(1) == "copy-of-photo0" else "copy-of-photo0"
    assert re.search(rf"(?<![-\w]){other}\.jpg\s+duplicate: already uploaded as photo "
                     rf"{first_id}\. Next: nothing to do\.", results)
    assert results.count(f"photo {first_id}") == 2  # its own line and the duplicate's, once each
    assert re.search(r"broken\.jpg\s+rejected: corrupt or truncated", results)

    assert scan_pending(ctx=ctx)  # the worker's job

    editor = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(editor, live, "editor1")
    editor.wait_for_url(f"{live}/review")
    assert editor.locator(".grid li").count() == 3
    editor.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    editor.click(f"a[href='/photos/{first_id}']")
    editor.wait_for_selector("#overlay rect.face")
    assert editor.locator("#overlay rect.shown").count() == 1
    assert editor.locator("#overlay rect.covered").count() >= 1
    editor.screenshot(path=str(SHOTS / "photo.png"), full_page=True)
    # identify the unknown face by hand as EIL (who has no online consent: stays covered)
    unknown = editor.locator("ol.faces li", has_text="unknown").first
    unknown.locator("input[name=external_id]").fill("EIL")
    unknown.locator("button", has_text="Identify").click()
    editor.wait_for_selector("ol.faces li:has-text('EIL')")
    editor.click("#approve")
    # the next photo awaiting review opens, saying what happened to this one
    editor.wait_for_selector("#approved-notice")
    assert f"Photo {first_id} approved" in editor.inner_text("#approved-notice")
    editor.click("#approved-notice a")
    editor.wait_for_selector("#publishing")  # approved: the worker publishes it
    [result] = publish_approved(ctx=ctx)  # the worker's job
    editor.reload()
    with ctx.uow() as uow:  # files are named by position within the event, not by photo id
        number = uow.session.get(Photo, first_id).number  # (uploads run in parallel)
    prefix = f"sports-day-2026-{number:04d}-"
    editor.wait_for_selector(f"text=/{prefix}[0-9a-f]{{10}}\\.jpg/")
    assert Path(result.location).name.startswith(prefix) and Path(result.location).exists()
    editor.screenshot(path=str(SHOTS / "published.png"), full_page=True)


def test_uploader_cannot_approve_and_page_says_why(ctx, live, browser):
    users(ctx)
    both = make_user(ctx, "both", "office,editor")
    add_device(ctx=ctx, make="Canon", model="EOS", serial="0123456789")
    img = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    ingest_bytes(ctx=ctx, data=imagegen.jpeg(img, imagegen.exif_bytes()), name="a.jpg",
                 event_name="Trip", actor_id=both.id)
    scan_pending(ctx=ctx)
    page = browser.new_page()
    sign_in(page, live, "both")
    page.goto(f"{live}/photos/1")
    assert "You uploaded this photo" in page.inner_text("#own-upload")
    assert page.locator("#approve").count() == 0


def test_governor_gets_403_and_forms_need_csrf(ctx, live):
    users(ctx)
    client = httpx.Client(base_url=live, follow_redirects=False)
    page = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/signin", data={"username": "gov1", "password": PASSWORD}).status_code == 403
    ok = client.post("/signin", data={"username": "gov1", "password": PASSWORD, "csrf": token})
    assert ok.status_code == 303
    for url in ("/photos/1", "/photos/1/image", "/api/photos/1", "/api/photos/1/image", "/review"):
        assert client.get(url, headers={"accept": "application/json"}).status_code == 403, url
    wrong = httpx.Client(base_url=live)
    wrong.get("/signin")
    assert wrong.post("/signin", data={"username": "gov1", "password": "nope", "csrf": "x"}
                      ).status_code == 403
    anon = httpx.Client(base_url=live)
    assert anon.get("/api/photos", headers={"accept": "application/json"}).status_code == 401
    page = anon.get("/review", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")


def test_dpo_records_a_withdrawal_in_the_browser(ctx, live, browser, tmp_path):
    users(ctx)
    people(ctx, person_row("P1"), person_row("P2", flag="yes"))
    consent(ctx, "P1")
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    sign_in(page, live, "dpo1")
    page.goto(f"{live}/people")
    assert page.locator("table.table tr").count() == 3
    page.screenshot(path=str(SHOTS / "people.png"), full_page=True)
    page.click("a[href='/people/P1']")
    page.select_option("#consent-form select[name=channel]", "online")
    page.select_option("#consent-form select[name=granted]", "no")
    page.fill("#consent-form input[name=evidence]", "letter from parent")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("text=consent withdrawn")  # plain words, not the audit name
    assert "withdrawn" in page.inner_text("table.table")
    # a success message; the grant's evidence stays, the withdrawal's is a record of its own
    assert page.inner_text("#saved") == "Consent form recorded."
    assert page.locator("table.table td", has_text="form").last.inner_text() == "form"
    assert "consent withdrawn · online" in page.inner_text("#history")
    assert "evidence: letter from parent" in page.inner_text("#history")
    page.screenshot(path=str(SHOTS / "person.png"), full_page=True)
    # a refused reference photo says why on the person page
    from PIL import Image
    blank = imagegen.jpeg(Image.new("RGB", (400, 400), (120, 130, 140)), None)
    key = stage_reference(ctx=ctx, external_id="P1", data=blank, actor_id=None)
    assert enrol_staged(ctx=ctx, external_id="P1", key=key, actor_id=None) == "refused"
    enrol(ctx=ctx, external_id="P1", photos=[("t.jpg", (imagegen.FIXTURES / "tom_cruise.jpg")
                                               .read_bytes())])
    page.reload()
    assert re.search(r"reference photo refused · refused: \w+", page.inner_text("#history"))
    # "Remove all templates" asks first: without the box ticked nothing happens
    page.click("#remove-templates button")
    assert "· 1 face template" in page.inner_text("main")
    page.check("#remove-templates input[name=confirm]")
    page.click("#remove-templates button")
    page.wait_for_selector("#saved")
    assert "deleted" in page.inner_text("#saved") and "0 face templates" in page.inner_text("main")
    # a leaving date set here is flagged by an import that would clear it, and kept if chosen
    page.fill("#person-form input[name=left_on]", "2027-07-20")
    page.click("#person-form button[type=submit]")
    page.wait_for_selector("text=Leaving date and flags saved.")
    csv_path = tmp_path / "mis.csv"
    csv_path.write_text(PEOPLE_HEADER + person_row("P1").replace("Year 5", "Year 6")
                        + person_row("P2", flag="yes") + person_row("P3"))
    page.goto(f"{live}/people")
    page.set_input_files("input[name=file]", str(csv_path))
    page.click("form[action='/people/import'] button[type=submit]")
    page.wait_for_selector("#import-changes")
    changes = page.inner_text("#import-changes")
    assert re.search(r"GivenP1 FamilyP1 \(P1\)\s+year group\s+Year 5\s+Year 6", changes)
    assert re.search(r"\(P1\)\s+left on\s+2027-07-20\s+\(empty\)\s+set in the web app by dpo1",
                     changes)
    assert re.search(r"\(P3\)\s+new person", changes)
    assert "1 change would replace what was set in the web app" in page.inner_text(
        "#import-overrides")
    page.screenshot(path=str(SHOTS / "import-preview.png"), full_page=True)
    assert page.is_checked("#keep-app")
    page.click("#confirm-import")
    page.wait_for_selector("#import-done")
    page.goto(f"{live}/people/P1")
    assert "left 2027-07-20" in page.inner_text("main") and "Year 6" in page.inner_text("main")
    page.goto(f"{live}/audit")
    assert page.locator("table.table tr").count() > 3
    page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)
    # cameras: register one through the form
    page.goto(f"{live}/devices")
    page.fill("input[name=make]", "Canon")
    page.fill("input[name=model]", "EOS 250D")
    page.fill("input[name=serial]", "0123456789")
    page.fill("input[name=label]", "Office camera")
    page.click("form[action='/devices'] button[type=submit]")
    page.wait_for_selector("td:has-text('Office camera')")
    assert page.locator("td", has_text="0123456789").count() == 1  # the serial as entered
    assert "Camera registered" in page.inner_text("#device-saved")
    # the same camera again (serials compare without leading zeros): a clear message here
    page.fill("input[name=make]", "Canon")
    page.fill("input[name=model]", "EOS 250D")
    page.fill("input[name=serial]", "123456789")
    page.click("form[action='/devices'] button[type=submit]")
    page.wait_for_selector("#device-error")
    assert "already registered: serial 0123456789 is camera #1 (Office camera)" in page.inner_text(
        "#device-error")
    assert page.input_value("input[name=serial]") == "123456789"  # what was typed is kept
    assert page.locator("nav a", has_text="Cameras").count() == 1  # the page, with the menu
    page.screenshot(path=str(SHOTS / "devices.png"), full_page=True)
    # a held photo (phone camera) is released by the DPO from the held list
    img = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    phone = imagegen.exif_bytes(make="Apple", model="iPhone", serial="PHONE1")
    held = ingest_bytes(ctx=ctx, data=imagegen.jpeg(img, phone), name="x.jpg",
                        event_name="Trip", actor_id=None)
    page.goto(f"{live}/review?status=held")
    page.click(f"a[href='/photos/{held.photo_id}']")
    page.click("text=Release for scanning")
    page.wait_for_selector("text=received")
    page.goto(f"{live}/events")
    assert "Trip" in page.inner_text("table.table")
    page.screenshot(path=str(SHOTS / "events.png"), full_page=True)


def test_office_uploads_a_whole_folder(ctx, live, browser, tmp_path):
    users(ctx)
    folder = tmp_path / "sports-day"
    (folder / "field").mkdir(parents=True)
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    for i, sub in enumerate(("", "field")):
        img = imagegen.row_of_faces([tom.resize((200 + 20 * i, 283 + 28 * i))])[0]
        (folder / sub / f"p{i}.jpg").write_bytes(imagegen.jpeg(img, imagegen.exif_bytes()))
    page = browser.new_page()
    sign_in(page, live, "office1")
    page.wait_for_url(f"{live}/upload")
    page.fill("input[name=event]", "Sports Day")
    page.set_input_files("#folder", str(folder))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("text=2 of 2 done")
    text = page.inner_text("#progress")
    assert sorted(re.findall(r"(p\d\.jpg) held \(photo \d\)", text)) == ["p0.jpg", "p1.jpg"]
    # the held message says it once, with the next step, and links to My uploads
    assert "held: held" not in text
    assert text.count("Next: ask the DPO to release it from Held photos") == 2
    theirs = ingest_bytes(ctx=ctx, data=imagegen.jpeg(imagegen.row_of_faces([tom])[0],
                                                      imagegen.exif_bytes(serial="OTHER")),
                          name="theirs.jpg", event_name="Trip", actor_id=None)
    page.locator("#progress a", has_text="photo").first.click()
    page.wait_for_url(re.compile(r"/uploads#photo-\d+$"))
    rows = page.locator("#uploads tr[id^=photo-]")
    assert rows.count() == 2  # only mine
    assert page.locator(f"#photo-{theirs.photo_id}").count() == 0
    table = page.inner_text("#uploads")
    assert table.count("ask the DPO to release it from Held photos") == 2
    assert "held: " not in table and table.count("held") >= 2
    assert "Tom" not in table  # no names (nor faces) for the office
    page.screenshot(path=str(SHOTS / "my-uploads.png"), full_page=True)
    # help is one click away from the menu: stages, held photos, CSV formats, who sees what
    page.click("nav a:has-text('Help')")
    page.wait_for_url(f"{live}/help")
    for heading in ("What each stage of a photo means", "What to do with a held photo",
                    "CSV formats for people and consent", "Who may see what"):
        assert page.locator("h2", has_text=heading).count() == 1, heading
    assert "safeguarding_no_photo" in page.inner_text("#csv ~ table")
    assert "Release for scanning" in page.inner_text("main")


SERIOUS = {"serious", "critical"}


def axe_violations(page) -> list[str]:
    """axe-core (vendored by axe-playwright-python, no network) on the page as it stands:
    the serious and critical violations, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in found if v.get("impact") in SERIOUS]


def check_page(page, name: str, width: int) -> None:
    """Zero serious/critical axe violations, no sideways scrolling, and a screenshot."""
    assert axe_violations(page) == [], (name, width)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""w => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > w + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)""", width)
    assert scroll <= width, f"{name} scrolls sideways at {width}px ({scroll}px wide): {wide}"
    page.screenshot(path=str(SHOTS / f"a11y-{name}-{width}.png"), full_page=True)


def test_every_page_passes_axe_at_desktop_and_phone_width(ctx, live, browser):
    """Every page at 1280 and 390 px: axe clean, no horizontal scroll, the menu and Sign out
    visible on a phone, a skip link first in the tab order, labelled file inputs."""
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("EIL"))
    consent(ctx, "TOM")
    enrol(ctx=ctx, external_id="TOM", photos=[("t.jpg", (imagegen.FIXTURES / "tom_cruise.jpg")
                                                .read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    img = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    shot = ingest_bytes(ctx=ctx, data=imagegen.jpeg(img, imagegen.exif_bytes()), name="a.jpg",
                        event_name="Trip", actor_id=u["office1"].id)
    scan_pending(ctx=ctx)
    pid = shot.photo_id
    pages = {"upload": "/upload", "uploads": "/uploads", "queue": "/review", "live": "/live",
             "photo": f"/photos/{pid}",
             "people": "/people", "person": "/people/TOM", "devices": "/devices",
             "users": "/users", "audit": "/audit", "events": "/events", "reports": "/reports",
             "account": "/account", "help": "/help", "error": "/photos/999999",
             "records": "/dpo/records", "certificates": "/certificates"}
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{live}/signin")
        check_page(page, "signin", width)
        sign_in(page, live, "dpo1")
        page.wait_for_url(f"{live}/review")
        for name, url in pages.items():
            page.goto(f"{live}{url}")
            check_page(page, name, width)
            assert page.locator("button:has-text('Sign out')").is_visible(), (name, width)
            box = page.locator("button:has-text('Sign out')").bounding_box()
            assert box["x"] + box["width"] <= width, (name, width)
        page.goto(f"{live}/upload")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        assert page.get_by_label("Photos").count() == 1  # the file input has a label
        page.close()
    # the office's own views: My uploads and the photo page without faces
    office = browser.new_page(viewport={"width": 390, "height": 900})
    sign_in(office, live, "office1")
    office.wait_for_url(f"{live}/upload")
    for name, url in (("office-uploads", "/uploads"), ("office-photo", f"/photos/{pid}")):
        office.goto(f"{live}{url}")
        check_page(office, name, 390)


def test_editor_covers_and_approves_from_the_keyboard(ctx, live, browser):
    """Covering a face without a mouse, labels of faces at the top edge inside the photo,
    and "a" asks before approving."""
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("SAFE", flag="yes"))
    consent(ctx, "TOM")
    enrol(ctx=ctx, external_id="TOM", photos=[("t.jpg", (imagegen.FIXTURES / "tom_cruise.jpg")
                                                .read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    canvas = imagegen.row_of_faces([tom], height=300)[0]  # the face touches the top edge
    shot = ingest_bytes(ctx=ctx, data=imagegen.jpeg(canvas, imagegen.exif_bytes()), name="a.jpg",
                        event_name="Trip", actor_id=u["office1"].id)
    other = ingest_bytes(ctx=ctx, data=imagegen.jpeg(imagegen.row_of_faces([tom])[0],
                                                     imagegen.exif_bytes()), name="b.jpg",
                         event_name="Trip", actor_id=u["office1"].id)
    scan_pending(ctx=ctx)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live, "editor1")
    page.goto(f"{live}/photos/{shot.photo_id}")
    for label in page.locator("#overlay text.label").all():
        assert float(label.get_attribute("y")) > 0  # drawn inside the photo, never cut off
    # "a" without confirming approves nothing
    page.once("dialog", lambda d: d.dismiss())
    page.keyboard.press("a")
    page.wait_for_timeout(300)
    assert page.locator("#publishing").count() == 0
    # cover the face from the keyboard: Tab to the button, Enter
    button = page.locator("form.cover-face button").first
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#overlay rect.manual:not(#drag)")
    # and the coordinates form covers any area
    page.locator("#cover-area summary").focus()
    page.keyboard.press("Enter")
    for field, value in zip(("Left", "Top", "Right", "Bottom"), (1, 1, 40, 40), strict=True):
        page.get_by_label(field, exact=True).fill(str(value))
    page.get_by_label("Bottom", exact=True).press("Enter")
    page.wait_for_function("document.querySelectorAll('#overlay rect.manual:not(#drag)').length == 2")
    # hand-drawn covers are listed and one can be taken back (audited, revision bumped)
    assert page.locator("#covers li").count() == 2
    assert "(1, 1) to (40, 40)" in page.inner_text("#covers")
    page.locator("#covers li", has_text="(1, 1) to (40, 40)").locator("button").click()
    page.wait_for_function("document.querySelectorAll('#covers li').length == 1")
    # the match distances are behind a disclosure, plain words in the main view
    assert not page.locator("details.more p", has_text="Distance").first.is_visible()
    assert "distance" not in page.inner_text("ol.faces").lower()
    page.screenshot(path=str(SHOTS / "editor-tools.png"), full_page=True)
    # "a" with confirmation approves, and the next photo awaiting review opens
    page.once("dialog", lambda d: d.accept())
    page.locator("body").focus()
    page.keyboard.press("a")
    page.wait_for_url(re.compile(rf"/photos/{other.photo_id}\?approved={shot.photo_id}$"))
    assert f"Photo {shot.photo_id} approved" in page.inner_text("#approved-notice")
    # a blocked photo can be rejected
    face = page.locator("ol.faces li").first
    face.locator("input[name=external_id]").fill("SAFE")
    face.locator("button", has_text="Identify").click()
    page.wait_for_selector(".badge.status-blocked")
    page.fill("#reject-reason", "shows a pupil who must not be photographed")
    page.click("#reject")
    page.wait_for_selector(".badge.status-rejected")
