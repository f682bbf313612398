"""A refused form comes back to the page it was sent from, with the reason and what was typed
(never a password); without that page the error page leads back to where the person was; an
address that names nothing is a friendly 404 page."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.integration.helpers import people, person_row, users
from tests.integration.test_web_roles import signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(ctx):
    from web.app import create_app

    users(ctx)
    people(ctx, person_row("P1"))
    return create_app(ctx.settings, ctx)


def _kept(page: str) -> dict:
    box = re.search(r'<div class="error form-error" id="form-error"[^>]*>', page)
    assert box, page
    attrs = dict(re.findall(r'(data-[a-z]+)=(?:"([^"]*)"|\'[^\']*\')', box.group(0)))
    typed = re.search(r"data-typed='([^']*)'", box.group(0)).group(1)
    return {"action": attrs["data-action"], "field": attrs["data-field"],
            "typed": json.loads(html.unescape(typed))}


def test_a_refused_new_user_comes_back_to_the_users_page_with_what_was_typed(app):
    with TestClient(app):
        dpo, csrf = signed_in(app, "dpo1")
        dpo.headers["accept"] = "text/html"  # a browser
        resp = dpo.post("/users", data={"username": "Office1", "role": "office",
                                        "password": "long-password-2", "csrf": csrf,
                                        "back": "/users"})
        assert resp.status_code == 303 and resp.headers["location"] == "/users"
        page = dpo.get("/users").text
        assert "user office1 already exists" in page
        kept = _kept(page)
        assert kept == {"action": "/users", "field": "username",
                        "typed": {"username": ["Office1"], "role": ["office"]}}
        assert "long-password-2" not in page  # a password is never kept
        assert "form-error" not in dpo.get("/users").text  # shown once


def test_an_erasure_typo_and_a_missing_field_come_back_to_their_pages(app):
    with TestClient(app):
        dpo, csrf = signed_in(app, "dpo1")
        dpo.headers["accept"] = "text/html"  # a browser
        resp = dpo.post("/people/P1/erase", data={"confirm": "P 1", "csrf": csrf,
                                                  "back": "/people/P1/erase"})
        assert resp.headers["location"] == "/people/P1/erase"
        page = dpo.get("/people/P1/erase").text
        assert "type P1 exactly to confirm the erasure" in page
        assert _kept(page) == {"action": "/people/P1/erase", "field": "confirm",
                               "typed": {"confirm": ["P 1"]}}
        # a required field left out (FastAPI's own check) also comes back, named
        resp = dpo.post("/devices", data={"make": "Canon", "csrf": csrf, "back": "/devices"})
        assert resp.status_code == 303
        kept = _kept(dpo.get("/devices").text)
        assert kept["typed"] == {"make": ["Canon"]} and kept["field"] in ("model", "serial")


def test_without_a_page_to_return_to_the_error_page_leads_back(app):
    with TestClient(app):
        dpo, csrf = signed_in(app, "dpo1")
        dpo.headers["accept"] = "text/html"  # a browser
        for back in ("", "//evil.example/users", "https://evil.example/"):
            resp = dpo.post("/people/P1/erase", data={"confirm": "x", "csrf": csrf,
                                                      "back": back})
            assert resp.status_code == 400, back
            assert 'href="/people/P1"' in resp.text and "Back to P1" in resp.text
            assert "Back to the start page" not in resp.text


def test_an_address_that_names_nothing_is_a_404_page(app):
    with TestClient(app):
        dpo, _ = signed_in(app, "dpo1")
        dpo.headers["accept"] = "text/html"
        resp = dpo.get("/photos/abc")
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("text/html")
        assert "Not found" in resp.text and 'href="/review"' in resp.text
        assert "valid integer" not in resp.text


def test_a_name_that_matches_nobody_comes_back_beside_the_identify_box(app, ctx):
    """New-user walk: a mistyped name in Identify led to a "Not found" page of its own; it is
    what was typed, so it comes back beside the box, as the cover form's refusals do."""
    from sqlalchemy import select

    from consent_db.models import Face
    from gatekeeper.services.accounts.users import find_actor
    from gatekeeper.services.photos.devices import add_device
    from gatekeeper.services.photos.scan import scan_photo
    from tests.integration.helpers import event_photo, ingest

    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    office = find_actor(ctx=ctx, username="office1")
    photo_id = ingest(ctx, office, event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with ctx.uow() as uow:
        face_id = uow.session.scalars(select(Face.id).where(Face.photo_id == photo_id)).first()
    with TestClient(app):
        editor, csrf = signed_in(app, "editor1")
        editor.headers["accept"] = "text/html"  # a browser
        back = f"/photos/{photo_id}"
        resp = editor.post(f"/faces/{face_id}/identify", data={
            "photo_id": str(photo_id), "external_id": "Nobody Atall", "csrf": csrf,
            "back": back})
        assert resp.status_code == 303 and resp.headers["location"] == back
        page = editor.get(back).text
        assert "no one on roll called &#39;Nobody Atall&#39;" in page
        kept = _kept(page)
        assert kept["field"] == "external_id" and kept["typed"]["external_id"] == ["Nobody Atall"]
