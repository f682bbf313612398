"""Every route checks roles: a table of route x role -> allowed, through the real app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gatekeeper.services.context import Context, NoJobQueue
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import ingest_bytes
from tests import imagegen
from tests.integration.helpers import make_user, people, person_row, users

ROLES = ("office", "editor", "dpo", "governor")
# (method, path, roles allowed); photo 1 exists and is awaiting review or held
# (method, path, roles allowed, the status an allowed role gets). Photo 1 was uploaded by
# office1 and is `received` (not scanned): approving or releasing it is a conflict (409).
ROUTES = [
    ("GET", "/upload", {"office", "dpo"}, 200),
    ("GET", "/review", {"editor", "dpo"}, 200),
    ("GET", "/live", {"editor", "dpo"}, 200),
    ("GET", "/photos/1", {"office", "editor", "dpo"}, 200),
    ("GET", "/photos/1/image", {"editor", "dpo"}, 200),
    ("GET", "/api/photos", {"editor", "dpo"}, 200),
    ("GET", "/api/photos/1", {"office", "editor", "dpo"}, 200),
    ("GET", "/api/photos/1/image", {"editor", "dpo"}, 200),
    ("GET", "/people", {"dpo"}, 200),
    ("GET", "/people/P1", {"dpo"}, 200),
    ("GET", "/people/P1/export", {"dpo"}, 200),
    ("GET", "/people/P1/erase", {"dpo"}, 200),
    ("GET", "/certificates", {"dpo", "governor"}, 200),
    ("GET", "/certificates/1.pdf", {"dpo"}, 404),  # record ids: not the governors'
    ("GET", "/dpo/records", {"dpo"}, 200),
    ("POST", "/dpo/records", {"dpo"}, 303),
    ("GET", "/dpo/records/ropa.pdf", {"dpo"}, 200),
    ("GET", "/devices", {"dpo"}, 200),
    ("GET", "/users", {"dpo"}, 200),
    ("GET", "/audit", {"dpo"}, 200),
    ("GET", "/reports", set(ROLES), 200),
    ("GET", "/account", set(ROLES), 200),
    ("GET", "/api/people/search?q=Gi", {"editor", "dpo"}, 200),
    ("POST", "/photos/1/approve", {"editor", "dpo"}, 409),
    ("POST", "/photos/1/reject", {"editor", "dpo"}, 303),
    ("POST", "/photos/1/release", {"dpo"}, 409),
    ("POST", "/photos/1/delete", {"dpo"}, 409),  # not held
    ("POST", "/photos/1/covers", {"editor", "dpo"}, 303),
    ("POST", "/people/P1/consent", {"dpo"}, 303),
    ("POST", "/people/P1/update", {"dpo"}, 303),
    ("POST", "/devices", {"dpo"}, 303),
    ("POST", "/devices/1/active", {"dpo"}, 303),
    ("GET", "/events", {"office", "editor", "dpo"}, 200),
    ("POST", "/people/P1/references/remove", {"dpo"}, 303),
    ("GET", "/api/people", {"dpo"}, 200),
    ("GET", "/api/audit", {"dpo"}, 200),
    ("POST", "/api/photos/1/covers", {"editor", "dpo"}, 200),
    ("POST", "/api/faces/1/identify", {"editor", "dpo"}, 404),
    ("POST", "/api/photos/1/release", {"dpo"}, 409),
    ("POST", "/api/photos/1/approve", {"editor", "dpo"}, 409),
    ("POST", "/api/photos/1/reject", {"editor", "dpo"}, 200),
    ("POST", "/users/gov1/active", {"dpo"}, 303),
    ("GET", "/uploads", {"office", "dpo"}, 200),
    ("GET", "/help", set(ROLES), 200),
    ("GET", "/photos/1/next", {"editor", "dpo"}, 303),
    ("POST", "/photos/1/covers/999/remove", {"editor", "dpo"}, 404),
    ("GET", "/parents", {"dpo"}, 200),
    ("GET", "/parents/consent", {"dpo"}, 200),
    ("POST", "/parents/options", {"dpo"}, 303),
    ("POST", "/parents/invite", {"dpo"}, 200),
    ("POST", "/parents/invite-contact", {"dpo"}, 404),  # no such contact
    ("POST", "/parents/pupil-refusal", {"dpo"}, 200),
    ("GET", "/parents/links/0123456789abcdef0123456789abcdef.csv", {"dpo"}, 404),
    ("GET", "/templates", {"dpo"}, 200),
    ("POST", "/templates/999/remove", {"dpo"}, 404),
    ("GET", "/options", {"dpo"}, 200),
    ("POST", "/options/confirmed_faces_become_templates", {"dpo"}, 303),
    ("GET", "/faces/1/thumbnail", {"editor", "dpo"}, 404),  # photo 1 is not scanned: no face
    ("GET", "/photos/1/video/online", {"editor", "dpo"}, 400),  # a still photo: no preview
    ("POST", "/faces/1/cover", {"editor", "dpo"}, 404),
    ("POST", "/api/faces/1/cover", {"editor", "dpo"}, 404),
]
FORMS = {
    "/photos/1/approve": {"channel": "online"},
    "/photos/1/reject": {"reason": "blurred"},
    "/photos/1/delete": {"reason": "a phone's", "confirm": "yes"},
    "/photos/1/covers": {"x0": "1", "y0": "1", "x1": "20", "y1": "20"},
    "/people/P1/consent": {"academic_year": "2026/27", "channel": "online", "granted": "no",
                           "recorded_on": "2026-10-01"},
    "/people/P1/update": {"left_on": ""},
    "/dpo/records": {"basis_online": "Consent", "controller": "Hillside Primary"},
    "/devices": {"make": "Canon", "model": "R", "serial": "XYZ1"},
    "/people/P1/references/remove": {"confirm": "yes"},
    "/api/photos/1/covers": {"x0": "1", "y0": "1", "x1": "20", "y1": "20"},
    "/api/photos/1/approve": {"channel": "online"},
    "/api/photos/1/reject": {"reason": "blurred"},
    "/parents/options": {"voice_from": "9"},
    "/parents/invite": {"audience": "missing"},
    "/parents/invite-contact": {"contact": "C1"},
    "/parents/pupil-refusal": {"external_id": "P1", "use": "biometric", "note": "told staff"},
    "/templates/999/remove": {"reason": "wrong person"},
    "/options/confirmed_faces_become_templates": {"value": "yes"},
    "/faces/1/cover": {"photo_id": "1"},
}


@pytest.fixture
def app_ctx(ctx):
    from web.app import create_app

    u = users(ctx)
    people(ctx, person_row("P1"))
    add_device(ctx=ctx, make="Canon", model="EOS", serial="0123456789")
    img = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    ingest_bytes(ctx=ctx, data=imagegen.jpeg(img, imagegen.exif_bytes()), name="a.jpg",
                 event_name="Trip", actor_id=u["office1"].id)
    return create_app(ctx.settings, ctx)


def signed_in(app, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
    resp = client.post("/signin", data={"username": username, "password": "long-password-1",
                                        "csrf": token})
    assert resp.status_code == 303, resp.text
    # the session (and its CSRF token) is renewed at sign-in: take the token from a page
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/reports").text).group(1)
    return client, token


@pytest.mark.parametrize("role", ROLES)
def test_route_role_table(app_ctx, role):
    with TestClient(app_ctx):
        client, token = signed_in(app_ctx, {"office": "office1", "editor": "editor1",
                                            "dpo": "dpo1", "governor": "gov1"}[role])
        for method, path, allowed, expected in ROUTES:
            if method == "GET":
                resp = client.get(path, headers={"accept": "application/json"})
            else:
                resp = client.post(path, data={**FORMS.get(path, {}), "csrf": token},
                                   headers={"accept": "application/json"})
            if role in allowed:
                assert resp.status_code == expected, (role, path, resp.status_code, resp.text)
            else:
                assert resp.status_code == 403, (role, path, resp.status_code)
            if path.endswith("/image") and resp.status_code == 200:
                assert resp.headers["cache-control"] == "no-store"


def test_forms_without_csrf_are_refused_and_sessions_expire(app_ctx, ctx):
    with TestClient(app_ctx):
        client, _token = signed_in(app_ctx, "dpo1")
        resp = client.post("/devices", data={"make": "a", "model": "b", "serial": "c"},
                           headers={"accept": "application/json"})
        assert resp.status_code == 403 and "security token" in resp.json()["detail"]
        client.cookies.clear()
        assert client.get("/people", headers={"accept": "application/json"}).status_code == 401


def test_wrong_password_is_refused_with_one_message(app_ctx):
    with TestClient(app_ctx):
        client = TestClient(app_ctx, follow_redirects=False)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
        for name in ("dpo1", "nobody"):
            resp = client.post("/signin", data={"username": name, "password": "wrong-one",
                                                "csrf": token})
            assert resp.status_code == 401 and "wrong user name or password" in resp.text


def test_dpo_imports_with_preview_and_records_withdrawal(app_ctx, ctx):
    from sqlalchemy import select

    from consent_db.models import ConsentRecord, Person

    with TestClient(app_ctx):
        client, token = signed_in(app_ctx, "dpo1")
        csv = ("external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
               "biometric_consent,safeguarding_no_photo\nP2,Ann,Lee,pupil,Y3,2021-09-01,,no,no\n")
        resp = client.post("/people/import", data={"kind": "people", "csrf": token},
                           files={"file": ("people.csv", csv.encode(), "text/csv")})
        assert "1 to create" in resp.text
        with ctx.uow() as uow:
            assert uow.session.scalar(select(Person).where(Person.external_id == "P2")) is None
        staged = re.search(r'name="token" value="([0-9a-f]+)"', resp.text).group(1)
        assert csv not in resp.text  # the file stays on the server, only a token goes back
        resp = client.post("/people/import/confirm", data={"token": staged, "csrf": token})
        assert "1 created" in resp.text
        bad = csv.replace("2021-09-01", "2021-13-01")
        resp = client.post("/people/import", data={"kind": "people", "csrf": token},
                           files={"file": ("people.csv", bad.encode(), "text/csv")})
        assert resp.status_code == 400 and "row 2, column joined_on" in resp.text
        for answer in ("yes", "no"):
            client.post("/people/P2/consent", data={
                "academic_year": "2026/27", "channel": "online", "granted": answer,
                "recorded_on": "2026-10-01", "evidence": "form 7", "csrf": token})
        with ctx.uow() as uow:
            rec = uow.session.scalar(select(ConsentRecord))
            assert rec.granted is False and str(rec.withdrawn_on) == "2026-10-01"
        page = client.get("/people/P2")
        assert "consent withdrawn" in page.text and "consent.withdrawn" not in page.text


class RecordingJobs(NoJobQueue):
    """A job queue that only remembers what it was handed."""

    def __init__(self) -> None:
        self.references: list[tuple[str, str, int | None]] = []

    def enrol_reference(self, external_id: str, key: str, actor_id: int | None) -> None:
        self.references.append((external_id, key, actor_id))


def test_reference_photos_are_enrolled_by_the_worker(app_ctx, ctx):
    from gatekeeper.services.consent.enrol import enrol_staged
    from web.app import create_app

    jobs = RecordingJobs()
    app = create_app(ctx.settings, Context(ctx.settings, stores=ctx.stores, faces=ctx.faces,
                                           jobs=jobs))
    queued = jobs.references
    with TestClient(app):
        client, token = signed_in(app, "dpo1")
        photo = (imagegen.FIXTURES / "tom_cruise.jpg").read_bytes()
        resp = client.post("/people/P1/references", data={"csrf": token},
                           files={"files": ("ref.jpg", photo, "image/jpeg")})
        assert resp.status_code == 303 and len(queued) == 1
        external_id, key, actor = queued[0]
        assert ctx.stores.private.exists(key)
        assert enrol_staged(ctx=ctx, external_id=external_id, key=key,
                            actor_id=actor) == "enrolled"
        assert not ctx.stores.private.exists(key)  # the photo itself is not kept
        assert "1 face template" in client.get("/people/P1").text
        bad = client.post("/people/P1/references", data={"csrf": token},
                          files={"files": ("notes.jpg", b"not a photo", "image/jpeg")},
                          headers={"accept": "application/json"})
        assert bad.status_code == 400 and "not a JPEG" in bad.json()["detail"]


def test_sessions_expire(ctx):
    """A session past its server-side expiry is refused (aged in the database rather than
    waited out: a one-second lifetime raced the sign-in itself on a loaded machine)."""
    from datetime import timedelta

    from sqlalchemy import update

    from consent_db.models import UserSession, utcnow
    from web.app import create_app

    users(ctx)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        client, _token = signed_in(app, "dpo1")
        assert client.get("/people", headers={"accept": "application/json"}).status_code == 200
        with ctx.uow() as uow:
            uow.session.execute(update(UserSession).values(
                expires_at=utcnow() - timedelta(seconds=1)))
            uow.commit()
        assert client.get("/people", headers={"accept": "application/json"}).status_code == 401


def test_the_office_cannot_tell_someone_elses_photo_from_a_missing_one(app_ctx, ctx):
    """Probe: the office got 403 for another uploader's photo and 404 for a missing id, so it
    could count the school's photos. Someone else's upload answers as a missing one does."""
    make_user(ctx, "office2", "office")
    with TestClient(app_ctx):
        client, _ = signed_in(app_ctx, "office2")  # photo 1 is office1's
        for path in ("/photos/{}", "/api/photos/{}"):  # the image routes are reviewers' only
            theirs = client.get(path.format(1), headers={"accept": "application/json"})
            missing = client.get(path.format(999), headers={"accept": "application/json"})
            assert theirs.status_code == missing.status_code == 404, path
            assert theirs.json()["detail"].replace(" 1", " 999") == missing.json()["detail"]
            page = client.get(path.format(1))
            assert page.status_code == 404 and "no photo 1" in page.text, path


def test_the_upload_page_says_videos_are_taken_and_their_limits(app_ctx):
    """New-user walk: the upload page spoke of photos only, and no limit was said before a
    camera's minute-long video was refused for its size."""
    with TestClient(app_ctx):
        client, _ = signed_in(app_ctx, "office1")
        page = client.get("/upload").text
        assert "Upload event photos and videos" in page
        assert "Each file at most 60 MB; videos (MP4, MOV or M4V) at most 10 minutes" in page


def test_an_error_page_links_back_to_a_page_the_person_may_open(app_ctx, ctx):
    """New-user walk: the office's error pages for photos offered "Back to the review queue",
    which refuses them, and a missing photo's offered "Back to photo 999"."""
    make_user(ctx, "office2", "office")
    with TestClient(app_ctx):
        office, _ = signed_in(app_ctx, "office2")
        html = {"accept": "text/html"}
        page = office.get("/photos/1", headers=html)  # office1's upload: as if missing
        assert page.status_code == 404 and 'href="/uploads"' in page.text
        assert "Back to My uploads" in page.text and "review queue" not in page.text
        editor, _ = signed_in(app_ctx, "editor1")
        missing = editor.get("/photos/999/video/online/player", headers=html)
        assert missing.status_code == 404 and "Back to photo 999" not in missing.text
        assert "Back to the review queue" in missing.text
